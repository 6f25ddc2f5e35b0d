"""Typed records that cross a process or a file: what a metric is (:class:`MetricInfo`).

A metric's description travels inside every job record (``metric_info``), so a leaderboard, a
comparison or a scorecard can be made from result files alone, without the plugin that
computed them installed. :class:`MetricInfo` is that description, frozen and validated once,
and it owns the one definition of "distance to the ideal" that ranking, comparison and the
scorecard share.
"""

from __future__ import annotations

import dataclasses
import math

#: Which way a metric is better: larger, smaller, or closest to :attr:`MetricInfo.ideal`.
DIRECTIONS = ("higher", "lower", "target")
#: Scorecard families (issue "A verdict that cannot be gamed"): fidelity is the mean of the
#: first three; diversity and association are scored apart; privacy metrics are gates.
FIDELITY_FAMILIES = ("marginal", "ld", "structure")
FAMILIES = FIDELITY_FAMILIES + ("diversity", "association", "privacy", "other")
#: Which side of a privacy gate is the risky one.
RISKS = ("higher", "lower")


@dataclasses.dataclass(frozen=True)
class MetricInfo:
    """What a metric measures and how its values are read.

    :ivar name: registry name.
    :ivar label: short column heading.
    :ivar family: one of :data:`FAMILIES`.
    :ivar direction: one of :data:`DIRECTIONS`.
    :ivar ideal: the value a perfect generator would get (None: unknown).
    :ivar scored: True when the metric counts in its family's scorecard score (a metric
        derived from others, such as k-NN F1, is shown but not counted twice).
    :ivar baseline: the anchor generator whose value is 0 on the scorecard scale
        (:mod:`genobench.anchors`).
    :ivar risk: for a privacy gate, the side that signals a leak ("higher" or "lower");
        None for a metric that is no gate.
    :ivar tolerance: the smallest allowance of a gate beyond the reference's value, in the
        metric's units (the reference's own spread counts when larger).
    """

    name: str
    label: str = ""
    family: str = "other"
    direction: str = "higher"
    ideal: float | None = 1.0
    range: tuple = (None, None)
    description: str = ""
    citation: str = ""
    scored: bool = True
    baseline: str = "independent_sites"
    risk: str | None = None
    tolerance: float = 0.0

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"metric {self.name!r}: direction must be one of "
                             f"{', '.join(DIRECTIONS)}, not {self.direction!r}")
        if self.risk is not None and self.risk not in RISKS:
            raise ValueError(f"metric {self.name!r}: risk must be 'higher', 'lower' or None")

    @property
    def is_gate(self) -> bool:
        """True for a privacy gate (pass/fail against the reference, never averaged)."""
        return self.risk is not None

    def distance_to_ideal(self, value: float | None) -> float | None:
        """How far ``value`` is from the best (smaller is better); None when undefined.

        For "higher"/"lower" metrics without an ideal the distance is taken from 0, which
        keeps every comparison's order.
        """
        if value is None or not math.isfinite(value):
            return None
        ideal = 0.0 if self.ideal is None else float(self.ideal)
        if self.direction == "higher":
            return ideal - value
        if self.direction == "lower":
            return value - ideal
        if self.ideal is None:
            return None
        return abs(value - ideal)

    def to_json(self) -> dict:
        """Plain JSON values (the ``metric_info`` entry of a job record)."""
        payload = dataclasses.asdict(self)
        payload["range"] = list(self.range)
        return payload

    @classmethod
    def from_json(cls, payload: dict) -> MetricInfo:
        """Read :meth:`to_json` output, or an older record's entry (unknown keys ignored,
        missing ones defaulted; an old "fidelity" family reads as "other")."""
        fields = {field.name for field in dataclasses.fields(cls)}
        values = {key: value for key, value in (payload or {}).items() if key in fields}
        values.setdefault("name", str((payload or {}).get("name", "")))
        if values.get("family") not in FAMILIES:
            values["family"] = "other"
        if values.get("direction") not in DIRECTIONS:
            values["direction"] = "higher"
        values["range"] = tuple(values.get("range") or (None, None))
        if values.get("risk") not in RISKS:
            values["risk"] = None
        return cls(**values)
