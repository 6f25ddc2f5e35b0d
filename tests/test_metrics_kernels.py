"""The blocked torch kernels against direct references: numpy, scikit-allel, scikit-learn."""

import allel
import numpy as np
import pytest
import torch
from conftest import coalescent_sample
from scipy.spatial.distance import squareform
from sklearn.neighbors import NearestNeighbors

from genobench import kernels
from genobench.kernels.ld import window_block_size


def simulate(n_individuals, *, length=2e6, seed=1, min_maf=0.05):
    """Diploid dosages (n, m) and 1-based positions from a coalescent with recombination."""
    data = coalescent_sample(n_individuals, length=length, seed=seed, min_maf=min_maf)
    return data.dosages, data.positions


@pytest.fixture(scope="module")
def genotypes():
    return simulate(150)


def int64_gram(a, b):
    return a.astype(np.int64) @ b.astype(np.int64).T


# -- exact products -------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["auto", "int8", "float32"])
@pytest.mark.parametrize("shape", [(1, 1, 1), (5, 7, 3), (33, 130, 17), (64, 1000, 40)])
def test_exact_gram_is_exact(method, shape):
    p, k, q = shape
    rng = np.random.default_rng(k)
    a = rng.integers(0, 3, (p, k), dtype=np.int8)
    b = rng.integers(0, 3, (q, k), dtype=np.int8)
    got = kernels.exact_gram(torch.from_numpy(a), torch.from_numpy(b), method=method)
    assert got.dtype == torch.int64
    np.testing.assert_array_equal(got.numpy(), int64_gram(a, b))


@pytest.mark.parametrize("method", ["int8", "float32"])
def test_exact_gram_chunks_long_inner_dimension(monkeypatch, method):
    monkeypatch.setattr(kernels, "INT32_EXACT_K", 7)
    monkeypatch.setattr(kernels, "FLOAT32_EXACT_K", 7)
    a = np.full((4, 50), 2, dtype=np.int8)
    b = np.random.default_rng(0).integers(0, 3, (6, 50), dtype=np.int8)
    got = kernels.exact_gram(torch.from_numpy(a), torch.from_numpy(b), method=method)
    np.testing.assert_array_equal(got.numpy(), int64_gram(a, b))


def test_int8_product_pads_to_cuda_shapes():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 3, (5, 13), dtype=np.int8)
    b = rng.integers(0, 3, (13, 3), dtype=np.int8)
    got = kernels.int8_product(torch.from_numpy(a), torch.from_numpy(b), pad=True)
    assert got.shape == (5, 3)
    np.testing.assert_array_equal(got.numpy(), a.astype(np.int64) @ b.astype(np.int64))


def test_exact_gram_rejects_unknown_method():
    x = torch.zeros((2, 2), dtype=torch.int8)
    with pytest.raises(ValueError, match="method"):
        kernels.exact_gram(x, x, method="bf16")


# -- per-SNP summaries ----------------------------------------------------------------------

def test_genotype_counts_and_frequencies(genotypes):
    dosages, _ = genotypes
    counts = kernels.genotype_counts(dosages, block_size=16)
    expected = np.stack([(dosages == k).sum(axis=0) for k in range(3)], axis=1)
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_allclose(kernels.genotype_frequencies(dosages), expected / len(dosages))
    np.testing.assert_allclose(kernels.allele_frequencies(dosages, block_size=7),
                               dosages.mean(axis=0) / 2, rtol=1e-12)


# -- linkage disequilibrium -----------------------------------------------------------------

def test_ld_matrix_matches_scikit_allel(genotypes):
    dosages, _ = genotypes
    window = dosages[:, :120]
    expected = squareform(allel.rogers_huff_r(np.ascontiguousarray(window.T)))
    r = kernels.ld_matrix(window, squared=False)
    upper = np.triu_indices(window.shape[1], 1)
    np.testing.assert_allclose(r[upper], expected[upper], atol=1e-4)
    np.testing.assert_allclose(np.diag(r), 1.0)
    np.testing.assert_allclose(kernels.ld_matrix(window), r ** 2)
    # a rectangular block: the first 40 SNPs against the next 80
    np.testing.assert_allclose(kernels.ld_matrix(window[:, :40], window[:, 40:], squared=False),
                               expected[:40, 40:], atol=1e-4)


