"""The deep generator plugins (genobench_plugins.vae, .gan, .diffusion), their shared pieces
(genobench_plugins.deep), and the msprime baseline's real-data fallback
(genobench_plugins.coalescent), all in plugins/genobench_plugins/.

Data are simulated in memory (msprime, 2 Mb, one population); networks are tiny so the whole
file runs in about a minute on two CPU cores.
"""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path

import genobench_plugins
import msprime
import numpy as np
import pandas as pd
import pytest
import torch
from genobench_plugins.coalescent import MsprimeCoalescent, ne_from_ld
from genobench_plugins.deep import (
    PRIVACY_ALLOWANCE,
    PRIVACY_WEIGHT,
    checkpoint_scores,
    correlation_score,
    count_flops,
    differentiated_twice,
    knn_precision_recall,
    one_hot,
    privacy_scores,
    seeded,
    train_loop,
)
from genobench_plugins.deep.local_ld import ld_extent_lags
from genobench_plugins.deep.temperature import TEMPERATURES
from genobench_plugins.diffusion import DiffusionGenerator
from genobench_plugins.gan import CriticNet, GANGenerator, WGANGPGenerator
from genobench_plugins.vae import VAEGenerator

from genobench import DataError, FitContext, GeneratorError, GenotypeData, registry
from genobench.metrics.neighbours import default_knn_k

N_TRAIN, N_VALIDATION, N_SNPS = 240, 60, 200
CAUSAL = 100  # the SNP that drives the phenotype
NE, RECOMBINATION = 10_000, 1e-8

#: Tiny networks and short training for each generator.
TINY = {
    "vae": dict(epochs=30, hidden=[64, 32], latent_dim=8, eval_every=10),
    "gan": dict(epochs=20, generator_hidden=[64, 64], critic_hidden=[64, 32], latent_dim=16,
                eval_every=10),
    "wgan_gp": dict(epochs=20, generator_hidden=[64, 64], critic_hidden=[64, 32],
                    latent_dim=16, batch_size=32, eval_every=10),
    "diffusion": dict(epochs=40, steps=100, hidden=64, blocks=2, max_components=32,
                      eval_every=20),
}
CLASSES = {"vae": VAEGenerator, "gan": GANGenerator, "wgan_gp": WGANGPGenerator,
           "diffusion": DiffusionGenerator}


def _simulate(seed: int = 11) -> GenotypeData:
    """Diploid individuals on 200 common SNPs of a 2 Mb coalescent simulation, with a phenotype
    that is the dosage of SNP ``CAUSAL`` plus a little noise."""
    n = N_TRAIN + N_VALIDATION
    ts = msprime.sim_ancestry(samples=n, sequence_length=2e6, recombination_rate=RECOMBINATION,
                              population_size=NE, random_seed=seed)
    ts = msprime.sim_mutations(ts, rate=1e-8, random_seed=seed + 1,
                               model=msprime.BinaryMutationModel())
    g = ts.genotype_matrix()
    dosages = (g[:, 0::2] + g[:, 1::2]).T.astype(np.int8)
    frequency = dosages.mean(axis=0) / 2
    common = np.flatnonzero((frequency > 0.1) & (frequency < 0.9))
    keep = common[np.linspace(0, common.size - 1, N_SNPS).astype(int)]
    dosages = dosages[:, keep]
    positions = ts.tables.sites.position[keep].astype(np.int64) + 1
    rng = np.random.default_rng(seed)
    trait = dosages[:, CAUSAL] + rng.normal(0, 0.2, n)
    return GenotypeData(dosages, positions, "1", [f"snp{j}" for j in range(N_SNPS)],
                        [f"ind{i}" for i in range(n)],
                        phenotypes=pd.DataFrame({"trait": 10 + 3 * trait}))


@pytest.fixture(scope="module")
def data() -> GenotypeData:
    return _simulate()


@pytest.fixture(scope="module")
def train(data) -> GenotypeData:
    return data.take_samples(np.arange(N_TRAIN))


@pytest.fixture(scope="module")
def validation(data) -> GenotypeData:
    return data.take_samples(np.arange(N_TRAIN, N_TRAIN + N_VALIDATION))


def _fit(name, train, validation, seed=3, **options):
    generator = CLASSES[name](**{**TINY[name], **options})
    generator.fit(train, seed=seed, context=FitContext(validation=validation, profile="quick"))
    return generator


@pytest.fixture(scope="module")
def fitted(train, validation) -> dict:
    """Each generator fitted once with tiny settings (the conditional ones on the phenotype)."""
    return {name: _fit(name, train, validation) for name in CLASSES}


