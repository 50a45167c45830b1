"""Verdicts: each claim kind turns measurements into PASS / FAIL with the numbers behind it.

Orderings (``less``, ``increasing``, ``ordering``) need BOTH a one-sided Mann-Whitney U test at the
claim's alpha AND a minimum effect size on the medians; ``flat``, ``near`` and ``bounded`` need the
95% bootstrap interval of the stated quantity inside the stated tolerance; ``invariant`` compares
the same networks network by network; ``agreement`` needs a rank correlation over a sweep.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as scipy_stats

from redshift.claims.measure import Measurement
from redshift.claims.schema import Claim, Expectation, Subject
from redshift.claims.stats import (
    mann_whitney_less, median_difference_interval, median_ratio_interval, summarise,
)

MAX_FLAGGED_FRACTION = 0.25  # more near-constant / non-finite networks than this and a subject is unusable
MIN_VALID = 5

Measure = Callable[[Subject, str], Measurement]


@dataclass
class Verdict:
    """Outcome of one claim item: ``lines`` are the human-readable evidence, ``numbers`` go to JSON."""

    passed: bool = True
    lines: list[str] = field(default_factory=list)
    numbers: list[dict] = field(default_factory=list)

    def check(self, ok: bool, line: str, **numbers) -> None:
        self.passed &= bool(ok)
        self.lines.append(("ok    " if ok else "FAIL  ") + line)
        self.numbers.append({"ok": bool(ok), **numbers})


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


def _less(verdict: Verdict, a: Measurement, b: Measurement, e: Expectation, rng) -> None:
    """a simpler than b: one-sided MWU p < alpha, median(b)/median(a) >= min_ratio, difference >= min_difference."""
    if not (_usable(verdict, a) & _usable(verdict, b)):
        return
    p = mann_whitney_less(a.finite, b.finite)
    ratio, r_lo, r_hi = median_ratio_interval(a.finite, b.finite, rng)
    diff, d_lo, d_hi = median_difference_interval(a.finite, b.finite, rng)
    min_ratio = e.thresholds.get("min_ratio", 1.0)
    min_diff = e.thresholds.get("min_difference", 0.0)
    ok = p < e.alpha and ratio >= min_ratio and diff >= min_diff
    sa, sb = summarise(a.finite, rng), summarise(b.finite, rng)
    need = f"ratio {ratio:.3g} [{r_lo:.3g}, {r_hi:.3g}] (need >= {min_ratio:g})"
    if "min_difference" in e.thresholds:
        need += f", difference {diff:.3g} [{d_lo:.3g}, {d_hi:.3g}] (need >= {min_diff:g})"
    verdict.check(ok, f"{a.label} {sa}  <  {b.label} {sb}: Mann-Whitney p={p:.2g} (need < {e.alpha:g}), {need}"
                      + _flag_note(a, b),
                  a=a.label, b=b.label, median_a=sa.median, median_b=sb.median, p=p, ratio=ratio,
                  ratio_interval=[r_lo, r_hi], difference=diff)


def _ordered(groups: list[list[Measurement]], verdict: Verdict, e: Expectation, rng) -> None:
    for simpler, more_complex in zip(groups, groups[1:]):
        for a in simpler:
            for b in more_complex:
                _less(verdict, a, b, e, rng)


def _flat(groups: list[list[Measurement]], verdict: Verdict, e: Expectation, rng) -> None:
    """Every sweep value against the first: 95% interval of the median ratio (or difference) within tolerance."""
    base = groups[0][0]
    if not _usable(verdict, base):
        return
    for (m,) in groups[1:]:
        if not _usable(verdict, m):
            continue
        if "max_ratio" in e.thresholds:
            r = e.thresholds["max_ratio"]
            value, lo, hi = median_ratio_interval(base.finite, m.finite, rng)
            ok, bound = (1 / r <= lo and hi <= r), f"[{1 / r:.3g}, {r:.3g}]"
            what = "ratio"
        else:
            d = e.thresholds["max_difference"]
            value, lo, hi = median_difference_interval(base.finite, m.finite, rng)
            ok, bound = (-d <= lo and hi <= d), f"[{-d:.3g}, {d:.3g}]"
            what = "difference"
        verdict.check(ok, f"{m.label} vs {base.label}: median {what} {value:.3g}, 95% interval [{lo:.3g}, {hi:.3g}] "
                          f"(need inside {bound}); medians {np.median(m.finite):.4g} vs {np.median(base.finite):.4g}"
                          + _flag_note(base, m),
                      subject=m.label, base=base.label, value=value, interval=[lo, hi])


def _near(groups: list[list[Measurement]], verdict: Verdict, e: Expectation, rng) -> None:
    """median(subject) / median(reference) with its 95% interval inside [min_ratio, max_ratio]."""
    (m,), (ref,) = groups
    if not (_usable(verdict, m) & _usable(verdict, ref)):
        return
    value, lo, hi = median_ratio_interval(ref.finite, m.finite, rng)
    low, high = e.thresholds.get("min_ratio", -np.inf), e.thresholds.get("max_ratio", np.inf)
    ok = low <= lo and hi <= high
    verdict.check(ok, f"{m.label} {summarise(m.finite, rng)} / {ref.label} {summarise(ref.finite, rng)}: "
                      f"ratio {value:.3g}, 95% interval [{lo:.3g}, {hi:.3g}] (need inside [{low:g}, {high:g}])"
                      + _flag_note(m, ref),
                  subject=m.label, reference=ref.label, ratio=value, interval=[lo, hi])


def _bounded(groups: list[list[Measurement]], verdict: Verdict, e: Expectation, rng) -> None:
    """The 95% interval of the median inside [min, max]."""
    ((m,),) = groups
    if not _usable(verdict, m):
        return
    s = summarise(m.finite, rng)
    low, high = e.thresholds.get("min", -np.inf), e.thresholds.get("max", np.inf)
    verdict.check(low <= s.low and s.high <= high,
                  f"{m.label} median {s} (need interval inside [{low:g}, {high:g}])" + _flag_note(m),
                  subject=m.label, median=s.median, interval=[s.low, s.high])


def _invariant(groups: list[list[Measurement]], verdict: Verdict, e: Expectation, rng) -> None:
    """Same networks (shared seed): |metric(a_i) - metric(b_i)| network by network."""
    (a,), (b,) = groups
    diff = np.abs(a.values - b.values)
    if not np.all(np.isfinite(diff)):
        verdict.check(False, f"{a.label} vs {b.label}: {int(np.sum(~np.isfinite(diff)))} networks flagged "
                             f"(metric undefined)", a=a.label, b=b.label)
        return
    if "max_abs_difference" in e.thresholds:
        bound = e.thresholds["max_abs_difference"]
        verdict.check(diff.max() <= bound, f"{a.label} vs {b.label}, same networks: max |difference| "
                                           f"{diff.max():.3g} (need <= {bound:g}), n={len(diff)}",
                      a=a.label, b=b.label, max_abs_difference=float(diff.max()))
    if "min_median_abs_difference" in e.thresholds:
        bound = e.thresholds["min_median_abs_difference"]
        med = float(np.median(diff))
        verdict.check(med >= bound, f"{a.label} vs {b.label}, same networks: median |difference| {med:.3g} "
                                    f"(need >= {bound:g}), n={len(diff)}",
                      a=a.label, b=b.label, median_abs_difference=med)


def _agreement(claim: Claim, e: Expectation, measure: Measure, verdict: Verdict) -> None:
    """Spearman (and Pearson) correlation of two metrics' medians over the sweep's configurations."""
    first, second = e.metric.split("-vs-")
    x = np.array([np.nanmedian(measure(s, first).values) for (s,) in claim.groups])
    y = np.array([np.nanmedian(measure(s, second).values) for (s,) in claim.groups])
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    for name, fn in (("spearman", scipy_stats.spearmanr), ("pearson", scipy_stats.pearsonr)):
        key = f"min_{name}"
        if key in e.thresholds:
            rho = float(fn(x, y)[0])
            verdict.check(rho >= e.thresholds[key], f"{name} {first} vs {second} over {len(x)} configurations "
                                                    f"({len(keep) - len(x)} undefined): {rho:.3f} "
                                                    f"(need >= {e.thresholds[key]:g})",
                          correlation=name, value=rho, configurations=int(len(x)))


GROUP_KINDS = {
    "less": _ordered, "increasing": _ordered, "ordering": _ordered, "flat": _flat,
    "near": _near, "bounded": _bounded, "invariant": _invariant,
}


def evaluate(claim: Claim, e: Expectation, measure: Measure, rng: np.random.Generator) -> Verdict:
    verdict = Verdict()
    if claim.kind == "agreement":
        _agreement(claim, e, measure, verdict)
    else:
        groups = [[measure(s, e.metric) for s in group] for group in claim.groups]
        GROUP_KINDS[claim.kind](groups, verdict, e, rng)
    return verdict
