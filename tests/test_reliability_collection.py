"""Collection never crashes: every malformed or impossible case file is one located line, pytest's
collection-error exit status, no INTERNALERROR, no traceback, nothing run; and every precondition that
depends only on the settings is refused at collection, not found out at run time.

The corpus is tests/malformed/ (expected.txt: each file and the fragments its line must contain)."""
import copy
import random
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml

from redshift.claims import schema
from redshift.claims.schema import (
    GRID_METRIC_MIN_RESOLUTION, MAX_DEPTH, MAX_FILE_BYTES, CaseFileError, load_case_file, mann_whitney_floor,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "malformed"


def corpus() -> list[tuple[str, list[str]]]:
    entries = []
    for line in (CORPUS / "expected.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, *fragments = [part.strip() for part in line.split(" | ")]
            entries.append((name, fragments))
    return entries


ENTRIES = corpus()


def test_the_corpus_is_indexed_and_large_enough():
    names = [name for name, _ in ENTRIES]
    assert sorted(names) == sorted(p.name for p in CORPUS.glob("*.yaml")), "every file indexed, every entry a file"
    assert len(set(names)) == len(names) >= 30
    assert all(fragments for _, fragments in ENTRIES)


def _error_section(lines: list[str], name: str) -> list[str]:
    """The lines of the ERRORS section under 'ERROR collecting cases/<name>'."""
    start = next(i for i, line in enumerate(lines) if "ERROR collecting" in line and name in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(("=", "_")))
    return lines[start + 1:end]


@pytest.mark.parametrize("name, fragments", ENTRIES, ids=[name for name, _ in ENTRIES])
def test_malformed_case_file_is_one_located_line(pytester, name, fragments):
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / name).write_bytes((CORPUS / name).read_bytes())
    result = pytester.runpytest("-p", "no:cacheprovider", f"cases/{name}")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED  # pytest's status for errors during collection
    assert "INTERNALERROR" not in output and "Traceback" not in output, output[-3000:]
    assert "collected 0 items / 1 error" in output  # nothing ran
    assert set(result.parseoutcomes()) == {"errors"}
    (line,) = _error_section(result.stdout.lines, name)
    assert line.startswith(f"cases/{name}: "), line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"


@pytest.mark.parametrize("name", ["binary.yaml", "alias_bomb.yaml", "nngp_test_error_without_test_points.yaml"])
def test_the_line_is_in_the_short_summary_too(pytester, name):
    """With --tb=no pytest prints no ERRORS section: the short summary still says what is wrong."""
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / name).write_bytes((CORPUS / name).read_bytes())
    result = pytester.runpytest("-p", "no:cacheprovider", "--tb=no", "-rE", "-vv", f"cases/{name}")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    first = dict(ENTRIES)[name][0]
    assert any(line.startswith(f"ERROR cases/{name} - cases/{name}: ") and first in line
               for line in result.stdout.lines), result.stdout.str()


def test_one_bad_file_among_good_ones_runs_nothing(pytester):
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / "good.yaml").write_text(textwrap.dedent("""\
        claims:
          - id: ok
            kind: bounded
            samples: 5
            resolution: 8
            subject: {function: linear}
            metrics: {dct: {max: 1.0}}
        """))
    (pytester.path / "cases" / "bad.yaml").write_bytes((CORPUS / "duplicate_claim_key.yaml").read_bytes())
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "collected 1 item / 1 error" in result.stdout.str()
    assert "passed" not in result.parseoutcomes()


