"""Regression checks: what changed between two benchmark runs, and whether anything got worse.

:func:`compare_leaderboards` takes two leaderboards (:func:`genobench.report.leaderboard_data`,
or a ``leaderboard.json``) and lists every change per suite, generator, metric and timing. A
change is a *regression* when

- a metric moves away from its ideal (:meth:`genobench.records.MetricInfo.distance_to_ideal`,
  from the metrics' own documentation) by more than its tolerance plus the baseline's seed spread
  (standard deviation over seeds; a difference inside it is not evidence), or a value the
  baseline had is no longer computed;
- a generator seed that succeeded in the baseline fails or is missing now;
- a generator's scorecard fidelity (:mod:`genobench.scorecard`) falls by more than
  ``fidelity_tolerance`` plus its seed spread, or a privacy gate it passed fails now;
- a phase (fit, generate, evaluate) takes more than ``time_tolerance`` times as long; times
  below ``time_floor`` seconds count as ``time_floor``, so that jitter on tiny timings is not a
  regression.

Improvements, new generators and new metrics are listed but never fail. ``genobench compare``
is the command around this module; ``tox -e regression`` runs it against reports/baseline/.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

from .errors import GenobenchError, ResultsError
from .records import DIRECTIONS, JobRecord, MetricInfo

#: Default absolute tolerance on a metric's worsening (metrics mostly live in [0, 1]).
METRIC_TOLERANCE = 0.01
#: Default fall of a generator's scorecard fidelity (0 baseline .. 1 real data) that fails.
FIDELITY_TOLERANCE = 0.05
#: Default factor a phase's time may grow by before it is a regression.
TIME_TOLERANCE = 2.0
#: Times shorter than this many seconds are compared as this many seconds.
TIME_FLOOR = 1.0
PHASES = ("fit_s", "generate_s", "evaluate_s")


@dataclasses.dataclass
class Change:
    """One compared quantity.

    :ivar kind: ``"metric"``, ``"time"``, ``"memory"``, ``"status"`` or ``"suite"``.
    :ivar item: the metric name, the timing key (``fit_s``, ...) or ``"status"``.
    :ivar baseline, current: the values compared (mean over seeds), or a status word.
    :ivar delta: ``current - baseline`` for metrics, ``current / baseline`` for times and
        memory, None where there is nothing to subtract.
    :ivar verdict: ``"same"``, ``"better"``, ``"worse"`` (within tolerance), ``"regression"``,
        ``"new"``, ``"fixed"`` or ``"info"``.
    :ivar reason: one line saying why the verdict is what it is.
    """

    suite: str
    generator: str
    kind: str
    item: str
    baseline: float | str | None
    current: float | str | None
    delta: float | None
    verdict: str
    reason: str = ""

    @property
    def regression(self) -> bool:
        return self.verdict == "regression"


@dataclasses.dataclass
class Comparison:
    """The outcome of :func:`compare_leaderboards`: every change, in table order."""

    changes: list[Change]

    @property
    def regressions(self) -> list[Change]:
        return [change for change in self.changes if change.regression]

    def summary(self, limit: int = 4) -> str:
        """One line: the verdict, with the first few regressions."""
        bad = self.regressions
        counted = {kind: sum(c.kind == kind and c.baseline is not None for c in self.changes)
                   for kind in ("metric", "time")}
        if not bad:
            return (f"OK: no regressions ({counted['metric']} metric and {counted['time']} "
                    f"timing comparisons)")
        shown = "; ".join(f"{c.suite}/{c.generator}: {c.reason}" for c in bad[:limit])
        more = f"; and {len(bad) - limit} more" if len(bad) > limit else ""
        return f"FAIL: {len(bad)} regression{'s' if len(bad) != 1 else ''}: {shown}{more}"


# -- loading --------------------------------------------------------------------------------

def load_leaderboard(location) -> dict:
    """The leaderboard data of ``location``: a results folder (or its ``results/`` folder, or
    one record file), or a ``leaderboard.json`` file or a folder holding one."""
    from .report import leaderboard_data
    from .results import load_results

    location = Path(location)
    if not location.exists():
        raise ResultsError(f"{location}: no such results folder or leaderboard file")
    if location.is_file():
        try:
            payload = json.loads(location.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ResultsError(f"{location}: unreadable JSON ({error})") from None
        if isinstance(payload, dict) and "suites" in payload and "metrics" in payload:
            return payload
        if isinstance(payload, dict) and "suite" in payload and "generator" in payload:
            return leaderboard_data([JobRecord.from_json(payload, where=str(location))])
        raise ResultsError(f"{location}: neither a leaderboard.json nor a result record")
    try:
        return leaderboard_data(load_results(location))
    except ResultsError:
        if (location / "leaderboard.json").is_file():
            return load_leaderboard(location / "leaderboard.json")
        raise


def parse_tolerances(items) -> dict[str, float]:
    """``["fst=0.005", "aats=0.02"]`` into {metric: tolerance}."""
    tolerances = {}
    for item in items:
        name, sep, raw = str(item).partition("=")
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not sep or not name.strip() or not math.isfinite(value) or value < 0:
            raise GenobenchError(f"--tolerance {item!r}: expected METRIC=VALUE with VALUE >= 0")
        tolerances[name.strip()] = value
    return tolerances


# -- comparing ------------------------------------------------------------------------------

def compare_leaderboards(baseline: dict, current: dict, *,
                         metric_tolerance: float = METRIC_TOLERANCE,
                         tolerances: dict[str, float] | None = None,
                         time_tolerance: float = TIME_TOLERANCE,
                         time_floor: float = TIME_FLOOR,
                         fidelity_tolerance: float = FIDELITY_TOLERANCE) -> Comparison:
    """Compare ``current`` with ``baseline`` (both :func:`leaderboard_data` dicts).

    :param metric_tolerance: how far (absolute) any metric may worsen without failing.
    :param tolerances: {metric: tolerance} overriding ``metric_tolerance`` for those metrics;
        a name that neither leaderboard knows is an error (a typo must not pass silently).
    :param time_tolerance: factor (> 1) a phase's seconds may grow by.
    :param time_floor: seconds below which times count as this many seconds.
    :param fidelity_tolerance: how far a generator's scorecard fidelity may fall.
    """
    tolerances = dict(tolerances or {})
    info = {m["name"]: m for m in baseline.get("metrics", [])}
    info.update({m["name"]: m for m in current.get("metrics", [])})
    unknown = sorted(set(tolerances) - set(info))
    if unknown:
        raise GenobenchError(f"--tolerance {unknown[0]}: no such metric in either run "
                             f"(known: {', '.join(sorted(info)) or 'none'})")
    if not time_tolerance > 1:
        raise GenobenchError(f"--time-tolerance {time_tolerance}: must be a factor above 1")
    if metric_tolerance < 0 or time_floor < 0:
        raise GenobenchError("tolerances must not be negative")
    now = {(suite["name"], row["generator"]): row
           for suite in current.get("suites", []) for row in suite["rows"]}
    suites_now = {suite["name"]: suite for suite in current.get("suites", [])}
    changes: list[Change] = []
    seen = set()
    for suite in baseline.get("suites", []):
        # Different suite data (another panel, split or simulator version) explain changes.
        keys = [(s.get("info") or {}).get("cache_key") for s in (suite,
                                                                 suites_now.get(suite["name"]))
                if s is not None]
        if len(keys) == 2 and keys[0] != keys[1]:
            changes.append(Change(suite["name"], "*", "suite", "data", keys[0], keys[1], None,
                                  "info", "the suite's data differ (cache key changed)"))
        for old in suite["rows"]:
            key = (suite["name"], old["generator"])
            seen.add(key)
            new = now.get(key)
            changes += _status(suite["name"], old, new)
            if new is None:
                continue
            for name, cell in old["cells"].items():
                changes.append(_metric(suite["name"], old["generator"], name, cell,
                                       new["cells"].get(name), info.get(name, {}),
                                       tolerances.get(name, metric_tolerance), new["status"]))
            for name in new["cells"].keys() - old["cells"].keys():
                changes.append(Change(suite["name"], old["generator"], "metric", name, None,
                                      new["cells"][name]["mean"], None, "new",
                                      "metric not in the baseline"))
            changes += _timings(suite["name"], old, new, time_tolerance, time_floor)
    changes += _scorecard(baseline.get("scorecard") or {}, current.get("scorecard") or {},
                          fidelity_tolerance)
    for suite in current.get("suites", []):
        for row in suite["rows"]:
            if (suite["name"], row["generator"]) not in seen:
                changes.append(Change(suite["name"], row["generator"], "status", "status", None,
                                      row["status"], None, "new", "not in the baseline"))
    return Comparison(changes)


def _scorecard(baseline: dict, current: dict, tolerance: float) -> list[Change]:
    """The verdict compared: each generator's fidelity, and each privacy gate it passed."""
    changes = []
    for suite, rows in baseline.items():
        for generator, old in rows.items():
            new = (current.get(suite) or {}).get(generator)
            if new is None or old.get("reference"):
                continue  # a missing generator is the status line's regression
            before, after = old.get("fidelity"), new.get("fidelity")
            if before is not None:
                allowed = tolerance + (old.get("spread") or 0.0)
                if after is None:  # a failed generator or lost metrics: their lines say so
                    verdict, reason = "info", "fidelity no longer computed"
                elif before - after > allowed:
                    verdict, reason = "regression", (f"scorecard fidelity fell by "
                                                     f"{before - after:.3f} ({before:.3f} -> "
                                                     f"{after:.3f}; tolerance {allowed:.3f})")
                else:
                    verdict = "better" if after > before else "same" if after == before \
                        else "worse"
                    reason = "" if verdict != "worse" else f"within tolerance {allowed:.3f}"
                changes.append(Change(suite, generator, "scorecard", "fidelity", before, after,
                                      None if after is None else after - before, verdict,
                                      reason))
            gates_now = (new.get("privacy") or {}).get("gates") or {}
            for gate, result in ((old.get("privacy") or {}).get("gates") or {}).items():
                if result.get("passed") is True and (gates_now.get(gate) or {}).get(
                        "passed") is False:
                    changes.append(Change(
                        suite, generator, "scorecard", f"privacy:{gate}", "pass", "fail", None,
                        "regression", f"privacy gate {gate} fails now "
                                      f"(value {gates_now[gate].get('value')!s:.6})"))
    return changes


