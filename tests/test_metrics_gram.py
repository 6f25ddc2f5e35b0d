"""PCA, GRM and the correlation score (genobench/kernels) against direct references."""

import allel
import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA as ScikitPCA

from genobench import kernels
from genobench.kernels import gram
from genobench.kernels.products import fixed_point_product

pytestmark = pytest.mark.usefixtures("one_blas_thread")


@pytest.fixture(scope="module")
def structured():
    """Two populations drifted apart (so PCs have a structure), plus a third sample."""
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, 700)
    q = np.clip(p + rng.normal(0, 0.1, p.size), 0.02, 0.98)
    x = np.vstack([rng.binomial(2, p, (60, p.size)), rng.binomial(2, q, (40, p.size))])
    other = rng.binomial(2, q, (20, p.size))
    return x.astype(np.int8), other.astype(np.int8)


def aligned(got, expected):
    """``got`` with each column's sign flipped to agree with ``expected``."""
    return got * np.sign((got * expected).sum(axis=0))


def test_pca_matches_scikit_learn(structured):
    x, other = structured
    fit = gram.pca(x, 6, block_size=32, snp_chunk=200)
    reference = ScikitPCA(6, svd_solver="full").fit(x.astype(float))
    scores = reference.transform(x.astype(float))
    np.testing.assert_allclose(aligned(fit.scores, scores), scores, atol=1e-9)
    np.testing.assert_allclose(fit.explained_variance, reference.explained_variance_, rtol=1e-9)
    np.testing.assert_allclose(fit.explained_variance_ratio,
                               reference.explained_variance_ratio_, rtol=1e-9)
    np.testing.assert_allclose(aligned(fit.loadings, reference.components_.T),
                               reference.components_.T, atol=1e-6)
    projected = reference.transform(other.astype(float))
    got = fit.transform(other, block_size=7)
    scale = np.abs(projected).max()
    np.testing.assert_allclose(aligned(got, projected), projected, atol=1e-5 * scale)


@pytest.mark.parametrize("scaler", [None, "patterson", "standard"])
def test_pca_matches_scikit_allel(structured, scaler):
    x, other = structured
    fit = gram.pca(x, 5, scaler=scaler or "none", block_size=48, snp_chunk=256)
    coords, model = allel.pca(x.T.astype(float), n_components=5, scaler=scaler)
    scale = np.abs(coords).max()
    np.testing.assert_allclose(aligned(fit.scores, coords), coords, atol=1e-5 * scale)
    np.testing.assert_allclose(fit.explained_variance_ratio, model.explained_variance_ratio_,
                               atol=1e-7)
    projected = model.transform(other.T.astype(float))
    np.testing.assert_allclose(aligned(fit.transform(other), projected), projected,
                               atol=1e-5 * scale)


def test_pca_large_matrices_use_block_krylov_and_agree(structured, monkeypatch):
    x, _ = structured
    dense = gram.pca(x, 4)
    calls = []
    original = gram._block_krylov
    monkeypatch.setattr(gram, "_block_krylov", lambda *a, **k: calls.append(1) or original(*a, **k))
    monkeypatch.setattr(gram, "DENSE_EIGEN_LIMIT", 10)
    iterative = gram.pca(x, 4)
    assert calls
    # the iteration reads the matrix in float32: agreement to about 1e-7
    np.testing.assert_allclose(iterative.explained_variance, dense.explained_variance, rtol=1e-6)
    np.testing.assert_allclose(iterative.scores, dense.scores,
                               atol=1e-5 * np.abs(dense.scores).max())


def test_pca_small_and_degenerate_inputs(structured):
    x, _ = structured
    tiny = gram.pca(x[:3], 10)
    assert tiny.scores.shape == (3, 2)  # at most n - 1 components
    with pytest.raises(ValueError, match="at least 2"):
        gram.pca(x[:1], 2)
    with pytest.raises(ValueError, match="scaler"):
        gram.pca(x, 2, scaler="zca")


def test_grm_is_plink_formula(structured):
    x, _ = structured
    x = x.copy()
    x[:, 3] = 0  # monomorphic: left out of the sum and of M
    p = x.mean(axis=0) / 2
    keep = (p > 0) & (p < 1) & (x.std(axis=0) > 0)
    keep[3] = False
    z = (x[:, keep] - 2 * p[keep]) / np.sqrt(2 * p[keep] * (1 - p[keep]))
    expected = z @ z.T / keep.sum()
    got = gram.grm(x, block_size=32, snp_chunk=123)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_array_equal(got, got.T)


