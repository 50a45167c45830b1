"""The ``redshift`` command (also ``python -m redshift``): ``build`` regenerates the report folder,
``compare ARCH`` shows where a new architecture sits among the zoo (``--fail-if`` makes it a CI
gate), ``merge`` combines results.json shards (or ``build --shard`` sweep shards). ``python -m redshift.report build|compare`` runs the
same code. ``redshift COMMAND --help`` lists each command's options.

Start-up (``--help``, ``--version``) imports neither torch nor matplotlib: the commands' modules are
bound with ``lazy_module`` and load when a command runs. Options that take lists are comma lists
(``--magnitudes 1,10``). Every usage error, bad setting or missing optional dependency is one line
on stderr, exit status 2; ``compare`` exits 1 when a ``--fail-if`` condition holds, ``build
--run-claims`` with pytest's exit status when claims fail.
"""
import argparse
import dataclasses
import importlib.metadata
import importlib.util
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from redshift.core import FieldError, RegistryError, lazy_module, resolve_device

architecture = lazy_module("redshift.report.architecture")
claims_table = lazy_module("redshift.report.claims_table")
compare = lazy_module("redshift.report.compare")
index = lazy_module("redshift.report.index")
measure = lazy_module("redshift.claims.measure")
merge = lazy_module("redshift.merge")
metrics = lazy_module("redshift.metrics")
network_spec = lazy_module("redshift.networks.spec")
sweep = lazy_module("redshift.report.sweep")

DISTRIBUTION = "neural-redshift-bench"
DEFAULT_OUT = Path("reports") / "report"
COMMANDS = ("build", "compare", "merge")
REPORT_EXTRA = f"pip install '{DISTRIBUTION}[report]'"
#: SweepSettings fields with one value -> the smallest value allowed (None: any integer).
SWEEP_INTEGERS = {"samples": 1, "resolution": 2, "seed": None, "width": 1, "zoo_depth": 1}


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line: ``PROG: error: MESSAGE (see PROG --help)``, exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def integer(minimum: int | None) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
        return value
    return parse


