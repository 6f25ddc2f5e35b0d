"""Benchmarks of training the deep generators (genobench_plugins.vae, .gan, .diffusion).

Each benchmark fits one model once, one thread, as a benchmark job does, and reports in
``extra_info`` what the fit recorded: epochs run, why training stopped, the dense layers'
FLOPs per epoch, the achieved FLOP/s and its fraction of the calibration product timed in the
same process (``training["throughput"]``). No timing is asserted; compare saved runs.

Always run: the quick profile on quick_human (the README's first command trains these).
``GENOBENCH_BENCH_FULL=1`` adds the standard profile on human_chr22 and cow_chr14 (about two
minutes per model, the issue's budget: at most 120 s each on 2 cores, one thread).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genobench import FitContext
from genobench.registry import get_generator
from genobench.suites import load_spec, materialize

ROOT = Path(__file__).resolve().parent.parent
FULL = os.environ.get("GENOBENCH_BENCH_FULL", "")
MODELS = ["vae", "gan", "wgan_gp", "diffusion"]


def fit_once(benchmark, suite_name: str, model: str, profile: str):
    suite = materialize(load_spec(ROOT / "suites" / f"{suite_name}.toml"))
    context = FitContext(validation=suite.validation, source=suite.source, suite=suite.name,
                         profile=profile, device="cpu")

    def fit():
        generator = get_generator(model)(threads=1)
        generator.fit(suite.train, seed=1, context=context)
        return generator

    generator = benchmark.pedantic(fit, rounds=1, iterations=1)
    training = generator.training_
    throughput = training["throughput"]
    benchmark.extra_info.update(
        suite=suite_name, profile=profile, n_train=suite.train.n_samples,
        n_snps=suite.train.n_snps, epochs=throughput["epochs"], stopped=training["stopped"],
        best_epoch=training["best_epoch"], best_score=training["best_score"],
        train_seconds=throughput["train_seconds"], fit_seconds=training["seconds"],
        flops_per_epoch=throughput["flops_per_epoch"],
        achieved_flop_s=throughput["achieved_flop_s"],
        calibration_flop_s=throughput["calibration_flop_s"],
        flops_fraction=throughput["fraction"], precision=generator.config_["precision"])
    assert throughput["epochs"] >= 1 and throughput["flops_per_epoch"] > 0
    return generator


@pytest.mark.parametrize("model", MODELS)
def test_fit_quick_profile(benchmark, model):
    fit_once(benchmark, "quick_human", model, "quick")


@pytest.mark.skipif(FULL not in ("1", "all"), reason="set GENOBENCH_BENCH_FULL=1")
@pytest.mark.parametrize("suite_name", ["human_chr22", "cow_chr14"])
@pytest.mark.parametrize("model", MODELS)
def test_fit_standard_profile(benchmark, suite_name, model):
    generator = fit_once(benchmark, suite_name, model, "standard")
    assert generator.training_["stopped"] in ("epochs", "patience", "max_seconds")


#: Individuals of the fit-scale ladder: GENOBENCH_BENCH_SCALE="5000,10000" (x 5,000 SNPs).
SCALE = [int(n) for n in os.environ.get("GENOBENCH_BENCH_SCALE", "").split(",") if n]


@pytest.mark.skipif(not SCALE, reason="set GENOBENCH_BENCH_SCALE=5000,10000")
@pytest.mark.parametrize("n", SCALE)
@pytest.mark.parametrize("model", MODELS)
def test_fit_epoch_scale(benchmark, model, n):
    """Seconds per training epoch of each deep model (quick profile's architecture, two epochs,
    one thread) on n LD-mosaic individuals x 5,000 SNPs: docs/scale.md extrapolates from it."""
    from test_bench_metrics import genotype_data, mosaic

    from genobench.data import GenotypeData

    train = genotype_data(mosaic(n, 5_000, seed=4), "t")
    check = GenotypeData(train.dosages[:200], train.positions, train.chromosomes,
                         train.snp_ids, train.sample_ids[:200])
    context = FitContext(validation=check, suite="scale", profile="quick", device="cpu")

    def fit():
        generator = get_generator(model)(threads=1, epochs=2, eval_every=2)
        generator.fit(train, seed=1, context=context)
        return generator

    generator = benchmark.pedantic(fit, rounds=1, iterations=1)
    throughput = generator.training_["throughput"]
    per_epoch = throughput["train_seconds"] / max(throughput["epochs"], 1)
    benchmark.extra_info.update(n_train=n, n_snps=5_000, epochs=throughput["epochs"],
                                seconds_per_epoch=round(per_epoch, 2),
                                achieved_flop_s=throughput["achieved_flop_s"],
                                flops_fraction=throughput["fraction"])
    print(f"\n{model} n={n}: {per_epoch:.2f} s per epoch, "
          f"{throughput['achieved_flop_s'] / 1e9:.1f} GFLOP/s ({throughput['fraction']:.0%} of "
          f"the calibration product)")
