import json

import pytest

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