def test_ld_matrix_monomorphic_snp_is_nan():
    dosages = np.random.default_rng(0).integers(0, 3, (50, 5), dtype=np.int8)
    dosages[:, 2] = 1
    r2 = kernels.ld_matrix(dosages)
    assert np.isnan(r2[2]).all() and np.isnan(r2[:, 2]).all()
    assert np.isfinite(np.delete(np.delete(r2, 2, 0), 2, 1)).all()


def brute_force_ld_decay(dosages, positions, chromosomes, edges):
    """Every pair, one at a time in numpy: the definition the blocked kernel must match."""
    sums, counts = np.zeros(len(edges) - 1), np.zeros(len(edges) - 1, dtype=np.int64)
    polymorphic = dosages.std(axis=0) > 0
    r2 = np.corrcoef(dosages[:, polymorphic].T.astype(float)) ** 2
    pos, chrom = positions[polymorphic], chromosomes[polymorphic]
    i, j = np.triu_indices(len(pos), 1)
    distance = np.abs(pos[j] - pos[i])
    wanted = (chrom[i] == chrom[j]) & (distance >= edges[0]) & (distance <= edges[-1])
    bins = np.minimum(np.searchsorted(edges, distance[wanted], side="right") - 1, len(sums) - 1)
    np.add.at(sums, bins, r2[i[wanted], j[wanted]])
    np.add.at(counts, bins, 1)
    return sums, counts


@pytest.mark.parametrize("block_size", [17, 1024])
def test_ld_decay_matches_brute_force(genotypes, block_size):
    dosages, positions = genotypes
    dosages, positions = dosages[:, :400].copy(), positions[:400]
    dosages[:, 5] = 0  # a monomorphic SNP: left out
    # two chromosomes whose positions overlap: no pair may cross between them
    chromosomes = np.where(np.arange(400) % 3 == 0, "1", "2")
    positions = np.where(chromosomes == "1", positions - positions[0] + 1, positions)
    decay = kernels.ld_decay(dosages, positions, chromosomes, max_distance=5e5, n_bins=10,
                             block_size=block_size)
    np.testing.assert_allclose(decay.edges, np.logspace(3, np.log10(5e5), 11))
    sums, counts = brute_force_ld_decay(dosages, positions, chromosomes, decay.edges)
    np.testing.assert_array_equal(decay.counts, counts)
    np.testing.assert_allclose(decay.sums, sums, rtol=1e-9)
    assert counts.sum() > 1000
    assert decay.centres.shape == (10,) and (np.diff(decay.centres) > 0).all()


def test_ld_decay_empty_bins_are_nan():
    dosages = np.random.default_rng(0).integers(0, 3, (40, 3), dtype=np.int8)
    decay = kernels.ld_decay(dosages, [10_000, 20_000, 30_000], n_bins=4)
    # edges 10^3, 10^3.75, 10^4.5, ...: distances 10 kb and 20 kb both fall into bin 1
    assert decay.counts.tolist() == [0, 3, 0, 0]
    assert np.isnan(decay.mean[[0, 2, 3]]).all() and np.isfinite(decay.mean[1])


# -- distances between individuals ----------------------------------------------------------

def exact_distances(a, b, metric):
    difference = a.astype(np.int64)[:, None, :] - b.astype(np.int64)[None, :, :]
    if metric == "euclidean":
        return np.sqrt((difference ** 2).sum(-1).astype(float))
    return np.abs(difference).sum(-1).astype(float)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_pairwise_distances_are_exact(metric):
    rng = np.random.default_rng(3)
    a = rng.integers(0, 3, (30, 257), dtype=np.int8)
    b = rng.integers(0, 3, (20, 257), dtype=np.int8)
    for method in ("int8", "float32"):
        got = kernels.pairwise_distances(a, b, metric=metric, method=method)
        np.testing.assert_array_equal(got, exact_distances(a, b, metric))  # bit for bit


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_nearest_neighbours_match_scikit_learn(genotypes, metric):
    dosages, _ = genotypes
    a, b = dosages[:90], dosages[90:]
    reference = NearestNeighbors(n_neighbors=1, metric=metric, algorithm="brute").fit(b)
    expected = reference.kneighbors(a)[0][:, 0]
    got = kernels.nearest_neighbour_distances(a, b, metric=metric, block_size=16)
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    # within one set, self excluded: kneighbors() without a query leaves each point out
    within = NearestNeighbors(n_neighbors=1, metric=metric, algorithm="brute").fit(a)
    got = kernels.nearest_neighbour_distances(a, metric=metric, exclude_self=True, block_size=16)
    np.testing.assert_allclose(got, within.kneighbors()[0][:, 0], rtol=1e-9)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_nearest_neighbours_are_exact_in_blocks(metric):
    rng = np.random.default_rng(4)
    a = rng.integers(0, 3, (70, 300), dtype=np.int8)
    b = rng.integers(0, 3, (45, 300), dtype=np.int8)
    b[7] = a[3]  # an exact copy: distance exactly 0
    full = exact_distances(a, b, metric)
    a_to_b, b_to_a = kernels.cross_nearest_distances(a, b, metric=metric, block_size=8)
    np.testing.assert_array_equal(a_to_b, full.min(axis=1))
    np.testing.assert_array_equal(b_to_a, full.min(axis=0))
    assert a_to_b[3] == 0.0 and b_to_a[7] == 0.0
    float_path = kernels.nearest_neighbour_distances(a, b, metric=metric, block_size=13,
                                                     method="float32")
    np.testing.assert_array_equal(float_path, a_to_b)