# -- registration ---------------------------------------------------------------------------
def test_deep_generators_register_through_entry_points():
    registered = registry.get_registry()
    for name, plugin in (("vae", "vae"), ("gan", "gan"), ("wgan_gp", "gan"),
                         ("diffusion", "diffusion")):
        assert registered.generators[name] is CLASSES[name]
        provider = registered.providers[("generator", name)]
        assert (provider.plugin, provider.distribution) == (plugin, "genobench")
    assert registered.generators["wgan_gp"].supports_phenotypes
    assert registered.generators["diffusion"].supports_phenotypes
    assert not registered.generators["vae"].supports_phenotypes


def test_unknown_option_is_one_clear_error():
    with pytest.raises(GeneratorError, match="unknown option.*epoch_count"):
        VAEGenerator(epoch_count=3)


@pytest.mark.parametrize("level", ["some", 1.5, -0.1, True])
def test_a_bad_trait_snps_level_is_one_clear_error(level):
    with pytest.raises(GeneratorError, match="trait_snps must be 'all', 'auto' or a "):
        WGANGPGenerator(trait_snps=level)
    WGANGPGenerator(trait_snps=0.01), DiffusionGenerator(trait_snps="all")  # valid ones


def test_profiles_scale_training():
    for cls in CLASSES.values():
        quick, paper = cls.hyperparameters("quick"), cls.hyperparameters("paper")
        assert quick["epochs"] < cls.hyperparameters("standard")["epochs"] <= paper["epochs"]
    assert WGANGPGenerator.hyperparameters("paper")["n_critic"] == 5
    assert WGANGPGenerator.hyperparameters("paper")["gp_lambda"] == 10


# -- output contract ------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CLASSES))
def test_output_shape_dtype_and_values(fitted, name):
    out = fitted[name].generate(37, seed=5)
    assert out.shape == (37, N_SNPS)
    assert out.dtype == np.int8
    assert set(np.unique(out)) <= {0, 1, 2}
    assert len(np.unique(out, axis=0)) > 1  # not one individual repeated


@pytest.mark.parametrize("name", list(CLASSES))
def test_generation_is_deterministic_for_a_seed(fitted, name):
    generator = fitted[name]
    first = generator.generate(20, seed=9)
    assert np.array_equal(first, generator.generate(20, seed=9))
    assert not np.array_equal(first, generator.generate(20, seed=10))


def test_global_torch_random_state_is_left_alone(train, validation):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    _fit("vae", train, validation, epochs=2)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("name", ["vae", "gan", "wgan_gp", "diffusion"])
def test_fit_is_deterministic_for_a_seed(train, validation, name):
    options = dict(epochs=4, eval_every=2)
    a = _fit(name, train, validation, seed=21, **options)
    b = _fit(name, train, validation, seed=21, **options)
    assert np.array_equal(a.generate(30, seed=1), b.generate(30, seed=1))
    losses = [row["loss"] for row in a.training_["history"]]
    assert losses == [row["loss"] for row in b.training_["history"]]


# -- training -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["vae", "diffusion"])
def test_short_training_lowers_the_loss(fitted, name):
    history = fitted[name].training_["history"]
    assert history[-1]["loss"] < 0.9 * history[0]["loss"]


@pytest.mark.parametrize("name", list(CLASSES))
def test_checkpoint_chosen_on_validation_knn_f1_and_ld(fitted, name):
    training = fitted[name].training_
    scored = [row for row in training["history"] if "f1" in row]
    assert scored, "no validation happened"
    for row in scored:  # the default selection: k-NN F1 and the correlation score (LD)
        assert row["score"] == pytest.approx((row["f1"] + max(row["correlation"], 0)) / 2,
                                             abs=1e-3)
    assert training["best_score"] == pytest.approx(max(row["score"] for row in scored),
                                                   abs=1e-3)
    assert training["best_epoch"] in [row["epoch"] for row in scored]


def test_paper_profile_selects_on_knn_f1_alone(train, validation):
    assert all(cls.hyperparameters("paper")["selection"] == "f1" for cls in CLASSES.values())
    generator = VAEGenerator(**{**TINY["vae"], "epochs": 4, "eval_every": 2})
    generator.fit(train, seed=1, context=FitContext(validation=validation, profile="paper"))
    scored = [row for row in generator.training_["history"] if "f1" in row]
    assert scored and all(row["score"] == row["f1"] for row in scored)