def _status(suite: str, old: dict, new: dict | None) -> list[Change]:
    """A generator whose baseline seeds succeeded must succeed on each of them now."""
    def change(verdict, reason, current):
        return [Change(suite, old["generator"], "status", "status", old["status"], current,
                       None, verdict, reason)]

    if new is None:
        if old["seeds"]:
            return change("regression", "missing from the current run", None)
        return change("info", "failed in the baseline, missing now", None)
    errors = {e["seed"]: e["error"] for e in new.get("errors", [])}
    lost = [seed for seed in old["seeds"] if seed not in new["seeds"]]
    if lost:
        reasons = [f"seed {seed} {'now fails: ' + errors[seed] if seed in errors else 'missing'}"
                   for seed in lost]
        return change("regression", "; ".join(reasons), new["status"])
    if old["status"] != "ok" and new["status"] == "ok":
        return change("fixed", "every seed succeeds now", new["status"])
    return change("same", "", new["status"])


def _worsening(info: dict, old: float, new: float) -> float | None:
    """How much farther from the ideal ``new`` is than ``old`` (negative: better), by the
    metric's :meth:`~genobench.records.MetricInfo.distance_to_ideal`; None when the glossary
    entry ``info`` documents no direction (or a target without an ideal)."""
    if info.get("direction") not in DIRECTIONS:
        return None
    metric = MetricInfo.from_json(info)
    before, after = metric.distance_to_ideal(old), metric.distance_to_ideal(new)
    return None if before is None or after is None else after - before


