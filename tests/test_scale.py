"""The paper's scale: panels chosen from per-site allele counts without decoding every site
(genobench/sources/simulated.py), and evaluate's memory bound."""

import os
import resource
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from genobench.sources.simulated import (
    StdpopsimOptions,
    simulate,
    simulate_sites,
    site_allele_counts,
    tree_sequence_dosages,
)
from genobench.suites import PanelSpec, select_panel


@pytest.fixture(scope="module")
def options():
    # two pieces of a BosTau slice, so the per-piece bookkeeping is exercised
    return StdpopsimOptions(species="BosTau", model="HolsteinFriesian_1M13",
                            chromosomes=["25"], left=1_000_000, right=3_000_000,
                            chunk=1_000_000, samples={"Holstein_Friesian": 120}, min_maf=0.01)


@pytest.mark.parametrize("panel", [PanelSpec(maf=0.05, n_snps=150), PanelSpec(maf=0.01),
                                   PanelSpec(maf=0.02, density=40)])
def test_panel_from_counts_is_the_panel_of_full_decoding(options, panel):
    full = select_panel(simulate(options, seed=7), panel)
    sites = simulate_sites(options, seed=7)
    assert sites.n_samples == full.n_samples
    lazy = select_panel(sites, panel)
    np.testing.assert_array_equal(lazy.positions, full.positions)
    np.testing.assert_array_equal(lazy.chromosomes, full.chromosomes)
    np.testing.assert_array_equal(lazy.snp_ids, full.snp_ids)
    np.testing.assert_array_equal(lazy.sample_ids, full.sample_ids)
    np.testing.assert_array_equal(lazy.populations, full.populations)
    assert lazy.dosages.dtype == np.int8
    np.testing.assert_array_equal(lazy.dosages, full.dosages)


def test_site_counts_agree_with_decoded_dosages():
    import msprime

    ts = msprime.sim_ancestry(60, sequence_length=2e5, recombination_rate=1e-8,
                              population_size=1e4, random_seed=3)
    ts = msprime.sim_mutations(ts, rate=5e-8, random_seed=4)  # JC69: some recurrent sites
    for min_maf in (0.0, 0.05):
        dosages, positions, _ = tree_sequence_dosages(ts, min_maf=min_maf)
        _, counted_positions, counts = site_allele_counts(ts, min_maf=min_maf)
        np.testing.assert_array_equal(counted_positions, positions)
        np.testing.assert_array_equal(counts, dosages.sum(axis=0, dtype=np.int64))


@pytest.mark.slow
def test_evaluate_15000_by_5000_stays_under_2_gb(tmp_path):
    """`evaluate` of 15,000 real vs 15,000 synthetic x 5,000 SNPs with 15,000 training
    individuals, in a child process whose address space is capped: peak resident memory
    under 2 GB (the data are 225 MB; no n x n matrix may exist)."""
    script = textwrap.dedent("""
        import resource, sys
        import numpy as np
        from genobench.data import GenotypeData
        from genobench.runner import evaluate_synthetic
        n, m = 15_000, 5_000
        rng = np.random.default_rng(0)
        p = rng.uniform(0.05, 0.95, m)
        def draw(k, seed):
            r = np.random.default_rng(seed)
            x = np.empty((k, m), np.int8)
            for s in range(0, k, 1000):
                x[s:s + 1000] = r.binomial(2, p, (min(1000, k - s), m))
            return GenotypeData(x, np.arange(1, m + 1) * 1000, ["1"] * m,
                                [f"s{j}" for j in range(m)],
                                [f"i{seed}_{i}" for i in range(k)])
        real, synthetic, train = draw(n, 1), draw(n, 2), draw(n, 3)
        evaluate_synthetic(real, synthetic, train=train)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(f"peak {peak:.2f} GB")
        sys.exit(0 if peak < 2.0 else 3)
    """)
    env = dict(os.environ, OMP_NUM_THREADS="1", GENOBENCH_LOAD_PLUGINS="")

    def cap():  # address space: a little above the bound, as torch reserves virtual memory
        resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, 6 * 2**30))

    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, preexec_fn=cap, timeout=3600)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "peak" in result.stdout
