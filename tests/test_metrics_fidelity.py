"""Fidelity metrics, computed through EvaluationContext and evaluate() as the runner calls them."""

import numpy as np
import pytest
from conftest import coalescent_sample, independent_sites_sample

from genobench.data import GenotypeData
from genobench.metrics import core, fidelity, kernels
from genobench.metrics.base import EvaluationContext, Metric, evaluate

NAMES = ("allele_frequency_r", "genotype_frequency_r", "fst", "fst_hudson", "ld_decay_distance",
         "ld_r2_difference", "correlation_score", "heterozygosity", "hwe_deviation")
#: Scorecard families: marginal metrics are scored against permuted_frequencies (independent
#: sites keep every frequency by construction), LD metrics against independent_sites.
LD = ("ld_decay_distance", "ld_r2_difference", "correlation_score")


def simulate(n_individuals, *, length=1.2e6, seed=1, min_maf=0.05) -> GenotypeData:
    """A coalescent sample with recombination (so with LD), common SNPs only."""
    return coalescent_sample(n_individuals, length=length, seed=seed, min_maf=min_maf)


@pytest.fixture(scope="module")
def splits():
    """train / test / holdout: three disjoint samples of one population."""
    data = simulate(600)
    order = np.random.default_rng(0).permutation(data.n_samples)
    return tuple(data.take_samples(order[k * 200:(k + 1) * 200]) for k in range(3))


def run(real, synthetic, names=NAMES, **options):
    context = EvaluationContext(real=real, synthetic=synthetic, options=options)
    metrics = [m for m in fidelity.METRICS if m.name in names]
    results, seconds = evaluate(context, metrics)
    assert set(seconds) == set(names)
    return results, context


def test_registers_documented_metrics():
    registered = [m for m in core.METRICS if m in fidelity.METRICS]  # registered by metrics.core
    assert registered == list(fidelity.METRICS)
    assert tuple(m.name for m in registered) == NAMES
    for metric in registered:
        assert isinstance(metric, Metric)
        if metric.name in LD:
            assert (metric.family, metric.baseline) == ("ld", "independent_sites"), metric.name
        else:
            assert (metric.family, metric.baseline) == ("marginal", "permuted_frequencies")
        # Hudson's Fst is unbiased and can go below 0: closest to 0 is best
        expected = ("target",) if metric.name == "fst_hudson" else ("higher", "lower")
        assert metric.direction in expected, metric.name
        assert metric.risk is None and metric.scored  # scored, not a privacy gate
        assert metric.label and metric.description and metric.citation
        # the paper's metrics cite it; Hudson's Fst, heterozygosity and HWE go beyond it
        beyond = metric.name in ("fst_hudson", "heterozygosity", "hwe_deviation")
        assert ("Xie" in metric.citation) != beyond, metric.name
        low, high = metric.range
        assert low <= metric.ideal <= high
    assert "Rogers" in fidelity.LDDecayDistance.citation
    assert "Hudson" in fidelity.HudsonFst.citation


def test_holdout_scores_near_ideal(splits):
    _, test, holdout = splits
    results, _ = run(test, holdout)
    assert results["allele_frequency_r"].value > 0.95
    assert results["genotype_frequency_r"].value > 0.9
    assert 0 <= results["fst"].value < 0.005
    assert abs(results["fst_hudson"].value) < 0.005
    assert 0 <= results["ld_decay_distance"].value < 0.02
    assert 0 <= results["ld_r2_difference"].value < 0.05
    assert results["correlation_score"].value > 0.5
    assert 0 <= results["heterozygosity"].value < 0.02
    assert 0 <= results["hwe_deviation"].value < 0.15


def test_allele_frequency_r_is_pearson_r(splits):
    _, test, holdout = splits
    result = run(test, holdout, ["allele_frequency_r"])[0]["allele_frequency_r"]
    p, q = test.allele_frequencies(), holdout.allele_frequencies()
    assert result.value == pytest.approx(np.corrcoef(p, q)[0, 1], abs=1e-12)
    index = fidelity.scatter_subsample(len(p))
    assert len(index) == min(len(p), 2000)
    np.testing.assert_allclose(result.curves["real"], p[index])
    np.testing.assert_allclose(result.curves["synthetic"], q[index])


def test_scatter_curves_are_subsampled_deterministically():
    rng = np.random.default_rng(1)
    data = GenotypeData(rng.integers(0, 3, (20, 2500)), np.arange(1, 2501), "1",
                        [f"s{j}" for j in range(2500)], [f"i{i}" for i in range(20)])
    synthetic = data.with_dosages(rng.integers(0, 3, (20, 2500)))
    first = run(data, synthetic, ["allele_frequency_r"])[0]["allele_frequency_r"]
    again = run(data, synthetic, ["allele_frequency_r"])[0]["allele_frequency_r"]
    assert len(first.curves["real"]) == len(first.curves["synthetic"]) == 2000
    assert first.curves == again.curves
    assert first.curves["real"][0] == data.allele_frequencies()[0]
    assert first.curves["real"][-1] == data.allele_frequencies()[-1]


