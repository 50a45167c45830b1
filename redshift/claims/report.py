"""End-of-run summary of the claims: a terminal table and ``reports/results.json``.

Registered as a pytest plugin object; under xdist it runs on the controller, which receives each
item's numbers through ``report.user_properties``.
"""
import json
import os
import platform
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import torch

from redshift.claims.sources import SOURCES


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


def git_commit(cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and os.replace: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _metric_order(metric: str) -> tuple[int, str]:
    """Metrics in the order their sources declare them (grid metrics first)."""
    order = [m for source in SOURCES.values() for m in source.metrics]
    return (order.index(metric) if metric in order else len(order), metric)


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

    def __init__(self, *, seed: int, device: str, tier: str, samples: int, json_path: str, rootpath: Path,
                 is_worker: bool):
        self.settings = {"seed": seed, "device": device, "tier": tier, "default_samples": samples}
        self.json_path = rootpath / json_path if json_path else None
        self.rootpath = rootpath
        self.is_worker = is_worker
        self.claims: dict[str, dict] = {}
        self.measurements: dict[tuple, dict] = {}

    def pytest_runtest_logreport(self, report) -> None:
        properties = dict(report.user_properties)
        status = _status(report)
        if "claim" not in properties or status is None:
            return
        verdict = properties.get("verdict", {})
        self.claims[report.nodeid] = {**properties["claim"], "status": status,
                                      "reason": getattr(report, "wasxfail", "") or None,
                                      "evidence": verdict.get("lines", []), "checks": verdict.get("checks", [])}
        for record in properties.get("measurements", []):
            key = (record["architecture"], record["metric"], record["setting"], record["n"])
            self.measurements[key] = record

    def architecture_rows(self) -> tuple[list[str], list[list[str]]]:
        """One row per sampled configuration, one column per metric: median [95% interval]."""
        metrics = list(dict.fromkeys(k[1] for k in sorted(self.measurements, key=lambda k: _metric_order(k[1]))))
        by_config: dict[tuple, dict] = {}
        for (label, metric, setting, n), record in self.measurements.items():
            by_config.setdefault((label, setting, n), {})[metric] = record
        rows = [[label, setting, str(n), *(_cell(cells[m]) if m in cells else "" for m in metrics)]
                for (label, setting, n), cells in sorted(by_config.items())]
        return ["architecture", "setting", "n", *metrics], rows

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
            failing = [line for line in claim["evidence"] if line.startswith("FAIL")]
            for line in failing[:3]:
                write(f"         {line}")
            if claim["status"] == "XFAIL" and claim["reason"]:
                write(f"         reason: {claim['reason']}")
        write(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))

    def pytest_sessionfinish(self, session) -> None:
        if self.is_worker or not self.claims or self.json_path is None:
            return
        document = {
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "commit": git_commit(self.rootpath),
            "settings": self.settings,
            "machine": {"python": platform.python_version(), "torch": torch.__version__,
                        "platform": platform.platform(),
                        "cuda_device": torch.cuda.get_device_name() if self.settings["device"] == "cuda" else None},
            "measurements": sorted(self.measurements.values(),
                                   key=lambda r: (r["architecture"], r["metric"], r["setting"], r["n"])),
            "claims": [{"id": nodeid, **claim} for nodeid, claim in sorted(self.claims.items())],
        }
        atomic_write_text(self.json_path, json.dumps(document, indent=1, allow_nan=False, default=str) + "\n")
