"""Privacy metrics, computed through EvaluationContext and evaluate() as the runner calls them."""

import msprime
import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from genobench.data import GenotypeData
from genobench.metrics import kernels, privacy
from genobench.metrics.base import EvaluationContext, Metric, evaluate

NAMES = ("aa_real", "aa_synthetic", "aats", "privacy_loss")


def simulate(n_individuals, *, length=1e6, seed=5, min_maf=0.05) -> GenotypeData:
    """A coalescent sample with recombination, common SNPs only."""
    ts = msprime.sim_ancestry(samples=n_individuals, sequence_length=length,
                              recombination_rate=1e-8, population_size=10_000, random_seed=seed)
    ts = msprime.sim_mutations(ts, rate=1e-8, random_seed=seed + 1,
                               model=msprime.BinaryMutationModel())
    haplotypes = ts.genotype_matrix()
    dosages = (haplotypes[:, 0::2] + haplotypes[:, 1::2]).T.astype(np.int8)
    p = dosages.mean(axis=0) / 2
    keep = np.minimum(p, 1 - p) >= min_maf
    return GenotypeData(dosages[:, keep], ts.sites_position[keep].astype(np.int64) + 1, "1",
                        [f"snp{j}" for j in range(int(keep.sum()))],
                        [f"ind{i}" for i in range(n_individuals)])


@pytest.fixture(scope="module")
def splits():
    """train / test / holdout: three disjoint samples of one population."""
    data = simulate(600)
    order = np.random.default_rng(0).permutation(data.n_samples)
    return tuple(data.take_samples(order[k * 200:(k + 1) * 200]) for k in range(3))


def run(real, synthetic, train=None, names=NAMES, **options):
    context = EvaluationContext(real=real, synthetic=synthetic, train=train, options=options)
    results, _ = evaluate(context, [m for m in privacy.METRICS if m.name in names])
    return results, context


def reference_aats(real, synthetic, metric):
    """AATS from scikit-learn neighbours (Yale et al. 2020), equal-sized sets."""
    def nearest(query, reference, itself):
        model = NearestNeighbors(n_neighbors=1, metric=metric, algorithm="brute").fit(reference)
        distances = model.kneighbors(None if itself else query)[0][:, 0]
        # distances are integers (Manhattan) or square roots of integers (Euclidean): undo
        # scikit-learn's rounding so exact ties compare as ties
        return np.rint(distances ** 2) if metric == "euclidean" else np.rint(distances)

    d_rr, d_ss = nearest(real, real, True), nearest(synthetic, synthetic, True)
    d_rs, d_sr = nearest(real, synthetic, False), nearest(synthetic, real, False)
    aa_real, aa_synthetic = np.mean(d_rs > d_rr), np.mean(d_sr > d_ss)
    return aa_real, aa_synthetic, (aa_real + aa_synthetic) / 2


def test_registers_documented_metrics():
    registered = []
    privacy.genobench_register_metrics(registered.append)
    assert tuple(m.name for m in registered) == NAMES
    for metric in registered:
        assert isinstance(metric, Metric)
        assert metric.family == "privacy" and metric.direction == "target"
        assert metric.label and metric.description and "Yale" in metric.citation
        low, high = metric.range
        assert low <= metric.ideal <= high
    ideals = {m.name: m.ideal for m in registered}
    assert ideals == {"aa_real": 0.5, "aa_synthetic": 0.5, "aats": 0.5, "privacy_loss": 0.0}
    assert [m.name for m in registered if m.needs_train] == ["privacy_loss"]
    assert "Yelmen" in privacy.PrivacyLossMetric.citation


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_matches_scikit_learn_reference(splits, metric):
    _, test, holdout = splits
    results, _ = run(test, holdout, names=("aa_real", "aa_synthetic", "aats"), distance=metric)
    aa_real, aa_synthetic, aats = reference_aats(test.dosages, holdout.dosages, metric)
    assert results["aa_real"].value == pytest.approx(aa_real, abs=1e-12)
    assert results["aa_synthetic"].value == pytest.approx(aa_synthetic, abs=1e-12)
    assert results["aats"].value == pytest.approx(aats, abs=1e-12)
    assert metric in results["aats"].note


def test_holdout_scores_near_ideal(splits):
    train, test, holdout = splits
    results, _ = run(test, holdout, train)
    assert results["aats"].value == pytest.approx(0.5, abs=0.1)
    assert results["aa_real"].value == pytest.approx(0.5, abs=0.15)
    assert results["aa_synthetic"].value == pytest.approx(0.5, abs=0.15)
    assert results["privacy_loss"].value == pytest.approx(0.0, abs=0.1)


def test_copy_of_training_set_is_caught(splits):
    train, test, _ = splits
    copy = train.with_dosages(train.dosages.copy())
    against_train, _ = run(train, copy, names=("aats",))
    assert against_train["aats"].value < 0.1  # every synthetic individual sits on a real one
    results, _ = run(test, copy, train)
    assert results["privacy_loss"].value > 0.3
    assert results["privacy_loss"].curves["aats_train"][0] < 0.1
    # against unseen individuals the copies look like any other sample
    assert results["aats"].value == pytest.approx(0.5, abs=0.1)


def test_sizes_are_equalised_by_a_fixed_subsample(splits):
    train, test, holdout = splits
    small = holdout.take_samples(np.arange(150))
    first, context = run(test, small, train)
    again, _ = run(test, small, train)
    for name in NAMES:
        assert first[name].value == again[name].value, name
    assert "subsampled to 150" in first["aats"].note
    assert 0 <= first["aats"].value <= 1
    # the training split is cut to the same size: both AATS compare 150 against 150
    assert "150 individuals" in first["privacy_loss"].note
    assert {key.split("/")[2] for key in context._cache} == {"150"}
    # the option subsample_seed picks another, equally fixed, subsample
    reseeded = EvaluationContext(real=test, synthetic=small, options={"subsample_seed": 7})
    assert privacy.subsample(reseeded, "real", 150).shape == (150, test.n_snps)
    assert not np.array_equal(privacy.subsample(reseeded, "real", 150),
                              privacy.subsample(context, "real", 150))
    np.testing.assert_array_equal(privacy.subsample(context, "synthetic", 150), small.dosages)


def test_distances_are_shared_through_the_cache(splits, monkeypatch):
    train, test, holdout = splits
    calls = []
    for name in ("nearest_neighbour_distances", "cross_nearest_distances"):
        original = getattr(kernels, name)

        def counting(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(kernels, name, counting)
    results, context = run(test, holdout, train, distance="manhattan")
    assert all(results[name].value is not None for name in NAMES)
    # within: real, synthetic, train; across: real-synthetic, train-synthetic
    assert sorted(calls) == ["cross_nearest_distances"] * 2 + ["nearest_neighbour_distances"] * 3
    assert all(key.startswith("privacy/manhattan/") for key in context._cache)


def test_missing_train_and_bad_options_give_a_note(splits):
    _, test, holdout = splits
    results, _ = run(test, holdout)
    assert results["privacy_loss"].value is None
    assert "training split" in results["privacy_loss"].note
    results, _ = run(test, holdout, names=("aats",), distance="cosine")
    assert results["aats"].value is None and "distance" in results["aats"].note
