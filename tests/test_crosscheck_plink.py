"""The metric kernels against PLINK on the same files, written and read through genobench.io.

PLINK 2 and PLINK 1.9 are independent implementations of allele frequencies, LD r^2, KING
kinship, the GRM and PCA. Each test writes one data set as PLINK 1 binary (and VCF), runs
PLINK on it, reads the same file back with genobench.io and compares, to 1e-4 (PLINK prints
about six significant digits). Without PLINK the tests skip, except in CI where they fail.
"""

import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import coalescent_sample, require_tool

from genobench import io
from genobench.data import GenotypeData
from genobench.metrics import gram, kernels

TOLERANCE = 1e-4


def simulate(n_individuals, *, length=2e6, seed=21, min_maf=0.05) -> GenotypeData:
    return coalescent_sample(n_individuals, length=length, seed=seed, min_maf=min_maf,
                             snp_prefix="rs")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One data set as PLINK 1 binary and as VCF, and what genobench.io reads back."""
    folder = tmp_path_factory.mktemp("plink")
    data = simulate(200)
    bed = io.write_plink(data, folder / "data.bed")
    vcf = io.write_vcf(data, folder / "data.vcf.gz")
    return folder, bed, vcf, io.read_plink(bed)


def plink(tool: str, *args, cwd):
    """Run PLINK with 2 threads; a failure shows PLINK's own log."""
    executable = require_tool(tool)
    done = subprocess.run([executable, "--threads", "2", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_io_round_trip_is_exact(written):
    _, _, vcf, data = written
    np.testing.assert_array_equal(data.dosages, simulate(200).dosages)
    np.testing.assert_array_equal(io.read_vcf(vcf).dosages, data.dosages)


@pytest.mark.parametrize("source", ["bed", "vcf"])
def test_allele_frequencies_match_plink2_freq(written, source):
    folder, bed, vcf, data = written
    given = ["--bfile", bed.with_suffix("")] if source == "bed" else ["--vcf", vcf]
    plink("plink2", *given, "--freq", "--out", f"freq_{source}", cwd=folder)
    table = pd.read_csv(folder / f"freq_{source}.afreq", sep="\t")
    assert table["ID"].tolist() == data.snp_ids.tolist()
    ours = kernels.allele_frequencies(data.dosages)  # genobench counts ALT, as PLINK 2
    np.testing.assert_allclose(ours, table["ALT_FREQS"], atol=TOLERANCE)


def test_ld_r2_matches_plink19_r2_window(written):
    folder, bed, _, data = written
    plink("plink1.9", "--bfile", bed.with_suffix(""), "--r2", "--ld-window-kb", 100,
          "--ld-window", 999_999, "--ld-window-r2", 0, "--out", "ld", cwd=folder)
    table = pd.read_csv(folder / "ld.ld", sep=r"\s+")
    index = {snp: j for j, snp in enumerate(data.snp_ids)}
    i, j = table["SNP_A"].map(index).to_numpy(), table["SNP_B"].map(index).to_numpy()
    r2 = kernels.ld_matrix(data.dosages)
    np.testing.assert_allclose(r2[i, j], table["R2"], atol=TOLERANCE)
    # the pairwise comparison visits exactly PLINK's pairs (every pair within 100 kb)
    same = kernels.ld_window_comparison(data.dosages, data.dosages, data.positions,
                                        max_distance=100_000)
    assert same.pairs == len(table) > 10_000
    assert same.sums["a"] == pytest.approx(table["R2"].sum(), rel=TOLERANCE)


def test_king_kinship_matches_plink2_make_king_table(written, tmp_path):
    _, _, _, data = written
    train, synthetic = data.take_samples(np.arange(120)), data.take_samples(np.arange(120, 200))
    # plant relatives of training individuals among the synthetic ones
    dosages = synthetic.dosages.copy()
    dosages[0] = train.dosages[0]
    dosages[1, ::2] = train.dosages[1, ::2]
    synthetic = synthetic.with_dosages(dosages, sample_prefix="syn")
    pooled = GenotypeData(np.vstack([train.dosages, synthetic.dosages]), data.positions,
                          data.chromosomes, data.snp_ids,
                          np.r_[train.sample_ids, synthetic.sample_ids])
    bed = io.write_plink(pooled, tmp_path / "pooled.bed")
    plink("plink2", "--bfile", bed.with_suffix(""), "--make-king-table", "--out", "king",
          cwd=tmp_path)
    table = pd.read_csv(tmp_path / "king.kin0", sep="\t")
    reread = io.read_plink(bed)
    a, b = reread.dosages[:120], reread.dosages[120:]
    ours = kernels.king_kinship(a, b)
    position = {sample: k for k, sample in enumerate(reread.sample_ids)}
    k1, k2 = table["IID1"].map(position).to_numpy(), table["IID2"].map(position).to_numpy()
    cross = (np.minimum(k1, k2) < 120) & (np.maximum(k1, k2) >= 120)
    lo, hi = np.minimum(k1, k2)[cross], np.maximum(k1, k2)[cross] - 120
    assert cross.sum() == 120 * 80
    np.testing.assert_allclose(ours[lo, hi], table["KINSHIP"][cross], atol=TOLERANCE)
    # the blocked reduction counts the same pairs per degree as PLINK's table
    found = kernels.cross_neighbours(a, b, kinship=True, block_size=32)
    plink_phi = table["KINSHIP"][cross].to_numpy()
    bounds = kernels.KING_THRESHOLDS
    assert found.kinship.pair_counts["duplicate"] == int((plink_phi > bounds["duplicate"]).sum())
    assert found.kinship.pair_counts["duplicate"] >= 1
    np.testing.assert_allclose(found.kinship.b_max, ours.max(axis=0), rtol=1e-12)


def test_grm_matches_plink2_make_rel(written):
    folder, bed, _, data = written
    plink("plink2", "--bfile", bed.with_suffix(""), "--make-rel", "square", "--out", "grm",
          cwd=folder)
    theirs = np.loadtxt(folder / "grm.rel")
    np.testing.assert_allclose(gram.grm(data.dosages, block_size=64), theirs, atol=TOLERANCE)


def test_pca_matches_plink2_pca(written):
    folder, bed, _, data = written
    plink("plink2", "--bfile", bed.with_suffix(""), "--pca", 4, "--out", "pca", cwd=folder)
    values = np.loadtxt(folder / "pca.eigenval")
    vectors = pd.read_csv(folder / "pca.eigenvec", sep="\t").iloc[:, 2:].to_numpy(float)
    fit = gram.pca(data.dosages, 4, scaler="patterson", block_size=64)
    # PLINK's GRM divides by 2p(1 - p) and by the number of SNPs, Patterson's by p(1 - p)
    m = data.n_snps
    np.testing.assert_allclose(fit.explained_variance * (data.n_samples - 1) / (2 * m),
                               values, rtol=TOLERANCE)
    ours = fit.scores / np.sqrt(fit.explained_variance * (data.n_samples - 1))
    ours *= np.sign((ours * vectors).sum(axis=0))
    np.testing.assert_allclose(ours, vectors, atol=TOLERANCE)
