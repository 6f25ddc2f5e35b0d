"""The descriptions of genobench's own metrics, kept as data in ``catalogue.toml``.

What a metric measures and how its values are read (family, direction, ideal, range, the
scorecard's baseline, a privacy gate's risk side and tolerance, description, citation) is one
:class:`~genobench.records.MetricInfo` a metric. The first-party metrics read theirs from one
table here (``info = metric_info("allele_frequency_r")``), so the glossary, the scorecard and
the docs have one source; a plugin's metric declares its own :class:`MetricInfo` (or the class
attributes of the same names, see :class:`genobench.metrics.base.Metric`).

In the file, ``citation`` is a format string over the ``[citations]`` table
(``"{xie_2026}; {nei_1973}"``); ``nan`` stands for "none" where TOML has no null (an unknown
ideal, an unbounded range end).
"""

from __future__ import annotations

import functools
import math
from importlib import resources

import tomllib

from ..records import MetricInfo

__all__ = ["metric_info", "catalogue"]


def _none_for_nan(value):
    return None if isinstance(value, float) and math.isnan(value) else value


@functools.cache
def catalogue() -> dict[str, MetricInfo]:
    """Every first-party metric's :class:`MetricInfo`, by metric name (read once)."""
    text = resources.files(__package__).joinpath("catalogue.toml").read_text(encoding="utf-8")
    tables = tomllib.loads(text)
    citations = tables.pop("citations")
    infos = {}
    for name, table in tables.items():
        fields = {key: _none_for_nan(value) for key, value in table.items()}
        fields["range"] = tuple(_none_for_nan(bound) for bound in table.get("range", ()))
        fields["citation"] = table.get("citation", "").format_map(citations)
        infos[name] = MetricInfo(name=name, **fields)
    return infos


def metric_info(name: str) -> MetricInfo:
    """The catalogue's :class:`MetricInfo` of first-party metric ``name`` (KeyError if none)."""
    return catalogue()[name]
