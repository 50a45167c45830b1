"""Case files (``*.yaml``) -> validated ``Claim`` objects.

A case file reads like the paper's claim: which architectures, which metric, which ordering, in
which regime. Every key and type is checked; a problem raises ``CaseFileError``, whose one-line
message names the file, the claim and the field, with the allowed values. What a claim's subjects
can be comes from the registries: the sources (``redshift.core.SOURCES``) and the claim kinds
(``redshift.claims.kinds.KINDS``); a claim key that names a source (``network:``) is that source's
settings mapping, merged under its subjects.
"""
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from redshift.claims.kinds import KINDS, Kind, LayoutError
from redshift.claims.model import Claim, Expectation, Subject
from redshift.core import SOURCES, FieldError, RegistryError, Settings, merge
from redshift.parse import Spec, describe, number_hint, parse, setting
from redshift.sources import source_of

TIERS = ("ci", "full")
DEFAULT_ALPHA = 1e-3
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
CLAIM_KEYS = {"id", "kind", "claim", "source", "provenance", "metrics", "tier", "full", "xfail", "requires"}
PREMISE_KEYS = {"kind", "claim", "metrics"}  # plus the kind's roles and the settings, which a premise inherits


@dataclass(frozen=True)
class RunSettings(Spec):
    """The settings a file's ``defaults``, a claim and its ``full:`` block may give besides the sources'."""

    samples: int | None = setting(None, min=1, doc="samples per subject (default: --samples)")
    resolution: int = setting(64, min=8, doc="grid points per axis")
    dtype: Literal["float64", "float32"] = setting("float64", doc="precision of sampling and metrics")
    alpha: float = setting(DEFAULT_ALPHA, min=0, max=1, min_open=True, max_open=True,
                           doc="significance level of the claim's tests")


RUN_KEYS = tuple(RunSettings.__dataclass_fields__)


class CaseFileError(Exception):
    """A malformed case file; ``str`` is one line naming the file, the claim and the field."""

    def __init__(self, path: str, message: str, claim: str | None = None, field_name: str | None = None):
        where = path + (f": claim '{claim}'" if claim else "") + (f": field '{field_name}'" if field_name else "")
        super().__init__(f"{where}: {message}")


@dataclass
class _Context:
    path: str
    claim: str | None = None
    prefix: str = ""  # "full." while the claim's full-tier subjects are parsed

    def error(self, field_name: str | None, message: str) -> CaseFileError:
        return CaseFileError(self.path, message, self.claim, self.prefix + field_name if field_name else field_name)

    def field_error(self, exc: FieldError, within: str = "") -> CaseFileError:
        exc = exc.within(within)
        return self.error(exc.field or None, exc.message)


def _mapping(ctx: _Context, name: str, value: Any, allowed) -> Mapping:
    if not isinstance(value, Mapping):
        raise ctx.error(name or None, f"expected a mapping, got {_type_name(value)} {value!r}")
    unknown = sorted(set(map(str, value)) - set(allowed))
    if unknown:
        raise ctx.error(f"{name}.{unknown[0]}" if name else unknown[0],
                        f"unknown key (allowed: {', '.join(sorted(allowed))})")
    return value


def _type_name(value: Any) -> str:
    return {bool: "boolean", str: "string", int: "integer", float: "number", list: "list", dict: "mapping"}.get(
        type(value), type(value).__name__)


