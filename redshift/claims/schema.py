"""Case files (``cases/*.yaml``) -> validated ``Claim`` objects.

A case file reads like the paper's claim: which architectures, which metric, which ordering, in
which regime. Every key and type is checked; a problem raises ``CaseFileError``, whose one-line
message names the file, the claim and the field, with the allowed values.
"""
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from redshift.claims.sources import SOURCES, SubjectError, merge, source_of

KIND_ROLES = {  # kind -> the keys that describe what is sampled
    "less": ("a", "b"),
    "increasing": ("sweep",),
    "flat": ("sweep",),
    "ordering": ("groups",),
    "near": ("reference",),
    "bounded": ("subject",),
    "invariant": ("a", "b"),
    "agreement": ("grid",),
}
OPTIONAL_ROLES = {"increasing": ("subject",), "flat": ("subject",), "near": ("subject",)}  # default: {}
KIND_THRESHOLDS = {  # kind -> allowed threshold keys in an expectation, and which are required (one of)
    "less": ({"min_ratio", "min_difference"}, set()),
    "increasing": ({"min_ratio", "min_difference"}, set()),
    "ordering": ({"min_ratio", "min_difference"}, set()),
    "flat": ({"max_ratio", "max_difference"}, {"max_ratio", "max_difference"}),
    "near": ({"min_ratio", "max_ratio"}, {"min_ratio", "max_ratio"}),
    "bounded": ({"min", "max"}, {"min", "max"}),
    "invariant": ({"max_abs_difference", "min_median_abs_difference"}, {"max_abs_difference", "min_median_abs_difference"}),
    "agreement": ({"min_spearman", "min_pearson"}, {"min_spearman", "min_pearson"}),
}
SOURCE_SETTING_KEYS = {s.settings_key for s in SOURCES.values() if s.settings_key}  # e.g. network
SETTING_KEYS = {"samples", "resolution", "dtype", "alpha"} | SOURCE_SETTING_KEYS
CLAIM_KEYS = {"id", "kind", "claim", "source", "metrics", "tier", "full", "xfail"} | SETTING_KEYS
DTYPES = ("float64", "float32")
TIERS = ("ci", "full")
DEFAULT_ALPHA = 1e-3
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class CaseFileError(Exception):
    """A malformed case file; ``str`` is one line naming the file, the claim and the field."""

    def __init__(self, path: str, message: str, claim: str | None = None, field_name: str | None = None):
        where = path + (f": claim '{claim}'" if claim else "") + (f": field '{field_name}'" if field_name else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Subject:
    """One sampled distribution: a source (``network``, ``function``, ...) and its frozen spec."""

    source: str
    spec: Any
    label: str


@dataclass(frozen=True)
class Expectation:
    """What must hold for one metric (or, for ``agreement``, one metric pair ``a-vs-b``)."""

    metric: str
    thresholds: Mapping[str, float]
    alpha: float
    xfail: str | None = None


@dataclass(frozen=True)
class Claim:
    """One claim of one case file; it becomes one pytest item per expectation."""

    path: str
    id: str
    kind: str
    text: str
    source: str
    groups: tuple[tuple[Subject, ...], ...]  # kind-specific: [[a], [b]], the sweep series, ...
    sweep_field: str | None
    sweep_values: tuple[Any, ...]
    samples: int | None
    resolution: int
    dtype: str
    expectations: tuple[Expectation, ...]
    tier: str = "ci"

    @property
    def uid(self) -> str:
        return f"{self.path}::{self.id}"


@dataclass
class _Context:
    path: str
    claim: str | None = None
    prefix: str = ""  # "full." while the claim's full-tier subjects are parsed

    def error(self, field_name: str | None, message: str) -> CaseFileError:
        return CaseFileError(self.path, message, self.claim, self.prefix + field_name if field_name else field_name)


def _type_name(value: Any) -> str:
    return {bool: "boolean", str: "string", int: "integer", float: "number", list: "list", dict: "mapping"}.get(
        type(value), type(value).__name__)


def _number(ctx: _Context, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = ""
        if isinstance(value, str):
            try:
                float(value)
                hint = f" (YAML reads {value} as a string; write it with a dot, e.g. 1.0e-3)"
            except ValueError:
                pass
        raise ctx.error(name, f"expected a number, got {_type_name(value)} {value!r}{hint}")
    return float(value)


def _positive_int(ctx: _Context, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ctx.error(name, f"expected a positive integer, got {_type_name(value)} {value!r}")
    return value


def _choice(ctx: _Context, name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ctx.error(name, f"unknown value {value!r} (allowed: {', '.join(allowed)})")
    return value


def _mapping(ctx: _Context, name: str, value: Any, allowed: set[str]) -> Mapping:
    if not isinstance(value, Mapping):
        raise ctx.error(name, f"expected a mapping, got {_type_name(value)} {value!r}")
    unknown = sorted(set(map(str, value)) - allowed)
    if unknown:
        raise ctx.error(f"{name}.{unknown[0]}" if name else unknown[0],
                        f"unknown key (allowed: {', '.join(sorted(allowed))})")
    return value


def _subject(ctx: _Context, name: str, value: Any, settings: Mapping) -> Subject:
    """Parse a subject mapping with its source, merged over the source's settings mapping."""
    if not isinstance(value, Mapping):
        raise ctx.error(name, f"expected a mapping, got {_type_name(value)} {value!r}")
    source = SOURCES[_choice(ctx, f"{name}.source" if name else "source", source_of(value), tuple(SOURCES))]
    body = {k: v for k, v in value.items() if k != "source"}
    try:
        spec = source.parse(body, settings.get(source.settings_key, {}))
    except SubjectError as exc:
        raise ctx.error(f"{name}.{exc.field}" if name else exc.field, exc.message) from None
    return Subject(source.name, spec, source.label(spec))


def _sweep(ctx: _Context, value: Any, base_subject: Any, settings: Mapping) -> tuple[str, tuple, tuple[Subject, ...]]:
    """One subject per value of ``field``, each the base subject with that field set."""
    sweep = _mapping(ctx, "sweep", value, {"field", "values"})
    if "field" not in sweep or "values" not in sweep:
        raise ctx.error("sweep", "needs 'field' (a network setting such as weights.scale) and 'values' (a list)")
    field_name = sweep["field"]
    values = sweep["values"]
    if not isinstance(values, list) or len(values) < 2:
        raise ctx.error("sweep.values", f"expected a list of at least two values, got {values!r}")
    if not isinstance(base_subject, Mapping):
        raise ctx.error("subject", f"expected a mapping, got {_type_name(base_subject)} {base_subject!r}")
    subjects = tuple(_subject(ctx, f"sweep.values[{i}]", merge(base_subject, _dotted(field_name, v)), settings)
                     for i, v in enumerate(values))
    return field_name, tuple(values), subjects


def _full_sweep(ctx: _Context, raw: Mapping, value: Any) -> dict:
    """The claim's sweep with the values of ``full: {sweep: {values: [...]}}`` (same field, full-tier values)."""
    if "sweep" not in raw:
        raise ctx.error("full.sweep", "only a claim with a sweep (kinds increasing, flat) can override its values")
    override = _mapping(ctx, "full.sweep", value, {"values"})
    if "values" not in override:
        raise ctx.error("full.sweep", "needs 'values' (the full-tier list of the sweep field's values)")
    return {**raw["sweep"], "values": override["values"]}


def _dotted(name: Any, value: Any) -> dict:
    """``("weights.scale", 10.0)`` -> ``{"weights": {"scale": 10.0}}``."""
    keys = str(name).split(".")
    mapping: dict = {keys[-1]: value}
    for key in reversed(keys[:-1]):
        mapping = {key: mapping}
    return mapping


def _grid(ctx: _Context, value: Any, settings: Mapping) -> tuple[Subject, ...]:
    if not isinstance(value, Mapping) or not value:
        raise ctx.error("grid", "expected a mapping of network setting -> list of values")
    axes = []
    for name, values in value.items():
        if not isinstance(values, list) or not values:
            raise ctx.error(f"grid.{name}", f"expected a non-empty list, got {values!r}")
        axes.append([(name, v) for v in values])
    subjects = []
    for combo in itertools.product(*axes):
        overrides: dict = {}
        for name, v in combo:
            overrides = merge(overrides, _dotted(name, v))
        subjects.append(_subject(ctx, "grid", overrides, settings))
    return tuple(subjects)


def _groups(ctx: _Context, kind: str, raw: Mapping, settings: Mapping):
    """The kind's sampled subjects as groups, plus the sweep field and values if any."""
    missing = [role for role in KIND_ROLES[kind] if role not in raw and role not in OPTIONAL_ROLES.get(kind, ())]
    if missing:
        raise ctx.error(missing[0], f"required for kind '{kind}'")
    if kind in ("less", "invariant"):
        return ((_subject(ctx, "a", raw["a"], settings),), (_subject(ctx, "b", raw["b"], settings),)), None, ()
    if kind in ("increasing", "flat"):
        field_name, values, subjects = _sweep(ctx, raw["sweep"], raw.get("subject", {}), settings)
        return tuple((s,) for s in subjects), field_name, values
    if kind == "ordering":
        groups = raw["groups"]
        if not isinstance(groups, list) or len(groups) < 2:
            raise ctx.error("groups", "expected a list of at least two groups (simplest first)")
        return tuple(
            tuple(_subject(ctx, f"groups[{i}][{j}]", s, settings) for j, s in enumerate(g if isinstance(g, list) else [g]))
            for i, g in enumerate(groups)), None, ()
    if kind == "near":
        subject = _subject(ctx, "subject", raw.get("subject", {}), settings)
        return ((subject,), (_subject(ctx, "reference", raw["reference"], settings),)), None, ()
    if kind == "bounded":
        return ((_subject(ctx, "subject", raw["subject"], settings),),), None, ()
    return tuple((s,) for s in _grid(ctx, raw["grid"], settings)), None, ()


def _expectations(ctx: _Context, kind: str, raw: Any, alpha: float, sources: set[str]) -> tuple[Expectation, ...]:
    """Thresholds per metric; every metric must be defined for every subject's source."""
    if not isinstance(raw, Mapping) or not raw:
        raise ctx.error("metrics", "expected a mapping of metric name -> thresholds")
    allowed, one_of = KIND_THRESHOLDS[kind]
    expectations = []
    for metric, thresholds in raw.items():
        names = str(metric).split("-vs-") if kind == "agreement" else [metric]
        if kind == "agreement" and len(names) != 2:
            raise ctx.error(f"metrics.{metric}", "agreement keys name a metric pair, e.g. dct-vs-lz")
        for name in names:
            for source in sorted(sources):
                allowed_metrics = SOURCES[source].metrics
                if name not in allowed_metrics:
                    raise ctx.error(f"metrics.{metric}", f"unknown metric {name!r} for {source} subjects "
                                                         f"(allowed: {', '.join(allowed_metrics)})")
        thresholds = _mapping(ctx, f"metrics.{metric}", thresholds or {}, allowed | {"alpha", "xfail"})
        if one_of and not one_of & set(thresholds):
            raise ctx.error(f"metrics.{metric}", f"needs at least one of: {', '.join(sorted(one_of))}")
        xfail = thresholds.get("xfail")
        if xfail is not None and not isinstance(xfail, str):
            raise ctx.error(f"metrics.{metric}.xfail", "expected the reason as a string, with the measured numbers")
        expectations.append(Expectation(
            metric=str(metric),
            thresholds={k: _number(ctx, f"metrics.{metric}.{k}", v) for k, v in thresholds.items() if k in allowed},
            alpha=_number(ctx, f"metrics.{metric}.alpha", thresholds.get("alpha", alpha)),
            xfail=xfail))
    return tuple(expectations)


def _settings(ctx: _Context, raw: Mapping, inherited: Mapping) -> dict:
    """samples / resolution / dtype / alpha / each source's settings mapping, validated, over the inherited ones."""
    settings = dict(inherited)
    for source in SOURCES.values():
        key = source.settings_key
        if key and key in raw:
            if not isinstance(raw[key], Mapping):
                raise ctx.error(key, f"expected a mapping of {source.name} settings, got {_type_name(raw[key])}")
            merged = merge(settings.get(key, {}), raw[key])
            try:
                source.parse(merged, {})  # as it applies: over the inherited settings (defaults, the CI tier's)
            except SubjectError as exc:
                raise ctx.error(f"{key}.{exc.field}", exc.message) from None
            settings[key] = merged
    if "samples" in raw:
        settings["samples"] = _positive_int(ctx, "samples", raw["samples"])
    if "resolution" in raw:
        resolution = _positive_int(ctx, "resolution", raw["resolution"])
        if resolution < 8:
            raise ctx.error("resolution", f"expected at least 8 grid points per axis, got {resolution}")
        settings["resolution"] = resolution
    if "dtype" in raw:
        settings["dtype"] = _choice(ctx, "dtype", raw["dtype"], DTYPES)
    if "alpha" in raw:
        alpha = _number(ctx, "alpha", raw["alpha"])
        if not 0 < alpha < 1:
            raise ctx.error("alpha", f"expected a significance level in (0, 1), got {alpha}")
        settings["alpha"] = alpha
    return settings


def _claim(ctx: _Context, raw: Any, defaults: Mapping, tier: str) -> Claim:
    if not isinstance(raw, Mapping):
        raise ctx.error("claims", f"each claim must be a mapping, got {_type_name(raw)}")
    claim_id = raw.get("id")
    if not isinstance(claim_id, str) or not ID_PATTERN.match(claim_id):
        raise ctx.error("id", f"expected a lower-case id like 'relu-flat-in-magnitude', got {claim_id!r}")
    ctx.claim = claim_id
    kind = _choice(ctx, "kind", raw.get("kind"), tuple(KIND_ROLES))
    _mapping(ctx, "", raw, CLAIM_KEYS | set(KIND_ROLES[kind]) | set(OPTIONAL_ROLES.get(kind, ())))
    for key in ("claim", "source", "xfail"):
        if key in raw and not isinstance(raw[key], str):
            raise ctx.error(key, f"expected text, got {_type_name(raw[key])}")
    claim_tier = _choice(ctx, "tier", raw.get("tier", "ci"), TIERS)
    settings = _settings(ctx, raw, defaults)
    groups, sweep_field, sweep_values = _groups(ctx, kind, raw, settings)
    if "full" in raw:  # parsed in every tier, so a broken full-tier setting fails the CI collection too
        full_raw = _mapping(ctx, "full", raw["full"], SETTING_KEYS | {"sweep"})
        full_ctx = _Context(ctx.path, ctx.claim, "full.")
        full = _settings(full_ctx, full_raw, settings)
        full_claim = {**raw, "sweep": _full_sweep(ctx, raw, full_raw["sweep"])} if "sweep" in full_raw else raw
        full_groups = _groups(full_ctx, kind, full_claim, full)
        if tier == "full":
            settings, (groups, sweep_field, sweep_values) = full, full_groups
    sources = {subject.source for group in groups for subject in group}
    expectations = _expectations(ctx, kind, raw.get("metrics"), settings.get("alpha", DEFAULT_ALPHA), sources)
    if "xfail" in raw:
        expectations = tuple(Expectation(e.metric, e.thresholds, e.alpha, e.xfail or raw["xfail"]) for e in expectations)
    return Claim(
        path=ctx.path, id=claim_id, kind=kind, text=raw.get("claim", ""), source=raw.get("source", ""),
        groups=groups, sweep_field=sweep_field, sweep_values=sweep_values,
        samples=settings.get("samples"), resolution=settings.get("resolution", 64),
        dtype=settings.get("dtype", "float64"), expectations=expectations, tier=claim_tier)


def load_case_file(path: Path, display_path: str, tier: str = "ci") -> list[Claim]:
    """Parse and validate one case file; raises CaseFileError with a one-line message."""
    ctx = _Context(display_path)
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ctx.error(None, f"not valid YAML{where}: {problem}") from None
    document = _mapping(ctx, "", document if document is not None else {}, {"description", "defaults", "claims"})
    defaults = _settings(ctx, _mapping(ctx, "defaults", document.get("defaults", {}), SETTING_KEYS), {})
    raw_claims = document.get("claims")
    if not isinstance(raw_claims, list) or not raw_claims:
        raise ctx.error("claims", "expected a non-empty list of claims")
    claims, seen = [], set()
    for raw in raw_claims:
        ctx.claim = None
        claim = _claim(ctx, raw, defaults, tier)
        if claim.id in seen:
            raise ctx.error("id", "duplicate claim id in this file")
        seen.add(claim.id)
        claims.append(claim)
    return claims
