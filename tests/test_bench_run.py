"""`python -m bench.history run` and `publish` end to end, on a tiny synthetic git repository whose
bench/ times a sleep: commit 0 has no bench/ (a commit that cannot run the timing command), commits
1 and 2 sleep 2 ms and 6 ms. The sleep length lives in a package that pyproject.toml maps with
package-dir (as this project maps redshift.metrics to metrics/), and a decoy "editable install" of
the same packages, sleeping 30 ms, is on the path, as the main checkout's editable install is: the
runs must time each worktree's own code. Then the published page is rendered by headless Chromium
and its pixels checked (skipped where no chromium binary is installed)."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import history, publish, worktree
from bench.history import main

DECOY_FINDER = '''
import importlib.util, sys
from pathlib import Path
DECOY = Path(__file__).parent / "decoy"
class Decoy:  # like setuptools' editable finder: appended to sys.meta_path, maps package names to folders
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        folder = {"synth": DECOY / "synth", "synth.fast": DECOY / "fast"}.get(name)
        if folder:
            return importlib.util.spec_from_file_location(name, folder / "__init__.py",
                                                          submodule_search_locations=[str(folder)])
sys.meta_path.append(Decoy)
'''
KERNEL = "import time\nfrom synth.fast import DELAY\n\n\ndef work():\n    time.sleep(DELAY)\n"
BENCH = ('from synth.kernel import work\n\n\ndef test_work(benchmark):\n    benchmark.extra_info["id"] = "work[sleep]"\n'
         '    benchmark.pedantic(work, rounds=10, iterations=1)\n')


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> dict:
    """The repository, its three commits, and an environment with the decoy install on the path."""
    tmp = tmp_path_factory.mktemp("synthetic")
    repo = tmp / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "bench@example.com")
    git(repo, "config", "user.name", "bench")
    write(repo, {"README.md": "synthetic\n"})
    shas = [commit_all(repo, "no bench yet")]
    write(repo, {"pyproject.toml": '[tool.setuptools]\npackage-dir = {"synth.fast" = "fast"}\n',
                 "synth/__init__.py": "", "synth/kernel.py": KERNEL, "fast/__init__.py": "DELAY = 0.002\n",
                 "bench/test_work.py": BENCH})
    shas.append(commit_all(repo, "work: 2 ms"))
    write(repo, {"fast/__init__.py": "DELAY = 0.006\n"})
    shas.append(commit_all(repo, "work: 6 ms"))
    shim = tmp / "shim"
    write(shim, {"sitecustomize.py": DECOY_FINDER, "decoy/synth/__init__.py": "", "decoy/synth/kernel.py": KERNEL,
                 "decoy/fast/__init__.py": "DELAY = 0.030\n"})
    return {"repo": repo, "shas": shas, "shim": shim, "tmp": tmp}


@pytest.fixture
def decoy_on_path(synthetic, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(synthetic["shim"]))


def test_the_decoy_is_what_a_plain_python_in_a_checkout_imports(synthetic, decoy_on_path):
    """The premise: without bench/in_worktree.py, a checkout's package-dir package comes from the decoy."""
    out = subprocess.run([sys.executable, "-c", "import synth.fast; print(synth.fast.DELAY)"], cwd=synthetic["repo"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0.03"


@pytest.fixture(scope="module")
def ran(synthetic, tmp_path_factory) -> dict:
    """`run` over the whole history (commit 0 fails), with a stale failed record of commit 1."""
    store_dir = synthetic["tmp"] / "history"
    stale = history.failure_path(store_dir, synthetic["shas"][1])
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    env = dict(os.environ, PYTHONPATH=str(synthetic["shim"]))  # bench.history run drops xdist's variables itself
    done = subprocess.run([sys.executable, "-m", "bench.history", "run", "HEAD~2..HEAD", "--repo", str(synthetic["repo"]),
                           "--history", str(store_dir)], cwd=Path(__file__).resolve().parents[1], env=env,
                          capture_output=True, text=True)
    return {"done": done, "store": store_dir, **synthetic}


def test_run_stores_one_run_per_commit_of_the_worktrees_code(ran):
    done, shas = ran["done"], ran["shas"]
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]  # commit 0 failed
    assert "HEAD~2..HEAD: 2 stored, 1 failed" in done.stdout
    loaded = history.load_history(ran["store"])
    assert [r.commit for r in loaded.runs] == shas[1:] and not any(r.dirty for r in loaded.runs)
    medians = [r.results["work[sleep]"].median for r in loaded.runs]
    assert 0.002 <= medians[0] < 0.004 and 0.006 <= medians[1] < 0.009, medians  # never the decoy's 30 ms
    assert all(len(r.results["work[sleep]"].data) == 10 for r in loaded.runs)  # raw rounds stored


def test_a_commit_that_cannot_run_is_recorded_as_failed(ran):
    loaded = history.load_history(ran["store"])
    (failure,) = loaded.failures
    assert failure.commit == ran["shas"][0] and failure.exit_status == 4  # pytest: file or directory not found
    assert "bench" in failure.output_tail and failure.reason == "exit status 4"
    assert not history.failure_path(ran["store"], ran["shas"][1]).exists()  # removed by the successful run


def test_every_worktree_is_removed(ran):
    assert git(ran["repo"], "worktree", "list", "--porcelain").count("worktree ") == 1


def test_the_worktree_is_removed_when_the_run_is_interrupted(synthetic, tmp_path, monkeypatch):
    def interrupted(command, cwd, env):
        assert (cwd / "bench" / "test_work.py").is_file()
        raise KeyboardInterrupt

    monkeypatch.setattr(worktree, "stream", interrupted)
    with pytest.raises(KeyboardInterrupt):
        worktree.run_range(synthetic["repo"], "HEAD~1..HEAD", tmp_path / "history")
    assert git(synthetic["repo"], "worktree", "list", "--porcelain").count("worktree ") == 1


def test_compare_after_run_flags_the_slower_commit(ran, capsys):
    assert main(["compare", "--repo", str(ran["repo"]), "--history", str(ran["store"])]) == 1
    assert "REGRESSION" in capsys.readouterr().out


@pytest.fixture(scope="module")
def site(ran) -> Path:
    out = ran["tmp"] / "site"
    assert main(["publish", "--repo", str(ran["repo"]), "--history", str(ran["store"]), "--out", str(out)]) == 0
    return out / "index.html"


def test_publish_writes_a_self_contained_page(site, ran):
    page = site.read_text()
    for sha in ran["shas"]:
        assert sha[:12] in page
    assert "FAILED (exit status 4)" in page and "work[sleep]" in page and page.count("<svg") == 1
    assert "regression (p = " in page
    assert not re.search(r"<script|<link|<img|<iframe|<object|\bsrc=|url\((?!#)|@import", page)  # url(#id): clip paths
    urls = re.findall(r"https?://", page)
    namespaces = re.findall(r'xmlns(?::\w+)?="https?://', page)  # names, never fetched
    assert len(urls) == len(namespaces) == 2
    assert site.stat().st_mode & 0o777 == 0o666 & ~_umask()


def test_publish_is_deterministic(site, ran, tmp_path):
    again = tmp_path / "again"
    assert main(["publish", "--repo", str(ran["repo"]), "--history", str(ran["store"]), "--out", str(again)]) == 0
    assert (again / "index.html").read_bytes() == site.read_bytes()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(name)), None)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install -y chromium)")
def test_the_page_renders_its_plots_in_a_browser(site, tmp_path):
    image = pytest.importorskip("matplotlib.image")
    shot = tmp_path / "page.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1200,2000",
                    site.as_uri()], check=True, capture_output=True, timeout=120)
    pixels = (image.imread(shot)[:, :, :3] * 255).round().astype(int)

    def near(colour: str):
        rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
        return abs(pixels - rgb).max(axis=2) <= 40

    trend = near(publish.TREND_COLOUR)
    assert trend.sum() > 300, "the trend line is not on the page"
    rows = trend.any(axis=1).nonzero()[0]
    plot = slice(rows[0], rows[-1] + 1)  # the rows the trend spans: inside the axes
    assert near(publish.FAILED_COLOUR)[plot].sum() > 20, "the failed commit's line does not cross the plot"
    assert len({tuple(p) for p in pixels[plot].reshape(-1, 3)}) > 20, "the plot area is blank or uniform"
