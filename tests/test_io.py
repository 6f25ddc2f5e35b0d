"""Genotype files in and out (genobench/io.py) and suites over them (genobench/sources/files.py).

Each policy of :mod:`genobench.io` for real data has a test here, through a VCF and (where the
format allows the case) a PLINK 1 file: multi-allelic sites, missing genotypes, non-diploid
calls, unsorted positions, sample-id mismatches with a phenotype table, missing files. PLINK 2
cross-checks what we write: it must read the files and agree on every allele frequency.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import require_tool

import genobench
from genobench import DataError, GenotypeData, SpecError, io
from genobench.suites import cache_key, load_spec, materialize

HEADER = textwrap.dedent("""\
    ##fileformat=VCFv4.2
    ##contig=<ID=1>
    ##contig=<ID=2>
    ##contig=<ID=chr3>
    ##contig=<ID=X>
    ##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
    #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\ts2\ts3\ts4\ts5
""")


def vcf_file(tmp_path: Path, *records: str, name: str = "in.vcf") -> Path:
    """A VCF with samples s1..s5; records are whitespace-separated columns."""
    lines = ["\t".join(record.split()) for record in records]
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(lines) + "\n")
    return path


def read_quietly(reader, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", io.InputWarning)
        return reader(*args, **kwargs)


@pytest.fixture
def data() -> GenotypeData:
    """60 individuals x 80 SNPs on chromosomes 2 and 10, frequencies spread over (0, 1)."""
    rng = np.random.default_rng(3)
    frequencies = rng.uniform(0.05, 0.95, size=80)
    dosages = rng.binomial(2, frequencies, size=(60, 80)).astype(np.int8)
    chromosomes = np.array(["2"] * 50 + ["10"] * 30)
    positions = np.concatenate([np.sort(rng.choice(10**6, 50, replace=False)),
                                np.sort(rng.choice(10**6, 30, replace=False))]) + 1
    snp_ids = np.array([f"rs{i}" for i in range(80)])
    samples = np.array([f"cow{i:03d}" for i in range(60)])
    return GenotypeData(dosages, positions, chromosomes, snp_ids, samples)


def assert_same(a: GenotypeData, b: GenotypeData):
    assert np.array_equal(a.dosages, b.dosages)
    assert np.array_equal(a.positions, b.positions)
    assert a.chromosomes.tolist() == b.chromosomes.tolist()
    assert a.snp_ids.tolist() == b.snp_ids.tolist()
    assert a.sample_ids.tolist() == b.sample_ids.tolist()


# -- round trips -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["out.vcf", "out.vcf.gz", "out.bed"])
def test_write_then_read_gives_the_same_data(tmp_path, data, name):
    path = io.write_genotypes(data, tmp_path / name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", io.InputWarning)  # clean data: nothing to report
        again = io.read_genotypes(path)
    assert_same(data, again)


def test_vcf_gz_is_bgzf_that_gzip_and_htslib_read(tmp_path, data):
    plain = io.write_vcf(data, tmp_path / "a.vcf")
    packed = io.write_vcf(data, tmp_path / "a.vcf.gz")
    raw = packed.read_bytes()
    assert raw[12:16] == b"BC\x02\x00"  # the BGZF extra field of the first block
    assert raw.endswith(bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000"))
    assert gzip.decompress(raw) == plain.read_bytes()


def test_alleles_are_written_and_read_back(tmp_path, data):
    letters = np.array([["G", "T"]] * data.n_snps)
    letters[0] = ["AT", "A"]  # an indel is fine
    for name in ("x.vcf.gz", "x.bed"):
        path = io.write_genotypes(data, tmp_path / name, alleles=letters)
        assert io.read_alleles(path, data.snp_ids).tolist() == letters.tolist()
    default = io.write_plink(data, tmp_path / "d")
    bim = pd.read_csv(default.with_suffix(".bim"), sep="\t", header=None)
    assert set(bim[4]) == {"C"} and set(bim[5]) == {"A"}  # allele 1 (counted) = ALT = C


def test_phenotypes_go_to_a_sidecar_table(tmp_path, data):
    traits = pd.DataFrame({"fat": np.linspace(0, 1, data.n_samples)})
    with_traits = GenotypeData(data.dosages, data.positions, data.chromosomes, data.snp_ids,
                               data.sample_ids, phenotypes=traits)
    io.write_plink(with_traits, tmp_path / "p.bed")
    table = io.read_phenotypes(tmp_path / "p.pheno")
    assert table.index.tolist() == data.sample_ids.tolist()
    assert np.allclose(table["fat"], traits["fat"])


# -- PLINK 2 reads what we write -------------------------------------------------------------

def plink2_frequencies(args, out: Path) -> pd.DataFrame:
    plink2 = require_tool("plink2")
    subprocess.run([plink2, *args, "--freq", "--threads", "1", "--out", str(out)], check=True,
                   capture_output=True)
    return pd.read_csv(f"{out}.afreq", sep="\t")


def test_plink2_reads_our_files_and_agrees_on_frequencies(tmp_path, data):
    ours = data.allele_frequencies()
    bed = io.write_plink(data, tmp_path / "g")
    vcf = io.write_vcf(data, tmp_path / "g.vcf.gz")
    from_bed = plink2_frequencies(["--bfile", str(bed.with_suffix(""))], tmp_path / "b")
    from_vcf = plink2_frequencies(["--vcf", str(vcf)], tmp_path / "v")
    for table in (from_bed, from_vcf):
        assert table["ID"].tolist() == data.snp_ids.tolist()
        assert np.all(table["OBS_CT"] == 2 * data.n_samples)
        assert np.abs(table["ALT_FREQS"].to_numpy() - ours).max() < 1e-4


def test_plink2_written_files_read_back(tmp_path, data):
    """The other direction: files PLINK 2 writes (from ours) read back to the same data."""
    plink2 = require_tool("plink2")
    vcf = io.write_vcf(data, tmp_path / "g.vcf.gz")
    subprocess.run([plink2, "--vcf", str(vcf), "--make-bed", "--threads", "1", "--out",
                    str(tmp_path / "p")], check=True, capture_output=True)
    assert_same(data, io.read_plink(tmp_path / "p"))


# -- policies, VCF ---------------------------------------------------------------------------

def test_multi_allelic_sites_are_dropped_and_counted(tmp_path):
    path = vcf_file(
        tmp_path,
        "1 100 a A C . . . GT 0/0 0/1 1/1 0/0 0/1",
        "1 200 b A C,G . . . GT 0/0 0/2 1/1 0/0 0/1",   # two ALT alleles
        "1 300 c A C . . . GT 0/0 0/1 0/0 0/0 0/1",     # split multi-allelic: 300 twice
        "1 300 d A G . . . GT 0/0 0/0 0/1 0/0 0/0",
        "1 400 e A . . . . GT 0/0 0/0 0/0 0/0 0/0",     # no ALT allele
        "1 500 f A T . . . GT 0/1 0/1 0/1 0/0 1/1")
    with pytest.warns(io.InputWarning) as caught:
        result = io.read_vcf(path)
    assert result.snp_ids.tolist() == ["a", "f"]
    message = str(caught[0].message)
    assert "1 multi-allelic records" in message
    assert "2 split multi-allelic records" in message
    assert "1 records without ALT allele" in message
    assert result.dosages[:, 1].tolist() == [1, 1, 1, 0, 2]


def test_missing_calls_take_the_snps_mode_and_sparse_snps_are_dropped(tmp_path):
    path = vcf_file(
        tmp_path,
        "1 100 a A C . . . GT 0/0 ./. 1/1 0/0 0/1",     # mode 0
        "1 200 b A C . . . GT 0/1 0/1 ./1 1/1 0/1",     # a half-missing call is missing; mode 1
        "1 300 c A C . . . GT 1/1 1/1 0/1 . 0/0",       # a lone '.' is a missing diploid call
        "1 400 d A C . . . GT ./. ./. 0/1 0/1 1/1",     # 40 % missing: dropped at 0.3
        "1 500 e A C . . . GT 0/1 0/0 0/0 1/1 1/1")     # tie 0, 2 (x2) and 1 (x1): mode is 0
    with pytest.warns(io.InputWarning, match="3 missing calls imputed") as caught:
        result = io.read_vcf(path, max_missing=0.3)
    assert "1 SNPs with too many missing calls" in str(caught[0].message)
    assert result.snp_ids.tolist() == ["a", "b", "c", "e"]
    assert result.dosages[:, 0].tolist() == [0, 0, 2, 0, 1]
    assert result.dosages[:, 1].tolist() == [1, 1, 1, 2, 1]
    assert result.dosages[:, 2].tolist() == [2, 2, 1, 2, 0]
    assert result.dosages[:, 3].tolist() == [1, 0, 0, 2, 2]
    kept = read_quietly(io.read_vcf, path, max_missing=0.5)
    assert kept.snp_ids.tolist() == ["a", "b", "c", "d", "e"]


def test_a_record_of_lone_dots_is_missing_not_haploid(tmp_path):
    path = vcf_file(tmp_path,
                    "1 100 a A C . . . GT 0/0 0/1 1/1 0/0 0/1",
                    "1 200 b A C . . . GT . . . . .")
    with pytest.warns(io.InputWarning, match="1 SNPs with too many missing calls"):
        assert io.read_vcf(path).snp_ids.tolist() == ["a"]


def test_mode_imputation_ties_go_to_the_lower_dosage(tmp_path):
    path = vcf_file(tmp_path, "1 100 a A C . . . GT 0/0 1/1 ./. 1/1 0/0")
    assert read_quietly(io.read_vcf, path, max_missing=0.5).dosages[2, 0] == 0


@pytest.mark.parametrize("call, words", [
    ("1", "haploid genotype"),
    ("0/0/1", "has 3 alleles"),
])
def test_non_diploid_calls_are_a_clear_error(tmp_path, call, words):
    path = vcf_file(tmp_path,
                    "1 100 a A C . . . GT 0/0 0/1 1/1 0/0 0/1",
                    f"X 200 b A C . . . GT 0/0 {call} 0/1 0/0 0/1")
    with pytest.raises(DataError, match=words) as error:
        io.read_vcf(path)
    message = str(error.value)
    assert message.startswith(str(path)) and "X:200" in message and "'s2'" in message
    # leaving the haploid chromosome out reads the rest
    assert io.read_vcf(path, chromosomes=["1"]).n_snps == 1


def test_unsorted_positions_are_sorted_and_chr_prefixes_dropped(tmp_path):
    path = vcf_file(
        tmp_path,
        "2 500 p A C . . . GT 0/0 0/1 1/1 0/0 0/1",
        "chr3 50 q A C . . . GT 0/1 0/1 1/1 0/0 0/1",
        "1 900 r A C . . . GT 1/1 0/1 1/1 0/0 0/1",
        "2 100 s A C . . . GT 0/0 0/0 1/1 0/0 0/1",
        "1 300 t A C . . . GT 0/0 0/1 0/0 0/0 0/0")
    with pytest.warns(io.InputWarning, match="sorted"):
        result = io.read_vcf(path)
    assert result.snp_ids.tolist() == ["t", "r", "s", "p", "q"]
    assert result.chromosomes.tolist() == ["1", "1", "2", "2", "3"]
    assert result.positions.tolist() == [300, 900, 100, 500, 50]
    assert result.dosages[:, 0].tolist() == [0, 1, 0, 0, 0]  # columns moved with their SNPs
    assert io.read_vcf(path, chromosomes=["chr3"]).snp_ids.tolist() == ["q"]


def test_missing_ids_are_made_from_position_and_alleles(tmp_path):
    path = vcf_file(tmp_path,
                    "1 100 . A C . . . GT 0/0 0/1 1/1 0/0 0/1",
                    "1 200 rs7 G T . . . GT 0/0 0/1 1/1 0/0 0/1",
                    "1 300 rs7 G A . . . GT 0/0 0/1 1/1 0/0 0/1")  # duplicated id
    assert io.read_vcf(path).snp_ids.tolist() == ["1:100:A:C", "1:200:G:T", "1:300:G:A"]


@pytest.mark.parametrize("problem, message", [
    ("missing", "VCF file not found: .*nope.vcf"),
    ("garbage", "cannot read as VCF/BCF"),
    ("chromosome", "chromosome 7 is not in the file"),
    ("duplicate sample", "cannot read as VCF/BCF"),  # htslib refuses duplicated names
])
def test_bad_vcf_inputs_name_the_file(tmp_path, problem, message):
    path = vcf_file(tmp_path, "1 100 a A C . . . GT 0/0 0/1 1/1 0/0 0/1")
    options = {}
    if problem == "missing":
        path = tmp_path / "nope.vcf"
    elif problem == "garbage":
        path = tmp_path / "garbage.vcf"
        path.write_text("this is not a VCF\n")
    elif problem == "chromosome":
        options["chromosomes"] = ["7"]
    else:
        path.write_text(path.read_text().replace("\ts2\t", "\ts1\t"))
    with pytest.raises(DataError, match=message) as error:
        io.read_vcf(path, **options)
    assert str(path) in str(error.value)


# -- policies, PLINK 1 -----------------------------------------------------------------------

def plink_file(tmp_path, dosages, chromosomes, positions, ids, name="raw"):
    """A PLINK 1 file set written straight with bed-reader (missing calls as -127)."""
    from bed_reader import to_bed

    dosages = np.asarray(dosages, dtype=np.int8)
    n, m = dosages.shape
    to_bed(tmp_path / f"{name}.bed", dosages, properties=dict(
        iid=[f"s{i}" for i in range(1, n + 1)], sid=ids, chromosome=chromosomes,
        bp_position=positions, allele_1=["C"] * m, allele_2=["A"] * m))
    return tmp_path / f"{name}.bed"


def test_plink_policies_missing_unsorted_split_sites(tmp_path):
    m = -127  # bed-reader's missing int8 call
    bed = plink_file(
        tmp_path,
        [[0, 1, 2, 0, m], [1, 1, 2, 0, m], [m, 1, 0, 2, 1], [0, 2, 0, 2, 1], [0, m, 0, 1, 1]],
        chromosomes=["2", "1", "1", "1", "1"], positions=[10, 500, 100, 100, 50],
        ids=["p", "q", "r", "s", "t"])
    with pytest.warns(io.InputWarning) as caught:
        result = io.read_plink(bed, max_missing=0.3)
    message = str(caught[0].message)
    assert "2 split multi-allelic records" in message  # r and s share 1:100
    assert "1 SNPs with too many missing calls" in message  # t: 2 of 5 missing
    assert "SNPs sorted" in message and "2 missing calls imputed" in message
    assert result.snp_ids.tolist() == ["q", "p"]  # 1:500 before 2:10
    assert result.dosages[:, 0].tolist() == [1, 1, 1, 2, 1]  # q: missing -> mode 1
    assert result.dosages[:, 1].tolist() == [0, 1, 0, 0, 0]  # p: missing -> mode 0
    assert result.sample_ids.tolist() == ["s1", "s2", "s3", "s4", "s5"]
    assert read_quietly(io.read_plink, bed, max_missing=0.5).snp_ids.tolist() == ["t", "q", "p"]


def test_plink_prefix_or_bed_and_missing_parts(tmp_path, data):
    bed = io.write_plink(data, tmp_path / "set")
    assert_same(io.read_plink(tmp_path / "set"), io.read_plink(bed))
    os.remove(tmp_path / "set.bim")
    with pytest.raises(DataError, match=r"PLINK file not found: .*set\.bim"):
        io.read_plink(bed)


# -- phenotype tables ------------------------------------------------------------------------

def test_phenotype_tables_csv_tsv_and_id_column(tmp_path):
    (tmp_path / "p.csv").write_text("id,fat,height\nb,1.5,170\na,2.5,NA\n")
    (tmp_path / "p.tsv").write_text("breed\tanimal\tfat\nHF\ta\t2.5\nHF\tb\t1.5\n")
    csv = io.read_phenotypes(tmp_path / "p.csv")
    assert csv.index.tolist() == ["b", "a"] and np.isnan(csv.loc["a", "height"])
    tsv = io.read_phenotypes(tmp_path / "p.tsv", id_column="animal", columns=["fat"])
    assert tsv.loc["a", "fat"] == 2.5 and list(tsv.columns) == ["fat"]
    with pytest.raises(DataError, match="column 'breed' is not numeric"):
        io.read_phenotypes(tmp_path / "p.tsv", id_column="animal")
    with pytest.raises(DataError, match="no id column 'iid'"):
        io.read_phenotypes(tmp_path / "p.csv", id_column="iid")
    (tmp_path / "d.csv").write_text("id,fat\na,1\na,2\n")
    with pytest.raises(DataError, match="'a' appears more than once"):
        io.read_phenotypes(tmp_path / "d.csv")
    with pytest.raises(DataError, match="phenotype table not found"):
        io.read_phenotypes(tmp_path / "none.csv")


def test_phenotypes_attach_in_genotype_order_and_mismatches_are_errors(data):
    ids = data.sample_ids
    table = pd.DataFrame({"fat": np.arange(ids.size, dtype=float)}, index=ids[::-1])
    attached = io.attach_phenotypes(data, table)
    assert attached.phenotypes["fat"].tolist() == list(range(ids.size))[::-1]
    with pytest.raises(DataError, match=r"2 of 60 genotyped individuals have no row "
                                        r"\(first: 'cow000', 'cow001'\)"):
        io.attach_phenotypes(data, table.iloc[:-2])
    extra = pd.concat([table, pd.DataFrame({"fat": [1.0]}, index=["stranger"])])
    with pytest.warns(io.InputWarning, match=r"without genotypes ignored \(1\)"):
        io.attach_phenotypes(data, extra)
    gap = table.copy()
    gap.iloc[5, 0] = np.nan
    with pytest.raises(DataError, match="missing value of 'fat' for individual"):
        io.attach_phenotypes(data, gap)


# -- suites over files -----------------------------------------------------------------------

def file_suite(write_suite, source: str, name="real.toml"):
    return write_suite(f"""\
        name = "real"
        seed = 3
        [source]
        {textwrap.dedent(source).strip()}
        [panel]
        maf = 0.05
        """, name=name)


@pytest.mark.parametrize("kind", ["vcf", "plink"])
def test_file_suites_materialize_with_phenotypes(tmp_path, write_suite, data, kind):
    folder = tmp_path / "data"
    folder.mkdir()
    name = "cows.vcf.gz" if kind == "vcf" else "cows.bed"
    io.write_genotypes(data, folder / name)
    pd.DataFrame({"animal": data.sample_ids[::-1], "fat": np.arange(60.0)}).to_csv(
        folder / "fat.csv", index=False)
    path = file_suite(write_suite, f"""
        kind = "{kind}"
        path = "data/{name}"
        phenotypes = "data/fat.csv"
        chromosomes = ["2"]
        """)
    suite = materialize(load_spec(path))
    assert set(suite.train.chromosomes) == {"2"}
    assert suite.train.trait_names == ["fat"]
    pooled = {}
    # the reference draws are split off a file suite's individuals first
    for split in (suite.train, suite.validation, suite.test, suite.reference):
        pooled.update(zip(split.sample_ids, split.phenotypes["fat"], strict=True))
    assert len(pooled) == 60 and pooled["cow000"] == 59.0 and pooled["cow059"] == 0.0
    assert materialize(load_spec(path)).info["cached"] is True


@pytest.mark.parametrize("kind, source, message", [
    ("vcf", 'path = "absent.vcf.gz"', r"\[source\] path: file not found: .*absent\.vcf\.gz"),
    ("vcf", 'path = "cows.txt"', r"\[source\] path: 'cows.txt' is not a VCF/BCF file name"),
    ("plink", 'path = "absent"', r"\[source\] path: file not found: .*absent\.bed"),
    ("plink", 'path = "cows"\nphenotypes = "none.csv"',
     r"\[source\] phenotypes: file not found: .*none\.csv"),
    ("plink", 'path = "cows"\nid_column = "x"', "id_column and phenotype_columns need"),
    ("plink", 'path = "cows"\nmax_missing = 2', r"\[source\] max_missing: Input should be"),
])
def test_file_suite_mistakes_fail_when_the_suite_is_read(tmp_path, write_suite, data, kind,
                                                        source, message):
    io.write_plink(data, tmp_path / "cows")
    path = file_suite(write_suite, f'kind = "{kind}"\n{source}')
    with pytest.raises((SpecError, DataError), match=message) as error:
        load_spec(path)
    assert str(error.value).startswith(str(path))


def test_file_suite_phenotype_mismatch_is_an_error(tmp_path, write_suite, data):
    io.write_plink(data, tmp_path / "cows")
    pd.DataFrame({"id": [f"bull{i}" for i in range(60)], "fat": 1.0}).to_csv(
        tmp_path / "fat.csv", index=False)
    path = file_suite(write_suite, 'kind = "plink"\npath = "cows"\nphenotypes = "fat.csv"')
    with pytest.raises(DataError, match="60 of 60 genotyped individuals have no row"):
        materialize(load_spec(path))


def test_file_suite_cache_follows_the_file(tmp_path, write_suite, data):
    bed = io.write_plink(data, tmp_path / "cows")
    path = file_suite(write_suite, 'kind = "plink"\npath = "cows.bed"')
    before = cache_key(load_spec(path))
    assert cache_key(load_spec(path)) == before
    os.utime(bed, ns=(10**18, 10**18))
    assert cache_key(load_spec(path)) != before


# -- genobench generate ----------------------------------------------------------------------

def cli(*args):
    """Run the command line in this process; (exit code, stderr)."""
    from click.testing import CliRunner

    from genobench.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stderr


def test_generate_writes_files_plink2_reads(tmp_path, tiny_suite_file):
    vcf, bed = tmp_path / "syn.vcf.gz", tmp_path / "syn.bed"
    model = tmp_path / "model.pkl"
    code, stderr = cli("generate", "--generator", "independent_sites", "--suite",
                             tiny_suite_file, "--n", 150, "--out", vcf, "--seed", 4,
                             "--save-model", model)
    assert code == 0, stderr
    synthetic = io.read_vcf(vcf)
    assert synthetic.n_samples == 150 and synthetic.n_snps == 200
    assert synthetic.sample_ids[0] == "independent_sites_0"
    code, stderr = cli("generate", "-g", "independent_sites", "-s", tiny_suite_file,
                             "-n", 150, "-o", bed, "--seed", 4, "--model", model)
    assert code == 0, stderr
    assert_same(synthetic, io.read_plink(bed))  # the saved model samples the same individuals
    frequencies = synthetic.allele_frequencies()
    for args, out in ((["--vcf", vcf], "v"), (["--bfile", tmp_path / "syn"], "b")):
        table = plink2_frequencies([str(a) for a in args], tmp_path / out)
        assert np.abs(table["ALT_FREQS"].to_numpy() - frequencies).max() < 1e-4


def test_generate_keeps_the_real_alleles(tmp_path, write_suite, data):
    letters = np.array([["G", "T"]] * data.n_snps)
    io.write_vcf(data, tmp_path / "cows.vcf", alleles=letters)
    path = file_suite(write_suite, 'kind = "vcf"\npath = "cows.vcf"')
    code, stderr = cli("generate", "-g", "independent_sites", "-s", path, "-n", 10,
                             "-o", tmp_path / "syn.bed")
    assert code == 0, stderr
    bim = pd.read_csv(tmp_path / "syn.bim", sep="\t", header=None)
    assert set(bim[4]) == {"T"} and set(bim[5]) == {"G"}


class _BrokenFit(genobench.Generator):
    name = "broken_fit"

    def fit(self, train, *, seed, context=None):
        raise RuntimeError("fit exploded")


class _BrokenPlugin:
    @staticmethod
    @genobench.hookimpl
    def genobench_register_generators(register):
        register(_BrokenFit)


def test_generate_reports_a_failing_generator_in_one_line(tmp_path, tiny_suite_file):
    from genobench import registry

    registry.register_plugin(_BrokenPlugin, name="broken-generate-test")
    try:
        code, stderr = cli("generate", "-g", "broken_fit", "-s", tiny_suite_file,
                                 "-n", 5, "-o", tmp_path / "x.vcf")
    finally:
        registry.unregister_plugin("broken-generate-test")
    assert code == 1
    assert stderr.splitlines()[-1] == ("Error: generator 'broken_fit' failed in fit: "
                                       "RuntimeError: fit exploded")


@pytest.mark.parametrize("args, message", [
    (["--out", "x.txt"], "use a .vcf, .vcf.gz or .bed file name"),
    (["--out", "x.vcf", "--generator", "nobody"], "unknown generator 'nobody'"),
    (["--out", "x.vcf", "--model", "absent.pkl"], "absent.pkl: cannot read the model file"),
])
def test_generate_mistakes_are_one_line(tmp_path, tiny_suite_file, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    base = {"--generator": "independent_sites", "--n": "5"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [x for pair in base.items() for x in pair]
    code, stderr = cli("generate", "--suite", tiny_suite_file, *flat)
    assert code == 1
    assert stderr.startswith("Error: ") and message in stderr and stderr.count("\n") == 1
