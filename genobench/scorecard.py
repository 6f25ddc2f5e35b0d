"""The scorecard: one score per family of metrics, privacy gates beside, and the ranking.

Every metric is placed on one scale between its baseline (0: no better than a generator that
learnt nothing the metric measures) and real data (1: as good as real individuals no model
saw). With D a metric's distance to its ideal (:meth:`MetricInfo.distance_to_ideal`), averaged
over seeds, for the generator (gen), the metric's baseline anchor (base) and the reference row
(ref, averaged over the suite's reference draws):

    S = (D_base - D_gen) / (D_base - D_ref),  clipped to [-1, 1].

A metric counts only where it *resolves* on the suite: where base and ref differ by more than
twice the spread of the reference's distance over its draws (independent real samples of the
test split's size). Otherwise the data cannot tell real individuals from the baseline on that
metric at this size, and the metric is shown, marked "does not resolve at this size", but never
scored. A family's score is the median of its resolving, scored metrics (marginal, ld,
structure, diversity, association); fidelity is the mean of marginal, ld and structure.

Privacy metrics are gates, not scores (:mod:`genobench.metrics.privacy`): each is compared with
the reference row's value on the same computation, and passes when the generator is no riskier
than real unseen individuals beyond ``max(2 x sqrt(2) x reference spread, the gate's
tolerance)`` (sqrt(2): one generator run is as noisy as one reference draw). Where a gate's
no-leak value is known whatever the set sizes (privacy loss 0, membership AUC 0.5, DCR ratio
1), the reference is taken no stricter than that value. The
ranking sorts generators that pass every gate by fidelity (mean over suites); those that fail a
gate follow, marked, whatever their fidelity; reference rows are shown but never ranked.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .anchors import ANCHORS, REFERENCE
from .records import FIDELITY_FAMILIES, JobRecord, MetricInfo, as_record, finite

#: Families scored (in this order); privacy is gates.
SCORED_FAMILIES = FIDELITY_FAMILIES + ("diversity", "association")
#: How many reference spreads base and ref must differ by for a metric to resolve.
RESOLUTION_SPREADS = 2.0
#: How many reference spreads a privacy gate allows beyond the reference's value.
GATE_SPREADS = 2.0
NOT_RESOLVED = "does not resolve at this size"
FORMULA = ("S = (D_base - D_gen) / (D_base - D_ref), clipped to [-1, 1]; D = distance to the "
           "ideal; base = the metric's baseline (permuted_frequencies for marginal metrics, "
           "independent_sites otherwise), ref = real individuals no model saw; a metric counts "
           "where |D_base - D_ref| > 2 x the reference's spread; family = median; fidelity = "
           "mean of marginal, ld and structure; privacy gates pass when no riskier than the "
           "reference beyond max(2 x sqrt(2) x its spread, the gate's tolerance).")


def _draws(record: JobRecord, metric: str) -> list[float]:
    """The reference draws' values of ``metric`` in a reference record (or its one value)."""
    result = record.metrics.get(metric)
    if result is None:
        return []
    draws = result.draws if result.draws is not None else (result.value,)
    return [v for v in (finite(d) for d in draws) if v is not None]


