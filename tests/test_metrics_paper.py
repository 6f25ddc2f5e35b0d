"""Every metric named after Xie et al. 2026 against a direct transcription of its formula.

Each reference below is the formula of shared/REFERENCE.md written out plainly (loops,
scikit-learn, POT), on small data, with no genobench kernel; the metric, computed as the runner
computes it, must agree. GWAS effect sizes are cross-checked against PLINK 2 instead
(tests/test_crosscheck_plink_glm.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import coalescent_sample

from genobench.metrics.base import EvaluationContext, evaluate
from genobench.registry import get_metric


@pytest.fixture(scope="module")
def sets():
    """Real, synthetic and training individuals: three samples of one coalescent population
    (80 each, common SNPs, so every SNP is polymorphic in each set)."""
    data = coalescent_sample(240, length=4e5, seed=5, min_maf=0.1)
    order = np.random.default_rng(1).permutation(data.n_samples)
    real, synthetic, train = (data.take_samples(order[k * 80:(k + 1) * 80]) for k in range(3))
    keep = np.flatnonzero(np.all([np.ptp(s.dosages, axis=0) > 0 for s in (real, synthetic)],
                                 axis=0))
    return tuple(s.take_snps(keep) for s in (real, synthetic, train))


def value(name, real, synthetic, train=None, **options):
    context = EvaluationContext(real=real, synthetic=synthetic, train=train, options=options)
    results, _ = evaluate(context, [get_metric(name)])
    assert results[name].value is not None, results[name].note
    return results[name].value


def _pearson(x, y):
    return float(np.corrcoef(x, y)[0, 1])


def test_allele_frequency_r(sets):
    real, synthetic, _ = sets
    expected = _pearson(real.dosages.mean(0) / 2, synthetic.dosages.mean(0) / 2)
    assert value("allele_frequency_r", real, synthetic) == pytest.approx(expected, abs=1e-12)


def test_genotype_frequency_r_is_one_r_over_the_concatenated_rates(sets):
    real, synthetic, _ = sets

    def rates(x):  # the paper's code: hom-ref, het and hom-alt rates of every SNP, concatenated
        return np.concatenate([np.mean(x == g, axis=0) for g in (0, 1, 2)])

    expected = _pearson(rates(real.dosages), rates(synthetic.dosages))
    assert value("genotype_frequency_r", real, synthetic) == pytest.approx(expected, abs=1e-12)


def test_fst_is_the_paper_s_h_t_weighted_mean(sets):
    real, synthetic, _ = sets
    numerator = denominator = 0.0
    for j in range(real.n_snps):
        p1, p2 = real.dosages[:, j].mean() / 2, synthetic.dosages[:, j].mean() / 2
        h_s = (2 * p1 * (1 - p1) + 2 * p2 * (1 - p2)) / 2
        p = (p1 + p2) / 2
        h_t = 2 * p * (1 - p)
        fst = max((h_t - h_s) / h_t, 0.0) if h_t > 0 else 0.0
        numerator += fst * h_t
        denominator += h_t
    assert value("fst", real, synthetic) == pytest.approx(numerator / denominator, rel=1e-9)


def test_correlation_score(sets):
    real, synthetic, _ = sets
    upper = np.triu_indices(real.n_snps, k=1)
    distances = [1 - np.corrcoef(s.dosages.T.astype(float))[upper] for s in (real, synthetic)]
    expected = _pearson(*distances)
    assert value("correlation_score", real, synthetic) == pytest.approx(expected, abs=1e-5)


def test_ld_r2_difference_over_pairs_in_the_window(sets):
    real, synthetic, _ = sets
    window = 100_000
    differences = []
    for i in range(real.n_snps):
        for j in range(i + 1, real.n_snps):
            if abs(real.positions[j] - real.positions[i]) <= window:
                r2 = [_pearson(s.dosages[:, i], s.dosages[:, j]) ** 2 for s in (real, synthetic)]
                differences.append(abs(r2[0] - r2[1]))
    assert differences
    assert value("ld_r2_difference", real, synthetic, ld_max_distance=window) == pytest.approx(
        np.mean(differences), abs=1e-5)


def test_pca_wasserstein_is_w2_squared_between_separately_fitted_pcas(sets):
    import ot
    from sklearn.decomposition import PCA

    real, synthetic, _ = sets
    k = 4
    scores = [PCA(n_components=k).fit_transform(s.dosages.astype(float))
              for s in (real, synthetic)]
    n_a, n_b = len(scores[0]), len(scores[1])
    # sign of each separately fitted component is arbitrary (LAPACK's choice): the paper's code
    # takes it as it comes, so compare up to the per-component signs our SVD picked
    ours = value("pca_wasserstein", real, synthetic, pca_components=k)
    candidates = []
    for signs in np.array(np.meshgrid(*[[1, -1]] * k)).T.reshape(-1, k):
        cost = ot.dist(scores[0], scores[1] * signs, metric="sqeuclidean")
        candidates.append(ot.emd2(np.full(n_a, 1 / n_a), np.full(n_b, 1 / n_b), cost))
    assert min(abs(ours - c) for c in candidates) <= 1e-6 * max(candidates)


def _nearest(a, b, exclude_self=False):
    d = np.sqrt(((a[:, None, :].astype(float) - b[None, :, :]) ** 2).sum(-1))
    if exclude_self:
        np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)


def test_aats_against_the_test_split(sets):
    real, synthetic, _ = sets
    d_rr = _nearest(real.dosages, real.dosages, True)[:, 0]
    d_ss = _nearest(synthetic.dosages, synthetic.dosages, True)[:, 0]
    d_rs = _nearest(real.dosages, synthetic.dosages)[:, 0]
    d_sr = _nearest(synthetic.dosages, real.dosages)[:, 0]
    expected = (np.mean(d_rs > d_rr) + np.mean(d_sr > d_ss)) / 2
    assert value("aats", real, synthetic) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name", ["precision", "recall"])
def test_knn_precision_and_recall(sets, name):
    real, synthetic, _ = sets
    k = 3
    radius_real = _nearest(real.dosages, real.dosages, True)[:, k - 1]
    radius_synthetic = _nearest(synthetic.dosages, synthetic.dosages, True)[:, k - 1]
    cross = np.sqrt(((synthetic.dosages[:, None, :].astype(float)
                      - real.dosages[None, :, :]) ** 2).sum(-1))  # synthetic x real
    expected = dict(precision=np.mean((cross <= radius_real[None, :]).any(axis=1)),
                    recall=np.mean((cross.T <= radius_synthetic[None, :]).any(axis=1)))[name]
    assert value(name, real, synthetic, knn_k=k) == pytest.approx(expected, abs=1e-12)


def test_privacy_loss_on_sets_of_one_size(sets):
    real, synthetic, train = sets

    def aats(x):
        d_xx = _nearest(x, x, True)[:, 0]
        d_ss = _nearest(synthetic.dosages, synthetic.dosages, True)[:, 0]
        return (np.mean(_nearest(x, synthetic.dosages)[:, 0] > d_xx)
                + np.mean(_nearest(synthetic.dosages, x)[:, 0] > d_ss)) / 2

    expected = aats(real.dosages) - aats(train.dosages)  # Yelmen et al. 2021
    assert value("privacy_loss", real, synthetic, train) == pytest.approx(expected, abs=1e-12)
