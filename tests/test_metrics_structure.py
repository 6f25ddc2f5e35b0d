"""Population-structure and diversity metrics through EvaluationContext and evaluate(), against
references. The paper's own definitions (PCA W2^2 between separately fitted PCAs, AATS, k-NN
precision and recall) are also checked against plain transcriptions in test_metrics_paper.py."""

import json

import numpy as np
import ot
import pytest
from conftest import coalescent_sample, independent_sites_sample
from sklearn.decomposition import PCA
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import NearestNeighbors

from genobench.data import GenotypeData
from genobench.metrics import core, neighbours, structure
from genobench.metrics.base import EvaluationContext, Metric, evaluate

NAMES = ("pca_wasserstein", "pca_w2_real_basis", "aats", "detection_auc", "precision", "recall",
         "f1")
#: Scorecard families: k-NN precision and recall measure diversity, the rest structure.
DIVERSITY = ("precision", "recall", "f1")


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
    registered = [m for m in core.METRICS if m in structure.METRICS]  # registered by metrics.core
    assert registered == list(structure.METRICS)
    assert tuple(m.name for m in registered) == NAMES
    for metric in registered:
        assert isinstance(metric, Metric)
        family = "diversity" if metric.name in DIVERSITY else "structure"
        assert (metric.family, metric.baseline) == (family, "independent_sites"), metric.name
        assert metric.risk is None  # resemblance, not a privacy gate
        assert metric.label and metric.description and metric.citation
        low, high = metric.range
        assert low <= metric.ideal <= (high if high is not None else np.inf)
    assert {m.name: (m.direction, m.ideal) for m in registered} == {
        "pca_wasserstein": ("lower", 0.0), "pca_w2_real_basis": ("lower", 0.0),
        "aats": ("target", 0.5), "detection_auc": ("target", 0.5),
        "precision": ("higher", 1.0), "recall": ("higher", 1.0), "f1": ("higher", 1.0)}
    # F1 is derived from precision and recall: shown, not counted in the family twice
    assert [m.name for m in registered if not m.scored] == ["f1"]
    assert "Kynkaanniemi" in structure.PrecisionMetric.citation
    assert "Yale" in structure.AATSMetric.citation
    # the paper's PCA Wasserstein keeps its name; the one-basis variant says it is one
    assert "variant" in structure.PCARealBasisMetric.citation


def reference_aats(real, synthetic, metric):
    """AA real, AA synthetic and AATS from scikit-learn neighbours (Yale et al. 2020)."""
    def nearest(query, reference, itself):
        model = NearestNeighbors(n_neighbors=1, metric=metric, algorithm="brute").fit(reference)
        distances = model.kneighbors(None if itself else query)[0][:, 0]
        # integers or square roots of integers: undo rounding so exact ties stay ties
        return np.rint(distances ** 2) if metric == "euclidean" else np.rint(distances)

    d_rr, d_ss = nearest(real, real, True), nearest(synthetic, synthetic, True)
    d_rs, d_sr = nearest(real, synthetic, False), nearest(synthetic, real, False)
    aa_real, aa_synthetic = np.mean(d_rs > d_rr), np.mean(d_sr > d_ss)
    return aa_real, aa_synthetic, (aa_real + aa_synthetic) / 2


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_aats_matches_scikit_learn_reference(splits, metric):
    _, test, holdout = splits
    results, _ = run(test, holdout, ("aats",), distance=metric)
    aa_real, aa_synthetic, aats = reference_aats(test.dosages, holdout.dosages, metric)
    result = results["aats"]
    assert result.value == pytest.approx(aats, abs=1e-12)
    # AA real and AA synthetic are no metrics of their own any more: the curves carry them
    assert result.curves == {"aa_real": [pytest.approx(aa_real, abs=1e-12)],
                             "aa_synthetic": [pytest.approx(aa_synthetic, abs=1e-12)]}
    assert f"AA real {aa_real:.3f}, AA synthetic {aa_synthetic:.3f}" in result.note
    assert metric in result.note
    assert result.value == pytest.approx(0.5, abs=0.1)  # alike sets: nearest neighbours mix
    # a set of one repeated individual is told apart from real data (a resemblance measure)
    repeated = holdout.with_dosages(np.repeat(holdout.dosages[:1], 150, axis=0))
    assert run(test, repeated, ("aats",), distance=metric)[0]["aats"].curves[
        "aa_real"][0] > 0.9


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


def test_knn_k_follows_the_size_rule_and_saturation_is_refused(splits):
    _, test, holdout = splits
    # the size rule: 0.5 % of the individuals, at least 3 (the paper's k = 60 at ~12,000)
    assert [neighbours.default_knn_k(n) for n in (40, 150, 1000, 12_000)] == [3, 3, 5, 60]
    small = holdout.take_samples(np.arange(40))
    results, context = run(test, small, ("precision", "recall", "f1"))
    assert "k=3 (size rule)" in results["recall"].note
    assert "both sets subsampled to 40" in results["recall"].note
    # k small against n: balls do not reach the whole set, so real data is not saturated
    assert 0 < results["recall"].value < 1
    # a suite's knn_k above 10 % of the individuals would cover everything: refused, not capped
    saturated, _ = run(test, small, ("precision", "recall", "f1"), knn_k=60)
    for name in ("precision", "recall", "f1"):
        assert saturated[name].value is None, name
        assert "knn_k=60 saturates" in saturated[name].note
    allowed, _ = run(test, small, ("recall",), knn_k=4)
    assert allowed["recall"].value is not None and "k=4," in allowed["recall"].note


