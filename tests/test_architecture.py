"""The package's structure: no import cycles, no function-local imports of the project's own modules,
every package listed in pyproject.toml, no private pytest-benchmark API, and a light collection path.

The import graph is read with ``ast`` from the source tree: module-level ``import`` / ``from`` statements
and ``lazy_module("...")`` bindings (they load a module later, but are dependencies all the same), plus
the implicit import of each parent package. A package's ``LazyAttributes`` exports of its own submodules
are not edges: they load after the package, on attribute access.
"""
import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"redshift": ROOT / "redshift", "redshift.metrics": ROOT / "metrics"}


def modules() -> dict[str, Path]:
    """Dotted module name -> source file, for every module of the installed packages."""
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")[: len(module.split(".")) - node.level + (1 if Path(MODULES[module]).name == "__init__.py" else 0)]
    return ".".join(base + ([node.module] if node.module else []))


MODULES = modules()


def project(name: str) -> str | None:
    """The project module a dotted import name refers to (a module, else its package), or None."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports(module: str) -> tuple[set[str], list[str]]:
    """(project modules imported at module level or bound lazily, function-local project imports)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    top, local = set(), []
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    inner = {id(n) for f in functions for n in ast.walk(f) if n is not f}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = resolve(module, node)
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_module":
            if node.args and isinstance(node.args[0], ast.Constant):
                names = [node.args[0].value]
        targets = {project(n) for n in names} - {None, module}
        if not targets:
            continue
        if id(node) in inner and not isinstance(node, ast.Call):
            local.append(f"{MODULES[module].relative_to(ROOT)}:{node.lineno}")
        else:
            top |= targets
    for parent in (module.rsplit(".", k)[0] for k in range(1, module.count(".") + 1)):
        if parent in MODULES:
            top.add(parent)
    return top, local


def test_no_function_local_imports_of_project_modules():
    local = [where for module in MODULES for where in imports(module)[1]]
    assert local == [], local


def test_no_import_cycles():
    graph = {module: imports(module)[0] for module in MODULES}
    cycles, state = [], {}

    def visit(module, path):
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open" and not module.startswith(target + "."):
                cycles.append(path[path.index(target):] + [target] if target in path else [module, target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == [], cycles


def test_every_package_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert set(config["packages"]) == packages


def test_bench_uses_no_private_pytest_benchmark_api():
    hits = [str(p) for p in (ROOT / "bench").rglob("*.py") if "_benchmarksession" in p.read_text()]
    assert hits == []


def test_collecting_a_case_file_imports_neither_torch_nor_scipy():
    code = ("import sys, pytest; pytest.main(['--collect-only', '-q', '-p', 'no:cacheprovider', 'cases/activations.yaml']);"
            "print('HEAVY', sorted(m for m in ('torch', 'scipy.stats', 'numba', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120).stdout
    assert "HEAVY []" in out, out[-2000:]
