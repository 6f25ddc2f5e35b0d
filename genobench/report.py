"""Leaderboards: the results of a benchmark run as HTML, Markdown, JSON and CSV.

:func:`leaderboard_data` turns job records (see :mod:`genobench.results`) into plain data: per
suite a table of generators x metrics (mean and spread over seeds, the best cell per metric,
timings), an overall ranking, the metric glossary and a provenance summary.
:func:`render_leaderboard` writes that one data set out through the Jinja2 templates in
``genobench/templates`` and adds matplotlib plots to the HTML page. Everything a plugin supplies
(names, descriptions, errors, notes) is escaped for the format it lands in.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from .errors import ResultsError
from .metrics.base import DIRECTIONS, Metric
from .results import write_json_atomic

PHASES = ("fit", "generate", "evaluate")
#: Column order of metric families; other families follow.
FAMILIES = ("fidelity", "association", "privacy")
#: The curves and metric the plots read (see :func:`render_leaderboard`).
LD_DECAY, ALLELE_FREQUENCY, AATS = "ld_decay_distance", "allele_frequency_r", "aats"
FORMATS = ("html", "md", "json", "csv")
DEFAULT_TITLE = "genobench leaderboard"


# -- the data -------------------------------------------------------------------------------

def leaderboard_data(records: list[dict]) -> dict:
    """The leaderboard of ``records`` as JSON-ready plain data.

    :returns: ``ranking`` (generators by mean rank over every suite and metric), ``suites``
        (per suite: ``name``, ``info``, ``metrics`` (column names), ``rows`` with ``cells``
        {metric: {mean, std, n, notes, best, rank}} and ``timing``), ``metrics`` (the glossary,
        in column order), ``generators`` (their documentation) and ``provenance`` (software,
        seeds, machines, timestamps, commands).
    """
    if not records:
        raise ResultsError("no result records to make a leaderboard from")
    metrics = _metric_glossary(records)
    suites = [_suite_table(name, group, metrics) for name, group in _groups(records, "suite")]
    return dict(ranking=_ranking(suites), suites=suites, metrics=list(metrics.values()),
                generators=_generator_glossary(records), provenance=_provenance_summary(records))


def leaderboard_frame(records: list[dict]) -> pd.DataFrame:
    """Long table, one row per suite, generator, seed and metric (the CSV export).

    Columns: suite, generator, seed, status, is_reference, metric, value, note, error. A job
    with no metric values (a failed one) keeps one row with an empty metric and its error.
    """
    rows = []
    for record in records:
        job = dict(suite=record["suite"], generator=record["generator"], seed=record["seed"],
                   status=record.get("status"),
                   is_reference=bool((record.get("generator_info") or {}).get("is_reference")))
        error = _one_line(record.get("error")) or None
        results = record.get("metrics") or {}
        for name, result in results.items():
            result = result if isinstance(result, dict) else {}
            rows.append(dict(job, metric=name, value=_number(result.get("value")),
                             note=_one_line(result.get("note")) or None, error=error))
        if not results:
            rows.append(dict(job, metric=None, value=None, note=None, error=error))
    columns = ["suite", "generator", "seed", "status", "is_reference", "metric", "value", "note",
               "error"]
    return pd.DataFrame(rows, columns=columns)


def _groups(records: list[dict], key: str) -> list[tuple[str, list[dict]]]:
    """Records grouped by ``key``, groups in order of first appearance."""
    groups: dict[str, list[dict]] = {}
    for record in records:
        groups.setdefault(str(record[key]), []).append(record)
    return list(groups.items())


def _number(value) -> float | None:
    """``value`` as a finite float, or None for missing, NaN or non-numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _one_line(text) -> str:
    """``text`` on one line with runs of white space collapsed ("" for None)."""
    return " ".join(str(text).split()) if text is not None else ""


def _generator_glossary(records: list[dict]) -> list[dict]:
    """Each generator's documentation from its first record, contenders first."""
    documented: dict[str, dict] = {}
    for record in records:
        info = record.get("generator_info") or {}
        documented.setdefault(str(record["generator"]), dict(
            name=str(record["generator"]), description=_one_line(info.get("description")),
            citation=_one_line(info.get("citation")), provider=_one_line(info.get("provider")),
            is_reference=bool(info.get("is_reference")),
            supports_phenotypes=bool(info.get("supports_phenotypes"))))
    return sorted(documented.values(), key=lambda info: info["is_reference"])