def correlation_score_reference(a, b):
    """Xie et al.'s corr_score, in numpy: z-scores (0 for a monomorphic SNP), r matrices, the
    Pearson correlation of 1 - r over the upper triangles."""
    def r_matrix(x):
        x = x.astype(float)
        sd = x.std(axis=0)
        z = np.where(sd > 0, (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1), 0.0)
        return z.T @ z / len(x)

    upper = np.triu_indices(a.shape[1], 1)
    return np.corrcoef(1 - r_matrix(a)[upper], 1 - r_matrix(b)[upper])[0, 1]


def test_correlation_score_matches_the_paper_formula(structured):
    x, other = structured
    a, b = x[:, :300].copy(), np.vstack([x[60:, :300], other[:, :300]])
    b[:, 10] = 2  # monomorphic in b: r = 0 with every SNP there
    expected = correlation_score_reference(a, b)
    got = kernels.correlation_score(a, b, block_size=32, snp_chunk=128)
    assert got == pytest.approx(expected, abs=1e-6)
    # tiles that straddle the a/b border and SNP chunks of another size: the same sums
    assert kernels.correlation_score(a, b, block_size=7, snp_chunk=50) == pytest.approx(
        expected, abs=1e-6)
    assert kernels.correlation_score(a, a) == pytest.approx(1.0, abs=1e-9)
    assert np.isnan(kernels.correlation_score(a[:, :2], b[:, :2]))
    with pytest.raises(ValueError, match="SNPs"):
        kernels.correlation_score(a, b[:, :10])


def test_projection_through_gram_products_equals_transform(structured):
    x, other = structured
    fit = gram.pca(x, 5)
    assert fit._loadings is None  # computed on first use only
    cross = gram.integer_gram(np.vstack([x, other]))[len(x):, :len(x)]
    np.testing.assert_allclose(fit.transform_gram(cross, other), fit.transform(other),
                               atol=1e-4 * np.abs(fit.scores).max())
    assert fit.loadings.shape == (x.shape[1], 5)
    with pytest.raises(ValueError, match="unscaled"):
        gram.pca(x, 2, scaler="patterson").transform_gram(cross, other)


def test_scaled_pca_without_forming_the_gram_matrix(structured, monkeypatch):
    x, other = structured
    formed = gram.pca(x, 4, scaler="patterson")
    monkeypatch.setattr(gram, "SCALED_GRAM_LIMIT", 10)
    monkeypatch.setattr(gram, "scaled_gram", None)  # must not be called
    applied = gram.pca(x, 4, scaler="patterson")
    np.testing.assert_allclose(applied.explained_variance, formed.explained_variance, rtol=1e-6)
    np.testing.assert_allclose(applied.total_variance, formed.total_variance, rtol=1e-6)
    scale = np.abs(formed.scores).max()
    np.testing.assert_allclose(applied.scores, formed.scores, atol=1e-5 * scale)
    np.testing.assert_allclose(applied.transform(other), formed.transform(other),
                               atol=1e-5 * scale)


def test_int8_digit_products_are_nearly_exact():
    rng = np.random.default_rng(4)
    x = torch.from_numpy(rng.integers(0, 3, (50, 700), dtype=np.int8))
    values = torch.from_numpy(rng.normal(size=(700, 9)) * rng.uniform(1e-6, 1e6, 9))
    exact = x.double() @ values
    got = fixed_point_product(x, values, chunk=256)  # several inner chunks too
    bound = 700 * 2 * 5e-10 * values.abs().amax(dim=0)
    assert ((got - exact).abs() <= bound).all()


def test_unscaled_pca_past_the_gram_limit_forms_no_gram(structured, monkeypatch):
    """Past GRAM_LIMIT individuals the centred Gram matrix is applied through int8 products
    (memory n m, not n^2): the same components as the exact Gram matrix."""
    x, other = structured
    dense = gram.pca(x, 4)
    monkeypatch.setattr(gram, "GRAM_LIMIT", 10)
    monkeypatch.setattr(gram, "integer_gram", lambda *a, **k: pytest.fail("formed a Gram"))
    operator = gram.pca(x, 4)
    np.testing.assert_allclose(operator.explained_variance, dense.explained_variance, rtol=1e-6)
    np.testing.assert_allclose(operator.explained_variance_ratio,
                               dense.explained_variance_ratio, rtol=1e-6)
    np.testing.assert_allclose(operator.scores, dense.scores,
                               atol=1e-5 * np.abs(dense.scores).max())
    np.testing.assert_allclose(operator.transform(other), dense.transform(other),
                               atol=1e-4 * np.abs(dense.scores).max())
