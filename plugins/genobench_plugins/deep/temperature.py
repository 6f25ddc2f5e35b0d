"""Choosing the sampling temperature of a trained model on the validation split.

A draw at temperature T takes each genotype from softmax(logits / T): below 1 it leans to the
likelier genotype (individuals nearer the model's modes, closer to each other and to the
training individuals), above 1 away from it (more varied individuals, less LD). Where the right
value lies depends on the data, measured with the VAE (16-32 lags of the local-LD layer, seeds
1-3): on human_chr22 the leaderboard's k-NN precision needs T at most 0.9, while on cow_chr14,
whose Holstein cows are each other's relatives, T at most 1.0 gave cows related to a training
cow more often than real unseen cows are (the relatives gate) and the best k-NN recall came at
1.1. So after training, the standard profile draws the validation split's size at each
candidate temperature and keeps the best by the leaderboard's own measures, on individuals
training never saw:

- diversity: k-NN precision and recall, each placed between an independent-sites draw (0) and
  real training individuals (1), as the scorecard places them between its baseline and the real
  holdout (the draw here takes each SNP's genotype frequencies, where the scorecard's
  ``independent_sites`` draws Binomial(2, p) from allele frequencies); a measure on which the
  two do not differ by :data:`RESOLVES` counts for nothing, as a metric that does not resolve
  counts for nothing on the scorecard;
- LD: the correlation score (clipped at 0);
- leakage: the validation membership AUC, privacy loss and closer-than-holdout share over
  their checkpoint allowances (:func:`~.checkpoints.privacy_scores`), and the share of drawn
  individuals with a second-degree or closer relative (KING-robust kinship) in training over
  the validation individuals' own share plus :data:`RELATIVES_ALLOWANCE`, each excess weighted by
  :data:`~.checkpoints.PRIVACY_WEIGHT`.

Every candidate is drawn with the same random seed, so the scores differ by the temperature.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from genobench import kernels

from .checkpoints import (
    PRIVACY_ALLOWANCE,
    PRIVACY_WEIGHT,
    correlation_score,
    knn_precision_recall,
    privacy_scores,
)

#: The standard profile's candidate temperatures.
TEMPERATURES = (0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2)

#: How far real individuals and an independent-sites draw must differ on k-NN precision or
#: recall for that measure to count: on human_chr22 (120 validation individuals) their recalls
#: are 0.74 and 0.80, which the scorecard also finds does not resolve.
RESOLVES = 0.05

#: How far above the validation individuals' own share of training relatives a candidate's
#: share may go before it is penalised: the relatives gate's tolerance.
RELATIVES_ALLOWANCE = 0.05


def independent_sites(train: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` individuals drawn SNP by SNP from the training genotype frequencies, int8
    (n, m): no LD, the genotype counts kept (the scorecard's ``independent_sites`` baseline
    draws under Hardy-Weinberg from allele frequencies instead). :param train: (n_t, m) 0/1/2
    dosages."""
    frequencies = torch.stack([(train == g).double().mean(0) for g in (0, 1)], 1).cumsum(1)
    u = torch.rand((n, train.shape[1]), generator=generator, dtype=torch.float64)
    u = u.to(train.device)
    return ((u > frequencies[:, 0]).to(torch.int8) + (u > frequencies[:, 1]).to(torch.int8))


def relatives_share(train: torch.Tensor, individuals: torch.Tensor, *, device="cpu") -> float:
    """Share of ``individuals`` (n, m) with KING-robust kinship above the second-degree
    threshold (0.0884) with some row of ``train`` (n_t, m): the relatives gate's value."""
    pair = kernels.cross_neighbours(train, individuals, kinship=True, device=str(device))
    return float(np.mean(pair.kinship.b_max > kernels.KING_THRESHOLDS["second_degree"]))


def _placed(value: float, baseline: float, real: float) -> float | None:
    """``value`` between ``baseline`` (0) and ``real`` (1), clipped to [-1, 1]; None where the
    two do not differ by :data:`RESOLVES`."""
    if abs(real - baseline) < RESOLVES:
        return None
    return float(np.clip((value - baseline) / (real - baseline), -1.0, 1.0))


def choose_temperature(draw: Callable[[float], torch.Tensor], *, validation: torch.Tensor,
                       train: torch.Tensor, candidates: Sequence[float], seed: int,
                       k: int | None = None, device="cpu", seconds: float | None = None,
                       start: float = 1.0) -> dict:
    """The candidate temperature with the best validation score (module docs).

    :param draw: ``draw(T)``: as many individuals as ``validation`` has, int8 (n, m), drawn
        at temperature T (called seeded, once per candidate).
    :param validation: (n, m) dosages training never saw. :param train: (n_t, m).
    :param seconds: stop trying candidates after this many seconds (the nearest to ``start``
        are tried first); None: try all.
    :returns: {"temperature": the chosen one, "candidates": [{"temperature", "precision",
        "recall", "diversity", "correlation", "membership", "privacy_loss", "relatives",
        "score"}, ...] in the order tried, "reference": {"precision", "recall", "relatives"}
        of real training individuals and {"precision", "recall"} of the independent-sites
        draw}.
    """
    began = time.monotonic()
    n = validation.shape[0]
    generator = torch.Generator().manual_seed(seed)
    rows = torch.randperm(train.shape[0], generator=generator)[:n].sort().values
    real = knn_precision_recall(validation, train[rows.to(train.device)], k=k, device=device)
    baseline = knn_precision_recall(validation, independent_sites(train, n, generator), k=k,
                                    device=device)
    own_relatives = relatives_share(train, validation, device=device)
    tried = []
    for temperature in sorted(candidates, key=lambda t: (abs(t - start), t)):
        if tried and seconds is not None and time.monotonic() - began > seconds:
            break
        synthetic = draw(float(temperature))
        scores = knn_precision_recall(validation, synthetic, k=k, device=device)
        placed = [p for p in (_placed(scores[name], baseline[name], real[name])
                              for name in ("precision", "recall")) if p is not None]
        scores["diversity"] = float(np.mean(placed)) if placed else 0.0
        scores["correlation"] = correlation_score(validation, synthetic, device=device)
        scores.update(privacy_scores(train, validation, synthetic, device=device))
        scores["relatives"] = relatives_share(train, synthetic, device=device)
        excess = sum(max(0.0, scores[name] - limit) for name, limit in PRIVACY_ALLOWANCE.items())
        excess += max(0.0, scores["relatives"] - own_relatives - RELATIVES_ALLOWANCE)
        scores["score"] = ((scores["diversity"] + max(scores["correlation"], 0.0)) / 2
                           - PRIVACY_WEIGHT * excess)
        tried.append({"temperature": float(temperature), **scores})
    best = max(tried, key=lambda entry: entry["score"])
    return dict(temperature=best["temperature"], candidates=tried,
                reference=dict(real={**real, "relatives": own_relatives}, independent=baseline))