def _metric_glossary(records: list[dict]) -> dict[str, dict]:
    """Every metric the records name, by name, documented from the first ``metric_info``
    that describes it; ordered by family, then by first appearance."""
    seen: dict[str, dict | None] = {}
    for record in records:
        described = record.get("metric_info") or {}
        for name in [*(record.get("metrics") or {}), *described]:
            if seen.get(name) is None:
                seen[name] = described.get(name)
    glossary = [_metric_info(name, info or {}) for name, info in seen.items()]
    family_order = lambda info: (FAMILIES.index(info["family"])  # noqa: E731
                                 if info["family"] in FAMILIES else len(FAMILIES))
    return {info["name"]: info for info in sorted(glossary, key=family_order)}


def _metric_info(name: str, raw: dict) -> dict:
    direction = raw.get("direction") if raw.get("direction") in DIRECTIONS else None
    return dict(name=name, label=_one_line(raw.get("label")) or name,
                family=str(raw.get("family") or "other"), direction=direction,
                ideal=_number(raw.get("ideal")),
                range=[_number(bound) for bound in raw.get("range") or []],
                description=_one_line(raw.get("description")),
                citation=_one_line(raw.get("citation")))


def _distance(info: dict, value: float | None) -> float | None:
    """:meth:`Metric.distance_to_ideal` of ``value`` under ``info`` (smaller is better);
    None when the value is missing or the metric has no usable direction."""
    direction, ideal = info["direction"], info["ideal"]
    if value is None or direction is None or (direction == "target" and ideal is None):
        return None
    metric = Metric()
    # For "higher"/"lower" the ideal only shifts every distance equally; 0 keeps the order.
    metric.direction, metric.ideal = direction, 0.0 if ideal is None else ideal
    return metric.distance_to_ideal(value)


def _suite_table(name: str, records: list[dict], metrics: dict[str, dict]) -> dict:
    columns = [m for m in metrics if any(m in (r.get("metrics") or {}) for r in records)]
    rows = [_row(generator, group, columns) for generator, group in _groups(records, "generator")]
    _rank_rows(rows, [metrics[m] for m in columns])
    # Ranked generators first, best first; then unranked ones; the reference rows last.
    rows.sort(key=lambda row: (row["is_reference"], row["mean_rank"] is None,
                               row["mean_rank"] or 0.0))
    return dict(name=name, info=records[0].get("suite_info") or {}, metrics=columns, rows=rows)


def _row(generator: str, records: list[dict], columns: list[str]) -> dict:
    """One generator's row in a suite: metric cells over its successful seeds, timings, errors."""
    ok = [r for r in records if r.get("status") == "ok"]
    failed = [r for r in records if r.get("status") != "ok"]
    info = records[0].get("generator_info") or {}
    cells = {}
    for name in columns:
        values, notes = [], []
        for record in ok:
            result = (record.get("metrics") or {}).get(name) or {}
            value = _number(result.get("value"))
            note = _one_line(result.get("note")) or (None if value is not None else "not computed")
            if value is not None:
                values.append(value)
            if note and note not in notes:
                notes.append(note)
        cells[name] = dict(
            mean=float(np.mean(values)) if values else None,
            # Sample standard deviation (ddof 1) over seeds: seeds are a sample of runs.
            std=float(np.std(values, ddof=1)) if len(values) > 1 else None,
            n=len(values), notes=notes, best=False, rank=None)
    status = "ok" if not failed else "partial" if ok else "failed"
    return dict(generator=generator, is_reference=bool(info.get("is_reference")),
                description=_one_line(info.get("description")),
                citation=_one_line(info.get("citation")), provider=_one_line(info.get("provider")),
                status=status, seeds=sorted(r["seed"] for r in ok),
                failed_seeds=sorted(r["seed"] for r in failed),
                errors=[dict(seed=r["seed"],
                             error=_one_line(r.get("error")) or "failed (no reason recorded)")
                        for r in failed],
                cells=cells, timing=_timing(ok or records), mean_rank=None)


