"""Robustness over master seeds: run the selected claims under N master seeds and tabulate, per claim x
metric, how often each passes and by how much.

    python -m redshift.claims.robustness --seeds 5 [--json OUT] [pytest args, e.g. cases -n 2 -k relu]

Seed i (1..N) is ``derive_seed(MASTER_SEED, "robustness", i) mod 2^31``, printed with the table; the
default seed is not among them. Each run is ``python -m pytest <args> --redshift-seed S`` writing its own
results.json. Per item: the pass rate over the runs that ran it (PASS and XPASS count as passing; FAIL,
XFAIL, INCONCLUSIVE do not; a SKIP, e.g. a full-tier claim in the CI tier, is not a run), the median and worst (largest) p-value of its checks, the median effect (the binding check's ratio
or value) and the median and worst margin to the threshold (how far the binding interval end lies
inside it; negative: outside). Exit status 1 when a claim that is not marked xfail fails under any seed.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from redshift.core import atomic_write_text
from redshift.seeding import MASTER_SEED, derive_seed

PASSING = ("PASS", "XPASS")


def robustness_seeds(count: int) -> list[int]:
    return [derive_seed(MASTER_SEED, "robustness", i) % 2**31 for i in range(1, count + 1)]


def run_seed(seed: int, pytest_args: list[str], folder: Path) -> dict | None:
    """One pytest run under ``seed``; its results.json document (None if it wrote none)."""
    path = folder / f"results-{seed}.json"
    command = [sys.executable, "-m", "pytest", *pytest_args, "-q", "-p", "no:cacheprovider",
               f"--redshift-seed={seed}", f"--redshift-report-json={path}"]
    print("robustness:", " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, check=False)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def item_numbers(claim: dict) -> dict:
    """The worst p, the binding effect and the worst margin of one item's checks."""
    checks = claim.get("checks", [])
    ps = [c["p"] for c in checks if c.get("p") is not None]
    margins = [(min(v for v in c["margins"].values() if v is not None), c) for c in checks
               if c.get("margins") and any(v is not None for v in c["margins"].values())]
    worst_margin, binding = min(margins, key=lambda item: item[0]) if margins else (None, {})
    effect = next((binding[k] for k in ("ratio", "value", "median", "max_abs_difference", "median_abs_difference")
                   if binding.get(k) is not None), None)
    return {"p": max(ps) if ps else None, "effect": effect, "margin": worst_margin}


def tabulate(documents: dict[int, dict]) -> list[dict]:
    """Per claim x metric over the seeds: statuses, pass rate, p-values, effects and margins."""
    rows: dict[str, dict] = {}
    for seed, document in documents.items():
        for claim in document.get("claims", []):
            row = rows.setdefault(claim["id"], {"id": claim["id"], "statuses": {}, "numbers": {}, "xfail": False})
            row["xfail"] |= bool(claim.get("reason")) or claim["status"] == "XFAIL"
            row["statuses"][seed] = claim["status"]
            row["numbers"][seed] = item_numbers(claim)
    table = []
    for row in rows.values():
        ran = [seed for seed, status in row["statuses"].items() if status != "SKIP"]
        statuses = [row["statuses"][seed] for seed in ran]
        numbers = [row["numbers"][seed] for seed in ran]

        def column(key, reduce):
            values = [n[key] for n in numbers if n[key] is not None]
            return float(reduce(values)) if values else None

        table.append({"id": row["id"], "xfail": row["xfail"], "statuses": row["statuses"],
                      "passed": sum(s in PASSING for s in statuses), "runs": len(statuses),
                      "p_median": column("p", np.median), "p_worst": column("p", max),
                      "effect_median": column("effect", np.median),
                      "margin_median": column("margin", np.median), "margin_worst": column("margin", min)})
    return sorted(table, key=lambda r: r["id"])


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def format_table(table: list[dict], seeds: list[int]) -> str:
    """A Markdown table (one row per claim x metric)."""
    lines = [f"master seeds: {', '.join(map(str, seeds))}", "",
             "| claim x metric | pass | p median | p worst | effect median | margin median | margin worst | statuses |",
             "|---|---|---|---|---|---|---|---|"]
    for row in table:
        statuses = " ".join(row["statuses"][s] for s in seeds if s in row["statuses"])
        passed = f"{row['passed']}/{row['runs']}" if row["runs"] else "skipped"
        lines.append(f"| `{row['id']}`{' (xfail)' if row['xfail'] else ''} | {passed} | "
                     f"{_number(row['p_median'])} | {_number(row['p_worst'])} | {_number(row['effect_median'])} | "
                     f"{_number(row['margin_median'])} | {_number(row['margin_worst'])} | {statuses} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m redshift.claims.robustness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5, help="master seeds to run (default 5)")
    parser.add_argument("--json", type=Path, default=None, help="also write the table as JSON here")
    parser.add_argument("--results-dir", type=Path, default=None,
                        help="keep each seed's results.json here (results-<seed>.json; default: a temporary folder)")
    args, pytest_args = parser.parse_known_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds: expected a positive integer, got {args.seeds}")
    seeds = robustness_seeds(args.seeds)
    with tempfile.TemporaryDirectory(prefix="redshift-robustness-") as folder:
        where = Path(folder) if args.results_dir is None else args.results_dir
        where.mkdir(parents=True, exist_ok=True)
        documents = {seed: document for seed in seeds if (document := run_seed(seed, pytest_args, where))}
    if not documents:
        print("robustness: no run wrote results (did the pytest arguments select any claim?)", file=sys.stderr)
        return 2
    table = tabulate(documents)
    print(format_table(table, seeds))
    if args.json:
        atomic_write_text(args.json, json.dumps({"seeds": seeds, "items": table}, indent=1) + "\n")
    unexpected = [row["id"] for row in table if not row["xfail"] and row["passed"] < row["runs"]]
    for name in unexpected:
        print(f"robustness: {name} does not pass under every seed", file=sys.stderr)
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
