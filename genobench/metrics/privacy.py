"""Privacy gates: does a generator give away its training individuals?

Every metric here compares synthetic individuals with the training split, and is read against
what held-out real individuals give on the same computation: the reference row (real
individuals no model saw) is scored by the very same code, so each gate passes when the
generator is no riskier than real unseen data, beyond the reference's spread
(:mod:`genobench.scorecard`). Gates are one-sided: being farther from the training individuals
than real data is a fidelity shortfall, not a privacy one. They are pass/fail, never averaged
into a rank.

Adversarial accuracy (Yale et al. 2020) asks whether an individual's nearest neighbour lies in
its own set or in the other. With d_XY(i) the distance from individual i of X to its nearest
individual of Y (itself excluded when X = Y):

    AA_X = mean_i [d_XS(i) > d_XX(i)],  AA_syn = mean_i [d_SX(i) > d_SS(i)],
    AATS = (AA_X + AA_syn) / 2.

Against held-out individuals (X = test) it measures resemblance (``aats`` in
:mod:`.structure`); against the training split (``aats_train``) a copier scores near 0.
Privacy loss (Yelmen et al. 2021) = AATS(test, syn) - AATS(train, syn) on sets of one size.

Against the whole training set: the distance to the closest training record (DCR) of synthetic
individuals against the holdout's (the test split, unseen in training), the share of
synthetic individuals unusually close to the training split less the share unusually close to
the holdout (by the ratio of the distances to the two), exact copies, KING-robust kinship
(HAPNEST's relatedness check), and a distance-based membership-inference attack (training vs
held-out individuals told apart by their distance to the nearest synthetic individual).

Distances ("distance" option: "euclidean" or "manhattan") come from the exact kernels in
:mod:`.kernels` through :mod:`.neighbours`, so every metric here shares one set of products.
"""

from __future__ import annotations

import numpy as np

from . import kernels, neighbours
from .base import EvaluationContext, Metric, MetricResult
from .catalogue import metric_info
from .neighbours import subsample  # noqa: F401  (part of this module's documented API)
from .options import NeighbourOptions

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


class _Gate(Metric):
    """A privacy gate: compared with the reference row's value, never ranked."""

    Options = NeighbourOptions
    needs_train = True


class PrivacyLossMetric(_Gate):
    info = metric_info("privacy_loss")
    # sampling noise of a difference of two AATS on n individuals: about 0.5 / sqrt(n), 0.05 at
    # n = 100; twice that is the least allowance

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


class DCRMetric(_Gate):
    info = metric_info("dcr")

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


#: Ceiling of a distance ratio whose own-set distance is 0 (an individual with an identical
#: twin in its own set is never unusually close to the other set).
_RATIO_CEILING = 1e6


def distance_ratios(to_other: np.ndarray, to_own: np.ndarray) -> np.ndarray:
    """Each real individual's distance to the other real set over its distance to its own set.

    :param to_other: (n,) distance from each individual to its nearest member of the other set.
    :param to_own: (n,) distance to its nearest other member of its own set.
    :returns: (n,) float64 ratios; 1 where both are 0, :data:`_RATIO_CEILING` where only the
        own-set distance is 0.
    """
    to_other, to_own = np.asarray(to_other, float), np.asarray(to_own, float)
    ratios = np.divide(to_other, to_own, out=np.full(to_other.shape, _RATIO_CEILING),
                       where=to_own > 0)
    ratios[(to_own == 0) & (to_other == 0)] = 1.0
    return np.minimum(ratios, _RATIO_CEILING)


def unusually_close_shares(to_train: np.ndarray, to_holdout: np.ndarray,
                           holdout_ratios: np.ndarray,
                           train_ratios: np.ndarray) -> tuple[float, float]:
    """The two shares of the closer-than-holdout gate (:class:`CloserThanHoldoutMetric`).

    A synthetic individual is unusually close to the training split when its distance to the
    nearest training individual is at most ``c_train`` times its distance to the nearest
    held-out one, with ``c_train`` the held-out individuals' 5th percentile of the same ratio
    (distance to the training split over distance to their own split); likewise, with the
    roles swapped, for unusually close to the holdout. Ratios, not distances: an individual
    near the middle of the population is near every real set, so its two distances shrink
    together and its ratio stays about 1, far from either 5th percentile.

    :param to_train: (n_s,) each synthetic individual's distance to its nearest training one.
    :param to_holdout: (n_s,) likewise to the held-out split.
    :param holdout_ratios: (n_h,) :func:`distance_ratios` of the held-out individuals (to the
        training split over to their own split).
    :param train_ratios: (n_t,) those of the training individuals (to the holdout over to
        their own split).
    :returns: (share unusually close to the training split, share unusually close to the
        held-out split). "At most": on small panels of related individuals some distances
        are 0 (identical genotypes).
    """
    to_train, to_holdout = np.asarray(to_train, float), np.asarray(to_holdout, float)
    near_train = float(np.mean(to_train <= np.percentile(holdout_ratios, 5) * to_holdout))
    near_holdout = float(np.mean(to_holdout <= np.percentile(train_ratios, 5) * to_train))
    return near_train, near_holdout


