"""End-of-run summary of the claims: a terminal table and ``reports/results.json``.

Registered as a pytest plugin object; under xdist it runs on the controller, which receives each
item's numbers through ``report.user_properties``.
"""
import json
import platform
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from redshift.core import SOURCES, atomic_write_text, git_commit, lazy_module

torch = lazy_module("torch")


def _status(report) -> str | None:
    """PASS / FAIL / XFAIL / XPASS / SKIP / ERROR of a claim item, from its final report phase."""
    xfailed = hasattr(report, "wasxfail")
    if report.when == "call":
        if report.passed:
            return "XPASS" if xfailed else "PASS"
        if report.skipped:
            return "XFAIL" if xfailed else "SKIP"
        return "FAIL"
    if report.when == "setup" and not report.passed:
        return "SKIP" if report.skipped else "ERROR"
    return None


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


def _cell(record: dict) -> str:
    if "median" not in record:
        return "all flagged"
    text = f"{record['median']:.3g} [{record['low']:.3g}, {record['high']:.3g}]"
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
        self.measurements: dict[tuple, dict] = {}

    def pytest_runtest_logreport(self, report) -> None:
        properties = item_properties(report)
        status = _status(report)
        if "claim" not in properties or status is None:
            return
        verdict = properties.get("verdict", {})
        if verdict.get("inconclusive") and status == "FAIL":
            status = "INCONCLUSIVE"
        self.claims[report.nodeid] = {**properties["claim"], "status": status,
                                      "reason": getattr(report, "wasxfail", "") or None,
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
        write(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))

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
        atomic_write_text(self.json_path, json.dumps(document, indent=1, allow_nan=False, default=str) + "\n")
