"""The end-of-run summary in the terminal: the scorecard in tables that fit 100 columns; and
the scorecard ``genobench evaluate`` prints.

It reads the leaderboard's data (``leaderboard.json``): per suite, the family scores, fidelity
and privacy verdict of each generator from ``scorecard``, in the order of ``ranking``. A
leaderboard without a scorecard gets the overall ranking (mean rank) instead.
"""

from __future__ import annotations

from rich import box
from rich.table import Table

from .scorecard import SCORED_FAMILIES as FAMILIES
from .scorecard import verdict_order

#: Width the summary is laid out for (columns of a terminal).
WIDTH = 100


def _score(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "–"
    return f"{value:.2f}"


def _privacy(privacy) -> tuple[str, list[str]]:
    """("pass" or "FAIL" or "–", the names of the failed gates)."""
    if not isinstance(privacy, dict) or privacy.get("passed") is None:
        return "–", []
    failed = [name for name, gate in (privacy.get("gates") or {}).items()
              if isinstance(gate, dict) and gate.get("passed") is False]
    return ("pass" if privacy["passed"] else "FAIL"), failed


def _table(title: str, caption: str | None = None) -> Table:
    return Table(title=title, title_justify="left", caption=caption, caption_justify="left",
                 box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0))


def scorecard_tables(data: dict) -> list[Table]:
    """One table per suite: generator | fidelity | the five families | privacy.

    Generators come in the suite's own ranking order (those passing every privacy gate by
    fidelity, then the others, then those without a fidelity), reference rows last and in
    italics; the overall ranking over suites is :func:`genobench.scorecard.ranking`.
    :returns: no tables when ``data`` has no scorecard.
    """
    scorecard = data.get("scorecard")
    if not isinstance(scorecard, dict) or not scorecard:
        return []
    tables = []
    for suite, generators in scorecard.items():
        if not isinstance(generators, dict):
            continue
        table = _table(f"Scorecard {suite}")
        table.add_column("#", justify="right")
        table.add_column("generator", overflow="fold", max_width=24)
        table.add_column("fidelity", justify="right")
        for family in FAMILIES:
            table.add_column(family if family != "association" else "assoc.", justify="right")
        table.add_column("privacy")
        failures = []

        def key(item):
            name, entry = item
            entry = entry if isinstance(entry, dict) else {}
            fidelity = entry.get("fidelity")
            passed = (entry.get("privacy") or {}).get("passed")
            return (bool(entry.get("reference")), *verdict_order(fidelity, passed), name)

        ordered = sorted(generators.items(), key=key)
        position = {name: index + 1 for index, (name, entry) in enumerate(
            item for item in ordered if not (isinstance(item[1], dict)
                                             and item[1].get("reference")))}
        for name, entry in ordered:
            if not isinstance(entry, dict):
                continue
            families = entry.get("families") or {}
            reference = bool(entry.get("reference"))
            verdict, failed = _privacy(entry.get("privacy"))
            if failed:
                failures.append(f"{name}: {', '.join(failed)}")
            table.add_row(
                "ref" if reference else str(position.get(name, "–")),
                f"[italic]{name}[/italic]" if reference else name,
                _score(entry.get("fidelity")),
                *(_score(families.get(family)) for family in FAMILIES), verdict)
        table.caption = ("Family scores: 1 = as good as real data, 0 = no better than the "
                         "baseline; – = not scored. Privacy gates failed: "
                         + ("; ".join(failures) if failures else "none") + ".")
        tables.append(table)
    return tables


def ranking_table(data: dict, *, max_suites: int = 4) -> Table | None:
    """The overall ranking by mean rank (leaderboards without a scorecard), or None."""
    ranking = [entry for entry in data.get("ranking") or []
               if isinstance(entry, dict) and "mean_rank" in entry]
    if not ranking:
        return None
    suites = [suite.get("name") for suite in data.get("suites") or []][:max_suites]
    table = _table("Overall ranking (mean rank over every metric, 1 is best)")
    table.add_column("#", justify="right")
    table.add_column("generator", overflow="fold", max_width=24)
    table.add_column("mean rank", justify="right")
    for suite in suites:
        table.add_column(suite, justify="right", overflow="fold", max_width=14)
    table.add_column("failed jobs", justify="right")
    for entry in ranking:
        ranks = entry.get("suites") or {}
        table.add_row(str(entry.get("position") or "–"), str(entry["generator"]),
                      _score(entry.get("mean_rank")), *(_score(ranks.get(s)) for s in suites),
                      f"{entry.get('failed_jobs', 0)} / {entry.get('jobs', 0)}")
    return table


def summary_tables(data: dict) -> list[Table]:
    """The scorecard tables, else the ranking table, else nothing."""
    tables = scorecard_tables(data)
    if tables:
        return tables
    table = ranking_table(data)
    return [table] if table is not None else []


def evaluation_scorecard_table(scored):
    """The scorecard of ``genobench evaluate`` as a rich table: a row per set scored
    (``scored``: a :class:`genobench.evaluation.Evaluation` with a scorecard)."""
    rows = scored.scorecard["generators"]
    table = Table(title=f"scorecard (0 = baseline, 1 = real data; {scored.sizes['compared']} "
                        f"individuals per set; reference: {scored.sizes['reference']})",
                  title_justify="left")
    for column in ("set", "fidelity", *FAMILIES, "privacy"):
        table.add_column(column, justify="left" if column in ("set", "privacy") else "right")

    for name, row in rows.items():
        verdict = row["privacy"]["passed"]
        failed = [m for m, gate in row["privacy"]["gates"].items() if gate["passed"] is False]
        table.add_row(name, _score(row["fidelity"]),
                      *(_score(row["families"][f]) for f in FAMILIES),
                      "pass" if verdict else ("fails " + ", ".join(failed)) if verdict is False
                      else "not assessed (no --train)" if not row["privacy"]["gates"]
                      or all(g["value"] is None for g in row["privacy"]["gates"].values())
                      else "not assessed")
    return table
