"""genobench's own metrics, registered through the same hook as any plugin's metrics.

Each family's module (:mod:`.fidelity`, :mod:`.privacy`, :mod:`.structure`,
:mod:`.association`) lists its metrics in ``METRICS``; this module registers them all, in the
leaderboard's column order.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from . import association, fidelity, privacy, structure

#: Every core metric, in registration (column) order.
METRICS = fidelity.METRICS + privacy.METRICS + structure.METRICS + association.METRICS


@hookimpl
def genobench_register_metrics(register):
    """Register the core metrics."""
    for metric in METRICS:
        register(metric)
