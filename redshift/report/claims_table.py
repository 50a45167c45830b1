"""The claims table of the report, read from the pytest run's ``reports/results.json``
(written by ``redshift/claims/results.py``: ``claims`` = [{id, status, claim, source, evidence, reason, ...}]).

``read_results`` is the one reader of that file: a file that is not one (truncated JSON, another
program's JSON, a folder, unreadable) raises ``ResultsError``, whose message is one line naming it."""
import json
from pathlib import Path

CLAIMS_COMMAND = "python -m pytest cases"
STATUSES = ("PASS", "FAIL", "XFAIL", "XPASS", "SKIP", "ERROR", "INCONCLUSIVE")


class ResultsError(ValueError):
    """A results.json that cannot be read or is not the claims plugin's; one line naming the file."""


def _where(exc: json.JSONDecodeError) -> str:
    return f"line {exc.lineno}, column {exc.colno}"


def read_results(results_path: Path) -> dict | None:
    """The claims run's document at ``results_path`` (None if there is none), checked for what the
    report reads: ``claims`` records with a text ``id``, a known ``status`` and text evidence lines,
    ``measurements`` records as objects, ``settings`` and ``machine`` mappings."""
    path = Path(results_path)
    if not path.exists():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or " ".join(str(exc).split())
        raise ResultsError(f"{path}: cannot read the claims results ({type(exc).__name__}: {reason})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        truncated = " (truncated?)" if exc.pos >= len(text.rstrip()) else ""
        raise ResultsError(f"{path}: not valid JSON at {_where(exc)}: {exc.msg}{truncated}; rerun "
                           f"`{CLAIMS_COMMAND}` to write it again") from None
    problem = _schema_problem(document)
    if problem:
        raise ResultsError(f"{path}: not a results.json of the claims plugin: {problem}; rerun `{CLAIMS_COMMAND}`")
    return document


def _schema_problem(document) -> str | None:
    if not isinstance(document, dict):
        return f"expected a JSON object, got {type(document).__name__}"
    if "claims" not in document and "measurements" not in document:
        return "neither a 'claims' nor a 'measurements' list"
    for key, kind in (("claims", list), ("measurements", list), ("settings", dict), ("machine", dict)):
        if document.get(key) is not None and not isinstance(document[key], kind):
            return f"'{key}' is not {'a list' if kind is list else 'an object'}"
    for i, record in enumerate(document.get("measurements") or []):
        if not isinstance(record, dict):
            return f"measurements[{i}] is not an object"
    for i, claim in enumerate(document.get("claims") or []):
        if not isinstance(claim, dict):
            return f"claims[{i}] is not an object"
        if not isinstance(claim.get("id"), str):
            return f"claims[{i}] has no text 'id'"
        if claim.get("status") not in STATUSES:
            return f"claims[{i}] ({claim['id']}): status {claim.get('status')!r} is not one of {', '.join(STATUSES)}"
        evidence = claim.get("evidence", [])
        if not isinstance(evidence, list) or not all(isinstance(line, str) for line in evidence):
            return f"claims[{i}] ({claim['id']}): 'evidence' is not a list of text lines"
    return None


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def claims_markdown(results_path: Path, commit: str | None) -> str:
    """Status counts and one row per claim x metric: status, id, claim, measured numbers (evidence), xfail reason.
    Raises ResultsError for a results file that is not one."""
    document = read_results(results_path)
    if document is None:
        return (f"No claims results: `{results_path}` does not exist. Produce it with `{CLAIMS_COMMAND}` "
                f"(writes `reports/results.json`), or rebuild this report with `--run-claims`.\n")
    claims = document.get("claims") or []
    settings = document.get("settings") or {}
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
