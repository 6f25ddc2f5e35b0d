"""Privacy metrics: adversarial accuracy, privacy loss, closest records, copies and kinship.

Adversarial accuracy (Yale et al. 2020) asks whether an individual's nearest neighbour lies in
its own set or in the other. With d_XY(i) the distance from individual i of X to its nearest
individual of Y (itself excluded when X = Y):

    AA_real = mean_i [d_RS(i) > d_RR(i)],  AA_syn = mean_i [d_SR(i) > d_SS(i)],
    AATS = (AA_real + AA_syn) / 2.

0.5 means the two sets cannot be told apart; well below 0.5, synthetic individuals sit closer
to real ones than real ones sit to each other (copying); well above, poor fidelity. Privacy loss
(Yelmen et al. 2021) compares AATS against the test split with AATS against the training split.
Both sets are first brought to the same size (:mod:`.neighbours`).

Against the whole training set: the distance to the closest training record (DCR) of synthetic
individuals compared with that of the real holdout (the test split, unseen in training), the
share of synthetic individuals that copy a training individual exactly, and KING-robust
kinship between synthetic and training individuals (HAPNEST's relatedness check).

Distances ("distance" option: "euclidean" or "manhattan") come from the exact kernels in
:mod:`.kernels` through :mod:`.neighbours`, so every metric here shares one set of products.
"""

from __future__ import annotations

import numpy as np

from ..hookspecs import hookimpl
from . import kernels, neighbours
from .base import EvaluationContext, Metric, MetricResult
from .neighbours import subsample  # noqa: F401  (part of this module's documented API)

YALE_2020 = ("Yale et al. 2020, Generation and evaluation of privacy preserving synthetic "
             "health data, Neurocomputing 416:244-255")
YELMEN_2021 = ("Yelmen et al. 2021, Creating artificial human genomes using generative neural "
               "networks, PLoS Genetics 17:e1009303")
XIE_2026 = "Xie et al. 2026, GigaScience, doi:10.1093/gigascience/giag044"
KING_2010 = ("Manichaikul et al. 2010, Robust relationship inference in genome-wide "
             "association studies, Bioinformatics 26:2867-2873")
HAPNEST_2023 = ("Wharrie et al. 2023, HAPNEST: efficient, large-scale generation and "
                "evaluation of synthetic datasets for genotypes and phenotypes, "
                "Bioinformatics 39:btad535")
DCR_2021 = ("Platzer & Reutterer 2021, Holdout-based empirical assessment of mixed-type "
            "synthetic data, Frontiers in Big Data 4:679939")

#: Quantiles (in %) of distance distributions kept as curves.
_QUANTILES = np.linspace(0, 100, 101)


def _distance(context: EvaluationContext) -> str:
    return neighbours.distance_metric(context)


def adversarial_accuracy(context: EvaluationContext, which: str = "real",
                         size: int | None = None) -> tuple[float, float, int]:
    """(AA_<which>, AA_syn, size) of ``context.<which>`` against the synthetic set.

    :param size: individuals per set; default the smaller of the two sets.
    """
    if size is None:
        size = neighbours.equal_size(context, which)
    if size < 2:
        raise ValueError(f"adversarial accuracy needs at least 2 individuals per set, got {size}")
    d_xx = neighbours.within(context, which, size)[:, 0]
    d_ss = neighbours.within(context, "synthetic", size)[:, 0]
    pair = neighbours.cross(context, which, size)
    return float(np.mean(pair.a_to_b > d_xx)), float(np.mean(pair.b_to_a > d_ss)), size


class _AAMetric(Metric):
    family = "privacy"
    direction = "target"
    ideal = 0.5
    range = (0.0, 1.0)
    citation = YALE_2020

    def _note(self, context, size):
        return f"{_distance(context)} distance{neighbours.sampling_note(context, 'real', size)}"


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


def _quantiles(values: np.ndarray) -> list:
    """Percentiles 0..100 of ``values`` for plots, None where not finite (JSON has no inf)."""
    if not values.size:
        return []
    with np.errstate(invalid="ignore"):
        quantiles = np.percentile(values, _QUANTILES)
    return [float(q) if np.isfinite(q) else None for q in quantiles]


