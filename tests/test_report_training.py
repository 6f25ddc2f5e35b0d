"""The leaderboard's Training table (genobench.report.training): what each trained generator's
fit did, and the measured reason where it stays weak; the record field behind it and the
Generator.fit_report interface."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from test_report import SUITE, make_records, markdown_rows

from genobench import Generator
from genobench.lifecycle import fit_report
from genobench.records import JobRecord
from genobench.report import leaderboard_data, render_leaderboard
from genobench.report.training import training_rows


def history(correlations: list[float], memberships: list[float], every: int = 10) -> list:
    return [dict(epoch=every * (i + 1), correlation=c, membership=m, f1=0.3, score=c)
            for i, (c, m) in enumerate(zip(correlations, memberships, strict=True))]


def report(correlations, memberships, *, stopped="patience", best_epoch=None, epochs=None,
           selection="f1+correlation+privacy") -> dict:
    validations = history(correlations, memberships)
    return dict(epochs=epochs or validations[-1]["epoch"], stopped=stopped,
                best_epoch=best_epoch or validations[-1]["epoch"], seconds=100.0,
                max_seconds=100.0, flops_fraction=0.42, selection=selection,
                validations=validations)


def card(ld: float, *, diversity: float = 0.8, failing: str | None = None) -> dict:
    gates = {"membership_auc": dict(value=0.51, threshold=0.57, passed=True)}
    if failing:
        gates[failing] = dict(value=0.66, threshold=0.57, passed=False)
    return dict(families=dict(marginal=0.9, ld=ld, structure=0.5, diversity=diversity),
                privacy=dict(passed=failing is None, gates=gates))


def records_with(training: dict, generator: str = "gen_a", seeds=(1, 2)) -> list[JobRecord]:
    records = [JobRecord.from_json(r) for r in make_records(seeds=seeds)]
    return [JobRecord.from_json(dict(r.to_json(), training=training))
            if r.generator == generator else r for r in records]


GLOSSARY = {"membership_auc": dict(label="Membership inference AUC")}


def test_budget_bound_when_the_cap_ends_a_rising_score():
    rows = training_rows(records_with(report([0.1, 0.2, 0.3], [0.5] * 3, stopped="max_seconds")),
                         {"gen_a": card(0.2)}, GLOSSARY)
    assert [row["generator"] for row in rows] == ["gen_a"]  # baselines report no fit
    row = rows[0]
    assert row["stopped"] == "max_seconds x2" and row["epochs"] == [30, 30]
    assert row["validation"]["correlation_peak"] == pytest.approx(0.3)
    assert row["flops_fraction"] == pytest.approx(0.42)
    assert len(row["why"]) == 1 and "budget-bound" in row["why"][0]
    assert "peak 0.30 at epoch 30/30" in row["why"][0]


def test_plateau_when_the_score_stops_rising_long_before_the_end():
    rows = training_rows(records_with(report([0.2, 0.25, 0.24, 0.25, 0.24, 0.24, 0.23, 0.2],
                                             [0.5] * 8, stopped="max_seconds")),
                         {"gen_a": card(0.1)}, GLOSSARY)
    assert "levelled off at 0.25 by epoch 20/20 of 80/80 run" in rows[0]["why"][0]


def test_leak_when_the_kept_checkpoint_precedes_the_peak_and_membership_grows():
    training = report([0.2, 0.3, 0.4], [0.52, 0.6, 0.7], best_epoch=10)
    rows = training_rows(records_with(training),
                         {"gen_a": card(0.3, failing="membership_auc")}, GLOSSARY)
    why = rows[0]["why"]
    assert why[0] == ("ld 0.30: the kept checkpoint (epoch 10/10) precedes the validation "
                      "correlation peak (0.40 at epoch 30/30), where the samples leaked: "
                      "validation membership AUC 0.52 at the kept epoch, 0.70 at the peak")
    assert why[1].startswith("fails Membership inference AUC (0.660, limit 0.570)")
    assert "0.52 at the first validation, 0.52 at the kept epoch, 0.70 at the last" in why[1]
    assert "grows with training" in why[1]
    assert rows[0]["validation"]["membership_kept"] == pytest.approx(0.52)


def test_a_failed_gate_names_the_model_parts_that_separate_training_individuals():
    """The fit report's leak_sources (membership AUC of the model's own parts, training vs
    validation individuals) are averaged over seeds and named where a gate fails; a value
    that is not a number is left out."""
    training = report([0.2, 0.3], [0.6, 0.62])
    seeds = [dict(training, leak_sources={"reconstruction error": 0.98, "odd": "high",
                                          "denoising error": 0.2}),
             dict(training, leak_sources={"reconstruction error": 0.94})]
    records = [JobRecord.from_json(r) for r in make_records(seeds=(1, 2))]
    seeded = iter(seeds)
    records = [JobRecord.from_json(dict(r.to_json(), training=next(seeded)))
               if r.generator == "gen_a" else r for r in records]
    failing = training_rows(records, {"gen_a": card(0.3, failing="membership_auc")},
                            GLOSSARY)[0]["why"]
    assert failing[1].endswith("; the kept model's own parts tell training from validation "
                               "individuals: reconstruction error (membership AUC 0.96), "
                               "denoising error (membership AUC 0.20, reversed: larger for "
                               "training individuals)")
    passing = training_rows(records, {"gen_a": card(0.3)}, GLOSSARY)[0]["why"]
    assert not any("own parts" in why for why in passing)


def test_one_validation_before_the_cap_is_budget_bound():
    rows = training_rows(records_with(report([0.1], [0.5], stopped="max_seconds")),
                         {"gen_a": card(0.1)}, GLOSSARY)
    assert rows[0]["why"] == [
        "ld 0.10: budget-bound: the profile's wall-clock cap ended training after 10/10 "
        "epochs, before a second validation (validation correlation score 0.10)"]


def test_no_ld_at_all_is_said_plainly_whatever_stopped_training():
    rows = training_rows(records_with(report([0.0, 0.003, 0.001], [0.5] * 3, best_epoch=10,
                                             stopped="max_seconds")),
                         {"gen_a": card(0.0)}, GLOSSARY)
    assert rows[0]["why"] == ["ld 0.00: learnt no LD: the validation correlation score stayed "
                              "at or below 0.00 over 30/30 epochs (ended by the profile's "
                              "wall-clock cap)"]


def test_an_earlier_checkpoint_kept_without_a_leak_names_the_selection():
    training = report([0.2, 0.3, 0.4], [0.52, 0.52, 0.53], best_epoch=10, selection="f1")
    rows = training_rows(records_with(training), {"gen_a": card(0.3)}, GLOSSARY)
    assert rows[0]["why"] == ["ld 0.30: the kept checkpoint (epoch 10/10) scored higher on the "
                              "checkpoint selection (f1) than the validation correlation peak "
                              "(0.40 at epoch 30/30)"]


def test_a_distance_gate_failing_while_membership_passes_says_so():
    entry = card(0.8, failing="dcr_closer_share")  # membership_auc passes at 0.51
    rows = training_rows(records_with(report([0.3, 0.4], [0.51, 0.52])), {"gen_a": entry},
                         {"dcr_closer_share": dict(label="Closer than holdout")})
    (why,) = rows[0]["why"]
    assert why.startswith("fails Closer than holdout (0.660, limit 0.570); validation "
                          "membership AUC 0.51 at the first validation")
    assert "the leak" not in why
    assert why.endswith("membership AUC on the test split 0.51 passes (limit 0.57): as a set "
                        "its individuals sit as near unseen individuals as training ones; the "
                        "failing distance gates count the few that do not")


def test_a_free_form_plugin_report_never_breaks_the_leaderboard(tmp_path):
    """A third party's report with odd values: strings for numbers, entries without epochs,
    booleans, a non-list history. Usable numbers are read, the rest left out."""
    messy = dict(epochs="many", stopped=3, best_epoch="last", seconds=True, flops_fraction=None,
                 validations=[{"epoch": "five", "correlation": 0.3}, "not a dict",
                              {"epoch": 20, "correlation": "high", "membership": 0.6},
                              {"epoch": 10, "correlation": 0.1, "membership": False}])
    for training in (messy, dict(validations="none"), dict(stopped="custom")):
        records = [r.to_json() for r in records_with(training)]
        rows = training_rows([JobRecord.from_json(r) for r in records],
                             {"gen_a": card(0.1, failing="membership_auc")}, GLOSSARY)
        assert rows[0]["generator"] == "gen_a" and rows[0]["why"]
        render_leaderboard(records, tmp_path / "out")
    # only the epoch-10 validation has a numeric correlation score; "many" epochs reads as
    # the last validated one
    (why,) = training_rows(records_with(messy), {"gen_a": card(0.1)}, GLOSSARY)[0]["why"]
    assert why == ("ld 0.10: the validation correlation score levelled off at 0.10 by epoch "
                   "10/10 of 20/20 run: more epochs did not add LD")


def test_no_reason_for_a_model_above_the_bars():
    rows = training_rows(records_with(report([0.3, 0.4], [0.5, 0.5])), {"gen_a": card(0.8)},
                         GLOSSARY)
    assert rows[0]["why"] == []


def test_diversity_reason_reads_the_test_split_precision_and_recall():
    records = records_with(report([0.3, 0.4], [0.5, 0.5]))
    records = [JobRecord.from_json(dict(r.to_json(), metrics=dict(
                   r.to_json()["metrics"], precision=dict(value=0.05), recall=dict(value=0.9))))
               if r.generator == "gen_a" else r for r in records]
    rows = training_rows(records, {"gen_a": card(0.8, diversity=0.1)}, GLOSSARY)
    assert rows[0]["why"] == [
        "diversity 0.10: k-NN precision 0.05 (share of its individuals among real ones' "
        "neighbours), recall 0.90 (share of real individuals it covers), test split"]


def test_training_round_trips_through_the_record_and_old_records_read_empty():
    training = report([0.1, 0.2], [0.5, 0.5])
    record = records_with(training)[0]
    assert JobRecord.from_json(json.loads(json.dumps(record.to_json()))).training == training
    old = {k: v for k, v in record.to_json().items() if k != "training"}
    assert JobRecord.from_json(old).training == {}


class _Reporting(Generator):
    name = "reporting"

    def __init__(self, report):
        super().__init__()
        self.report = report

    def fit_report(self):
        if isinstance(self.report, Exception):
            raise self.report
        return self.report


@pytest.mark.parametrize("bad, reason", [
    ({"fraction": np.float32(0.5)}, "not JSON serializable"),
    ([1, 2], "returned list, not a dict"),
    (RuntimeError("history lost"), "RuntimeError: history lost"),
])
def test_unusable_fit_report_is_one_error_line_and_the_job_goes_on(bad, reason):
    result = fit_report(_Reporting(bad), name="reporting")
    assert list(result) == ["error"] and "\n" not in result["error"]
    assert result["error"].startswith("generator 'reporting': fit_report()")
    assert reason in result["error"]


def test_fit_report_non_finite_numbers_become_null():
    result = fit_report(_Reporting({"best_score": float("nan"), "v": [{"x": float("inf")}]}),
                        name="reporting")
    assert result == {"best_score": None, "v": [{"x": None}]}


def test_base_generator_reports_nothing():
    assert fit_report(_Reporting(None), name="reporting") == {}


def test_markdown_and_html_show_the_training_table(tmp_path):
    records = [r.to_json() for r in records_with(
        report([0.1, 0.2, 0.3], [0.5] * 3, stopped="max_seconds"))]
    for record in records:  # gen_a with little LD: ld family about (0.1 - 0.08) / (0.1 - 0.001)
        if record["generator"] == "gen_a":
            record["metrics"]["ld_decay_distance"]["value"] = 0.08
    broken = copy.deepcopy(records[0])
    broken.update(generator="gen_b", training={"error": "generator 'gen_b': fit_report() "
                                                         "TypeError: returned list, not a dict"})
    records = [r for r in records if r["generator"] != "gen_b"] + [broken]
    data = leaderboard_data(records)
    assert [row["generator"] for row in data["suites"][0]["training"]] == ["gen_a", "gen_b"]
    render_leaderboard(records, tmp_path)
    markdown = (tmp_path / "leaderboard.md").read_text()
    rows = markdown_rows(markdown, f"Suite {SUITE}", table=-1)  # the suite's last table
    gen_a = next(line for line in rows if line.startswith("| gen_a |"))
    assert "| 30 | max_seconds x2 | 30/30 | 100 | 42 % | 0.30 / 0.30 (30/30) | 0.50 | ld 0.21: " \
        "budget-bound: the validation correlation score was still rising when the profile's " \
        "wall-clock cap ended training (peak 0.30 at epoch 30/30 of 30/30 run) |" in gen_a
    assert "budget-bound" in gen_a
    assert any("returned list, not a dict" in line for line in rows)
    html = (tmp_path / "leaderboard.html").read_text()
    assert '<table class="sortable training">' in html and "budget-bound" in html


def test_a_failed_gate_shows_what_the_other_reference_rows_read_on_it():
    entry = card(0.8, failing="dcr_closer_share")
    coalescent = dict(card(0.7, failing="dcr_closer_share"), reference=True)
    coalescent["privacy"]["gates"]["dcr_closer_share"] = dict(value=0.12, threshold=0.07,
                                                              passed=False)
    holdout = dict(card(1.0, failing="dcr_closer_share"), reference=True)  # the anchor: left out
    glossary = {"dcr_closer_share": dict(label="Closer than holdout")}
    cards = {"gen_a": entry, "msprime": coalescent, "real_holdout": holdout}
    (why,) = training_rows(records_with(report([0.3, 0.4], [0.51, 0.52])), cards,
                           glossary)[0]["why"]
    assert why.endswith("; reference rows on the same gates: msprime: Closer than holdout "
                        "0.120 (fails)")
    assert "real_holdout" not in why
    # without another reference row the reason ends as before
    (alone,) = training_rows(records_with(report([0.3, 0.4], [0.51, 0.52])), {"gen_a": entry},
                             glossary)[0]["why"]
    assert why == alone + "; reference rows on the same gates: msprime: Closer than holdout " \
        "0.120 (fails)"
