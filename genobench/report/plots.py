"""Plots of the leaderboard page: the :class:`Plot` interface, the data a plot reads
(:class:`PlotPanel`), drawing helpers, and :func:`draw_plots`.

Plots extend the report the way metrics extend the benchmark: a plugin registers :class:`Plot`
instances through ``genobench_register_plots(register)`` (:mod:`genobench.hookspecs`), and each
plot names the metric whose curves (or values) it reads, so a metric can bring its own plot.
The core's plots (:mod:`genobench.report.figures`) come through the very same hook.
"""

from __future__ import annotations

import base64
import dataclasses
import inspect
import io
import math
from collections.abc import Sequence

import numpy as np

from ..messages import warn
from ..records import JobRecord, finite
from .text import one_line

__all__ = ["Plot", "PlotPanel", "Style", "draw_plots", "figure", "nanmean", "panel_grid",
           "series", "tidy"]

#: A figure wider than this (inches) spans the page's width.
WIDE_INCHES = 7.0


@dataclasses.dataclass(frozen=True)
class Style:
    """How a generator is drawn: its matplotlib ``color``; ``reference`` rows (real data) in
    grey, dashed or hatched."""

    color: str = "C0"
    reference: bool = False


@dataclasses.dataclass(frozen=True)
class PlotPanel:
    """What one suite gives its plots.

    :ivar suite: the suite's table in :func:`genobench.report.leaderboard_data` (``name``,
        ``rows`` with ``cells`` {metric: {mean, std, ...}}, ``families``, ``pareto``, ...).
    :ivar jobs: the suite's successful :class:`~genobench.records.JobRecord` objects, in the
        table's row order (the best generator first, reference rows last).
    :ivar styles: {generator: :class:`Style`}, one colour per generator across suites.
    """

    suite: dict
    jobs: list[JobRecord]
    styles: dict[str, Style]

    def style(self, generator: str) -> Style:
        """The :class:`Style` of ``generator`` (a default for one the table lacks)."""
        return self.styles.get(generator, Style())

    def curves(self, metric: str) -> list[tuple[str, dict]]:
        """(generator, curves) of every job that stored curves for ``metric``, in row order
        (several per generator with several seeds)."""
        return [(job.generator, job.curves[metric]) for job in self.jobs
                if isinstance(job.curves.get(metric), dict)]

    def first_series(self, metric: str, *names: str) -> dict[str, list[np.ndarray]]:
        """{generator: the named series of ``metric``'s curves} from each generator's first
        job holding them all with one length (see :func:`series`)."""
        found: dict[str, list[np.ndarray]] = {}
        for generator, curves in self.curves(metric):
            arrays = series(curves, *names)
            if arrays is not None and generator not in found:
                found[generator] = arrays
        return found


