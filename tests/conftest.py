"""Shared fixtures: a tiny simulated suite, an isolated cache, the plugin registry; and
:func:`coalescent_sample`, the common-SNP coalescent data of the metric tests."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

TINY_SUITE = textwrap.dedent("""\
    name = "tiny"
    description = "1 Mb of HomSap chr22 for fast tests"
    seed = 7

    [source]
    kind = "stdpopsim"
    species = "HomSap"
    model = "OutOfAfrica_3G09"
    chromosomes = ["chr22"]
    left = 30_000_000
    right = 31_000_000
    samples = { CEU = 90, YRI = 30 }

    [panel]
    maf = 0.05
    n_snps = 200

    [run]
    seeds = [1]
""")


def coalescent_sample(n_individuals: int, *, length: float, seed: int, min_maf: float = 0.05,
                      snp_prefix: str = "snp"):
    """A msprime sample with recombination (so with LD), common SNPs only, as GenotypeData.

    :param n_individuals: diploid individuals (individual i holds haplotypes 2i and 2i + 1).
    :param length: sequence length (bp); recombination and mutation rates 1e-8, Ne 10,000.
    :param min_maf: SNPs with a lower minor-allele frequency are dropped.
    :returns: dosages (n, m) int8, 1-based positions on chromosome "1", ids
        ``{snp_prefix}{j}`` and ``ind{i}``.
    """
    import msprime
    import numpy as np

    from genobench.data import GenotypeData

    ts = msprime.sim_ancestry(samples=n_individuals, sequence_length=length,
                              recombination_rate=1e-8, population_size=10_000, random_seed=seed)
    ts = msprime.sim_mutations(ts, rate=1e-8, random_seed=seed + 1,
                               model=msprime.BinaryMutationModel())
    haplotypes = ts.genotype_matrix()  # sites x haplotypes
    dosages = (haplotypes[:, 0::2] + haplotypes[:, 1::2]).T.astype(np.int8)
    p = dosages.mean(axis=0) / 2
    keep = np.minimum(p, 1 - p) >= min_maf
    return GenotypeData(dosages[:, keep], ts.sites_position[keep].astype(np.int64) + 1, "1",
                        [f"{snp_prefix}{j}" for j in range(int(keep.sum()))],
                        [f"ind{i}" for i in range(n_individuals)])


def independent_sites_sample(data, n: int, seed: int = 0):
    """``n`` individuals whose SNPs are each drawn on their own from ``data``'s allele
    frequencies: the frequencies kept, no LD and no structure at all."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return data.with_dosages(rng.binomial(2, data.allele_frequencies(), (n, data.n_snps)))


@pytest.fixture
def one_blas_thread():
    """Run a test's LAPACK/BLAS references on one thread: they stall on threads when the
    machine is busy (tests run alongside other work), and one is fastest at test sizes."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Every test session materializes suites into its own cache folder."""
    if "GENOBENCH_CACHE" not in os.environ:
        os.environ["GENOBENCH_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield


@pytest.fixture
def tiny_suite_file(tmp_path) -> Path:
    """A suite file for a 1 Mb slice with 120 individuals and 200 SNPs (simulates in ~0.3 s)."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_SUITE)
    return path


@pytest.fixture
def write_suite(tmp_path):
    """Write a suite file from text (dedented) and return its path."""

    def write(text: str, name: str = "suite.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


def require_tool(name: str) -> str:
    """Path of an external tool; skip the test without it, except in CI where it must exist."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required in CI (apt-get install {name})")
        pytest.skip(f"{name} not installed")
    return found


def fake_installed_plugin(folder: Path, module: str, source: str, *, distribution: str,
                          version: str = "1.0", entry_point: str | None = None) -> Path:
    """Make ``folder`` hold ``module`` as an installed distribution with a ``genobench`` entry
    point (a dist-info folder, as pip leaves it); put ``folder`` on PYTHONPATH to use it."""
    folder = Path(folder)
    (folder / f"{module}.py").write_text(source)
    dist = folder / f"{distribution.replace('-', '_')}-{version}.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n")
    (dist / "entry_points.txt").write_text(f"[genobench]\n{entry_point or module} = {module}\n")
    return folder
