"""The docs stay true: generated reference tables up to date, the README a short front door, every
relative link pointing at a file that exists, and no reference to material outside the repository."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "examples").rglob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
#: Texts that point outside the repository (private implementation notes): the project cites papers.
OUTSIDE = re.compile(r"shared/papers|\.\./shared|\bnotes §|\(notes [§A-Z]|; notes [§A-Z]|\bnotes [A-Z]\d")


def test_reference_tables_are_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "reference_tables.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_is_a_front_door():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    for needed in ("pip install", "python -m pytest", "docs/"):
        assert needed in text, needed


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    text = path.read_text(encoding="utf-8")
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a URL or an anchor of the same page
        file = (path.parent / target.split("#")[0]).resolve()
        if not file.exists():
            broken.append(target)
    assert broken == [], f"{path.relative_to(ROOT)}: links to missing files {broken}"


def project_texts():
    for folder in ("redshift", "metrics", "bench", "cases", "docs", "examples", "tests"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".yaml", ".md") and "malformed" not in path.parts and path != Path(__file__):
                yield path
    yield ROOT / "README.md"


def test_nothing_cites_material_outside_the_repository():
    hits = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}" for p in project_texts()
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if OUTSIDE.search(line)]
    assert hits == []