def test_genotype_frequency_r_is_one_r_over_the_three_rates(splits):
    """The paper's definition: one Pearson r over the per-SNP hom-ref, het and hom-alt rates
    concatenated; each rate's own r is kept in the note and curves."""
    _, test, holdout = splits
    result = run(test, holdout, ["genotype_frequency_r"])[0]["genotype_frequency_r"]
    rates = lambda data: np.concatenate([(data.dosages == k).mean(0) for k in range(3)])  # noqa: E731
    assert result.value == pytest.approx(np.corrcoef(rates(test), rates(holdout))[0, 1],
                                         abs=1e-12)
    rs = []
    for k in range(3):
        rs.append(np.corrcoef((test.dosages == k).mean(0), (holdout.dosages == k).mean(0))[0, 1])
        assert result.curves[f"r_{fidelity._GENOTYPES[k]}"] == [pytest.approx(rs[-1])]
    assert result.value != pytest.approx(np.mean(rs))  # not the mean of the three any more
    assert "het r=" in result.note


def test_fst_matches_direct_formula(splits):
    train, test, _ = splits
    synthetic = independent_sites_sample(train, 150, seed=3)
    value = run(test, synthetic, ["fst"])[0]["fst"].value
    p1, p2 = test.allele_frequencies(), synthetic.allele_frequencies()
    h_s = (2 * p1 * (1 - p1) + 2 * p2 * (1 - p2)) / 2
    h_t = 2 * ((p1 + p2) / 2) * (1 - (p1 + p2) / 2)
    per_snp = np.where(h_t > 0, np.maximum((h_t - h_s) / np.where(h_t > 0, h_t, 1), 0), 0)
    assert value == pytest.approx(np.sum(per_snp * h_t) / np.sum(h_t), rel=1e-12)
    # a set with shifted frequencies is clearly differentiated
    flipped = test.with_dosages(2 - test.dosages[:, :])
    assert run(test, flipped, ["fst"])[0]["fst"].value > 0.1


def test_hudson_fst_matches_direct_formula_and_is_unbiased(splits):
    """Bhatia et al. 2013, eq. 10: ratio of averages of Hudson's estimator, n haplotypes per
    set; two real samples of very different sizes score about 0 where Nei's Fst does not."""
    train, test, holdout = splits
    synthetic = independent_sites_sample(train, 150, seed=3)
    value = run(test, synthetic, ["fst_hudson"])[0]["fst_hudson"].value
    p1, p2 = test.allele_frequencies(), synthetic.allele_frequencies()
    n1, n2 = 2 * test.n_samples, 2 * synthetic.n_samples
    numerator = (p1 - p2) ** 2 - p1 * (1 - p1) / (n1 - 1) - p2 * (1 - p2) / (n2 - 1)
    denominator = p1 * (1 - p2) + p2 * (1 - p1)
    assert value == pytest.approx(numerator.sum() / denominator.sum(), rel=1e-12)
    small = holdout.take_samples(np.arange(10))  # 10 individuals against 200
    nei = run(test, small, ["fst", "fst_hudson"])[0]
    assert abs(nei["fst_hudson"].value) < 0.005 < nei["fst"].value
    flipped = test.with_dosages(2 - test.dosages)
    assert run(test, flipped, ["fst_hudson"])[0]["fst_hudson"].value > 0.1


def test_independent_sites_lose_ld(splits):
    train, test, holdout = splits
    near = run(test, holdout, ["ld_decay_distance"])[0]["ld_decay_distance"]
    far = run(test, independent_sites_sample(train, 200),
              ["ld_decay_distance"])[0]["ld_decay_distance"]
    assert far.value > 0.05
    assert far.value > 5 * near.value
    curves = far.curves
    assert len(curves["distance_bp"]) == len(curves["real"]) == len(curves["synthetic"]) == 16
    assert curves["distance_bp"][0] > 1e3 and curves["distance_bp"][-1] < 1e6
    # LD decays with distance in the real data; nothing to decay in independent sites
    assert curves["real"][0] > 3 * curves["real"][-1]
    assert max(curves["synthetic"]) < 0.05


def test_ld_options_and_real_curve_cached(splits, monkeypatch):
    _, test, holdout = splits
    calls = []
    original = kernels.ld_decay

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(kernels, "ld_decay", counting)
    results, context = run(test, holdout, ["ld_decay_distance"], ld_bins=6, ld_max_distance=2e5)
    assert len(results["ld_decay_distance"].curves["real"]) == 6
    assert {c["n_bins"] for c in calls} == {6} and {c["max_distance"] for c in calls} == {2e5}
    real_curve = fidelity.ld_decay_curve(context, "real")  # reused, not recomputed
    assert len(calls) == 2
    assert isinstance(real_curve, kernels.LDDecay)
    np.testing.assert_allclose(real_curve.mean, results["ld_decay_distance"].curves["real"])


