"""Case files (``*.yaml``) -> validated ``Claim`` objects.

A case file reads like the paper's claim: which architectures, which metric, which ordering, in
which regime. Every key and type is checked; a problem raises ``CaseFileError``, whose one-line
message names the file, the claim and the field, with the allowed values. What a claim's subjects
can be comes from the registries: the sources (``redshift.core.SOURCES``) and the claim kinds
(``redshift.claims.kinds.KINDS``); a claim key that names a source (``network:``) is that source's
settings mapping, merged under its subjects.

Nothing else escapes: the file is read as bounded UTF-8 YAML (size, nesting, aliases expanded; no
duplicate or non-text keys, no Python tags), and an unexpected exception of a source or a kind is
one line too. What only the settings decide is refused here, not found out at run time: metrics a
subject cannot produce and sizes it cannot run with (the sources' ``cannot_measure`` / ``check``),
grids too small for a metric, sample counts with which the kind's test cannot pass, layouts that
compare a configuration with itself, thresholds no measurement can meet.
"""
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from redshift.claims.kinds import (
    KINDS, MIN_VALID, Kind, LayoutError, evaluate_bounded, evaluate_flat, evaluate_interaction, evaluate_near,
    evaluate_ordered,
)
from redshift.claims.model import Claim, Expectation, Subject
from redshift.core import SOURCES, FieldError, RegistryError, Settings, merge
from redshift.parse import Spec, describe, number_hint, parse, setting
from redshift.sources import GridSource, source_of

TIERS = ("ci", "full")
DEFAULT_ALPHA = 1e-3
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
CLAIM_KEYS = {"id", "kind", "claim", "source", "provenance", "metrics", "tier", "full", "xfail", "seed_dependent",
              "requires"}
#: Keys that mark an expected failure: ``xfail`` (strict: the run fails if it passes) and
#: ``seed_dependent`` (it holds under some master seeds and not others: not strict).
XFAIL_KEYS = ("xfail", "seed_dependent")
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


# --- reading the YAML document --------------------------------------------------------------------
#: Bounds on what a case file may be: the largest here is ~21 KB with ~3000 nodes, nested 8 deep.
#: A document beyond them (an alias bomb, 5000 nested lists, a stray binary) is refused with one line
#: before anything walks it, so no walk is exponential and no recursion overflows.
MAX_FILE_BYTES = 1 << 20
MAX_NODES = 100_000  # after expanding aliases and merge keys
MAX_DEPTH = 64  # nesting, aliases expanded


class _DocumentError(Exception):
    """A problem of the YAML document at ``mark`` (a yaml Mark: line and column)."""

    def __init__(self, mark, message: str):
        super().__init__(message)
        self.mark = mark
        self.message = message


