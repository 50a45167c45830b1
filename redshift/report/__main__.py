"""``python -m redshift.report build`` regenerates the report folder; ``python -m redshift.report compare
ARCH`` shows where a new architecture sits. ``--help`` on each lists the options."""
import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

import torch

from redshift.report.architecture import ArchitectureError, load_architecture
from redshift.report.compare import compare_report, measure_architecture
from redshift.report.index import ROOT, SWEEP_JSON, ReportContext, build_report, sections
from redshift.report.sweep import Sweep, SweepSettings, run_sweep

DEFAULT_OUT = Path("reports") / "report"
SWEEP_OPTIONS = {"samples": int, "resolution": int, "seed": int, "width": int, "scheme": str, "zoo_depth": int}


def bias_scale(text: str) -> float | None:
    return None if text == "tied" else float(text)


def add_sweep_options(parser: argparse.ArgumentParser, note: str) -> None:
    group = parser.add_argument_group(f"sweep settings ({note})")
    defaults = SweepSettings()
    for name, kind in SWEEP_OPTIONS.items():
        group.add_argument(f"--{name.replace('_', '-')}", type=kind, default=None,
                           help=f"default {getattr(defaults, name)}")
    group.add_argument("--bias-scale", type=bias_scale, default=None,
                       help="biases U(+-b); 'tied' = the magnitude (the public code); default 1")
    group.add_argument("--magnitudes", type=float, nargs="+", default=None, help="default " + " ".join(
        f"{m:g}" for m in defaults.magnitudes))
    group.add_argument("--depths", type=int, nargs="+", default=None, help="default 1 .. 7")
    group.add_argument("--activations", nargs="+", default=None, help="default " + " ".join(defaults.activations))
    group.add_argument("--metrics", nargs="+", default=None, help="default: every metric of metrics.METRICS")


def given_settings(args) -> dict:
    names = [*SWEEP_OPTIONS, "bias_scale", "magnitudes", "depths", "activations", "metrics"]
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def resolve_device(option: str) -> str:
    if option == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if option == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda: torch sees no CUDA device on this machine")
    return option


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m redshift.report", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="regenerate the report folder (index.md, figures, sweep.json)")
    build.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"report folder (default {DEFAULT_OUT})")
    build.add_argument("--results-json", type=Path, default=Path("reports/results.json"),
                       help="the claims results of a pytest run (default reports/results.json)")
    build.add_argument("--run-claims", action="store_true",
                       help="first run `python -m pytest cases -q` to (re)write --results-json")
    build.add_argument("--sections", type=lambda text: text.split(","), default=None,
                       help="comma-separated report sections to build (default: every registered one)")
    compare = sub.add_parser("compare", help="where does a new architecture sit among the zoo?")
    compare.add_argument("architecture", help="a YAML file with NetworkSpec fields, or package.module:factory")
    compare.add_argument("--own-init", action="store_true",
                         help="keep the factory's own initialisation (re-run per sample) instead of re-drawing weights")
    compare.add_argument("--zoo", type=Path, default=DEFAULT_OUT / SWEEP_JSON,
                         help=f"the zoo sweep to compare with (default {DEFAULT_OUT / SWEEP_JSON}, written by build; "
                              f"computed and saved there when missing)")
    compare.add_argument("--out", type=Path, default=None, help="output folder (default reports/compare/<name>)")
    for sp, note in ((build, "what the report measures"),
                     (compare, "only when the zoo file does not exist yet; otherwise its settings are used")):
        sp.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
        sp.add_argument("--quiet", action="store_true", help="no progress line")
        add_sweep_options(sp, note)
    return p


def run_build(args, command: str) -> int:
    start = time.perf_counter()
    if args.run_claims:
        claims = [sys.executable, "-m", "pytest", "cases", "-q", "-p", "no:cacheprovider",
                  f"--report-json={args.results_json}"]
        print("report: running the claims:", shlex.join(claims), file=sys.stderr)
        subprocess.run(claims, cwd=ROOT, check=False)
    ctx = ReportContext(out=args.out, settings=SweepSettings(**given_settings(args)), device=resolve_device(args.device),
                        results_json=args.results_json, show_progress=not args.quiet)
    index = build_report(ctx, sections(args.sections), command=command)
    print(f"report: {index} ({time.perf_counter() - start:.0f} s)")
    return 0


def load_zoo(args) -> Sweep:
    given = given_settings(args)
    if args.zoo.exists():
        zoo = Sweep.read(args.zoo)
        differing = [k for k, v in given.items() if getattr(zoo.settings, k) != (tuple(v) if isinstance(v, list) else v)]
        if differing:
            raise SystemExit(f"error: {args.zoo} was measured with other settings ({', '.join(differing)} differ); rebuild it "
                             f"with them (python -m redshift.report build ...) or pass --zoo with a new path")
        return zoo
    print(f"report: {args.zoo} does not exist: measuring the zoo first", file=sys.stderr)
    zoo = run_sweep(SweepSettings(**given), resolve_device(args.device), not args.quiet)
    zoo.write(args.zoo)
    return zoo


def run_compare(args, command: str) -> int:
    zoo = load_zoo(args)
    try:
        architecture = load_architecture(args.architecture, zoo.settings, args.own_init)
        comparison = measure_architecture(architecture, zoo, resolve_device(args.device), not args.quiet)
    except ArchitectureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in architecture.name)
    out = args.out or Path("reports") / "compare" / (safe + ("-own_init" if args.own_init else ""))
    _, summary = compare_report(comparison, out, str(args.zoo), command)
    print("\n".join(summary))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    command = shlex.join(["python", "-m", "redshift.report", *argv])
    try:
        return run_build(args, command) if args.command == "build" else run_compare(args, command)
    except ValueError as exc:  # bad sweep settings
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