def test_pca_w2_real_basis_matches_a_direct_computation(splits):
    """Our variant: synthetic individuals projected on the real PCs, W2 (with its root)."""
    train, test, holdout = splits
    results, _ = run(test, holdout, ("pca_w2_real_basis",), pca_components=4)
    result = results["pca_w2_real_basis"]
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
    far = run(test, independent_sites_sample(train, 150), ("pca_w2_real_basis",),
              pca_components=4)[0]
    assert far["pca_w2_real_basis"].value > 1.2 * result.value


def test_pca_wasserstein_is_the_squared_w2_of_separate_fits(splits):
    """The paper's definition: each set's own PCA, W2 squared between the two score clouds
    (POT's emd2, squared Euclidean cost, no root)."""
    _, test, holdout = splits
    results, context = run(test, holdout, ("pca_wasserstein",), pca_components=4)
    result = results["pca_wasserstein"]
    real = structure.fitted_pca(context, "real")
    synthetic = structure.fitted_pca(context, "synthetic")
    # the synthetic set's own PCA, not the real one's projections
    reference = PCA(4, svd_solver="full").fit(holdout.dosages.astype(float))
    np.testing.assert_allclose(synthetic.explained_variance_ratio,
                               reference.explained_variance_ratio_, rtol=1e-9)
    weights = np.full(150, 1 / 150)
    expected = ot.emd2(weights, weights, ot.dist(real.scores, synthetic.scores))
    assert result.value == pytest.approx(expected, rel=1e-9)
    assert result.note == ("W2^2 between separately fitted PCAs, 150 real and 150 synthetic "
                           "individuals")


def test_pca_wasserstein_subsamples_large_sets(splits):
    _, test, holdout = splits
    for name in ("pca_wasserstein", "pca_w2_real_basis"):
        results, _ = run(test, holdout, (name,), wasserstein_max_points=50)
        assert "50 real and 50 synthetic individuals" in results[name].note, name
        again, _ = run(test, holdout, (name,), wasserstein_max_points=50)
        assert again[name].value == results[name].value


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


def test_pca_wasserstein_on_sets_of_unequal_tiny_sizes(splits):
    """Separate fits of 4 and 3 individuals have 3 and 2 components: the common ones count."""
    _, test, holdout = splits
    results, context = run(test.take_samples(np.arange(4)), holdout.take_samples(np.arange(3)),
                           ("pca_wasserstein",))
    assert results["pca_wasserstein"].value is not None, results["pca_wasserstein"].note
    real, synthetic = (structure.fitted_pca(context, which).scores
                       for which in ("real", "synthetic"))
    assert (real.shape[1], synthetic.shape[1]) == (3, 2)
    weights = (np.full(4, 1 / 4), np.full(3, 1 / 3))
    assert results["pca_wasserstein"].value == pytest.approx(
        ot.emd2(*weights, ot.dist(real[:, :2], synthetic)), rel=1e-9)


def test_pcas_share_one_pooled_gram(splits, monkeypatch):
    _, test, holdout = splits
    calls = []
    original = neighbours.kernels.integer_gram
    monkeypatch.setattr(neighbours.kernels, "integer_gram",
                        lambda *a, **k: calls.append(a[0].shape) or original(*a, **k))
    results, context = run(test, holdout, ("pca_wasserstein", "pca_w2_real_basis",
                                           "detection_auc"))
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
    results, context = run(test, holdout, ("pca_wasserstein", "pca_w2_real_basis"),
                           pca_scaler="patterson", pca_components=3)
    fit = structure.fitted_pca(context, "real")
    assert fit.scores.shape == (150, 3) and "pca/real/3/patterson" in context._cache
    reference = structure.gram.pca(test.dosages, 3, scaler="patterson")
    np.testing.assert_allclose(fit.explained_variance_ratio, reference.explained_variance_ratio)
    assert results["pca_wasserstein"].value > 0 and results["pca_w2_real_basis"].value > 0


def test_searches_and_pcas_share_the_pooled_gram(splits, monkeypatch):
    from genobench.kernels import distances
    from genobench.metrics import kernels, privacy

    _, test, holdout = splits
    given = []
    original = distances._gram_tiles
    monkeypatch.setattr(distances, "_gram_tiles",
                        lambda xa, xb, g, *a: given.append(g.shape) or original(xa, xb, g, *a))
    metrics = [m for m in structure.METRICS + privacy.METRICS if m.name in
               ("aats", "precision", "recall", "pca_wasserstein", "pca_w2_real_basis")]
    context = EvaluationContext(real=test, synthetic=holdout)
    results, _ = evaluate(context, metrics)
    # within real, within synthetic and real x synthetic: read from the one pooled product
    assert sorted(given) == [(150, 150)] * 3
    assert "gram/pooled" in context._cache
    # the same values as products made afresh
    alone = kernels.knn_distances(test.dosages, k=neighbours.knn_k(context, 150))
    np.testing.assert_array_equal(neighbours.within(context, "real", 150), alone)
    fresh, _ = run(test, holdout, ("aats", "precision"))
    assert fresh["precision"].value == results["precision"].value
    # the searches leave the shared products as they found them
    np.testing.assert_array_equal(context.cached("gram/pooled", None).numpy(),
                                  structure.gram.integer_gram(
                                      np.vstack([test.dosages, holdout.dosages])).numpy())
    np.testing.assert_allclose(structure.fitted_pca(context, "real").scores,
                               structure.gram.pca(test.dosages, 10).scores, atol=1e-9)
