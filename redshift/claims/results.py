"""End-of-run summary of the claims: a terminal table and ``reports/results.json``.

Registered as a pytest plugin object; under xdist it runs on the controller, which receives each
item's numbers through ``report.user_properties``. The results file is written atomically (mode 0666
minus the umask); a path that cannot be written stops the run before the first claim (exit status 4),
and a write that fails at the end is one line naming the file, the previous file kept, exit status 3
(never 0 or 1, which would pass stale results on). The summary table shows each measurement's
interval exactly as the evidence lines do (``interval_text``).
"""
import json
import platform
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from redshift.claims.model import Claim
from redshift.core import SOURCES, atomic_write_text, git_commit, lazy_module

torch = lazy_module("torch")


STRICT_XPASS = "[XPASS(strict)]"  # pytest's longrepr of a strict xfail that passed (the run fails)


def _status(report) -> str | None:
    """PASS / FAIL / XFAIL / XPASS / SKIP / ERROR of a claim item, from its final report phase. XPASS:
    a claim marked xfail held (its xfail is strict, so the item and the run fail)."""
    xfailed = hasattr(report, "wasxfail")
    if report.when == "call":
        if report.passed:
            return "XPASS" if xfailed else "PASS"
        if report.skipped:
            return "XFAIL" if xfailed else "SKIP"
        if isinstance(report.longrepr, str) and report.longrepr.startswith(STRICT_XPASS):
            return "XPASS"
        return "FAIL"
    if report.when == "setup" and not report.passed:
        return "SKIP" if report.skipped else "ERROR"
    return None


def _reason(report, status: str) -> str | None:
    """The xfail reason of an XFAIL (or a strict XPASS) item."""
    if status == "XPASS" and isinstance(report.longrepr, str):
        return report.longrepr[len(STRICT_XPASS):].strip() or None
    return getattr(report, "wasxfail", "") or None


def plain(value):
    """numpy scalars -> Python numbers and non-finite -> None, recursively (xdist and JSON need plain data)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None  # JSON has no NaN / inf
    return value


def item_properties(report) -> dict:
    """A claim item's user properties (JSON strings, so that JUnit XML carries JSON) as data."""
    return {name: json.loads(value) for name, value in report.user_properties
            if name in ("claim", "measurements", "verdict")}


def metric_order(records) -> list[str]:
    """The metrics of ``records`` in the order their sources declare them."""
    sources = dict.fromkeys(r["source"] for r in records)
    order = [m for source in sources for m in SOURCES[source].metrics]
    metrics = set(r["metric"] for r in records)
    return sorted(metrics, key=lambda m: (order.index(m) if m in order else len(order), m))


def interval_text(median: float, low: float, high: float) -> str:
    """``median [low, high]`` as every output shows one measurement (redshift.claims.stats.Summary's
    format): the summary table's cell reads exactly as the evidence line does."""
    return f"{median:.4g} [{low:.4g}, {high:.4g}]"


def _cell(record: dict) -> str:
    if record.get("median") is None:
        return "all flagged"
    text = interval_text(record["median"], record["low"], record["high"])
    return text + (f" ({record['flagged']} flagged)" if record["flagged"] else "")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*header), fmt.format(*("-" * w for w in widths))] + [fmt.format(*r) for r in rows]