def _metric(suite: str, generator: str, name: str, old: dict, new: dict | None, info: dict,
            tolerance: float, status: str) -> Change:
    before = old.get("mean")
    after = None if new is None else new.get("mean")

    def change(verdict, reason=""):
        delta = after - before if before is not None and after is not None else None
        return Change(suite, generator, "metric", name, before, after, delta, verdict, reason)

    if before is None:
        return change("same" if after is None else "new",
                      "" if after is None else "computed now, n/a in the baseline")
    if after is None:
        if status == "failed":  # the status line already says so
            return change("info", "no value: the generator failed")
        return change("regression", f"{name} no longer computed (was {before:.4g})")
    worse = _worsening(info, before, after)
    if worse is None:
        return (change("info", "metric has no direction") if after != before
                else change("same"))
    # Float noise is no change; a worsening inside the baseline's seed spread is no evidence.
    worse = float(f"{worse:.12g}")
    allowed = tolerance + (old.get("std") or 0.0)
    if worse > allowed:
        return change("regression", f"{name} worse by {worse:.4g} ({before:.4g} -> {after:.4g}; "
                                    f"tolerance {allowed:.4g})")
    if worse > 0:
        return change("worse", f"within tolerance {allowed:.4g}")
    return change("better" if worse < 0 else "same")