def test_undefined_values_are_missing_with_a_note():
    data = GenotypeData(np.zeros((10, 4), dtype=np.int8), [1, 2, 3, 4], "1",
                        ["a", "b", "c", "d"], [f"i{i}" for i in range(10)])
    results, _ = run(data, data.with_dosages(np.zeros((5, 4))))
    for name in ("allele_frequency_r", "fst", "fst_hudson", "ld_decay_distance",
                 "correlation_score", "hwe_deviation"):
        assert results[name].value is None and results[name].note, name
    # no variation in either set: the same (absent) LD and heterozygosity
    assert results["ld_r2_difference"].value == 0 and results["heterozygosity"].value == 0
    # the three rates concatenated still vary (all hom-ref, no het, no hom-alt) and agree
    # exactly, though each rate's own r is undefined
    genotype = results["genotype_frequency_r"]
    assert genotype.value == pytest.approx(1.0) and "het r=nan" in genotype.note


def test_curves_are_plain_json(splits):
    import json

    _, test, holdout = splits
    results, _ = run(test, holdout)
    json.dumps({name: r.curves for name, r in results.items()}, allow_nan=False)


def test_correlation_score_sees_lost_ld(splits):
    train, test, holdout = splits
    results, _ = run(test, holdout, ["correlation_score"])
    assert results["correlation_score"].value == pytest.approx(
        kernels.correlation_score(test.dosages, holdout.dosages), abs=1e-12)
    m = test.n_snps
    assert results["correlation_score"].note == f"{m * (m - 1) // 2} SNP pairs"
    lost = run(test, independent_sites_sample(train, 200), ["correlation_score"])[0]
    assert abs(lost["correlation_score"].value) < 0.1 < results["correlation_score"].value


def test_ld_r2_difference_is_the_window_comparison(splits):
    train, test, holdout = splits
    near = run(test, holdout, ["ld_r2_difference"], ld_max_distance=3e5)[0]["ld_r2_difference"]
    expected = kernels.ld_window_comparison(test.dosages, holdout.dosages, test.positions,
                                            max_distance=3e5)
    assert near.value == pytest.approx(expected.mean_abs_difference, rel=1e-12)
    assert f"{expected.pairs} SNP pairs" in near.note
    assert near.curves["heatmap_snps"] == [32]
    assert len(near.curves["heatmap_real"]) == len(near.curves["heatmap_synthetic"]) == 32 ** 2
    r2 = np.nan_to_num(kernels.ld_matrix(test.dosages[:, :32]))
    np.testing.assert_allclose(near.curves["heatmap_real"], r2.ravel())
    far = run(test, independent_sites_sample(train, 200), ["ld_r2_difference"],
              ld_max_distance=3e5)[0]["ld_r2_difference"]
    assert far.value > 1.5 * near.value
    assert far.curves["r2_correlation"][0] < 0.2 < near.curves["r2_correlation"][0]


def test_heterozygosity_compares_individual_het_rates(splits):
    from scipy.stats import wasserstein_distance

    _, test, holdout = splits
    result = run(test, holdout, ["heterozygosity"])[0]["heterozygosity"]
    het_test, het_holdout = (test.dosages == 1).mean(1), (holdout.dosages == 1).mean(1)
    assert result.value == pytest.approx(wasserstein_distance(het_test, het_holdout), rel=1e-9)
    assert len(result.curves["bin_edges"]) == 41 and len(result.curves["real"]) == 40
    assert sum(result.curves["real"]) == pytest.approx(1.0)
    # a generator that never emits a heterozygote: every individual at 0
    inbred = test.with_dosages(np.where(test.dosages == 1, 2, test.dosages))
    far = run(test, inbred, ["heterozygosity"])[0]["heterozygosity"]
    assert far.value == pytest.approx(het_test.mean(), rel=1e-9)


def test_hwe_deviation_compares_het_excess(splits):
    _, test, holdout = splits
    result = run(test, holdout, ["hwe_deviation"])[0]["hwe_deviation"]

    def f(data):
        p = data.allele_frequencies()
        return 1 - (data.dosages == 1).mean(0) / (2 * p * (1 - p))

    assert result.value == pytest.approx(np.abs(f(test) - f(holdout)).mean(), rel=1e-9)
    # half of the heterozygotes turned homozygous: a clear deficit of heterozygotes
    rng = np.random.default_rng(2)
    flip = (holdout.dosages == 1) & (rng.random(holdout.dosages.shape) < 0.5)
    deficit = holdout.with_dosages(np.where(flip, 2 * rng.integers(0, 2, flip.shape),
                                            holdout.dosages))
    worse = run(test, deficit, ["hwe_deviation"])[0]["hwe_deviation"]
    assert worse.value > 2 * result.value
    assert "mean F" in worse.note
