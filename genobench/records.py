"""Typed records that cross a process or a file: one job's outcome (:class:`JobRecord`), a
metric's value (:class:`MetricValue`), a phase's resources (:class:`PhaseTiming`) and what a
metric is (:class:`MetricInfo`).

A job record is made by :func:`genobench.runner.run_job` (in a job's process or on a Dask
worker), sent back to the run, stored as JSON (:func:`genobench.results.write_result`) and read
by the leaderboard, the scorecard and ``genobench compare``. A metric's description travels
inside every record (``metric_info``), so all of these can be made from result files alone,
without the plugin that computed them installed. :class:`MetricInfo` owns the one definition of
"distance to the ideal" that ranking, comparison and the scorecard share.

Record schema versions (the ``schema`` key):

- 1: the first stored records; ``metric_info`` entries may lack the scorecard's fields
  (``baseline``, ``risk``, ``tolerance``, ``scored``) or name the old "fidelity" family. They
  are read with the defaults.
- 2: written through :meth:`JobRecord.to_json`: the same keys, every ``metric_info`` entry a
  complete :class:`MetricInfo`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
from collections.abc import Mapping

from .errors import ResultsError

#: The schema version of the job records this version writes (see the module docstring).
SCHEMA = 2

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
    :ivar label: short column heading (default: the name).
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
    :ivar neutral: for a gate whose no-leak value is known whatever the set sizes (privacy
        loss 0, a membership AUC 0.5, a DCR ratio 1), that value: a reference that sits on the
        safe side of it by sampling chance does not tighten the gate. None: unknown.
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
    neutral: float | None = None

    def __post_init__(self):
        if not self.label:  # the heading defaults to the name
            object.__setattr__(self, "label", self.name)
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


def job_id(suite: str, generator: str, seed: int) -> str:
    """File-system-safe identifier of one job: ``<suite>__<generator>__seed<seed>``."""
    def safe(text) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text))

    return f"{safe(suite)}__{safe(generator)}__seed{int(seed)}"


def finite(value) -> float | None:
    """``value`` as a finite float; None for missing, NaN, infinite, boolean or non-numbers."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclasses.dataclass(frozen=True)
class MetricValue:
    """One metric's outcome in a job record.

    :ivar value: the value, or None when the metric did not apply or failed (see ``note``).
    :ivar note: why the value is missing, or a remark shown with it.
    :ivar seconds: seconds the metric took (summed over reference draws).
    :ivar draws: a reference record's value on each reference draw (``value`` is their mean,
        their spread the scorecard's noise floor); None in other records.
    """

    value: float | None
    note: str | None = None
    seconds: float | None = None
    draws: tuple[float | None, ...] | None = None

    def to_json(self) -> dict:
        """``{value, note, seconds[, draws]}`` (seconds and draws only when known)."""
        payload = dict(value=self.value, note=self.note)
        if self.seconds is not None:
            payload["seconds"] = self.seconds
        if self.draws is not None:
            payload["draws"] = list(self.draws)
        return payload

    @classmethod
    def from_json(cls, payload) -> MetricValue:
        """Read :meth:`to_json` output; a value that is no finite number reads as None."""
        payload = payload if isinstance(payload, Mapping) else {}
        draws = payload.get("draws")
        note = payload.get("note")
        return cls(value=finite(payload.get("value")),
                   note=None if note is None else str(note),
                   seconds=finite(payload.get("seconds")),
                   draws=None if not isinstance(draws, (list, tuple))
                   else tuple(finite(d) for d in draws))


@dataclasses.dataclass(frozen=True)
class PhaseTiming:
    """Resources one phase of a job used (:func:`genobench.resources.measure`): wall seconds,
    CPU seconds and peak resident memory of the job's process in MB."""

    seconds: float | None = None
    cpu_seconds: float | None = None
    peak_rss_mb: float | None = None

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, payload) -> PhaseTiming:
        payload = payload if isinstance(payload, Mapping) else {}
        return cls(**{field.name: finite(payload.get(field.name))
                      for field in dataclasses.fields(cls)})


#: The two values of :attr:`JobRecord.status`.
STATUSES = ("ok", "failed")


