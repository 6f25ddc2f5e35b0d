"""Privacy gates, computed through EvaluationContext and evaluate() as the runner calls them.

Every gate compares synthetic individuals with the training split; the scorecard reads each
against the reference row's value (tests/test_scorecard.py), so here each is checked against a
direct computation, a holdout (unseen real individuals) and a copier of the training split.
"""

import numpy as np
import pytest
from conftest import coalescent_sample
from scipy.spatial.distance import cdist
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

from genobench.data import GenotypeData
from genobench.metrics import core, kernels, neighbours, privacy, structure
from genobench.metrics.base import EvaluationContext, Metric, evaluate
from genobench.metrics.privacy import distance_ratios

NAMES = ("privacy_loss", "aats_train", "dcr", "dcr_closer_share", "exact_copies", "kinship",
         "membership_auc")
#: The side of each gate that signals a leak.
RISKS = {"privacy_loss": "higher", "aats_train": "lower", "dcr": "lower",
         "dcr_closer_share": "higher", "exact_copies": "higher", "kinship": "higher",
         "membership_auc": "higher"}


def simulate(n_individuals, *, length=1e6, seed=5, min_maf=0.05) -> GenotypeData:
    """A coalescent sample with recombination, common SNPs only."""
    return coalescent_sample(n_individuals, length=length, seed=seed, min_maf=min_maf)


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


def nearest(query, reference, itself, metric="euclidean"):
    """Distance from each ``query`` individual to its nearest ``reference`` one (itself
    excluded when ``itself``), from scikit-learn: squared for Euclidean."""
    model = NearestNeighbors(n_neighbors=1, metric=metric, algorithm="brute").fit(reference)
    distances = model.kneighbors(None if itself else query)[0][:, 0]
    # distances are integers (Manhattan) or square roots of integers (Euclidean): undo
    # scikit-learn's rounding so exact ties compare as ties
    return np.rint(distances ** 2) if metric == "euclidean" else np.rint(distances)


def reference_aats(real, synthetic, metric):
    """AATS from scikit-learn neighbours (Yale et al. 2020)."""
    d_rr, d_ss = nearest(real, real, True, metric), nearest(synthetic, synthetic, True, metric)
    d_rs, d_sr = nearest(real, synthetic, False, metric), nearest(synthetic, real, False, metric)
    aa_real, aa_synthetic = np.mean(d_rs > d_rr), np.mean(d_sr > d_ss)
    return aa_real, aa_synthetic, (aa_real + aa_synthetic) / 2


def test_registers_documented_metrics():
    registered = [m for m in core.METRICS if m in privacy.METRICS]  # registered by metrics.core
    assert registered == list(privacy.METRICS)
    assert tuple(m.name for m in registered) == NAMES
    for metric in registered:
        assert isinstance(metric, Metric)
        assert metric.family == "privacy"
        assert metric.label and metric.description and metric.citation
        # a gate: read against the reference row, never ranked by distance to an ideal
        assert (metric.direction, metric.ideal) == ("target", None), metric.name
        assert metric.info.is_gate and metric.needs_train
        # at least the sampling noise of the gate's value at the suites' sizes
        assert metric.tolerance == {"exact_copies": 0.0, "privacy_loss": 0.1,
                                    "membership_auc": 0.07}.get(metric.name, 0.05)
    neutral = {m.name: m.neutral for m in registered if m.neutral is not None}
    assert neutral == {"privacy_loss": 0.0, "membership_auc": 0.5, "dcr": 1.0,
                       "dcr_closer_share": 0.0}
    assert {m.name: m.risk for m in registered} == RISKS
    assert "Yale" in privacy.AATSTrainMetric.citation
    assert "Yelmen" in privacy.PrivacyLossMetric.citation
    assert "Manichaikul" in privacy.KinshipMetric.citation
    # adversarial accuracy against held-out individuals measures resemblance, not privacy
    assert {"aa_real", "aa_synthetic", "aats"}.isdisjoint(NAMES)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_matches_scikit_learn_reference(splits, metric):
    train, test, holdout = splits
    synthetic = holdout.take_samples(np.arange(150))  # AATS against train: sizes may differ
    results, _ = run(test, synthetic, train, names=("aats_train", "privacy_loss"),
                     distance=metric)
    aa_train, aa_synthetic, aats = reference_aats(train.dosages, synthetic.dosages, metric)
    assert results["aats_train"].value == pytest.approx(aats, abs=1e-12)
    assert results["aats_train"].curves == {"aa_train": [pytest.approx(aa_train)],
                                            "aa_synthetic": [pytest.approx(aa_synthetic)]}
    assert metric in results["aats_train"].note
    # privacy loss (Yelmen et al. 2021) on sets of one size: all 200 individuals of each
    results, _ = run(test, holdout, train, names=("privacy_loss",), distance=metric)
    expected = (reference_aats(test.dosages, holdout.dosages, metric)[2]
                - reference_aats(train.dosages, holdout.dosages, metric)[2])
    assert results["privacy_loss"].value == pytest.approx(expected, abs=1e-12)


