"""Fidelity metrics, computed through EvaluationContext and evaluate() as the runner calls them."""

import msprime
import numpy as np
import pytest

from genobench.data import GenotypeData
from genobench.metrics import fidelity, kernels
from genobench.metrics.base import EvaluationContext, Metric, evaluate

NAMES = ("allele_frequency_r", "genotype_frequency_r", "fst", "ld_decay_distance")


def simulate(n_individuals, *, length=1.2e6, seed=1, min_maf=0.05) -> GenotypeData:
    """A coalescent sample with recombination (so with LD), common SNPs only."""
    ts = msprime.sim_ancestry(samples=n_individuals, sequence_length=length,
                              recombination_rate=1e-8, population_size=10_000, random_seed=seed)
    ts = msprime.sim_mutations(ts, rate=1e-8, random_seed=seed + 1,
                               model=msprime.BinaryMutationModel())
    haplotypes = ts.genotype_matrix()
    dosages = (haplotypes[:, 0::2] + haplotypes[:, 1::2]).T.astype(np.int8)
    p = dosages.mean(axis=0) / 2
    keep = np.minimum(p, 1 - p) >= min_maf
    m = int(keep.sum())
    return GenotypeData(dosages[:, keep], ts.sites_position[keep].astype(np.int64) + 1, "1",
                        [f"snp{j}" for j in range(m)],
                        [f"ind{i}" for i in range(n_individuals)])


@pytest.fixture(scope="module")
def splits():
    """train / test / holdout: three disjoint samples of one population."""
    data = simulate(600)
    order = np.random.default_rng(0).permutation(data.n_samples)
    return tuple(data.take_samples(order[k * 200:(k + 1) * 200]) for k in range(3))


def independent_sites(data: GenotypeData, n: int, seed: int = 0) -> GenotypeData:
    """Each SNP drawn on its own from ``data``'s allele frequencies: no LD at all."""
    rng = np.random.default_rng(seed)
    dosages = rng.binomial(2, data.allele_frequencies(), size=(n, data.n_snps))
    return data.with_dosages(dosages)


def run(real, synthetic, names=NAMES, **options):
    context = EvaluationContext(real=real, synthetic=synthetic, options=options)
    metrics = [m for m in fidelity.METRICS if m.name in names]
    results, seconds = evaluate(context, metrics)
    assert set(seconds) == set(names)
    return results, context


def test_registers_documented_metrics():
    registered = []
    fidelity.genobench_register_metrics(registered.append)
    assert tuple(m.name for m in registered) == NAMES
    for metric in registered:
        assert isinstance(metric, Metric)
        assert metric.family == "fidelity"
        assert metric.direction in ("higher", "lower")
        assert metric.label and metric.description and "Xie" in metric.citation
        low, high = metric.range
        assert low <= metric.ideal <= high
    assert "Rogers" in fidelity.LDDecayDistance.citation


def test_holdout_scores_near_ideal(splits):
    _, test, holdout = splits
    results, _ = run(test, holdout)
    assert results["allele_frequency_r"].value > 0.95
    assert results["genotype_frequency_r"].value > 0.9
    assert 0 <= results["fst"].value < 0.005
    assert 0 <= results["ld_decay_distance"].value < 0.02


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


def test_genotype_frequency_r_is_mean_of_three(splits):
    _, test, holdout = splits
    result = run(test, holdout, ["genotype_frequency_r"])[0]["genotype_frequency_r"]
    rs = []
    for k in range(3):
        rs.append(np.corrcoef((test.dosages == k).mean(0), (holdout.dosages == k).mean(0))[0, 1])
        assert result.curves[f"r_{fidelity._GENOTYPES[k]}"] == [pytest.approx(rs[-1])]
    assert result.value == pytest.approx(np.mean(rs))
    assert "het r=" in result.note


def test_fst_matches_direct_formula(splits):
    train, test, _ = splits
    synthetic = independent_sites(train, 150, seed=3)
    value = run(test, synthetic, ["fst"])[0]["fst"].value
    p1, p2 = test.allele_frequencies(), synthetic.allele_frequencies()
    h_s = (2 * p1 * (1 - p1) + 2 * p2 * (1 - p2)) / 2
    h_t = 2 * ((p1 + p2) / 2) * (1 - (p1 + p2) / 2)
    per_snp = np.where(h_t > 0, np.maximum((h_t - h_s) / np.where(h_t > 0, h_t, 1), 0), 0)
    assert value == pytest.approx(np.sum(per_snp * h_t) / np.sum(h_t), rel=1e-12)
    # a set with shifted frequencies is clearly differentiated
    flipped = test.with_dosages(2 - test.dosages[:, :])
    assert run(test, flipped, ["fst"])[0]["fst"].value > 0.1


def test_independent_sites_lose_ld(splits):
    train, test, holdout = splits
    near = run(test, holdout, ["ld_decay_distance"])[0]["ld_decay_distance"]
    far = run(test, independent_sites(train, 200), ["ld_decay_distance"])[0]["ld_decay_distance"]
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
    for name in NAMES:
        assert results[name].value is None and results[name].note, name
