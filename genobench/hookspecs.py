"""Every genobench hook, documented.

Plugins implement these with ``@genobench.hookimpl``. Each hook that adds things receives a
``register`` callback owned by the host: the host checks what is registered and rejects a
duplicate name with an error naming both providers (the pattern of llm's ``register_models``).
Implementations may accept fewer arguments than the specification.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("genobench")
hookimpl = pluggy.HookimplMarker("genobench")


@hookspec
def genobench_register_generators(register):
    """Register genotype generators.

    :param register: call ``register(GeneratorClass)`` once per generator; the class is a
        subclass of :class:`genobench.Generator` with a unique ``name``. The harness
        instantiates it (with hyperparameters as keyword arguments) once per job.
    :returns: nothing.
    """


@hookspec
def genobench_register_metrics(register):
    """Register evaluation metrics.

    :param register: call ``register(metric)`` once per metric; ``metric`` is an instance of
        :class:`genobench.Metric` with a unique ``name``, a ``direction`` ("higher", "lower" or
        "target"), an ``ideal`` value and a ``compute(context)`` method.
    :returns: nothing.
    """


@hookspec
def genobench_register_suite_sources(register):
    """Register suite sources: the ``kind`` of data a suite's ``[source]`` table names.

    :param register: call ``register(source)`` once per source; ``source`` is an instance of
        :class:`genobench.SuiteSource` with a unique ``name`` (for example ``"stdpopsim"``), an
        ``Options`` pydantic model that validates the ``[source]`` table, and a
        ``load(options, *, seed)`` method returning a :class:`genobench.GenotypeData`.
    :returns: nothing.
    """


@hookspec
def genobench_register_plots(register):
    """Register plots of the HTML leaderboard, drawn once per suite.

    :param register: call ``register(plot)`` once per plot; ``plot`` is an instance of
        :class:`genobench.report.Plot` with a unique ``name``, the ``metric`` whose curves (or
        values) it reads (None for a plot of the scorecard's data), a ``title``, a ``caption``
        and a ``draw(panel)`` method that gets a :class:`genobench.report.PlotPanel` and
        returns a matplotlib figure, or None when the suite has nothing to show. Plots appear
        in registration order, the core's first.
    :returns: nothing.
    """
