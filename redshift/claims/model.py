"""What a case file becomes, and what measuring and judging it produce: subjects, claims, measurements,
verdicts. Plain frozen data, shared by the schema, the claim kinds, the measurer and the plugin."""
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from redshift.claims.stats import Summary
from redshift.parse import spec_mapping


def digest(value: Any) -> str:
    """16 hex digits of sha256 of ``value`` as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Subject:
    """One sampled distribution: a source (``network``, ``function``, ...) and its frozen spec."""

    source: str
    spec: Any
    label: str  # for people; specs are the keys

    @cached_property
    def mapping(self) -> dict:
        """The spec as plain data (what results.json stores)."""
        return spec_mapping(self.spec)

    @cached_property
    def canonical(self) -> str:
        """Canonical JSON of the source and spec: seeds and keys derive from it, so the same
        configuration keeps the same networks wherever it appears."""
        return json.dumps({"source": self.source, "spec": self.mapping}, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Expectation:
    """What must hold for one metric (for ``agreement``, one metric pair ``a-vs-b``)."""

    metric: str
    thresholds: Mapping[str, float]
    alpha: float
    xfail: str | None = None
    provenance: str | None = None  # where the thresholds come from (paper section, or a margin fixed before measuring)
    #: False for a ``seed_dependent`` expectation: an xfail that may pass (it holds under some master seeds).
    strict: bool = True


@dataclass(frozen=True)
class Claim:
    """One claim of one case file (or a premise of one); it becomes one pytest item per expectation."""

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
    premises: tuple["Claim", ...] = ()  # claims this one stands on: if one fails, the claim is INCONCLUSIVE
    provenance: str = ""  # where the thresholds come from: paper section / figure / number, or a margin fixed before measuring

    @property
    def uid(self) -> str:
        return f"{self.path}::{self.id}"

    @property
    def subjects(self) -> tuple[Subject, ...]:
        return tuple(dict.fromkeys(s for group in self.groups for s in group))


@dataclass(frozen=True)
class Measurement:
    """Metric values of one subject: ``values`` holds every sample's value, NaN where flagged."""

    subject: Subject
    metric: str
    values: np.ndarray
    setting: str  # what shaped the outputs, e.g. "64^2 float64"
    config: str  # digest of what was sampled: the subject, samples, settings, seed key
    summary: Summary | None  # median and 95% bootstrap interval of the finite values (None: all flagged)

    @property
    def label(self) -> str:
        return self.subject.label

    @cached_property
    def finite(self) -> np.ndarray:
        return self.values[np.isfinite(self.values)]

    @property
    def flagged(self) -> int:
        """Samples whose outputs were near-constant or non-finite (metric NaN): never counted."""
        return int(np.count_nonzero(~np.isfinite(self.values)))


Measure = Callable[[Subject, str], Measurement]


@dataclass
class Verdict:
    """Outcome of one claim item: ``lines`` are the human-readable evidence, ``numbers`` go to JSON."""

    passed: bool = True
    lines: list[str] = field(default_factory=list)
    numbers: list[dict] = field(default_factory=list)
    inconclusive: bool = False  # a premise failed: the claim's own checks say nothing

    def check(self, ok: bool, line: str, **numbers) -> None:
        self.passed &= bool(ok)
        self.lines.append(("ok    " if ok else "FAIL  ") + line)
        self.numbers.append({"ok": bool(ok), **numbers})