class DCRMetric(Metric):
    name = "dcr"
    label = "DCR ratio"
    family = "privacy"
    direction = "target"
    ideal = 1.0
    range = (0.0, None)
    description = ("Distance to closest record: median distance from synthetic individuals to "
                   "their nearest training individual, over the same median for the real "
                   "holdout (test) individuals. Near 1 when synthetic individuals are as far "
                   "from the training data as unseen real ones; below 1 they sit closer "
                   "(memorisation).")
    citation = f"{DCR_2021}; {YALE_2020}"
    needs_train = True

    def compute(self, context):
        synthetic = neighbours.to_train(context, "synthetic").b_to_a
        holdout = neighbours.to_train(context, "real").b_to_a
        curves = {"quantile_percent": _QUANTILES.tolist(), "synthetic": _quantiles(synthetic),
                  "holdout": _quantiles(holdout)}
        reference = float(np.median(holdout))
        # the share of synthetic individuals closer to the training set than 95 % of holdout
        # individuals: 0.05 when they are alike
        closer = float(np.mean(synthetic < np.percentile(holdout, 5)))
        note = (f"{_distance(context)} distance; median DCR synthetic "
                f"{np.median(synthetic):.4g}, holdout {reference:.4g}; {closer:.1%} of "
                "synthetic closer than the holdout's 5th percentile")
        if reference == 0:
            return MetricResult(None, f"undefined: holdout copies training individuals; {note}",
                                curves)
        return MetricResult(float(np.median(synthetic)) / reference, note, curves)


class ExactCopiesMetric(Metric):
    name = "exact_copies"
    label = "Exact copies"
    family = "privacy"
    direction = "lower"
    ideal = 0.0
    range = (0.0, 1.0)
    description = ("Share of synthetic individuals identical, at every SNP, to some training "
                   "individual.")
    citation = f"{YELMEN_2021}; {HAPNEST_2023}"
    needs_train = True

    def compute(self, context):
        synthetic = neighbours.to_train(context, "synthetic").b_to_a
        copies = int(np.sum(synthetic == 0))
        holdout = int(np.sum(neighbours.to_train(context, "real").b_to_a == 0))
        return MetricResult(copies / synthetic.size,
                            f"{copies} of {synthetic.size} synthetic individuals copy a "
                            f"training individual (real holdout: {holdout})")


class KinshipMetric(Metric):
    name = "kinship"
    label = "Relatives in train"
    family = "privacy"
    direction = "lower"
    ideal = 0.0
    range = (0.0, 1.0)
    description = ("Share of synthetic individuals with a duplicate, first- or second-degree "
                   "relative in the training set: KING-robust kinship above 0.0884 with some "
                   "training individual (thresholds 0.354 / 0.177 / 0.0884).")
    citation = f"{KING_2010}; {HAPNEST_2023}"
    needs_train = True

    def compute(self, context):
        synthetic = neighbours.to_train(context, "synthetic").kinship
        holdout = neighbours.to_train(context, "real").kinship
        related = synthetic.b_max > kernels.KING_THRESHOLDS["second_degree"]
        curves = {f"synthetic_{k}": [v] for k, v in synthetic.pair_counts.items()}
        curves.update({f"holdout_{k}": [v] for k, v in holdout.pair_counts.items()})
        curves["synthetic_max_kinship"] = _quantiles(synthetic.b_max)
        curves["holdout_max_kinship"] = _quantiles(holdout.b_max)
        curves["quantile_percent"] = _QUANTILES.tolist()

        def pairs(counts):
            return ", ".join(f"{v} {k.replace('_', '-')}" for k, v in counts.items())

        note = (f"pairs with training individuals: synthetic {pairs(synthetic.pair_counts)}; "
                f"real holdout {pairs(holdout.pair_counts)}")
        return MetricResult(float(np.mean(related)), note, curves)


METRICS = (AARealMetric(), AASyntheticMetric(), AATSMetric(), PrivacyLossMetric(), DCRMetric(),
           ExactCopiesMetric(), KinshipMetric())


@hookimpl
def genobench_register_metrics(register):
    """Register the core privacy metrics."""
    for metric in METRICS:
        register(metric)
