"""Mutation check of the claim kinds: does some test notice when a comparison of
redshift/claims/kinds.py is wrong?

    python tests/mutation.py            # the threshold checks (CI: tests/test_mutation.py, ~1 min)
    python tests/mutation.py --all      # every comparison of the module, layout readers included
    python tests/mutation.py --list     # the chosen mutants, without running them

Each mutant changes ONE node of the module's syntax tree (an ``ast.NodeTransformer``):

- a comparison operator flipped to its negation (``<`` -> ``>=``, ``in`` -> ``not in``, ``==`` -> ``!=``),
  one operator of a chain at a time;
- a comparison replaced by ``True`` (a threshold test that always passes);
- ``and`` <-> ``or``, and the non-short-circuit ``&`` of verdicts (``ok &= ...``, ``a & b``) -> ``|``.

The default set (deterministic: chosen by what a node is, not by chance) is every threshold check of
the verdict functions (``_effect_checks``, ``_less`` and the ``evaluate_*``): each node that compares
with, or combines comparisons with, a threshold or an interval end (THRESHOLD_NAMES), ~40 mutants.
--all adds the rest: the flagged-output rule, the ``in`` / ``not in`` tests of which thresholds a
claim gives (a flipped one raises KeyError at once) and the layout readers' comparisons, run against
the schema tests too (~100 mutants, a few minutes).

The mutant's source is written to a temporary copy of kinds.py; a forked child of this process (which
has numpy, scipy, torch and pytest imported once, but nothing of redshift.claims) loads that copy as
``redshift.claims.kinds`` and runs pytest with ``-x`` on the kind tests (tests/test_kinds.py,
tests/test_evaluate.py) that exercise the mutated function (``-k`` its kind: a mutant of
``evaluate_flat`` can change only flat verdicts). A mutant survives when they all pass. The unmutated
module is run first the same way: it must pass, or every mutant would look killed.

Hand-rolled rather than mutmut: mutmut rewrites the source tree in place (others work in this tree at
the same time), runs the whole suite per mutant unless configured per test, and needs its own
install; here the mutants, the tests per mutant and the time are ours to choose. A fork per mutant
costs ~1 s of pytest start-up instead of ~5 s to start Python, import torch and collect.

Exit status 0 when no mutant survives, 1 otherwise (the survivors are listed), 2 when the unmutated
module fails its own tests.
"""
import argparse
import ast
import importlib.util
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "redshift" / "claims" / "kinds.py"
MODULE = "redshift.claims.kinds"
#: The verdict code: the functions that turn measurements into pass / fail (the default, CI subset).
VERDICT_FUNCTIONS = ("_usable", "_effect_checks", "_less", "evaluate_ordered", "evaluate_flat", "evaluate_near",
                     "evaluate_bounded", "evaluate_invariant", "evaluate_agreement", "evaluate_interaction")
#: Names that hold a threshold or the interval end compared with it, in the verdict functions: a node
#: mentioning one is a threshold check (the default set); the others (the flagged-output rule, the
#: agreement's count of defined configurations, which thresholds are given) run with --all.
THRESHOLD_NAMES = {"need", "bound", "alpha", "thresholds", "low", "high", "lo", "hi", "r", "d", "effect_ok"}
TESTS = ["tests/test_kinds.py", "tests/test_evaluate.py"]
LAYOUT_TESTS = TESTS + ["tests/test_case_schema.py"]
#: -k selection of the tests that can see a mutant of each verdict function (others: all of LAYOUT_TESTS)
SELECT = {"_usable": "less or increasing or ordering", "_effect_checks": "less or increasing or ordering",
          "_less": "less or increasing or ordering", "evaluate_ordered": "less or increasing or ordering",
          "evaluate_flat": "flat", "evaluate_near": "near", "evaluate_bounded": "bounded",
          "evaluate_invariant": "invariant", "evaluate_agreement": "agreement", "evaluate_interaction": "interaction"}
