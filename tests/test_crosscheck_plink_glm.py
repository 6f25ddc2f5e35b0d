"""The GWAS kernel against PLINK 2 ``--glm`` on the same files: BETA, SE, T_STAT and P."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import require_tool

from genobench.data import GenotypeData
from genobench.io import write_plink
from genobench.kernels.gwas import gwas, gwas_plink
from genobench.traits import simulate_traits

#: PLINK 2 prints 6 significant digits.
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def plink_files(tmp_path_factory):
    """1,203 individuals x 2,000 SNPs with a height-like trait, sex, an age covariate and two
    missing phenotypes, written with genobench.io."""
    folder = tmp_path_factory.mktemp("glm")
    rng = np.random.default_rng(21)
    n, m = 1203, 2000
    p = rng.uniform(0.01, 0.6, m).astype(np.float32)  # some ALT alleles are the major ones
    x = ((rng.random((n, m), dtype=np.float32) < p).astype(np.int8)
         + (rng.random((n, m), dtype=np.float32) < p))
    x[:, 11] = 0  # monomorphic: PLINK skips it, the kernel gives NaN
    positions = np.arange(m) * 2_000 + 1
    data = GenotypeData(x, positions, "22", [f"rs{j}" for j in range(m)],
                        [f"ind{i}" for i in range(n)])
    traits = [dict(name="sex", kind="binary"),
              dict(name="height", n_causal=40, h2=0.5, mean=163.0, sd=6.5,
                   covariates={"sex": 13.0})]
    data, _ = simulate_traits(data, traits, seed=2)
    height = data.phenotypes["height"].to_numpy().copy()
    height[[5, 700]] = np.nan
    age = rng.uniform(20, 70, n)
    data = data.__class__(data.dosages, data.positions, data.chromosomes, data.snp_ids,
                          data.sample_ids, None,
                          pd.DataFrame({"height": height, "sex": data.phenotypes["sex"]}))
    bed = write_plink(data, folder / "trait.bed")  # also writes trait.pheno (IID first)
    pd.DataFrame({"IID": data.sample_ids, "sex": data.phenotypes["sex"], "age": age}).to_csv(
        folder / "trait.cov", sep="\t", index=False)
    return data, bed, age


def _plink_glm(bed, out, covariates: list[str] | None) -> pd.DataFrame:
    plink = require_tool("plink2")
    prefix = str(bed)[:-4]
    # omit-ref: A1 is always the ALT allele (allele 1 of the .bim), the allele genobench counts
    command = [plink, "--bfile", prefix, "--pheno", prefix + ".pheno", "--pheno-name", "height",
               "--glm", "hide-covar", "omit-ref", "--threads", "1", "--out", str(out)]
    if covariates:
        command += ["--covar", prefix + ".cov", "--covar-name", *covariates]
    else:
        command[command.index("hide-covar")] = "allow-no-covars"
    subprocess.run(command, check=True, capture_output=True)
    table = pd.read_csv(f"{out}.height.glm.linear", sep="\t")
    assert (table["A1"] == table["ALT"]).all()
    return table


def _compare(result, table, snp_ids):
    rows = pd.Index(snp_ids).get_indexer(table["ID"])
    tested = np.zeros(len(snp_ids), bool)
    tested[rows] = table["ERRCODE"].eq(".").to_numpy()
    assert np.isnan(result.beta[~tested]).all()
    for ours, theirs in ((result.beta, "BETA"), (result.se, "SE"), (result.t, "T_STAT"),
                         (result.p, "P")):
        # an absolute floor for values within rounding of zero (a beta of 1e-8 next to an
        # SE of 0.1), where 6 printed digits are not 1e-4 relative
        floor = {"BETA": 1e-9, "SE": 0.0, "T_STAT": 1e-7, "P": 1e-12}[theirs]
        np.testing.assert_allclose(ours[rows], table[theirs].to_numpy(dtype=float),
                                   rtol=TOLERANCE, atol=floor)
    assert (table["OBS_CT"] == result.n).all()


@pytest.mark.parametrize("covariates", [None, ["sex"], ["sex", "age"]])
def test_gwas_matches_plink2_glm(plink_files, tmp_path, covariates):
    data, bed, age = plink_files
    table = _plink_glm(bed, tmp_path / "glm", covariates)
    assert len(table) == data.n_snps
    assert table.loc[table["ID"] == "rs11", "ERRCODE"].item() != "."  # monomorphic
    columns = {"sex": data.phenotypes["sex"].to_numpy(), "age": age}
    design = np.column_stack([columns[c] for c in covariates]) if covariates else None
    height = data.phenotypes["height"].to_numpy()
    in_memory = gwas(data.dosages, height, design)
    _compare(in_memory, table, data.snp_ids)
    streamed = gwas_plink(bed, height, design, block_size=512)
    _compare(streamed, table, data.snp_ids)
    # a genome-wide significant signal exists, so the p-values compared are not all large
    assert (table["P"] < 0.05 / len(table)).any()
