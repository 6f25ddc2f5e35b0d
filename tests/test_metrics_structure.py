"""Population-structure metrics through EvaluationContext and evaluate(), against references."""

import json

import numpy as np
import ot
import pytest
from conftest import coalescent_sample, independent_sites_sample
from sklearn.decomposition import PCA
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import NearestNeighbors

from genobench.data import GenotypeData
from genobench.metrics import structure
from genobench.metrics.base import EvaluationContext, Metric, evaluate

NAMES = ("pca_wasserstein", "precision", "recall", "f1", "detection_auc")


def simulate(n_individuals, *, length=1e6, seed=13, min_maf=0.05) -> GenotypeData:
    return coalescent_sample(n_individuals, length=length, seed=seed, min_maf=min_maf)


pytestmark = pytest.mark.usefixtures("one_blas_thread")


@pytest.fixture(scope="module")
def splits():
    data = simulate(450)
    order = np.random.default_rng(0).permutation(data.n_samples)
    return tuple(data.take_samples(order[k * 150:(k + 1) * 150]) for k in range(3))


def run(real, synthetic, names=NAMES, **options):
    context = EvaluationContext(real=real, synthetic=synthetic, options=options)
    results, _ = evaluate(context, [m for m in structure.METRICS if m.name in names])
    return results, context


def test_registers_documented_metrics():
    registered = []
    structure.genobench_register_metrics(registered.append)
    assert tuple(m.name for m in registered) == NAMES
    for metric in registered:
        assert isinstance(metric, Metric) and metric.family == "fidelity"
        assert metric.label and metric.description and metric.citation
        low, high = metric.range
        assert low <= metric.ideal <= (high if high is not None else np.inf)
    assert {m.name: (m.direction, m.ideal) for m in registered} == {
        "pca_wasserstein": ("lower", 0.0), "precision": ("higher", 1.0),
        "recall": ("higher", 1.0), "f1": ("higher", 1.0), "detection_auc": ("target", 0.5)}
    assert "Kynkaanniemi" in structure.PrecisionMetric.citation


def knn_reference(real, synthetic, k, metric):
    """Kynkaanniemi et al.'s precision and recall with scikit-learn: k-th neighbour radii
    (each point left out of its own neighbours), then every cross distance against them."""
    def radii(x):
        model = NearestNeighbors(n_neighbors=k, metric=metric, algorithm="brute").fit(x)
        return model.kneighbors()[0][:, -1]

    cross = pairwise_distances(real, synthetic, metric=metric)
    # distances are integers or square roots of integers: compare them as such, as the
    # exact kernels do, so that rounding cannot split a tie
    exact = (lambda d: np.rint(d ** 2)) if metric == "euclidean" else np.rint
    cross, r_real, r_synthetic = exact(cross), exact(radii(real)), exact(radii(synthetic))
    precision = (cross <= r_real[:, None]).any(axis=0).mean()
    recall = (cross <= r_synthetic[None, :]).any(axis=1).mean()
    return precision, recall


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_knn_precision_recall_match_scikit_learn(splits, metric):
    train, test, holdout = splits
    # half real-like individuals, half without LD (off the real manifold)
    synthetic = holdout.with_dosages(np.vstack([
        holdout.dosages[:75], independent_sites_sample(train, 75, seed=2).dosages]))
    results, _ = run(test, synthetic, ("precision", "recall", "f1"), distance=metric, knn_k=5)
    precision, recall = knn_reference(test.dosages, synthetic.dosages, 5, metric)
    assert 0 < precision < 1 and 0 < recall < 1
    assert results["precision"].value == pytest.approx(precision, abs=1e-12)
    assert results["recall"].value == pytest.approx(recall, abs=1e-12)
    assert results["f1"].value == pytest.approx(2 * precision * recall / (precision + recall))
    assert results["precision"].note == f"k=5, {metric} distance"


def test_knn_k_is_capped_and_sets_equalised(splits):
    _, test, holdout = splits
    small = holdout.take_samples(np.arange(40))
    results, context = run(test, small, ("precision", "recall"))
    assert "k=39 (knn_k 60 capped at n - 1)" in results["recall"].note
    assert "both sets subsampled to 40" in results["recall"].note
    # the cap makes every ball reach the whole set: everything is covered
    assert results["precision"].value == results["recall"].value == 1.0


def test_pca_wasserstein_matches_a_direct_computation(splits):
    train, test, holdout = splits
    results, _ = run(test, holdout, ("pca_wasserstein",), pca_components=4)
    result = results["pca_wasserstein"]
    pca = PCA(4, svd_solver="full").fit(test.dosages.astype(float))
    real = pca.transform(test.dosages.astype(float))
    synthetic = pca.transform(holdout.dosages.astype(float))
    weights = np.full(150, 1 / 150)
    expected = np.sqrt(ot.emd2(weights, weights, ot.dist(real, synthetic)))
    assert result.value == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(result.curves["explained_variance_ratio_real"],
                               pca.explained_variance_ratio_, rtol=1e-9)
    assert len(result.curves["real_pc1"]) == len(result.curves["synthetic_pc2"]) == 150
    assert "W2 on 4 PCs" in result.note
    far = run(test, independent_sites_sample(train, 150), ("pca_wasserstein",), pca_components=4)[0]
    assert far["pca_wasserstein"].value > 1.2 * result.value