def real(positive: bool) -> Callable[[str], float]:
    """An argparse type: a finite number > 0 (``positive``) or >= 0."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (value > 0 if positive else value >= 0) or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected a {'positive' if positive else 'non-negative'} finite "
                                             f"number, got {text!r}")
        return value
    return parse


def comma_list(item: Callable[[str], object], choices: Callable[[], tuple] | None = None) -> Callable[[str], tuple]:
    """An argparse type: ``a,b,c`` -> a tuple of ``item(text)``, each one of ``choices()`` if given."""
    def parse(text: str) -> tuple:
        parts = [p.strip() for p in text.split(",")]
        if not all(parts):
            raise argparse.ArgumentTypeError(f"expected a comma list without empty items, got {text!r}")
        values = tuple(item(p) for p in parts)
        allowed = choices() if choices else None
        unknown = [v for v in values if allowed is not None and v not in allowed]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown value {unknown[0]!r} (allowed: {', '.join(allowed)})")
        return values
    return parse


def shard(text: str) -> tuple[int, int]:
    """An argparse type: ``i/N`` with 1 <= i <= N."""
    index, _, count = text.partition("/")
    try:
        value = (int(index), int(count))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected i/N (e.g. 2/4), got {text!r}") from None
    if not 1 <= value[0] <= value[1]:
        raise argparse.ArgumentTypeError(f"expected i/N with 1 <= i <= N, got {text!r}")
    return value


def bias_scale(text: str) -> float | None:
    """``tied`` (None: biases scale with the magnitude) or a number >= 0."""
    return None if text == "tied" else real(positive=False)(text)


def add_sweep_options(parser: argparse.ArgumentParser, note: str) -> None:
    group = parser.add_argument_group(f"sweep settings ({note})", argument_default=argparse.SUPPRESS)
    # the fields' defaults, not SweepSettings(): its check of the metric names imports the metric
    # kernels (torch), through LazyAttributes.__contains__
    defaults = argparse.Namespace(**{f.name: f.default for f in dataclasses.fields(sweep.SweepSettings)})
    for name, minimum in SWEEP_INTEGERS.items():
        group.add_argument(f"--{name.replace('_', '-')}", type=integer(minimum),
                           help=f"default {getattr(defaults, name)}")
    group.add_argument("--scheme", choices=network_spec.SCHEMES, help=f"default {defaults.scheme}")
    group.add_argument("--dtype", choices=sweep.SWEEP_DTYPES,
                       help=f"precision of sampling and metrics (auto: per metric); default {defaults.dtype}")
    group.add_argument("--bias-scale", type=bias_scale,
                       help="biases U(+-b), b >= 0; 'tied' = the magnitude (the public code); default 1")
    group.add_argument("--magnitudes", type=comma_list(real(positive=True)),
                       help="comma list, default " + ",".join(f"{m:g}" for m in defaults.magnitudes))
    group.add_argument("--depths", type=comma_list(integer(1)),
                       help="comma list, default " + ",".join(map(str, defaults.depths)))
    group.add_argument("--activations", type=comma_list(str, lambda: network_spec.ACTIVATION_NAMES),
                       help="comma list, default " + ",".join(defaults.activations))
    group.add_argument("--metrics", type=comma_list(str, lambda: tuple(metrics.METRICS)),
                       help="comma list, default: every grid metric (" + ",".join(metrics.METRICS) + ")")


def parser(prog: str = "redshift", commands: tuple[str, ...] = COMMANDS) -> argparse.ArgumentParser:
    p = OneLineParser(prog=prog, description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"{DISTRIBUTION} {version()}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    if "build" in commands:
        build = sub.add_parser("build", help="regenerate the report folder (index.md, figures, sweep.json)",
                               description=f"Regenerate the report folder. Needs matplotlib: {REPORT_EXTRA}.")
        build.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"report folder (default {DEFAULT_OUT})")
        build.add_argument("--results-json", type=Path, default=Path("reports/results.json"),
                           help="the claims results of a pytest run (default reports/results.json)")
        build.add_argument("--run-claims", action="store_true",
                           help="first run `python -m pytest cases` to (re)write --results-json; the exit status is "
                                "pytest's when claims fail")
        build.add_argument("--sections", type=comma_list(str), default=None,
                           help="comma list of report sections to build (default: every registered one)")
        build.add_argument("--shard", type=shard, default=None, metavar="I/N",
                           help="measure only shard I of N of the sections' sweep (every N-th cell) into "
                                "OUT/sweep-shard-I-of-N.json and build no report; `redshift merge` the N files, then "
                                "build --sweep MERGED")
        build.add_argument("--sweep", type=Path, default=None, metavar="SWEEP_JSON",
                           help="build from this sweep.json (e.g. merged shards) instead of measuring; its settings "
                                "are used")
        add_common(build, "what the report measures")
    if "compare" in commands:
        cmp = sub.add_parser("compare", help="where does a new architecture sit among the zoo?",
                             description="Measure an architecture like the zoo and place it among them; with --fail-if, "
                                         f"a CI gate (exit 1 when a condition holds). Needs matplotlib: "
                                         f"{REPORT_EXTRA}.")
        cmp.add_argument("architecture", help="a YAML file with NetworkSpec fields, or package.module:factory")
        cmp.add_argument("--own-init", action="store_true",
                         help="keep the factory's own initialisation (re-run per sample) instead of re-drawing weights")
        cmp.add_argument("--zoo", type=Path, default=DEFAULT_OUT / "sweep.json",
                         help=f"the zoo sweep to compare with (default {DEFAULT_OUT / 'sweep.json'}, written by build; "
                              f"measured and saved there when missing)")
        cmp.add_argument("--out", type=Path, default=None, help="output folder (default reports/compare/<name>)")
        cmp.add_argument("--fail-if", action="append", default=[], metavar="CONDITION",
                         help="a condition that means the architecture left its expected place, e.g. 'rank(lz, 10) > 5', "
                              "'nearest != relu+ln', 'distance(relu) >= 0.3', 'median(lz, 10) >= 100'; repeatable; exit 1 "
                              "when one holds (or cannot be evaluated) (docs/use-in-your-repository.md)")
        add_common(cmp, "only when the zoo file does not exist yet; otherwise its settings are used")
    if "merge" in commands:
        mrg = sub.add_parser("merge", help="combine results.json (or sweep.json) shards into one",
                             description="Combine results.json files of sharded runs (pytest-split groups, machines) "
                                         "into one, equal record for record to the unsharded run's; or the sweep.json "
                                         "shards of `build --shard I/N` into the serial sweep.json.")
        mrg.add_argument("shards", nargs="+", type=Path, metavar="JSON")
        mrg.add_argument("-o", "--output", type=Path, required=True, help="the merged results.json or sweep.json")
        mrg.add_argument("--allow-mixed-commits", action="store_true",
                         help="merge shards of different commits (the merged commit is null; commits lists each)")
    return p


def add_common(parser: argparse.ArgumentParser, note: str) -> None:
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where networks run and metrics are computed (default auto: cuda if available)")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    add_sweep_options(parser, note)


class CommandError(Exception):
    """A one-line problem of a command's inputs or environment (exit status 2)."""