def test_membership_auc_and_closer_share_match_direct_computations(splits):
    train, test, holdout = splits
    results, _ = run(test, holdout, train, names=("membership_auc", "dcr_closer_share"))
    # the attack: training individuals (members) nearer a synthetic individual than others
    members, others = nearest(train.dosages, holdout.dosages, False), nearest(
        test.dosages, holdout.dosages, False)
    labels = np.r_[np.ones(members.size), np.zeros(others.size)]
    assert results["membership_auc"].value == pytest.approx(
        roc_auc_score(labels, -np.r_[members, others]), abs=1e-12)
    # share of synthetic individuals unusually close to the training set (distance to it over
    # distance to the holdout at most the holdout individuals' 5th percentile of that ratio)
    # less the share unusually close to the holdout (the same with the roles swapped)
    def nearest_in(data, other):
        d = cdist(data.dosages, other.dosages, "sqeuclidean")
        if data is other:
            np.fill_diagonal(d, np.inf)
        return np.sqrt(d.min(1))

    # (identical individuals within a set: ratios as distance_ratios defines them)
    test_ratio = distance_ratios(nearest_in(test, train), nearest_in(test, test))
    train_ratio = distance_ratios(nearest_in(train, test), nearest_in(train, train))
    to_train, to_test = nearest_in(holdout, train), nearest_in(holdout, test)
    near_train = np.mean(to_train <= np.percentile(test_ratio, 5) * to_test)
    near_test = np.mean(to_test <= np.percentile(train_ratio, 5) * to_train)
    assert results["dcr_closer_share"].value == pytest.approx(near_train - near_test, abs=1e-12)
    assert results["dcr_closer_share"].curves == {"near_train": [pytest.approx(near_train)],
                                                  "near_holdout": [pytest.approx(near_test)]}


def test_holdout_sits_where_unseen_data_sits(splits):
    """Held-out real individuals as the synthetic set: what the reference row gives."""
    train, test, holdout = splits
    results, _ = run(test, holdout, train)
    assert results["privacy_loss"].value == pytest.approx(0.0, abs=0.1)
    assert results["aats_train"].value == pytest.approx(0.5, abs=0.1)
    assert results["dcr"].value == pytest.approx(1.0, abs=0.1)
    assert results["dcr_closer_share"].value == pytest.approx(0.0, abs=0.06)
    assert results["membership_auc"].value == pytest.approx(0.5, abs=0.1)
    assert results["exact_copies"].value < 0.05


def test_copy_of_training_set_is_caught(splits):
    train, test, _ = splits
    copy = train.with_dosages(train.dosages.copy())
    results, _ = run(test, copy, train)
    # every synthetic individual sits on a training one: every gate is far from the holdout's
    assert results["aats_train"].value < 0.1
    assert results["privacy_loss"].value > 0.3
    assert results["privacy_loss"].curves["aats_train"][0] < 0.1
    assert results["dcr"].value == 0.0
    assert results["dcr_closer_share"].value > 0.9
    assert results["exact_copies"].value == 1.0
    assert results["kinship"].value == 1.0
    assert results["membership_auc"].value > 0.9
    # against unseen individuals the copies look like any other sample: AATS against the test
    # split is resemblance (a structure metric), and cannot see the copying
    context = EvaluationContext(real=test, synthetic=copy, train=train)
    resemblance, _ = evaluate(context, [structure.AATSMetric()])
    assert resemblance["aats"].value == pytest.approx(0.5, abs=0.1)


