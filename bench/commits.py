"""Git ancestry for the benchmark history: commit ranges, ancestry order, nearest stored ancestor.

Every question goes to the ``git`` command line of the repository the history describes; a git
error becomes a one-line GitError.
"""
from __future__ import annotations

import subprocess
from collections import deque
from pathlib import Path


class GitError(Exception):
    """A git command failed; the message is one line."""


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    """stdout of ``git -C repo args``; GitError with git's first error line if it fails."""
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, text=True)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}") from None
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[0]
        raise GitError(f"git {' '.join(args)} (in {repo}): {message}")
    return done.stdout


def resolve(repo: Path, rev: str) -> str:
    """The full commit id ``rev`` names."""
    return git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()


def range_commits(repo: Path, rev_range: str) -> list[str]:
    """The commits ``python -m bench.history run`` times, oldest first: for ``A..B``, A itself and then
    ``git rev-list --reverse A..B`` (A is the baseline of the first commit after it, so HEAD~1..HEAD
    times two commits); anything else (``A^!``, ``A...B``, ``--since=...``) exactly as git rev-list
    lists it."""
    listed = git(repo, "rev-list", "--reverse", rev_range, "--").split()
    base, dots, _ = rev_range.partition("..")
    if not dots or rev_range.startswith(".") or "..." in rev_range:
        return listed
    first = resolve(repo, base)
    return [first] + [sha for sha in listed if sha != first]


def known(repo: Path, shas: set[str]) -> set[str]:
    """The commits of ``shas`` that exist in the repository (one ``git cat-file --batch-check``)."""
    ordered = sorted(shas)
    if not ordered:
        return set()
    out = git(repo, "cat-file", "--batch-check=%(objecttype)", stdin="".join(f"{s}\n" for s in ordered))
    return {sha for sha, line in zip(ordered, out.splitlines()) if line.strip() == "commit"}


def ancestry_order(repo: Path, shas: set[str]) -> list[str]:
    """``shas`` (all known to the repository) in ancestry order, oldest first: git's topological order
    (a commit after all of its ancestors; ties by commit date, as ``git rev-list --topo-order``)."""
    if not shas:
        return []
    listed = git(repo, "rev-list", "--topo-order", "--reverse", *sorted(shas), "--").split()
    return [sha for sha in listed if sha in shas]


def nearest_ancestor(repo: Path, sha: str, candidates: set[str]) -> str | None:
    """The candidate nearest to ``sha`` in its ancestry (``sha`` itself at distance 0), by breadth-first
    search over parents in git's order (first parent first), so ties go to the first parent's side.
    None when no candidate is an ancestor."""
    if sha in candidates:
        return sha
    parents = {}
    for line in git(repo, "rev-list", "--parents", sha, "--").splitlines():
        commit, *rest = line.split()
        parents[commit] = rest
    seen, queue = {sha}, deque([sha])
    while queue:
        for parent in parents.get(queue.popleft(), []):
            if parent in seen:
                continue
            if parent in candidates:
                return parent
            seen.add(parent)
            queue.append(parent)
    return None


def subject(repo: Path, shas: list[str]) -> dict[str, str]:
    """commit -> its subject line (one ``git log --no-walk``)."""
    if not shas:
        return {}
    out = git(repo, "log", "--no-walk=unsorted", "--format=%H %s", *shas, "--")
    return dict(line.split(" ", 1) if " " in line else (line, "") for line in out.splitlines())
