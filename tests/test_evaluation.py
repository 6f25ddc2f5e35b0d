"""Tests of genobench/evaluation.py: `evaluate` at equal sizes, with a scorecard of its own."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import coalescent_sample

from genobench.evaluation import evaluate_sets, split_reference

METRICS = ["allele_frequency_r", "fst", "fst_hudson", "genotype_frequency_r",
           "ld_decay_distance", "ld_r2_difference", "correlation_score", "pca_w2_real_basis",
           "detection_auc", "precision", "recall"]


@pytest.fixture(scope="module")
def population():
    """Real individuals (240) and a pool of other individuals of the same population."""
    data = coalescent_sample(720, length=1.5e6, seed=21, min_maf=0.05)
    order = np.random.default_rng(0).permutation(data.n_samples)
    return data.take_samples(order[:240]), data.take_samples(order[240:])


def blurred(pool, n, seed):
    """``n`` individuals of ``pool`` with 30 % of their genotypes redrawn from the allele
    frequencies: some LD kept, some lost (a generator half way)."""
    rng = np.random.default_rng(seed)
    rows = pool.dosages[rng.choice(pool.n_samples, n, replace=False)].copy()
    redraw = rng.random(rows.shape) < 0.3
    fresh = rng.binomial(2, pool.allele_frequencies(), rows.shape).astype(np.int8)
    rows[redraw] = fresh[redraw]
    return pool.with_dosages(rows)


@pytest.mark.slow
def test_a_synthetic_set_twice_the_real_size_scores_like_an_equal_size_one(population):
    real, pool = population
    compared = real.n_samples // 3
    equal = evaluate_sets(real, blurred(pool, compared, 1), metric_names=METRICS)
    double = evaluate_sets(real, blurred(pool, 2 * compared, 1), metric_names=METRICS)
    assert equal.sizes["compared"] == double.sizes["compared"] == compared
    first = equal.scorecard["generators"]["synthetic"]["families"]
    second = double.scorecard["generators"]["synthetic"]["families"]
    assert first["ld"] is not None and 0.1 < first["ld"] < 0.95  # half way, not at an end
    for family in ("marginal", "ld", "structure"):
        assert second[family] == pytest.approx(first[family], abs=0.15), family
    # the biased metrics themselves agree at equal sizes
    assert double.values["fst"]["value"] == pytest.approx(equal.values["fst"]["value"],
                                                          rel=0.5)


def test_reference_is_set_aside_from_real_without_one(population):
    real, _ = population
    compared, draws = split_reference(real)
    assert len(draws) == 2 and all(d.n_samples == compared.n_samples for d in draws)
    ids = [set(compared.sample_ids)] + [set(d.sample_ids) for d in draws]
    assert not ids[0] & ids[1] and not ids[0] & ids[2] and not ids[1] & ids[2]


def test_real_individuals_score_about_one_and_a_copy_of_train_fails_privacy(population):
    real, pool = population
    train = pool.take_samples(np.arange(200))
    fresh = pool.take_samples(np.arange(200, 280))
    scored = evaluate_sets(real, fresh, train=train, metric_names=METRICS + [
        "exact_copies", "dcr_closer_share", "membership_auc"])
    row = scored.scorecard["generators"]["synthetic"]
    assert row["fidelity"] > 0.8 and row["privacy"]["passed"] is True
    copied = evaluate_sets(real, train.take_samples(np.arange(80)), train=train,
                           metric_names=METRICS + ["exact_copies", "dcr_closer_share"])
    assert copied.scorecard["generators"]["synthetic"]["privacy"]["passed"] is False


def test_no_scorecard_gives_values_only(population):
    real, pool = population
    scored = evaluate_sets(real, blurred(pool, 100, 2), metric_names=["fst"], scorecard=False)
    assert scored.scorecard is None and scored.values["fst"]["value"] is not None