class ClaimsReport:
    """Collects every claim item's outcome and numbers; prints and saves them at the end."""

    def __init__(self, *, seed: int, measurer, tier: str, samples: int, json_path: str, rootpath: Path,
                 is_worker: bool):
        self.measurer = measurer
        self.settings = {"seed": seed, "tier": tier, "default_samples": samples}
        self.json_path = rootpath / json_path if json_path else None
        self.rootpath = rootpath
        self.is_worker = is_worker
        self.claims: dict[str, dict] = {}
        self.strict_xpasses: set[str] = set()  # node ids of strict xfails that held (they fail the run)
        self.measurements: dict[tuple, dict] = {}
        self.write_error: str | None = None  # why the results file could not be written (one line)

    def _unwritable(self) -> str | None:
        """Why ``json_path`` cannot be written (None: it can), probed by creating a file beside it."""
        folder = self.json_path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if self.json_path.is_dir():
                return "it is a folder"
            with tempfile.TemporaryFile(dir=folder):
                pass
        except (FileExistsError, NotADirectoryError):
            return "a part of its path is a file, not a folder"
        except OSError as exc:
            return exc.strerror or " ".join(str(exc).split())
        return None

    def _where(self) -> str:
        try:
            return self.json_path.relative_to(self.rootpath).as_posix()
        except ValueError:
            return str(self.json_path)

    def pytest_collection_finish(self, session) -> None:
        """Before any claim runs (they take minutes): refuse a results file that cannot be written."""
        if self.is_worker or self.json_path is None or session.config.option.collectonly:
            return
        if not any(isinstance(getattr(item, "claim", None), Claim) for item in session.items):
            return
        problem = self._unwritable()
        if problem:
            pytest.exit(f"{self._where()}: cannot write the claims' results there ({problem}); choose another "
                        f"file with --redshift-report-json PATH ('' writes none)", returncode=pytest.ExitCode.USAGE_ERROR)

    def pytest_runtest_logreport(self, report) -> None:
        properties = item_properties(report)
        status = _status(report)
        if "claim" not in properties or status is None:
            return
        verdict = properties.get("verdict", {})
        if verdict.get("inconclusive") and status == "FAIL":
            status = "INCONCLUSIVE"
        if status == "XPASS" and report.failed:
            self.strict_xpasses.add(report.nodeid)
        self.claims[report.nodeid] = {**properties["claim"], "status": status,
                                      "reason": _reason(report, status),
                                      "evidence": verdict.get("lines", []), "checks": verdict.get("checks", [])}
        for record in properties.get("measurements", []):
            self.measurements[record["key"]] = record

    def architecture_rows(self) -> tuple[list[str], list[list[str]]]:
        """One row per sampled configuration, one column per metric: median [95% interval]."""
        metrics = metric_order(self.measurements.values())
        by_config: dict[str, dict] = {}
        for record in self.measurements.values():
            by_config.setdefault(record["config"], {})[record["metric"]] = record
        shown = [(next(iter(cells.values())), cells) for cells in by_config.values()]
        names = [(r["label"], r["setting"], r["n"]) for r, _ in shown]
        rows = [[r["label"] + (f" #{r['config'][:6]}" if names.count((r["label"], r["setting"], r["n"])) > 1 else ""),
                 r["setting"], str(r["n"]), *(_cell(cells[m]) if m in cells else "" for m in metrics)]
                for r, cells in shown]
        return ["architecture", "setting", "n", *metrics], sorted(rows)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.is_worker or not self.claims:
            return
        write = terminalreporter.write_line
        terminalreporter.section("complexity by architecture (median [95% bootstrap interval])")
        for line in _table(*self.architecture_rows()):
            write(line)
        terminalreporter.section("claims")
        counts: dict[str, int] = {}
        for nodeid, claim in sorted(self.claims.items()):
            counts[claim["status"]] = counts.get(claim["status"], 0) + 1
            write(f"{claim['status']:<6} {nodeid}")
            failing = [line for line in claim["evidence"] if line.startswith("FAIL")
                       or (line.startswith("premise ") and ": FAIL" in line)]
            for line in failing[:3]:
                write(f"         {line}")
            if claim["status"] == "XFAIL" and claim["reason"]:
                write(f"         reason: {claim['reason']}")
            if claim["status"] == "XPASS" and nodeid in self.strict_xpasses:
                write(f"         the claim holds, but it is marked xfail (strict), so the run fails: remove the "
                      f"xfail (reason given: {claim['reason']})")
            elif claim["status"] == "XPASS":
                write(f"         holds under this seed; seed_dependent (not strict, not a pass): {claim['reason']}")
        write(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
        if self.write_error:
            write(self.write_error, red=True, bold=True)

    def pytest_sessionfinish(self, session) -> None:
        if self.is_worker or not self.claims or self.json_path is None:
            return
        device = self.measurer.device
        document = {
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "commit": git_commit(self.rootpath),
            "settings": {**self.settings, "device": device},
            "machine": {"python": platform.python_version(), "torch": torch.__version__,
                        "platform": platform.platform(),
                        "cuda_device": torch.cuda.get_device_name(device) if device.startswith("cuda") else None},
            "measurements": sorted(self.measurements.values(),
                                   key=lambda r: (r["label"], r["setting"], r["n"], r["metric"], r["key"])),
            "claims": [{"id": nodeid, **claim} for nodeid, claim in sorted(self.claims.items())],
        }
        try:
            atomic_write_text(self.json_path, json.dumps(document, indent=1, allow_nan=False, default=str) + "\n")
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or " ".join(str(exc).split())
            self.write_error = (f"{self._where()}: the claims' results were not written ({type(exc).__name__}: "
                                f"{reason}); the previous file, if any, is unchanged")
            if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
                session.exitstatus = pytest.ExitCode.INTERNAL_ERROR  # not 0 or 1: no usable results