FLIP = {ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
        ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
SYMBOL = {ast.Lt: "<", ast.GtE: ">=", ast.Gt: ">", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
          ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}
TIMEOUT_S = 120  # per mutant: a mutant that hangs counts as killed (its tests never pass)


@dataclass(frozen=True)
class Mutant:
    """One change: the ``site``-th mutable node of the tree (in ``ast.walk`` order), how it changes."""

    site: int
    how: str  # "flip:<operator index>", "true", "boolop", "bitand"
    line: int
    function: str
    description: str

    membership: bool = False  # an in / not in test (which thresholds are given), or and/or of them
    threshold: bool = False  # mentions a threshold or an interval end (THRESHOLD_NAMES)

    @property
    def default(self) -> bool:
        """In the default (CI) set: a threshold check of a verdict function (not a membership test)."""
        return self.function in VERDICT_FUNCTIONS and self.threshold and not self.membership

    def pytest_args(self) -> list[str]:
        if self.function in SELECT:
            return ["-k", SELECT[self.function], *TESTS]
        return list(LAYOUT_TESTS)

    def __str__(self) -> str:
        return f"kinds.py:{self.line} in {self.function}: {self.description}"


def _sites(tree: ast.AST) -> list[ast.AST]:
    """The mutable nodes: comparisons, and/or, and the & of verdicts, in a fixed order."""
    return [node for node in ast.walk(tree)
            if isinstance(node, (ast.Compare, ast.BoolOp))
            or (isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.BitAnd))]


def _functions(tree: ast.AST) -> dict[int, str]:
    """id(node) -> name of the innermost function holding it ('<module>' outside any)."""
    names: dict[int, str] = {}

    def visit(node, name):
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else name
            names[id(child)] = inner
            visit(child, inner)
    visit(tree, "<module>")
    return names


def mutants(source: str) -> list[Mutant]:
    tree = ast.parse(source)
    functions = _functions(tree)
    found = []
    for site, node in enumerate(_sites(tree)):
        compares = [node] if isinstance(node, ast.Compare) else [v for v in getattr(node, "values", [])
                                                                 if isinstance(v, ast.Compare)]
        membership = bool(compares) and all(isinstance(op, (ast.In, ast.NotIn)) for c in compares for op in c.ops) \
            and (isinstance(node, ast.Compare) or len(compares) == len(node.values))
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
            n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
        where = dict(site=site, line=node.lineno, function=functions.get(id(node), "<module>"), membership=membership,
                     threshold=bool(names & THRESHOLD_NAMES))
        text = ast.unparse(node)
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                flipped = FLIP.get(type(op))
                if flipped:
                    found.append(Mutant(how=f"flip:{i}", description=f"{text}  [{SYMBOL[type(op)]} -> "
                                                                     f"{SYMBOL[flipped]}]", **where))
            found.append(Mutant(how="true", description=f"{text}  [-> True]", **where))
        elif isinstance(node, ast.BoolOp):
            other = "or" if isinstance(node.op, ast.And) else "and"
            found.append(Mutant(how="boolop", description=f"{text}  [-> {other}]", **where))
        else:
            found.append(Mutant(how="bitand", description=f"{text}  [& -> |]", **where))
    return found


class _Mutate(ast.NodeTransformer):
    def __init__(self, target: ast.AST, how: str):
        self.target, self.how = target, how

    def visit(self, node):
        if node is not self.target:
            return self.generic_visit(node)
        if self.how.startswith("flip:"):
            i = int(self.how.split(":")[1])
            node.ops[i] = FLIP[type(node.ops[i])]()
            return node
        if self.how == "true":
            return ast.copy_location(ast.Constant(True), node)
        if self.how == "boolop":
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            return node
        node.op = ast.BitOr()
        return node


def mutated_source(source: str, mutant: Mutant) -> str:
    tree = ast.parse(source)
    target = _sites(tree)[mutant.site]
    tree = ast.fix_missing_locations(_Mutate(target, mutant.how).visit(tree))
    return ast.unparse(tree)