@dataclasses.dataclass(frozen=True)
class JobRecord:
    """The outcome of one (suite, generator, seed) job, finished or failed.

    Frozen: a new record comes from :func:`dataclasses.replace`. The mappings of plain JSON
    values (``curves``, ``training``, ``generator_info``, ``suite_info``, ``provenance``) are the
    plugin's and the harness's free-form data and are read, never changed.

    :ivar schema: the record schema version (:data:`SCHEMA` for new records).
    :ivar status: "ok" or "failed".
    :ivar error: a failed job's reason, one line; None when ok.
    :ivar error_detail: the last lines of its traceback, or None.
    :ivar metrics: {metric name: :class:`MetricValue`}.
    :ivar curves: {metric name: {series name: [numbers]}}: what plots read.
    :ivar metric_info: {metric name: :class:`MetricInfo`}.
    :ivar timing: {phase ("fit", "generate", "evaluate"): :class:`PhaseTiming`}.
    :ivar training: what the generator's fit did (:meth:`genobench.Generator.fit_report`):
        epochs, stop reason, kept epoch, FLOP/s fraction, validation history; {} when the
        generator reports nothing, ``{"error": ...}`` when its report was unusable.
    :ivar generator_info: description, citation, options, provider, is_reference,
        supports_phenotypes.
    :ivar suite_info: what :func:`genobench.suites.materialize` reports: sizes, n_snps,
        chromosomes, cache_key, source versions, traits.
    :ivar provenance: timestamp, software versions, parameters (suite, generator, seed,
        options, profile, limits, size), machine and command
        (:func:`genobench.results.provenance`).
    """

    suite: str
    generator: str
    seed: int
    status: str = "failed"
    error: str | None = None
    error_detail: str | None = None
    metrics: Mapping[str, MetricValue] = dataclasses.field(default_factory=dict)
    curves: Mapping[str, dict] = dataclasses.field(default_factory=dict)
    metric_info: Mapping[str, MetricInfo] = dataclasses.field(default_factory=dict)
    timing: Mapping[str, PhaseTiming] = dataclasses.field(default_factory=dict)
    training: Mapping = dataclasses.field(default_factory=dict)
    generator_info: Mapping = dataclasses.field(default_factory=dict)
    suite_info: Mapping = dataclasses.field(default_factory=dict)
    provenance: Mapping = dataclasses.field(default_factory=dict)
    schema: int = SCHEMA

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"job record status must be 'ok' or 'failed', not {self.status!r}")

    @property
    def id(self) -> str:
        """The job's identifier (:func:`job_id`), also its file name without ``.json``."""
        return job_id(self.suite, self.generator, self.seed)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def is_reference(self) -> bool:
        """True for a reference row (real individuals, :mod:`genobench.anchors`)."""
        return bool(self.generator_info.get("is_reference"))

    def value(self, metric: str) -> float | None:
        """``metric``'s finite value, or None (absent, not applicable or failed)."""
        result = self.metrics.get(metric)
        return None if result is None else finite(result.value)

    def failed(self, error: str, detail: str | None = None) -> JobRecord:
        """This record marked failed with a one-line reason."""
        return dataclasses.replace(self, status="failed", error=error, error_detail=detail)

    def to_json(self) -> dict:
        """Plain JSON values, keys in the order of the stored files."""
        return dict(
            schema=self.schema, suite=self.suite, generator=self.generator, seed=self.seed,
            status=self.status, error=self.error, error_detail=self.error_detail,
            metrics={name: value.to_json() for name, value in self.metrics.items()},
            curves=dict(self.curves),
            metric_info={name: info.to_json() for name, info in self.metric_info.items()},
            timing={phase: usage.to_json() for phase, usage in self.timing.items()},
            training=dict(self.training),
            generator_info=dict(self.generator_info), suite_info=dict(self.suite_info),
            provenance=dict(self.provenance))

    @classmethod
    def from_json(cls, payload, *, where: str = "job record") -> JobRecord:
        """Read :meth:`to_json` output or a schema-1 record (missing keys defaulted).

        :raises ResultsError: naming ``where`` when ``payload`` is no job record (no suite,
            generator or seed) or was written by a newer genobench (a schema above
            :data:`SCHEMA`).
        """
        if not isinstance(payload, Mapping) or not all(
                key in payload for key in ("suite", "generator", "seed")):
            raise ResultsError(f"{where}: not a genobench job record (needs suite, generator "
                               "and seed)")
        schema = payload.get("schema", 1)
        if not isinstance(schema, int) or schema > SCHEMA:
            raise ResultsError(f"{where}: job record schema {schema!r} is newer than this "
                               f"genobench reads ({SCHEMA}); upgrade genobench")
        try:
            seed = int(payload["seed"])
        except (TypeError, ValueError):
            raise ResultsError(f"{where}: seed {payload['seed']!r} is not an integer") from None

        def table(key) -> Mapping:
            value = payload.get(key)
            return value if isinstance(value, Mapping) else {}

        error = payload.get("error")
        detail = payload.get("error_detail")
        return cls(
            schema=schema, suite=str(payload["suite"]), generator=str(payload["generator"]),
            seed=seed, status="ok" if payload.get("status") == "ok" else "failed",
            error=None if error is None else str(error),
            error_detail=None if detail is None else str(detail),
            metrics={str(name): MetricValue.from_json(value)
                     for name, value in table("metrics").items()},
            curves=dict(table("curves")),
            metric_info={str(name): MetricInfo.from_json(dict(
                             raw if isinstance(raw, Mapping) else {}, name=str(name)))
                         for name, raw in table("metric_info").items()},
            timing={str(phase): PhaseTiming.from_json(usage)
                    for phase, usage in table("timing").items()},
            training=dict(table("training")),
            generator_info=dict(table("generator_info")), suite_info=dict(table("suite_info")),
            provenance=dict(table("provenance")))


def as_record(record) -> JobRecord:
    """``record`` as a :class:`JobRecord`: itself, or read from its JSON form (a dict)."""
    return record if isinstance(record, JobRecord) else JobRecord.from_json(record)