def _at(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "somewhere"


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: same results, 10x faster


class _CaseLoader(_BaseLoader):
    """PyYAML's safe loader, stricter: mapping keys are text and unique (PyYAML silently keeps the
    last of two equal keys), and a tag it cannot construct (``!!python/object``) is named as such."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *base`: merged keys may be overridden by the mapping's own
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, str):
                    written = getattr(key_node, "value", None)
                    hint = f" (quote it: '{written}')" if isinstance(written, str) else ""
                    raise _DocumentError(key_node.start_mark, f"mapping key {written if isinstance(written, str) else key!r} "
                                                              f"is read as {_type_name(key)} {key!r}, not text{hint}")
                if key in seen:
                    raise _DocumentError(key_node.start_mark, f"duplicate key {key!r} (first at line "
                                                              f"{seen[key].line + 1}): YAML keeps only the last")
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)

    def construct_undefined(self, node):
        raise _DocumentError(node.start_mark, f"tag {node.tag!r} is not allowed: case files hold plain data "
                                              f"(mappings, lists, text, numbers, booleans)")


_CaseLoader.add_constructor(None, _CaseLoader.construct_undefined)
_COLLECTION_START = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_COLLECTION_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _check_size(text: str) -> None:
    """Refuse a document nested deeper than MAX_DEPTH or of more than MAX_NODES nodes once its aliases
    are expanded, or with an alias inside its own anchor (a recursive structure), from the parser's
    events (iterative: no recursion, and nothing is built)."""
    nodes = 0
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (expanded nodes, height)
    stack: list[list] = []  # open collections: [anchor, nodes before it, tallest child]
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, _COLLECTION_START):
            nodes += 1
            stack.append([event.anchor, nodes - 1, 0])
            if len(stack) > MAX_DEPTH:
                raise _DocumentError(event.start_mark, f"nested more than {MAX_DEPTH} levels deep")
            continue
        if isinstance(event, yaml.AliasEvent):
            if any(frame[0] == event.anchor for frame in stack):
                raise _DocumentError(event.start_mark, f"alias *{event.anchor} inside its own anchor: "
                                                       f"a recursive structure")
            size, height = sizes.get(event.anchor, (1, 1))  # an undefined alias: the YAML reader names it
            nodes += size
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            height = 1
            if event.anchor:
                sizes[event.anchor] = (1, 1)
        elif isinstance(event, _COLLECTION_END):
            anchor, before, tallest = stack.pop()
            height = tallest + 1
            if anchor:
                sizes[anchor] = (nodes - before, height)
        else:
            continue
        if stack:
            stack[-1][2] = max(stack[-1][2], height)
        if len(stack) + height > MAX_DEPTH:
            raise _DocumentError(event.start_mark, f"nested more than {MAX_DEPTH} levels deep"
                                                   + (" once aliases are expanded" if height > 1 else ""))
        if nodes > MAX_NODES:
            raise _DocumentError(event.start_mark, f"more than {MAX_NODES} nodes once aliases are expanded "
                                                   f"(an alias bomb?): case files are small")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def read_document(path: Path, ctx: "_Context") -> Any:
    """The YAML document of a case file as plain data; every problem of reading it (not a file, not
    UTF-8 text, not YAML, too large, too deep, an alias bomb, a duplicate or non-text key, a Python
    tag) is a CaseFileError with one line naming the line and column."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ctx.error(None, f"cannot read the file: {exc.strerror or _one_line(exc)}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ctx.error(None, f"{len(data)} bytes: a case file is at most {MAX_FILE_BYTES >> 20} MiB of YAML text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ctx.error(None, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}, offset {exc.start}): "
                              f"a case file is YAML text") from None
    if "\x00" in text:
        raise ctx.error(None, f"a NUL character at line {text.count(chr(10), 0, text.index(chr(0))) + 1}: "
                              f"a binary file, not YAML text")
    try:
        _check_size(text)
        return yaml.load(text, Loader=_CaseLoader)
    except _DocumentError as exc:
        raise ctx.error(None, f"{_at(exc.mark)}: {exc.message}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at {_at(mark)}" if mark else ""
        if isinstance(exc, yaml.reader.ReaderError):
            where, problem = f" at offset {exc.position}", f"unacceptable character #x{exc.character:04x}"
        else:
            problem = getattr(exc, "problem", None) or _one_line(exc)
            context = getattr(exc, "context", None)
            problem = f"{context}, {problem}" if context and getattr(exc, "problem", None) else problem
        raise ctx.error(None, f"not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise ctx.error(None, f"nested too deeply to read (at most {MAX_DEPTH} levels)") from None


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
    if not math.isfinite(value):
        raise ctx.error(name, f"expected a finite number, got {value!r}")
    return float(value)


def _impossible_threshold(kind: str, t: Mapping[str, float]) -> tuple[str, str] | None:
    """(threshold, why) for thresholds of a built-in kind that no measurement can meet; None if none."""
    if kind == "flat" and t.get("max_ratio", 1.0) < 1:
        return "max_ratio", "the band [1/max_ratio, max_ratio] is empty below 1"
    if kind == "flat" and t.get("max_difference", 0.0) < 0:
        return "max_difference", "a tolerance is >= 0"
    if kind == "invariant" and t.get("max_abs_difference", 0.0) < 0:
        return "max_abs_difference", "an absolute difference is >= 0"
    for low, high in (("min_ratio", "max_ratio"), ("min", "max")):
        if kind in ("near", "bounded") and low in t and high in t and t[high] < t[low]:
            return high, f"below {low} {t[low]:g}, the band is empty"
    for key in ("min_spearman", "min_pearson"):
        if kind == "agreement" and t.get(key, 0.0) > 1:
            return key, "a correlation is at most 1"
    return None


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
        thresholds = _mapping(ctx, f"metrics.{metric}", thresholds or {}, kind.thresholds | {"alpha", *XFAIL_KEYS})
        if kind.required and not kind.required & set(thresholds):
            raise ctx.error(f"metrics.{metric}", f"needs at least one of: {', '.join(sorted(kind.required))}")
        marked = [key for key in XFAIL_KEYS if key in thresholds]
        if len(marked) > 1:
            raise ctx.error(f"metrics.{metric}.seed_dependent", "either xfail (strict) or seed_dependent, not both")
        xfail = thresholds.get(marked[0]) if marked else None
        if marked and (not isinstance(xfail, str) or not xfail.strip()):
            raise ctx.error(f"metrics.{metric}.{marked[0]}", "expected the reason as a string, with the measured numbers"
                            + (" and the pass rate over master seeds" if marked[0] == "seed_dependent" else ""))
        item_alpha = _number(ctx, f"metrics.{metric}.alpha", thresholds.get("alpha", alpha))
        if not 0 < item_alpha < 1:
            raise ctx.error(f"metrics.{metric}.alpha", f"expected a significance level in (0, 1), got {item_alpha}")
        values = {k: _number(ctx, f"metrics.{metric}.{k}", v) for k, v in thresholds.items() if k in kind.thresholds}
        impossible = _impossible_threshold(kind.name, values)
        if impossible:
            raise ctx.error(f"metrics.{metric}.{impossible[0]}", f"{values[impossible[0]]:g}: {impossible[1]}, so "
                                                                 f"the claim could never pass")
        expectations.append(Expectation(metric=str(metric), thresholds=values, alpha=item_alpha, xfail=xfail,
                                        strict=marked != ["seed_dependent"]))
    return tuple(expectations)


#: Grid points per axis that a grid metric needs (GridSource outputs): chebyshev fits degree-20
#: polynomials (redshift.metrics.polynomial.DEFAULT_DEGREE) along each axis; the others work from
#: RunSettings' minimum of 8. tests/test_kinds.py checks these numbers against the metrics.
GRID_METRIC_MIN_RESOLUTION = {"chebyshev": 21}
#: Kinds whose subjects must each keep MIN_VALID defined samples (kinds._usable), and those whose
#: verdict needs a one-sided Mann-Whitney p < alpha.
_USABLE_KINDS = (evaluate_ordered, evaluate_flat, evaluate_near, evaluate_bounded, evaluate_interaction)
_MANN_WHITNEY_KINDS = (evaluate_ordered,)


def mann_whitney_floor(n: int) -> float:
    """The smallest one-sided Mann-Whitney U p-value two samples of n values can reach (complete
    separation, no ties), as scipy's method 'auto' computes it: exact up to 8 values, else the normal
    approximation with continuity correction (not monotonic in n: 7.8e-5 at 8, 2.1e-4 at 9)."""
    if n <= 8:
        return 1 / math.comb(2 * n, n)
    z = (n * n / 2 - 0.5) / math.sqrt(n * n * (2 * n + 1) / 12)
    return 0.5 * math.erfc(z / math.sqrt(2))


def _check_samples(ctx: _Context, kind: Kind, expectations, samples: int) -> None:
    """Refuse sample counts with which the kind's verdict cannot pass whatever is measured."""
    if kind.evaluate in _USABLE_KINDS and samples < MIN_VALID:
        raise ctx.error("samples", f"{samples} samples per subject: kind '{kind.name}' needs at least {MIN_VALID} "
                                   f"defined values per subject")
    if kind.evaluate in _MANN_WHITNEY_KINDS:
        for e in expectations:
            if mann_whitney_floor(samples) >= e.alpha:
                need = next(n for n in range(samples, 10**6) if mann_whitney_floor(n) < e.alpha)
                raise ctx.error("samples", f"{samples} samples per subject: the one-sided Mann-Whitney p cannot go "
                                           f"below {mann_whitney_floor(samples):.3g}, so metric {e.metric} never "
                                           f"passes at alpha {e.alpha:g}: use at least {need} samples")


def _check_measurable(ctx: _Context, kind: Kind, groups, expectations, samples: int | None, run: RunSettings) -> None:
    """Every subject can produce every metric it is asked for, and can run with these settings."""
    if samples is not None:
        _check_samples(ctx, kind, expectations, samples)
    for subject in dict.fromkeys(s for group in groups for s in group):
        source = SOURCES[subject.source]
        for e in expectations:
            for name in kind.metric_names(e.metric):
                problem = source.cannot_measure(subject.spec, name)
                if problem:
                    raise ctx.error(f"metrics.{e.metric}", f"{subject.label}: {problem}")
                need = GRID_METRIC_MIN_RESOLUTION.get(name) if isinstance(source, GridSource) else None
                if need and run.resolution < need:
                    raise ctx.error("resolution", f"metric {name} needs at least {need} grid points per axis, "
                                                  f"got resolution {run.resolution}")
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
        raise ctx.error(None, f"each claim must be a mapping, got {_type_name(raw)} {raw!r}"[:300])
    claim_id = raw.get("id")
    if not isinstance(claim_id, str) or not ID_PATTERN.match(claim_id):
        raise ctx.error("id", f"expected a lower-case id like 'relu-flat-in-magnitude', got {claim_id!r}")
    ctx.claim = claim_id
    kind = _kind(ctx, raw.get("kind"))
    _mapping(ctx, "", raw, CLAIM_KEYS | set(RUN_KEYS) | set(SOURCES.names()) | set(kind.layout.roles)
             | set(kind.layout.optional))
    for key in ("claim", "source", "provenance", *XFAIL_KEYS):
        if key in raw and not isinstance(raw[key], str):
            raise ctx.error(key, f"expected text, got {_type_name(raw[key])}")
    marked = [key for key in XFAIL_KEYS if key in raw]
    if len(marked) > 1:
        raise ctx.error("seed_dependent", "either xfail (strict) or seed_dependent, not both")
    if marked and not raw[marked[0]].strip():
        raise ctx.error(marked[0], "expected the reason, with the measured numbers (an empty reason would not mark it)")
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
    if marked:
        strict = marked == ["xfail"]
        expectations = tuple(e if e.xfail else replace(e, xfail=raw[marked[0]], strict=strict)
                             for e in expectations)
    premises = _premises(ctx, raw["requires"], claim_id, settings, default_samples) if "requires" in raw else ()
    return Claim(
        path=ctx.path, id=claim_id, kind=kind.name, text=raw.get("claim", ""), source=raw.get("source", ""),
        groups=groups, sweep_field=sweep_field, sweep_values=sweep_values, samples=run.samples,
        resolution=run.resolution, dtype=run.dtype, expectations=expectations, tier=claim_tier, premises=premises,
        provenance=raw.get("provenance", ""))


def _claims(ctx: _Context, document: Any, tier: str, default_samples: int | None) -> list[Claim]:
    document = _mapping(ctx, "", document if document is not None else {}, {"description", "defaults", "claims"})
    defaults = _settings(ctx, _mapping(ctx, "defaults", document.get("defaults", {}),
                                       set(RUN_KEYS) | set(SOURCES.names())), {})
    raw_claims = document.get("claims")
    if not isinstance(raw_claims, list) or not raw_claims:
        raise ctx.error("claims", "expected a non-empty list of claims")
    claims, seen = [], set()
    for i, raw in enumerate(raw_claims):
        ctx.claim, ctx.prefix = f"claims[{i}]", ""  # until its id is read
        claim = _claim(ctx, raw, defaults, tier, default_samples)
        if claim.id in seen:
            raise ctx.error("id", "duplicate claim id in this file")
        seen.add(claim.id)
        claims.append(claim)
    return claims


def load_case_file(path: Path, display_path: str, tier: str = "ci", default_samples: int | None = None) -> list[Claim]:
    """Parse and validate one case file; raises CaseFileError with a one-line message (and nothing
    else: an unexpected exception of a source or a kind becomes one line too, naming the claim). With
    ``default_samples`` (the run's --samples), claims that do not state theirs are checked at that size."""
    ctx = _Context(display_path)
    document = read_document(Path(path), ctx)
    try:
        return _claims(ctx, document, tier, default_samples)
    except CaseFileError:
        raise
    except RecursionError:
        raise ctx.error(None, "nested too deeply to validate") from None
    except Exception as exc:  # a source's or a kind's own bug: still one line, naming the claim
        raise ctx.error(None, f"cannot be validated: {type(exc).__name__}: {_one_line(exc)} (a defect of the "
                              f"suite or of a plugin, not of this file alone: please report it)") from None
