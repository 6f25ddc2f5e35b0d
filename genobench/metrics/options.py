"""The options metrics read, each declared once with its default and its check.

A metric names the pydantic model of the options it reads (:attr:`Metric.Options`); the suite's
``[evaluate]`` table sets them, for every metric that reads an option (``ld_max_distance =
500_000``) or for one metric only (``[evaluate.gwas_hit_overlap] gwas_window = 50_000``).
:func:`validate_evaluate_table` checks that table against the registered metrics when the suite
is parsed, so a misspelt option is one error line naming the file, the metric and the options it
knows; :meth:`EvaluationContext.settings` hands each metric its validated options.
"""

from __future__ import annotations

from typing import Literal, Optional

import pydantic

from ..errors import SpecError


class MetricOptions(pydantic.BaseModel):
    """Base of option models: unknown keys and wrong types are errors; frozen once read."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class NoOptions(MetricOptions):
    """A metric without options."""


class SamplingOptions(MetricOptions):
    """``subsample_seed`` seeds every subsample a metric draws."""

    subsample_seed: int = 0


class NeighbourOptions(SamplingOptions):
    """Nearest-neighbour searches (AATS, k-NN, DCR, privacy gates).

    ``distance``: "euclidean" or "manhattan". ``knn_k``: k of the k-NN balls; unset, 0.5 % of
    the individuals (at least 3); a k above 10 % of them saturates and is refused.
    """

    distance: Literal["euclidean", "manhattan"] = "euclidean"
    knn_k: Optional[pydantic.PositiveInt] = None


class LDOptions(MetricOptions):
    """LD-decay curve and pairwise LD window: distances in bp, log-spaced bins."""

    ld_min_distance: pydantic.PositiveFloat = 1_000.0
    ld_max_distance: pydantic.PositiveInt = 1_000_000
    ld_bins: pydantic.PositiveInt = 16


class PCAOptions(SamplingOptions):
    """PCAs of the structure metrics: ``pca_components`` components of dosages centred
    (``pca_scaler`` "none", as the paper) or Patterson-scaled; ``wasserstein_max_points``
    individuals per set at most in the optimal transport."""

    pca_components: pydantic.PositiveInt = 10
    pca_scaler: Literal["none", "patterson"] = "none"
    wasserstein_max_points: pydantic.PositiveInt = 2000


class DetectionOptions(PCAOptions):
    """The detection test: a classifier on the pooled PCA, ``detection_folds``-fold CV."""

    detection_folds: int = pydantic.Field(5, ge=2)
    distance: Literal["euclidean", "manhattan"] = "euclidean"


class AATSOptions(NeighbourOptions):
    """AATS and its neighbour searches."""


class GwasOptions(MetricOptions):
    """GWAS hits matched within ``gwas_window`` bp (real vs synthetic, or to causal loci)."""

    gwas_window: pydantic.PositiveFloat = 100_000.0


def option_models(metrics) -> dict[str, type[MetricOptions]]:
    """Each metric's option model, by metric name."""
    return {metric.name: getattr(metric, "Options", NoOptions) for metric in metrics}


def known_options(metrics) -> dict[str, list[str]]:
    """Every option any of ``metrics`` reads, with the metrics that read it."""
    known: dict[str, list[str]] = {}
    for name, model in option_models(metrics).items():
        for field in model.model_fields:
            known.setdefault(field, []).append(name)
    return known


def _first_error(error: pydantic.ValidationError) -> str:
    first = error.errors()[0]
    given = first.get("input")
    shown = "" if isinstance(given, dict) or given is None else f" (got {given!r})"
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}{shown}"


def validate_evaluate_table(table: dict, metrics, *, where: str) -> dict:
    """Check an ``[evaluate]`` table's options against the registered ``metrics``.

    :param table: the table without its ``metrics`` list: option values, and sub-tables named
        after a metric with options for that metric only.
    :returns: the table, values as the option models read them.
    :raises SpecError: one line naming the file, the option and the metric(s).
    """
    models = option_models(metrics)
    known = known_options(metrics)
    checked: dict = {}
    for key, value in table.items():
        if isinstance(value, dict):
            if key not in models:
                raise SpecError(f"{where}: [evaluate.{key}]: no registered metric {key!r}")
            model = models[key]
            unknown = sorted(set(value) - set(model.model_fields))
            if unknown:
                options = ", ".join(model.model_fields) or "none"
                raise SpecError(f"{where}: [evaluate.{key}] unknown option {unknown[0]!r} of "
                                f"metric {key} (its options: {options})")
            try:
                checked[key] = model(**value).model_dump(include=set(value))
            except pydantic.ValidationError as error:
                raise SpecError(f"{where}: [evaluate.{key}] {_first_error(error)}") from None
            continue
        if key not in known:
            listing = "; ".join(f"{option} ({', '.join(readers[:3])}"
                                f"{', ...' if len(readers) > 3 else ''})"
                                for option, readers in sorted(known.items()))
            raise SpecError(f"{where}: [evaluate] unknown metric option {key!r}; options of the "
                            f"registered metrics: {listing}")
        for reader in known[key]:
            try:
                models[reader](**{key: value})
            except pydantic.ValidationError as error:
                raise SpecError(f"{where}: [evaluate] {_first_error(error)} "
                                f"(metric {reader})") from None
        checked[key] = value
    return checked


def settings_for(model: type[MetricOptions], options: dict, metric: str | None = None):
    """``model`` filled from an evaluation's options: the shared values it declares, then the
    metric's own sub-table over them; defaults for the rest."""
    values = {k: v for k, v in options.items()
              if k in model.model_fields and not isinstance(v, dict)}
    if metric is not None and isinstance(options.get(metric), dict):
        values.update({k: v for k, v in options[metric].items() if k in model.model_fields})
    return model(**values)
