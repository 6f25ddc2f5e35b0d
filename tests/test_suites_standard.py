"""The standard suites in suites/: every file validates, the designs hold (50K-chip cow panels,
mostly-European human samples), the quick suites and whole chromosomes materialize, joined
suites, the size option, and the commands users run on them (prepare, run with a shell glob).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import stdpopsim

from genobench import SpecError
from genobench.suites import SIZE_ENV, apply_size, cache_key, load_spec, materialize

ROOT = Path(__file__).resolve().parent.parent
SUITES = ROOT / "suites"
COW = [f"cow_chr{c}" for c in range(1, 30)]
HUMAN = [f"human_chr{c}" for c in range(1, 23)]


def spec(name):
    return load_spec(SUITES / f"{name}.toml")


def test_every_standard_suite_exists_and_validates():
    stems = {path.stem for path in SUITES.glob("*.toml")}
    expected = set(COW + HUMAN) | {"cow_all", "human_multi", "quick_cow", "quick_human"}
    assert expected <= stems, sorted(expected - stems)
    for name in sorted(expected):
        assert spec(name).name == name


def test_cow_panels_are_a_50k_chip_split_by_chromosome_length():
    lengths = {c.id: c.length for c in stdpopsim.get_species("BosTau").genome.chromosomes}
    counts = {}
    for name in COW:
        suite = spec(name)
        assert suite.source["species"] == "BosTau"
        assert suite.source["model"] == "HolsteinFriesian_1M13"
        assert suite.source["samples"] == spec("cow_chr1").source["samples"]
        assert suite.panel.maf == 0.01 and suite.source.get("left") is None
        counts[suite.source["chromosomes"][0]] = suite.panel.n_snps
    assert sum(counts.values()) == pytest.approx(50_161, abs=15)  # the paper's chip
    per_mb = np.array([counts[c] / lengths[c] * 1e6 for c in counts])
    assert per_mb.max() / per_mb.min() < 1.01  # proportional to length
    for chromosome, paper in (("1", 3_121), ("5", 2_238), ("14", 1_771)):
        assert counts[chromosome] == pytest.approx(paper, rel=0.1)


def test_human_suites_are_mostly_european_at_array_density():
    for name in HUMAN:
        suite = spec(name)
        samples = suite.source["samples"]
        assert suite.source["model"] == "OutOfAfrica_3G09"
        assert set(samples) == {"CEU", "YRI", "CHB"}
        assert samples["CEU"] > sum(samples.values()) / 2
        assert samples == spec("human_chr22").source["samples"]
        assert suite.panel.density == 120 and suite.panel.maf == 0.01


def test_standard_suites_carry_traits_of_known_architecture():
    for name in COW + ["cow_all"]:
        (fat,) = spec(name).traits
        assert fat["name"] == "fat_content" and fat["kind"] == "quantitative"
        assert 0 < fat["h2"] < 1
    for name in HUMAN + ["human_multi"]:
        sex, height = spec(name).traits
        assert (sex["name"], sex["kind"], height["name"]) == ("sex", "binary", "height")
        assert height["covariates"] == {"sex": 13.0}
    # causal variants scale with the chromosome: more on chr1 than on chr21
    assert spec("human_chr1").traits[1]["n_causal"] > 3 * spec("human_chr21").traits[1]["n_causal"]


def test_joined_suites_list_their_chromosome_suites():
    assert spec("cow_all").source["suites"] == [f"{name}.toml" for name in COW]
    members = spec("human_multi").source["suites"]
    assert len(members) >= 2 and all((SUITES / m).is_file() for m in members)


# -- the size option -------------------------------------------------------------------------

def test_named_size_sets_the_papers_samples():
    cow = apply_size(spec("cow_chr25"), "paper")
    assert cow.source["samples"] == {"Holstein_Friesian": 93_484}
    human = apply_size(spec("human_chr22"), "paper")
    assert sum(human.source["samples"].values()) == 291_023  # UK Biobank in the paper
    quick = spec("quick_human")
    assert apply_size(quick, "paper").source == quick.source  # no paper size: unchanged
    assert apply_size(quick, "default") is quick


def test_numeric_size_multiplies_every_population():
    human = apply_size(spec("human_chr22"), "0.5")
    assert human.source["samples"] == {"CEU": 240, "YRI": 30, "CHB": 30}
    with pytest.raises(SpecError, match="must be positive"):
        apply_size(spec("quick_cow"), "-2")
    with pytest.raises(SpecError, match="expected a size name"):
        apply_size(spec("quick_cow"), "big!")


def test_size_option_of_the_commands(write_suite, monkeypatch):
    from click.testing import CliRunner

    from genobench.cli import main

    monkeypatch.setenv(SIZE_ENV, "default")  # restored (unset) after the test
    path = write_suite(SLICE, name="sized.toml")
    result = CliRunner().invoke(main, ["prepare", "--size", "0.5", str(path)])
    assert result.exit_code == 0, result.output
    assert "train/validation/test 30/10/10 individuals" in result.output  # 100 cows halved
    result = CliRunner().invoke(main, ["prepare", "--size", "huge!", str(path)])
    assert result.exit_code == 1 and "expected a size name" in result.output


def test_size_environment_variable_reaches_parsing_and_the_cache_key(monkeypatch):
    default = spec("cow_all")
    default_key = cache_key(default)
    monkeypatch.setenv(SIZE_ENV, "paper")
    assert spec("cow_chr3").source["samples"] == {"Holstein_Friesian": 93_484}
    assert cache_key(spec("cow_all")) != default_key  # joined suites follow their members
    monkeypatch.setenv(SIZE_ENV, "default")
    assert cache_key(spec("cow_all")) == default_key


# -- materializing ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, n_snps", [("quick_cow", 500), ("quick_human", 1000)])
def test_quick_suites_materialize(name, n_snps):
    suite = materialize(spec(name))
    total = suite.train.n_samples + suite.validation.n_samples + suite.test.n_samples
    assert suite.train.n_snps == suite.reference.n_snps == n_snps
    # the splits keep the suite's samples; the reference draws are simulated on top of them
    assert total == sum(suite.spec.source["samples"].values())
    draws = suite.reference_draws
    assert [draw.n_samples for draw in draws] == [suite.test.n_samples] * 3
    # the panel's MAF filter saw every individual simulated, the reference draws included
    pooled = np.concatenate([suite.train.dosages, suite.validation.dosages, suite.test.dosages,
                             suite.reference.dosages])
    frequency = pooled.mean(axis=0) / 2
    assert np.minimum(frequency, 1 - frequency).min() >= 0.01
    assert materialize(spec(name)).info["cached"] is True


def check_whole_chromosome(name, expected_snps, tolerance):
    suite = materialize(spec(name))
    assert suite.train.n_snps == pytest.approx(expected_snps, rel=tolerance)
    positions = suite.train.positions
    assert np.all(np.diff(positions) > 0)
    length = stdpopsim.get_species(suite.spec.source["species"]).genome.get_chromosome(
        suite.spec.source["chromosomes"][0]).length
    assert positions[0] < 0.01 * length and positions[-1] > 0.99 * length  # the whole of it
    gaps = np.diff(positions)
    assert gaps.max() < 20 * length / suite.train.n_snps  # evenly spread, like an array
    traits = [trait["name"] for trait in suite.spec.traits]
    assert list(suite.train.phenotypes.columns) == traits
    assert not suite.test.phenotypes.isna().any().any()
    truth = suite.info["traits"]  # the known architecture, stored with the suite
    assert list(truth) == traits
    for trait in suite.spec.traits:
        if trait["kind"] == "quantitative":
            assert truth[trait["name"]]["n_causal"] == trait["n_causal"]
            assert 0.2 < truth[trait["name"]]["realized_h2"] < 0.9


@pytest.mark.slow
def test_whole_cow_chromosome_materializes():
    """Cow chr25 (the smallest), 1,000 cows: about 20 s of CPU (docs/performance.md)."""
    check_whole_chromosome("cow_chr25", spec("cow_chr25").panel.n_snps, 0.0)


@pytest.mark.slow
def test_whole_human_chromosome_materializes():
    """Human chr21 (the smallest), 600 people, 120 SNPs per Mb: about 20 s of CPU."""
    check_whole_chromosome("human_chr21", 46.7 * 120, 0.02)


def test_whole_chromosome_suites_simulate_in_pieces_and_drop_rare_sites_early():
    for name in COW + HUMAN:
        source = spec(name).source
        assert source["chunk"] == 10_000_000
        assert source["min_maf"] == spec(name).panel.maf


SLICE = textwrap.dedent("""\
    name = "slice"
    seed = 11
    [source]
    kind = "stdpopsim"
    species = "BosTau"
    model = "HolsteinFriesian_1M13"
    chromosomes = ["25"]
    left = 1_000_000
    right = 3_000_000
    samples = { Holstein_Friesian = 100 }
    [panel]
    maf = 0.05
    n_snps = 100
