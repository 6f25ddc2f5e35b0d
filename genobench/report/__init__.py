"""Leaderboards: the results of a benchmark run as HTML, Markdown, JSON and CSV.

- :mod:`.data`: job records made into plain leaderboard data (:func:`leaderboard_data`, the CSV
  table :func:`leaderboard_frame`);
- :mod:`.ranking`: distance to the ideal, honest ties (:func:`tied_ranks`), the noise floor and
  the quality-against-cost front;
- :mod:`.render`: the files, through the Jinja2 templates (:func:`render_leaderboard`);
- :mod:`.plots`: the :class:`Plot` interface plugins implement (hook
  ``genobench_register_plots``) and the helpers plots draw with;
- :mod:`.figures`: the core's plots, registered through the same hook;
- :mod:`.text`: numbers and escaping (:func:`format_number`).
"""

from .data import PHASES, leaderboard_data, leaderboard_frame
from .plots import Plot, PlotPanel, Style
from .ranking import tied_ranks
from .render import DEFAULT_TITLE, FORMATS, render_leaderboard
from .text import escape_markdown, format_number, format_score

__all__ = [
    "DEFAULT_TITLE", "FORMATS", "PHASES", "Plot", "PlotPanel", "Style", "escape_markdown",
    "format_number", "format_score", "leaderboard_data", "leaderboard_frame",
    "render_leaderboard", "tied_ranks",
]