def require_report_extra(command: str) -> None:
    if importlib.util.find_spec("matplotlib") is None:
        raise CommandError(f"{command} draws figures with matplotlib, which is not installed: {REPORT_EXTRA}")


def given_settings(args) -> dict:
    """The sweep options given on the command line (absent ones are not in ``args``: SUPPRESS defaults)."""
    names = [*SWEEP_INTEGERS, "scheme", "dtype", "bias_scale", "magnitudes", "depths", "activations", "metrics"]
    return {name: getattr(args, name) for name in names if hasattr(args, name)}


def sweep_settings(given: dict):
    """SweepSettings from the given options (each already checked by its argparse type)."""
    try:
        return sweep.SweepSettings(**given)
    except ValueError as exc:  # FieldError included
        raise CommandError(f"sweep settings: {exc}") from None


def device(option: str) -> str:
    try:
        return resolve_device(option)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def run_claims(results_json: Path) -> int:
    """``python -m pytest cases -q`` in the working directory, writing ``results_json``; pytest's exit status."""
    command = [sys.executable, "-m", "pytest", "cases", "-q", "-p", "no:cacheprovider",
               f"--redshift-report-json={results_json.resolve()}"]
    print("report: running the claims:", shlex.join(command), file=sys.stderr)
    return subprocess.run(command, check=False).returncode


def run_build(args, command: str) -> int:
    start = time.perf_counter()
    given = given_settings(args)
    if args.shard is None:  # a shard only measures: no figures
        require_report_extra("build")
    try:
        chosen = index.sections(list(args.sections) if args.sections else None)
    except RegistryError as exc:
        raise CommandError(f"--sections: {exc}") from None
    parts = frozenset().union(*(s.sweep_parts for s in chosen))
    if args.shard is not None:
        return run_sweep_shard(args, sweep_settings(given), parts)
    measured = read_sweep(args.sweep, given, parts) if args.sweep is not None else None
    settings = measured.settings if measured is not None else sweep_settings(given)
    status = 0
    if args.run_claims:
        status = run_claims(args.results_json)
        if status not in (0, 1):  # 1: claims failed (the report shows them); anything else: no usable results
            raise CommandError(f"--run-claims: pytest exited with status {status}; no report built")
    ctx = index.ReportContext(out=args.out, settings=settings, device=device(args.device),
                              results_json=args.results_json, show_progress=not args.quiet)
    if measured is not None:
        vars(ctx)["sweep"] = measured  # the cached_property, preset: nothing is measured again
        args.out.mkdir(parents=True, exist_ok=True)
        measured.write(args.out / index.SWEEP_JSON)
    report = index.build_report(ctx, chosen, command=command)
    print(f"report: {report} ({time.perf_counter() - start:.0f} s)")
    return status


def run_sweep_shard(args, settings, parts: frozenset[str]) -> int:
    """``build --shard I/N``: shard I of N of the sweep the sections read, written to OUT/sweep-shard-I-of-N.json."""
    if args.run_claims or args.sweep is not None:
        raise CommandError("--shard measures a sweep shard only: it takes neither --run-claims nor --sweep")
    if not parts:
        raise CommandError("--shard: the chosen sections read no sweep")
    index_, count = args.shard
    result = sweep.run_sweep(settings, device(args.device), not args.quiet, parts=parts, shard=args.shard)
    path = args.out / f"sweep-shard-{index_}-of-{count}.json"
    args.out.mkdir(parents=True, exist_ok=True)
    result.write(path)
    print(f"report: sweep shard {index_}/{count}: {len(result.records)} cells -> {path}")
    return 0


def differing_settings(measured, given: dict) -> list[str]:
    """The sweep options given on the command line that a stored sweep was measured with other values of."""
    return [k for k, v in given.items() if getattr(measured.settings, k) != v]