""")


def test_chunked_simulation_covers_the_span_with_the_same_individuals(write_suite):
    whole = materialize(load_spec(write_suite(SLICE, name="whole.toml")))
    pieces = materialize(load_spec(write_suite(
        SLICE.replace("right = 3_000_000", "right = 3_000_000\nchunk = 700_000"),
        name="pieces.toml")))
    positions = pieces.train.positions
    assert 1_000_000 < positions.min() < 1_100_000 and 2_900_000 < positions.max() <= 3_000_000
    for third in range(3):  # 3 pieces of ~667 kb, each simulated and thinned
        low = 1_000_000 + third * 666_667
        assert ((positions > low) & (positions <= low + 666_667)).sum() > 20
    assert sorted(pieces.train.sample_ids) == sorted(whole.train.sample_ids)


def test_dropping_rare_sites_early_leaves_the_suite_unchanged(write_suite):
    plain = materialize(load_spec(write_suite(SLICE, name="plain.toml")))
    early = materialize(load_spec(write_suite(
        SLICE.replace("right = 3_000_000", "right = 3_000_000\nmin_maf = 0.05"),
        name="early.toml")))
    assert early.info["cache_key"] != plain.info["cache_key"]
    for a, b in ((plain.train, early.train), (plain.test, early.test)):
        assert np.array_equal(a.dosages, b.dosages) and np.array_equal(a.positions, b.positions)


MEMBER = textwrap.dedent("""\
    name = "{name}"
    seed = {seed}
    [source]
    kind = "stdpopsim"
    species = "HomSap"
    model = "OutOfAfrica_3G09"
    chromosomes = ["{chromosome}"]
    left = 30_000_000
    right = 30_500_000
    samples = {{ CEU = {ceu}, YRI = 20 }}
    [panel]
    maf = 0.05
    n_snps = 50