def test_pca_wasserstein_subsamples_large_sets(splits):
    _, test, holdout = splits
    results, _ = run(test, holdout, ("pca_wasserstein",), wasserstein_max_points=50)
    assert "50 real and 50 synthetic individuals sampled" in results["pca_wasserstein"].note
    again, _ = run(test, holdout, ("pca_wasserstein",), wasserstein_max_points=50)
    assert again["pca_wasserstein"].value == results["pca_wasserstein"].value


def test_detection_auc_tells_only_different_sets_apart(splits):
    train, test, holdout = splits
    alike, context = run(test, holdout, ("detection_auc",))
    assert alike["detection_auc"].value == pytest.approx(0.5, abs=0.12)
    assert "10 PC coordinates and their squares, mean AUC of 5-fold" in alike["detection_auc"].note
    assert context.cached("pca/pooled/10/none", None).scores.shape == (300, 10)
    # the right allele frequencies but no LD: the haplotype structure the PCs carry is gone
    apart, _ = run(test, independent_sites_sample(train, 150), ("detection_auc",))
    assert apart["detection_auc"].value > 0.9
    assert len(apart["detection_auc"].curves["fold_auc"]) == 5


def test_small_sets_and_json_curves(splits):
    _, test, holdout = splits
    results, _ = run(test.take_samples(np.arange(4)), holdout.take_samples(np.arange(3)))
    for name in NAMES:
        assert results[name].value is not None, (name, results[name].note)
    assert "3-fold" in results["detection_auc"].note
    full, _ = run(test, holdout)
    json.dumps({name: r.curves for name, r in full.items()}, allow_nan=False)


def test_pcas_share_one_pooled_gram(splits, monkeypatch):
    _, test, holdout = splits
    calls = []
    original = structure.gram.integer_gram
    monkeypatch.setattr(structure.gram, "integer_gram",
                        lambda *a, **k: calls.append(a[0].shape) or original(*a, **k))
    results, context = run(test, holdout, ("pca_wasserstein", "detection_auc"))
    assert calls == [(300, test.n_snps)]  # real, synthetic and pooled PCAs: one product
    shared = structure.fitted_pca(context, "real")
    alone = structure.gram.pca(test.dosages, 10)
    np.testing.assert_allclose(shared.scores, alone.scores, atol=1e-9)
    # past the limit, the pooled PCA is fitted on a sample and every individual projected
    monkeypatch.setattr(structure.neighbours, "POOLED_GRAM_LIMIT", 200)
    limited, context = run(test, holdout, ("detection_auc",))
    assert structure.fitted_pca(context, "pooled").scores.shape == (300, 10)
    assert 0 <= limited["detection_auc"].value <= 1


def test_patterson_scaled_pca_option(splits):
    _, test, holdout = splits
    results, context = run(test, holdout, ("pca_wasserstein",), pca_scaler="patterson",
                           pca_components=3)
    fit = structure.fitted_pca(context, "real")
    assert fit.scores.shape == (150, 3) and "pca/real/3/patterson" in context._cache
    reference = structure.gram.pca(test.dosages, 3, scaler="patterson")
    np.testing.assert_allclose(fit.explained_variance_ratio, reference.explained_variance_ratio)
    assert results["pca_wasserstein"].value > 0


def test_searches_and_pcas_share_the_pooled_gram(splits, monkeypatch):
    from genobench.metrics import kernels, neighbours, privacy

    _, test, holdout = splits
    given = []
    original = kernels._gram_tiles
    monkeypatch.setattr(kernels, "_gram_tiles",
                        lambda xa, xb, g, *a: given.append(g.shape) or original(xa, xb, g, *a))
    metrics = [m for m in structure.METRICS + privacy.METRICS if m.name in
               ("aats", "precision", "recall", "pca_wasserstein")]
    context = EvaluationContext(real=test, synthetic=holdout)
    results, _ = evaluate(context, metrics)
    # within real, within synthetic and real x synthetic: read from the one pooled product
    assert sorted(given) == [(150, 150)] * 3
    assert "gram/pooled" in context._cache
    # the same values as products made afresh
    alone = kernels.knn_distances(test.dosages, k=60)
    np.testing.assert_array_equal(neighbours.within(context, "real", 150), alone)
    fresh, _ = run(test, holdout, ("aats", "precision"))
    assert fresh["precision"].value == results["precision"].value
    # the searches leave the shared products as they found them
    np.testing.assert_array_equal(context.cached("gram/pooled", None).numpy(),
                                  structure.gram.integer_gram(
                                      np.vstack([test.dosages, holdout.dosages])).numpy())
    np.testing.assert_allclose(structure.fitted_pca(context, "real").scores,
                               structure.gram.pca(test.dosages, 10).scores, atol=1e-9)
