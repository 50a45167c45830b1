"""``redshift merge``: combine results.json shards (pytest-split groups, several machines) into one
results.json equal, record for record, to the unsharded run's (redshift/claims/results.py writes each).

- measurements are keyed by their ``key`` (the digest of what was sampled, and the metric): the same
  record from several shards is one record; one key with different numbers is an error;
- claims are keyed by ``id``: a claim in two shards must be the same record (a different status, or
  different evidence, is an error);
- ``settings`` (seed, tier, default_samples, device) must agree, and ``commit`` unless mixed commits
  are allowed (then ``commit`` is null and ``commits`` lists each shard's);
- ``created`` is the newest shard's, ``machine`` the shards' common one (else null, with ``machines``);
  ``merged_from`` names each shard with its counts.
Records are sorted as the plugin sorts them. Every problem is a one-line ``MergeError``.
"""
import json
from pathlib import Path

from redshift.core import atomic_write_text

SETTINGS = ("seed", "tier", "default_samples", "device")


class MergeError(ValueError):
    """Shards that cannot be merged, or a file that is no results.json; one line naming the files."""


def read_shard(path: Path) -> dict:
    """A results.json document, checked for the parts merging needs."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MergeError(f"{path}: cannot read a results.json ({type(exc).__name__}: {' '.join(str(exc).split())})") from None
    if not isinstance(document, dict):
        raise MergeError(f"{path}: expected a results.json mapping, got {type(document).__name__}")
    for name, kind in (("settings", dict), ("measurements", list), ("claims", list)):
        if not isinstance(document.get(name), kind):
            raise MergeError(f"{path}: not a results.json of the claims plugin (no {name!r} {kind.__name__})")
    for name, key in (("measurements", "key"), ("claims", "id")):
        if any(not isinstance(r, dict) or key not in r for r in document[name]):
            raise MergeError(f"{path}: a record of {name!r} has no {key!r}")
    return document


def first_difference(a: dict, b: dict) -> str:
    """The first field in which two records differ, with both values."""
    for name in sorted(set(a) | set(b)):
        if a.get(name) != b.get(name):
            return f"{name} {a.get(name)!r} vs {b.get(name)!r}"
    return ""


def union(shards: list[tuple[str, dict]], part: str, key: str) -> dict:
    """{key: record} over every shard's ``part``; the same key must carry the same record."""
    merged: dict = {}
    origin: dict = {}
    for path, document in shards:
        for record in document[part]:
            k = record[key]
            if k in merged and merged[k] != record:
                what = "measurement" if part == "measurements" else "claim"
                if part == "claims" and merged[k].get("status") != record.get("status"):
                    raise MergeError(f"claim {k!r} has status {merged[k].get('status')} in {origin[k]} and "
                                     f"{record.get('status')} in {path}")
                raise MergeError(f"{what} {k!r} differs between {origin[k]} and {path}: "
                                 f"{first_difference(merged[k], record)}")
            merged.setdefault(k, record)
            origin.setdefault(k, path)
    return merged


def agreed(shards: list[tuple[str, dict]], get, what: str):
    """The value every shard has for ``get(document)``; MergeError naming the first two that differ."""
    (first_path, first), *rest = shards
    for path, document in rest:
        if get(document) != get(first):
            raise MergeError(f"{what} differs: {get(first)!r} in {first_path}, {get(document)!r} in {path}")
    return get(first)


def merge_documents(shards: list[tuple[str, dict]], allow_mixed_commits: bool = False) -> dict:
    """One results.json document from (path, document) shards (module doc)."""
    if not shards:
        raise MergeError("nothing to merge: name at least one results.json")
    settings = {name: agreed(shards, lambda d, n=name: d["settings"].get(n), f"setting {name!r}")
                for name in dict.fromkeys([*SETTINGS, *(k for _, d in shards for k in d["settings"])])}
    commits = {path: document.get("commit") for path, document in shards}
    if allow_mixed_commits and len(set(commits.values())) > 1:
        commit_fields = {"commit": None, "commits": commits}
    else:
        commit_fields = {"commit": agreed(shards, lambda d: d.get("commit"), "commit (pass --allow-mixed-commits to merge "
                                                                           "runs of different commits)")}
    machines = [d.get("machine") for _, d in shards]
    distinct = [m for i, m in enumerate(machines) if m not in machines[:i]]
    machine_fields = {"machine": distinct[0]} if len(distinct) == 1 else {"machine": None, "machines": distinct}
    measurements = union(shards, "measurements", "key")
    claims = union(shards, "claims", "id")
    return {
        "created": max(str(d.get("created", "")) for _, d in shards),
        **commit_fields,
        "settings": settings,
        **machine_fields,
        "measurements": sorted(measurements.values(), key=lambda r: (str(r.get("label")), str(r.get("setting")),
                                                                     r.get("n", 0), str(r.get("metric")), r["key"])),
        "claims": sorted(claims.values(), key=lambda r: r["id"]),
        "merged_from": [{"path": path, "created": d.get("created"), "commit": d.get("commit"),
                         "claims": len(d["claims"]), "measurements": len(d["measurements"])} for path, d in shards],
    }


def merge_files(paths: list[Path], out: Path, allow_mixed_commits: bool = False) -> dict:
    """Merge the results.json files ``paths`` into ``out`` (written atomically); returns the document."""
    document = merge_documents([(str(p), read_shard(p)) for p in paths], allow_mixed_commits)
    atomic_write_text(out, json.dumps(document, indent=1, allow_nan=False) + "\n")
    return document
