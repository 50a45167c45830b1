"""Benchmark history across commits: what pytest-benchmark's own storage lacks (docs/benchmarks.md).

    python -m bench.history compare [--baseline REV] [--contender REV] [-k TEXT]   # the asv rule; exit 1 on a regression
    python -m bench.history run REV_RANGE [-k EXPR] [--tier ci|full] [-- PYTEST_ARGS]  # time A and every commit of A..B
    python -m bench.history publish [--out DIR]                                     # static trend page, index.html
    (each takes --history DIR, default .benchmarks, and --repo DIR, the git repository, default .)

Runs are stored by pytest-benchmark itself (``pytest bench --benchmark-enable --benchmark-autosave``;
bench/conftest.py adds ``--benchmark-save-data``), in its layout under ``--benchmark-storage``
(default ``file://./.benchmarks``): ``<storage>/<machine id>/<NNNN>_<name>.json``, the machine id being
pytest-benchmark's ``<system>-<implementation>-<python>-<bits>``. This module reads those files back
through their documented fields only: ``commit_info`` (id, dirty), ``machine_info`` (bench/conftest.py
adds ``machine_key``, the hardware: CPU model and count, GPU), ``datetime`` and ``benchmarks[]``
(``name``, ``extra_info.id``, ``stats.median/q1/q3`` and the raw rounds ``stats.data``). Two runs are
of the same machine when both the machine id folder and the hardware key agree; runs of different
machines are never compared. A commit whose bench failed under ``run`` is recorded next to the runs,
in ``<storage>/<machine id>/failed/<commit>.json`` (a folder pytest-benchmark does not read).

Compare (asv's rule, airspeed velocity ``asv compare``): for every benchmark id present in both
runs, ratio = median(contender rounds) / median(baseline rounds) and p = two-sided Mann-Whitney U
test on the raw rounds (scipy.stats.mannwhitneyu). A change is real only when the ratio passes the
factor (default 1.1) AND p < 0.002: ratio > 1.1 is a regression, ratio < 1/1.1 an improvement. Fewer
rounds than can reach p < 0.002 (7 vs 7) are reported, never called. The baseline is, by default, the
nearest git ancestor of the contender's commit that has a run on the same machine (a run of a
modified working tree, ``dirty``, has its own commit's clean run as nearest ancestor).

Exit status: 0; 1 when compare finds a regression or a commit of ``run`` failed; 2 on a usage error
or a bad history file (one line naming the file).
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import re
import statistics
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench import commits

DEFAULT_HISTORY = Path(".benchmarks")
#: pytest-benchmark's file storage names a run <counter>_<name>.json (storage/file.py, FileStorage.save).
RUN_GLOB = "[0-9][0-9][0-9][0-9]_*.json"
FAILED_FOLDER = "failed"
FACTOR = 1.1
ALPHA = 0.002


class HistoryError(Exception):
    """A bad history file or folder; the message is one line and names it."""


# --- machines ---------------------------------------------------------------------------------------


def storage_machine_id() -> str:
    """The folder pytest-benchmark stores this interpreter's runs in (pytest_benchmark.utils.get_machine_id):
    ``<system>-<implementation>-<major.minor>-<bits>``, e.g. ``Linux-CPython-3.11-64bit``."""
    return "-".join((platform.system(), platform.python_implementation(),
                     ".".join(platform.python_version_tuple()[:2]), platform.architecture()[0]))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def hardware_key(cpu: dict, gpu: str | None) -> str:
    """``<cpu brand>-<n>cpu[-<gpu name>]``, e.g. ``amd-epyc-9b45-2cpu``, from py-cpuinfo's dict
    (pytest-benchmark's ``machine_info.cpu``) and the CUDA device's name."""
    key = f"{slug(str(cpu.get('brand_raw') or cpu.get('arch') or 'cpu'))}-{cpu.get('count') or 0}cpu"
    return f"{key}-{slug(gpu)}" if gpu else key


def this_hardware() -> str:
    """``hardware_key`` of this machine (the GPU that torch sees, if any), as bench/conftest.py records it."""
    import cpuinfo  # py-cpuinfo: a dependency of pytest-benchmark, which fills machine_info.cpu with it
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return hardware_key(cpuinfo.get_cpu_info(), gpu)


# --- reading the stored runs ------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One benchmark of a run: raw round times (s) and pytest-benchmark's median and quartiles."""

    data: tuple[float, ...]
    median: float
    q1: float
    q3: float


@dataclass
class Run:
    path: Path
    folder: str      # pytest-benchmark's machine id folder
    hardware: str
    commit: str      # commit_info.id (40 hex digits for a git checkout)
    dirty: bool
    when: datetime
    results: dict[str, Result] = field(default_factory=dict)  # benchmark id -> result

    @property
    def machine(self) -> str:
        return f"{self.folder}/{self.hardware}"

    @property
    def label(self) -> str:
        return f"{self.commit[:12]}{'-dirty' if self.dirty else ''} {self.when:%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class Failure:
    """A commit whose bench failed under ``run``: its exit status and the tail of its output."""

    path: Path
    folder: str
    hardware: str
    commit: str
    exit_status: int
    reason: str
    output_tail: str
    when: datetime

    @property
    def machine(self) -> str:
        return f"{self.folder}/{self.hardware}"


@dataclass
class History:
    runs: list[Run]          # oldest first
    failures: list[Failure]

    def machines(self) -> list[str]:
        return sorted({r.machine for r in self.runs} | {f.machine for f in self.failures})


def benchmark_id(bench: dict) -> str:
    """History key of one benchmark: ``extra_info.id`` (``sampler[...]``), else its name without ``test_``."""
    return (bench.get("extra_info") or {}).get("id") or bench["name"].removeprefix("test_")


def read_json(path: Path) -> dict:
    """The JSON object in ``path``; HistoryError naming the file if it cannot be read or parsed."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise HistoryError(f"{path}: truncated or invalid JSON ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if not isinstance(doc, dict):
        raise HistoryError(f"{path}: expected a JSON object, found {type(doc).__name__}")
    return doc


KINDS = {str: "a string", int: "an integer", (int, float): "a number", dict: "an object", list: "a list"}


def require(doc: dict, dotted: str, kind: type | tuple, path: Path, what: str):
    """doc[a][b]... for ``dotted`` = "a.b", checked to be a ``kind`` (a key of KINDS; booleans are not
    numbers here); else HistoryError naming the file."""
    value = doc
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise HistoryError(f"{path}: not {what}: '{dotted}' is missing or not {KINDS[kind]}")
    return value


def parse_time(text: str, path: Path, name: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise HistoryError(f"{path}: not a valid ISO time in '{name}': {text!r}") from None


def load_run(path: Path) -> Run:
    """One pytest-benchmark run file, checked against the fields this module uses."""
    path = Path(path)
    what = "a pytest-benchmark run file"
    doc = read_json(path)
    machine_info = require(doc, "machine_info", dict, path, what)
    commit = require(doc, "commit_info.id", str, path, what)
    when = parse_time(require(doc, "datetime", str, path, what), path, "datetime")
    gpu = ((machine_info.get("redshift_bench") or {}).get("cuda") or {}).get("name")
    hardware = machine_info.get("machine_key") or hardware_key(machine_info.get("cpu") or {}, gpu)
    run = Run(path=path, folder=path.parent.name, hardware=hardware, commit=commit,
              dirty=bool(doc["commit_info"].get("dirty")), when=when)
    for index, bench in enumerate(require(doc, "benchmarks", list, path, what)):
        if not isinstance(bench, dict):
            raise HistoryError(f"{path}: not {what}: benchmarks[{index}] is not an object")
        name = f"benchmarks[{index}]"
        require(bench, "name", str, path, f"{what} ({name})")
        stats = require(bench, "stats", dict, path, f"{what} ({name})")
        numbers = [require(stats, key, (int, float), path, f"{what} ({name})") for key in ("median", "q1", "q3")]
        data = stats.get("data") or []
        if not isinstance(data, list) or not all(isinstance(x, (int, float)) for x in data):
            raise HistoryError(f"{path}: not {what}: {name}.stats.data is not a list of numbers")
        run.results[benchmark_id(bench)] = Result(tuple(map(float, data)), *map(float, numbers))
    return run


def load_failure(path: Path) -> Failure:
    """One failed-commit record written by ``run`` (see ``record_failure``)."""
    what = "a failed-commit record"
    doc = read_json(path)
    values = {key: require(doc, key, kind, path, what) for key, kind in
              (("commit", str), ("hardware", str), ("exit_status", int), ("reason", str), ("output_tail", str),
               ("datetime", str))}
    values["when"] = parse_time(values.pop("datetime"), path, "datetime")
    return Failure(path=path, folder=path.parent.parent.name, **values)


def load_history(directory: Path) -> History:
    """Every run and failed-commit record under ``directory``, runs oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        raise HistoryError(f"{directory}: no such history folder (pytest bench --benchmark-enable "
                           "--benchmark-autosave stores runs there)")
    runs = [load_run(p) for p in sorted(directory.glob(f"*/{RUN_GLOB}"))]
    failures = [load_failure(p) for p in sorted(directory.glob(f"*/{FAILED_FOLDER}/*.json"))]
    return History(sorted(runs, key=lambda r: (r.when, str(r.path))), failures)


def failure_path(directory: Path, commit: str) -> Path:
    return Path(directory) / storage_machine_id() / FAILED_FOLDER / f"{commit}.json"


def record_failure(directory: Path, commit: str, exit_status: int, reason: str, output_tail: str,
                   when: datetime) -> Path:
    """Write the failed-commit record of ``commit`` (atomically, replacing an older one)."""
    from redshift.core import atomic_write_text

    path = failure_path(directory, commit)
    record = {"commit": commit, "hardware": this_hardware(), "exit_status": exit_status, "reason": reason,
              "output_tail": output_tail, "datetime": when.isoformat()}
    atomic_write_text(path, json.dumps(record, indent=1, sort_keys=True) + "\n")
    return path


# --- the regression rule ----------------------------------------------------------------------------


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


def compare_results(key: str, base: Result | None, new: Result | None, factor: float = FACTOR,
                    alpha: float = ALPHA) -> Row:
    """One row of a comparison: the asv rule on the raw rounds where both runs have them."""
    if base is None or new is None:
        return Row(key, base and base.median, new and new.median, None, None, "new" if base is None else "gone")
    if not base.data or not new.data:
        return Row(key, base.median, new.median, new.median / base.median, None, "no rounds")
    ratio, p, verdict = compare_rounds(list(base.data), list(new.data), factor, alpha)
    return Row(key, base.median, new.median, ratio, p, verdict)


def compare_runs(baseline: Run, contender: Run, factor: float = FACTOR, alpha: float = ALPHA,
                 select: str | None = None) -> list[Row]:
    """A row for every id in either run (containing ``select`` if given), sorted by id."""
    keys = sorted(set(baseline.results) | set(contender.results))
    return [compare_results(k, baseline.results.get(k), contender.results.get(k), factor, alpha)
            for k in keys if not select or select in k]


def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_table(rows: list[Row], baseline: Run, contender: Run, factor: float = FACTOR, alpha: float = ALPHA) -> str:
    header = ("benchmark", "baseline", "contender", "ratio", "p (Mann-Whitney)", "verdict")
    cells = [header] + [(r.id, format_time(r.baseline), format_time(r.contender),
                         "-" if r.ratio is None else f"{r.ratio:.3f}", "-" if r.p is None else f"{r.p:.2g}",
                         r.verdict.upper() if r.verdict == "regression" else r.verdict) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = [f"machine:   {contender.machine}",
             f"baseline:  {baseline.label}  ({baseline.path})", f"contender: {contender.label}  ({contender.path})",
             f"rule: regression if ratio > {factor:g} and p < {alpha:g} (asv)", ""]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    counts = {v: sum(r.verdict == v for r in rows) for v in dict.fromkeys(r.verdict for r in rows)}
    lines += ["", ", ".join(f"{n} {v}" for v, n in counts.items()) or "nothing to compare"]
    return "\n".join(lines)


# --- choosing the runs to compare -------------------------------------------------------------------


def nearest_ancestor_run(repo: Path, runs: list[Run], contender: Run) -> Run | None:
    """The newest clean run of the nearest git ancestor of ``contender``'s commit that has one
    (``runs``: one machine's). A dirty contender's own commit counts as its nearest ancestor."""
    clean = {}
    for run in runs:  # oldest first: the newest run of each commit wins
        if not run.dirty and run is not contender:
            clean[run.commit] = run
    candidates = set(clean) if contender.dirty else set(clean) - {contender.commit}
    if not commits.known(repo, {contender.commit}):
        raise LookupError(f"commit {contender.commit[:12]} of {contender.path} is not in the repository {repo}: "
                          "name the baseline with --baseline")
    commit = commits.nearest_ancestor(repo, contender.commit, candidates)
    return clean.get(commit) if commit else None


def pick(runs: list[Run], rev: str, repo: Path) -> Run:
    """The newest of ``runs`` whose path is ``rev``, whose file name or commit starts with it, or
    whose commit is what git resolves ``rev`` to (HEAD~1, a branch)."""
    path = Path(rev)
    if path.is_file():
        return load_run(path)
    matches = [r for r in runs if r.commit.startswith(rev) or r.path.name.startswith(rev)]
    if not matches:
        try:
            sha = commits.resolve(repo, rev)
        except commits.GitError:
            sha = None  # not a revision either
        matches = [r for r in runs if r.commit == sha]
    if not matches:
        raise LookupError(f"no stored run of this machine matches {rev!r}")
    return matches[-1]


def machine_runs(history: History, machine: str | None) -> tuple[list[Run], str]:
    """The runs of ``machine`` (default: the machine of the newest run), oldest first."""
    if not history.runs:
        raise LookupError("no stored runs (pytest bench --benchmark-enable --benchmark-autosave stores one)")
    machine = machine or history.runs[-1].machine
    runs = [r for r in history.runs if r.machine == machine]
    if not runs:
        raise LookupError(f"no stored runs of machine {machine!r}; machines: {', '.join(history.machines())}")
    return runs, machine


# --- command line -----------------------------------------------------------------------------------


def compare_command(args) -> int:
    runs, machine = machine_runs(load_history(args.history), args.machine)
    contender = pick(runs, args.contender, args.repo) if args.contender else runs[-1]
    if args.baseline:
        baseline = pick(runs, args.baseline, args.repo)
    else:
        baseline = nearest_ancestor_run(args.repo, runs, contender)
        if baseline is None:
            print(f"nothing to compare: no ancestor of {contender.label} has a stored run on {machine}")
            return 0
    rows = compare_runs(baseline, contender, args.factor, args.alpha, args.select)
    print(format_table(rows, baseline, contender, args.factor, args.alpha))
    return 1 if any(r.verdict == "regression" for r in rows) else 0


def run_command(args) -> int:
    from bench import worktree

    outcomes = worktree.run_range(args.repo, args.range, args.history, keyword=args.keyword, tier=args.tier,
                                  pytest_args=args.pytest_args)
    print(f"bench.history run {args.range}: {sum(o.ok for o in outcomes)} stored, "
          f"{sum(not o.ok for o in outcomes)} failed")
    for outcome in outcomes:
        print(f"  {outcome.summary()}")
    return 1 if any(not o.ok for o in outcomes) else 0


def publish_command(args) -> int:
    from bench import publish

    index = publish.publish(load_history(args.history), args.repo, args.out, args.history)
    print(f"wrote {index}")
    return 0


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--history", type=Path, default=DEFAULT_HISTORY,
                        help="pytest-benchmark's storage folder (default .benchmarks, as --benchmark-storage)")
    common.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default .)")
    top = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__.split("\n\n")[0])
    sub = top.add_subparsers(dest="command", required=True)
    cmp_ = sub.add_parser("compare", parents=[common], help="compare two runs by the asv rule; exit 1 on a regression")
    cmp_.add_argument("--baseline", help="run file, file name prefix, commit prefix or git revision (default: "
                                         "the nearest ancestor of the contender with a stored run)")
    cmp_.add_argument("--contender", help="as --baseline (default: the newest run)")
    cmp_.add_argument("--machine", help="FOLDER/HARDWARE (default: the machine of the newest run)")
    cmp_.add_argument("--factor", type=float, default=FACTOR, help=f"ratio a change must pass (default {FACTOR})")
    cmp_.add_argument("--alpha", type=float, default=ALPHA, help=f"Mann-Whitney U p threshold (default {ALPHA})")
    cmp_.add_argument("-k", dest="select", help="only benchmark ids containing this text")
    cmp_.set_defaults(handler=compare_command)
    run = sub.add_parser("run", parents=[common], help="time every commit of a git range, each in a temporary worktree")
    run.add_argument("range", help="A..B: A and the commits of git rev-list A..B (HEAD~1..HEAD: two commits); "
                                   "anything else as git rev-list lists it (HEAD^!: one commit)")
    run.add_argument("-k", dest="keyword", help="pytest -k expression passed to each commit's `pytest bench`")
    run.add_argument("--tier", choices=("ci", "full"), help="case set passed to each commit (default: its own default)")
    run.add_argument("pytest_args", nargs="*", help="after --: more pytest arguments, e.g. -- --benchmark-max-time 0.2")
    run.set_defaults(handler=run_command)
    pub = sub.add_parser("publish", parents=[common], help="write a static history page (index.html)")
    pub.add_argument("--out", type=Path, default=Path("reports") / "bench-history", help="where index.html goes")
    pub.set_defaults(handler=publish_command)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except (HistoryError, commits.GitError, LookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