def _prepare() -> None:
    """Import the heavy third-party modules once, before forking (none of redshift.claims)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.path.insert(0, str(ROOT))
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    import scipy.stats  # noqa: F401
    import torch  # noqa: F401
    import yaml  # noqa: F401

    import redshift.metrics.lempel_ziv  # noqa: F401
    import redshift.transformers.sequence_metrics  # noqa: F401
    assert MODULE not in sys.modules, "the parent must not import the module under test"


def _child(module_path: Path, tests: list[str]) -> int:
    """In the forked child: load the mutant as redshift.claims.kinds, run the tests quietly."""
    import pytest

    spec = importlib.util.spec_from_file_location(MODULE, module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE] = module
    spec.loader.exec_module(module)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    # no third-party plugins and no conftest: the kind tests need neither (this saves ~1 s a mutant)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", "--noconftest", "-W", "ignore",
                            "--rootdir", str(ROOT), *tests]))


def _start(source: str, tests: list[str], folder: Path, name: str) -> int:
    """Fork a child that runs ``tests`` against ``source`` as the module; its pid."""
    module_path = folder / name / "kinds.py"
    module_path.parent.mkdir()
    module_path.write_text(source, encoding="utf-8")
    pid = os.fork()
    if pid == 0:  # the child never returns into the caller
        status = 3
        try:
            os.chdir(ROOT)
            status = _child(module_path, tests)
        finally:
            os._exit(status)
    return pid


def run_all(jobs: list[tuple[str, str, list[str]]], folder: Path, parallel: int, report) -> dict[str, int | None]:
    """Run (name, source, pytest args) jobs, ``parallel`` children at a time; name -> the tests' exit
    status (None: ran past TIMEOUT_S, killed). ``report(name, status, seconds)`` as each ends."""
    pending, running, results = list(jobs), {}, {}
    while pending or running:
        while pending and len(running) < parallel:
            name, source, tests = pending.pop(0)
            running[_start(source, tests, folder, name)] = (name, time.perf_counter())
        for pid, (name, started) in list(running.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if not done and time.perf_counter() - started > TIMEOUT_S:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                done, status = pid, None
            if done:
                del running[pid]
                results[name] = None if status is None else os.waitstatus_to_exitcode(status)
                report(name, results[name], time.perf_counter() - started)
        time.sleep(0.02)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="every comparison, the layout readers' and the "
                                                           "threshold membership tests too")
    parser.add_argument("--list", action="store_true", help="list the chosen mutants and exit")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    args = parser.parse_args(argv)
    source = TARGET.read_text(encoding="utf-8")
    chosen = [m for m in mutants(source) if args.all or m.default]
    if args.list:
        print("\n".join(map(str, chosen)))
        return 0
    _prepare()
    start = time.perf_counter()
    print(f"mutation: {len(chosen)} mutants of {TARGET.relative_to(ROOT)} "
          f"({'all' if args.all else 'the threshold checks; --all for every comparison'}), "
          f"{args.jobs} at a time", flush=True)
    by_name = {f"m{i}": m for i, m in enumerate(chosen)}

    def report(name, status, seconds):
        if name in by_name:
            verdict = "SURVIVED" if status == 0 else "killed" if status is not None else "killed (timeout)"
            print(f"  {verdict:<8} {seconds:5.1f} s  {by_name[name]}", flush=True)
    with tempfile.TemporaryDirectory(prefix="kinds-mutants-") as tmp:
        # the unmutated module first in the queue, beside the first mutant: it must pass its tests, or
        # every mutant would look killed
        jobs = [("original", source, LAYOUT_TESTS if args.all else TESTS)]
        jobs += [(name, mutated_source(source, m), m.pytest_args()) for name, m in by_name.items()]
        results = run_all(jobs, Path(tmp), max(1, args.jobs), report)
    if results.pop("original") != 0:
        print("mutation: the unmutated kinds.py fails its own tests: fix them first (the mutants say nothing)")
        return 2
    survivors = [by_name[name] for name, status in sorted(results.items(), key=lambda r: int(r[0][1:]))
                 if status == 0]
    print(f"mutation: {len(chosen) - len(survivors)} of {len(chosen)} killed, {len(survivors)} survived "
          f"({time.perf_counter() - start:.0f} s)")
    for mutant in survivors:
        print(f"SURVIVOR {mutant}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
