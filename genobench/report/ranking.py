"""Ranking within a suite's table: distance to the ideal, honest ties, the noise floor and the
quality-against-cost front.

Per-metric ranks are honest about noise: two generators whose difference lies inside their seed
spread tie; ranks mark cells and never make the verdict (the scorecard does,
:mod:`genobench.scorecard`).
"""

from __future__ import annotations

import math

import numpy as np

from ..records import MetricInfo

__all__ = ["ideal_distance", "noise_floor", "pareto", "rank_rows", "tied_ranks"]


def ideal_distance(info: dict, value: float | None) -> float | None:
    """:meth:`MetricInfo.distance_to_ideal` of ``value`` under the glossary entry ``info``
    (smaller is better); None for a privacy gate (read against the reference, not ranked)."""
    if info.get("risk") is not None:
        return None
    return MetricInfo.from_json(info).distance_to_ideal(value)


def rank_rows(rows: list[dict], metrics: list[dict]) -> None:
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
            distance = ideal_distance(info, cell["mean"])
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


def noise_floor(rows: list[dict], metrics: list[dict]) -> dict[str, dict]:
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
        distance = ideal_distance(info, cell["mean"])
        if cell["mean"] is None:
            continue
        floor[name] = dict(generator=reference["generator"], mean=cell["mean"], std=cell["std"],
                           distance=distance)
        if distance is None:
            continue
        for row in rows:
            other = row["cells"][name]
            mine = ideal_distance(info, other["mean"])
            if row["is_reference"] or row["status"] == "failed" or mine is None:
                continue
            slack = max(cell["std"] or 0.0, other["std"] or 0.0)
            other["at_floor"] = float(f"{mine - distance:.12g}") <= slack
    return floor


def pareto(rows: list[dict]) -> list[dict]:
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

