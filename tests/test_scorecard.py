"""Tests of genobench/scorecard.py: a verdict that generators built to game it cannot win.

The end-to-end test runs, on a small simulated suite with a trait, the generators of
tests/gaming_plugins.py installed as a third party's plugin: a copier of training rows, one
training individual repeated, a per-SNP shuffle of the training split, and a second reference
draw (real individuals no model saw), beside the anchors every run carries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from genobench.lifecycle import conditioning_phenotypes
from genobench.records import MetricInfo
from genobench.runner import plan
from genobench.scorecard import ranking, resolution, scale, scorecards, suite_scorecard
from genobench.suites import load_spec

GAMING_SUITE = """\
name = "gaming"
description = "2 Mb of HomSap chr22 with a trait, for the scorecard tests"
seed = 11

[source]
kind = "stdpopsim"
species = "HomSap"
model = "OutOfAfrica_3G09"
chromosomes = ["chr22"]
left = 30_000_000
right = 32_000_000
samples = { CEU = 200 }

[panel]
maf = 0.05
n_snps = 200

[[traits]]
name = "height"
kind = "quantitative"
n_causal = 4
h2 = 0.8
effects = "laplace"
"""
GAMERS = ["copier", "repeater", "shuffler", "second_reference"]


@pytest.fixture(scope="module")
def gaming_run(tmp_path_factory):
    """leaderboard.json of one run of the gaming generators and independent_sites."""
    from gaming_plugins import install_gaming_plugins

    folder = tmp_path_factory.mktemp("gaming")
    (folder / "site").mkdir()
    site = install_gaming_plugins(folder / "site")
    suite = folder / "gaming.toml"
    suite.write_text(GAMING_SUITE)
    out = folder / "out"
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(site), os.environ.get("PYTHONPATH", "")]))
    generators = [arg for name in GAMERS + ["independent_sites"] for arg in ("-g", name)]
    ran = subprocess.run([sys.executable, "-m", "genobench.cli", "run", str(suite), *generators,
                          "--out", str(out), "--executor", "inline", "-q"],
                         capture_output=True, text=True,
                         env=environment, timeout=900)
    assert ran.returncode == 0, ran.stderr[-3000:]
    return json.loads((out / "leaderboard.json").read_text())


def test_leaderboard_json_carries_the_scorecard(gaming_run):
    card = gaming_run["scorecard"]["gaming"]
    assert set(GAMERS) | {"independent_sites", "permuted_frequencies", "real_holdout"} <= set(card)
    for row in card.values():
        assert set(row["families"]) == {"marginal", "ld", "structure", "diversity",
                                        "association"}
        assert isinstance(row["privacy"]["passed"], bool)
        assert all({"value", "passed"} <= set(g) for g in row["privacy"]["gates"].values())
    assert card["real_holdout"]["reference"] and not card["copier"]["reference"]
    assert "real_holdout" not in [entry["generator"] for entry in gaming_run["ranking"]]


def test_copier_and_repeater_fail_a_gate_and_rank_below_every_passing_generator(gaming_run):
    card = gaming_run["scorecard"]["gaming"]
    for gamer in ("copier", "repeater"):
        assert card[gamer]["privacy"]["passed"] is False
        assert card[gamer]["privacy"]["gates"]["exact_copies"]["passed"] is False
    for fair in ("shuffler", "independent_sites", "second_reference"):
        assert card[fair]["privacy"]["passed"] is True, card[fair]["privacy"]
    order = [entry["generator"] for entry in gaming_run["ranking"]]
    last_passing = max(order.index(e["generator"]) for e in gaming_run["ranking"]
                       if e["privacy_passed"])
    assert min(order.index("copier"), order.index("repeater")) > last_passing
    # the copier has real rows, so its fidelity is near 1: only the gates keep it down
    assert card["copier"]["fidelity"] > 0.8


def test_no_ld_scores_about_zero_on_ld(gaming_run):
    card = gaming_run["scorecard"]["gaming"]
    for no_ld in ("shuffler", "independent_sites"):
        assert abs(card[no_ld]["families"]["ld"]) <= 0.15, card[no_ld]["families"]


def test_second_reference_scores_like_real_data(gaming_run):
    card = gaming_run["scorecard"]["gaming"]
    families = card["second_reference"]["families"]
    resolved = [family for family, value in families.items() if value is not None]
    assert {"marginal", "ld"} <= set(resolved)
    for family in resolved:
        assert families[family] >= 0.85, (family, families)
    assert gaming_run["ranking"][0]["generator"] == "second_reference"


def test_family_is_the_median_of_its_resolving_metrics_only(gaming_run):
    resolutions = gaming_run["resolution"]["gaming"]
    glossary = {info["name"]: info for info in gaming_run["metrics"]}
    for entry in resolutions.values():
        if entry["note"] == "does not resolve at this size":
            # the reference is not clearly closer to the ideal than the baseline
            assert entry["base"] - entry["ref"] <= 2 * entry["spread"] + 1e-12
    for row in gaming_run["scorecard"]["gaming"].values():
        for family, value in row["families"].items():
            counted = [row["metrics"][name] for name, info in glossary.items()
                       if info["family"] == family and info["scored"]
                       and resolutions.get(name, {}).get("resolves")
                       and row["metrics"].get(name) is not None]
            assert value == (pytest.approx(float(np.median(counted))) if counted else None)


# -- the scale and the gates on records built by hand --------------------------------------

INFO = {
    "r": MetricInfo("r", family="ld", direction="higher", ideal=1.0).to_json(),
    "leak": MetricInfo("leak", family="privacy", direction="target", ideal=None, risk="higher",
                       tolerance=0.05).to_json(),
}


def _record(generator, values, *, draws=None, reference=False, status="ok", seed=1):
    metrics = {name: dict(value=value) for name, value in values.items()}
    for name, values_ in (draws or {}).items():
        metrics[name]["draws"] = values_
    return dict(suite="s", generator=generator, seed=seed, status=status, metrics=metrics,
                metric_info=INFO, generator_info=dict(is_reference=reference))


def _records(gen_r=0.6, gen_leak=0.5, ref_draws=(0.9, 0.92, 0.88)):
    return [
        _record("real_holdout", {"r": float(np.mean(ref_draws)), "leak": 0.5},
                draws={"r": list(ref_draws), "leak": [0.5, 0.51, 0.49]}, reference=True),
        _record("independent_sites", {"r": 0.1, "leak": 0.5}),
        _record("permuted_frequencies", {"r": 0.0, "leak": 0.5}),
        _record("gen", {"r": gen_r, "leak": gen_leak}),
    ]


def test_scale_places_a_generator_between_baseline_and_reference():
    card = suite_scorecard(_records(gen_r=0.5))
    # D = 1 - r: base 0.9, ref 0.1, gen 0.5 -> S = (0.9 - 0.5) / (0.9 - 0.1) = 0.5
    assert card["generators"]["gen"]["metrics"]["r"] == pytest.approx(0.5)
    assert card["generators"]["gen"]["families"]["ld"] == pytest.approx(0.5)
    assert card["generators"]["independent_sites"]["families"]["ld"] == pytest.approx(0.0)
    assert card["generators"]["real_holdout"]["families"]["ld"] == pytest.approx(1.0)
    assert scale(5.0, dict(base=0.9, ref=0.1)) == -1.0  # clipped


def test_metric_within_reference_spread_does_not_resolve():
    records = _records(ref_draws=(0.2, 0.0, 0.1))  # ref distance 0.9 +- 0.1, base 0.9
    card = suite_scorecard(records)
    assert card["resolution"]["r"]["resolves"] is False
    assert card["resolution"]["r"]["note"] == "does not resolve at this size"
    assert card["generators"]["gen"]["families"]["ld"] is None
    info = MetricInfo.from_json(INFO["r"])
    by_generator = {r["generator"]: [r] for r in records}
    assert resolution(info, by_generator)["resolves"] is False


def test_gate_is_one_sided_and_relative_to_the_reference():
    assert suite_scorecard(_records(gen_leak=0.54))["generators"]["gen"]["privacy"]["passed"]
    assert suite_scorecard(_records(gen_leak=0.1))["generators"]["gen"]["privacy"]["passed"]
    failed = suite_scorecard(_records(gen_leak=0.7))["generators"]["gen"]["privacy"]
    assert failed["passed"] is False and failed["gates"]["leak"]["passed"] is False
    assert failed["gates"]["leak"]["threshold"] == pytest.approx(0.55)


def test_ranking_puts_gate_failures_after_passing_generators_whatever_their_fidelity():
    records = _records(gen_r=0.95, gen_leak=0.9) + [
        _record("modest", {"r": 0.4, "leak": 0.5}),
        _record("broken", {}, status="failed")]
    order = [entry["generator"] for entry in ranking(scorecards(records))]
    assert order.index("modest") < order.index("gen")
    assert order.index("independent_sites") < order.index("gen")
    assert order[-1] in ("gen", "broken")
    assert "real_holdout" not in order


# -- the run protocol ------------------------------------------------------------------------

def test_conditioning_phenotypes_come_from_the_training_split(write_suite):
    from genobench.suites import materialize

    suite = materialize(load_spec(write_suite(GAMING_SUITE)))
    drawn = conditioning_phenotypes(suite.train, suite.test.n_samples, seed=3)
    assert len(drawn) == suite.test.n_samples
    train_values = set(suite.train.phenotypes["height"].round(12))
    test_values = set(suite.test.phenotypes["height"].round(12))
    assert set(drawn["height"].round(12)) <= train_values
    assert not set(drawn["height"].round(12)) & test_values
    assert conditioning_phenotypes(suite.train.with_dosages(suite.train.dosages), 5,
                                   seed=1) is None
    assert isinstance(drawn, pd.DataFrame)


def test_reference_draws_are_disjoint_real_individuals_of_the_test_size(write_suite):
    from genobench.suites import materialize

    suite = materialize(load_spec(write_suite(GAMING_SUITE)))
    draws = suite.reference_draws
    assert len(draws) == 3
    ids = [set(draw.sample_ids) for draw in draws]
    assert all(draw.n_samples == suite.test.n_samples for draw in draws)
    assert not ids[0] & ids[1] and not ids[1] & ids[2]
    split_ids = set(suite.train.sample_ids) | set(suite.validation.sample_ids) | set(
        suite.test.sample_ids)
    assert not split_ids & set().union(*ids)
    assert all(draw.phenotypes is not None for draw in draws)


def test_plan_adds_the_anchors_and_runs_the_reference_once(write_suite):
    spec = load_spec(write_suite(GAMING_SUITE))
    jobs = plan([spec], generators=["independent_sites"], seeds=[1, 2])
    names = [(job.generator, job.seed) for job in jobs]
    assert ("real_holdout", 1) in names and ("real_holdout", 2) not in names
    assert {("permuted_frequencies", 1), ("permuted_frequencies", 2)} <= set(names)