class CloserThanHoldoutMetric(_Gate):
    """Share of synthetic individuals unusually close to the training split, less the share
    unusually close to the holdout (Platzer & Reutterer 2021: a synthetic set that leaks sits
    closer to its training records than to holdout records).

    "Unusually close" to one real set: the distance to its nearest member, over the distance to
    the other set's nearest member, at most the 5th percentile of that ratio among the other
    set's own individuals (:func:`unusually_close_shares`). Individuals that do not depend on
    who was trained on, central or typical, score about 0. Measured on human_chr22 and cow_chr14
    (benchmarks/closer_gate_typicality.py): independent draws from training frequencies
    sharpened to any temperature from 0.5 to 1 read -0.025 to +0.017; a copier reads 1.00, real
    unseen individuals with 30 % replaced by copies 0.25-0.34, the real holdout -0.04 to 0.05.
    The first form compared distances, not ratios, with two thresholds (the 5th percentiles of
    the held-out individuals' distances to the training split and of the training individuals'
    to the holdout): typical individuals sat at about one distance from every real set, at the
    edge of both, and read +0.28 to +0.40 against the test split and -0.31 to -0.34 against the
    validation split.
    """

    info = metric_info("dcr_closer_share")

    def compute(self, context):
        if min(context.real.n_samples, context.train.n_samples) < 2:
            return MetricResult(None, "needs at least 2 training and 2 held-out individuals")
        to_train = neighbours.to_train(context, "synthetic").b_to_a
        real_to_train = neighbours.to_train(context, "real")
        to_holdout = neighbours.cross(context, "real", context.real.n_samples, "synthetic",
                                      context.synthetic.n_samples).b_to_a
        own = {which: neighbours.within(context, which, getattr(context, which).n_samples)[:, 0]
               for which in ("real", "train")}
        holdout_ratios = distance_ratios(real_to_train.b_to_a, own["real"])
        train_ratios = distance_ratios(real_to_train.a_to_b, own["train"])
        near_train, near_holdout = unusually_close_shares(
            to_train, to_holdout, holdout_ratios, train_ratios)
        return MetricResult(near_train - near_holdout,
                            f"{_distance(context)} distance; share of synthetic individuals "
                            f"unusually close to the training set {near_train:.3f}, to the "
                            f"holdout {near_holdout:.3f} (by the ratio of the distances to the "
                            f"two; real individuals' 5th percentiles "
                            f"{np.percentile(holdout_ratios, 5):.3f}, "
                            f"{np.percentile(train_ratios, 5):.3f})",
                            {"near_train": [near_train], "near_holdout": [near_holdout]})


class AATSTrainMetric(_Gate):
    info = metric_info("aats_train")

    def compute(self, context):
        n_train, n_synthetic = context.train.n_samples, context.synthetic.n_samples
        if min(n_train, n_synthetic) < 2:
            return MetricResult(None, "needs at least 2 training and 2 synthetic individuals")
        d_tt = neighbours.within(context, "train", n_train)[:, 0]
        d_ss = neighbours.within(context, "synthetic", n_synthetic)[:, 0]
        pair = neighbours.to_train(context, "synthetic")  # a = train, b = synthetic
        aa_train = float(np.mean(pair.a_to_b > d_tt))
        aa_synthetic = float(np.mean(pair.b_to_a > d_ss))
        return MetricResult((aa_train + aa_synthetic) / 2,
                            f"AA train {aa_train:.3f}, AA synthetic {aa_synthetic:.3f}; "
                            f"{n_train} training and {n_synthetic} synthetic individuals, "
                            f"{_distance(context)} distance",
                            {"aa_train": [aa_train], "aa_synthetic": [aa_synthetic]})


def membership_auc(member_distances: np.ndarray, other_distances: np.ndarray) -> float:
    """ROC AUC of telling members from non-members by a smaller distance (ties count half):
    the Mann-Whitney U statistic over both counts."""
    from scipy.stats import rankdata

    scores = -np.concatenate([member_distances, other_distances])
    ranks = rankdata(scores)
    n_members, n_others = member_distances.size, other_distances.size
    u = ranks[:n_members].sum() - n_members * (n_members + 1) / 2
    return float(u / (n_members * n_others))


class MembershipInferenceMetric(_Gate):
    info = metric_info("membership_auc")
    # the AUC's null spread, sqrt((n1 + n2 + 1) / (12 n1 n2)) (Hanley & McNeil 1982), is about
    # 0.03 for 300 training vs 100 held-out individuals; twice that, rounded up

    def compute(self, context):
        members = neighbours.to_train(context, "synthetic").a_to_b
        size = context.real.n_samples
        others = neighbours.cross(context, "real", size, "synthetic",
                                  context.synthetic.n_samples).a_to_b
        auc = membership_auc(members, others)
        return MetricResult(auc, f"{members.size} training vs {others.size} held-out "
                                 f"individuals, {_distance(context)} distance")


class ExactCopiesMetric(_Gate):
    info = metric_info("exact_copies")

    def compute(self, context):
        synthetic = neighbours.to_train(context, "synthetic").b_to_a
        copies = int(np.sum(synthetic == 0))
        holdout = int(np.sum(neighbours.to_train(context, "real").b_to_a == 0))
        return MetricResult(copies / synthetic.size,
                            f"{copies} of {synthetic.size} synthetic individuals copy a "
                            f"training individual (real holdout: {holdout})")


class KinshipMetric(_Gate):
    info = metric_info("kinship")

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


METRICS = (PrivacyLossMetric(), AATSTrainMetric(), DCRMetric(), CloserThanHoldoutMetric(),
           ExactCopiesMetric(), KinshipMetric(), MembershipInferenceMetric())
