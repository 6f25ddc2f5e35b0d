"""Privacy metrics: nearest-neighbour adversarial accuracy and privacy loss.

Adversarial accuracy (Yale et al. 2020) asks whether an individual's nearest neighbour lies in
its own set or in the other. With d_XY(i) the distance from individual i of X to its nearest
individual of Y (itself excluded when X = Y):

    AA_real = mean_i [d_RS(i) > d_RR(i)],  AA_syn = mean_i [d_SR(i) > d_SS(i)],
    AATS = (AA_real + AA_syn) / 2.

0.5 means the two sets cannot be told apart; well below 0.5, synthetic individuals sit closer
to real ones than real ones sit to each other (copying); well above, poor fidelity. Privacy loss
(Yelmen et al. 2021) compares AATS against the test split with AATS against the training split.

Both sets are first brought to the same size: the larger is subsampled without replacement
(seed from the option ``subsample_seed``, default 0), so each AA is a share over equal-sized
sets. Distances ("distance" option: "euclidean" or "manhattan") come from the exact kernels
in :mod:`.kernels` and are cached per context, so the four metrics share one set of products.
"""

from __future__ import annotations

import numpy as np

from ..hookspecs import hookimpl
from . import kernels
from .base import EvaluationContext, Metric, MetricResult

YALE_2020 = ("Yale et al. 2020, Generation and evaluation of privacy preserving synthetic "
             "health data, Neurocomputing 416:244-255")
YELMEN_2021 = ("Yelmen et al. 2021, Creating artificial human genomes using generative neural "
               "networks, PLoS Genetics 17:e1009303")
XIE_2026 = "Xie et al. 2026, GigaScience, doi:10.1093/gigascience/giag044"

_SET_CODES = {"real": 0, "synthetic": 1, "train": 2}  # one subsample stream per set


def subsample(context: EvaluationContext, which: str, size: int) -> np.ndarray:
    """Dosages of ``size`` individuals of ``context.<which>``, drawn without replacement.

    All of them (in order) when the set has exactly ``size``; otherwise a sorted sample from
    ``default_rng([subsample_seed, set code])``, the same for every metric of the context.
    """
    dosages = getattr(context, which).dosages
    n = dosages.shape[0]
    if size == n:
        return dosages
    seed = int(context.option("subsample_seed", 0))
    rng = np.random.default_rng([seed, _SET_CODES[which]])
    return dosages[np.sort(rng.choice(n, size=size, replace=False))]


def _distance(context: EvaluationContext) -> str:
    metric = str(context.option("distance", "euclidean")).lower()
    if metric not in ("euclidean", "manhattan"):
        raise ValueError(f"option distance must be 'euclidean' or 'manhattan', not {metric!r}")
    return metric


def within_distances(context: EvaluationContext, which: str, size: int) -> np.ndarray:
    """d_XX: nearest other individual of the same set, for ``size`` sampled ones (cached)."""
    metric = _distance(context)
    return context.cached(
        f"privacy/{metric}/{size}/within/{which}",
        lambda: kernels.nearest_neighbour_distances(
            subsample(context, which, size), metric=metric, exclude_self=True,
            device=context.device))


def cross_distances(context: EvaluationContext, which: str, size: int):
    """(d_XS, d_SX) between ``context.<which>`` and the synthetic set, both sampled (cached)."""
    metric = _distance(context)
    return context.cached(
        f"privacy/{metric}/{size}/cross/{which}",
        lambda: kernels.cross_nearest_distances(
            subsample(context, which, size), subsample(context, "synthetic", size),
            metric=metric, device=context.device))


def adversarial_accuracy(context: EvaluationContext, which: str = "real",
                         size: int | None = None) -> tuple[float, float, int]:
    """(AA_<which>, AA_syn, size) of ``context.<which>`` against the synthetic set.

    :param size: individuals per set; default the smaller of the two sets.
    """
    if size is None:
        size = min(getattr(context, which).n_samples, context.synthetic.n_samples)
    if size < 2:
        raise ValueError(f"adversarial accuracy needs at least 2 individuals per set, got {size}")
    d_xx = within_distances(context, which, size)
    d_ss = within_distances(context, "synthetic", size)
    d_xs, d_sx = cross_distances(context, which, size)
    return float(np.mean(d_xs > d_xx)), float(np.mean(d_sx > d_ss)), size


class _AAMetric(Metric):
    family = "privacy"
    direction = "target"
    ideal = 0.5
    range = (0.0, 1.0)
    citation = YALE_2020

    def _note(self, context, size):
        real, synthetic = context.real.n_samples, context.synthetic.n_samples
        sampled = "" if real == synthetic else f", both sets subsampled to {size}"
        return f"{_distance(context)} distance{sampled}"


class AARealMetric(_AAMetric):
    name = "aa_real"
    label = "AA real"
    description = ("Share of real individuals whose nearest real neighbour is closer than "
                   "their nearest synthetic one; 0.5 is ideal.")

    def compute(self, context):
        aa_real, _, size = adversarial_accuracy(context)
        return MetricResult(aa_real, self._note(context, size))


class AASyntheticMetric(_AAMetric):
    name = "aa_synthetic"
    label = "AA synthetic"
    description = ("Share of synthetic individuals whose nearest synthetic neighbour is closer "
                   "than their nearest real one; 0.5 is ideal.")

    def compute(self, context):
        _, aa_synthetic, size = adversarial_accuracy(context)
        return MetricResult(aa_synthetic, self._note(context, size))


class AATSMetric(_AAMetric):
    name = "aats"
    label = "AATS"
    description = ("Nearest-neighbour adversarial accuracy, mean of AA real and AA synthetic: "
                   "0.5 ideal, well below means copying, well above poor fidelity.")
    citation = f"{YALE_2020}; {XIE_2026}"

    def compute(self, context):
        aa_real, aa_synthetic, size = adversarial_accuracy(context)
        return MetricResult((aa_real + aa_synthetic) / 2, self._note(context, size),
                            {"aa_real": [aa_real], "aa_synthetic": [aa_synthetic]})


class PrivacyLossMetric(Metric):
    name = "privacy_loss"
    label = "Privacy loss"
    family = "privacy"
    direction = "target"
    ideal = 0.0
    range = (-1.0, 1.0)
    description = ("AATS(test, synthetic) - AATS(train, synthetic): clearly above 0 means the "
                   "synthetic individuals sit closer to the training set than to unseen ones.")
    citation = f"{YELMEN_2021}; {YALE_2020}"
    needs_train = True

    def compute(self, context):
        # the training split is subsampled to the test size (and both to the synthetic size
        # when that is smaller) so the two AATS compare sets of the same size
        size = min(context.real.n_samples, context.synthetic.n_samples, context.train.n_samples)
        test = np.mean(adversarial_accuracy(context, "real", size)[:2])
        train = np.mean(adversarial_accuracy(context, "train", size)[:2])
        return MetricResult(float(test - train), f"{_distance(context)} distance, {size} "
                            "individuals per set",
                            {"aats_test": [float(test)], "aats_train": [float(train)]})


METRICS = (AARealMetric(), AASyntheticMetric(), AATSMetric(), PrivacyLossMetric())


@hookimpl
def genobench_register_metrics(register):
    """Register the core privacy metrics."""
    for metric in METRICS:
        register(metric)
