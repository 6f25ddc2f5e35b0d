"""The leaderboard's Training table: what each trained generator's fit did, and where the
generator stays weak, why, read from its own records (measured, not guessed).

Input per suite: the job records' ``training`` (:meth:`genobench.Generator.fit_report`: epochs,
stop reason, kept epoch, FLOP/s fraction, one entry per validation with the signals measured on
the validation split) and the suite's scorecard entry of each generator (family scores and
privacy gates, :mod:`genobench.scorecard`). A generator whose jobs report no fit (the baselines,
a plugin without :meth:`~genobench.Generator.fit_report`) has no row.

The reasons (``why``) state measurements and the rule that reads them, one sentence each:

- **LD family below** :data:`FAMILY_BAR`: where the validation correlation score peaked along
  training against the epochs run, so a reader sees whether the budget ended training before
  a second validation or while the score still rose (budget-bound), whether it learnt no LD
  at all (peak below :data:`NO_LD`), whether the kept checkpoint precedes the peak because the
  peak's samples leaked (validation membership AUC higher there) or because the selection
  score preferred it, or whether the score levelled off well before the end.
- **Privacy gates failed**: each gate's value and limit; the validation membership AUC at the
  first validation, the kept epoch and the last one, and, where it crosses the membership
  gate's limit, whether the leak was there from the first validation (it comes with the
  model's construction) or grew with training; the membership AUC of the kept model's own
  parts (``leak_sources`` of the fit report: a VAE's reconstruction error, a critic's score,
  the distance to a training PCA's subspace); where the test split's membership AUC passes
  its gate while a distance gate fails, that as a set the individuals sit as near unseen
  individuals as training ones, and the distance gate counts the few that do not; and what
  the suite's other reference rows (msprime: new individuals that know the training split
  only through what was fitted to it) read on the same gates, so a reader sees whether a
  generator that copies no one also reaches the gate's line at this suite's size.
- **Diversity family below** :data:`FAMILY_BAR`: k-NN precision (share of its individuals
  inside real individuals' neighbourhoods) and recall (share of real individuals it covers)
  on the test split.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..anchors import REFERENCE
from ..records import JobRecord, finite

__all__ = ["FAMILY_BAR", "training_rows"]

#: Family score below which the Training table says why (the bar the deep-model issue sets for
#: the ld and diversity families: halfway from the baseline to real data).
FAMILY_BAR = 0.5

#: A validation correlation score peak below this is "learnt no LD" (independent sites score
#: about 0.000-0.004 on the bundled suites' validation splits).
NO_LD = 0.02

#: A rise of the validation membership AUC above this between the kept checkpoint and the LD
#: peak counts as the peak's samples leaking.
LEAK_STEP = 0.02

#: How the reasons name a stop ("stopped" of a fit report).
STOP_WORDS = {"max_seconds": "the profile's wall-clock cap", "time_limit": "the job's time limit"}

#: A validation peak at most this share of the epochs run before the last validation counts as
#: "still rising when training ended".
LATE_SHARE = 0.2


def training_rows(records: list[JobRecord], card: dict, metrics: dict[str, dict]) -> list[dict]:
    """Rows of one suite's Training table, generators in order of first appearance.

    :param records: the suite's job records.
    :param card: the suite's scorecard, {generator: entry} (:func:`genobench.scorecard.
        suite_scorecard`'s ``generators``).
    :param metrics: the metric glossary, {name: info dict} (labels of the gates named).
    :returns: [{generator, seeds, epochs, stopped, best_epoch, fit_s, max_seconds,
        flops_fraction, validation: {correlation_kept, correlation_peak, peak_epoch,
        membership_kept}, errors, why: [sentence]}]; numbers are means over seeds, epochs as
        ``[min, max]``.
    """
    by_generator: dict[str, list[JobRecord]] = {}
    for record in records:
        if record.ok and record.training and not record.is_reference:
            by_generator.setdefault(record.generator, []).append(record)
    references = _reference_rows(card)
    rows = []
    for generator, group in by_generator.items():
        reports = [r.training for r in group if "error" not in r.training]
        errors = sorted({str(r.training["error"]) for r in group if "error" in r.training})
        row = dict(generator=generator, seeds=len(group), errors=errors, why=[],
                   **_summary(reports))
        if reports:
            row["why"] = _reasons(reports, card.get(generator) or {}, metrics, group,
                                  references)
        rows.append(row)
    return rows


def _numbers(reports: list[dict], key: str) -> list[float]:
    return [float(r[key]) for r in reports if _number(r.get(key))]


def _number(value) -> bool:
    """A finite number, not a boolean (:func:`genobench.records.finite`)."""
    return finite(value) is not None


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _validations(report: dict) -> list[dict]:
    """The report's validations with a numeric epoch, in epoch order (a plugin's report is
    free-form: anything else is left out, never an error of the leaderboard)."""
    entries = report.get("validations")
    if not isinstance(entries, list):
        return []
    kept = [v for v in entries if isinstance(v, dict) and _number(v.get("epoch"))]
    return sorted(kept, key=lambda v: v["epoch"])


def _at_epoch(report: dict, epoch, key: str) -> float | None:
    for entry in _validations(report):
        if entry["epoch"] == epoch and _number(entry.get(key)):
            return float(entry[key])
    return None


def _peak(report: dict, key: str) -> tuple[float, int] | None:
    """(highest ``key`` over the validations, its epoch), or None."""
    points = [(float(v[key]), int(v["epoch"])) for v in _validations(report)
              if _number(v.get(key))]
    return max(points, key=lambda p: (p[0], -p[1])) if points else None


def _summary(reports: list[dict]) -> dict:
    epochs = _numbers(reports, "epochs")
    stopped = Counter(str(r.get("stopped")) for r in reports if r.get("stopped"))
    peaks = [p for p in (_peak(r, "correlation") for r in reports) if p is not None]
    kept = [_at_epoch(r, r.get("best_epoch"), "correlation") for r in reports]
    membership = [_at_epoch(r, r.get("best_epoch"), "membership") for r in reports]
    return dict(
        epochs=[int(min(epochs)), int(max(epochs))] if epochs else None,
        stopped=", ".join(f"{reason} x{count}" if count > 1 else reason
                          for reason, count in stopped.most_common()) or None,
        best_epoch=[int(e) for e in _numbers(reports, "best_epoch")],
        fit_s=_mean(_numbers(reports, "seconds")),
        max_seconds=_mean(_numbers(reports, "max_seconds")),
        flops_fraction=_mean(_numbers(reports, "flops_fraction")),
        validation=dict(
            correlation_kept=_mean([c for c in kept if c is not None]),
            correlation_peak=_mean([p[0] for p in peaks]),
            peak_epoch=[p[1] for p in peaks],
            membership_kept=_mean([m for m in membership if m is not None])))


def _reference_rows(card: dict) -> dict[str, dict]:
    """{generator: entry} of the scorecard's reference rows other than the real holdout
    (whose values the gates are anchored on)."""
    return {name: entry for name, entry in card.items()
            if isinstance(entry, dict) and entry.get("reference") and name != REFERENCE}


def _reasons(reports: list[dict], entry: dict, metrics: dict[str, dict],
             group: list[JobRecord], references: dict[str, dict] | None = None) -> list[str]:
    families = entry.get("families") or {}
    why = []
    ld = families.get("ld")
    if ld is not None and ld < FAMILY_BAR:
        why.append(_ld_reason(ld, reports))
    gates = (entry.get("privacy") or {}).get("gates") or {}
    failed = {name: gate for name, gate in gates.items() if gate.get("passed") is False}
    if failed:
        why.append(_gate_reason(failed, gates, metrics, reports)
                   + _reference_reading(failed, metrics, references or {}))
    diversity = families.get("diversity")
    if diversity is not None and diversity < FAMILY_BAR:
        precision = _mean([v for v in (r.value("precision") for r in group) if v is not None])
        recall = _mean([v for v in (r.value("recall") for r in group) if v is not None])
        if precision is not None and recall is not None:
            why.append(f"diversity {diversity:.2f}: k-NN precision {precision:.2f} (share of "
                       f"its individuals among real ones' neighbours), recall {recall:.2f} "
                       "(share of real individuals it covers), test split")
    return why


def _ld_reason(ld: float, reports: list[dict]) -> str:
    """Which of budget / leak / plateau the validation histories show (the most seeds')."""
    kinds, facts = Counter(), []
    for report in reports:
        peak = _peak(report, "correlation")
        validations = _validations(report)
        if peak is None or not validations:
            continue
        value, epoch = peak
        last = int(validations[-1]["epoch"])
        run = int(report["epochs"]) if _number(report.get("epochs")) else last
        kept = report.get("best_epoch") if _number(report.get("best_epoch")) else None
        capped = report.get("stopped") in ("max_seconds", "time_limit")
        kept_membership = _at_epoch(report, kept, "membership")
        peak_membership = _at_epoch(report, epoch, "membership")
        if value < NO_LD:
            kinds["none"] += 1
        elif capped and len(validations) == 1:
            kinds["once"] += 1
        elif capped and last - epoch <= LATE_SHARE * run:
            kinds["budget"] += 1
        elif kept is not None and kept < epoch:
            leaked = kept_membership is not None and peak_membership is not None and \
                peak_membership - kept_membership > LEAK_STEP
            kinds["leak" if leaked else "selection"] += 1
        else:
            kinds["plateau"] += 1
        facts.append((value, epoch, run, kept, report.get("stopped"), kept_membership,
                      peak_membership, report.get("selection")))
    if not facts:
        return f"ld {ld:.2f}: no validation correlation scores recorded"
    kind = kinds.most_common(1)[0][0]
    value = float(np.mean([f[0] for f in facts]))
    epochs = "/".join(str(f[1]) for f in facts)
    runs = "/".join(str(f[2]) for f in facts)
    stopped = Counter(str(f[4]) for f in facts).most_common(1)[0][0]
    ended = STOP_WORDS.get(stopped, stopped)
    if kind == "none":
        return (f"ld {ld:.2f}: learnt no LD: the validation correlation score stayed at or below "
                f"{max(f[0] for f in facts):.2f} over {runs} epochs (ended by {ended})")
    if kind == "once":
        return (f"ld {ld:.2f}: budget-bound: {ended} ended training after {runs} epochs, "
                f"before a second validation (validation correlation score {value:.2f})")
    if kind == "budget":
        return (f"ld {ld:.2f}: budget-bound: the validation correlation score was still rising "
                f"when {ended} ended training (peak {value:.2f} at epoch {epochs} of {runs} "
                "run)")
    kept = "/".join(str(f[3]) for f in facts)
    if kind == "leak":
        memberships = [(f[5], f[6]) for f in facts if f[5] is not None and f[6] is not None]
        return (f"ld {ld:.2f}: the kept checkpoint (epoch {kept}) precedes the validation "
                f"correlation peak ({value:.2f} at epoch {epochs}), where the samples leaked: "
                "validation membership AUC "
                f"{np.mean([m[0] for m in memberships]):.2f} at the kept epoch, "
                f"{np.mean([m[1] for m in memberships]):.2f} at the peak")
    if kind == "selection":
        selection = Counter(str(f[7]) for f in facts).most_common(1)[0][0]
        return (f"ld {ld:.2f}: the kept checkpoint (epoch {kept}) scored higher on the "
                f"checkpoint selection ({selection}) than the validation correlation peak "
                f"({value:.2f} at epoch {epochs})")
    return (f"ld {ld:.2f}: the validation correlation score levelled off at {value:.2f} by "
            f"epoch {epochs} of {runs} run: more epochs did not add LD")


def _gate_reason(failed: dict[str, dict], gates: dict[str, dict], metrics: dict[str, dict],
                 reports: list[dict]) -> str:
    """The failed gates, and what the membership signal says about them: on the validation
    split along training (growing, or there from the first validation), or, when the test
    split's membership AUC passes its gate, that as a set the individuals sit as near unseen
    individuals as training ones (the failing distance gates count the few that do not)."""
    named = []
    for name, gate in failed.items():
        label = _label(metrics, name)
        value, threshold = gate.get("value"), gate.get("threshold")
        named.append(f"{label} ({value:.3f}, limit {threshold:.3f})"
                     if value is not None and threshold is not None else label)
    text = "fails " + ", ".join(named)
    membership = gates.get("membership_auc") or {}
    limit = membership.get("threshold")
    trail = []
    for report in reports:
        points = [float(v["membership"]) for v in _validations(report)
                  if _number(v.get("membership"))]
        if points:
            trail.append((points[0], _at_epoch(report, report.get("best_epoch"), "membership"),
                          points[-1]))
    if trail:
        first = float(np.mean([t[0] for t in trail]))
        last = float(np.mean([t[2] for t in trail]))
        kept_values = [t[1] for t in trail if t[1] is not None]
        kept = f", {np.mean(kept_values):.2f} at the kept epoch" if kept_values else ""
        text += (f"; validation membership AUC {first:.2f} at the first validation{kept}, "
                 f"{last:.2f} at the last")
        if limit is not None and max(first, last) > limit:
            grows = "grows with training" if last - first > 0.03 else \
                "is there from the first validation"
            text += f": the leak {grows}"
    sources = _leak_sources(reports)
    if sources:
        text += ("; the kept model's own parts tell training from validation individuals: "
                 + ", ".join(_leak_source(what, auc) for what, auc in sources))
    if "membership_auc" not in failed and membership.get("value") is not None and \
            membership.get("passed") is True:
        text += (f"; membership AUC on the test split {membership['value']:.2f} passes (limit "
                 f"{limit:.2f}): as a set its individuals sit as near unseen individuals as "
                 "training ones; the failing distance gates count the few that do not")
    return text


def _reference_reading(failed: dict[str, dict], metrics: dict[str, dict],
                       references: dict[str, dict]) -> str:
    """What the reference rows read on the failed gates: "; reference rows on the same
    gates: msprime: Closer than holdout 0.003 (passes)", or "" without any."""
    readings = []
    for generator, entry in sorted(references.items()):
        gates = (entry.get("privacy") or {}).get("gates") or {}
        values = []
        for name in failed:
            gate = gates.get(name) or {}
            if _number(gate.get("value")):
                verdict = {True: "passes", False: "fails"}.get(gate.get("passed"), "not judged")
                values.append(f"{_label(metrics, name)} {gate['value']:.3f} ({verdict})")
        if values:
            readings.append(f"{generator}: " + ", ".join(values))
    return "; reference rows on the same gates: " + "; ".join(readings) if readings else ""


def _label(metrics: dict[str, dict], name: str) -> str:
    """A metric's label from the glossary, else its name."""
    return (metrics.get(name) or {}).get("label", name)


def _leak_source(what: str, auc: float) -> str:
    """One leak source in words; an AUC below 0.5 separates too, the other way round (the
    signal is larger for training individuals, against the fit report's convention)."""
    if auc < 0.5:
        return f"{what} (membership AUC {auc:.2f}, reversed: larger for training individuals)"
    return f"{what} (membership AUC {auc:.2f})"


def _leak_sources(reports: list[dict]) -> list[tuple[str, float]]:
    """(what, mean membership AUC over the seeds) of the fit reports' ``leak_sources``, in
    the order first reported; non-numeric values are left out."""
    values: dict[str, list[float]] = {}
    for report in reports:
        sources = report.get("leak_sources")
        if not isinstance(sources, dict):
            continue
        for what, auc in sources.items():
            if _number(auc):
                values.setdefault(str(what), []).append(float(auc))
    return [(what, float(np.mean(aucs))) for what, aucs in values.items()]
