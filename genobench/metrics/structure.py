"""Population-structure and diversity metrics: PCA, adversarial accuracy, a detection test,
k-NN manifold precision / recall.

Xie et al. (GigaScience 2026) judge whether synthetic individuals occupy the same genetic
space as real ones in several ways, all here (scorecard families ``structure`` and
``diversity``):

* ``pca_wasserstein``, the paper's definition (its pca.py): a PCA fitted to each set
  separately, and POT's emd2 with squared Euclidean cost between the two sets of scores (W2
  squared, no root). ``pca_w2_real_basis``, our variant: synthetic individuals projected on
  the real set's PCs, and the W2 distance between the two clouds in that one basis. Separately
  fitted PCAs have arbitrary signs and rotations (two samples of one population can get
  mirrored PC1s), so the paper's number can call alike sets different; one basis cannot. The
  explained-variance profiles and the PC1/PC2 scatter are kept for plots.
* AATS against the test split (Yale et al. 2020): whether each individual's nearest neighbour
  lies in its own set or in the other. Against held-out individuals it measures resemblance,
  not privacy (a copier of training rows scores like real data), so it is a structure metric
  here; privacy compares with the training split (:mod:`.privacy`).
* k-NN precision and recall (Kynkaanniemi et al. 2019): each individual's ball reaches its
  k-th nearest neighbour of its own set; precision is the share of synthetic individuals
  inside some real ball, recall the share of real individuals inside some synthetic ball.
  k follows a documented rule (:func:`.neighbours.knn_k`) so real-vs-real values stay below
  saturation at the suite's size.
* Beyond the paper, a classifier two-sample test (as synthcity and SDMetrics score
  "detection"): a logistic regression tries to tell real from synthetic on the principal
  components of the pooled individuals, and its cross-validated ROC AUC is reported (0.5:
  indistinguishable). The PCA is fitted on both sets alike: on a PCA fitted on the real set
  alone, real individuals are in-sample and synthetic ones out-of-sample, and their scores
  differ in spread even for a perfect generator.

The numerical work is in :mod:`.gram` (PCA) and :mod:`.kernels` via :mod:`.neighbours`
(k-NN, shared with the privacy metrics).
"""

from __future__ import annotations

import math

import numpy as np

from . import gram, neighbours, privacy
from .base import EvaluationContext, Metric, MetricResult
from .catalogue import metric_info
from .options import AATSOptions, DetectionOptions, NeighbourOptions, PCAOptions

#: Points per set in the PC1/PC2 scatter curves.
SCATTER_POINTS = 1000


