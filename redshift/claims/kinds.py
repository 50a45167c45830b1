"""The claim kinds: one table entry per kind says how its subjects are laid out in a case file, which
thresholds it takes and how it turns measurements into a verdict.

Orderings (``less``, ``increasing``, ``ordering``) need BOTH a one-sided Mann-Whitney U test at the
claim's alpha AND a minimum effect size: the lower end of the 95% bootstrap interval of the median
ratio (difference) must clear ``min_ratio`` (``min_difference``); ``flat``, ``near`` and ``bounded``
need the 95% interval of the stated quantity inside the stated tolerance, so every kind is judged on
intervals; ``interaction`` compares how much one setting moves two subjects (ratio of ratios, with a
test at alpha and its interval); ``invariant`` compares the same networks network by network;
``agreement`` needs a rank correlation over a grid. Each check records ``margins``: how far its
interval ends lie inside the thresholds (negative: outside), for the robustness report.

Kinds are registered in the entry-point group ``redshift.claim_kinds`` (pyproject.toml names these
built-ins there, as a third party names its own); a new kind is one ``Kind`` and its tests.
"""
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from redshift.claims.model import Claim, Expectation, Measure, Measurement, Subject, Verdict
from redshift.claims.stats import (
    interaction_interval, mann_whitney_less, median_difference_interval, median_ratio_interval,
)
from redshift.core import Registry, dotted, lazy_module, merge

scipy_stats = lazy_module("scipy.stats")

MAX_FLAGGED_FRACTION = 0.25  # more near-constant / non-finite networks than this and a subject is unusable
MIN_VALID = 5
MIN_CONFIGURATIONS = 3  # an agreement's grid: fewer points make any rank correlation +-1 or undefined

ReadSubject = Callable[[str, Any], Subject]  # (field name, subject mapping) -> Subject; raises the schema's error
Groups = tuple[tuple[Subject, ...], ...]