def _timings(suite: str, old: dict, new: dict, factor: float, floor: float) -> list[Change]:
    changes = []
    for key in (*PHASES, "peak_rss_mb"):
        before, after = old["timing"].get(key), new["timing"].get(key)
        kind = "memory" if key == "peak_rss_mb" else "time"
        if before is None or after is None:
            continue
        if kind == "memory":
            ratio = after / before if before > 0 else None
            changes.append(Change(suite, old["generator"], kind, key, before, after, ratio,
                                  "info"))
            continue
        ratio = max(after, floor) / max(before, floor)
        if new["status"] == "failed" or old["status"] == "failed":
            verdict, reason = "info", "timing of a failed job"
        elif ratio > factor:
            verdict = "regression"
            reason = (f"{key} x{after / before if before > 0 else math.inf:.3g} "
                      f"({before:.3g} s -> {after:.3g} s; tolerance x{factor:g})")
        else:
            verdict, reason = ("same" if ratio == 1 else "better" if ratio < 1 else "worse"), ""
        changes.append(Change(suite, old["generator"], kind, key, before, after,
                              after / before if before > 0 else None, verdict, reason))
    return changes


# -- output ---------------------------------------------------------------------------------

COLUMNS = ("suite", "generator", "what", "baseline", "current", "change", "verdict")


def table_rows(comparison: Comparison, *, everything: bool = True) -> list[tuple[str, ...]]:
    """The comparison as rows of text, one per change (``everything=False``: only the changes
    that are not ``same``)."""
    rows = []
    for c in comparison.changes:
        if not everything and c.verdict == "same":
            continue
        if c.kind == "metric":
            delta = "" if c.delta is None else f"{c.delta:+.4g}"
        elif c.kind in ("time", "memory"):
            delta = "" if c.delta is None else f"x{c.delta:.3g}"
        else:
            delta = ""
        verdict = c.verdict.upper() if c.regression else c.verdict
        if c.reason:
            verdict += f": {c.reason}"
        rows.append((c.suite, c.generator, c.item, _text(c.baseline), _text(c.current), delta,
                     verdict))
    return rows


def _text(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_plain(comparison: Comparison, *, everything: bool = True) -> str:
    """The comparison as a plain-text table (for logs and pipes), then the summary line."""
    rows = [COLUMNS, *table_rows(comparison, everything=everything)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = ["  ".join([*(cell.ljust(width) for cell, width in zip(row[:-1], widths,
                                                                   strict=True)), row[-1]])
             .rstrip() for row in rows]
    return "\n".join([*lines, comparison.summary()])


def rich_table(comparison: Comparison, *, everything: bool = True):
    """The comparison as a :class:`rich.table.Table` (for a terminal)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="genobench compare", title_justify="left")
    for column in COLUMNS:
        table.add_column(column, justify="right" if column in ("baseline", "current", "change")
                         else "left", overflow="fold",
                         min_width=24 if column == "verdict" else None)
    styles = dict(regression="bold red", worse="yellow", better="green", fixed="green",
                  new="cyan")
    for change, row in zip([c for c in comparison.changes
                            if everything or c.verdict != "same"],
                           table_rows(comparison, everything=everything), strict=True):
        style = styles.get(change.verdict, "")
        table.add_row(*(Text(cell) for cell in row[:-1]), Text(row[-1], style=style))
    return table