def _sample_rows(n: int, limit: int, seed: int) -> np.ndarray:
    """All of ``range(n)`` up to ``limit`` rows, else a sorted sample without replacement."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def _pooled_gram(context: EvaluationContext):
    """:func:`.neighbours.pooled_gram` when the PCAs use it (unscaled), else None."""
    if context.settings(PCAOptions).pca_scaler != "none":
        return None
    return neighbours.pooled_gram(context)


def fitted_pca(context: EvaluationContext, which: str) -> gram.PCA:
    """PCA of ``context.<which>`` under the suite's options (cached).

    :param which: "real", "synthetic", or "pooled" (both, real first).
    ``pca_components`` components (default 10, at most n - 1) of dosages standardised by
    ``pca_scaler`` ("none", centring only as scikit-learn's PCA in the paper; or
    "patterson"). With "none", the three PCAs share one exact integer Gram matrix of the
    pooled individuals (:func:`.neighbours.pooled_gram`; the real and synthetic ones are its
    diagonal blocks) while the pool has at most ``neighbours.POOLED_GRAM_LIMIT``
    individuals; a larger pool is fitted on a fixed sample of that many and the rest
    projected.
    """
    options = context.settings(PCAOptions)
    k, scaler = options.pca_components, options.pca_scaler
    n_real = context.real.n_samples
    pooled_n = n_real + context.synthetic.n_samples
    limit = neighbours.POOLED_GRAM_LIMIT

    def fit():
        dosages = (neighbours.pooled_dosages(context) if which == "pooled"
                   else getattr(context, which).dosages)
        pooled = _pooled_gram(context)
        if pooled is not None:
            block = {"real": pooled[:n_real, :n_real], "synthetic": pooled[n_real:, n_real:],
                     "pooled": pooled}[which]
            return gram.pca(dosages, k, scaler=scaler, device=context.device, gram=block)
        if which != "pooled" or pooled_n <= limit:
            return gram.pca(dosages, k, scaler=scaler, device=context.device)
        sample = _sample_rows(pooled_n, limit, options.subsample_seed + 2)
        fit = gram.pca(dosages[sample], k, scaler=scaler, device=context.device)
        fit.scores = fit.transform(dosages, device=context.device)
        return fit

    return context.cached(f"pca/{which}/{k}/{scaler}", fit)


def projections(context: EvaluationContext, basis: str, which: str) -> np.ndarray:
    """Scores of ``context.<which>`` on the PCA of ``context.<basis>``, (n, k) (cached).

    Across the real and synthetic sets of an unscaled PCA, from the pooled Gram matrix's
    off-diagonal block (:meth:`~genobench.metrics.gram.PCA.transform_gram`); otherwise
    through the loadings.
    """
    fit = fitted_pca(context, basis)
    if basis == which:
        return fit.scores
    k = fit.vectors.shape[1]
    data = getattr(context, which)

    def project():
        pooled = _pooled_gram(context)
        if pooled is None or basis not in ("real", "synthetic"):
            return fit.transform(data.dosages, device=context.device)
        n_real = context.real.n_samples
        rows = slice(0, n_real) if which == "real" else slice(n_real, None)
        columns = slice(0, n_real) if basis == "real" else slice(n_real, None)
        return fit.transform_gram(pooled[rows, columns], data.dosages, device=context.device)

    return context.cached(f"pca/{basis}/{k}/projection/{which}", project)


def _plain(values) -> list:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=float)]


def squared_w2(context: EvaluationContext, real: np.ndarray, synthetic: np.ndarray):
    """(W2 squared between two point clouds, rows used of each): POT's exact emd2 with squared
    Euclidean cost and uniform weights, at most ``wasserstein_max_points`` rows per set."""
    import ot

    options = context.settings(PCAOptions)
    limit, seed = options.wasserstein_max_points, options.subsample_seed
    a = real[_sample_rows(len(real), limit, seed)]
    b = synthetic[_sample_rows(len(synthetic), limit, seed + 1)]
    with gram.one_thread():
        cost = ot.dist(a, b, metric="sqeuclidean")
        squared = ot.emd2(np.full(len(a), 1 / len(a)), np.full(len(b), 1 / len(b)), cost,
                          numItermax=10_000_000)
    return max(float(squared), 0.0), (len(a), len(b))


class PCAWassersteinMetric(Metric):
    Options = PCAOptions
    info = metric_info("pca_wasserstein")

    def compute(self, context):
        real = fitted_pca(context, "real").scores
        synthetic = fitted_pca(context, "synthetic").scores
        # a set smaller than pca_components has fewer components: keep the common ones
        k = min(real.shape[1], synthetic.shape[1])
        squared, used = squared_w2(context, real[:, :k], synthetic[:, :k])
        return MetricResult(squared, f"W2^2 between separately fitted PCAs, {used[0]} real and "
                                     f"{used[1]} synthetic individuals")


class PCARealBasisMetric(Metric):
    Options = PCAOptions
    info = metric_info("pca_w2_real_basis")

    def compute(self, context):
        real = projections(context, "real", "real")
        synthetic = projections(context, "real", "synthetic")
        seed = self.settings(context).subsample_seed
        squared, (n_a, n_b) = squared_w2(context, real, synthetic)
        fit_real, fit_synthetic = fitted_pca(context, "real"), fitted_pca(context, "synthetic")
        # share of the synthetic set's own variance along the real components
        # (NaN when the synthetic individuals are all identical: no variance to share)
        total = fit_synthetic.total_variance
        along_real = (synthetic.var(axis=0, ddof=1) / total if total > 0
                      else np.full(synthetic.shape[1], math.nan))
        shown_real = _sample_rows(len(real), SCATTER_POINTS, seed)
        shown_synthetic = _sample_rows(len(synthetic), SCATTER_POINTS, seed + 1)
        curves = {
            "explained_variance_ratio_real": _plain(fit_real.explained_variance_ratio),
            "explained_variance_ratio_synthetic": _plain(
                fit_synthetic.explained_variance_ratio),
            "synthetic_variance_on_real_pcs": _plain(along_real),
            "real_pc1": _plain(real[shown_real, 0]),
            "real_pc2": _plain(real[shown_real, 1]) if real.shape[1] > 1 else [],
            "synthetic_pc1": _plain(synthetic[shown_synthetic, 0]),
            "synthetic_pc2": _plain(synthetic[shown_synthetic, 1]) if real.shape[1] > 1 else [],
        }
        sampled = "" if (n_a, n_b) == (len(real), len(synthetic)) else (
            f", {n_a} real and {n_b} synthetic individuals sampled")
        note = f"W2 on {real.shape[1]} PCs of the real data{sampled}"
        return MetricResult(math.sqrt(squared), note, curves)


def _knn(context: EvaluationContext):
    """(precision, recall, note) of the k-NN manifold estimate on equal-sized sets; precision
    and recall are None (with the reason in the note) when the suite's ``knn_k`` would
    saturate at this size."""
    size = neighbours.equal_size(context)
    if size < 2:
        raise ValueError(f"k-NN precision and recall need at least 2 individuals per set, "
                         f"got {size}")
    saturated = neighbours.knn_saturation(context, size)
    if saturated:
        return None, None, f"not applicable: {saturated}"
    k = neighbours.knn_k(context, size)
    pair = neighbours.cross(context, "real", size)
    rule = "" if context.settings(NeighbourOptions).knn_k is not None else " (size rule)"
    note = (f"k={k}{rule}, {neighbours.distance_metric(context)} distance"
            f"{neighbours.sampling_note(context, 'real', size)}")
    return float(np.mean(pair.b_covered)), float(np.mean(pair.a_covered)), note


class _KNNMetric(Metric):
    Options = NeighbourOptions


class PrecisionMetric(_KNNMetric):
    info = metric_info("precision")

    def compute(self, context):
        precision, _, note = _knn(context)
        return MetricResult(precision, note)  # None: saturated, the note says why


class RecallMetric(_KNNMetric):
    info = metric_info("recall")

    def compute(self, context):
        _, recall, note = _knn(context)
        return MetricResult(recall, note)


class F1Metric(_KNNMetric):
    info = metric_info("f1")

    def compute(self, context):
        precision, recall, note = _knn(context)
        if precision is None:
            return MetricResult(None, note)
        if precision + recall == 0:
            return MetricResult(0.0, note)
        return MetricResult(2 * precision * recall / (precision + recall), note,
                            {"precision": [precision], "recall": [recall]})


class DetectionAUCMetric(Metric):
    Options = DetectionOptions
    info = metric_info("detection_auc")

    def compute(self, context):
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import StratifiedKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        scores = fitted_pca(context, "pooled").scores
        # squares too: a generator can match the centre of the real cloud but not its spread
        # (a lost LD structure shrinks the synthetic cloud), which no linear rule on the
        # coordinates alone can see
        features = np.hstack([scores, scores ** 2])
        labels = np.r_[np.zeros(context.real.n_samples), np.ones(context.synthetic.n_samples)]
        options = self.settings(context)
        folds = min(options.detection_folds,
                    context.real.n_samples, context.synthetic.n_samples)
        if folds < 2:
            return MetricResult(None, "needs at least 2 real and 2 synthetic individuals")
        seed = options.subsample_seed
        model = make_pipeline(StandardScaler(),
                              LogisticRegression(solver="newton-cholesky", max_iter=1000))
        # the mean of the per-fold AUCs: AUC of predictions pooled over folds is biased below
        # 0.5 for indistinguishable sets (Airola et al. 2011, Comput Stat Data Anal 55:1828)
        aucs = []
        with gram.one_thread():
            for fit, held_out in StratifiedKFold(folds, shuffle=True,
                                                 random_state=seed).split(features, labels):
                model.fit(features[fit], labels[fit])
                aucs.append(roc_auc_score(labels[held_out],
                                          model.predict_proba(features[held_out])[:, 1]))
        return MetricResult(float(np.mean(aucs)),
                            f"logistic regression on {scores.shape[1]} PC coordinates and "
                            "their squares, "
                            f"mean AUC of {folds}-fold cross-validation",
                            {"fold_auc": [float(a) for a in aucs]})


class AATSMetric(Metric):
    Options = AATSOptions
    info = metric_info("aats")

    def compute(self, context):
        aa_real, aa_synthetic, size = privacy.adversarial_accuracy(context)
        note = (f"AA real {aa_real:.3f}, AA synthetic {aa_synthetic:.3f}; "
                f"{neighbours.distance_metric(context)} distance"
                f"{neighbours.sampling_note(context, 'real', size)}")
        return MetricResult((aa_real + aa_synthetic) / 2, note,
                            {"aa_real": [aa_real], "aa_synthetic": [aa_synthetic]})


METRICS = (PCAWassersteinMetric(), PCARealBasisMetric(), AATSMetric(), DetectionAUCMetric(),
           PrecisionMetric(), RecallMetric(), F1Metric())
