"""The project as a user installs it: a non-editable wheel, used from a folder of its own that has its own
``metrics.py``, a package with a module factory, a case file outside any ``cases/`` folder and no
conftest.py. The claims collect through the installed entry points, a true claim about the user's
module passes, a false one fails with its evidence (exit 1), and ``redshift --version`` works.

A fresh virtualenv with torch takes minutes here, so the wheel is installed with ``pip --target``
and run by this interpreter without its site-packages processing (``-S``: the editable install's
import hook is not loaded) and with PYTHONPATH = target, then this environment's site-packages (torch);
the subprocess checks that the ``redshift`` it runs is the target's.
"""
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from configparser import ConfigParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "redshift", "metrics")

FACTORY = '''
from torch import nn


def relu_mlp(depth=2, width=16):
    """A plain ReLU MLP [P, 2] -> [P, 1]."""
    layers, fan_in = [], 2
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width), nn.ReLU()]
        fan_in = width
    return nn.Sequential(*layers, nn.Linear(fan_in, 1))
'''

CLAIMS = """
defaults:
  samples: 16
  resolution: 24
  module: {factory: "mynets.models:relu_mlp", kwargs: {width: 16}}
claims:
  - id: my-relu-mlp-is-simpler-than-noise
    kind: less
    claim: my ReLU MLP computes simpler functions than white noise
    a: {source: module}
    b: {function: white_noise}
    metrics:
      lz: {min_ratio: 2.0}
  - id: my-relu-mlp-is-as-complex-as-noise
    kind: near
    claim: deliberately false
    subject: {source: module, kwargs: {depth: 3}}
    reference: {function: white_noise}
    metrics:
      lz: {min_ratio: 0.9, max_ratio: 1.1}
"""

RUN = """
import sys
import pytest
import redshift
print("REDSHIFT", redshift.__file__)
status = pytest.main(["checks/my_claims.yaml", "-p", "no:cacheprovider", "--redshift-report-json", ""])
print("PLUGIN", sys.modules["redshift.claims.plugin"].__file__, "SOURCE", sys.modules["redshift.modules.source"].__file__)
sys.exit(status)
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the source tree (the shared working tree stays free of build/)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(base / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    (path,) = (base / "dist").glob("neural_redshift_bench-*.whl")
    return path


def test_the_wheel_declares_the_plugins_and_ships_redshift_metrics(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        config = ConfigParser()
        config.read_string(archive.read(entry_points).decode())
    assert dict(config["pytest11"]) == {"redshift": "redshift.claims.plugin"}
    assert config["console_scripts"]["redshift"] == "redshift.cli:main"
    assert config["redshift.sources"]["module"] == "redshift.modules.source:SOURCE"
    assert {"network", "function", "module"} <= set(config["redshift.sources"])
    assert {"less", "near", "bounded"} <= set(config["redshift.claim_kinds"])
    assert "redshift/metrics/__init__.py" in names and "redshift/modules/sampling.py" in names
    assert not [n for n in names if n.startswith(("metrics/", "tests/", "examples/", "cases/"))]


def test_a_user_repository_with_a_non_editable_install(wheel, tmp_path):
    target = tmp_path / "target"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                                str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]
    project = tmp_path / "project"
    (project / "mynets").mkdir(parents=True)
    (project / "mynets" / "__init__.py").write_text("")
    (project / "mynets" / "models.py").write_text(FACTORY)
    (project / "metrics.py").write_text("raise RuntimeError('the suite imported the user\\'s own metrics.py')\n")
    (project / "checks").mkdir()
    (project / "checks" / "my_claims.yaml").write_text(CLAIMS)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]]),
           "OMP_NUM_THREADS": "1"}

    result = subprocess.run([sys.executable, "-S", "-c", RUN], cwd=project, env=env, capture_output=True, text=True,
                            timeout=300)
    out = result.stdout
    assert result.returncode == 1, out[-4000:] + result.stderr[-2000:]  # the false claim fails, nothing else
    assert f"REDSHIFT {target / 'redshift' / '__init__.py'}" in out
    assert f"PLUGIN {target}" in out and f"SOURCE {target}" in out
    assert "PASS   checks/my_claims.yaml::my-relu-mlp-is-simpler-than-noise[lz]" in out
    assert "FAIL   checks/my_claims.yaml::my-relu-mlp-is-as-complex-as-noise[lz]" in out
    assert "FAIL  mynets.models:relu_mlp(depth=3,width=16)-glorot_uniform(1)" in out  # the evidence line
    assert "1 failed, 1 passed" in out

    script = target / "bin" / "redshift"
    version = subprocess.run([sys.executable, "-S", str(script), "--version"], cwd=project, env=env,
                             capture_output=True, text=True, timeout=120)
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert version.returncode == 0 and version.stdout.strip() == f"neural-redshift-bench {expected}", version.stderr
