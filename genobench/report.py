"""Leaderboards: the results of a benchmark run as HTML, Markdown, JSON and CSV.

:func:`leaderboard_data` turns job records (see :mod:`genobench.results`) into plain data: the
scorecard first (:mod:`genobench.scorecard`: one score per family of metrics between the
baseline and real data, privacy gates, the ranking), then per suite a table of generators x
metrics (mean and spread over seeds, the best cell per metric, timings), the reference row's
noise floor per metric, a quality-against-cost view with its Pareto front, the metric glossary
and a provenance summary. Per-metric ranks are honest about noise: two generators whose
difference lies inside their seed spread tie; they mark cells and never make the verdict.
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
from .records import FAMILIES, JobRecord, MetricInfo, as_record
from .results import write_json_atomic
from .scorecard import leaderboard_scorecard

PHASES = ("fit", "generate", "evaluate")
#: The curves and metric the plots read (see :func:`render_leaderboard`).
LD_DECAY, ALLELE_FREQUENCY, AATS = "ld_decay_distance", "allele_frequency_r", "aats"
PCA, GWAS = "pca_w2_real_basis", "gwas_beta_r"
FORMATS = ("html", "md", "json", "csv")
DEFAULT_TITLE = "genobench leaderboard"


# -- the data -------------------------------------------------------------------------------

def leaderboard_data(records: list[JobRecord | dict]) -> dict:
    """The leaderboard of ``records`` (:class:`JobRecord`, or their JSON form) as JSON-ready
    plain data.

    :returns: ``scorecard`` ({suite: {generator: {families, fidelity, spread, privacy:
        {passed, gates}, reference, baseline, metrics (S per metric)}}}), ``resolution``
        ({suite: {metric: {base, ref, spread, resolves, note}}}), ``formula`` (the scorecard's,
        in words), ``ranking`` (:func:`genobench.scorecard.ranking`: best first), ``suites``
        (per suite: ``name``, ``info``, ``metrics`` (column names), ``rows`` with ``cells``
        {metric: {mean, std, n, notes, best, rank, at_floor}} and ``timing`` (seconds per phase,
        ``cost_s`` = fit + generate, ``peak_rss_mb``), ``noise_floor`` {metric: {generator,
        mean, std, distance}}, ``pareto`` (quality against cost, see :func:`_pareto`) and
        ``not_applicable`` ([{metric, note}]: metrics without a value for any job, no column)),
        ``metrics`` (the glossary, in column order), ``generators`` (their documentation) and
        ``provenance`` (software, seeds, machines, timestamps, commands).
    """
    if not records:
        raise ResultsError("no result records to make a leaderboard from")
    records = [as_record(record) for record in records]
    metrics = _metric_glossary(records)
    verdict = leaderboard_scorecard(records)
    suites = [_suite_table(name, group, metrics, verdict["scorecard"].get(name, {}))
              for name, group in _groups(records, "suite")]
    return dict(scorecard=verdict["scorecard"], resolution=verdict["resolution"],
                formula=verdict["formula"], ranking=verdict["ranking"], suites=suites,
                metrics=list(metrics.values()), generators=_generator_glossary(records),
                provenance=_provenance_summary(records))


def leaderboard_frame(records: list[JobRecord | dict]) -> pd.DataFrame:
    """Long table, one row per suite, generator, seed and metric (the CSV export).

    Columns: suite, generator, seed, status, is_reference, metric, value, note, error. A job
    with no metric values (a failed one) keeps one row with an empty metric and its error.
    """
    rows = []
    for record in map(as_record, records):
        job = dict(suite=record.suite, generator=record.generator, seed=record.seed,
                   status=record.status, is_reference=record.is_reference)
        error = _one_line(record.error) or None
        for name, result in record.metrics.items():
            rows.append(dict(job, metric=name, value=result.value,
                             note=_one_line(result.note) or None, error=error))
        if not record.metrics:
            rows.append(dict(job, metric=None, value=None, note=None, error=error))
    columns = ["suite", "generator", "seed", "status", "is_reference", "metric", "value", "note",
               "error"]
    return pd.DataFrame(rows, columns=columns)


def _groups(records: list[JobRecord], key: str) -> list[tuple[str, list[JobRecord]]]:
    """Records grouped by the field ``key`` ("suite", "generator"), groups in order of first
    appearance."""
    groups: dict[str, list[JobRecord]] = {}
    for record in records:
        groups.setdefault(str(getattr(record, key)), []).append(record)
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


def _generator_glossary(records: list[JobRecord]) -> list[dict]:
    """Each generator's documentation from its first record, contenders first."""
    documented: dict[str, dict] = {}
    for record in records:
        info = record.generator_info
        documented.setdefault(record.generator, dict(
            name=record.generator, description=_one_line(info.get("description")),
            citation=_one_line(info.get("citation")), provider=_one_line(info.get("provider")),
            is_reference=bool(info.get("is_reference")),
            supports_phenotypes=bool(info.get("supports_phenotypes"))))
    return sorted(documented.values(), key=lambda info: info["is_reference"])