""")


def test_joined_suite_puts_chromosomes_side_by_side(write_suite):
    for chromosome, seed in (("chr21", 1), ("chr22", 2)):
        write_suite(MEMBER.format(name=chromosome, seed=seed, chromosome=chromosome, ceu=40),
                    name=f"{chromosome}.toml")
    joined = write_suite("""\
        name = "joined"
        seed = 5
        [source]
        kind = "suites"
        suites = ["chr21.toml", "chr22.toml"]
        [panel]
        maf = 0.05
        """, name="joined.toml")
    suite = materialize(load_spec(joined))
    assert suite.train.n_snps == 100
    assert list(dict.fromkeys(suite.train.chromosomes)) == ["21", "22"]
    member = materialize(load_spec(joined.parent / "chr22.toml"))
    # every individual of the members, reference draws included, is split anew when joined
    parts = ("train", "validation", "test", "reference")
    rows = {sid: row for split in (getattr(member, part) for part in parts)
            for sid, row in zip(split.sample_ids, split.dosages, strict=True)}
    pooled = np.concatenate([getattr(suite, part).sample_ids for part in parts])
    assert sorted(pooled) == sorted(rows)
    # each individual carries its chr22 genotypes from the chr22 suite
    for sid, row in zip(suite.test.sample_ids, suite.test.dosages, strict=True):
        assert np.array_equal(row[50:], rows[sid])
    assert set(suite.train.populations) == {"CEU", "YRI"}
    assert materialize(load_spec(joined)).info["cached"] is True


def test_joined_suite_members_must_share_individuals(write_suite):
    write_suite(MEMBER.format(name="a", seed=1, chromosome="chr21", ceu=40), name="a.toml")
    write_suite(MEMBER.format(name="b", seed=2, chromosome="chr22", ceu=30), name="b.toml")
    joined = write_suite("""\
        name = "joined"
        [source]
        kind = "suites"
        suites = ["a.toml", "b.toml"]
        """, name="joined.toml")
    with pytest.raises(SpecError, match="members must share their individuals"):
        load_spec(joined)
    joined.write_text(joined.read_text().replace('"b.toml"', '"c.toml"'))
    with pytest.raises(Exception, match=r"suite file not found: .*c\.toml"):
        load_spec(joined)


# -- the commands users run ------------------------------------------------------------------

def test_prepare_twice_is_instant_the_second_time():
    from click.testing import CliRunner

    from genobench.cli import main

    quick = [str(SUITES / "quick_cow.toml"), str(SUITES / "quick_human.toml")]
    first = CliRunner().invoke(main, ["prepare", *quick, "-j", "2"])
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(main, ["prepare", *quick, "-j", "2"])
    assert second.exit_code == 0, second.output
    assert second.output.count("(cached)") == 2


def test_run_takes_a_shell_glob_of_suites(tmp_path):
    """`genobench run suites/human_chr*` as a user types it: the shell expands the glob."""
    from conftest import TINY_SUITE

    folder = tmp_path / "suites"
    folder.mkdir()
    for name in ("tiny_a", "tiny_b"):
        (folder / f"{name}.toml").write_text(TINY_SUITE.replace('name = "tiny"',
                                                                f'name = "{name}"'))
    (folder / "left_out.toml").write_text(TINY_SUITE.replace('name = "tiny"', 'name = "left_out"'))
    out = tmp_path / "report"
    command = (f"{sys.executable} -m genobench.cli run suites/tiny_* -g independent_sites "
               f"-m allele_frequency_r --executor inline -q -o {out}")
    done = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr
    board = (out / "leaderboard.md").read_text()
    assert "tiny_a" in board and "tiny_b" in board and "left_out" not in board