def _timing(records: list[dict]) -> dict:
    """Mean seconds per phase over ``records``, and the peak memory over all phases and seeds."""
    timing = {}
    for phase in PHASES:
        seconds = [_number(((r.get("timing") or {}).get(phase) or {}).get("seconds"))
                   for r in records]
        seconds = [s for s in seconds if s is not None]
        timing[f"{phase}_s"] = float(np.mean(seconds)) if seconds else None
    peaks = [_number(usage.get("peak_rss_mb")) for r in records
             for usage in (r.get("timing") or {}).values() if isinstance(usage, dict)]
    peaks = [p for p in peaks if p is not None]
    timing["peak_rss_mb"] = max(peaks) if peaks else None
    return timing


def _rank_rows(rows: list[dict], metrics: list[dict]) -> None:
    """Mark the best cell and rank the non-reference rows on each metric, in place.

    Rows are compared on their mean over seeds by distance to the ideal; equal distances tie
    and share the average of their ranks (fractional ranking, as in Demsar 2006, JMLR 7:1-30,
    "Statistical comparisons of classifiers over multiple data sets"). A generator whose every
    job failed ranks last on each metric, so failing never pays; a value that is n/a for a
    successful job (a metric that does not apply) is left out of that metric's ranking.
    """
    contenders = [row for row in rows if not row["is_reference"]]
    for info in metrics:
        name = info["name"]
        distances = {}
        for row in contenders:
            distance = _distance(info, row["cells"][name]["mean"])
            if distance is not None:
                # 12 significant digits: equal up to float noise counts as a tie.
                distances[row["generator"]] = float(f"{distance:.12g}")
        if not distances:
            continue
        best = min(distances.values())
        for row in contenders:
            if row["status"] == "failed":
                distances[row["generator"]] = math.inf
        ranks = pd.Series(distances).rank(method="average")
        for row in contenders:
            cell = row["cells"][name]
            if row["generator"] in ranks.index:
                cell["rank"] = float(ranks[row["generator"]])
                cell["best"] = distances[row["generator"]] == best
    for row in contenders:
        ranks = [cell["rank"] for cell in row["cells"].values() if cell["rank"] is not None]
        row["mean_rank"] = float(np.mean(ranks)) if ranks else None


def _ranking(suites: list[dict]) -> list[dict]:
    """Generators ordered by their rank averaged over every (suite, metric) they were ranked on."""
    entries: dict[str, dict] = {}
    for suite in suites:
        for row in suite["rows"]:
            if row["is_reference"]:
                continue
            entry = entries.setdefault(row["generator"], dict(
                generator=row["generator"], ranks=[], suites={}, wins=0, jobs=0, failed_jobs=0))
            ranks = [cell["rank"] for cell in row["cells"].values() if cell["rank"] is not None]
            entry["ranks"] += ranks
            entry["suites"][suite["name"]] = row["mean_rank"]
            entry["wins"] += sum(cell["best"] for cell in row["cells"].values())
            entry["jobs"] += len(row["seeds"]) + len(row["failed_seeds"])
            entry["failed_jobs"] += len(row["failed_seeds"])
    ranking = []
    for entry in entries.values():
        ranks = entry.pop("ranks")
        entry.update(mean_rank=float(np.mean(ranks)) if ranks else None, n_ranks=len(ranks))
        ranking.append(entry)
    ranking.sort(key=lambda e: (e["mean_rank"] is None, e["mean_rank"] or 0.0, e["generator"]))
    for entry in ranking:  # equal mean ranks share a position
        entry["position"] = None if entry["mean_rank"] is None else 1 + sum(
            other["mean_rank"] is not None and other["mean_rank"] < entry["mean_rank"] - 1e-9
            for other in ranking)
    return [{key: entry[key] for key in ("position", "generator", "mean_rank", "n_ranks", "wins",
                                          "jobs", "failed_jobs", "suites")} for entry in ranking]


