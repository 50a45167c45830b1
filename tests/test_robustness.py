"""``python -m redshift.claims.robustness``: the seeds, the per-item numbers and the table, on synthetic
results documents, and one real run over two master seeds of a small case file."""
import json

import pytest
from mini_cases import MINI_CASES

from redshift.claims import robustness
from redshift.seeding import MASTER_SEED


def claim(status, p=None, ratio=None, margin=None, reason=None, id_="cases/x.yaml::c[lz]"):
    check = {"p": p, "ratio": ratio, "margins": {"ratio": margin, "p": None}}
    return {"id": id_, "status": status, "reason": reason, "checks": [check]}


def test_seeds_are_derived_distinct_and_not_the_default():
    seeds = robustness.robustness_seeds(5)
    assert seeds == robustness.robustness_seeds(5) and len(set(seeds)) == 5 and MASTER_SEED not in seeds
    assert all(0 <= s < 2**31 for s in seeds) and robustness.robustness_seeds(3) == seeds[:3]


def test_item_numbers_take_the_worst_p_and_the_binding_margin():
    item = {"checks": [{"p": 1e-5, "ratio": 3.0, "margins": {"ratio": 0.8}},
                       {"p": 4e-4, "ratio": 1.3, "margins": {"ratio": 0.1, "p": None}}]}
    assert robustness.item_numbers(item) == {"p": 4e-4, "effect": 1.3, "margin": 0.1}
    assert robustness.item_numbers({"checks": []}) == {"p": None, "effect": None, "margin": None}


def test_table_counts_passes_and_flags_unexpected_failures():
    documents = {
        1: {"claims": [claim("PASS", 1e-6, 2.0, 0.5), claim("XFAIL", 0.2, 1.1, -0.3, "known", "cases/x.yaml::k[lz]")]},
        2: {"claims": [claim("FAIL", 2e-3, 1.2, -0.1), claim("XFAIL", 0.1, 1.0, -0.4, "known", "cases/x.yaml::k[lz]")]},
        3: {"claims": [claim("PASS", 1e-4, 1.8, 0.3), claim("XPASS", 1e-4, 2.0, 0.1, "known", "cases/x.yaml::k[lz]")]},
    }
    table = {row["id"]: row for row in robustness.tabulate(documents)}
    plain, known = table["cases/x.yaml::c[lz]"], table["cases/x.yaml::k[lz]"]
    assert (plain["passed"], plain["runs"], plain["xfail"]) == (2, 3, False)
    assert plain["p_worst"] == 2e-3 and plain["p_median"] == 1e-4 and plain["effect_median"] == 1.8
    assert plain["margin_worst"] == -0.1 and plain["margin_median"] == 0.3
    assert (known["passed"], known["xfail"]) == (1, True)  # XPASS counts as passing
    text = robustness.format_table(list(table.values()), [1, 2, 3])
    assert "| `cases/x.yaml::c[lz]` | 2/3 | 0.0001 | 0.002 | 1.8 | 0.3 | -0.1 | PASS FAIL PASS |" in text
    assert "| `cases/x.yaml::k[lz]` (xfail) | 1/3 |" in text


def test_skipped_runs_are_not_counted():
    documents = {1: {"claims": [claim("SKIP")]}, 2: {"claims": [claim("SKIP")]}, 3: {"claims": [claim("PASS", 1e-5, 2.0, 0.4)]}}
    (row,) = robustness.tabulate(documents)
    assert (row["passed"], row["runs"]) == (1, 1)
    (row,) = robustness.tabulate({1: {"claims": [claim("SKIP")]}})
    assert (row["passed"], row["runs"]) == (0, 0) and "| skipped |" in robustness.format_table([row], [1])


WRONG = """
  - id: noise-below-linear
    kind: less
    claim: wrong on purpose
    a: {function: white_noise}
    b: {function: linear}
    metrics:
      lz: {min_ratio: 2.0}
"""


def test_a_run_over_two_seeds_tabulates_each_item_and_fails_on_an_unexpected_failure(pytester, monkeypatch, capsys):
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / "mini.yaml").write_text(MINI_CASES + WRONG)
    monkeypatch.chdir(pytester.path)
    status = robustness.main(["--seeds", "2", "--json", "table.json", "--results-dir", "runs", "cases"])
    out, err = capsys.readouterr()
    seeds = robustness.robustness_seeds(2)
    assert status == 1 and "noise-below-linear[lz] does not pass under every seed" in err
    assert f"master seeds: {seeds[0]}, {seeds[1]}" in out
    assert "| `cases/mini.yaml::noise-above-linear[lz]` | 2/2 |" in out
    assert "| `cases/mini.yaml::noise-below-linear[lz]` | 0/2 |" in out
    assert "| `cases/mini.yaml::impossible-ratio[dct]` (xfail) | 0/2 |" in out  # expected: no exit 1 for it
    assert "| `cases/mini.yaml::full-only[dct]` | skipped |" in out  # a full-tier claim is not a failure
    assert err.count("does not pass under every seed") == 1
    assert {p.name for p in (pytester.path / "runs").iterdir()} == {f"results-{s}.json" for s in seeds}
    for seed in seeds:
        document = json.loads((pytester.path / "runs" / f"results-{seed}.json").read_text())
        assert document["settings"]["seed"] == seed
    table = json.loads((pytester.path / "table.json").read_text())
    assert table["seeds"] == seeds and len(table["items"]) == 5  # the full-tier claim is a SKIP row


def test_no_claims_selected_is_exit_2(pytester, monkeypatch, capsys):
    (pytester.path / "cases").mkdir()
    monkeypatch.chdir(pytester.path)
    assert robustness.main(["--seeds", "1", "cases", "-k", "nothing"]) == 2
    assert "no run wrote results" in capsys.readouterr().err


def test_seed_count_must_be_positive():
    with pytest.raises(SystemExit):
        robustness.main(["--seeds", "0"])
