"""Benchmark history across commits: save, list, compare (the asv rule) and plot.

    python -m bench.history save RUN.json      # import a pytest-benchmark --benchmark-json file
    python -m bench.history list
    python -m bench.history compare [--baseline REV] [--contender REV]
    python -m bench.history plot

(``pytest bench --bench-save`` saves a run directly.) Runs live in
``.benchmarks/history/<machine>/<UTC time>_<commit 12>[-dirty].json``: one file per run, the
pytest-benchmark JSON with every raw round (``stats.data``), its ``commit_info`` and
``machine_info``. Each file is written once, atomically (temporary file in the same folder, fsync,
os.replace), and never rewritten, so an interrupted run loses nothing already stored. ``<machine>``
names the hardware (CPU model and count, GPU): timings from different machines are never compared.

Compare (asv's rule, airspeed velocity ``asv compare``): for every benchmark id present in both
runs, ratio = median(contender rounds) / median(baseline rounds), and p = two-sided Mann-Whitney U
test on the raw rounds (scipy.stats.mannwhitneyu). A change is real only when the ratio passes the
factor (default 1.1) AND p < 0.002: ratio > 1.1 is a regression, ratio < 1/1.1 an improvement.
Fewer rounds than can reach p < 0.002 (7 vs 7) are reported, never called. The command exits 1
when any benchmark regressed, 0 otherwise (2 on a usage error), prints a table, and writes the
history plots (needs matplotlib: ``pip install -e '.[report]'``; the comparison itself does not).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

DEFAULT_HISTORY = Path(".benchmarks") / "history"
DEFAULT_REPORTS = Path("reports")
FACTOR = 1.1
ALPHA = 0.002


# --- storage ---------------------------------------------------------------------------------------


def _umask_mode() -> int:
    """0o666 less the process umask: the mode open() would give a new file (mkstemp gives 0o600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` all at once: a temporary file in the same folder, flushed and
    fsynced, then os.replace (atomic on POSIX and Windows). On any failure the temporary file is
    removed and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def machine_key(machine_info: dict) -> str:
    """Hardware name of a run: ``<cpu brand>-<n>cpu[-<gpu name>]``, e.g. ``amd-epyc-2cpu``."""
    cpu = machine_info.get("cpu") or {}
    brand = cpu.get("brand_raw") or machine_info.get("processor") or machine_info.get("machine") or "cpu"
    count = cpu.get("count") or os.cpu_count()
    key = f"{slug(brand)}-{count}cpu"
    gpu = (machine_info.get("redshift_bench") or {}).get("cuda")
    if gpu:
        key += f"-{slug(gpu['name'])}"
    return key


def commit_key(commit_info: dict) -> str:
    """``<first 12 hex of the commit>`` plus ``-dirty`` for a modified working tree."""
    commit = str((commit_info or {}).get("id") or "unknown")[:12]
    return commit + ("-dirty" if (commit_info or {}).get("dirty") else "")


def benchmark_id(bench: dict) -> str:
    """History key of one benchmark: extra_info.id (``sampler[...]``), else the test name without ``test_``."""
    return (bench.get("extra_info") or {}).get("id") or bench["name"].removeprefix("test_")


def save_run(run: dict, directory: Path | str = DEFAULT_HISTORY) -> Path:
    """Store one pytest-benchmark JSON document (``--benchmark-json``: with raw rounds) in the history.

    Raises ValueError for a document without benchmarks. Returns the new file's path.
    """
    benchmarks = run.get("benchmarks")
    if not benchmarks:
        raise ValueError("no benchmarks in this run (was it run with benchmarks disabled?)")
    if not any((b.get("stats") or {}).get("data") for b in benchmarks):
        print("warning: no raw rounds (stats.data) in this run: compare cannot test it", file=sys.stderr)
    when = _parse_time(run.get("datetime")) or datetime.now(timezone.utc)
    machine = run.get("machine_info", {}).get("machine_key") or machine_key(run.get("machine_info", {}))
    folder = Path(directory) / machine
    stem = f"{when.strftime('%Y%m%dT%H%M%S')}_{commit_key(run.get('commit_info', {}))}"
    path = folder / f"{stem}.json"
    counter = 1
    while path.exists():
        counter += 1
        path = folder / f"{stem}-{counter}.json"
    # default=str: pytest-benchmark puts the parametrized objects (the bench cases) in "params"
    atomic_write_bytes(path, json.dumps(run, indent=1, sort_keys=True, default=str).encode())
    return path


def save_file(source: Path | str, directory: Path | str = DEFAULT_HISTORY) -> Path:
    with open(source, encoding="utf-8") as fh:
        return save_run(json.load(fh), directory)


@dataclass
class Run:
    path: Path
    machine: str
    commit: str     # commit_key
    when: datetime
    rounds: dict[str, list[float]] = field(default_factory=dict)  # id -> raw round times (s)
    medians: dict[str, float] = field(default_factory=dict)       # id -> median (s)

    @property
    def label(self) -> str:
        return f"{self.commit} {self.when.strftime('%Y-%m-%d %H:%M')}"


def _parse_time(text) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def load_run(path: Path | str) -> Run:
    path = Path(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    run = Run(path=path, machine=doc.get("machine_info", {}).get("machine_key") or path.parent.name,
              commit=commit_key(doc.get("commit_info", {})),
              when=_parse_time(doc.get("datetime")) or datetime.fromtimestamp(path.stat().st_mtime, timezone.utc))
    for bench in doc.get("benchmarks", []):
        key = benchmark_id(bench)
        stats = bench.get("stats") or {}
        run.rounds[key] = list(stats.get("data") or [])
        if "median" in stats:
            run.medians[key] = stats["median"]
        elif run.rounds[key]:
            run.medians[key] = statistics.median(run.rounds[key])
    return run


def load_runs(directory: Path | str = DEFAULT_HISTORY, machine: str | None = None) -> list[Run]:
    """Every stored run (of ``machine`` if given), oldest first; unreadable files are reported and skipped."""
    runs = []
    pattern = f"{machine}/*.json" if machine else "*/*.json"
    for path in sorted(Path(directory).glob(pattern)):
        if path.name.startswith("."):
            continue  # a temporary file of a write in progress
        try:
            runs.append(load_run(path))
        except (OSError, ValueError, KeyError) as exc:
            print(f"warning: skipping unreadable history file {path}: {exc}", file=sys.stderr)
    return sorted(runs, key=lambda r: (r.when, r.path.name))


def pick(runs: list[Run], rev: str) -> Run:
    """The newest run whose file path, file name or commit key starts with / equals ``rev``."""
    path = Path(rev)
    if path.is_file():
        return load_run(path)
    matches = [r for r in runs if r.commit.startswith(rev) or r.path.name.startswith(rev)]
    if not matches:
        raise LookupError(f"no stored run matches {rev!r}")
    return matches[-1]


# --- compare ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    id: str
    baseline: float | None    # median seconds
    contender: float | None
    ratio: float | None
    p: float | None
    verdict: str              # regression | improvement | same | too few rounds | no rounds | new | gone


def min_p_value(n1: int, n2: int) -> float:
    """Smallest two-sided p a Mann-Whitney U test on n1 vs n2 distinct values can give: 2 / C(n1+n2, n1)."""
    return min(1.0, 2 / math.comb(n1 + n2, n1))


def compare_rounds(base: list[float], new: list[float], factor: float = FACTOR, alpha: float = ALPHA
                   ) -> tuple[float, float | None, str]:
    """(ratio of medians, p, verdict) for one benchmark's raw rounds, by the asv rule."""
    from scipy.stats import mannwhitneyu

    ratio = statistics.median(new) / statistics.median(base)
    if min_p_value(len(base), len(new)) >= alpha:
        return ratio, None, "too few rounds"
    p = float(mannwhitneyu(new, base, alternative="two-sided").pvalue)
    if p < alpha and ratio > factor:
        return ratio, p, "regression"
    if p < alpha and ratio < 1 / factor:
        return ratio, p, "improvement"
    return ratio, p, "same"


def compare_runs(baseline: Run, contender: Run, factor: float = FACTOR, alpha: float = ALPHA,
                 select: str | None = None) -> list[Row]:
    rows = []
    for key in sorted(set(baseline.medians) | set(contender.medians)):
        if select and select not in key:
            continue
        base, new = baseline.medians.get(key), contender.medians.get(key)
        if base is None or new is None:
            rows.append(Row(key, base, new, None, None, "new" if base is None else "gone"))
            continue
        a, b = baseline.rounds.get(key) or [], contender.rounds.get(key) or []
        if not a or not b:
            rows.append(Row(key, base, new, new / base, None, "no rounds"))
            continue
        ratio, p, verdict = compare_rounds(a, b, factor, alpha)
        rows.append(Row(key, base, new, ratio, p, verdict))
    return rows


def _time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_table(rows: list[Row], baseline: Run, contender: Run, factor: float = FACTOR, alpha: float = ALPHA) -> str:
    header = ("benchmark", "baseline", "contender", "ratio", "p (Mann-Whitney)", "verdict")
    cells = [header] + [(r.id, _time(r.baseline), _time(r.contender), "-" if r.ratio is None else f"{r.ratio:.3f}",
                         "-" if r.p is None else f"{r.p:.2g}", r.verdict.upper() if r.verdict == "regression"
                         else r.verdict) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = [f"baseline:  {baseline.label}  ({baseline.path})", f"contender: {contender.label}  ({contender.path})",
             f"rule: regression if ratio > {factor:g} and p < {alpha:g} (asv)", ""]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    counts = {v: sum(r.verdict == v for r in rows) for v in dict.fromkeys(r.verdict for r in rows)}
    lines += ["", ", ".join(f"{n} {v}" for v, n in counts.items()) or "nothing to compare"]
    return "\n".join(lines)


# --- plot ------------------------------------------------------------------------------------------


def plot_history(runs: list[Run], out_dir: Path | str = DEFAULT_REPORTS) -> list[Path]:
    """One PNG per kernel, ``<out_dir>/bench-history-<kernel>.png``: the median time of each of its
    ids over the stored runs (oldest left), with the interquartile range of the rounds shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    kernels: dict[str, list[str]] = {}
    for run in runs:
        for key in run.medians:
            ids = kernels.setdefault(key.split("[", 1)[0], [])
            if key not in ids:
                ids.append(key)
    written = []
    for kernel, ids in sorted(kernels.items()):
        fig, ax = plt.subplots(figsize=(max(6.0, 1.0 + 0.6 * len(runs)) + 3.0, 4.5))
        for index, key in enumerate(ids):
            xs, med, lo, hi = [], [], [], []
            for x, run in enumerate(runs):
                if key not in run.medians:
                    continue
                data = sorted(run.rounds.get(key) or [run.medians[key]])
                xs.append(x)
                med.append(run.medians[key])
                lo.append(_quantile(data, 0.25))
                hi.append(_quantile(data, 0.75))
            style = ("-", "--", ":")[index // 10 % 3]  # the colour cycle repeats after 10 ids
            line, = ax.plot(xs, med, marker="o", linestyle=style, label=key[len(kernel):])
            ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2)
        ax.set_yscale("log")
        ax.set_ylabel("median time per call (s)")
        ax.set_xticks(range(len(runs)), [r.label for r in runs], rotation=30, ha="right", fontsize=7)
        ax.set_title(f"{kernel}: history on {runs[0].machine}" if runs else kernel)
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside the axes
        fig.tight_layout()
        path = out_dir / f"bench-history-{slug(kernel)}.png"
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=out_dir)
        os.close(fd)
        try:
            fig.savefig(tmp, dpi=110)
            os.chmod(tmp, _umask_mode())
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
            plt.close(fig)
        written.append(path)
    return written


def _quantile(sorted_data: list[float], q: float) -> float:
    pos = q * (len(sorted_data) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_data) - 1)
    return sorted_data[lo] + (sorted_data[hi] - sorted_data[lo]) * (pos - lo)


def _write_plots(runs: list[Run], out_dir: Path) -> None:
    try:
        paths = plot_history(runs, out_dir)
    except ImportError:
        print("plots skipped: matplotlib is not installed (pip install -e '.[report]')")
        return
    print(f"history plots: {', '.join(str(p) for p in paths)}")


# --- command line ----------------------------------------------------------------------------------


def _machine_runs(args) -> tuple[list[Run], str]:
    runs = load_runs(args.history)
    if not runs:
        raise LookupError(f"no stored runs in {args.history} (pytest bench --bench-save stores one)")
    machine = args.machine or runs[-1].machine
    runs = [r for r in runs if r.machine == machine]
    if not runs:
        raise LookupError(f"no stored runs for machine {machine!r} in {args.history}")
    return runs, machine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", type=Path, default=DEFAULT_HISTORY, help="history folder (.benchmarks/history)")
    parser.add_argument("--machine", help="machine key (default: the machine of the newest run)")
    sub = parser.add_subparsers(dest="command", required=True)
    save = sub.add_parser("save", help="store a pytest-benchmark JSON file (--benchmark-json) in the history")
    save.add_argument("files", nargs="+", type=Path)
    sub.add_parser("list", help="list the stored runs")
    cmp_ = sub.add_parser("compare", help="compare two runs by the asv rule; exit 1 on a regression")
    cmp_.add_argument("--baseline", help="commit prefix, file name prefix or path (default: the newest run of "
                                         "another commit than the contender)")
    cmp_.add_argument("--contender", help="as --baseline (default: the newest run)")
    cmp_.add_argument("--factor", type=float, default=FACTOR, help=f"ratio a change must pass (default {FACTOR})")
    cmp_.add_argument("--alpha", type=float, default=ALPHA, help=f"Mann-Whitney U p threshold (default {ALPHA})")
    cmp_.add_argument("-k", dest="select", help="only benchmark ids containing this text")
    cmp_.add_argument("--reports", type=Path, default=DEFAULT_REPORTS, help="where the plots go (reports/)")
    cmp_.add_argument("--no-plot", action="store_true", help="do not write the history plots")
    plot = sub.add_parser("plot", help="write one history plot per kernel to reports/")
    plot.add_argument("--reports", type=Path, default=DEFAULT_REPORTS)
    args = parser.parse_args(argv)

    try:
        if args.command == "save":
            for path in args.files:
                print(f"saved {path} -> {save_file(path, args.history)}")
            return 0
        runs, machine = _machine_runs(args)
        if args.command == "list":
            for run in runs:
                print(f"{run.label}  {len(run.medians):3d} benchmarks  {run.path}")
            return 0
        if args.command == "plot":
            _write_plots(runs, args.reports)
            return 0
        contender = pick(runs, args.contender) if args.contender else runs[-1]
        if args.baseline:
            baseline = pick(runs, args.baseline)
        else:
            older = [r for r in runs if r.commit != contender.commit and r.when <= contender.when]
            if not older:
                print(f"nothing to compare: no stored run of another commit than {contender.commit} on {machine}")
                return 0
            baseline = older[-1]
        rows = compare_runs(baseline, contender, args.factor, args.alpha, args.select)
        print(format_table(rows, baseline, contender, args.factor, args.alpha))
        if not args.no_plot:
            _write_plots(runs, args.reports)
        return 1 if any(r.verdict == "regression" for r in rows) else 0
    except (LookupError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
