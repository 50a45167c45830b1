"""``python -m redshift``: the ``redshift`` command (redshift.cli)."""
import sys

from redshift.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m redshift"))
