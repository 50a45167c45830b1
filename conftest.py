"""Root conftest of this repository. The claims plugin loads through its ``pytest11`` entry point (an
installed package needs no conftest); here it only adds the short option names this repository's
README uses (``--device``, ``--seed``, ``--samples``, ``--tier``, ``--report-json``) as aliases of the
plugin's ``--redshift-*`` options. Another project may do the same in its own conftest.py."""
from redshift.claims.plugin import add_options


def pytest_addoption(parser):
    add_options(parser.getgroup("redshift"), "")