def test_exclude_self_keeps_duplicates_and_handles_one_row():
    a = np.array([[0, 1, 2], [0, 1, 2], [2, 2, 2]], dtype=np.int8)
    got = kernels.nearest_neighbour_distances(a, metric="manhattan", exclude_self=True,
                                              block_size=2)
    np.testing.assert_array_equal(got, [0.0, 0.0, 3.0])
    alone = kernels.nearest_neighbour_distances(a[:1], exclude_self=True)
    assert np.isinf(alone).all()
    with pytest.raises(ValueError, match="exclude_self"):
        kernels.nearest_neighbour_distances(a, a[:2], exclude_self=True)
    with pytest.raises(ValueError, match="metric"):
        kernels.nearest_neighbour_distances(a, metric="cosine")


def test_heterozygosity_is_the_share_of_hets(genotypes):
    dosages, _ = genotypes
    np.testing.assert_allclose(kernels.heterozygosity(dosages),
                               (dosages == 1).mean(axis=1), rtol=1e-12)


# -- LD compared pair by pair ---------------------------------------------------------------

def brute_force_window_pairs(a, b, positions, chromosomes, max_distance):
    """r^2 of both sets on every same-chromosome pair i < j within the window, numpy."""
    def r2(x):
        x = x.astype(float)
        z = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), np.inf)
        return (z.T @ z / len(x)) ** 2

    i, j = np.triu_indices(len(positions), 1)
    wanted = (chromosomes[i] == chromosomes[j]) & (np.abs(positions[j] - positions[i])
                                                   <= max_distance)
    return r2(a)[i[wanted], j[wanted]], r2(b)[i[wanted], j[wanted]]


@pytest.mark.parametrize("block_size", [None, 23])
def test_ld_window_comparison_matches_brute_force(genotypes, block_size):
    dosages, positions = genotypes
    a, b = dosages[:80, :300].copy(), dosages[80:, :300].copy()
    b[:, 4] = 1  # monomorphic in b: r = 0 with every SNP there
    chromosomes = np.where(np.arange(300) % 4 == 0, "1", "2")
    comparison = kernels.ld_window_comparison(a, b, positions[:300], chromosomes,
                                              max_distance=2e5, block_size=block_size)
    r2a, r2b = brute_force_window_pairs(a, b, positions[:300], chromosomes, 2e5)
    assert comparison.pairs == r2a.size > 1000
    assert comparison.mean_abs_difference == pytest.approx(np.abs(r2a - r2b).mean(), rel=1e-9)
    assert comparison.r2_correlation == pytest.approx(np.corrcoef(r2a, r2b)[0, 1], rel=1e-9)
    same = kernels.ld_window_comparison(a, a, positions[:300], max_distance=2e5)
    assert same.mean_abs_difference == 0 and same.r2_correlation == pytest.approx(1.0)


def test_window_block_fits_the_window():
    dense = np.arange(0, 10_000_000, 100)  # 10,001 SNPs per Mb
    sparse = np.arange(0, 100_000_000, 20_000)  # 51 SNPs per Mb
    assert window_block_size(dense, 1e6, None) == 1024
    assert window_block_size(sparse, 1e6, None) == 128
    assert window_block_size(sparse, 1e6, 64) == 64


# -- k nearest neighbours, ball coverage, kinship -------------------------------------------