def _provenance_summary(records: list[dict]) -> dict:
    """What the records ran on: distinct software versions, machines and commands, the seeds,
    and the first and last job timestamps."""
    software: dict[str, list[str]] = {}
    machines, commands, stamps = [], [], []
    for record in records:
        provenance = record.get("provenance") or {}
        for package, version in (provenance.get("software") or {}).items():
            versions = software.setdefault(str(package), [])
            if str(version) not in versions:
                versions.append(str(version))
        machine = provenance.get("machine")
        if machine and machine not in machines:
            machines.append(machine)
        command = _one_line(provenance.get("command"))
        if command and command not in commands:
            commands.append(command)
        if provenance.get("timestamp"):
            stamps.append(str(provenance["timestamp"]))
    machines = json.loads(json.dumps(machines, default=str))  # plain JSON values only
    return dict(first_timestamp=min(stamps, default=None), last_timestamp=max(stamps, default=None),
                seeds=sorted({r["seed"] for r in records}), software=software, machines=machines,
                commands=commands, jobs=len(records),
                failed_jobs=sum(r.get("status") != "ok" for r in records))


# -- rendering ------------------------------------------------------------------------------

def render_leaderboard(records: list[dict], out_dir: Path, *,
                       title: str | None = None) -> dict[str, Path]:
    """Write ``leaderboard.html``, ``.md``, ``.json`` and ``.csv`` for ``records`` into ``out_dir``.

    The HTML page is self-contained (inline CSS, JS and PNG plots). Plots read, per suite and
    successful job, ``curves["ld_decay_distance"]`` (``distance_bp``, ``real``, ``synthetic``),
    ``curves["allele_frequency_r"]`` (``real``, ``synthetic``) and ``metrics["aats"]``; a plot
    whose data is absent is left out.

    :returns: the written paths by format: ``html``, ``md``, ``json``, ``csv``.
    """
    data = leaderboard_data(records)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {fmt: out_dir / f"leaderboard.{fmt}" for fmt in FORMATS}
    context = dict(title=title or DEFAULT_TITLE, data=data,
                   metrics={info["name"]: info for info in data["metrics"]})
    html = _environment(html=True).get_template("leaderboard.html.j2")
    paths["html"].write_text(html.render(context, plots=_plots(records, data)), encoding="utf-8")
    markdown = _environment(html=False).get_template("leaderboard.md.j2")
    paths["md"].write_text(markdown.render(context), encoding="utf-8")
    write_json_atomic(paths["json"], data)
    # The atomic writer's temporary file is private (0600); give the JSON the others' mode.
    paths["json"].chmod(paths["md"].stat().st_mode & 0o777)
    leaderboard_frame(records).to_csv(paths["csv"], index=False)
    return paths


