"""Choosing a trained deep model's sampling temperature on the validation split
(genobench_plugins.deep.temperature): the independent-sites reference, the relatives share,
and the choice between draws that copy training individuals, draws like unseen real ones and
draws of noise."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from genobench_plugins.deep.temperature import (
    choose_temperature,
    independent_sites,
    relatives_share,
)


def _population(n: int, m: int = 400, seed: int = 0) -> torch.Tensor:
    """Two ancestries with block LD: each individual copies, per block of 20 SNPs, one of
    four haplotypes of its ancestry on each of its two chromosomes (int8 (n, m))."""
    rng = np.random.default_rng(0)
    haplotypes = (rng.random((2, m // 20, 4, 20)) < rng.uniform(0.1, 0.9, (2, 1, 4, 20)))
    draw = np.random.default_rng(seed)
    ancestry = draw.integers(0, 2, n)
    x = np.zeros((n, m), dtype=np.int8)
    for i in range(n):
        for block in range(m // 20):
            picks = draw.integers(0, 4, 2)
            x[i, block * 20:(block + 1) * 20] = haplotypes[ancestry[i], block, picks].sum(0)
    return torch.as_tensor(x)


@pytest.fixture(scope="module")
def splits():
    return _population(300, seed=1), _population(100, seed=2), _population(100, seed=3)


def test_independent_sites_follow_the_training_genotype_frequencies():
    train = _population(200, seed=4)
    drawn = independent_sites(train, 4000, torch.Generator().manual_seed(0))
    assert drawn.dtype == torch.int8 and drawn.shape == (4000, train.shape[1])
    for genotype in (0, 1, 2):
        expected = (train == genotype).double().mean(0)
        observed = (drawn == genotype).double().mean(0)
        assert torch.allclose(observed, expected, atol=0.05)


def test_relatives_share_counts_copies_and_not_unrelated_draws(splits):
    train, validation, _ = splits
    assert relatives_share(train, train[:50]) == 1.0
    unrelated = independent_sites(train, 100, torch.Generator().manual_seed(1))
    assert relatives_share(train, unrelated) < 0.1


def test_the_temperature_drawing_like_unseen_individuals_wins(splits):
    train, validation, unseen = splits
    noise = torch.randint(0, 3, validation.shape, generator=torch.Generator().manual_seed(5),
                          dtype=torch.int8)
    draws = {0.9: train[:100], 1.0: unseen, 1.1: noise}  # copies / real-like / noise
    calls = []

    def draw(temperature):
        calls.append(temperature)
        return draws[temperature]

    chosen = choose_temperature(draw, validation=validation, train=train,
                                candidates=(0.9, 1.0, 1.1), seed=0)
    assert chosen["temperature"] == 1.0
    assert sorted(calls) == [0.9, 1.0, 1.1]
    scores = {entry["temperature"]: entry for entry in chosen["candidates"]}
    # the copies are all relatives of training individuals and are penalised for it
    assert scores[0.9]["relatives"] == 1.0 and scores[0.9]["score"] < scores[1.0]["score"]
    # noise is no individual: no precision, no LD
    assert scores[1.1]["precision"] == 0.0 and scores[1.1]["score"] < scores[1.0]["score"]
    # the allowance is the validation individuals' own share (here a population of
    # relatives, like Holstein cows)
    assert chosen["reference"]["real"]["relatives"] == relatives_share(train, validation)


def test_a_spent_time_budget_tries_only_the_candidate_nearest_the_start(splits):
    train, validation, unseen = splits
    chosen = choose_temperature(lambda t: unseen, validation=validation, train=train,
                                candidates=(0.8, 0.9, 1.0, 1.1), seed=0, seconds=0.0,
                                start=1.05)
    assert [entry["temperature"] for entry in chosen["candidates"]] == [1.0]
    assert chosen["temperature"] == 1.0