def test_selection_can_reward_ld(train, validation):
    generator = _fit("vae", train, validation, epochs=10, eval_every=5,
                     selection="f1+correlation")
    scored = [row for row in generator.training_["history"] if "f1" in row]
    for row in scored:
        assert row["score"] == pytest.approx((row["f1"] + max(row["correlation"], 0)) / 2,
                                             abs=1e-3)
    with pytest.raises(GeneratorError, match="selection"):
        VAEGenerator(selection="loss")


def test_privacy_scores_tell_a_copier_from_fresh_individuals(train, validation):
    members, others = train.dosages[:N_TRAIN], validation.dosages
    copier = privacy_scores(members[:N_VALIDATION], others, members[:N_VALIDATION])
    assert copier["membership"] == 1.0 and copier["privacy_loss"] > 0.3
    fresh = privacy_scores(members[:N_TRAIN - N_VALIDATION], others,
                           members[N_TRAIN - N_VALIDATION:])
    assert abs(fresh["membership"] - 0.5) < 0.15 and abs(fresh["privacy_loss"]) < 0.2
    # the closer-than-holdout share: copies sit unusually close to training individuals only
    assert copier["closer"] > 0.8 and abs(fresh["closer"]) < 0.2


def test_privacy_selection_penalises_leaking_checkpoints(train, validation):
    members, others = train.dosages[:N_VALIDATION], validation.dosages
    copier = members
    plain = checkpoint_scores(others, copier, selection="f1+correlation", train=members)
    private = checkpoint_scores(others, copier, selection="f1+correlation+privacy",
                                train=members)
    excess = sum(max(0.0, plain[name] - limit) for name, limit in PRIVACY_ALLOWANCE.items())
    assert excess > 0.2
    assert private["score"] == pytest.approx(plain["score"] - PRIVACY_WEIGHT * excess)
    # every model's standard profile chooses among checkpoints by leakage too
    assert {cls.hyperparameters("standard")["selection"] for cls in CLASSES.values()} \
        == {"f1+correlation+privacy"}


def test_correlation_score_is_one_for_identical_ld(train):
    assert correlation_score(train.dosages, train.dosages) == pytest.approx(1.0)
    rng = np.random.default_rng(1)
    shuffled = np.stack([rng.permutation(column) for column in train.dosages.T], axis=1)
    assert abs(correlation_score(train.dosages, shuffled)) < 0.2


def test_progress_is_reported(train, validation):
    seen = []
    generator = VAEGenerator(**{**TINY["vae"], "epochs": 5})
    generator.fit(train, seed=1, context=FitContext(
        validation=validation, progress=lambda **values: seen.append(values)))
    assert [v["step"] for v in seen] == [1, 2, 3, 4, 5]
    assert all(v["total"] == 5 and "loss" in v for v in seen)


def test_time_limit_stops_training_early(train, validation):
    generator = VAEGenerator(**{**TINY["vae"], "epochs": 100_000})
    started = time.monotonic()
    generator.fit(train, seed=1, context=FitContext(validation=validation, time_limit=3.0))
    elapsed = time.monotonic() - started
    assert generator.training_["stopped"] == "time_limit"
    assert elapsed < 3.0 + 2.0
    assert generator.training_["best_score"] is not None  # the best checkpoint was kept
    assert generator.generate(5, seed=1).shape == (5, N_SNPS)


# -- storage --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CLASSES))
def test_save_load_round_trip(fitted, tmp_path, name):
    generator = fitted[name]
    path = tmp_path / f"{name}.pt"
    generator.save(path)
    loaded = CLASSES[name].load(path)
    assert np.array_equal(loaded.generate(25, seed=4), generator.generate(25, seed=4))
    if generator.supports_phenotypes:
        phenotypes = np.linspace(7, 16, 25)[:, None]
        assert np.array_equal(loaded.generate(25, seed=4, phenotypes=phenotypes),
                              generator.generate(25, seed=4, phenotypes=phenotypes))


def test_load_rejects_another_models_file(fitted, tmp_path):
    path = tmp_path / "vae.pt"
    fitted["vae"].save(path)
    with pytest.raises(DataError, match="'vae' model, not 'gan'"):
        GANGenerator.load(path)


# -- conditioning ---------------------------------------------------------------------------
def _shift(generator, train, n=300):
    """Mean dosage of the causal SNP when conditioning on a high vs a low phenotype."""
    values = train.phenotypes["trait"].to_numpy()
    high = np.full((n, 1), values.mean() + 1.5 * values.std())
    low = np.full((n, 1), values.mean() - 1.5 * values.std())
    return (generator.generate(n, seed=1, phenotypes=high)[:, CAUSAL].mean()
            - generator.generate(n, seed=1, phenotypes=low)[:, CAUSAL].mean())