def _environment(*, html: bool) -> jinja2.Environment:
    """Jinja2 environment for the templates: HTML autoescaped, Markdown escaped by
    :func:`_escape_markdown` on every ``{{ }}`` output (so neither can be forgotten)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=html, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, finalize=None if html else _escape_markdown)
    environment.filters.update(num=format_number, cell=_cell_text, arrow=_arrow,
                               metric_title=_metric_title, cell_title=_cell_title,
                               compact=_compact)
    return environment


def format_number(value, digits: int = 4) -> str:
    """``value`` with ``digits`` significant digits (``"n/a"`` for None): 0.9871, 123.5,
    12,346, 1.23e-05."""
    value = _number(value)
    if value is None:
        return "n/a"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if 1e-3 <= magnitude < 1e4:
        return f"{value:.{digits}g}"
    if 1e4 <= magnitude < 1e7:
        return f"{value:,.0f}"
    return f"{value:.{max(digits - 1, 2)}g}"


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


def _compact(value, limit: int = 120) -> str:
    """A suite or machine setting as one short line: ``{a: 1}`` -> ``a 1``, lists comma-joined."""
    if isinstance(value, dict):
        text = ", ".join(f"{key} {_compact(item, limit)}" for key, item in value.items())
    elif isinstance(value, (list, tuple)):
        text = ", ".join(_compact(item, limit) for item in value)
    elif isinstance(value, float):
        text = format_number(value)
    else:
        text = _one_line(value) if value is not None else "–"
    return text if len(text) <= limit else text[: limit - 1] + "…"


_MARKDOWN_SPECIAL = re.compile(r"[\\`*\[\]|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def _escape_markdown(value) -> str:
    """Text safe in a Markdown table cell: one line, Markdown syntax and pipes backslashed,
    HTML (which Markdown passes through) entity-escaped. Intra-word ``_`` stays as is."""
    if value is None:
        return ""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"\s*[\r\n]+\s*", " ", text)
    return _MARKDOWN_SPECIAL.sub(lambda match: "\\" + match.group(0), text)


# -- plots ----------------------------------------------------------------------------------

def _plots(records: list[dict], data: dict) -> dict[str, list[dict]]:
    """PNG plots per suite, each ``{title, caption, png}`` with ``png`` base64-encoded."""
    order = [entry["generator"] for entry in data["ranking"]]
    colours = {name: f"C{index % 10}" for index, name in enumerate(order)}
    plots = {}
    for suite in data["suites"]:
        reference = {row["generator"] for row in suite["rows"] if row["is_reference"]}
        position = {row["generator"]: index for index, row in enumerate(suite["rows"])}
        jobs = sorted((r for r in records
                       if str(r["suite"]) == suite["name"] and r.get("status") == "ok"),
                      key=lambda r: position[str(r["generator"])])  # the table's row order
        style = {row["generator"]: dict(color="0.35" if row["generator"] in reference
                                        else colours.get(row["generator"], "C0"),
                                        reference=row["generator"] in reference)
                 for row in suite["rows"]}
        made = [_ld_decay_plot(jobs, style), _allele_frequency_plot(jobs, style),
                _aats_plot(suite, style)]
        plots[suite["name"]] = [plot for plot in made if plot is not None]
    return plots


def _series(curves: dict, *names: str) -> list[np.ndarray] | None:
    """The named series as float arrays (None in JSON -> NaN) when all exist with one length."""
    arrays = []
    for name in names:
        values = curves.get(name) if isinstance(curves, dict) else None
        if not isinstance(values, (list, tuple)) or not values:
            return None
        arrays.append(np.array([np.nan if _number(v) is None else v for v in values], float))
    return arrays if len({len(a) for a in arrays}) == 1 else None


def _label(name: str, limit: int = 40) -> str:
    """A plugin-supplied name for a matplotlib label: shortened, ``$`` kept out of mathtext."""
    name = _one_line(name)
    name = name if len(name) <= limit else name[: limit - 1] + "…"
    return name.replace("$", r"\$")


def _figure(width: float, height: float):
    # A bare Figure on an Agg canvas, no pyplot: nothing global to switch or close, and the
    # figure is freed with its last reference (matplotlib's "Embedding in a web application
    # server" example).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure, title: str, caption: str, *, wide: bool = False) -> dict:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, facecolor="white")
    figure.clear()
    return dict(title=title, caption=caption, wide=wide,
                png=base64.b64encode(buffer.getvalue()).decode("ascii"))


def _tidy(axes) -> None:
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(True, color="0.9", linewidth=0.8)
    axes.set_axisbelow(True)


def _ld_decay_plot(jobs: list[dict], style: dict) -> dict | None:
    """Mean r^2 by distance: the real curve once, each generator's synthetic curve (mean over
    seeds when the bins agree)."""
    curves: dict[str, list] = {}
    for job in jobs:
        series = _series((job.get("curves") or {}).get(LD_DECAY), "distance_bp", "real",
                         "synthetic")
        if series is not None and np.any(series[0] > 0):
            curves.setdefault(str(job["generator"]), []).append(series)
    if not curves:
        return None
    figure = _figure(6.4, 4.0)
    axes = figure.add_subplot()
    distance, real, _ = next(iter(curves.values()))[0]
    axes.plot(distance, real, color="black", linewidth=2.4, label="real (test split)", zorder=5)
    for generator, runs in curves.items():
        same_bins = all(np.array_equal(run[0], runs[0][0], equal_nan=True) for run in runs)
        synthetic = np.nanmean([run[2] for run in runs], axis=0) if same_bins else runs[0][2]
        look = style.get(generator, dict(color="C0", reference=False))
        axes.plot(runs[0][0], synthetic, color=look["color"], linewidth=1.6,
                  linestyle="--" if look["reference"] else "-", marker="o", markersize=3,
                  label=_label(generator) + (" (reference)" if look["reference"] else ""))
    axes.set_xscale("log")
    axes.set(xlabel="distance between SNPs (bp)", ylabel="mean $r^2$")
    _tidy(axes)
    axes.legend(frameon=False, fontsize=8)
    return _png(figure, "LD decay", "Mean r² between SNP pairs by physical distance, real "
                "test split against each generator's output.")


def _allele_frequency_plot(jobs: list[dict], style: dict, max_points: int = 4000) -> dict | None:
    """One real-vs-synthetic allele-frequency scatter per generator (its first seed)."""
    panels: dict[str, list[np.ndarray]] = {}
    for job in jobs:
        series = _series((job.get("curves") or {}).get(ALLELE_FREQUENCY), "real", "synthetic")
        if series is not None and str(job["generator"]) not in panels:
            panels[str(job["generator"])] = series
    if not panels:
        return None
    columns = min(len(panels), 5)
    rows = math.ceil(len(panels) / columns)
    figure = _figure(2.5 * columns + 0.4, 2.8 * rows + 0.4)
    grid = figure.subplots(rows, columns, squeeze=False, sharex=True, sharey=True)
    for axes, (generator, (real, synthetic)) in zip(grid.flat, panels.items(), strict=False):
        keep = np.linspace(0, len(real) - 1, min(len(real), max_points)).astype(int)
        look = style.get(generator, dict(color="C0", reference=False))
        axes.scatter(real[keep], synthetic[keep], s=4, alpha=0.35, color=look["color"],
                     linewidths=0, rasterized=True)
        axes.plot([0, 1], [0, 1], color="0.4", linewidth=0.8, linestyle=":")
        finite = np.isfinite(real) & np.isfinite(synthetic)
        r = np.corrcoef(real[finite], synthetic[finite])[0, 1] if finite.sum() > 2 else np.nan
        axes.set_title(_label(generator, 28) + (f"\nr = {r:.4f}" if np.isfinite(r) else ""),
                       fontsize=9, style="italic" if look["reference"] else "normal")
        axes.set(xlim=(0, 1), ylim=(0, 1))
        axes.set_box_aspect(1)
        _tidy(axes)
    for axes in grid.flat[len(panels):]:
        axes.set_visible(False)
    figure.supxlabel("real allele frequency", fontsize=9)
    figure.supylabel("synthetic allele frequency", fontsize=9)
    return _png(figure, "Allele frequencies", "Alternate-allele frequency per SNP, real test "
                "split (x) against synthetic (y); the dotted line is equality.", wide=True)


def _aats_plot(suite: dict, style: dict) -> dict | None:
    """AATS per generator with its spread over seeds; the line marks the ideal 0.5."""
    bars = [(row["generator"], row["cells"][AATS]) for row in suite["rows"]
            if AATS in row["cells"] and row["cells"][AATS]["mean"] is not None]
    if not bars:
        return None
    figure = _figure(6.4, 0.45 * len(bars) + 1.2)
    axes = figure.add_subplot()
    positions = np.arange(len(bars))[::-1]
    looks = [style.get(name, dict(color="C0", reference=False)) for name, _ in bars]
    bars_drawn = axes.barh(
        positions, [cell["mean"] for _, cell in bars],
        xerr=[cell["std"] or 0.0 for _, cell in bars],
        color=[look["color"] for look in looks], height=0.6,
        error_kw=dict(ecolor="0.2", capsize=3, linewidth=1))
    for patch, look in zip(bars_drawn.patches, looks, strict=True):
        if look["reference"]:
            patch.set_hatch("//")
    # Yale et al. 2020: 0.5 when real and synthetic are indistinguishable nearest neighbours.
    axes.axvline(0.5, color="black", linewidth=1.2, linestyle="--")
    axes.set_yticks(positions, [_label(name) for name, _ in bars], fontsize=9)
    axes.set(xlim=(0, 1), xlabel="AATS (0.5 is ideal; below: copying, above: poor fidelity)")
    _tidy(axes)
    axes.grid(False, axis="y")
    return _png(figure, "Adversarial accuracy (AATS)", "Nearest-neighbour adversarial accuracy, "
                "mean ± std over seeds; hatched bars are reference rows.")