def test_closer_than_holdout_tells_central_individuals_from_near_copies():
    """Individuals near the middle of the population are near every real set, not only the
    training one: the gate reads them as no leak (an undertrained GAN's individuals), while
    copies with a few SNPs redrawn stay unusually close to the training split alone.

    Real sets of independent SNPs (frequency 0.5, so two individuals differ by about 1 per SNP
    squared): an individual heterozygous everywhere differs from each by about 0.5, far nearer
    than any real individual's nearest neighbour."""
    rng = np.random.default_rng(3)
    n, m = 150, 2000

    def individuals(dosages):
        return GenotypeData(dosages.astype(np.int8), np.arange(1, m + 1), "1",
                            [f"snp{j}" for j in range(m)], [f"i{i}" for i in range(len(dosages))])

    train, test = (individuals(rng.binomial(2, 0.5, (n, m))) for _ in range(2))

    def redrawn(base, share):
        out = base.copy()
        mask = rng.random(out.shape) < share
        out[mask] = rng.binomial(2, 0.5, out.shape)[mask]
        return individuals(out)

    heterozygous = np.ones((n, m), dtype=np.int8)
    for share in (0.02, 0.2):
        results, _ = run(test, redrawn(heterozygous, share), train, names=("dcr_closer_share",))
        # central: nearer every real set than real individuals are, and about as near to one
        # as to the other: not a near-copy of anyone (the distance form read near_train 1.0)
        assert results["dcr_closer_share"].curves["near_train"][0] < 0.1
        assert abs(results["dcr_closer_share"].value) <= 0.05
    copies = train.dosages[rng.integers(0, n, n)]
    results, _ = run(test, redrawn(copies, 0.05), train, names=("dcr_closer_share",))
    assert results["dcr_closer_share"].value > 0.9


def test_closer_than_holdout_reads_typical_individuals_alike_on_any_holdout(splits):
    """Individuals drawn SNP by SNP from training genotype frequencies sharpened towards each
    SNP's commonest genotype know no training individual; they sit at about one distance from
    every real set, which a gate comparing distances with split-specific thresholds read as a
    leak on one split and as the opposite on another."""
    train, test, holdout = splits
    rng = np.random.default_rng(5)
    frequencies = np.stack([(train.dosages == g).mean(0) for g in (0, 1, 2)], 1) + 1e-9
    for temperature in (0.5, 0.7, 0.85):
        p = frequencies ** (1 / temperature)
        cumulative = (p / p.sum(1, keepdims=True)).cumsum(1)
        u = rng.random((100, train.n_snps))[..., None]
        drawn = train.with_dosages((u > cumulative[None, :, :2]).sum(2).astype(np.int8))
        for real in (test, holdout):
            results, _ = run(real, drawn, train, names=("dcr_closer_share",))
            assert abs(results["dcr_closer_share"].value) <= 0.05, temperature


def test_distance_ratios_of_identical_individuals():
    """A twin in the own set (own distance 0) is never unusually close to the other set; a
    twin in both sets has ratio 1."""
    ratios = distance_ratios(np.array([2.0, 0.0, 3.0]), np.array([4.0, 0.0, 0.0]))
    assert ratios[0] == 0.5 and ratios[1] == 1.0 and ratios[2] >= 1e6


def test_sizes_are_equalised_by_a_fixed_subsample(splits):
    train, test, holdout = splits
    small = holdout.take_samples(np.arange(150))
    first, context = run(test, small, train)
    again, _ = run(test, small, train)
    for name in NAMES:
        assert first[name].value == again[name].value, name
    assert -1 <= first["privacy_loss"].value <= 1
    # the training split is cut to the same size: both AATS compare 150 against 150
    assert "150 individuals" in first["privacy_loss"].note
    _, context = run(test, small, train, names=("privacy_loss",))
    within = [key for key in context._cache if "/within/" in key]
    assert within and all(":150/" in key for key in within)
    # AATS against the training split reads the whole split: its value is not 0.5 at
    # unequal sizes, which is why the gate compares it with the reference's
    assert "200 training and 150 synthetic" in first["aats_train"].note
    # the option subsample_seed picks another, equally fixed, subsample
    reseeded = EvaluationContext(real=test, synthetic=small, options={"subsample_seed": 7})
    assert privacy.subsample(reseeded, "real", 150).shape == (150, test.n_snps)
    assert not np.array_equal(privacy.subsample(reseeded, "real", 150),
                              privacy.subsample(context, "real", 150))
    np.testing.assert_array_equal(privacy.subsample(context, "synthetic", 150), small.dosages)