class LayoutError(ValueError):
    """A malformed role: ``field`` names it within the claim."""

    def __init__(self, field: str, message: str):
        super().__init__(field, message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Layout:
    """How a kind's subjects are written: the claim keys it needs (``roles``), those it may have
    (``optional``), and ``read(raw, subject) -> (groups, sweep field, sweep values)``."""

    roles: tuple[str, ...]
    read: Callable[[Mapping, ReadSubject], tuple[Groups, str | None, tuple]]
    optional: tuple[str, ...] = ()


def _pair(first: str, second: str) -> Layout:
    def read(raw, subject):
        return ((subject(first, raw[first]),), (subject(second, raw[second]),)), None, ()
    return Layout((first, second), read)


def _read_sweep(raw, subject):
    """One subject per value of ``sweep.field``: the base ``subject`` with that field set."""
    sweep = raw["sweep"]
    if not isinstance(sweep, Mapping) or set(sweep) != {"field", "values"}:
        unknown = sorted(set(sweep) - {"field", "values"}) if isinstance(sweep, Mapping) else []
        if unknown:
            raise LayoutError(f"sweep.{unknown[0]}", "unknown key (allowed: field, values)")
        raise LayoutError("sweep", "needs 'field' (a setting such as weights.scale) and 'values' (a list)")
    values, field = sweep["values"], sweep["field"]
    if not isinstance(field, str) or not field:
        raise LayoutError("sweep.field", f"expected the name of a setting, such as weights.scale, got {field!r}")
    if not isinstance(values, list) or len(values) < 2:
        raise LayoutError("sweep.values", f"expected a list of at least two values, got {values!r}")
    base = raw.get("subject", {})
    if not isinstance(base, Mapping):
        raise LayoutError("subject", f"expected a mapping, got {type(base).__name__} {base!r}")
    subjects = tuple(subject(f"sweep.values[{i}]", merge(base, dotted(field, v))) for i, v in enumerate(values))
    _distinct(subjects, lambda i: f"sweep.values[{i}]")
    return tuple((s,) for s in subjects), field, tuple(values)


def _distinct(subjects, name: Callable[[int], str]) -> None:
    """Refuse two positions holding the same configuration: a claim comparing a subject with itself
    passes (flat, invariant) or fails (orderings) whatever is measured."""
    first: dict = {}
    for i, s in enumerate(subjects):
        key = (s.source, s.spec)
        if key in first:
            raise LayoutError(name(i), f"the same configuration as {name(first[key])} ({s.label}): "
                                       f"a claim must compare different settings")
        first[key] = i


SWEEP = Layout(("sweep",), _read_sweep, optional=("subject",))


def _read_interaction(raw, subject):
    """``a`` and ``b``, each at the two values of ``sweep`` (the knob): ((a@v0, a@v1), (b@v0, b@v1))."""
    values = raw["sweep"].get("values") if isinstance(raw["sweep"], Mapping) else None
    if not isinstance(values, list) or len(values) != 2:
        raise LayoutError("sweep.values", f"an interaction compares two settings of the knob, got {values!r}")
    groups = []
    for role in ("a", "b"):
        base = raw[role]
        if not isinstance(base, Mapping):
            raise LayoutError(role, f"expected a mapping, got {type(base).__name__} {base!r}")
        series, field, swept = _read_sweep({"sweep": raw["sweep"], "subject": base},
                                           lambda name, value: subject(f"{role}.{name}", value))
        groups.append(tuple(s for (s,) in series))
    return tuple(groups), field, swept


INTERACTION_LAYOUT = Layout(("a", "b", "sweep"), _read_interaction)


def _read_groups(raw, subject):
    groups = raw["groups"]
    if not isinstance(groups, list) or len(groups) < 2:
        raise LayoutError("groups", "expected a list of at least two groups (simplest first)")
    for i, g in enumerate(groups):
        if g == [] or not isinstance(g, (list, Mapping)):
            raise LayoutError(f"groups[{i}]", f"expected a subject mapping or a non-empty list of them, got {g!r}")
    read = tuple(tuple(subject(f"groups[{i}][{j}]", s) for j, s in enumerate(g if isinstance(g, list) else [g]))
                 for i, g in enumerate(groups))
    where = [f"groups[{i}][{j}]" for i, g in enumerate(read) for j in range(len(g))]
    _distinct([s for g in read for s in g], where.__getitem__)
    return read, None, ()


def _read_near(raw, subject):
    return ((subject("subject", raw.get("subject", {})),), (subject("reference", raw["reference"]),)), None, ()


def _read_single(raw, subject):
    return ((subject("subject", raw["subject"]),),), None, ()


def _read_grid(raw, subject):
    """The product of ``grid: {setting: [values], ...}``, one subject per combination."""
    grid = raw["grid"]
    if not isinstance(grid, Mapping) or not grid:
        raise LayoutError("grid", "expected a mapping of setting -> list of values")
    axes = []
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise LayoutError(f"grid.{name}", f"expected a non-empty list, got {values!r}")
        for j, v in enumerate(values):
            if v in values[:j]:
                raise LayoutError(f"grid.{name}[{j}]", f"{v!r} repeats grid.{name}[{values.index(v)}]: "
                                                       f"each configuration must differ")
        axes.append([(name, v) for v in values])
    subjects = []
    for combo in itertools.product(*axes):
        overrides: dict = {}
        for name, v in combo:
            overrides = merge(overrides, dotted(name, v))
        subjects.append(subject("grid", overrides))
    if len(subjects) < MIN_CONFIGURATIONS:
        raise LayoutError("grid", f"a rank correlation needs at least {MIN_CONFIGURATIONS} configurations, "
                                  f"the grid has {len(subjects)}")
    combos = list(itertools.product(*axes))
    _distinct(subjects, lambda i: "grid{" + ", ".join(f"{n}: {v!r}" for n, v in combos[i]) + "}")
    return tuple((s,) for s in subjects), None, ()


GROUPS = Layout(("groups",), _read_groups)
NEAR = Layout(("reference",), _read_near, optional=("subject",))
SINGLE = Layout(("subject",), _read_single)
GRID = Layout(("grid",), _read_grid)


def single_metric(key: str) -> tuple[str, ...]:
    return (key,)


def metric_pair(key: str) -> tuple[str, ...]:
    names = tuple(str(key).split("-vs-"))
    if len(names) != 2:
        raise LayoutError(f"metrics.{key}", "agreement keys name a metric pair, e.g. dct-vs-lz")
    return names


@dataclass(frozen=True)
class Kind:
    """One claim kind: layout, thresholds (``required``: at least one of them must be given),
    ``evaluate(claim, expectation, measure, rng) -> Verdict``, how a metric key names metrics, and
    whether its subjects share their networks (``paired``: seeds keyed by the claim)."""

    name: str
    layout: Layout
    thresholds: frozenset[str]
    evaluate: Callable[[Claim, Expectation, Measure, np.random.Generator], Verdict]
    required: frozenset[str] = frozenset()
    metric_names: Callable[[str], tuple[str, ...]] = single_metric
    paired: bool = False
    doc: str = ""


def _usable(verdict: Verdict, m: Measurement) -> bool:
    """Fail the verdict when too many networks of a subject were flagged as degenerate."""
    n = len(m.values)
    if m.flagged > MAX_FLAGGED_FRACTION * n or n - m.flagged < MIN_VALID:
        verdict.check(False, f"{m.label}: {m.flagged} of {n} outputs near-constant or non-finite "
                             f"(at most {MAX_FLAGGED_FRACTION:.0%} allowed); metric {m.metric} undefined there",
                      label=m.label, flagged=m.flagged, n=n)
        return False
    return True


def _flag_note(*ms: Measurement) -> str:
    notes = [f"{m.label}: {m.flagged} flagged" for m in ms if m.flagged]
    return f" [{'; '.join(notes)}]" if notes else ""


def _measured(claim: Claim, e: Expectation, measure: Measure) -> list[list[Measurement]]:
    return [[measure(s, e.metric) for s in group] for group in claim.groups]


def _effect_checks(e: Expectation, ratio: tuple, difference: tuple) -> tuple[bool, str, dict]:
    """The effect-size criteria of an ordering: the interval's lower end clears ``min_ratio`` (default 1
    when no ``min_difference`` is given) and ``min_difference``. (ok, text, margins)."""
    ok, parts, margins = True, [], {}
    if "min_ratio" in e.thresholds or "min_difference" not in e.thresholds:
        need = e.thresholds.get("min_ratio", 1.0)
        value, low, high = ratio
        ok &= low >= need
        margins["ratio"] = low - need
        parts.append(f"ratio {value:.3g} [{low:.3g}, {high:.3g}] (need lower end >= {need:g})")
    if "min_difference" in e.thresholds:
        need = e.thresholds["min_difference"]
        value, low, high = difference
        ok &= low >= need
        margins["difference"] = low - need
        parts.append(f"difference {value:.3g} [{low:.3g}, {high:.3g}] (need lower end >= {need:g})")
    return ok, ", ".join(parts), margins


def _less(verdict: Verdict, a: Measurement, b: Measurement, e: Expectation, rng) -> None:
    """a simpler than b: one-sided MWU p < alpha and the effect sizes' intervals clear their thresholds."""
    if not (_usable(verdict, a) & _usable(verdict, b)):
        return
    p = mann_whitney_less(a.finite, b.finite)
    ratio = median_ratio_interval(a.finite, b.finite, rng)
    difference = median_difference_interval(a.finite, b.finite, rng)
    effect_ok, need, margins = _effect_checks(e, ratio, difference)
    sa, sb = a.summary, b.summary
    verdict.check(p < e.alpha and effect_ok,
                  f"{a.label} {sa}  <  {b.label} {sb}: Mann-Whitney p={p:.2g} (need < {e.alpha:g}), {need}"
                  + _flag_note(a, b),
                  a=a.label, b=b.label, median_a=sa.median, median_b=sb.median, p=p, ratio=ratio[0],
                  ratio_interval=list(ratio[1:]), difference=difference[0], difference_interval=list(difference[1:]),
                  margins=margins)


def evaluate_ordered(claim: Claim, e: Expectation, measure: Measure, rng) -> Verdict:
    """Every member of a group ``less`` than every member of the next (less, increasing, ordering)."""
    verdict = Verdict()
    groups = _measured(claim, e, measure)
    for simpler, more_complex in zip(groups, groups[1:]):
        for a in simpler:
            for b in more_complex:
                _less(verdict, a, b, e, rng)
    return verdict


def evaluate_flat(claim: Claim, e: Expectation, measure: Measure, rng) -> Verdict:
    """Every sweep value against the first: 95% interval of the median ratio (or difference) within tolerance."""
    verdict = Verdict()
    groups = _measured(claim, e, measure)
    base = groups[0][0]
    if not _usable(verdict, base):
        return verdict
    for (m,) in groups[1:]:
        if not _usable(verdict, m):
            continue
        if "max_ratio" in e.thresholds:
            r = e.thresholds["max_ratio"]
            value, lo, hi = median_ratio_interval(base.finite, m.finite, rng)
            ok, bound = (1 / r <= lo and hi <= r), f"[{1 / r:.3g}, {r:.3g}]"
            what, margin = "ratio", min(lo - 1 / r, r - hi)
        else:
            d = e.thresholds["max_difference"]
            value, lo, hi = median_difference_interval(base.finite, m.finite, rng)
            ok, bound = (-d <= lo and hi <= d), f"[{-d:.3g}, {d:.3g}]"
            what, margin = "difference", min(lo + d, d - hi)
        verdict.check(ok, f"{m.label} vs {base.label}: median {what} {value:.3g}, 95% interval [{lo:.3g}, {hi:.3g}] "
                          f"(need inside {bound}); medians {np.median(m.finite):.4g} vs {np.median(base.finite):.4g}"
                          + _flag_note(base, m),
                      subject=m.label, base=base.label, value=value, interval=[lo, hi], margins={what: margin})
    return verdict


def evaluate_near(claim: Claim, e: Expectation, measure: Measure, rng) -> Verdict:
    """median(subject) / median(reference) with its 95% interval inside [min_ratio, max_ratio]."""
    verdict = Verdict()
    (m,), (ref,) = _measured(claim, e, measure)
    if not (_usable(verdict, m) & _usable(verdict, ref)):
        return verdict
    value, lo, hi = median_ratio_interval(ref.finite, m.finite, rng)
    low, high = e.thresholds.get("min_ratio", -np.inf), e.thresholds.get("max_ratio", np.inf)
    verdict.check(low <= lo and hi <= high,
                  f"{m.label} {m.summary} / {ref.label} {ref.summary}: "
                  f"ratio {value:.3g}, 95% interval [{lo:.3g}, {hi:.3g}] (need inside [{low:g}, {high:g}])"
                  + _flag_note(m, ref),
                  subject=m.label, reference=ref.label, ratio=value, interval=[lo, hi],
                  margins={"ratio": min(lo - low, high - hi)})
    return verdict


def evaluate_bounded(claim: Claim, e: Expectation, measure: Measure, rng) -> Verdict:
    """The 95% interval of the median inside [min, max]."""
    verdict = Verdict()
    ((m,),) = _measured(claim, e, measure)
    if not _usable(verdict, m):
        return verdict
    s = m.summary
    low, high = e.thresholds.get("min", -np.inf), e.thresholds.get("max", np.inf)
    verdict.check(low <= s.low and s.high <= high,
                  f"{m.label} median {s} (need interval inside [{low:g}, {high:g}])" + _flag_note(m),
                  subject=m.label, median=s.median, interval=[s.low, s.high],
                  margins={"value": min(s.low - low, high - s.high)})
    return verdict


def evaluate_invariant(claim: Claim, e: Expectation, measure: Measure, rng) -> Verdict:
    """Same networks (shared seed): |metric(a_i) - metric(b_i)| network by network."""
    verdict = Verdict()
    (a,), (b,) = _measured(claim, e, measure)
    diff = np.abs(a.values - b.values)
    if not np.all(np.isfinite(diff)):
        verdict.check(False, f"{a.label} vs {b.label}: {int(np.sum(~np.isfinite(diff)))} networks flagged "
                             f"(metric undefined)", a=a.label, b=b.label)
        return verdict
    if "max_abs_difference" in e.thresholds:
        bound = e.thresholds["max_abs_difference"]
        verdict.check(diff.max() <= bound, f"{a.label} vs {b.label}, same networks: max |difference| "
                                           f"{diff.max():.3g} (need <= {bound:g}), n={len(diff)}",
                      a=a.label, b=b.label, max_abs_difference=float(diff.max()),
                      margins={"max_abs_difference": bound - float(diff.max())})
    if "min_median_abs_difference" in e.thresholds:
        bound = e.thresholds["min_median_abs_difference"]
        med = float(np.median(diff))
        verdict.check(med >= bound, f"{a.label} vs {b.label}, same networks: median |difference| {med:.3g} "
                                    f"(need >= {bound:g}), n={len(diff)}",
                      a=a.label, b=b.label, median_abs_difference=med, margins={"median_abs_difference": med - bound})
    return verdict


def evaluate_agreement(claim: Claim, e: Expectation, measure: Measure, rng) -> Verdict:
    """Spearman (and Pearson) correlation of two metrics' medians over the grid's configurations."""
    verdict = Verdict()
    first, second = metric_pair(e.metric)
    x = np.array([np.nanmedian(measure(s, first).values) for (s,) in claim.groups])
    y = np.array([np.nanmedian(measure(s, second).values) for (s,) in claim.groups])
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < MIN_CONFIGURATIONS:
        verdict.check(False, f"{first} vs {second}: {len(x)} of {len(keep)} configurations defined (a rank "
                             f"correlation needs at least {MIN_CONFIGURATIONS})", configurations=int(len(x)))
        return verdict
    for name, fn in (("spearman", scipy_stats.spearmanr), ("pearson", scipy_stats.pearsonr)):
        key = f"min_{name}"
        if key in e.thresholds:
            rho = float(fn(x, y)[0])
            verdict.check(rho >= e.thresholds[key], f"{name} {first} vs {second} over {len(x)} configurations "
                                                    f"({len(keep) - len(x)} undefined): {rho:.3f} "
                                                    f"(need >= {e.thresholds[key]:g})",
                          correlation=name, value=rho, configurations=int(len(x)),
                          margins={name: rho - e.thresholds[key]})
    return verdict


def evaluate_interaction(claim: Claim, e: Expectation, measure: Measure, rng) -> Verdict:
    """The knob (sweep from v0 to v1) moves b more than a: R = (b1 / b0) / (a1 / a0) of medians with its
    95% interval and one-sided p (redshift.claims.stats.interaction_interval); passes when p < alpha and
    the interval's lower end clears ``min_ratio`` (or D = (b1 - b0) - (a1 - a0) clears ``min_difference``)."""
    verdict = Verdict()
    (a0, a1), (b0, b1) = _measured(claim, e, measure)
    if not all([_usable(verdict, m) for m in (a0, a1, b0, b1)]):
        return verdict
    ratio = "min_ratio" in e.thresholds or "min_difference" not in e.thresholds
    key, what = ("min_ratio", "ratio of ratios") if ratio else ("min_difference", "difference of differences")
    need = e.thresholds.get(key, 1.0 if ratio else 0.0)
    value, low, high, p = interaction_interval(a0.finite, a1.finite, b0.finite, b1.finite, rng, ratio)
    knob = f"{claim.sweep_field} {claim.sweep_values[0]} -> {claim.sweep_values[1]}"
    verdict.check(p < e.alpha and low >= need,
                  f"{knob}: {a0.label} {a0.summary} -> {a1.summary}; {b0.label} {b0.summary} -> {b1.summary}: "
                  f"{what} {value:.3g} [{low:.3g}, {high:.3g}] (need lower end >= {need:g}), p={p:.2g} "
                  f"(need < {e.alpha:g})" + _flag_note(a0, a1, b0, b1),
                  a=a0.label, b=b0.label, value=value, interval=[low, high], p=p, margins={what: low - need})
    return verdict


ORDER_THRESHOLDS = frozenset({"min_ratio", "min_difference"})

LESS = Kind("less", _pair("a", "b"), ORDER_THRESHOLDS, evaluate_ordered,
            doc="a simpler than b: one-sided Mann-Whitney U p < alpha and median(b)/median(a) >= min_ratio "
                "(and median difference >= min_difference)")
INCREASING = Kind("increasing", SWEEP, ORDER_THRESHOLDS, evaluate_ordered,
                  doc="every step of the sweep is a less")
ORDERING = Kind("ordering", GROUPS, ORDER_THRESHOLDS, evaluate_ordered,
                doc="groups simplest first: every member of a group is less than every member of the next")
FLAT = Kind("flat", SWEEP, frozenset({"max_ratio", "max_difference"}), evaluate_flat,
            required=frozenset({"max_ratio", "max_difference"}),
            doc="the 95% interval of median(v)/median(first) lies in [1/max_ratio, max_ratio] "
                "(or of the difference in +-max_difference) for every value")
NEAR_KIND = Kind("near", NEAR, frozenset({"min_ratio", "max_ratio"}), evaluate_near,
                 required=frozenset({"min_ratio", "max_ratio"}),
                 doc="the 95% interval of median(subject)/median(reference) lies in [min_ratio, max_ratio]")
BOUNDED = Kind("bounded", SINGLE, frozenset({"min", "max"}), evaluate_bounded, required=frozenset({"min", "max"}),
               doc="the 95% interval of the median lies in [min, max]")
INVARIANT = Kind("invariant", _pair("a", "b"), frozenset({"max_abs_difference", "min_median_abs_difference"}),
                 evaluate_invariant, required=frozenset({"max_abs_difference", "min_median_abs_difference"}),
                 paired=True,
                 doc="a and b on the same networks: max |metric(a_i) - metric(b_i)| <= max_abs_difference "
                     "(or median >= min_median_abs_difference)")
INTERACTION = Kind("interaction", INTERACTION_LAYOUT, ORDER_THRESHOLDS, evaluate_interaction,
                   doc="a knob (sweep: field, two values) moves b more than a: (b1/b0)/(a1/a0) of medians has "
                       "one-sided p < alpha and its 95% interval's lower end >= min_ratio (default 1; or the "
                       "difference of differences >= min_difference): 'A is unaffected while B grows'")
AGREEMENT = Kind("agreement", GRID, frozenset({"min_spearman", "min_pearson"}), evaluate_agreement,
                 required=frozenset({"min_spearman", "min_pearson"}), metric_names=metric_pair,
                 doc="Spearman / Pearson of two metrics' medians across the grid's configurations >= "
                     "min_spearman / min_pearson; metric keys are pairs, dct-vs-lz")


def _kind_check(obj: Any) -> str | None:
    return None if isinstance(obj, Kind) else f"expected a redshift.claims.kinds.Kind, got {type(obj).__name__}"


KINDS: Registry[Kind] = Registry("redshift.claim_kinds", "claim kind", _kind_check, first=(
    "less", "increasing", "ordering", "interaction", "flat", "near", "bounded", "invariant", "agreement"))
