"""Suite specs: validation errors that name file, key and expectation; panels; splits; cache."""

# ruff: noqa: E501 -- tables of cases read best one case per line

from __future__ import annotations

import numpy as np
import pytest
from conftest import TINY_SUITE

from genobench import SpecError
from genobench.suites import cache_key, load_spec, materialize, parse_spec


def test_bundled_suites_validate():
    from pathlib import Path

    suites = sorted((Path(__file__).parent.parent / "suites").glob("*.toml"))
    assert suites
    for path in suites:
        spec = load_spec(path)
        assert spec.name == path.stem


BAD_SPECS = [
    ("name = 'x'\n[source\nkind='stdpopsim'", "not valid TOML"),
    ("colour = 'red'\n" + TINY_SUITE, "unknown key colour"),
    (TINY_SUITE + "\ncolour = 'red'\n", r"unknown key \[run\] colour"),
    (TINY_SUITE.replace("maf = 0.05", "maf = 0.7"), r"\[panel\] maf: Input should be less than 0.5 \(got 0.7\)"),
    (TINY_SUITE.replace("maf = 0.05", "maf = 'high'"), r"\[panel\] maf: Input should be a valid number"),
    (TINY_SUITE.replace("n_snps = 200", "n_snps = -5"), r"\[panel\] n_snps: Input should be greater than 0"),
    (TINY_SUITE.replace("n_snps = 200", "n_snps = 200\ndensity = 3"), "give n_snps or density, not both"),
    (TINY_SUITE + "\n[split]\ntrain = 0.9\nvalidation = 0.2\ntest = 0.2\n", "must be 1, got 1.3"),
    (TINY_SUITE + "\n[split]\nreference_draws = 0\n", r"\[split\] reference_draws: Input should be greater than or equal to 1 \(got 0\)"),
    (TINY_SUITE.replace('kind = "stdpopsim"', 'kind = "nowhere"'), r"\[source\] kind: unknown suite source 'nowhere'"),
    (TINY_SUITE.replace('species = "HomSap"\n', ""), r"missing required key \[source\] species"),
    (TINY_SUITE.replace('model = "OutOfAfrica_3G09"', 'model = "OutOfAfrica_3G09"\nmap = "HapMapII_GRCh38"'), r"unknown key \[source\] map"),
    (TINY_SUITE.replace("left = 30_000_000", "left = 32_000_000"), r"right \(31000000\) must be greater than left \(32000000\)"),
    (TINY_SUITE.replace("seeds = [1]", "seeds = []"), r"\[run\] seeds: List should have at least 1 item"),
    (TINY_SUITE.replace("seeds = [1]", "profile = 'huge'"), r"\[run\] profile: expected one of quick, standard, paper"),
    (TINY_SUITE.replace("CEU = 90", "CEU = 0"), r"\[source\] samples.CEU: Input should be greater than 0"),
]


@pytest.mark.parametrize("text, message", BAD_SPECS)
def test_bad_spec_names_file_key_and_expectation(write_suite, text, message):
    path = write_suite(text, name="broken.toml")
    with pytest.raises(SpecError, match=message) as error:
        load_spec(path)
    assert str(error.value).startswith(str(path))
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("replace, message", [
    (('species = "HomSap"', 'species = "Martian"'), "unknown stdpopsim species 'Martian'"),
    (('model = "OutOfAfrica_3G09"', 'model = "Nope"'), "'Nope' is not a HomSap demographic model"),
    (('chromosomes = ["chr22"]', 'chromosomes = ["chr99"]'), "'chr99' is not a HomSap chromosome"),
    (("CEU = 90", "ABC = 90"), "population 'ABC' is not in model OutOfAfrica_3G09"),
    (("right = 31_000_000", "right = 99_000_000"), "beyond the end of 22"),
])
def test_impossible_simulation_settings(write_suite, replace, message):
    path = write_suite(TINY_SUITE.replace(*replace), name="impossible.toml")
    with pytest.raises(SpecError, match=message) as error:
        load_spec(path)
    assert str(error.value).startswith(f"{path}: [source] ")


def test_missing_suite_file(tmp_path):
    with pytest.raises(SpecError, match="suite file does not exist"):
        load_spec(tmp_path / "nope.toml")
    with pytest.raises(SpecError, match="is a folder"):
        load_spec(tmp_path)


def test_materialize_builds_panel_and_stratified_splits(tiny_suite_file):
    suite = materialize(load_spec(tiny_suite_file), refresh=True)
    assert suite.info["cached"] is False
    assert suite.train.n_snps == 200
    sizes = {k: getattr(suite, k).n_samples for k in ("train", "validation", "test")}
    assert sizes == {"train": 72, "validation": 24, "test": 24}
    # the reference set: 3 disjoint draws of the test split's size, simulated on top of the
    # 120 individuals (1 + 3 x 0.2 times as many), so the split sizes are unchanged
    draws = suite.reference_draws
    assert [draw.n_samples for draw in draws] == [24, 24, 24]
    assert suite.reference.n_samples == 72 and suite.reference.n_snps == 200
    parts = (suite.train, suite.validation, suite.test, *draws)
    for split in parts:
        assert set(split.populations) == {"CEU", "YRI"}
    # the panel's MAF filter applies to every individual simulated, reference included
    pooled = np.concatenate([split.dosages for split in parts])
    frequency = pooled.mean(axis=0) / 2
    assert np.minimum(frequency, 1 - frequency).min() >= 0.05
    assert np.all(np.diff(suite.train.positions) > 0)
    assert 30_000_000 < suite.train.positions.min() and suite.train.positions.max() <= 31_000_000
    ids = [i for split in parts for i in split.sample_ids]
    assert len(ids) == len(set(ids)) == 192


def test_second_materialize_reuses_the_cache(tiny_suite_file):
    spec = load_spec(tiny_suite_file)
    first = materialize(spec)
    second = materialize(spec)
    assert second.info["cached"] is True
    assert np.array_equal(first.test.dosages, second.test.dosages)
    assert np.array_equal(first.reference.dosages, second.reference.dosages)
    assert [d.n_samples for d in second.reference_draws] == [24, 24, 24]


def test_cache_key_follows_data_not_run_settings():
    base = parse_spec(TINY_SUITE)
    assert cache_key(base) == cache_key(parse_spec(TINY_SUITE.replace("seeds = [1]", "seeds = [1, 2]")))
    assert cache_key(base) != cache_key(parse_spec(TINY_SUITE.replace("seed = 7", "seed = 8")))
    assert cache_key(base) != cache_key(parse_spec(TINY_SUITE.replace("n_snps = 200", "n_snps = 150")))


def test_same_spec_same_data_across_processes(tiny_suite_file, tmp_path, monkeypatch):
    spec = load_spec(tiny_suite_file)
    first = materialize(spec)
    monkeypatch.setenv("GENOBENCH_CACHE", str(tmp_path / "fresh"))
    again = materialize(spec)
    assert again.info["cached"] is False
    assert np.array_equal(first.train.dosages, again.train.dosages)
