"""What a checkpoint is scored on: the leaderboard's own k-NN precision / recall and
correlation score, computed with genobench's public kernels on the validation split.

The seed paper kept the checkpoint where k-NN F1 on the validation split stops improving (Xie
et al. 2026, GigaScience). Scoring with the kernels and the k rule the leaderboard uses
(:func:`genobench.metrics.neighbours.default_knn_k`) means a checkpoint is chosen by the same
measure it is later ranked on.
"""

from __future__ import annotations

import math

import torch

from genobench import kernels
from genobench.metrics.neighbours import default_knn_k

#: Checkpoint-selection criteria: what the training loop maximises on the validation split.
SELECTIONS = ("f1", "f1+correlation")


def _device_name(device) -> str:
    return str(device) if device is not None else "cpu"


def knn_precision_recall(real, synthetic, *, k: int | None = None,
                         device="cpu") -> dict[str, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019, NeurIPS) and their F1.

    Each real individual gets a ball reaching its k-th nearest real neighbour; precision is the
    share of synthetic individuals inside some real ball, recall the share of real individuals
    inside some synthetic ball (balls from synthetic neighbours). Exact Euclidean distances on
    dosages (:func:`genobench.kernels.knn_distances`, :func:`genobench.kernels.cross_neighbours`).

    :param real: (n, m) 0/1/2 dosages (numpy or torch). :param synthetic: (p, m).
    :param k: neighbours per ball; None: the leaderboard's size rule,
        :func:`~genobench.metrics.neighbours.default_knn_k` of the smaller set, and never more
        than its size - 1.
    :returns: {"precision", "recall", "f1"}, each in [0, 1].
    """
    device = _device_name(device)
    size = min(real.shape[0], synthetic.shape[0])
    k = max(1, min(int(k or default_knn_k(size)), size - 1))
    radius_real = kernels.knn_distances(real, k=k, device=device)[:, -1]
    radius_synthetic = kernels.knn_distances(synthetic, k=k, device=device)[:, -1]
    pair = kernels.cross_neighbours(real, synthetic, radius_a=radius_real,
                                    radius_b=radius_synthetic, device=device)
    precision, recall = float(pair.b_covered.mean()), float(pair.a_covered.mean())
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return dict(precision=precision, recall=recall, f1=f1)


def correlation_score(real, synthetic, *, device="cpu") -> float:
    """The correlation score of Vinas et al. 2022 (:func:`genobench.kernels.correlation_score`),
    0 where it is undefined (fewer than 3 SNPs, no variation)."""
    value = kernels.correlation_score(real, synthetic, device=_device_name(device))
    return 0.0 if math.isnan(value) else float(value)


def checkpoint_scores(real: torch.Tensor, synthetic: torch.Tensor, *, selection: str,
                      k: int | None = None, device="cpu") -> dict[str, float]:
    """Validation scores of one checkpoint, with the ``score`` the training loop maximises.

    :param selection: "f1" (score = k-NN F1, the paper's criterion) or "f1+correlation" (the
        mean of the F1 and the correlation score clipped at 0, which also rewards LD).
    :returns: {"precision", "recall", "f1", ("correlation",) "score"}.
    """
    scores = knn_precision_recall(real, synthetic, k=k, device=device)
    scores["score"] = scores["f1"]
    if selection == "f1+correlation":
        scores["correlation"] = correlation_score(real, synthetic, device=device)
        scores["score"] = (scores["f1"] + max(scores["correlation"], 0.0)) / 2
    return scores