def _std(values: list[float]) -> float | None:
    """Sample standard deviation (ddof 1), None for fewer than two values."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else None


def metric_infos(records: Iterable[JobRecord | dict]) -> dict[str, MetricInfo]:
    """Every metric's :class:`MetricInfo` from the records' ``metric_info``, first seen wins."""
    infos: dict[str, MetricInfo] = {}
    for record in map(as_record, records):
        for name, info in record.metric_info.items():
            infos.setdefault(name, info)
    return infos


def resolution(info: MetricInfo, by_generator: dict[str, list[JobRecord | dict]]) -> dict:
    """How ``info``'s metric separates its baseline from the reference on one suite.

    :returns: {base, ref, spread (of the reference's distance over draws, or None),
        resolves (bool), note}: distances to the ideal.
    """
    reference = [r for r in map(as_record, by_generator.get(REFERENCE, [])) if r.ok]
    base = [r for r in map(as_record, by_generator.get(info.baseline, [])) if r.ok]
    if not reference or not base:
        missing = REFERENCE if not reference else info.baseline
        return dict(base=None, ref=None, spread=None, resolves=False,
                    note=f"not scored: no {missing} row")
    ref_distances = [d for d in (info.distance_to_ideal(v) for v in _draws(reference[0],
                                                                            info.name))
                     if d is not None]
    base_distances = [d for d in (info.distance_to_ideal(r.value(info.name)) for r in base)
                      if d is not None]
    if not ref_distances or not base_distances:
        return dict(base=None, ref=None, spread=None, resolves=False,
                    note="not scored: no value for the reference or the baseline")
    d_ref, d_base = float(np.mean(ref_distances)), float(np.mean(base_distances))
    spread = _std(ref_distances)
    gap = d_base - d_ref
    if spread is None:
        resolves, note = gap > 0, "one reference draw: spread unknown"
    else:
        resolves = gap > RESOLUTION_SPREADS * spread
        note = None if resolves else NOT_RESOLVED
    return dict(base=d_base, ref=d_ref, spread=spread, resolves=bool(resolves), note=note)


def scale(d_gen: float | None, res: dict) -> float | None:
    """S of a distance ``d_gen`` under a metric's resolution ``res``, clipped to [-1, 1]."""
    if d_gen is None or res["base"] is None or res["base"] == res["ref"]:
        return None
    return float(np.clip((res["base"] - d_gen) / (res["base"] - res["ref"]), -1.0, 1.0))


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def _families(scores: dict[str, float | None], infos: dict[str, MetricInfo],
              resolved: dict[str, dict]) -> dict[str, float | None]:
    """Family = median of the resolving, scored metrics' S."""
    families = {}
    for family in SCORED_FAMILIES:
        values = [scores[name] for name, info in infos.items()
                  if info.family == family and info.scored and resolved[name]["resolves"]
                  and scores.get(name) is not None]
        families[family] = _median(values)
    return families


def fidelity_of(families: dict[str, float | None]) -> float | None:
    """Mean of the marginal, ld and structure families that have a score."""
    values = [families[f] for f in FIDELITY_FAMILIES if families.get(f) is not None]
    return float(np.mean(values)) if values else None


def _gate(info: MetricInfo, records: list[JobRecord], reference: list[JobRecord]) -> dict:
    """One privacy gate of one generator against the reference row."""
    values = [v for v in (r.value(info.name) for r in records) if v is not None]
    ref_values = _draws(reference[0], info.name) if reference else []
    value = float(np.mean(values)) if values else None
    if not ref_values:
        return dict(value=value, reference=None, threshold=None, passed=None,
                    note="no reference value")
    ref_mean, spread = float(np.mean(ref_values)), _std(ref_values) or 0.0
    # the generator's value is as noisy as a reference draw's: the difference's spread is
    # sqrt(2) times the reference's
    allowance = max(GATE_SPREADS * math.sqrt(2.0) * spread, info.tolerance)
    # never stricter than no leak at all: a reference on the safe side of the neutral value
    # by sampling chance (or a bias of the split) does not tighten the gate
    if info.risk == "higher":
        anchor = ref_mean if info.neutral is None else max(ref_mean, info.neutral)
        threshold = anchor + allowance
    else:
        anchor = ref_mean if info.neutral is None else min(ref_mean, info.neutral)
        threshold = anchor - allowance
    passed = None if value is None else bool(
        value <= threshold + 1e-12 if info.risk == "higher" else value >= threshold - 1e-12)
    return dict(value=value, reference=ref_mean, threshold=threshold, passed=passed,
                note=None if value is not None else "not computed")


def _verdict(verdicts: list[bool | None]) -> bool | None:
    """False when any gate failed; None when some were not assessed (or none exist); else
    True."""
    if any(v is False for v in verdicts):
        return False
    if not verdicts or any(v is None for v in verdicts):
        return None
    return True


def suite_scorecard(records: list[JobRecord | dict],
                    infos: dict[str, MetricInfo] | None = None) -> dict:
    """The scorecard of one suite's records (:class:`JobRecord`, or their JSON form).

    :returns: ``{"generators": {name: {"families", "fidelity", "spread" (of fidelity over
        seeds), "privacy": {"passed", "gates"}, "reference", "baseline", "metrics": {name:
        S}, "seeds"}}, "resolution": {metric: {...}}}``.
    """
    records = [as_record(record) for record in records]
    infos = infos or metric_infos(records)
    by_generator: dict[str, list[JobRecord]] = {}
    for record in records:
        by_generator.setdefault(record.generator, []).append(record)
    scored = {n: i for n, i in infos.items() if not i.is_gate}
    gates = {n: i for n, i in infos.items() if i.is_gate}
    resolved = {name: resolution(info, by_generator) for name, info in scored.items()}
    reference = [r for r in by_generator.get(REFERENCE, []) if r.ok]
    generators = {}
    for name, group in by_generator.items():
        ok = [r for r in group if r.ok]
        per_seed = []
        for record in ok:
            scores = {m: scale(info.distance_to_ideal(record.value(m)), resolved[m])
                      for m, info in scored.items()}
            per_seed.append(_families(scores, scored, resolved))
        mean_scores = {}
        for metric, info in scored.items():
            distances = [d for d in (info.distance_to_ideal(r.value(metric)) for r in ok)
                         if d is not None]
            mean_scores[metric] = scale(float(np.mean(distances)) if distances else None,
                                        resolved[metric])
        families = _families(mean_scores, scored, resolved)
        fidelities = [f for f in (fidelity_of(s) for s in per_seed) if f is not None]
        gate_results = {metric: _gate(info, ok, reference) for metric, info in gates.items()}
        verdicts = [g["passed"] for g in gate_results.values()]
        passed = _verdict(verdicts)
        generators[name] = dict(
            families=families, fidelity=fidelity_of(families), spread=_std(fidelities),
            privacy=dict(passed=passed, gates=gate_results),
            reference=any(r.is_reference for r in group),
            baseline=name in ANCHORS and name != REFERENCE,
            metrics=mean_scores, seeds=len(ok), failed=len(group) - len(ok))
    return dict(generators=generators, resolution=resolved)


def scorecards(records: list[JobRecord | dict]) -> dict[str, dict]:
    """:func:`suite_scorecard` of every suite in ``records``, suites in order of appearance."""
    records = [as_record(record) for record in records]
    infos = metric_infos(records)
    suites: dict[str, list[JobRecord]] = {}
    for record in records:
        suites.setdefault(record.suite, []).append(record)
    return {suite: suite_scorecard(group, infos) for suite, group in suites.items()}


def verdict_order(fidelity: float | None, privacy_passed: bool | None) -> tuple:
    """Sort key of the verdict, best first: a fidelity before none (failing to run never
    pays), then passing every gate before unassessed gates before a failed gate, then higher
    fidelity. The ranking, the leaderboard's suite tables and the terminal summary share it."""
    gates = {True: 0, None: 1, False: 2}.get(privacy_passed, 1)
    return (fidelity is None, gates, -(fidelity or 0.0))


def ranking(cards: dict[str, dict]) -> list[dict]:
    """Generators best first: those passing every privacy gate by mean fidelity over suites,
    then those whose gates were not all assessed, then those failing a gate; those without a
    fidelity (every job failed) last of all. Reference rows are left out.

    Each entry: position, generator, fidelity (mean over suites), spread (largest seed spread
    over suites), families (means over suites), privacy_passed, suites {suite: fidelity},
    baseline, failed_jobs.
    """
    entries: dict[str, dict] = {}
    for suite, card in cards.items():
        for name, row in card["generators"].items():
            if row["reference"]:
                continue
            entry = entries.setdefault(name, dict(
                generator=name, suites={}, families={f: [] for f in SCORED_FAMILIES},
                passed=[], spreads=[], baseline=row["baseline"], failed_jobs=0))
            entry["suites"][suite] = row["fidelity"]
            for family, value in row["families"].items():
                if value is not None:
                    entry["families"][family].append(value)
            entry["passed"].append(row["privacy"]["passed"])
            if row["spread"] is not None:
                entry["spreads"].append(row["spread"])
            entry["failed_jobs"] += row["failed"]
    ranked = []
    for entry in entries.values():
        fidelities = [f for f in entry["suites"].values() if f is not None]
        privacy = _verdict(entry.pop("passed"))
        spreads = entry.pop("spreads")
        ranked.append(dict(
            entry, fidelity=float(np.mean(fidelities)) if fidelities else None,
            spread=max(spreads) if spreads else None, privacy_passed=privacy,
            families={f: float(np.mean(v)) if v else None
                      for f, v in entry["families"].items()}))
    ranked.sort(key=lambda e: (*verdict_order(e["fidelity"], e["privacy_passed"]),
                               e["generator"]))
    for position, entry in enumerate(ranked, start=1):
        entry["position"] = position
    keys = ("position", "generator", "fidelity", "spread", "families", "privacy_passed",
            "suites", "baseline", "failed_jobs")
    return [{key: entry[key] for key in keys} for entry in ranked]


def leaderboard_scorecard(records: list[JobRecord | dict]) -> dict:
    """The ``scorecard`` and ``ranking`` keys of leaderboard.json, and the formula shown."""
    cards = scorecards(records)
    return dict(
        scorecard={suite: card["generators"] for suite, card in cards.items()},
        resolution={suite: card["resolution"] for suite, card in cards.items()},
        ranking=ranking(cards), formula=FORMULA)
