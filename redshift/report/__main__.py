"""``python -m redshift.report build`` regenerates the report folder; ``python -m redshift.report compare
ARCH`` shows where a new architecture sits. The same code as ``redshift build`` / ``redshift compare``
(redshift.cli); ``--help`` on each lists the options."""
import sys

from redshift import cli

REPORT_COMMANDS = ("build", "compare")


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, prog="python -m redshift.report", commands=REPORT_COMMANDS)


if __name__ == "__main__":
    sys.exit(main())
