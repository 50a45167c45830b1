"""pytest plugin (loaded by the ``pytest11`` entry point on install): every claim of a case file becomes
one test item per metric.

Case files are the YAML files named on the command line, and, when pytest searches folders, those
matching the ini option ``redshift_cases`` (globs relative to the rootdir; default ``cases/*.yaml``).
Items are named ``<claim-id>[<metric>]`` under their case file, e.g.
``cases/activations.yaml::sine-complex-at-high-magnitude[lz]``, so ``-k "sine and lz"`` works and
ids stay stable across commits. A malformed case file (or any exception while reading or validating
it) fails collection with one line naming the file, the claim and the field: pytest's exit status for
collection errors (2; 1 under xdist), nothing run, no traceback unless --full-trace.

Options are ``--redshift-device``, ``--redshift-seed``, ``--redshift-samples``, ``--redshift-tier`` and
``--redshift-report-json``: namespaced, so they cannot clash with another plugin's or a project's own
``--device`` / ``--seed``. (This repository's conftest.py adds the short forms ``--device`` etc.)
"""
import fnmatch
import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

from redshift.claims.kinds import KINDS
from redshift.claims.measure import Measurer
from redshift.claims.results import ClaimsReport, plain
from redshift.claims.schema import CaseFileError, load_case_file
from redshift.core import resolve_device
from redshift.seeding import MASTER_SEED, derive_seed

DEFAULT_SAMPLES = {"ci": 32, "full": 128}  # networks per configuration, by tier
DEFAULT_CASES = ["cases/*.yaml", "cases/*.yml"]
#: option name -> (argparse keywords): registered as --redshift-<name>, read as config.getoption("redshift_<name>")
OPTIONS = {
    "device": dict(default="auto", help="where networks are evaluated and metrics computed: auto (cuda if "
                                        "available), cpu, cuda or cuda:<index>"),
    "samples": dict(type=int, default=None, help="random networks per configuration for claims that do not "
                                                 f"state it (default {DEFAULT_SAMPLES['ci']}; "
                                                 f"{DEFAULT_SAMPLES['full']} with tier full)"),
    "seed": dict(type=int, default=MASTER_SEED, help=f"master seed (default {MASTER_SEED})"),
    "tier": dict(choices=("ci", "full"), default="ci",
                 help="ci: fast settings; full: the paper-sized settings and the full-only claims"),
    "report_json": dict(default=os.path.join("reports", "results.json"),
                        help="where the claims' numbers are written (relative to the rootdir); '' disables"),
}
measurer_key = pytest.StashKey[Measurer]()


def add_options(group, prefix: str) -> None:
    """The claims options as ``--<prefix><name>`` (dest ``redshift_<name>``): the plugin registers
    prefix 'redshift-'; a project may add short aliases with prefix ''."""
    for name, kwargs in OPTIONS.items():
        group.addoption(f"--{prefix}{name.replace('_', '-')}", dest=f"redshift_{name}", **kwargs)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser.getgroup("redshift", "neural-redshift-bench claims"), "redshift-")
    parser.addini("redshift_cases", type="linelist", default=DEFAULT_CASES,
                  help="globs (relative to the rootdir) of the case files collected when pytest searches folders")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "claim: a claim collected from a case file")
    tier = config.getoption("redshift_tier")
    if config.getoption("redshift_samples") is None:
        config.option.redshift_samples = DEFAULT_SAMPLES[tier]
    samples = config.getoption("redshift_samples")
    if samples <= 0:
        raise pytest.UsageError(f"--redshift-samples: expected a positive integer, got {samples}")
    device = config.getoption("redshift_device")
    worker = getattr(config, "workerinput", {}).get("workerid")  # pytest-xdist: "gw3"
    if device != "auto" or worker is not None:
        # an explicit device is checked now, and an xdist worker takes its own GPU (cuda:(i mod count));
        # otherwise auto is resolved when the first subject is sampled (asking for a GPU imports torch)
        try:
            device = resolve_device(device, int(worker[2:]) if worker else None)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
    measurer = config.stash[measurer_key] = Measurer(config.getoption("redshift_seed"), device)
    report = ClaimsReport(seed=config.getoption("redshift_seed"), measurer=measurer, tier=tier, samples=samples,
                          json_path=config.getoption("redshift_report_json"), rootpath=config.rootpath,
                          is_worker=hasattr(config, "workerinput"))
    config.pluginmanager.register(report, "redshift-claims-report")


def is_case_file(file_path, parent) -> bool:
    """A YAML file named on the command line, or one matching ``redshift_cases`` under the rootdir."""
    if file_path.suffix not in (".yaml", ".yml"):
        return False
    if parent.session.isinitpath(file_path):
        return True
    config = parent.config
    if not file_path.is_relative_to(config.rootpath):
        return False
    relative = file_path.relative_to(config.rootpath).as_posix()
    return any(fnmatch.fnmatch(relative, pattern) for pattern in config.getini("redshift_cases"))


