"""Leaderboard data: job records made into plain, JSON-ready tables.

:func:`leaderboard_data` turns job records (:class:`genobench.records.JobRecord`) into plain
data: the scorecard first (:mod:`genobench.scorecard`: one score per family of metrics between
the baseline and real data, privacy gates, the ranking), then per suite a table of generators x
metrics (mean and spread over seeds, the best cell per metric, timings), the reference row's
noise floor per metric, a quality-against-cost view with its Pareto front, the training table
(:mod:`.training`), the metric glossary and a provenance summary. :func:`leaderboard_frame` is
the long CSV table.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ..errors import ResultsError
from ..records import FAMILIES, JobRecord, MetricInfo, as_record, finite
from ..scorecard import leaderboard_scorecard, verdict_order
from .ranking import noise_floor, pareto, rank_rows
from .text import one_line
from .training import training_rows

__all__ = ["PHASES", "leaderboard_data", "leaderboard_frame"]

PHASES = ("fit", "generate", "evaluate")


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
        mean, std, distance}}, ``pareto`` (quality against cost, see :func:`.ranking.pareto`) and
        ``not_applicable`` ([{metric, note}]: metrics without a value for any job, no column)
        and ``training`` (:func:`.training.training_rows`: what each trained generator's fit
        did and, where it stays weak, why)),
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
        error = one_line(record.error) or None
        for name, result in record.metrics.items():
            rows.append(dict(job, metric=name, value=result.value,
                             note=one_line(result.note) or None, error=error))
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


def _generator_glossary(records: list[JobRecord]) -> list[dict]:
    """Each generator's documentation from its first record, contenders first."""
    documented: dict[str, dict] = {}
    for record in records:
        info = record.generator_info
        documented.setdefault(record.generator, dict(
            name=record.generator, description=one_line(info.get("description")),
            citation=one_line(info.get("citation")), provider=one_line(info.get("provider")),
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
    info.update(label=one_line(info["label"]) or metric.name,
                ideal=finite(info["ideal"]), range=[finite(b) for b in info["range"]],
                description=one_line(info["description"]),
                citation=one_line(info["citation"]),
                gate=info["risk"] is not None)
    return info


def _suite_table(name: str, records: list[JobRecord], metrics: dict[str, dict],
                 card: dict | None = None) -> dict:
    present = [m for m in metrics if any(m in r.metrics for r in records)]
    # A metric with no value for any job (an association metric on a suite without traits) is
    # no column: it is listed once, with its first note, under ``not_applicable``.
    columns = [m for m in present if any(r.value(m) is not None for r in records)]
    not_applicable = []
    for metric in present:
        if metric not in columns:
            notes = [one_line(r.metrics[metric].note) for r in records
                     if r.ok and metric in r.metrics]
            not_applicable.append(dict(metric=metric, note=next((n for n in notes if n), "")))
    rows = [_row(generator, group, columns) for generator, group in _groups(records, "generator")]
    rank_rows(rows, [metrics[m] for m in columns])
    floor = noise_floor(rows, [metrics[m] for m in columns])
    for row in rows:  # the scorecard's verdict beside each row
        verdict = (card or {}).get(row["generator"]) or {}
        row.update(fidelity=verdict.get("fidelity"), families=verdict.get("families") or {},
                   privacy_passed=(verdict.get("privacy") or {}).get("passed"))
    # Generators passing the privacy gates first, by fidelity; then unassessed, then failing;
    # generators without a fidelity (every job failed) after them; the reference rows last.
    rows.sort(key=lambda row: (row["is_reference"],
                               *verdict_order(row["fidelity"], row["privacy_passed"])))
    return dict(name=name, info=dict(records[0].suite_info), metrics=columns, rows=rows,
                noise_floor=floor, pareto=pareto(rows), not_applicable=not_applicable,
                training=training_rows(records, card or {}, metrics))


def _row(generator: str, records: list[JobRecord], columns: list[str]) -> dict:
    """One generator's row in a suite: metric cells over its successful seeds, timings, errors."""
    ok = [r for r in records if r.ok]
    failed = [r for r in records if not r.ok]
    info = records[0].generator_info
    cells = {}
    for name in columns:
        values, notes, draws = [], [], []
        for record in ok:
            value = record.value(name)
            if name in record.metrics and record.metrics[name].draws:
                draws += [d for d in record.metrics[name].draws if d is not None]
            note = (one_line(record.metrics[name].note) if name in record.metrics else "") \
                or (None if value is not None else "not computed")
            if value is not None:
                values.append(value)
            if note and note not in notes:
                notes.append(note)
        cells[name] = dict(
            mean=float(np.mean(values)) if values else None,
            # Sample standard deviation (ddof 1) over seeds: seeds are a sample of runs; a
            # reference row's over its reference draws (independent samples of real data).
            std=(float(np.std(draws, ddof=1)) if len(draws) > 1
                 else float(np.std(values, ddof=1)) if len(values) > 1 else None),
            n=len(values), notes=notes, best=False, rank=None, at_floor=False)
    status = "ok" if not failed else "partial" if ok else "failed"
    return dict(generator=generator, is_reference=bool(info.get("is_reference")),
                description=one_line(info.get("description")),
                citation=one_line(info.get("citation")), provider=one_line(info.get("provider")),
                status=status, seeds=sorted(r.seed for r in ok),
                failed_seeds=sorted(r.seed for r in failed),
                errors=[dict(seed=r.seed,
                             error=one_line(r.error) or "failed (no reason recorded)")
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
        command = one_line(provenance.get("command"))
        if command and command not in commands:
            commands.append(command)
        if provenance.get("timestamp"):
            stamps.append(str(provenance["timestamp"]))
    machines = json.loads(json.dumps(machines, default=str))  # plain JSON values only
    return dict(first_timestamp=min(stamps, default=None), last_timestamp=max(stamps, default=None),
                seeds=sorted({r.seed for r in records}), software=software, machines=machines,
                commands=commands, jobs=len(records),
                failed_jobs=sum(not r.ok for r in records))