@pytest.mark.parametrize("name, options", [
    ("wgan_gp", dict(epochs=120, lr=1e-3)),
    ("diffusion", dict(epochs=150)),
])
def test_conditional_samples_follow_the_phenotype(train, name, options):
    # No validation split: the last weights, so the test is about conditioning, not selection.
    generator = _fit(name, train, None, **options)
    # The phenotype is this SNP's dosage plus noise: +-1.5 sd is about dosage 0 vs 2, so
    # a model that ignored the phenotype would shift by 0, a perfect one by about 1.5.
    assert _shift(generator, train) > 0.4


def test_conditional_model_without_phenotypes(fitted, train, validation):
    # generate without phenotypes draws training phenotype vectors
    assert fitted["diffusion"].generate(10, seed=1).shape == (10, N_SNPS)
    bare = train.take_samples(np.arange(N_TRAIN))
    bare = GenotypeData(bare.dosages, bare.positions, bare.chromosomes, bare.snp_ids,
                        bare.sample_ids)
    generator = DiffusionGenerator(**{**TINY["diffusion"], "epochs": 2})
    generator.fit(bare, seed=1, context=FitContext(validation=validation))
    assert generator.generate(5, seed=1).shape == (5, N_SNPS)
    with pytest.raises(GeneratorError, match="trained without phenotypes"):
        generator.generate(5, seed=1, phenotypes=np.zeros((5, 1)))
    with pytest.raises(GeneratorError, match="1 trait"):
        fitted["wgan_gp"].generate(5, seed=1, phenotypes=np.zeros((5, 2)))


# -- shared pieces --------------------------------------------------------------------------
def test_knn_precision_recall_extremes(train):
    same = knn_precision_recall(train.dosages, train.dosages, k=3)
    assert same == dict(precision=1.0, recall=1.0, f1=1.0)
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 3, size=train.dosages.shape).astype(np.int8)
    far = knn_precision_recall(train.dosages, np.full_like(train.dosages, 2), k=3)
    assert far["precision"] == 0.0 and far["f1"] == 0.0
    mixed = knn_precision_recall(train.dosages, noise, k=3)
    assert 0.0 <= mixed["f1"] < 0.5


def test_checkpoint_knn_uses_the_leaderboards_k_rule(train, validation):
    # The same k as genobench's k-NN metrics (size rule), so a checkpoint is chosen by the
    # measure it is ranked on; an explicit knn_k overrides it.
    k = default_knn_k(N_VALIDATION)
    synthetic = train.dosages[:N_VALIDATION]
    assert knn_precision_recall(validation.dosages, synthetic) == \
        knn_precision_recall(validation.dosages, synthetic, k=k)
    assert knn_precision_recall(validation.dosages, synthetic, k=20) != \
        knn_precision_recall(validation.dosages, synthetic, k=k)


def test_plugins_use_only_public_genobench_names():
    """No first-party plugin module imports an underscore name of genobench or of another
    plugin module, and none is over 600 lines (issue 13)."""
    root = Path(genobench_plugins.__file__).parent
    for path in sorted(root.rglob("*.py")):
        source = path.read_text()
        assert len(source.splitlines()) <= 600, path
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                names = [alias.name for alias in node.names]
                module = node.module or ""
                assert not any(part.startswith("_") for part in module.split(".")), \
                    (path, module)
                assert not any(name.startswith("_") for name in names), (path, names)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not any(p.startswith("_") for p in alias.name.split(".")), path


def test_seeded_restores_the_global_generator():
    state = torch.random.get_rng_state()
    with seeded(5, torch.device("cpu")):
        a = torch.rand(2)
    with seeded(5, torch.device("cpu")):
        b = torch.rand(2)
    assert torch.equal(a, b)
    assert torch.equal(torch.random.get_rng_state(), state)


# -- the msprime baseline on real-data suites -------------------------------------------------
def test_ne_from_ld_recovers_the_simulated_size(train):
    ne = ne_from_ld(train.dosages, train.positions, train.chromosomes, RECOMBINATION)
    assert NE / 3 < ne < NE * 3


def test_msprime_fits_a_constant_size_model_on_real_data(train, validation):
    generator = MsprimeCoalescent()
    generator.fit(train, seed=1, context=FitContext(validation=validation,
                                                    source={"kind": "vcf"}))
    out = generator.generate(50, seed=2)
    assert out.shape == (50, N_SNPS) and out.dtype == np.int8
    assert np.array_equal(out, generator.generate(50, seed=2))
    frequency = out.mean(axis=0) / 2
    assert np.corrcoef(frequency, train.allele_frequencies())[0, 1] > 0.8
    with pytest.raises(GeneratorError, match="ne_method"):
        MsprimeCoalescent(ne_method="guess")