def read_sweep(path: Path, given: dict, parts: frozenset[str]):
    """The unsharded sweep at ``path`` for ``build --sweep``: holding the parts the sections read, and
    measured with the sweep options given (if any)."""
    try:
        measured = sweep.Sweep.read(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CommandError(f"--sweep {path}: cannot read a sweep.json ({type(exc).__name__}: {exc})") from None
    if measured.shard is not None:
        raise CommandError(f"--sweep {path}: shard {measured.shard[0]}/{measured.shard[1]} only; "
                           "`redshift merge` the shards first")
    missing = sorted(parts - set(measured.parts))
    if missing:
        raise CommandError(f"--sweep {path}: has no {', '.join(missing)} cells (measured parts: "
                           f"{', '.join(measured.parts)})")
    differing = differing_settings(measured, given)
    if differing:
        raise CommandError(f"--sweep {path} was measured with other settings ({', '.join(differing)} differ)")
    return measured


def read_zoo(path: Path, given: dict):
    """The zoo sweep at ``path`` (None when missing), refused when it was measured with other settings."""
    if not path.exists():
        return None
    zoo = sweep.Sweep.read(path)
    differing = differing_settings(zoo, given)
    if differing:
        raise CommandError(f"{path} was measured with other settings ({', '.join(differing)} differ); rebuild it "
                           f"with them (redshift build ...) or pass --zoo with a new path")
    return zoo


def run_compare(args, command: str) -> int:
    """Conditions and the architecture are checked before the zoo is measured (minutes), so a mistyped
    factory or condition fails at once."""
    require_report_extra("compare")
    given = given_settings(args)
    zoo = read_zoo(args.zoo, given)
    settings = zoo.settings if zoo is not None else sweep_settings(given)
    conditions = [compare.parse_condition(text, settings, args.own_init) for text in args.fail_if]
    arch = architecture.load_architecture(args.architecture, settings, args.own_init)
    arch.check(settings.resolution, settings.samples)
    measurer = measure.Measurer(settings.seed, device(args.device))
    if zoo is None:
        print(f"compare: {args.zoo} does not exist: measuring the zoo first", file=sys.stderr)
        zoo = sweep.run_sweep(settings, measurer.device, not args.quiet, measurer)
        zoo.write(args.zoo)
    comparison = compare.measure_architecture(arch, zoo, measurer, not args.quiet)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in arch.name)
    out = args.out or Path("reports") / "compare" / (safe + ("-own_init" if args.own_init else ""))
    _, summary = compare.compare_report(comparison, out, str(args.zoo), command)
    print("\n".join(summary))
    triggered = 0
    for condition in conditions:
        hit, line = condition.evaluate(comparison)
        print(f"  fail-if {line}")
        triggered += hit
    return 1 if triggered else 0


def run_merge(args, command: str) -> int:
    document = merge.merge_files(args.shards, args.output, args.allow_mixed_commits)
    if "cells" in document:
        print(f"merge: {len(args.shards)} sweep shards -> {args.output}: {len(document['cells'])} cells")
        return 0
    counts: dict[str, int] = {}
    for claim in document["claims"]:
        counts[claim.get("status")] = counts.get(claim.get("status"), 0) + 1
    print(f"merge: {len(args.shards)} shards -> {args.output}: {len(document['claims'])} claims ("
          + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + f"), {len(document['measurements'])} measurements")
    return 0


RUN = {"build": run_build, "compare": run_compare, "merge": run_merge}
#: The one-line errors of each command beyond CommandError, FieldError and RegistryError (their
#: modules are imported only when such an error is raised).
ERRORS = {"build": lambda: (claims_table.ResultsError,), "compare": lambda: (architecture.ArchitectureError, compare.ConditionError),
          "merge": lambda: (merge.MergeError,)}


def main(argv: list[str] | None = None, prog: str = "redshift", commands: tuple[str, ...] = COMMANDS) -> int:
    """Run one command; its exit status (2 and one line on stderr for a usage or input error)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser(prog, commands).parse_args(argv)
    try:
        return RUN[args.command](args, shlex.join([*prog.split(), *argv]))
    except Exception as exc:
        if not (isinstance(exc, (CommandError, FieldError, RegistryError)) or isinstance(exc, ERRORS[args.command]())):
            raise
        print(f"{prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
