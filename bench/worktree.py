"""``python -m bench.history run REV_RANGE``: time every commit of a range, each in a temporary worktree.

For each commit of the range, oldest first (bench/commits.py ``range_commits``: ``A..B`` is A and then
``git rev-list --reverse A..B``, so that the first commit has its baseline): ``git worktree add --detach``
into a temporary folder, then, with that folder as the current directory and this environment
(nothing is installed; bench/in_worktree.py makes the worktree's code the code imported),

    python -m pytest bench --benchmark-enable --benchmark-autosave --benchmark-save-data
        --benchmark-storage file://<history> -p no:cacheprovider [-k EXPR] [--tier T] [PYTEST_ARGS]

so that pytest-benchmark stores the run itself, under <history>/<machine id>/. The worktree is removed
whatever happens (try/finally). A commit is failed when that command exits non-zero or stores no run
of that commit (an older commit whose bench/ lacks an option, a broken commit, a -k selecting
nothing): any partial run file it stored is removed, and a record with the commit, the exit status
and the last OUTPUT_TAIL lines of its output is written to <history>/<machine id>/failed/<commit>.json;
the range goes on. A later successful run of the commit removes its failed record.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bench import commits, history

IN_WORKTREE = Path(__file__).resolve().with_name("in_worktree.py")
OUTPUT_TAIL = 40


@dataclass(frozen=True)
class Outcome:
    commit: str
    ok: bool
    stored: Path   # the run file, or the failed-commit record
    detail: str

    def summary(self) -> str:
        return f"{self.commit[:12]}  {'stored' if self.ok else 'FAILED'}  {self.detail}  ({self.stored})"


def check_writable(directory: Path) -> None:
    """Create ``directory`` if needed and check that a file can be created in it (an unnamed temporary
    file: nothing is left behind); OSError naming the folder otherwise."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=directory):
        pass


def pytest_command(worktree: Path, storage: Path, keyword: str | None, tier: str | None,
                   pytest_args: list[str]) -> list[str]:
    """The timing command of one commit (module docstring), through bench/in_worktree.py."""
    command = [sys.executable, str(IN_WORKTREE), str(worktree), "-m", "pytest", "bench", "--benchmark-enable",
               "--benchmark-autosave", "--benchmark-save-data", f"--benchmark-storage=file://{storage}",
               "-p", "no:cacheprovider"]
    command += ["-k", keyword] if keyword else []
    command += ["--tier", tier] if tier else []
    return command + list(pytest_args)


def session_env(worktree: Path) -> dict[str, str]:
    """This environment for a commit's own pytest session: the worktree first on PYTHONPATH, and
    without the variables of an enclosing pytest-xdist worker (pytest-benchmark disables timing when
    it sees PYTEST_XDIST_WORKER)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_") and k != "PYTEST_CURRENT_TEST"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(worktree), os.environ.get("PYTHONPATH")]))
    return env


def stream(command: list[str], cwd: Path, env: dict) -> tuple[int, str]:
    """Run ``command``, echoing its output (stdout and stderr) as it comes; (exit status, last lines)."""
    tail: deque[str] = deque(maxlen=OUTPUT_TAIL)
    with subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace") as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            tail.append(line)
    sys.stdout.flush()
    return proc.returncode, "".join(tail)


def runs_of(paths: set[Path], commit: str) -> list[Path]:
    """The run files among ``paths`` whose commit_info.id is ``commit`` (another process may be saving
    runs of other commits into the same storage at the same time)."""
    return sorted(p for p in paths if history.load_run(p).commit == commit)


def remove_worktree(repo: Path, worktree: Path) -> None:
    """``git worktree remove --force``; if git cannot, delete the folder and prune git's record of it."""
    try:
        commits.git(repo, "worktree", "remove", "--force", str(worktree))
    except commits.GitError:
        shutil.rmtree(worktree, ignore_errors=True)
        commits.git(repo, "worktree", "prune")


def run_commit(repo: Path, commit: str, storage: Path, keyword: str | None, tier: str | None,
               pytest_args: list[str]) -> Outcome:
    """Time one commit in a temporary worktree and store its run or its failed record."""
    stored_before = set(storage.glob(f"*/{history.RUN_GLOB}"))
    started = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory(prefix="bench-worktree-") as scratch:
        worktree = Path(scratch) / "tree"
        commits.git(repo, "worktree", "add", "--detach", "--quiet", str(worktree), commit)
        try:
            env = session_env(worktree)
            print(f"--- bench.history run: {commit[:12]} in {worktree}", flush=True)
            status, tail = stream(pytest_command(worktree, storage, keyword, tier, pytest_args), worktree, env)
        finally:
            remove_worktree(repo, worktree)
    new = runs_of(set(storage.glob(f"*/{history.RUN_GLOB}")) - stored_before, commit)
    if status == 0 and new:
        history.failure_path(storage, commit).unlink(missing_ok=True)
        benchmarks = len(history.load_run(new[-1]).results)
        return Outcome(commit, True, new[-1], f"{benchmarks} benchmarks")
    for path in new:
        path.unlink()  # a partial run of a failing bench: not a history point
    reason = f"exit status {status}" if status else "exit status 0 but no run stored (nothing timed?)"
    record = history.record_failure(storage, commit, status, reason, tail, started)
    return Outcome(commit, False, record, reason)


def run_range(repo: Path, rev_range: str, storage: Path, *, keyword: str | None = None, tier: str | None = None,
              pytest_args: list[str] = ()) -> list[Outcome]:
    """``run_commit`` for every commit of ``rev_range``, oldest first."""
    repo = Path(repo).resolve()
    storage = Path(storage).resolve()
    shas = commits.range_commits(repo, rev_range)
    if not shas:
        raise LookupError(f"{rev_range!r} selects no commits")
    check_writable(storage)
    outcomes = []
    for sha in shas:
        outcomes.append(run_commit(repo, sha, storage, keyword, tier, list(pytest_args)))
        print(f"--- bench.history run: {outcomes[-1].summary()}", flush=True)
    return outcomes
