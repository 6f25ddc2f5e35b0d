"""Phenotype simulation: the trait table, the additive model, the stored truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genobench.data import GenotypeData
from genobench.errors import DataError, SpecError
from genobench.suites import load_spec, materialize, parse_spec
from genobench.traits import (
    TraitSpec,
    causal_index,
    phenotypes_from_truth,
    simulate_traits,
    truth_from_info,
    validate_traits,
)

HEIGHT = dict(name="height", n_causal=200, h2=0.5, effects="normal", alpha=-0.25, mean=163.0,
              sd=6.5, covariates={"sex": 13.0})
SEX = dict(name="sex", kind="binary", prevalence=0.5)


@pytest.fixture(scope="module")
def population() -> GenotypeData:
    """4,000 individuals x 3,000 unlinked sites with a spread of allele frequencies."""
    rng = np.random.default_rng(11)
    n, m = 4000, 3000
    p = rng.beta(0.4, 1.2, m) * 0.98 + 0.005
    p32 = p.astype(np.float32)
    dosages = ((rng.random((n, m), dtype=np.float32) < p32).astype(np.int8)
               + (rng.random((n, m), dtype=np.float32) < p32))
    positions = np.arange(1, m + 1) * 1_000
    return GenotypeData(dosages, positions, "1", [f"1:{x}" for x in positions],
                        [f"i{i}" for i in range(n)])


def test_realized_heritability_is_near_the_target(population):
    data, extra = simulate_traits(population, [SEX, HEIGHT], seed=3)
    truth = extra["traits"]["height"]
    assert data.trait_names == ["sex", "height"]
    assert truth["realized_h2"] == pytest.approx(0.5, abs=0.04)
    # The genetic value rebuilt from the stored causal variants explains h2 of the variance
    # left after the covariate.
    index, on_panel = causal_index(data, truth)
    assert on_panel.all() and index.size == 200
    g = data.dosages[:, index].astype(float) @ np.asarray(truth["causal"]["effect"])
    y = data.phenotypes["height"].to_numpy() - 13.0 * data.phenotypes["sex"].to_numpy()
    assert np.var(g) / np.var(y) == pytest.approx(0.5, abs=0.04)
    assert np.var(y) == pytest.approx(6.5 ** 2, rel=0.08)
    residual = y - g - truth["intercept"]
    assert residual.std() == pytest.approx(truth["noise_sd"], rel=0.05)


def test_binary_covariate_and_its_effect(population):
    data, extra = simulate_traits(population, [SEX, HEIGHT], seed=4)
    sex = data.phenotypes["sex"].to_numpy()
    height = data.phenotypes["height"].to_numpy()
    assert set(np.unique(sex)) == {0.0, 1.0}
    assert sex.mean() == pytest.approx(0.5, abs=0.03)
    assert height[sex == 1].mean() - height[sex == 0].mean() == pytest.approx(13.0, abs=0.8)
    assert height[sex == 0].mean() == pytest.approx(163.0, abs=0.6)
    assert extra["traits"]["sex"] == dict(kind="binary", n_causal=0, prevalence=0.5,
                                          realized_prevalence=pytest.approx(sex.mean()))


def test_effect_distribution_and_maf_dependence(population):
    many = dict(name="t", n_causal=2000, h2=0.5)
    normal = simulate_traits(population, [dict(many, alpha=0.0)], seed=5)[1]["traits"]["t"]
    laplace = simulate_traits(population, [dict(many, effects="laplace", alpha=0.0)],
                              seed=5)[1]["traits"]["t"]
    standardized = simulate_traits(population, [dict(many, alpha=-1.0)], seed=5)[1]["traits"]["t"]

    def excess_kurtosis(trait):
        e = np.asarray(trait["causal"]["effect"])
        return float(((e - e.mean()) ** 4).mean() / e.var() ** 2 - 3)

    assert abs(excess_kurtosis(normal)) < 0.6
    assert excess_kurtosis(laplace) > 1.5
    # alpha = -1: |beta| ~ 1 / sqrt(p(1-p)), rarer alleles have larger effects
    p = np.asarray(standardized["causal"]["frequency"])
    spread = np.log(p * (1 - p))
    assert np.corrcoef(spread, np.log(np.abs(standardized["causal"]["effect"])))[0, 1] < -0.3
    assert abs(np.corrcoef(np.log(p * (1 - p)),
                           np.log(np.abs(normal["causal"]["effect"])))[0, 1]) < 0.1


def test_liability_threshold_binary_trait(population):
    trait = dict(name="disease", kind="binary", n_causal=100, h2=0.4, prevalence=0.2)
    data, extra = simulate_traits(population, [trait], seed=6)
    truth = extra["traits"]["disease"]
    assert data.phenotypes["disease"].mean() == pytest.approx(0.2, abs=0.03)
    assert truth["realized_h2"] == pytest.approx(0.4, abs=0.05)
    assert truth["threshold"] == pytest.approx(0.8416, abs=1e-3)


def test_same_seed_same_traits_and_truth_is_json(population):
    first = simulate_traits(population, [SEX, HEIGHT], seed=9)
    second = simulate_traits(population, [SEX, HEIGHT], seed=9)
    other = simulate_traits(population, [SEX, HEIGHT], seed=10)
    assert first[0].phenotypes.equals(second[0].phenotypes)
    assert first[1] == second[1]
    assert not first[0].phenotypes.equals(other[0].phenotypes)
    assert json.loads(json.dumps(first[1], allow_nan=False)) == first[1]


def test_phenotypes_from_truth_needs_every_causal_variant(population):
    data, extra = simulate_traits(population, [SEX, HEIGHT], seed=12)
    truth = truth_from_info(extra)
    again = phenotypes_from_truth(data, truth, seed=1)
    assert list(again.columns) == ["sex", "height"]
    # same genetic values, fresh noise and fresh sex: the heritable part correlates
    height = extra["traits"]["height"]
    index, _ = causal_index(data, height)
    g = data.dosages[:, index].astype(float) @ np.asarray(height["causal"]["effect"])
    adjusted = again["height"] - 13.0 * again["sex"]
    assert np.corrcoef(g, adjusted)[0, 1] == pytest.approx(np.sqrt(0.5), abs=0.05)
    missing_one = np.setdiff1d(np.arange(data.n_snps), index[:1])
    assert phenotypes_from_truth(data.take_snps(missing_one), truth, seed=1) is None
    assert truth_from_info({"n_snps": 3}) is None


def test_too_many_causal_variants_is_a_clear_error(population):
    with pytest.raises(DataError, match="n_causal 5000 is more than the 3000 segregating"):
        simulate_traits(population, [dict(name="t", n_causal=5000, h2=0.5)], seed=1)
    with pytest.raises(DataError, match="MAF >= 0.45"):
        simulate_traits(population, [dict(name="t", n_causal=2000, h2=0.5, causal_maf=0.45)],
                        seed=1)


SUITE = """\
name = "s"
[source]
kind = "stdpopsim"
species = "HomSap"
model = "OutOfAfrica_3G09"
chromosomes = ["chr22"]
left = 30_000_000
right = 30_500_000
samples = { CEU = 40 }
"""


@pytest.mark.parametrize("tables, message", [
    ('[[traits]]\nname = "h"\nn_causal = 5\nh2 = 1.5\n',
     "x.toml: traits.0.h2: Input should be less than 1"),
    ('[[traits]]\nname = "h"\nn_causal = 5\nh2 = 0.5\nheritability = 0.5\n',
     "x.toml: unknown key traits.0.heritability"),
    ('[[traits]]\nname = "h"\nn_causal = 5\n',
     "x.toml: traits.0: trait 'h': missing required key h2"),
    ('[[traits]]\nname = "h"\nh2 = 0.3\n',
     "traits.0: trait 'h': n_causal must be at least 1"),
    ('[[traits]]\nname = "h"\nn_causal = 5\nh2 = 0.5\neffects = "cauchy"\n',
     "x.toml: traits.0.effects: Input should be 'normal', 'laplace' or 'equal'"),
    ('[[traits]]\nname = "h"\nkind = "ordinal"\n', "traits.0.kind: Input should be"),
    ('[[traits]]\nname = "sex"\nkind = "binary"\nsd = 2.0\n',
     "traits.0: trait 'sex': key sd applies to quantitative traits only"),
    ('[[traits]]\nname = "d"\nkind = "binary"\nn_causal = 4\n',
     "trait 'd': a binary trait takes n_causal and h2 together"),
    ('[[traits]]\nname = "h"\nn_causal = 5\nh2 = 0.5\ncovariates = { sex = 1.0 }\n',
     "x.toml: traits: trait 'h': covariates.sex: no trait named 'sex'"),
    ('[[traits]]\nname = "a"\nn_causal = 5\nh2 = 0.5\n[[traits]]\nname = "h"\nn_causal = 5\n'
     'h2 = 0.5\ncovariates = { a = 1.0 }\n',
     "covariates.a: a covariate must be a binary trait"),
    ('[[traits]]\nname = "h"\nn_causal = 5\nh2 = 0.5\n[[traits]]\nname = "h"\nkind = "binary"\n',
     "x.toml: traits: trait name 'h' is declared twice"),
    ('[[traits]]\nname = "my trait"\nn_causal = 5\nh2 = 0.5\n', "traits.0.name: String should"),
    ('[[traits]]\nn_causal = 5\nh2 = 0.5\n', "x.toml: missing required key traits.0.name"),
])
def test_trait_table_errors_name_the_key(tables, message):
    with pytest.raises(SpecError) as error:
        parse_spec(SUITE + tables, where="x.toml")
    assert message in str(error.value)


def test_validate_traits_outside_a_suite():
    specs = validate_traits([SEX, HEIGHT, TraitSpec(name="w", n_causal=1, h2=0.1)])
    assert [s.name for s in specs] == ["sex", "height", "w"] and specs[1].genetic
    with pytest.raises(SpecError, match=r"traits\.1\.h2"):
        validate_traits([SEX, dict(HEIGHT, h2=0.0)])


def test_suite_with_traits_stores_the_truth(write_suite):
    text = SUITE + """\
[panel]
maf = 0.05
[split]
train = 0.5
validation = 0.25
test = 0.25
[[traits]]
name = "sex"
kind = "binary"
[[traits]]
name = "height"
n_causal = 10
h2 = 0.7
covariates = { sex = 10.0 }
"""
    spec = load_spec(write_suite(text))
    assert spec.traits[1] == dict(name="height", n_causal=10, h2=0.7, covariates={"sex": 10.0})
    suite = materialize(spec)
    truth = suite.info["traits"]["height"]
    assert len(truth["causal"]["position"]) == 10 and truth["covariates"] == {"sex": 10.0}
    for split in (suite.train, suite.validation, suite.test):
        assert split.trait_names == ["sex", "height"]
    cached = materialize(spec)
    assert cached.info["cached"] and cached.info["traits"] == suite.info["traits"]
    # the cache keeps phenotypes as JSON text (10 significant digits)
    np.testing.assert_allclose(cached.test.phenotypes, suite.test.phenotypes, rtol=1e-9)
    # causal variants come from all segregating sites, so few sit on the MAF-filtered panel
    _, on_panel = causal_index(suite.test, truth)
    assert on_panel.sum() < 10