def _number(ctx: _Context, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ctx.error(name, f"expected a number, got {_type_name(value)} {value!r}{number_hint(value)}")
    return float(value)


def _kind(ctx: _Context, name: Any) -> Kind:
    if not isinstance(name, str) or name not in KINDS:
        raise ctx.error("kind", f"unknown value {name!r} (allowed: {', '.join(KINDS.names())})")
    try:
        return KINDS[name]
    except RegistryError as exc:
        raise ctx.error("kind", str(exc)) from None


def _source(ctx: _Context, field_name: str, name: Any):
    if not isinstance(name, str) or name not in SOURCES:
        raise ctx.error(field_name, f"unknown value {name!r} (allowed: {', '.join(SOURCES.names())})")
    try:
        return SOURCES[name]
    except RegistryError as exc:
        raise ctx.error(field_name, str(exc)) from None


def _subject(ctx: _Context, name: str, value: Any, settings: Mapping) -> Subject:
    """Parse a subject mapping with its source, merged over the source's settings mapping."""
    if not isinstance(value, Mapping):
        raise ctx.error(name, f"expected a mapping, got {_type_name(value)} {value!r}")
    source = _source(ctx, f"{name}.source" if name else "source", source_of(value))
    body = {k: v for k, v in value.items() if k != "source"}
    try:
        spec = source.parse(body, settings.get(source.name, {}))
    except FieldError as exc:
        raise ctx.field_error(exc, name) from None
    return Subject(source.name, spec, source.label(spec))


def _groups(ctx: _Context, kind: Kind, raw: Mapping, settings: Mapping):
    """The kind's sampled subjects as groups, plus the sweep field and values if any."""
    missing = [role for role in kind.layout.roles if role not in raw]
    if missing:
        raise ctx.error(missing[0], f"required for kind '{kind.name}'")
    try:
        return kind.layout.read(raw, lambda name, value: _subject(ctx, name, value, settings))
    except LayoutError as exc:
        raise ctx.error(exc.field, exc.message) from None


def _full_sweep(ctx: _Context, raw: Mapping, value: Any) -> dict:
    """The claim's sweep with the values of ``full: {sweep: {values: [...]}}`` (same field, full-tier values)."""
    if "sweep" not in raw:
        raise ctx.error("full.sweep", "only a claim with a sweep (kinds increasing, flat) can override its values")
    override = _mapping(ctx, "full.sweep", value, {"values"})
    if "values" not in override:
        raise ctx.error("full.sweep", "needs 'values' (the full-tier list of the sweep field's values)")
    return {**raw["sweep"], "values": override["values"]}


def _expectations(ctx: _Context, kind: Kind, raw: Any, alpha: float) -> tuple[Expectation, ...]:
    """Thresholds per metric key (``xfail`` and ``alpha`` beside them)."""
    if not isinstance(raw, Mapping) or not raw:
        raise ctx.error("metrics", "expected a mapping of metric name -> thresholds")
    expectations = []
    for metric, thresholds in raw.items():
        try:
            kind.metric_names(str(metric))
        except LayoutError as exc:
            raise ctx.error(exc.field, exc.message) from None
        thresholds = _mapping(ctx, f"metrics.{metric}", thresholds or {}, kind.thresholds | {"alpha", "xfail"})
        if kind.required and not kind.required & set(thresholds):
            raise ctx.error(f"metrics.{metric}", f"needs at least one of: {', '.join(sorted(kind.required))}")
        xfail = thresholds.get("xfail")
        if xfail is not None and not isinstance(xfail, str):
            raise ctx.error(f"metrics.{metric}.xfail", "expected the reason as a string, with the measured numbers")
        item_alpha = _number(ctx, f"metrics.{metric}.alpha", thresholds.get("alpha", alpha))
        if not 0 < item_alpha < 1:
            raise ctx.error(f"metrics.{metric}.alpha", f"expected a significance level in (0, 1), got {item_alpha}")
        expectations.append(Expectation(
            metric=str(metric),
            thresholds={k: _number(ctx, f"metrics.{metric}.{k}", v) for k, v in thresholds.items() if k in kind.thresholds},
            alpha=item_alpha, xfail=xfail))
    return tuple(expectations)


def _check_measurable(ctx: _Context, kind: Kind, groups, expectations, samples: int | None, run: RunSettings) -> None:
    """Every subject can produce every metric it is asked for, and can run with these settings."""
    for subject in dict.fromkeys(s for group in groups for s in group):
        source = SOURCES[subject.source]
        for e in expectations:
            for name in kind.metric_names(e.metric):
                problem = source.cannot_measure(subject.spec, name)
                if problem:
                    raise ctx.error(f"metrics.{e.metric}", f"{subject.label}: {problem}")
        if samples is not None:
            try:
                source.check(subject.spec, samples, Settings(run.resolution, run.dtype))
            except FieldError as exc:
                raise ctx.error(exc.field, f"{subject.label}: {exc.message}") from None


def _settings(ctx: _Context, raw: Mapping, inherited: Mapping) -> dict:
    """The run settings and each source's settings mapping, validated, over the inherited ones."""
    settings = dict(inherited)
    for key, value in raw.items():
        if key in SOURCES:
            if not isinstance(value, Mapping):
                raise ctx.error(key, f"expected a mapping of {key} settings, got {_type_name(value)}")
            merged = merge(settings.get(key, {}), value)
            try:
                SOURCES[key].parse(merged, {})  # as it applies: over the inherited settings (defaults, the CI tier's)
            except FieldError as exc:
                raise ctx.field_error(exc, key) from None
            except RegistryError as exc:
                raise ctx.error(key, str(exc)) from None
            settings[key] = merged
    given = {k: raw[k] for k in RUN_KEYS if k in raw}
    if given:
        try:
            parse(RunSettings, {k: settings[k] for k in RUN_KEYS if k in settings} | given)
        except FieldError as exc:
            raise ctx.field_error(exc) from None
        settings.update(given)
    return settings


def _run_settings(settings: Mapping) -> RunSettings:
    return parse(RunSettings, {k: settings[k] for k in RUN_KEYS if k in settings})


def _premises(ctx: _Context, raw: Any, claim_id: str, settings: Mapping, default_samples: int | None) -> tuple[Claim, ...]:
    """``requires:``: claims the claim stands on (a fitted training set, the complexity ordering a bridge
    assumes), each with a kind, its subjects and metrics, under the claim's settings."""
    if not isinstance(raw, list) or not raw:
        raise ctx.error("requires", "expected a non-empty list of premises (each a kind, its subjects and metrics)")
    premises = []
    for i, premise in enumerate(raw):
        name = f"requires[{i}]"
        if not isinstance(premise, Mapping):
            raise ctx.error(name, f"expected a mapping, got {_type_name(premise)}")
        sub = _Context(ctx.path, ctx.claim, f"{ctx.prefix}{name}.")
        kind = _kind(sub, premise.get("kind"))
        _mapping(sub, "", premise, PREMISE_KEYS | set(kind.layout.roles) | set(kind.layout.optional))
        groups, sweep_field, sweep_values = _groups(sub, kind, premise, settings)
        run = _run_settings(settings)
        expectations = _expectations(sub, kind, premise.get("metrics"), run.alpha)
        _check_measurable(sub, kind, groups, expectations, run.samples or default_samples, run)
        premises.append(Claim(path=ctx.path, id=f"{claim_id}/{name}", kind=kind.name, text=str(premise.get("claim", "")),
                              source="", groups=groups, sweep_field=sweep_field, sweep_values=sweep_values,
                              samples=run.samples, resolution=run.resolution, dtype=run.dtype,
                              expectations=expectations))
    return tuple(premises)


def _claim(ctx: _Context, raw: Any, defaults: Mapping, tier: str, default_samples: int | None) -> Claim:
    if not isinstance(raw, Mapping):
        raise ctx.error("claims", f"each claim must be a mapping, got {_type_name(raw)}")
    claim_id = raw.get("id")
    if not isinstance(claim_id, str) or not ID_PATTERN.match(claim_id):
        raise ctx.error("id", f"expected a lower-case id like 'relu-flat-in-magnitude', got {claim_id!r}")
    ctx.claim = claim_id
    kind = _kind(ctx, raw.get("kind"))
    _mapping(ctx, "", raw, CLAIM_KEYS | set(RUN_KEYS) | set(SOURCES.names()) | set(kind.layout.roles)
             | set(kind.layout.optional))
    for key in ("claim", "source", "provenance", "xfail"):
        if key in raw and not isinstance(raw[key], str):
            raise ctx.error(key, f"expected text, got {_type_name(raw[key])}")
    claim_tier = raw.get("tier", "ci")
    if claim_tier not in TIERS:
        raise ctx.error("tier", f"unknown value {claim_tier!r} (allowed: {', '.join(TIERS)})")
    settings = _settings(ctx, raw, defaults)
    groups, sweep_field, sweep_values = _groups(ctx, kind, raw, settings)
    if "full" in raw:  # parsed in every tier, so a broken full-tier setting fails the CI collection too
        full_raw = _mapping(ctx, "full", raw["full"], set(RUN_KEYS) | set(SOURCES.names()) | {"sweep"})
        full_ctx = _Context(ctx.path, ctx.claim, "full.")
        full = _settings(full_ctx, full_raw, settings)
        full_claim = {**raw, "sweep": _full_sweep(ctx, raw, full_raw["sweep"])} if "sweep" in full_raw else raw
        full_groups = _groups(full_ctx, kind, full_claim, full)
        if tier == "full":
            settings, (groups, sweep_field, sweep_values) = full, full_groups
    run = _run_settings(settings)
    expectations = _expectations(ctx, kind, raw.get("metrics"), run.alpha)
    _check_measurable(ctx, kind, groups, expectations, run.samples or default_samples, run)
    if "xfail" in raw:
        expectations = tuple(Expectation(e.metric, e.thresholds, e.alpha, e.xfail or raw["xfail"]) for e in expectations)
    premises = _premises(ctx, raw["requires"], claim_id, settings, default_samples) if "requires" in raw else ()
    return Claim(
        path=ctx.path, id=claim_id, kind=kind.name, text=raw.get("claim", ""), source=raw.get("source", ""),
        groups=groups, sweep_field=sweep_field, sweep_values=sweep_values, samples=run.samples,
        resolution=run.resolution, dtype=run.dtype, expectations=expectations, tier=claim_tier, premises=premises,
        provenance=raw.get("provenance", ""))


def load_case_file(path: Path, display_path: str, tier: str = "ci", default_samples: int | None = None) -> list[Claim]:
    """Parse and validate one case file; raises CaseFileError with a one-line message. With
    ``default_samples`` (the run's --samples), claims that do not state theirs are checked at that size."""
    ctx = _Context(display_path)
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ctx.error(None, f"not valid YAML{where}: {problem}") from None
    document = _mapping(ctx, "", document if document is not None else {}, {"description", "defaults", "claims"})
    defaults = _settings(ctx, _mapping(ctx, "defaults", document.get("defaults", {}),
                                       set(RUN_KEYS) | set(SOURCES.names())), {})
    raw_claims = document.get("claims")
    if not isinstance(raw_claims, list) or not raw_claims:
        raise ctx.error("claims", "expected a non-empty list of claims")
    claims, seen = [], set()
    for raw in raw_claims:
        ctx.claim = None
        claim = _claim(ctx, raw, defaults, tier, default_samples)
        if claim.id in seen:
            raise ctx.error("id", "duplicate claim id in this file")
        seen.add(claim.id)
        claims.append(claim)
    return claims
