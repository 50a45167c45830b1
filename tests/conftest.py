import json

import pytest
import scipy.stats  # noqa: F401
import torch  # noqa: F401

import redshift.metrics.lempel_ziv  # noqa: F401
import redshift.transformers.sequence_metrics  # noqa: F401

# The plugin imports torch, scipy.stats and the numba kernels only when a claim runs. pytester's
# in-process runs drop the modules a run imported from sys.modules afterwards, and neither torch's C
# extension nor numba's type registrations survive a second import in one process: the test process
# imports them before any pytester run.

pytest_plugins = ["pytester"]


@pytest.fixture
def results_context(tmp_path):
    """A report context reading a results.json written from ``document`` (none written if None):
    ``results_context(document) -> ReportContext`` with its output in tmp_path/out."""
    from redshift.report.index import ReportContext
    from redshift.report.sweep import SweepSettings

    def make(document=None) -> ReportContext:
        path = tmp_path / "results.json"
        if document is not None:
            path.write_text(json.dumps(document))
        return ReportContext(out=tmp_path / "out", settings=SweepSettings(), results_json=path,
                             show_progress=False, commit="abc")
    return make