def test_distances_are_shared_through_the_cache(splits, monkeypatch):
    train, test, holdout = splits
    calls = []
    for name in ("knn_distances", "cross_neighbours"):
        original = getattr(kernels, name)

        def counting(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(kernels, name, counting)
    results, context = run(test, holdout, train, distance="manhattan")
    assert all(results[name].value is not None for name in NAMES)
    # within: real, synthetic, train; across: real-synthetic (privacy loss and the
    # membership attack's held-out side), train-synthetic (AATS against train, DCR, copies,
    # kinship, the attack's members), train-real (the holdout's DCR and kinship)
    assert sorted(calls) == ["cross_neighbours"] * 3 + ["knn_distances"] * 3
    searches = [key for key in context._cache if key.startswith("neighbours/")]
    assert len(searches) == 6 and all(k.startswith("neighbours/manhattan/") for k in searches)


def test_missing_train_and_bad_options_give_a_note(splits):
    train, test, holdout = splits
    results, _ = run(test, holdout)
    for name in NAMES:
        assert results[name].value is None and "training split" in results[name].note, name
    results, _ = run(test, holdout, train, names=("aats_train",), distance="cosine")
    assert results["aats_train"].value is None and "distance" in results["aats_train"].note


def test_dcr_compares_synthetic_with_the_holdout(splits):
    train, test, holdout = splits
    results, _ = run(test, holdout, train, names=("dcr",))
    assert results["dcr"].value == pytest.approx(1.0, abs=0.1)
    model = NearestNeighbors(n_neighbors=1).fit(train.dosages)
    synthetic_dcr = model.kneighbors(holdout.dosages)[0][:, 0]
    holdout_dcr = model.kneighbors(test.dosages)[0][:, 0]
    assert results["dcr"].value == pytest.approx(
        np.median(synthetic_dcr) / np.median(holdout_dcr), rel=1e-9)
    curves = results["dcr"].curves
    assert len(curves["synthetic"]) == len(curves["holdout"]) == 101
    assert curves["holdout"][50] == pytest.approx(np.median(holdout_dcr), rel=1e-9)
    # half of the synthetic individuals copied from the training set
    half = holdout.with_dosages(np.vstack([train.dosages[:150], holdout.dosages[150:]]))
    copied, _ = run(test, half, train, names=("dcr", "exact_copies"))
    assert copied["dcr"].value == 0.0
    assert copied["exact_copies"].value == pytest.approx(0.75)
    assert "150 of 200" in copied["exact_copies"].note


def test_exact_copies_need_every_snp(splits):
    train, test, holdout = splits
    near = train.dosages[:10].copy()
    near[:, 0] = (near[:, 0] + 1) % 3  # one SNP off: not a copy
    synthetic = holdout.with_dosages(np.vstack([near, train.dosages[10:20],
                                                holdout.dosages[20:]]))
    results, _ = run(test, synthetic, train, names=("exact_copies",))
    # a short coalescent region: a holdout individual may carry a training genotype too
    identical = (kernels.pairwise_distances(synthetic.dosages, train.dosages) == 0).any(axis=1)
    assert not identical[:10].any() and identical[10:20].all()
    assert results["exact_copies"].value == pytest.approx(identical.mean())


def pedigree(n=100, m=3000, seed=0):
    """Unlinked SNPs: a training set, a test set, and synthetic individuals of whom the
    first is a training individual's duplicate, the second its child, the third a grandchild
    (one fresh parent each generation), the rest unrelated."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.1, 0.9, m)

    def founders(k):
        return (rng.random((k, 2, m)) < p).astype(np.int8)

    def child(a, b):  # one haplotype from each parent, one allele per SNP
        pick = rng.integers(0, 2, (2, m))
        return np.stack([a[pick[0], np.arange(m)], b[pick[1], np.arange(m)]])

    train, test, synthetic = founders(n), founders(n), founders(n)
    synthetic[0] = train[0]
    synthetic[1] = child(train[1], founders(1)[0])
    synthetic[2] = child(child(train[2], founders(1)[0]), founders(1)[0])

    def data(haplotypes, prefix):
        return GenotypeData(haplotypes.sum(axis=1), np.arange(1, m + 1) * 1000, "1",
                            [f"s{j}" for j in range(m)], [f"{prefix}{i}" for i in range(n)])

    return data(train, "t"), data(test, "r"), data(synthetic, "s")


def test_kinship_counts_relatives_in_train():
    train, test, synthetic = pedigree()
    results, context = run(test, synthetic, train, names=("kinship",))
    result = results["kinship"]
    phi = kernels.king_kinship(train.dosages, synthetic.dosages)
    assert phi[0, 0] == 0.5
    assert 0.177 < phi[1, 1] <= 0.354 and 0.0884 < phi[2, 2] <= 0.177
    assert result.value == pytest.approx(3 / 100)
    assert [result.curves[f"synthetic_{degree}"] for degree in kernels.KING_THRESHOLDS] == [
        [1], [1], [1]]
    assert [result.curves[f"holdout_{degree}"] for degree in kernels.KING_THRESHOLDS] == [
        [0], [0], [0]]
    assert "synthetic 1 duplicate, 1 first-degree, 1 second-degree" in result.note
    assert result.curves["synthetic_max_kinship"][-1] == 0.5
    assert neighbours.to_train(context, "synthetic").kinship is not None