def _metric_glossary(records: list[JobRecord]) -> dict[str, dict]:
    """Every metric the records name, by name, documented from the first ``metric_info``
    that describes it; ordered by family, then by first appearance."""
    seen: dict[str, MetricInfo | None] = {}
    for record in records:
        for name in [*record.metrics, *record.metric_info]:
            if seen.get(name) is None:
                seen[name] = record.metric_info.get(name)
    glossary = [_metric_info(info or MetricInfo(name=name)) for name, info in seen.items()]
    family_order = lambda info: (FAMILIES.index(info["family"])  # noqa: E731
                                 if info["family"] in FAMILIES else len(FAMILIES))
    return {info["name"]: info for info in sorted(glossary, key=family_order)}


def _metric_info(metric: MetricInfo) -> dict:
    """A metric's glossary entry: its :class:`MetricInfo` as plain, one-line values."""
    info = metric.to_json()
    info.update(label=_one_line(info["label"]) or metric.name,
                ideal=_number(info["ideal"]), range=[_number(b) for b in info["range"]],
                description=_one_line(info["description"]),
                citation=_one_line(info["citation"]),
                gate=info["risk"] is not None)
    return info


def _distance(info: dict, value: float | None) -> float | None:
    """:meth:`MetricInfo.distance_to_ideal` of ``value`` under the glossary entry ``info``
    (smaller is better); None for a privacy gate (read against the reference, not ranked)."""
    if info.get("risk") is not None:
        return None
    return MetricInfo.from_json(info).distance_to_ideal(value)


def _suite_table(name: str, records: list[JobRecord], metrics: dict[str, dict],
                 card: dict | None = None) -> dict:
    present = [m for m in metrics if any(m in r.metrics for r in records)]
    # A metric with no value for any job (an association metric on a suite without traits) is
    # no column: it is listed once, with its first note, under ``not_applicable``.
    columns = [m for m in present if any(r.value(m) is not None for r in records)]
    not_applicable = []
    for metric in present:
        if metric not in columns:
            notes = [_one_line(r.metrics[metric].note) for r in records
                     if r.ok and metric in r.metrics]
            not_applicable.append(dict(metric=metric, note=next((n for n in notes if n), "")))
    rows = [_row(generator, group, columns) for generator, group in _groups(records, "generator")]
    _rank_rows(rows, [metrics[m] for m in columns])
    floor = _noise_floor(rows, [metrics[m] for m in columns])
    for row in rows:  # the scorecard's verdict beside each row
        verdict = (card or {}).get(row["generator"]) or {}
        row.update(fidelity=verdict.get("fidelity"), families=verdict.get("families") or {},
                   privacy_passed=(verdict.get("privacy") or {}).get("passed"))
    # Generators passing the privacy gates first, by fidelity; then unassessed, then failing;
    # the reference rows last.
    gate_order = {True: 0, None: 1, False: 2}
    rows.sort(key=lambda row: (row["is_reference"], gate_order[row["privacy_passed"]],
                               row["fidelity"] is None, -(row["fidelity"] or 0.0)))
    return dict(name=name, info=dict(records[0].suite_info), metrics=columns, rows=rows,
                noise_floor=floor, pareto=_pareto(rows), not_applicable=not_applicable)


