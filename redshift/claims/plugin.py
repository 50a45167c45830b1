"""pytest plugin: every claim in ``cases/*.yaml`` becomes one test item per metric.

Items are named ``<claim-id>[<metric>]`` under their case file, e.g.
``cases/activations.yaml::sine-complex-at-high-magnitude[lz]``, so ``-k "sine and lz"`` works and
ids stay stable across commits. A malformed case file fails collection with one line.
"""
import os

import numpy as np
import pytest
import torch

from redshift.claims.evaluate import evaluate
from redshift.claims.measure import Measurer
from redshift.claims.report import ClaimsReport
from redshift.claims.schema import CaseFileError, load_case_file
from redshift.claims.stats import summarise
from redshift.seeding import MASTER_SEED, derive_seed

DEFAULT_SAMPLES = {"ci": 32, "full": 128}  # networks per configuration, by tier
measurer_key = pytest.StashKey[Measurer]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("neural-redshift-bench")
    group.addoption("--device", choices=("auto", "cpu", "cuda"), default="auto",
                    help="where networks are evaluated and metrics computed (auto: cuda if available)")
    group.addoption("--samples", type=int, default=None,
                    help="random networks per configuration for claims that do not state it "
                         f"(default {DEFAULT_SAMPLES['ci']}; {DEFAULT_SAMPLES['full']} with --tier full)")
    group.addoption("--seed", type=int, default=MASTER_SEED, help=f"master seed (default {MASTER_SEED})")
    group.addoption("--tier", choices=("ci", "full"), default="ci",
                    help="ci: fast settings; full: the paper-sized settings and the full-only claims")
    group.addoption("--report-json", default=os.path.join("reports", "results.json"),
                    help="where the claims' numbers are written (relative to the rootdir); '' disables")


def resolve_device(option: str) -> str:
    if option == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if option == "cuda" and not torch.cuda.is_available():
        raise pytest.UsageError("--device cuda: torch sees no CUDA device on this machine")
    return option


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "claim: a claim collected from cases/*.yaml")
    if config.getoption("samples") is None:
        config.option.samples = DEFAULT_SAMPLES[config.getoption("tier")]
    if config.getoption("samples") <= 0:
        raise pytest.UsageError(f"--samples: expected a positive integer, got {config.getoption('samples')}")
    device = resolve_device(config.getoption("device"))
    config.stash[measurer_key] = Measurer(config.getoption("seed"), device)
    report = ClaimsReport(seed=config.getoption("seed"), device=device, tier=config.getoption("tier"),
                          samples=config.getoption("samples"), json_path=config.getoption("report_json"),
                          rootpath=config.rootpath, is_worker=hasattr(config, "workerinput"))
    config.pluginmanager.register(report, "redshift-claims-report")


def pytest_collect_file(file_path, parent):
    if file_path.suffix in (".yaml", ".yml") and file_path.parent.name == "cases":
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFile(pytest.File):
    """A ``cases/*.yaml`` file: one item per (claim, metric)."""

    def collect(self):
        tier = self.config.getoption("tier")
        display = self.path.relative_to(self.config.rootpath).as_posix() \
            if self.path.is_relative_to(self.config.rootpath) else str(self.path)
        for claim in load_case_file(self.path, display, tier):
            for expectation in claim.expectations:
                item = ClaimItem.from_parent(self, name=f"{claim.id}[{expectation.metric}]",
                                             claim=claim, expectation=expectation)
                if claim.tier == "full" and tier == "ci":
                    item.add_marker(pytest.mark.skip(reason="full-tier claim; run with --tier full"))
                if expectation.xfail:
                    item.add_marker(pytest.mark.xfail(strict=True, reason=expectation.xfail))
                yield item

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CaseFileError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)


class ClaimFailed(AssertionError):
    pass


class ClaimItem(pytest.Item):
    """One claim checked on one metric (or metric pair, for ``agreement``)."""

    def __init__(self, *, claim, expectation, **kwargs):
        super().__init__(**kwargs)
        self.claim = claim
        self.expectation = expectation
        self.user_properties.append(("claim", {
            "id": self.nodeid, "kind": claim.kind, "metric": expectation.metric, "claim": claim.text,
            "source": claim.source}))
        self.add_marker(pytest.mark.claim)

    def runtest(self) -> None:
        config = self.config
        measurer = config.stash[measurer_key]
        claim = self.claim
        samples = claim.samples or config.getoption("samples")
        seed_key = claim.uid if claim.kind == "invariant" else None  # paired claims share their networks
        seen = {}

        def measure(subject, metric):
            m = measurer.measure(subject, metric, samples, claim.resolution, claim.dtype, seed_key)
            seen[(m.label, metric)] = m
            return m

        rng = np.random.default_rng(derive_seed(config.getoption("seed"), self.nodeid))
        verdict = evaluate(claim, self.expectation, measure, rng)
        self.user_properties.append(("measurements", [_measurement_record(m, config) for m in seen.values()]))
        self.user_properties.append(("verdict", {"passed": verdict.passed, "lines": verdict.lines,
                                                 "checks": _plain(verdict.numbers)}))
        if not verdict.passed:
            raise ClaimFailed("\n".join(verdict.lines))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ClaimFailed):
            header = f"{self.claim.kind} claim: {self.claim.text}".strip() if self.claim.text else self.claim.kind
            return f"{header}\n{excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, 0, self.name


def _measurement_record(m, config) -> dict:
    """Plain-data summary of one subject x metric (sent across xdist workers, written to JSON)."""
    rng = np.random.default_rng(derive_seed(config.getoption("seed"), "summary", m.label, m.metric))
    record = {"architecture": m.label, "metric": m.metric, "setting": m.setting,
              "n": int(len(m.values)), "flagged": m.flagged}
    if len(m.finite):
        s = summarise(m.finite, rng)
        record.update(median=s.median, low=s.low, high=s.high)
    return _plain(record)


def _plain(value):
    """numpy scalars -> Python numbers and non-finite -> None, recursively (xdist and JSON need plain data)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None  # JSON has no NaN / inf
    return value