def pytest_collect_file(file_path, parent):
    if is_case_file(file_path, parent):
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFile(pytest.File):
    """A case file: one item per (claim, metric)."""

    def collect(self):
        config = self.config
        tier = config.getoption("redshift_tier")
        for claim in load_case_file(self.path, self._display(), tier, config.getoption("redshift_samples")):
            for expectation in claim.expectations:
                item = ClaimItem.from_parent(self, name=f"{claim.id}[{expectation.metric}]",
                                             claim=claim, expectation=expectation)
                if claim.tier == "full" and tier == "ci":
                    item.add_marker(pytest.mark.skip(reason="full-tier claim; run with --redshift-tier full"))
                if expectation.xfail:
                    item.add_marker(pytest.mark.xfail(strict=expectation.strict, reason=expectation.xfail))
                yield item

    def repr_failure(self, excinfo, style=None):
        """One line naming the file (and the claim and field, where known), for any exception: the
        schema turns every problem into a CaseFileError; anything else is still one line, unless
        --full-trace asks for the traceback. pytest's collect phase takes no ``style`` argument."""
        if isinstance(excinfo.value, CaseFileError):
            return OneLine(str(excinfo.value))
        if self.config.getoption("fulltrace", False):
            return super().repr_failure(excinfo)
        message = " ".join(str(excinfo.value).split())
        return OneLine(f"{self._display()}: {type(excinfo.value).__name__}: {message} "
                       f"(while collecting; --full-trace shows the traceback)")

    def _display(self) -> str:
        rootpath = self.config.rootpath
        return self.path.relative_to(rootpath).as_posix() if self.path.is_relative_to(rootpath) else str(self.path)


class OneLine:
    """A collection error shown as one line, in the ERRORS section and (as ``reprcrash.message``) in
    the short test summary, so that ``--tb=no`` and ``-q`` runs still show what is wrong."""

    def __init__(self, line: str):
        self.line = line
        self.reprcrash = SimpleNamespace(message=line)

    def toterminal(self, tw) -> None:
        tw.line(self.line, red=True, bold=True)

    def __str__(self) -> str:
        return self.line


class ClaimFailed(AssertionError):
    pass


class ClaimInconclusive(ClaimFailed):
    """A premise of the claim failed: the item fails (unless xfail) and is reported INCONCLUSIVE, never PASS."""


class ClaimItem(pytest.Item):
    """One claim checked on one metric (or metric pair, for ``agreement``)."""

    def __init__(self, *, claim, expectation, **kwargs):
        super().__init__(**kwargs)
        self.claim = claim
        self.expectation = expectation
        self.user_properties.append(("claim", json.dumps({
            "id": self.nodeid, "kind": claim.kind, "metric": expectation.metric, "claim": claim.text,
            "source": claim.source, "provenance": claim.provenance})))
        self.add_marker(pytest.mark.claim)

    def runtest(self) -> None:
        config = self.config
        measurer = config.stash[measurer_key]
        claim = self.claim
        kind = KINDS[claim.kind]
        samples = claim.samples or config.getoption("redshift_samples")
        seed_key = claim.uid if kind.paired else None  # paired claims share their networks
        seen = {}

        def measure(subject, metric):
            m = measurer.measure(subject, metric, samples, claim.resolution, claim.dtype, seed_key)
            seen[m.config, metric] = m
            return m

        rng = np.random.default_rng(derive_seed(config.getoption("redshift_seed"), self.nodeid))
        premise_lines, premise_failed = [], False
        for premise in claim.premises:  # every premise of every metric: a claim stands on all of them
            for expectation in premise.expectations:
                premise_rng = np.random.default_rng(derive_seed(config.getoption("redshift_seed"), premise.uid,
                                                                expectation.metric))
                result = evaluate(premise, expectation, measure, premise_rng)
                premise_lines += [f"premise {premise.text or premise.id}[{expectation.metric}]: {line}"
                                  for line in result.lines]
                premise_failed |= not result.passed
        verdict = evaluate(claim, self.expectation, measure, rng)
        verdict.inconclusive = premise_failed
        lines = premise_lines + verdict.lines
        self.user_properties.append(("measurements", json.dumps(
            [_measurement_record(m) for m in seen.values()], allow_nan=False)))
        self.user_properties.append(("verdict", json.dumps(plain(
            {"passed": verdict.passed and not verdict.inconclusive, "inconclusive": verdict.inconclusive,
             "lines": lines, "checks": verdict.numbers}), allow_nan=False)))
        if verdict.inconclusive:
            raise ClaimInconclusive("INCONCLUSIVE: a premise failed, so the claim's own checks say nothing\n"
                                    + "\n".join(lines))
        if not verdict.passed:
            raise ClaimFailed("\n".join(lines))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ClaimFailed):
            header = f"{self.claim.kind} claim: {self.claim.text}".strip() if self.claim.text else self.claim.kind
            return f"{header}\n{excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, 0, self.name


def evaluate(claim, expectation, measure, rng):
    """The claim kind's verdict; one without a single check proves nothing, so it fails."""
    verdict = KINDS[claim.kind].evaluate(claim, expectation, measure, rng)
    if not verdict.lines:
        verdict.check(False, f"no check was made: kind {claim.kind!r} found nothing to compare "
                             f"({sum(map(len, claim.groups))} subjects)")
    return verdict


def _measurement_record(m) -> dict:
    """Plain-data summary of one subject x metric (sent across xdist workers, written to JSON), keyed by
    what was sampled (``config``) and the metric, with the full spec."""
    record = {"key": f"{m.config}:{m.metric}", "config": m.config, "source": m.subject.source, "spec": m.subject.mapping,
              "label": m.label, "metric": m.metric, "setting": m.setting, "n": int(len(m.values)), "flagged": m.flagged}
    if m.summary is not None:
        record.update(median=m.summary.median, low=m.summary.low, high=m.summary.high)
    return plain(record)