def _row(generator: str, records: list[JobRecord], columns: list[str]) -> dict:
    """One generator's row in a suite: metric cells over its successful seeds, timings, errors."""
    ok = [r for r in records if r.ok]
    failed = [r for r in records if not r.ok]
    info = records[0].generator_info
    cells = {}
    for name in columns:
        values, notes = [], []
        for record in ok:
            value = record.value(name)
            note = (_one_line(record.metrics[name].note) if name in record.metrics else "") \
                or (None if value is not None else "not computed")
            if value is not None:
                values.append(value)
            if note and note not in notes:
                notes.append(note)
        cells[name] = dict(
            mean=float(np.mean(values)) if values else None,
            # Sample standard deviation (ddof 1) over seeds: seeds are a sample of runs.
            std=float(np.std(values, ddof=1)) if len(values) > 1 else None,
            n=len(values), notes=notes, best=False, rank=None, at_floor=False)
    status = "ok" if not failed else "partial" if ok else "failed"
    return dict(generator=generator, is_reference=bool(info.get("is_reference")),
                description=_one_line(info.get("description")),
                citation=_one_line(info.get("citation")), provider=_one_line(info.get("provider")),
                status=status, seeds=sorted(r.seed for r in ok),
                failed_seeds=sorted(r.seed for r in failed),
                errors=[dict(seed=r.seed,
                             error=_one_line(r.error) or "failed (no reason recorded)")
                        for r in failed],
                cells=cells, timing=_timing(ok or records), mean_rank=None)


def _timing(records: list[JobRecord]) -> dict:
    """Mean seconds per phase over ``records``, and the peak memory over all phases and seeds."""
    timing = {}
    for phase in PHASES:
        seconds = [r.timing[phase].seconds for r in records if phase in r.timing]
        seconds = [s for s in seconds if s is not None]
        timing[f"{phase}_s"] = float(np.mean(seconds)) if seconds else None
    peaks = [usage.peak_rss_mb for r in records for usage in r.timing.values()]
    peaks = [p for p in peaks if p is not None]
    timing["peak_rss_mb"] = max(peaks) if peaks else None
    # What a user pays to get synthetic data: training plus sampling (evaluation is ours).
    paid = [timing[key] for key in ("fit_s", "generate_s") if timing[key] is not None]
    timing["cost_s"] = float(sum(paid)) if paid else None
    return timing


def _rank_rows(rows: list[dict], metrics: list[dict]) -> None:
    """Mark the best cells and rank the non-reference rows on each metric, in place.

    Rows are compared on their mean over seeds by distance to the ideal. Differences inside the
    seed spread are not evidence, so they tie (see :func:`tied_ranks`); tied rows share the
    average of their ranks (fractional ranking, as in Demsar 2006, JMLR 7:1-30, "Statistical
    comparisons of classifiers over multiple data sets"), and every row tied with the best is
    marked best. A generator whose every job failed ranks last on each metric, so failing never
    pays; a value that is n/a for a successful job (a metric that does not apply) is left out of
    that metric's ranking.
    """
    contenders = [row for row in rows if not row["is_reference"]]
    for info in metrics:
        name = info["name"]
        scores = {}
        for row in contenders:
            cell = row["cells"][name]
            distance = _distance(info, cell["mean"])
            if distance is not None:
                scores[row["generator"]] = (distance, cell["std"] or 0.0)
        if not scores:
            continue
        for row in contenders:
            if row["status"] == "failed":
                scores[row["generator"]] = (math.inf, 0.0)
        ranks = tied_ranks(scores)
        best = min(ranks.values())
        for row in contenders:
            if row["generator"] in ranks:
                cell = row["cells"][name]
                cell["rank"] = ranks[row["generator"]]
                cell["best"] = (cell["rank"] == best
                                and math.isfinite(scores[row["generator"]][0]))
    for row in contenders:
        ranks = [cell["rank"] for cell in row["cells"].values() if cell["rank"] is not None]
        row["mean_rank"] = float(np.mean(ranks)) if ranks else None


