"""Benchmarks of the leaderboard and the regression comparison (genobench/report/,
genobench/compare.py) on a run the size of a full leaderboard: 3 suites x 12 generators x
5 seeds x 8 metrics, with LD-decay and allele-frequency curves."""

from __future__ import annotations

import numpy as np
import pytest

from genobench.compare import compare_leaderboards
from genobench.report import leaderboard_data, render_leaderboard

METRICS = dict(allele_frequency_r=("higher", 1.0), genotype_frequency_r=("higher", 1.0),
               fst=("lower", 0.0), ld_decay_distance=("lower", 0.0), aa_real=("target", 0.5),
               aa_synthetic=("target", 0.5), aats=("target", 0.5), privacy_loss=("target", 0.0))


def make_run(suites=3, generators=12, seeds=5, snps=1000) -> list[dict]:
    rng = np.random.default_rng(0)
    info = {name: dict(name=name, label=name, family="fidelity", direction=direction,
                       ideal=ideal, range=[0.0, 1.0], description=name, citation="")
            for name, (direction, ideal) in METRICS.items()}
    distance = np.logspace(3, 6, 16)
    records = []
    for suite in range(suites):
        for generator in range(generators):
            for seed in range(1, seeds + 1):
                real = rng.uniform(0, 1, snps)
                timing = {phase: dict(seconds=float(rng.uniform(0.1, 60)), cpu_seconds=1.0,
                                      peak_rss_mb=float(rng.uniform(300, 900)))
                          for phase in ("fit", "generate", "evaluate")}
                records.append(dict(
                    schema=1, suite=f"suite{suite}", generator=f"gen{generator}", seed=seed,
                    status="ok", error=None, metric_info=info, timing=timing,
                    metrics={name: dict(value=float(rng.uniform(0, 1)), note=None)
                             for name in METRICS},
                    curves=dict(
                        ld_decay_distance=dict(distance_bp=distance.tolist(),
                                               real=np.exp(-distance / 2e5).tolist(),
                                               synthetic=np.exp(-distance / 1e5).tolist()),
                        allele_frequency_r=dict(real=real.tolist(), synthetic=np.clip(
                            real + rng.normal(0, 0.05, snps), 0, 1).tolist())),
                    generator_info=dict(description="", citation="", provider="bench",
                                        is_reference=generator == 0),
                    suite_info={}, provenance=dict(timestamp="2026-01-01T00:00:00+0000")))
    return records


@pytest.fixture(scope="module")
def run():
    return make_run()


def test_leaderboard_data(benchmark, run):
    data = benchmark(leaderboard_data, run)
    assert len(data["suites"]) == 3 and len(data["ranking"]) == 11


def test_compare_leaderboards(benchmark, run):
    data = leaderboard_data(run)
    comparison = benchmark(compare_leaderboards, data, data)
    assert not comparison.regressions


def test_render_leaderboard(benchmark, tmp_path):
    """One suite's page with its plots (plotting dominates; 6 generators x 3 seeds)."""
    paths = benchmark.pedantic(render_leaderboard, args=(make_run(1, 6, 3), tmp_path),
                               rounds=3, iterations=1)
    assert paths["html"].stat().st_size > 0