def test_an_unexpected_exception_is_one_line_too(pytester, monkeypatch):
    """A bug below the schema (a source's parse, a plugin) is still one line naming the file; --full-trace
    shows the traceback for whoever debugs it."""
    def broken(*args, **kwargs):
        raise RuntimeError("a source's bug\nover two lines")
    monkeypatch.setattr("redshift.claims.plugin.load_case_file", broken)
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / "any.yaml").write_text("claims: []\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "cases/any.yaml")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "Traceback" not in result.stdout.str() and "INTERNALERROR" not in result.stdout.str()
    (line,) = _error_section(result.stdout.lines, "any.yaml")
    assert line.startswith("cases/any.yaml: RuntimeError: a source's bug over two lines")
    traced = pytester.runpytest("-p", "no:cacheprovider", "--full-trace", "cases/any.yaml")
    assert "def broken" in traced.stdout.str() and "INTERNALERROR" not in traced.stdout.str()


def test_a_source_that_raises_while_parsing_names_the_claim(tmp_path, monkeypatch):
    from redshift.sources import FUNCTION

    def broken(mapping, base):
        raise ZeroDivisionError("division by zero")
    monkeypatch.setattr(FUNCTION, "parse", broken)
    path = tmp_path / "c.yaml"
    path.write_bytes((CORPUS / "unknown_threshold.yaml").read_bytes())
    with pytest.raises(CaseFileError) as excinfo:
        load_case_file(path, "cases/c.yaml")
    assert str(excinfo.value).startswith("cases/c.yaml: claim 'x': cannot be validated: ZeroDivisionError: division by zero")


# --- reading the document --------------------------------------------------------------------------

def _load_text(tmp_path, data: bytes | str, name: str = "c.yaml"):
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return load_case_file(path, f"cases/{name}")


def _message(tmp_path, data) -> str:
    with pytest.raises(CaseFileError) as excinfo:
        _load_text(tmp_path, data)
    message = str(excinfo.value)
    assert "\n" not in message and message.startswith("cases/c.yaml: ")
    return message


def test_a_file_too_large_is_refused_unread(tmp_path):
    assert "at most 1 MiB" in _message(tmp_path, "# " + "x" * MAX_FILE_BYTES + "\nclaims: []\n")


def test_a_folder_or_a_missing_file_cannot_be_read(tmp_path):
    (tmp_path / "folder.yaml").mkdir()
    with pytest.raises(CaseFileError, match=r"^cases/folder.yaml: cannot read the file: Is a directory$"):
        load_case_file(tmp_path / "folder.yaml", "cases/folder.yaml")
    with pytest.raises(CaseFileError, match="cannot read the file: No such file or directory"):
        load_case_file(tmp_path / "gone.yaml", "cases/gone.yaml")


def test_depth_is_bounded_without_libyaml_too(tmp_path, monkeypatch):
    """The pure-Python parser (no libyaml) meets the same bound, before its recursive composer runs."""
    monkeypatch.setattr(schema, "_BaseLoader", yaml.SafeLoader)
    message = _message(tmp_path, "claims: " + "[" * 5000 + "]" * 5000 + "\n")
    assert f"line 1, column {MAX_DEPTH + 8}: nested more than {MAX_DEPTH} levels deep" in message  # root + 63 ['s


def test_depth_through_aliases_is_bounded(tmp_path):
    levels = ["a0: &a0 [1]"] + [f"a{i}: &a{i} [[[[[[[[*a{i - 1}]]]]]]]]" for i in range(1, 12)]
    message = _message(tmp_path, "\n".join(levels) + "\nclaims: *a11\n")
    assert f"nested more than {MAX_DEPTH} levels deep once aliases are expanded" in message


def test_anchors_aliases_and_merge_keys_still_work(tmp_path):
    """Case files share settings with anchors (cases/parameter_function_map.yaml); a merge key's keys
    may be overridden by the mapping's own (that is not a duplicate key)."""
    (claim,) = _load_text(tmp_path, textwrap.dedent("""\
        defaults:
          network: &base {activation: tanh, width: 16}
        claims:
          - id: x
            kind: bounded
            samples: 5
            subject: {<<: *base, width: 32}
            metrics: {dct: &m {max: 1.0}, lz: *m}
        """))
    ((subject,),) = claim.groups
    assert (subject.spec.activation, subject.spec.width) == ("tanh", 32)
    assert [e.thresholds for e in claim.expectations] == [{"max": 1.0}, {"max": 1.0}]


def test_the_suite_case_files_are_within_the_bounds():
    for path in sorted((ROOT / "cases").glob("*.yaml")):
        assert len(path.read_bytes()) < MAX_FILE_BYTES // 10
        schema._check_size(path.read_text(encoding="utf-8"))  # raises past the bounds


# --- run-time preconditions refused at collection --------------------------------------------------

GOOD = """\
claims:
  - id: x
    kind: less
    a: {function: linear}
    b: {function: white_noise}
    metrics:
      lz: {min_ratio: 2.0}
"""


def _collect(tmp_path, text: str, samples: int | None = 32, tier: str = "ci"):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return load_case_file(path, "cases/c.yaml", tier, samples)


def test_run_samples_are_checked_for_claims_that_state_none(tmp_path):
    """--redshift-samples 4 (the default for claims without samples:) is checked like a stated size."""
    assert _collect(tmp_path, GOOD, samples=32)
    with pytest.raises(CaseFileError, match=r"claim 'x': field 'samples': 4 samples per subject: kind 'less' needs "
                                            r"at least 5"):
        _collect(tmp_path, GOOD, samples=4)
    with pytest.raises(CaseFileError, match="field 'samples': fn:linear: 3000000 samples on a 64\\^2 grid need"):
        _collect(tmp_path, GOOD, samples=3_000_000)


def test_premises_are_checked_at_collection_too(tmp_path):
    text = GOOD + textwrap.indent(textwrap.dedent("""\
        requires:
          - kind: bounded
            subject: {source: nngp, n_train: 10}
            metrics: {test_error: {max: 0.5}}
        """), "    ")
    with pytest.raises(CaseFileError, match=r"claim 'x': field 'requires\[0\]\.metrics\.test_error': .*set n_test >= 1"):
        _collect(tmp_path, text)


def test_nngp_held_out_metrics_need_held_out_points(tmp_path):
    text = ("claims:\n  - id: x\n    kind: bounded\n    samples: 5\n    subject: {source: nngp, n_train: 10, n_test: N}\n"
            "    metrics: {test_error: {max: 0.5}}\n")
    with pytest.raises(CaseFileError, match="test_error needs held-out points"):
        _collect(tmp_path, text.replace("N", "0"))
    assert _collect(tmp_path, text.replace("N", "5"))


def test_mann_whitney_floor_is_scipys():
    import scipy.stats

    for n in range(2, 41):
        p = scipy.stats.mannwhitneyu(np.arange(n), np.arange(n, 2 * n), alternative="less").pvalue
        assert mann_whitney_floor(n) == pytest.approx(p, rel=1e-9), n


@pytest.mark.parametrize("samples, alpha, refused", [(6, 1e-3, True), (7, 1e-3, False), (5, 0.01, False),
                                                     (5, 1e-3, True), (9, 1e-4, True), (10, 1e-4, False)])
def test_orderings_refuse_samples_that_cannot_reach_alpha(tmp_path, samples, alpha, refused):
    text = GOOD.replace("{min_ratio: 2.0}", f"{{min_ratio: 2.0, alpha: {alpha!r}}}") + f"    samples: {samples}\n"
    if refused:
        with pytest.raises(CaseFileError, match=f"never passes at alpha {alpha:g}"):
            _collect(tmp_path, text)
    else:
        assert _collect(tmp_path, text)


def test_grid_metric_resolutions_are_what_the_metrics_need():
    """GRID_METRIC_MIN_RESOLUTION (read at collection, without torch) against the metrics themselves:
    each listed metric fails one point below its minimum and works at it; the others work at RunSettings'
    minimum resolution."""
    import torch

    from redshift.metrics import METRICS
    from redshift.metrics.polynomial import DEFAULT_DEGREE

    assert GRID_METRIC_MIN_RESOLUTION == {"chebyshev": DEFAULT_DEGREE + 1}
    smallest = schema.RunSettings.__dataclass_fields__["resolution"].metadata["min"]
    generator = torch.Generator().manual_seed(0)
    for name in METRICS:
        need = GRID_METRIC_MIN_RESOLUTION.get(name, smallest)
        grid = torch.randn(2, need, need, dtype=torch.float64, generator=generator)
        assert torch.isfinite(METRICS[name](grid)).all(), name
        if name in GRID_METRIC_MIN_RESOLUTION:
            with pytest.raises(ValueError):
                METRICS[name](grid[:, 1:, 1:])


def test_every_suite_claim_passes_the_new_checks():
    """No claim of cases/ is refused at the default sizes of either tier."""
    for path in sorted((ROOT / "cases").glob("*.yaml")):
        for tier, samples in (("ci", 32), ("full", 128)):
            assert load_case_file(path, path.name, tier, samples)


# --- a deterministic fuzz: wrong values anywhere in the suite's own case files ---------------------

REPLACEMENTS = [None, 0, -1, 2.5, 1e300, "x", "", [], {}, [1], {"a": 1}, True, [[]], "1e-3", 10**12, float("nan")]


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, prefix + (i,))


def _replaced(document, path, value):
    document = copy.deepcopy(document)
    if not path:
        return value
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return document


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", ["invariances.yaml", "metrics.yaml", "activations.yaml", "transformers.yaml"])
def test_any_wrong_value_is_one_line_from_the_schema(tmp_path, case):
    """40 seeded (setting, wrong value) replacements per file: each loads, or fails with the schema's
    own one-line message (never 'cannot be validated', the line of an unexpected exception)."""
    document = yaml.safe_load((ROOT / "cases" / case).read_text(encoding="utf-8"))
    rng = random.Random(case)
    trials = [(path, value) for path in _paths(document) for value in REPLACEMENTS]
    path_file = tmp_path / case
    for path, value in rng.sample(trials, min(40, len(trials))):
        path_file.write_text(yaml.safe_dump(_replaced(document, path, value)))
        try:
            load_case_file(path_file, f"cases/{case}", "ci", 32)
        except CaseFileError as exc:
            message = str(exc)
            assert "\n" not in message and "cannot be validated" not in message, (path, value, message)