# -- throughput, stopping, precision --------------------------------------------------------
@pytest.mark.parametrize("name", list(CLASSES))
def test_fit_records_its_throughput(fitted, name):
    throughput = fitted[name].training_["throughput"]
    assert throughput["flops_per_epoch"] > 0
    assert throughput["calibration_flop_s"] > 0 and throughput["achieved_flop_s"] > 0
    assert throughput["fraction"] == pytest.approx(
        throughput["achieved_flop_s"] / throughput["calibration_flop_s"], rel=1e-3)
    assert throughput["epochs"] == len(fitted[name].training_["history"])


def test_diffusion_trains_on_several_noise_draws_per_individual(train, validation):
    """noise_draws feeds each individual at that many diffusion steps per training step: the
    dense layers do that many times the work per epoch, and the calibration product is shaped
    like one step's rows."""
    once = _fit("diffusion", train, validation, epochs=2, eval_every=2)
    four = _fit("diffusion", train, validation, epochs=2, eval_every=2, noise_draws=4)
    assert four.training_["throughput"]["flops_per_epoch"] == pytest.approx(
        4 * once.training_["throughput"]["flops_per_epoch"])
    batch = four.config_["batch_size"]
    assert four.training_["throughput"]["calibration_shape"][0] == 4 * batch
    assert once.training_["throughput"]["calibration_shape"][0] == batch
    assert DiffusionGenerator.hyperparameters("standard")["noise_draws"] == 3
    assert DiffusionGenerator.hyperparameters("paper")["noise_draws"] == 1
    for bad in (0, 1.5, True):
        with pytest.raises(GeneratorError, match="noise_draws"):
            DiffusionGenerator(noise_draws=bad)


@pytest.mark.parametrize("name", list(CLASSES))
def test_fit_report_is_plain_json_with_every_validation(fitted, name):
    report = fitted[name].fit_report()
    assert json.loads(json.dumps(report)) == report
    training = fitted[name].training_
    assert report["epochs"] == len(training["history"]) and report["stopped"] == "epochs"
    assert report["best_epoch"] == training["best_epoch"]
    assert report["flops_fraction"] == training["throughput"]["fraction"] > 0
    validated = [entry["epoch"] for entry in training["history"] if "score" in entry]
    assert [v["epoch"] for v in report["validations"]] == validated
    assert {"correlation", "membership", "privacy_loss", "f1"} <= set(report["validations"][0])
    assert report["best_epoch"] in validated
    parts = {"vae": {"reconstruction error"}, "gan": {"critic score"},
             "wgan_gp": {"critic score"},
             "diffusion": {"distance to the training PCA's subspace", "denoising error"}}
    assert set(report["leak_sources"]) == parts[name]
    assert all(0 <= auc <= 1 for auc in report["leak_sources"].values())
    terms = report["trait_terms"]
    if name in ("wgan_gp", "diffusion"):  # phenotype terms only where they pass a test
        layer = fitted[name].local_ld_.trait_weight[:, 0]
        assert 0 < terms["level"] < 1 and 0 < terms["snps"] < N_SNPS // 4
        assert terms["snps"] == int((layer.abs().sum(1) > 0).sum()) and layer[CAUSAL].any()
        assert terms["held_out_r"][f"{terms['level']:g}"] > 0.5
    else:
        assert terms is None


def test_a_memorising_model_part_is_named_as_a_leak_source(train, validation):
    """With fewer training individuals than SNPs and every PC kept, the training individuals
    lie in the PCA's subspace and held-out ones do not: the distance to it separates them."""
    few = train.take_samples(np.arange(100))  # 100 individuals x 200 SNPs
    generator = _fit("diffusion", few, validation, epochs=1, eval_every=1, variance=1.0,
                     max_components=N_SNPS)
    assert generator.codec_.n_components == 99
    inside = generator.codec_.residual_norms(torch.as_tensor(few.dosages))
    outside = generator.codec_.residual_norms(torch.as_tensor(validation.dosages))
    assert float(inside.max()) < 1e-3 < float(outside.min())
    sources = generator.fit_report()["leak_sources"]
    assert sources["distance to the training PCA's subspace"] == 1.0


