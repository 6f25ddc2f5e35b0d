"""The metric interface and the evaluation context metrics share.

A metric compares real individuals (the test split) with synthetic ones on the same SNPs and
returns one number, plus optional curves kept for plots. Expensive intermediates (allele
frequencies, nearest-neighbour distances, LD-decay curves) are computed once per evaluation
through :meth:`EvaluationContext.cached` and shared by every metric that needs them.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

from ..data import GenotypeData
from ..records import DIRECTIONS, MetricInfo
from .options import MetricOptions, NoOptions, settings_for

__all__ = ["DIRECTIONS", "INFO_FIELDS", "Metric", "MetricResult", "EvaluationContext", "evaluate"]


@dataclasses.dataclass
class MetricResult:
    """One metric's outcome.

    :ivar value: the score, or None when the metric does not apply (see ``note``).
    :ivar note: why the value is missing, or a remark shown with it.
    :ivar curves: plot data, a dict of name -> list of numbers (JSON-serialisable).
    """

    value: float | None
    note: str | None = None
    curves: dict = dataclasses.field(default_factory=dict)


#: The names a metric class may set one by one instead of declaring ``info`` whole.
INFO_FIELDS = frozenset(field.name for field in dataclasses.fields(MetricInfo))


class Metric:
    """Base class of metrics: declare :attr:`info` and implement :meth:`compute`.

    :cvar info: what the metric measures and how its values are read, a
        :class:`~genobench.records.MetricInfo` (name, label, family, direction, ideal, range,
        description, citation, scored, baseline, risk, tolerance, neutral; its docstring
        says what each means). genobench's own metrics take theirs from
        :mod:`genobench.metrics.catalogue`. A class may instead set any of those fields as a
        class attribute (``name = "mean_dosage_gap"``, ``direction = "lower"``): they are
        folded into ``info`` when the class is made, over its base class's. Either way
        ``Metric.name``, ``metric.family`` ... read the info.
    :cvar needs_train: True when the metric reads the training split (``context.train``).
    :cvar Options: the options it reads (:mod:`genobench.metrics.options`), with defaults.
    """

    info: MetricInfo = MetricInfo(name="", range=(-1.0, 1.0))
    needs_train: bool = False
    Options: type[MetricOptions] = NoOptions

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        declared = {key: value for key, value in vars(cls).items() if key in INFO_FIELDS}
        if declared:
            if "name" in declared and "label" not in declared:
                declared["label"] = declared["name"]
            if "range" in declared:
                declared["range"] = tuple(declared["range"])
            cls.info = dataclasses.replace(cls.info, **declared)
        _expose_info(cls)

    def settings(self, context: EvaluationContext) -> MetricOptions:
        """This metric's validated options in ``context`` (its own sub-table over shared)."""
        return context.settings(self.Options, self.info.name)

    def compute(self, context: EvaluationContext) -> MetricResult | float | None:
        """Compute the metric; return a :class:`MetricResult`, a float, or None (n/a)."""
        raise NotImplementedError

    def describe(self) -> dict:
        """The metric's documentation as a dict (for leaderboards and ``genobench list``)."""
        return self.info.to_json()


def _expose_info(cls: type[Metric]) -> None:
    """Make ``cls.name``, ``cls.family`` ... read ``cls.info`` (for classes and instances)."""
    for field in INFO_FIELDS:
        setattr(cls, field, getattr(cls.info, field))


_expose_info(Metric)


@dataclasses.dataclass
class EvaluationContext:
    """The data one evaluation compares, and a cache of shared intermediates.

    :ivar real: the real individuals (test split), n_real x m.
    :ivar synthetic: the synthetic individuals on the same SNPs, n_syn x m.
    :ivar train: the training split, when privacy against training data is wanted.
    :ivar options: the suite's ``[evaluate]`` options as validated by
        :func:`.options.validate_evaluate_table` (read through :meth:`settings`).
    :ivar device: torch device for the kernels.
    :ivar truth: what a simulated suite knows about its data, or None: ``{"traits": {name:
        {...}}}`` with each trait's causal variants and effects (see
        :func:`genobench.traits.simulate_traits`).
    """

    real: GenotypeData
    synthetic: GenotypeData
    train: GenotypeData | None = None
    options: dict = dataclasses.field(default_factory=dict)
    device: str = "cpu"
    truth: dict | None = None
    _cache: dict = dataclasses.field(default_factory=dict, repr=False)

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """Return ``compute()``, computing it once per context under ``key``."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def settings(self, model: type[MetricOptions], metric: str | None = None):
        """``model`` filled from the suite's ``[evaluate]`` options (cached): shared values,
        then ``metric``'s own sub-table; see :func:`.options.settings_for`."""
        return self.cached(f"settings/{model.__name__}/{metric}",
                           lambda: settings_for(model, self.options, metric))


def _as_result(outcome) -> MetricResult:
    if isinstance(outcome, MetricResult):
        result = outcome
    elif outcome is None:
        result = MetricResult(None, "not applicable")
    else:
        result = MetricResult(float(outcome))
    if result.value is not None:
        result.value = float(result.value)
        if math.isnan(result.value):
            result.value, result.note = None, result.note or "undefined (NaN)"
    return result


def _one_line_reason(error: Exception) -> str:
    """An exception as one line; an invalid option names the option and what is expected."""
    errors = getattr(error, "errors", None)
    if callable(errors) and type(error).__name__ == "ValidationError":
        first = error.errors()[0]
        given = first.get("input")
        return (f"option {'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
                + ("" if isinstance(given, dict) else f" (got {given!r})"))
    return (str(error).strip().splitlines() or [""])[0]


def evaluate(context: EvaluationContext, metrics) -> tuple[dict[str, MetricResult], dict]:
    """Compute each metric in ``metrics`` on ``context``.

    A metric that raises gets a missing value with the error as its note; the others go on.
    :returns: (results by metric name, seconds spent per metric).
    """
    results, seconds = {}, {}
    for metric in metrics:
        start = time.perf_counter()
        if metric.needs_train and context.train is None:
            results[metric.name] = MetricResult(None, "needs the training split")
        else:
            try:
                results[metric.name] = _as_result(metric.compute(context))
            except Exception as error:  # one metric's failure must not lose the others
                first_line = _one_line_reason(error)
                results[metric.name] = MetricResult(
                    None, f"failed: {type(error).__name__}: {first_line}")
        seconds[metric.name] = time.perf_counter() - start
    return results, seconds