class Plot:
    """Base class of the leaderboard's plots; subclasses set the attributes and :meth:`draw`.

    :ivar name: unique registry name.
    :ivar metric: the metric whose curves (or values) it reads: the plot is drawn for a suite
        only where a successful job holds that metric; None for a plot of the scorecard's own
        data (drawn for every suite).
    :ivar title: the figure's title on the page; :ivar caption: one or two sentences under it
        (both read from the class docstring when not set: title line, then caption).
    :ivar wide: True to span the page's width (a figure over 7 inches wide always does).
    """

    name: str = ""
    metric: str | None = None
    title: str = ""
    caption: str = ""
    wide: bool = False

    def __init_subclass__(cls, **kwargs):
        """A subclass without ``title``/``caption`` takes them from its docstring: the first
        line is the title, the paragraphs after it the caption."""
        super().__init_subclass__(**kwargs)
        title, _, caption = inspect.cleandoc(vars(cls).get("__doc__") or "").partition("\n")
        if title and "title" not in vars(cls):
            cls.title = title.strip().rstrip(".")
        if caption.strip() and "caption" not in vars(cls):
            cls.caption = " ".join(caption.split())

    def draw(self, panel: PlotPanel):
        """Draw the plot of one suite: a :class:`matplotlib.figure.Figure` (make it with
        :func:`figure`), or None when the suite has nothing to show."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<plot {self.name!r} of {self.metric or 'the scorecard'}>"


def series(curves, *names: str) -> list[np.ndarray] | None:
    """The named series of a curves dict as float arrays (None in JSON -> NaN) when all exist,
    are non-empty lists and have one length; else None."""
    arrays = []
    for name in names:
        values = curves.get(name) if isinstance(curves, dict) else None
        if not isinstance(values, (list, tuple)) or not values:
            return None
        arrays.append(np.array([np.nan if finite(v) is None else v for v in values], float))
    return arrays if len({len(a) for a in arrays}) == 1 else None


def nanmean(arrays: list[np.ndarray]) -> np.ndarray:
    """Element-wise mean ignoring NaN; NaN (without numpy's warning) where every value is."""
    stacked = np.asarray(arrays, dtype=float)
    counts = np.isfinite(stacked).sum(axis=0)
    sums = np.where(np.isfinite(stacked), stacked, 0.0).sum(axis=0)
    return np.divide(sums, counts, out=np.full(sums.shape, np.nan), where=counts > 0)


def figure(width: float, height: float):
    """A matplotlib figure of ``width`` x ``height`` inches to draw a plot on.

    A bare Figure on an Agg canvas, no pyplot: nothing global to switch or close, and the figure
    is freed with its last reference (matplotlib's "Embedding in a web application server").
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    made = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(made)
    return made


def panel_grid(count: int, *, columns: int, width: float, height: float, **subplots):
    """A figure of ``count`` small multiples, at most ``columns`` a row, each ``width`` x
    ``height`` inches; returns (figure, the ``count`` axes used). Unused cells are hidden."""
    columns = max(1, min(count, columns))
    rows = math.ceil(count / columns)
    made = figure(width * columns + 0.4, height * rows + 0.4)
    grid = made.subplots(rows, columns, squeeze=False, **subplots)
    for axes in grid.flat[count:]:
        axes.set_visible(False)
    return made, list(grid.flat[:count])


def tidy(axes) -> None:
    """The house style: no top or right spine, a light grid behind the data."""
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(True, color="0.9", linewidth=0.8)
    axes.set_axisbelow(True)


def _png(plot: Plot, made) -> dict:
    buffer = io.BytesIO()
    made.savefig(buffer, format="png", dpi=110, facecolor="white")
    wide = bool(plot.wide) or made.get_figwidth() > WIDE_INCHES
    made.clear()
    return dict(title=one_line(plot.title) or plot.name, caption=one_line(plot.caption),
                wide=wide, png=base64.b64encode(buffer.getvalue()).decode("ascii"))


def _styles(data: dict) -> dict[str, Style]:
    """One colour per generator, in ranking order, the same in every suite; reference rows
    grey."""
    order = [entry["generator"] for entry in data["ranking"]]
    colours = {name: f"C{index % 10}" for index, name in enumerate(order)}
    reference = {row["generator"] for suite in data["suites"] for row in suite["rows"]
                 if row["is_reference"]}
    names = {row["generator"] for suite in data["suites"] for row in suite["rows"]}
    return {name: Style(color="0.35" if name in reference else colours.get(name, "C0"),
                        reference=name in reference) for name in names}


def draw_plots(plots: Sequence[Plot], records: list[JobRecord],
               data: dict) -> dict[str, list[dict]]:
    """Every plot of every suite, as {suite: [{title, caption, wide, png}]} with ``png``
    base64-encoded, plots in the order given.

    A plot whose metric no successful job of the suite holds is skipped without drawing; one
    that raises is left out with a warning naming it (a plugin's plot never stops the report).
    """
    styles = _styles(data)
    drawn = {}
    for suite in data["suites"]:
        position = {row["generator"]: index for index, row in enumerate(suite["rows"])}
        jobs = sorted((r for r in records if r.suite == suite["name"] and r.ok),
                      key=lambda r: position[r.generator])  # the table's row order
        panel = PlotPanel(suite=suite, jobs=jobs, styles=styles)
        made = []
        for plot in plots:
            if plot.metric is not None and not any(
                    plot.metric in job.curves or plot.metric in job.metrics for job in jobs):
                continue
            try:
                result = plot.draw(panel)
            except Exception as error:  # noqa: BLE001 - one plot must not lose the page
                warn(f"plot {plot.name!r}", f"not drawn for suite {suite['name']!r}: "
                     f"{type(error).__name__}: {error}")
                continue
            if result is not None:
                made.append(_png(plot, result))
        drawn[suite["name"]] = made
    return drawn