def test_flop_count_is_six_n_per_sample_for_a_trained_layer():
    layer = torch.nn.Linear(30, 7)
    x = torch.randn(11, 30)
    _, flops = count_flops(lambda: layer(x).sum().backward(), {"layer": layer})
    assert flops == 3 * 2 * 11 * 30 * 7
    with torch.no_grad():
        _, flops = count_flops(lambda: layer(x), {"layer": layer})
    assert flops == 2 * 11 * 30 * 7


def test_flop_count_of_a_gradient_penalty_is_twelve_n_as_torch_profiler_counts():
    """A gradient penalty's layers run forward, input gradient and the double backward: 6 x
    the forward FLOPs, which the profiler's own count of the matrix products confirms."""
    net = torch.nn.Sequential(torch.nn.Linear(30, 7), torch.nn.LeakyReLU(0.05),
                              torch.nn.Linear(7, 1))
    x = torch.randn(11, 30)
    forward = 2 * 11 * (30 * 7 + 7 * 1)

    def penalty():
        mixed = x.clone().requires_grad_(True)
        with differentiated_twice():
            (grad,) = torch.autograd.grad(net(mixed).sum(), mixed, create_graph=True)
        ((grad.norm(2, dim=1) - 1) ** 2).mean().backward()

    _, flops = count_flops(penalty, {"net": net})
    assert flops == 6 * forward
    with torch.profiler.profile(with_flops=True) as profiler:
        penalty()
    assert sum(event.flops for event in profiler.key_averages() if event.flops) == \
        pytest.approx(6 * forward, rel=0.01)


@pytest.mark.parametrize("norm", ["layer", "none", "batch"])
def test_critic_scores_real_and_fake_as_two_separate_calls_would(norm):
    """One stacked critic call where the critic normalises per individual; BatchNorm keeps
    real and fake apart (its batch statistics would mix them)."""
    generator = WGANGPGenerator(critic_norm=norm)
    generator.config_ = {**generator.DEFAULTS, "critic_norm": norm}
    generator.device_ = torch.device("cpu")
    torch.manual_seed(0)
    generator.critic_ = CriticNet(40, [32, 16], 2, norm)
    real, fake, cond = torch.rand(8, 120), torch.rand(8, 120), torch.randn(8, 2)
    real_scores, fake_scores = generator._critic_pair(real, fake, cond)
    assert torch.allclose(real_scores, generator.critic_(real, cond), atol=1e-6)
    assert torch.allclose(fake_scores, generator.critic_(fake, cond), atol=1e-6)


def test_training_stops_on_patience_and_says_so():
    net = torch.nn.Linear(2, 2)
    scores = iter([0.5, 0.6, 0.55, 0.58, 0.4, 0.9])
    log = train_loop(epochs=50, run_epoch=lambda epoch: {"loss": 1.0}, modules={"net": net},
                     validate=lambda: {"score": next(scores)}, patience=3)
    assert log.stopped == "patience"
    assert len(log.history) == 5 and log.best_epoch == 2


def test_the_first_epochs_weights_can_be_kept():
    net = torch.nn.Linear(2, 2)
    scores = iter([0.9, 0.5, 0.6, 0.4])

    def run_epoch(epoch):
        with torch.no_grad():
            net.weight.add_(1.0)  # every epoch moves the weights
        return {"loss": 1.0}

    start = net.weight.detach().clone()
    log = train_loop(epochs=30, run_epoch=run_epoch, modules={"net": net},
                     validate=lambda: {"score": next(scores)}, eval_every=10,
                     validate_first=True)
    validated = [entry["epoch"] for entry in log.history if "score" in entry]
    assert validated == [1, 10, 20, 30] and log.best_epoch == 1
    assert torch.equal(net.weight, start + 1.0)  # the weights after the first epoch
    # the GANs' standard profile lets their starting point compete; the VAE's and the
    # diffusion model's first-epoch networks are untrained
    standard = {name: cls.hyperparameters("standard")["validate_first"]
                for name, cls in CLASSES.items()}
    assert standard == {"vae": False, "gan": True, "wgan_gp": True, "diffusion": False}
    assert not any(cls.hyperparameters(p)["validate_first"] for cls in CLASSES.values()
                   for p in ("quick", "paper"))


def test_validations_start_at_validate_from():
    net = torch.nn.Linear(2, 2)
    scores = iter([0.9, 0.5, 0.6, 0.4, 0.3])
    log = train_loop(epochs=5, run_epoch=lambda epoch: {"loss": 1.0}, modules={"net": net},
                     validate=lambda: {"score": next(scores)}, validate_from=2)
    assert [entry["epoch"] for entry in log.history if "score" in entry] == [2, 3, 4, 5]
    assert log.best_epoch == 2
    # the VAE's standard profile validates every epoch but its barely trained first one
    assert {key: VAEGenerator.hyperparameters("standard")[key]
            for key in ("eval_every", "validate_from")} == {"eval_every": 1, "validate_from": 2}


