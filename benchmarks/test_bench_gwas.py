"""Benchmark of the GWAS kernel against PLINK 2 ``--glm`` on the same files and cores.

10,000 individuals x 50,000 SNPs in a PLINK 1 file set written by :func:`genobench.io.write_plink`,
a height-like trait simulated by :func:`genobench.traits.simulate_traits` (200 causal SNPs,
h2 0.5, a sex effect) and sex as covariate. Both sides start from the files: ours reads the
phenotype and covariate tables with :func:`genobench.io.read_phenotypes` and streams the
``.bed`` through :func:`genobench.kernels.gwas.gwas_plink`; PLINK 2 runs
``--glm hide-covar omit-ref`` with the same number of threads (``GENOBENCH_BENCH_THREADS``,
default 2). Target: at least as fast, data loading included; results equal within 1e-4.
Best of three rounds on each side (the machine's other load matters more than the mean).
The figures are written down in docs/performance.md ("## Trait association").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import numpy as np
import pandas as pd
import pytest

from genobench import io
from genobench.data import GenotypeData
from genobench.kernels.gwas import gwas_plink
from genobench.kernels.threads import torch_threads
from genobench.traits import simulate_traits

N, M = 10_000, 50_000
THREADS = int(os.environ.get("GENOBENCH_BENCH_THREADS", "2"))
ROUNDS = 3
DATA_VERSION = 1


@pytest.fixture(scope="module")
def files(request):
    """The .bed/.bim/.fam, .pheno (height, sex) and .cov (sex) files, made once and cached."""
    folder = request.config.cache.mkdir(f"genobench-gwas-bench-v{DATA_VERSION}")
    bed = folder / "gwas.bed"
    if not (folder / "gwas.cov").exists():
        rng = np.random.default_rng(2026)
        p = rng.beta(0.6, 1.0, M).clip(0.01, 0.99).astype(np.float32)
        dosages = np.empty((N, M), np.int8)
        for start in range(0, M, 5_000):  # independent sites: LD does not change the work
            q = p[start:start + 5_000]
            dosages[:, start:start + 5_000] = (
                (rng.random((N, q.size), dtype=np.float32) < q).astype(np.int8)
                + (rng.random((N, q.size), dtype=np.float32) < q))
        chromosomes = np.repeat([str(c) for c in range(1, 11)], M // 10)
        positions = np.tile(np.arange(1, M // 10 + 1) * 20_000, 10)
        data = GenotypeData(dosages, positions, chromosomes, [f"snp{j}" for j in range(M)],
                            [f"ind{i}" for i in range(N)])
        data, _ = simulate_traits(data, [
            dict(name="sex", kind="binary"),
            dict(name="height", n_causal=200, h2=0.5, mean=163.0, sd=6.5,
                 covariates={"sex": 13.0})], seed=1)
        io.write_plink(data, bed)  # also gwas.pheno
        pd.DataFrame({"IID": data.sample_ids, "sex": data.phenotypes["sex"]}).to_csv(
            folder / "gwas.cov", sep="\t", index=False)
    return bed


def ours(bed):
    """GWAS from the files: phenotype and covariate tables read, aligned to the .fam, and the
    .bed streamed."""
    prefix = str(bed)[:-4]
    ids = pd.read_csv(prefix + ".fam", sep=r"\s+", header=None, usecols=[1], dtype=str)[1]
    phenotypes = io.read_phenotypes(prefix + ".pheno", columns=["height"]).loc[ids]
    covariates = io.read_phenotypes(prefix + ".cov").loc[ids]
    return gwas_plink(bed, phenotypes["height"].to_numpy(), covariates[["sex"]].to_numpy())


def plink_glm(bed, out) -> float:
    prefix = str(bed)[:-4]
    start = time.perf_counter()
    subprocess.run([shutil.which("plink2"), "--bfile", prefix, "--pheno", prefix + ".pheno",
                    "--pheno-name", "height", "--covar", prefix + ".cov", "--glm", "hide-covar",
                    "omit-ref", "--threads", str(THREADS), "--out", str(out)],
                   check=True, capture_output=True)
    return time.perf_counter() - start


@pytest.fixture(autouse=True)
def _threads():
    with torch_threads(THREADS):
        yield


def test_gwas_vs_plink2_glm(benchmark, files, tmp_path):
    if shutil.which("plink2") is None:
        pytest.skip("plink2 not installed")
    result = benchmark.pedantic(ours, args=(files,), rounds=ROUNDS, iterations=1)
    reference_s = min(plink_glm(files, tmp_path / "glm") for _ in range(ROUNDS))
    table = pd.read_csv(tmp_path / "glm.height.glm.linear", sep="\t")
    # PLINK prints 6 significant digits; the floor covers betas within 1e-8 of zero
    np.testing.assert_allclose(result.beta, table["BETA"], rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(result.p, table["P"], rtol=1e-4)
    ours_s = benchmark.stats.stats.min
    benchmark.extra_info.update(ours_s=round(ours_s, 3), reference="plink2 --glm",
                                reference_s=round(reference_s, 3),
                                ratio=round(reference_s / ours_s, 2), threads=THREADS,
                                size=f"{N} individuals x {M} SNPs, 1 covariate")
    print(f"\nGWAS {N} x {M}: ours {ours_s:.2f} s, plink2 --glm {reference_s:.2f} s, "
          f"{reference_s / ours_s:.2f}x ({THREADS} threads)")
    assert ours_s <= reference_s, "slower than plink2 --glm on the same files and threads"
