"""``redshift merge``: combine results.json shards (pytest-split groups, several machines) into one
results.json equal, record for record, to the unsharded run's (redshift/claims/results.py writes each),
or the sweep.json shards of ``redshift build --shard i/N`` into the serial sweep.json (``merge_sweeps``).

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

from redshift.core import atomic_write_text, lazy_module

sweep = lazy_module("redshift.report.sweep")

SETTINGS = ("seed", "tier", "default_samples", "device")


class MergeError(ValueError):
    """Shards that cannot be merged, or a file that is no results.json; one line naming the files."""


def read_document(path: Path) -> dict:
    """The JSON mapping at ``path`` (a results.json or a sweep.json)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MergeError(f"{path}: cannot read a JSON document ({type(exc).__name__}: {' '.join(str(exc).split())})") from None
    if not isinstance(document, dict):
        raise MergeError(f"{path}: expected a results.json or sweep.json mapping, got {type(document).__name__}")
    return document


def checked_results(path, document: dict) -> dict:
    """``document`` (read from ``path``) if it is a results.json with the parts merging needs."""
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


def commit_fields(shards: list[tuple[str, object]], get, allow_mixed_commits: bool) -> dict:
    """``commit`` every shard agrees on, or (mixed commits allowed) ``commit`` null and ``commits`` by shard."""
    commits = {path: get(document) for path, document in shards}
    if allow_mixed_commits and len(set(commits.values())) > 1:
        return {"commit": None, "commits": commits}
    return {"commit": agreed(shards, get, "commit (pass --allow-mixed-commits to merge runs of different commits)")}


def machine_fields(machines: list) -> dict:
    """``machine`` the shards share, or ``machine`` null and ``machines`` (each distinct one once)."""
    distinct = [m for i, m in enumerate(machines) if m not in machines[:i]]
    return {"machine": distinct[0]} if len(distinct) == 1 else {"machine": None, "machines": distinct}


def merge_documents(shards: list[tuple[str, dict]], allow_mixed_commits: bool = False) -> dict:
    """One results.json document from (path, document) shards (module doc)."""
    if not shards:
        raise MergeError("nothing to merge: name at least one results.json")
    settings = {name: agreed(shards, lambda d, n=name: d["settings"].get(n), f"setting {name!r}")
                for name in dict.fromkeys([*SETTINGS, *(k for _, d in shards for k in d["settings"])])}
    commits = commit_fields(shards, lambda d: d.get("commit"), allow_mixed_commits)
    machines = machine_fields([d.get("machine") for _, d in shards])
    measurements = union(shards, "measurements", "key")
    claims = union(shards, "claims", "id")
    return {
        "created": max(str(d.get("created", "")) for _, d in shards),
        **commits,
        "settings": settings,
        **machines,
        "measurements": sorted(measurements.values(), key=lambda r: (str(r.get("label")), str(r.get("setting")),
                                                                     r.get("n", 0), str(r.get("metric")), r["key"])),
        "claims": sorted(claims.values(), key=lambda r: r["id"]),
        "merged_from": [{"path": path, "created": d.get("created"), "commit": d.get("commit"),
                         "claims": len(d["claims"]), "measurements": len(d["measurements"])} for path, d in shards],
    }


def is_sweep(document: dict) -> bool:
    """A sweep.json of the report (``cells``), not a claims results.json."""
    return "cells" in document and "measurements" not in document


def merge_sweeps(shards: list[tuple[str, dict]], allow_mixed_commits: bool = False) -> dict:
    """One sweep.json document from the N shard documents of one sweep (``build --shard i/N``): the same
    settings, parts and N; every index 1..N exactly once; the records in the serial sweep's order."""
    if not shards:
        raise MergeError("nothing to merge: name at least one sweep.json")
    parsed = []
    for path, document in shards:
        try:
            parsed.append((path, sweep.Sweep.from_json(document)))
        except (KeyError, TypeError, ValueError) as exc:
            raise MergeError(f"{path}: not a sweep.json of redshift build ({type(exc).__name__}: {exc})") from None
    unsharded = [path for path, s in parsed if s.shard is None]
    if unsharded:
        raise MergeError(f"{unsharded[0]}: not a shard (written without --shard)")
    settings = agreed(parsed, lambda s: s.settings, "sweep settings")
    parts = agreed(parsed, lambda s: s.parts, "sweep parts (the sections' --sections)")
    count = agreed(parsed, lambda s: s.shard[1], "shard count N")
    indices = sorted(s.shard[0] for _, s in parsed)
    if indices != list(range(1, count + 1)):
        missing = sorted(set(range(1, count + 1)) - set(indices))
        repeated = sorted({i for i in indices if indices.count(i) > 1})
        raise MergeError(f"shards of {count}: " + (f"missing {', '.join(f'{i}/{count}' for i in missing)}" if missing
                                                   else f"{', '.join(f'{i}/{count}' for i in repeated)} given twice"))
    commits = commit_fields(parsed, lambda s: s.commit, allow_mixed_commits)
    by_cell = {(r["architecture"], r["depth"], r["magnitude"]): r for _, s in parsed for r in s.records}
    order = [tuple(cell) for cell in sweep.sweep_cells(settings, parts)]
    if set(by_cell) != set(order):
        raise MergeError(f"the shards' cells are not those of the sweep's settings: {len(by_cell)} vs {len(order)}")
    machines = machine_fields([s.machine for _, s in parsed])
    merged = sweep.Sweep(settings, [by_cell[c] for c in order], max(s.created for _, s in parsed), commits["commit"],
                         machines["machine"], parts, None)
    document = {**merged.to_json(), **commits, **machines}
    document["merged_from"] = [{"path": path, "shard": f"{s.shard[0]}/{s.shard[1]}", "cells": len(s.records),
                                "commit": s.commit} for path, s in parsed]
    return document


def merge_files(paths: list[Path], out: Path, allow_mixed_commits: bool = False) -> dict:
    """Merge the results.json files ``paths`` (or the sweep.json shards) into ``out`` (written
    atomically); returns the document."""
    documents = [(str(p), read_document(p)) for p in paths]
    kinds = {is_sweep(d) for _, d in documents}
    if kinds == {True}:
        document = merge_sweeps(documents, allow_mixed_commits)
    elif len(kinds) > 1:
        raise MergeError(f"cannot merge sweep.json and results.json files together ({', '.join(map(str, paths))})")
    else:
        document = merge_documents([(p, checked_results(p, d)) for p, d in documents], allow_mixed_commits)
    atomic_write_text(out, json.dumps(document, indent=1, allow_nan=False) + "\n")
    return document