def test_standard_profile_stops_on_validation_with_a_wall_clock_cap(train, validation):
    standard = VAEGenerator.hyperparameters("standard")
    assert standard["patience"] and standard["max_seconds"]
    assert VAEGenerator.hyperparameters("quick")["max_seconds"] is None  # deterministic CI
    generator = VAEGenerator(**{**TINY["vae"], "epochs": 100_000, "patience": None,
                                "max_seconds": 2.0})
    started = time.monotonic()
    generator.fit(train, seed=1, context=FitContext(validation=validation, profile="standard"))
    assert generator.training_["stopped"] == "max_seconds"
    assert time.monotonic() - started < 2.0 + 3.0


def test_vae_samples_by_default_and_keeps_argmax(fitted, train, validation):
    assert fitted["vae"].config_["decode"] == "sample"
    argmax = _fit("vae", train, validation, decode="argmax", epochs=5)
    sampled = _fit("vae", train, validation, epochs=5)
    # Argmax decoding gives typical individuals: less heterozygosity spread than sampling.
    spread = [np.var(g.generate(200, seed=2), axis=0).mean() for g in (argmax, sampled)]
    assert spread[0] < spread[1]


def test_vae_samples_latent_codes_from_the_aggregate_posterior(fitted, train, validation):
    single = _fit("vae", train, validation, latent="posterior", epochs=3)
    net = single.net_
    with torch.no_grad():
        mean, log_var = net.encode(one_hot(torch.as_tensor(train.dosages)))
    expected = torch.cov(mean.double().T) + torch.diag(log_var.double().exp().mean(0))
    factor = net.latent.factors[0].double()
    assert torch.allclose(net.latent.means[0].double(), mean.double().mean(0), atol=1e-5)
    assert torch.allclose(factor @ factor.T, expected, atol=1e-4)
    # the default: a Gaussian mixture of the posterior means (BIC-chosen size), each
    # component widened by the mean posterior variance
    mixture = fitted["vae"].net_
    assert fitted["vae"].config_["latent"] == "mixture"
    k = mixture.latent.weights.numel()
    assert 1 <= k <= 8 and mixture.latent.weights.sum().item() == pytest.approx(1.0)
    with torch.no_grad():
        codes, _ = mixture.encode(one_hot(torch.as_tensor(train.dosages)))
        with seeded(0, torch.device("cpu")):
            drawn = mixture.latent_codes(20_000)
    assert torch.allclose(drawn.mean(0), codes.mean(0), atol=0.1 * codes.std(0).mean().item())
    prior = _fit("vae", train, validation, latent="prior", epochs=2)
    assert torch.equal(prior.net_.latent.means[0], torch.zeros(prior.net_.latent_dim))
    assert torch.equal(prior.net_.latent.factors[0], torch.eye(prior.net_.latent_dim))
    with pytest.raises(GeneratorError, match="latent"):
        _fit("vae", train, validation, latent="clusters", epochs=1)


def test_bfloat16_precision_trains_and_is_checked(train, validation):
    generator = _fit("vae", train, validation, precision="bfloat16", epochs=3)
    assert generator.generate(10, seed=1).shape == (10, N_SNPS)
    with pytest.raises(GeneratorError, match="precision"):
        VAEGenerator(precision="half")


def test_vae_temperature_moves_sampling_towards_argmax(fitted):
    vae = fitted["vae"]
    default = vae.config_["temperature"]
    assert default == VAEGenerator.hyperparameters("standard")["temperature"]
    vae.config_.update(decode="argmax")
    try:
        argmax = vae.generate(100, seed=3)
        vae.config_.update(decode="sample", temperature=1e-4)
        cold = vae.generate(100, seed=3)
    finally:
        vae.config_.update(decode="sample", temperature=default)
    warm = vae.generate(100, seed=3)
    assert (cold == argmax).mean() > 0.99
    assert (warm == argmax).mean() < (cold == argmax).mean()


def test_subnormals_are_flushed_while_training_and_restored_after():
    from genobench_plugins.deep import runtime

    tiny = torch.tensor([1e-40], dtype=torch.float32)
    assert float(tiny * 1.0) > 0  # subnormals kept outside the block
    with runtime.flush_denormals():
        assert float(tiny * 1.0) == 0.0
    assert float(tiny * 1.0) > 0


