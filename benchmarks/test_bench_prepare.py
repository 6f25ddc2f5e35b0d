"""Benchmarks of preparing suites (genobench/suites.py materialize, genobench/io.py).

Always run: the quick suites from scratch, a cached suite (should be milliseconds), and reading
and writing 2,000 x 5,000 genotypes as VCF and PLINK. Whole chromosomes take minutes each, so
``GENOBENCH_BENCH_FULL=1`` adds cow chr25 and human chr21, and ``GENOBENCH_BENCH_FULL=cow``
the issue's figure: ``genobench prepare suites/cow_chr*.toml -j 2`` at the default size (about
24 CPU minutes: some 12 minutes on an idle 2-core machine; see docs/performance.md), and
``GENOBENCH_BENCH_FULL=paper`` ``genobench prepare --size paper suites/cow_chr25.toml`` (93,484
cows; its time and peak memory are in docs/scale.md). Each runs in a fresh cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from genobench import GenotypeData, io
from genobench.suites import load_spec, materialize

ROOT = Path(__file__).resolve().parent.parent
FULL = os.environ.get("GENOBENCH_BENCH_FULL", "")


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENOBENCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def prepare_from_scratch(benchmark, name):
    spec = load_spec(ROOT / "suites" / f"{name}.toml")
    suite = benchmark.pedantic(materialize, args=(spec,), kwargs=dict(refresh=True),
                               rounds=1, iterations=1)
    assert suite.info["cached"] is False
    benchmark.extra_info.update(n_snps=suite.train.n_snps, sizes=suite.info["sizes"])
    return suite


@pytest.mark.parametrize("name", ["quick_cow", "quick_human"])
def test_prepare_quick_suite(benchmark, fresh_cache, name):
    prepare_from_scratch(benchmark, name)


def test_prepare_cached_suite(benchmark, fresh_cache):
    spec = load_spec(ROOT / "suites" / "quick_cow.toml")
    materialize(spec)
    suite = benchmark(materialize, spec)
    assert suite.info["cached"] is True


@pytest.mark.skipif(FULL not in ("1", "all"), reason="set GENOBENCH_BENCH_FULL=1")
@pytest.mark.parametrize("name", ["cow_chr25", "human_chr21"])
def test_prepare_whole_chromosome(benchmark, fresh_cache, name):
    prepare_from_scratch(benchmark, name)


@pytest.mark.skipif(FULL not in ("cow", "all"), reason="set GENOBENCH_BENCH_FULL=cow")
def test_prepare_all_cow_chromosomes_two_jobs(benchmark, fresh_cache):
    files = sorted(str(p) for p in (ROOT / "suites").glob("cow_chr*.toml"))
    command = [sys.executable, "-m", "genobench.cli", "prepare", *files, "-j", "2"]
    done = benchmark.pedantic(subprocess.run, args=(command,),
                              kwargs=dict(capture_output=True, text=True), rounds=1)
    assert done.returncode == 0, done.stderr
    again = subprocess.run(command, capture_output=True, text=True)
    assert again.stderr.count("(cached)") == len(files)


@pytest.fixture(scope="module")
def genotypes() -> GenotypeData:
    rng = np.random.default_rng(0)
    n, m = 2000, 5000
    frequencies = rng.uniform(0.01, 0.99, m)
    return GenotypeData(rng.binomial(2, frequencies, (n, m)).astype(np.int8),
                        np.arange(1, m + 1) * 1000, np.full(m, "1"),
                        np.array([f"rs{j}" for j in range(m)]),
                        np.array([f"id{i}" for i in range(n)]))


@pytest.mark.parametrize("name", ["g.vcf.gz", "g.bed"])
def test_write_genotypes(benchmark, tmp_path, genotypes, name):
    benchmark.pedantic(io.write_genotypes, args=(genotypes, tmp_path / name), rounds=3)


@pytest.mark.parametrize("name", ["g.vcf.gz", "g.bed"])
def test_read_genotypes(benchmark, tmp_path, genotypes, name):
    path = io.write_genotypes(genotypes, tmp_path / name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", io.InputWarning)
        data = benchmark.pedantic(io.read_genotypes, args=(path,), rounds=3)
    assert np.array_equal(data.dosages, genotypes.dosages)


@pytest.mark.skipif(FULL != "paper", reason="set GENOBENCH_BENCH_FULL=paper (93,484 cows)")
def test_prepare_cow_chr25_paper_size(benchmark, fresh_cache):
    """``genobench prepare --size paper suites/cow_chr25.toml`` in a fresh cache: 93,484 cows
    (149,574 simulated with the reference draws), the panel chosen from per-site allele counts
    and only the panel's and the trait's causal sites decoded. Wall time and the command's peak
    resident memory (``ru_maxrss`` of the child) for docs/scale.md; the issue's bound is 8 GB."""
    import json
    import resource
    import time

    command = [sys.executable, "-m", "genobench.cli", "prepare", "--size", "paper",
               str(ROOT / "suites" / "cow_chr25.toml")]
    env = dict(os.environ, GENOBENCH_CACHE=str(fresh_cache), OMP_NUM_THREADS="1")

    def run():
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        return done, time.perf_counter() - start

    done, seconds = benchmark.pedantic(run, rounds=1, iterations=1)
    assert done.returncode == 0, done.stderr[-3000:]
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # kB on Linux
    info = json.loads(next(fresh_cache.glob("cow_chr25-*/info.json")).read_text())
    benchmark.extra_info.update(n_individuals=info["n_individuals"], n_snps=info["n_snps"],
                                sizes=info["sizes"], seconds=round(seconds, 1),
                                peak_rss_gb=round(peak_gb, 2))
    print(f"\ncow_chr25 paper size: {info['n_individuals']} individuals x {info['n_snps']} "
          f"SNPs, splits {info['sizes']}, {seconds:.0f} s, peak {peak_gb:.2f} GB")
    assert info["n_individuals"] == round(93_484 * 1.6)  # the splits + 3 reference draws
    assert info["n_snps"] == 853 and peak_gb < 8