def tied_ranks(scores: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Fractional ranks of ``scores`` {name: (distance to ideal, seed spread)}, 1 being best.

    Names are taken in order of distance; the best one not yet placed opens a tie group, and
    each next name joins it while its distance exceeds the opener's by no more than the larger
    of the two spreads (standard deviations over seeds; 0 with one seed, where only equal values
    up to float noise tie). Grouping against the opener keeps ties transitive: a chain of small
    steps does not tie the first with the last. A group shares the mean of its positions.
    """
    def key(distance: float) -> float:
        # 12 significant digits: equal up to float noise counts as a tie.
        return distance if not math.isfinite(distance) else float(f"{distance:.12g}")

    order = sorted(scores, key=lambda name: key(scores[name][0]))
    ranks: dict[str, float] = {}
    start = 0
    while start < len(order):
        opener, opener_spread = key(scores[order[start]][0]), scores[order[start]][1]
        stop = start + 1
        while stop < len(order):
            distance, spread = key(scores[order[stop]][0]), scores[order[stop]][1]
            same = distance == opener or (
                math.isfinite(distance) and distance - opener <= max(opener_spread, spread))
            if not same:
                break
            stop += 1
        for name in order[start:stop]:
            ranks[name] = (start + 1 + stop) / 2  # mean of positions start+1 .. stop
        start = stop
    return ranks


def _noise_floor(rows: list[dict], metrics: list[dict]) -> dict[str, dict]:
    """Each metric's noise floor, the reference row's value (real individuals no model saw: the
    paper's real-vs-real analysis), and ``at_floor`` on the contender cells that reach it.

    A cell reaches the floor when its distance to the ideal is at most the reference's plus the
    larger seed spread of the two: on that metric it cannot be told from real data. With
    several reference rows the first one (in record order) sets the floor.
    """
    reference = next((row for row in rows if row["is_reference"]), None)
    floor = {}
    if reference is None:
        return floor
    for info in metrics:
        name = info["name"]
        cell = reference["cells"][name]
        distance = _distance(info, cell["mean"])
        if cell["mean"] is None:
            continue
        floor[name] = dict(generator=reference["generator"], mean=cell["mean"], std=cell["std"],
                           distance=distance)
        if distance is None:
            continue
        for row in rows:
            other = row["cells"][name]
            mine = _distance(info, other["mean"])
            if row["is_reference"] or row["status"] == "failed" or mine is None:
                continue
            slack = max(cell["std"] or 0.0, other["std"] or 0.0)
            other["at_floor"] = float(f"{mine - distance:.12g}") <= slack
    return floor


def _pareto(rows: list[dict]) -> list[dict]:
    """Quality against cost: per not wholly failed contender its scorecard fidelity (higher is
    better) and ``cost_s`` (mean fit + generate seconds), with ``front`` True for those no other
    generator dominates (as good or better on both, better on one). Ordered by cost."""
    points = [dict(generator=row["generator"], fidelity=row["fidelity"],
                   cost_s=row["timing"]["cost_s"])
              for row in rows if not row["is_reference"] and row["status"] != "failed"
              and row["fidelity"] is not None and row["timing"]["cost_s"] is not None]
    for point in points:
        point["front"] = not any(
            other["cost_s"] <= point["cost_s"] and other["fidelity"] >= point["fidelity"]
            and (other["cost_s"] < point["cost_s"] or other["fidelity"] > point["fidelity"])
            for other in points)
    return sorted(points, key=lambda point: (point["cost_s"], -point["fidelity"]))


def _provenance_summary(records: list[JobRecord]) -> dict:
    """What the records ran on: distinct software versions, machines and commands, the seeds,
    and the first and last job timestamps."""
    software: dict[str, list[str]] = {}
    machines, commands, stamps = [], [], []
    for record in records:
        provenance = record.provenance
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
                seeds=sorted({r.seed for r in records}), software=software, machines=machines,
                commands=commands, jobs=len(records),
                failed_jobs=sum(not r.ok for r in records))


# -- rendering ------------------------------------------------------------------------------

def render_leaderboard(records: list[JobRecord | dict], out_dir: Path, *,
                       title: str | None = None) -> dict[str, Path]:
    """Write ``leaderboard.html``, ``.md``, ``.json`` and ``.csv`` for ``records`` into ``out_dir``.

    The HTML page is self-contained (inline CSS, JS and PNG plots). Plots read, per suite and
    successful job:

    - ``curves["ld_decay_distance"]``: ``distance_bp``, ``real``, ``synthetic`` (LD decay);
    - ``curves["allele_frequency_r"]``: ``real``, ``synthetic`` (allele-frequency scatter);
    - ``curves["pca_wasserstein"]``: ``real_pc1``, ``real_pc2``, ``synthetic_pc1``,
      ``synthetic_pc2`` (one point per individual), or ``real`` and ``synthetic`` as lists of
      ``[pc1, pc2, ...]`` points; optional ``explained_variance`` (or
      ``explained_variance_ratio_real``: fractions, PC1 first) for the axis labels;
    - ``curves["gwas_beta_r"]``: ``position``, ``chromosome``, ``real_logp``,
      ``synthetic_logp`` (-log10 p per SNP; mirrored Manhattan plot);
    - ``metrics["aats"]`` (bars), and every row's fit + generate time against its mean rank
      (quality against cost).

    A plot whose data is absent or malformed is left out.

    :returns: the written paths by format: ``html``, ``md``, ``json``, ``csv``.
    """
    records = [as_record(record) for record in records]
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
    environment.filters.update(num=format_number, score=format_score, cell=_cell_text,
                               arrow=_arrow,
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


def format_score(value) -> str:
    """A scorecard score with two decimals ("–" when missing)."""
    value = _number(value)
    return "–" if value is None else f"{value:.2f}"


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
# What Markdown would read as HTML: a tag or comment start, or a character reference.
_MARKDOWN_HTML = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?[A-Za-z0-9]+;)")


def _escape_markdown(value) -> str:
    """Text safe in a Markdown table cell: one line, Markdown syntax and pipes backslashed.

    HTML that Markdown would pass through (``<tag``, ``&name;``) is backslash-escaped
    (CommonMark escapes any ASCII punctuation), never entity-escaped, so the file reads as
    written: ``p < 0.05/M`` and ``Lopez-Paz & Oquab`` stay as they are. Intra-word ``_`` too.
    """
    if value is None:
        return ""
    text = re.sub(r"\s*[\r\n]+\s*", " ", str(value))
    text = _MARKDOWN_SPECIAL.sub(lambda match: "\\" + match.group(0), text)
    return _MARKDOWN_HTML.sub(lambda match: "\\" + match.group(0), text)


# -- plots ----------------------------------------------------------------------------------

def _plots(records: list[JobRecord], data: dict) -> dict[str, list[dict]]:
    """PNG plots per suite, each ``{title, caption, png}`` with ``png`` base64-encoded."""
    order = [entry["generator"] for entry in data["ranking"]]
    colours = {name: f"C{index % 10}" for index, name in enumerate(order)}
    plots = {}
    for suite in data["suites"]:
        reference = {row["generator"] for row in suite["rows"] if row["is_reference"]}
        position = {row["generator"]: index for index, row in enumerate(suite["rows"])}
        jobs = sorted((r for r in records if r.suite == suite["name"] and r.ok),
                      key=lambda r: position[r.generator])  # the table's row order
        style = {row["generator"]: dict(color="0.35" if row["generator"] in reference
                                        else colours.get(row["generator"], "C0"),
                                        reference=row["generator"] in reference)
                 for row in suite["rows"]}
        made = [_scorecard_plot(suite, style), _ld_decay_plot(jobs, style),
                _allele_frequency_plot(jobs, style),
                _pca_plot(jobs, style), _aats_plot(suite, style), _manhattan_plot(jobs, style),
                _pareto_plot(suite, style)]
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


def _nanmean(arrays: list[np.ndarray]) -> np.ndarray:
    """Element-wise mean ignoring NaN; NaN (without numpy's warning) where every value is."""
    stacked = np.asarray(arrays, dtype=float)
    counts = np.isfinite(stacked).sum(axis=0)
    sums = np.where(np.isfinite(stacked), stacked, 0.0).sum(axis=0)
    return np.divide(sums, counts, out=np.full(sums.shape, np.nan), where=counts > 0)


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
        series = _series(job.curves.get(LD_DECAY), "distance_bp", "real",
                         "synthetic")
        if series is not None and np.any(series[0] > 0):
            curves.setdefault(job.generator, []).append(series)
    if not curves:
        return None
    figure = _figure(6.4, 4.0)
    axes = figure.add_subplot()
    distance, real, _ = next(iter(curves.values()))[0]
    axes.plot(distance, real, color="black", linewidth=2.4, label="real (test split)", zorder=5)
    for generator, runs in curves.items():
        same_bins = all(np.array_equal(run[0], runs[0][0], equal_nan=True) for run in runs)
        synthetic = _nanmean([run[2] for run in runs]) if same_bins else runs[0][2]
        look = style.get(generator, dict(color="C0", reference=False))
        axes.plot(runs[0][0], synthetic, color=look["color"], linewidth=1.6,
                  linestyle="--" if look["reference"] else "-", marker="o", markersize=3,
                  label=_label(generator) + (" (reference)" if look["reference"] else ""))
    axes.set_xscale("log")
    axes.set(xlabel="distance between SNPs (bp)", ylabel="mean $r^2$")
    _tidy(axes)
    axes.legend(frameon=False, fontsize=8, loc="upper right")
    return _png(figure, "LD decay", "Mean r² between SNP pairs by physical distance, real "
                "test split against each generator's output.")


def _allele_frequency_plot(jobs: list[dict], style: dict, max_points: int = 4000) -> dict | None:
    """One real-vs-synthetic allele-frequency scatter per generator (its first seed)."""
    panels: dict[str, list[np.ndarray]] = {}
    for job in jobs:
        series = _series(job.curves.get(ALLELE_FREQUENCY), "real", "synthetic")
        if series is not None and job.generator not in panels:
            panels[job.generator] = series
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
        constant = finite.sum() <= 2 or np.ptp(synthetic[finite]) == 0 or np.ptp(real[finite]) == 0
        r = np.nan if constant else np.corrcoef(real[finite], synthetic[finite])[0, 1]
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
    axes.set(xlim=(0, 1), xlabel="AATS against the test split (0.5: indistinguishable; "
                                 "above: told apart from real data)")
    _tidy(axes)
    axes.grid(False, axis="y")
    return _png(figure, "Adversarial accuracy (AATS)", "Nearest-neighbour adversarial accuracy "
                "against held-out individuals, mean ± std over seeds; hatched bars are reference "
                "rows. A resemblance measure: privacy is judged by the gates.")


def _pc_points(curves) -> tuple[np.ndarray, np.ndarray, list[float]] | None:
    """Real and synthetic (n, 2) PC1/PC2 points and the explained variance from a
    ``pca_wasserstein`` curve in either documented layout (see :func:`render_leaderboard`)."""
    if not isinstance(curves, dict):
        return None
    columns = _series(curves, "real_pc1", "real_pc2")
    synthetic = _series(curves, "synthetic_pc1", "synthetic_pc2")
    if columns is not None and synthetic is not None:
        points = np.column_stack(columns), np.column_stack(synthetic)
    else:
        points = []
        for name in ("real", "synthetic"):
            rows = curves.get(name)
            if not isinstance(rows, (list, tuple)) or not rows or not all(
                    isinstance(row, (list, tuple)) and len(row) >= 2
                    and all(_number(v) is not None for v in row[:2]) for row in rows):
                return None
            points.append(np.array([[float(row[0]), float(row[1])] for row in rows]))
    explained = curves.get("explained_variance", curves.get("explained_variance_ratio_real"))
    variance = [_number(v) for v in explained] if isinstance(explained, (list, tuple)) else []
    return points[0], points[1], [v for v in variance if v is not None]


def _pca_plot(jobs: list[dict], style: dict, max_points: int = 2000) -> dict | None:
    """Real and synthetic individuals on the real data's first two PCs, one panel per
    generator (its first seed)."""
    panels: dict[str, tuple] = {}
    for job in jobs:
        points = _pc_points(job.curves.get(PCA))
        if points is not None and job.generator not in panels:
            panels[job.generator] = points
    if not panels:
        return None
    columns = min(len(panels), 4)
    rows = math.ceil(len(panels) / columns)
    figure = _figure(3.0 * columns + 0.4, 3.0 * rows + 0.5)
    grid = figure.subplots(rows, columns, squeeze=False, sharex=True, sharey=True)
    variance: list[float] = []
    for axes, (generator, (real, synthetic, explained)) in zip(grid.flat, panels.items(),
                                                               strict=False):
        variance = variance or explained
        look = style.get(generator, dict(color="C0", reference=False))
        for points, colour, label in ((real, "0.75", "real"), (synthetic, look["color"],
                                                                 "synthetic")):
            keep = np.linspace(0, len(points) - 1, min(len(points), max_points)).astype(int)
            axes.scatter(points[keep, 0], points[keep, 1], s=6, alpha=0.45, color=colour,
                         linewidths=0, rasterized=True, label=label)
        axes.set_title(_label(generator, 28), fontsize=9,
                       style="italic" if look["reference"] else "normal")
        _tidy(axes)
    # One legend: "best" placement would search every panel's points (slow).
    grid.flat[0].legend(frameon=False, fontsize=7, markerscale=2, loc="upper right")
    for axes in grid.flat[len(panels):]:
        axes.set_visible(False)
    share = lambda i: f" ({variance[i]:.1%})" if len(variance) > i else ""  # noqa: E731
    figure.supxlabel(f"PC1{share(0)}", fontsize=9)
    figure.supylabel(f"PC2{share(1)}", fontsize=9)
    return _png(figure, "Population structure (PCA)", "Individuals projected on the first two "
                "principal components of the real data: real (light grey) and synthetic (colour).",
                wide=len(panels) > 2)


def _chromosome_order(name: str) -> tuple:
    """Natural order of chromosome names: 1, 2, ..., 10, ..., X, Y (a "chr" prefix ignored)."""
    bare = str(name).removeprefix("chr")
    return (0, int(bare), "") if bare.isdigit() else (1, 0, bare)


def _manhattan_plot(jobs: list[dict], style: dict) -> dict | None:
    """Mirrored Manhattan plots, one panel per generator (its first seed): -log10 p of the
    real GWAS above the axis, of the synthetic one below, with the Bonferroni line
    0.05 / SNPs (the paper's threshold) on both sides."""
    panels: dict[str, tuple] = {}
    for job in jobs:
        curves = job.curves.get(GWAS)
        series = _series(curves, "position", "real_logp", "synthetic_logp")
        chromosomes = curves.get("chromosome") if isinstance(curves, dict) else None
        if (series is None or not isinstance(chromosomes, (list, tuple))
                or len(chromosomes) != len(series[0]) or job.generator in panels):
            continue
        panels[job.generator] = (*series, [str(c) for c in chromosomes])
    if not panels:
        return None
    figure = _figure(9.6, 2.3 * len(panels) + 0.6)
    grid = figure.subplots(len(panels), 1, squeeze=False, sharex=False)
    for axes, (generator, (position, real, synthetic, chromosomes)) in zip(
            grid.flat, panels.items(), strict=True):
        names = sorted(set(chromosomes), key=_chromosome_order)
        chromosome = np.array(chromosomes)
        x = np.full(len(position), np.nan)
        offset, ticks = 0.0, []
        for index, name in enumerate(names):
            here = chromosome == name
            span = np.nanmax(position[here]) if np.isfinite(position[here]).any() else 0.0
            x[here] = position[here] + offset
            ticks.append(offset + span / 2)
            # Alternate shades tell neighbouring chromosomes apart.
            look = style.get(generator, dict(color="C0", reference=False))
            axes.scatter(x[here], real[here], s=5, color="0.15" if index % 2 == 0 else "0.55",
                         linewidths=0, rasterized=True)
            axes.scatter(x[here], -synthetic[here], s=5, color=look["color"],
                         alpha=1.0 if index % 2 == 0 else 0.45, linewidths=0, rasterized=True)
            offset += span * 1.02 + 1.0
        threshold = -math.log10(0.05 / max(len(position), 1))
        for sign in (1, -1):
            axes.axhline(sign * threshold, color="C3", linewidth=0.8, linestyle="--")
        axes.axhline(0, color="black", linewidth=0.6)
        top = np.nanmax(np.concatenate([real, synthetic, [threshold]]))
        axes.set_ylim(-top * 1.08, top * 1.08)
        axes.set_yticks(axes.get_yticks(), [f"{abs(v):g}" for v in axes.get_yticks()])
        axes.set_ylim(-top * 1.08, top * 1.08)
        axes.set_xticks(ticks, names if len(names) <= 30 else [""] * len(names), fontsize=8)
        axes.set_ylabel("−log10 p\nreal ↑  synthetic ↓", fontsize=8)
        axes.set_title(_label(generator), fontsize=9, loc="left",
                       style="italic" if style.get(generator, {}).get("reference") else "normal")
        _tidy(axes)
        axes.grid(False, axis="x")
    grid.flat[-1].set_xlabel("chromosome")
    return _png(figure, "GWAS (mirrored Manhattan)", "Per-SNP association of the trait in the "
                "real test split (above) and in synthetic data (below); dashed: Bonferroni "
                "0.05 / SNPs.", wide=True)


def _scorecard_plot(suite: dict, style: dict) -> dict | None:
    """Each generator's family scores (0: baseline, 1: real data) as grouped bars, privacy
    failures marked."""
    from .scorecard import SCORED_FAMILIES

    rows = [row for row in suite["rows"] if any(
        row["families"].get(f) is not None for f in SCORED_FAMILIES)]
    families = [f for f in SCORED_FAMILIES if any(r["families"].get(f) is not None
                                                    for r in rows)]
    if not rows or not families:
        return None
    figure = _figure(7.2, 0.5 * len(rows) * max(1, len(families) / 2.5) + 1.4)
    axes = figure.add_subplot()
    height = 0.8 / len(families)
    shades = {f: f"C{k}" for k, f in enumerate(families)}
    for k, family in enumerate(families):
        positions = np.arange(len(rows))[::-1] + (len(families) / 2 - k - 0.5) * height
        values = [row["families"].get(family) for row in rows]
        axes.barh(positions, [v if v is not None else 0.0 for v in values], height=height,
                  color=shades[family], label=family)
    labels = [_label(row["generator"]) + (" (reference)" if row["is_reference"] else "")
              + (" ✗ privacy" if row["privacy_passed"] is False else "") for row in rows]
    axes.set_yticks(np.arange(len(rows))[::-1], labels, fontsize=9)
    axes.axvline(0.0, color="black", linewidth=1.0)
    axes.axvline(1.0, color="black", linewidth=1.0, linestyle="--")
    axes.set(xlim=(-1.05, 1.15), xlabel="score: 0 = baseline, 1 = real data")
    _tidy(axes)
    axes.grid(False, axis="y")
    axes.legend(frameon=False, fontsize=8, loc="lower left")
    return _png(figure, "Scorecard", "Family scores per generator (median of the resolving "
                "metrics' S = (D_base - D_gen) / (D_base - D_ref)); ✗ privacy: fails a privacy "
                "gate.", wide=True)


def _pareto_plot(suite: dict, style: dict) -> dict | None:
    """Scorecard fidelity (quality) against fit + generate seconds (cost), the Pareto
    front joined by a line."""
    points = suite["pareto"]
    if len(points) < 2:
        return None
    figure = _figure(6.4, 4.0)
    axes = figure.add_subplot()
    front = [point for point in points if point["front"]]
    axes.plot([p["cost_s"] for p in front], [p["fidelity"] for p in front], color="0.3",
              linewidth=1.2, linestyle="-", drawstyle="steps-post", zorder=1,
              label="Pareto front")
    for point in points:
        look = style.get(point["generator"], dict(color="C0", reference=False))
        axes.scatter([point["cost_s"]], [point["fidelity"]], s=70 if point["front"] else 40,
                     color=look["color"], edgecolors="black" if point["front"] else "none",
                     linewidths=1.2, zorder=3)
        axes.annotate(_label(point["generator"], 24), (point["cost_s"], point["fidelity"]),
                      textcoords="offset points", xytext=(6, 4), fontsize=8)
    costs = [p["cost_s"] for p in points]
    if min(costs) > 0 and max(costs) / min(costs) > 20:
        axes.set_xscale("log")
    axes.set(xlabel="fit + generate time (s)", ylabel="fidelity (0 baseline, 1 real data)")
    _tidy(axes)
    axes.legend(frameon=False, fontsize=8)
    return _png(figure, "Quality against cost", "Each generator's fidelity against its fit + "
                "generate time; outlined points are on the Pareto front (nothing is both "
                "faster and better).")
