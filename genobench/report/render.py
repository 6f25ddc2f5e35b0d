"""Rendering: one leaderboard data set written out as HTML, Markdown, JSON and CSV.

The HTML and Markdown pages come from the Jinja2 templates in ``genobench/report/templates``;
the HTML page also embeds the registered plots (:mod:`genobench.report.plots`). Everything a
plugin supplies is escaped for the format it lands in: HTML by autoescaping, Markdown by
:func:`~genobench.report.text.escape_markdown` on every ``{{ }}`` output.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import jinja2

from ..records import JobRecord, as_record
from ..registry import get_registry
from ..results import write_json_atomic
from .data import leaderboard_data, leaderboard_frame
from .plots import Plot, draw_plots
from .text import compact, escape_markdown, format_number, format_score

__all__ = ["DEFAULT_TITLE", "FORMATS", "render_leaderboard"]

FORMATS = ("html", "md", "json", "csv")
DEFAULT_TITLE = "genobench leaderboard"
TEMPLATES = Path(__file__).parent / "templates"


def render_leaderboard(records: list[JobRecord | dict], out_dir: Path, *,
                       title: str | None = None,
                       plots: Sequence[Plot] | None = None) -> dict[str, Path]:
    """Write ``leaderboard.html``, ``.md``, ``.json`` and ``.csv`` for ``records`` into ``out_dir``.

    The HTML page is self-contained (inline CSS, JS and PNG plots). Each suite gets every plot
    in ``plots`` (default: those registered through ``genobench_register_plots``, in
    registration order) whose metric the suite's records hold; a plot whose data is absent or
    malformed is left out.

    :returns: the written paths by format: ``html``, ``md``, ``json``, ``csv``.
    """
    records = [as_record(record) for record in records]
    data = leaderboard_data(records)
    if plots is None:
        plots = list(get_registry().plots.values())
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {fmt: out_dir / f"leaderboard.{fmt}" for fmt in FORMATS}
    context = dict(title=title or DEFAULT_TITLE, data=data,
                   metrics={info["name"]: info for info in data["metrics"]})
    html = _environment(html=True).get_template("leaderboard.html.j2")
    paths["html"].write_text(html.render(context, plots=draw_plots(plots, records, data)),
                             encoding="utf-8")
    markdown = _environment(html=False).get_template("leaderboard.md.j2")
    paths["md"].write_text(markdown.render(context), encoding="utf-8")
    write_json_atomic(paths["json"], data)
    # The atomic writer's temporary file is private (0600); give the JSON the others' mode.
    paths["json"].chmod(paths["md"].stat().st_mode & 0o777)
    leaderboard_frame(records).to_csv(paths["csv"], index=False)
    return paths


def _environment(*, html: bool) -> jinja2.Environment:
    """Jinja2 environment for the templates: HTML autoescaped, Markdown escaped by
    :func:`escape_markdown` on every ``{{ }}`` output (so neither can be forgotten)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=html, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, finalize=None if html else escape_markdown)
    environment.filters.update(num=format_number, score=format_score, cell=_cell_text,
                               arrow=_arrow, metric_title=_metric_title, cell_title=_cell_title,
                               compact=compact)
    return environment


def _cell_text(cell: dict) -> str:
    if cell["mean"] is None:
        return "n/a"
    text = format_number(cell["mean"])
    if cell["n"] > 1 and cell["std"] is not None:
        text += f" ± {format_number(cell['std'], 2)}"
    return text


def _cell_title(cell: dict) -> str:
    parts = [f"{cell['n']} seed{'s' if cell['n'] != 1 else ''}"] if cell["n"] else []
    if cell["rank"] is not None:
        parts.append(f"rank {format_number(cell['rank'])}")
    return "; ".join(parts + cell["notes"])


def _arrow(info: dict) -> str:
    """↑ higher is better, ↓ lower is better, ◎ x closest to x is better."""
    if info["direction"] == "target":
        return f"◎ {format_number(info['ideal'])}"
    return {"higher": "↑", "lower": "↓"}.get(info["direction"], "")


def _metric_title(info: dict) -> str:
    better = {"higher": "higher is better", "lower": "lower is better",
              "target": "closest to the ideal is better"}.get(info["direction"], "")
    parts = [info["description"], f"ideal {format_number(info['ideal'])}" if info["ideal"]
             is not None else "", better, info["citation"]]
    return " · ".join(part for part in parts if part)
