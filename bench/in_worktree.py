"""Run ``python -m MODULE ARGS`` on the code of another checkout (a ``git worktree``), in this environment:

    python bench/in_worktree.py WORKTREE -m pytest bench --benchmark-enable ...

``python -m bench.history run`` starts each commit's ``pytest bench`` through this script, with the
worktree as the current directory. Nothing is installed (like ``asv run -E existing``), and so the
project's editable install still points at the main checkout: setuptools' editable finder maps the
packages it installed (``redshift`` -> <main>/redshift, ``redshift.metrics`` -> <main>/metrics, the
``package-dir`` of pyproject.toml) on ``sys.meta_path``. A plain ``python -m pytest`` in the worktree
would import ``redshift`` from the worktree but ``redshift.metrics`` from the main checkout.

This script makes WORKTREE's code the code that runs: WORKTREE replaces the script's folder as
``sys.path[0]`` (where ``python -m`` would put the current directory), and a finder placed ahead of
all others maps every package of WORKTREE's own ``[tool.setuptools] package-dir`` to WORKTREE's
folder (a ``""`` entry, a src layout, goes on ``sys.path`` instead). Then MODULE runs as __main__.
The parent also puts WORKTREE on PYTHONPATH, so that subprocesses import WORKTREE's top-level
packages too (but not the package-dir mappings, which only this finder knows).
"""
from __future__ import annotations

import importlib.util
import runpy
import sys
from pathlib import Path


def package_dirs(root: Path) -> dict[str, str]:
    """``[tool.setuptools] package-dir`` of root/pyproject.toml ({} without one)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: no TOML reader in the standard library
        print("in_worktree: Python < 3.11 cannot read pyproject.toml: package-dir mappings not applied",
              file=sys.stderr)
        return {}
    try:
        config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return dict(config.get("tool", {}).get("setuptools", {}).get("package-dir", {}))


class WorktreePackages:
    """A meta path finder: package name -> the folder under the worktree that pyproject.toml maps it to."""

    def __init__(self, root: Path, mapping: dict[str, str]):
        self.folders = {name: root / folder for name, folder in mapping.items() if name}

    def find_spec(self, fullname, path=None, target=None):
        folder = self.folders.get(fullname)
        if folder is None or not (folder / "__init__.py").is_file():
            return None
        return importlib.util.spec_from_file_location(fullname, folder / "__init__.py",
                                                      submodule_search_locations=[str(folder)])


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "-m":
        sys.exit("usage: python bench/in_worktree.py WORKTREE -m MODULE [ARGS...]")
    root = Path(argv[0]).resolve()
    mapping = package_dirs(root)
    sys.path[0] = str(root)
    if mapping.get(""):
        sys.path.insert(0, str(root / mapping[""]))
    sys.meta_path.insert(0, WorktreePackages(root, mapping))
    sys.argv = [argv[2], *argv[3:]]
    runpy.run_module(argv[2], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
