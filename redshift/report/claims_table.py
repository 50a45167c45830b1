"""The claims table of the report, read from the pytest run's ``reports/results.json``
(written by ``redshift/claims/results.py``: ``claims`` = [{id, status, claim, source, evidence, reason, ...}])."""
import json
from pathlib import Path

CLAIMS_COMMAND = "python -m pytest cases"


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def claims_markdown(results_path: Path, commit: str | None) -> str:
    """Status counts and one row per claim x metric: status, id, claim, measured numbers (evidence), xfail reason."""
    if not results_path.exists():
        return (f"No claims results: `{results_path}` does not exist. Produce it with `{CLAIMS_COMMAND}` "
                f"(writes `reports/results.json`), or rebuild this report with `--run-claims`.\n")
    document = json.loads(results_path.read_text(encoding="utf-8"))
    claims = document.get("claims", [])
    settings = document.get("settings", {})
    counts: dict[str, int] = {}
    for claim in claims:
        counts[claim["status"]] = counts.get(claim["status"], 0) + 1
    lines = [f"From `{results_path}` (created {document.get('created')}, commit `{document.get('commit')}`, "
             f"seed {settings.get('seed')}, tier {settings.get('tier')}, device {settings.get('device')}): "
             + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) + "."]
    if commit and document.get("commit") != commit:
        lines.append(f"\n**Stale:** these results are from commit `{document.get('commit')}`, the working tree "
                     f"is at `{commit}`; rerun `{CLAIMS_COMMAND}` to refresh them.")
    lines += ["", "| status | claim x metric | claim | measured |", "|---|---|---|---|"]
    for claim in claims:
        measured = "<br>".join(cell(line) for line in claim.get("evidence", []))
        if claim.get("reason"):
            measured += f"<br>**xfail reason:** {cell(claim['reason'])}"
        lines.append(f"| **{claim['status']}** | `{cell(claim['id'])}` | {cell(claim.get('claim', ''))} | {measured} |")
    return "\n".join(lines) + "\n"