def test_large_blocks_are_reused_on_glibc(fitted):
    """After a CPU fit, blocks the size of a wide layer's weight gradient come from the C heap
    (glibc's mallopt said yes) where glibc is the C library; elsewhere nothing changes."""
    import platform

    from genobench_plugins.deep import runtime

    applied = runtime.reuse_large_blocks()
    assert runtime.reuse_large_blocks() is applied  # once per process
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert applied is True
    big = torch.ones(runtime.LARGE_BLOCK_BYTES // 64)  # still allocates and frees as before
    assert float(big.sum()) == big.numel()


def test_gans_condition_on_ancestry_and_draw_through_the_local_ld_layer(fitted, train):
    gan, wgan = fitted["gan"], fitted["wgan_gp"]
    # two ancestry coordinates (the training split's leading PCs) condition both nets; the
    # WGAN-GP's phenotype comes first
    assert gan.ancestry_codec_.n_components == 2
    assert gan.generator_.cond_dim == gan.critic_.cond_dim == 2
    assert wgan.generator_.cond_dim == wgan.critic_.cond_dim == 1 + 2
    assert wgan.local_ld_.trait_weight.shape[1] == 1 + 2 and gan.local_ld_.order == 16
    scores = gan.ancestry_codec_.encode(torch.as_tensor(train.dosages))
    with seeded(0, torch.device("cpu")):
        drawn = gan.ancestry_.sample(20_000)
    assert torch.allclose(drawn.mean(0), scores.mean(0), atol=0.1)
    assert torch.allclose(drawn.std(0), scores.std(0), rtol=0.15)
    for cls in (GANGenerator, WGANGPGenerator, VAEGenerator, DiffusionGenerator):
        paper = cls.hyperparameters("paper")  # the paper's models: no added parts
        assert paper["local_ld"] == 0 and paper.get("ancestry", 0) == 0


def test_standard_profile_chooses_the_sampling_temperature_on_validation(train, validation):
    assert VAEGenerator.hyperparameters("standard")["temperatures"] == TEMPERATURES
    for profile in ("quick", "paper"):  # a fixed temperature there
        assert VAEGenerator.hyperparameters(profile)["temperatures"] is None
    generator = VAEGenerator(**{**TINY["vae"], "epochs": 10, "eval_every": 5})
    generator.fit(train, seed=1, context=FitContext(validation=validation, profile="standard"))
    report = generator.fit_report()
    tried = report["temperatures"]
    assert len(tried) == len(TEMPERATURES)  # a tiny net: every candidate within the budget
    best = max(tried, key=lambda entry: entry["score"])
    assert report["temperature"] == generator.config_["temperature"] == best["temperature"]
    assert {"diversity", "correlation", "membership", "relatives"} <= set(best)
    json.dumps(report)
    # the chosen temperature is the one generation uses, also after saving and loading
    state = generator.get_state()
    loaded = VAEGenerator()
    loaded.set_state(state)
    assert loaded.config_["temperature"] == report["temperature"]
    assert np.array_equal(loaded.generate(20, seed=4), generator.generate(20, seed=4))
    # argmax decoding has no temperature to choose
    argmax = VAEGenerator(**{**TINY["vae"], "epochs": 5, "eval_every": 5, "decode": "argmax"})
    argmax.fit(train, seed=1, context=FitContext(validation=validation, profile="standard"))
    assert argmax.fit_report()["temperatures"] == []


def test_local_ld_auto_takes_its_lags_from_the_training_splits_ld(train, validation):
    generator = _fit("vae", train, validation, local_ld="auto", epochs=2)
    expected = ld_extent_lags(train.dosages, train.chromosomes)
    assert generator.config_["local_ld"] == generator.local_ld_.order == expected
    assert VAEGenerator.hyperparameters("standard")["local_ld"] == "auto"
    for bad in (-1, "long", 2.5, True):
        with pytest.raises(GeneratorError, match="local_ld"):
            VAEGenerator(local_ld=bad)


def test_vae_log_variance_is_bounded_but_keeps_its_gradient():
    from genobench_plugins.vae import VAENet

    net = VAENet(10, [8, 4], 2)
    with torch.no_grad():
        net.log_var.bias.fill_(50.0)  # far above the bound
    x = one_hot(torch.randint(0, 3, (6, 10), dtype=torch.int8))
    _, log_var = net.encode(x)
    assert torch.all(log_var <= 20.0)
    # the KL term's pull reaches the overshooting units (a plain clamp would give 0)
    kl = -0.5 * (1 + log_var - log_var.exp()).sum()
    kl.backward()
    assert torch.all(net.log_var.bias.grad > 0)