@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_knn_distances_match_scikit_learn(genotypes, metric):
    dosages, _ = genotypes
    a = dosages[:90].copy()
    a[7] = a[3]  # a duplicate: its nearest neighbour at distance 0
    reference = NearestNeighbors(n_neighbors=9, metric=metric, algorithm="brute").fit(a)
    expected = reference.kneighbors()[0]  # each point left out of its own neighbours
    got = kernels.knn_distances(a, k=9, metric=metric, block_size=16)
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert got[3, 0] == got[7, 0] == 0.0
    full = exact_distances(a, a, metric)
    np.fill_diagonal(full, np.inf)
    np.testing.assert_array_equal(got, np.sort(full, axis=1)[:, :9])  # bit for bit
    # fewer other rows than k: inf fills the rest
    assert np.isinf(kernels.knn_distances(a[:3], k=4)[:, 2:]).all()


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_cross_neighbours_coverage_is_exact(metric):
    rng = np.random.default_rng(5)
    a = rng.integers(0, 3, (61, 200), dtype=np.int8)
    b = rng.integers(0, 3, (47, 200), dtype=np.int8)
    b[2] = a[5]
    radius_a = kernels.knn_distances(a, k=5, metric=metric, block_size=8)[:, -1]
    radius_b = kernels.knn_distances(b, k=5, metric=metric, block_size=8)[:, -1]
    found = kernels.cross_neighbours(a, b, metric=metric, radius_a=radius_a,
                                     radius_b=radius_b, block_size=8)
    full = exact_distances(a, b, metric)
    np.testing.assert_array_equal(found.a_to_b, full.min(axis=1))
    np.testing.assert_array_equal(found.b_to_a, full.min(axis=0))
    # inclusive balls, compared exactly (a radius equal to a distance covers)
    np.testing.assert_array_equal(found.a_covered, (full <= radius_b[None, :]).any(axis=1))
    np.testing.assert_array_equal(found.b_covered, (full <= radius_a[:, None]).any(axis=0))
    assert found.a_covered[5] and found.b_covered[2]
    assert 0 < found.a_covered.mean() < 1 and found.kinship is None


def king_reference(a, b):
    """KING-robust between-family kinship from its counts (Manichaikul et al. 2010)."""
    het_a, het_b = (a == 1).astype(np.int64), (b == 1).astype(np.int64)
    hethet = het_a @ het_b.T
    ibs0 = (a == 0).astype(np.int64) @ (b == 2).T + (a == 2).astype(np.int64) @ (b == 0).T
    h_a, h_b = het_a.sum(1)[:, None], het_b.sum(1)[None, :]
    return 0.5 - (h_a + h_b - 2 * (hethet - 2 * ibs0)) / (4 * np.minimum(h_a, h_b))


def test_king_kinship_from_distances_matches_the_counts(genotypes):
    dosages, _ = genotypes
    a, b = dosages[:40], dosages[40:75].copy()
    b[0] = a[1]  # a duplicate: kinship 1/2
    b[1, ::2] = a[2, ::2]  # shares half of a[2]: a close relative
    got = kernels.king_kinship(a, b)
    np.testing.assert_allclose(got, king_reference(a, b), rtol=1e-12, atol=1e-12)
    assert got[1, 0] == 0.5
    # no het at all: kinship 1/2 with an identical individual, -inf with any other
    homozygous = np.array([[0, 2, 2], [0, 2, 2], [2, 0, 0]], dtype=np.int8)
    np.testing.assert_array_equal(kernels.king_kinship(homozygous)[0], [0.5, 0.5, -np.inf])


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_cross_neighbours_reduce_kinship(genotypes, metric):
    dosages, _ = genotypes
    a, b = dosages[:60], dosages[60:110].copy()
    b[0] = a[1]
    b[1, ::2] = a[2, ::2]
    b[2, ::4] = a[3, ::4]
    found = kernels.cross_neighbours(a, b, metric=metric, kinship=True, block_size=16)
    phi = king_reference(a, b)
    np.testing.assert_allclose(found.kinship.a_max, phi.max(axis=1), rtol=1e-12)
    np.testing.assert_allclose(found.kinship.b_max, phi.max(axis=0), rtol=1e-12)
    bounds = kernels.KING_THRESHOLDS
    expected = {"duplicate": int((phi > bounds["duplicate"]).sum()),
                "first_degree": int(((phi > bounds["first_degree"])
                                     & (phi <= bounds["duplicate"])).sum()),
                "second_degree": int(((phi > bounds["second_degree"])
                                      & (phi <= bounds["first_degree"])).sum())}
    assert found.kinship.pair_counts == expected
    assert expected["duplicate"] >= 1 and expected["first_degree"] >= 1
