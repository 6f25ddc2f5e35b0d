"""The deep generators' autoregressive local-LD output layer
(genobench_plugins.deep.local_ld): its lag terms against a direct loop, chromosome boundaries,
chunking, fitting, and sequential drawing."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from genobench_plugins.deep import seeded
from genobench_plugins.deep.local_ld import (
    AUTO_LAGS,
    LocalLD,
    binomial_logits,
    lag_mask,
    ld_by_lag,
    ld_extent_lags,
)


def _direct_context(layer: LocalLD, x: torch.Tensor, chromosomes) -> torch.Tensor:
    """sum over lags of weight[j, lag - 1, x[:, j - lag]], same chromosome only, by loops."""
    n, m = x.shape
    out = torch.zeros(n, m, 3)
    for j in range(m):
        for lag in range(1, layer.order + 1):
            if j - lag >= 0 and chromosomes[j] == chromosomes[j - lag]:
                out[:, j] += layer.weight[j, lag - 1][x[:, j - lag].long()]
    return out


@pytest.fixture
def layer_and_data():
    generator = torch.Generator().manual_seed(3)
    chromosomes = np.array(["1"] * 25 + ["2"] * 15)
    layer = LocalLD(40, 4, chromosomes)
    with torch.no_grad():
        layer.weight.normal_(generator=generator)
    x = torch.randint(0, 3, (7, 40), generator=generator, dtype=torch.int8)
    return layer, x, chromosomes


def test_lag_terms_match_a_direct_loop_and_stop_at_chromosome_boundaries(layer_and_data):
    layer, x, chromosomes = layer_and_data
    expected = _direct_context(layer, x, chromosomes)
    assert torch.allclose(layer.context(x), expected, atol=1e-5)
    # the first SNP of chromosome 2 sees no lag; the one after it one
    assert layer.mask[25].sum() == 0 and layer.mask[26].tolist() == [1, 0, 0, 0]
    layer.CHUNK_FLOATS = 7 * 3 * 4 * 3  # three SNPs a chunk: lags reach across chunks
    assert len(layer.chunks(7)) > 10
    assert torch.allclose(layer.context(x), expected, atol=1e-5)


def test_lag_mask_without_chromosomes_is_one_chromosome():
    mask = lag_mask(5, 3, None)
    assert mask.tolist() == [[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1], [1, 1, 1]]


def test_pretraining_learns_ld_and_does_not_depend_on_chunks():
    # SNPs in pairs: the second copies the first (perfect LD at lag 1)
    generator = torch.Generator().manual_seed(0)
    first = torch.randint(0, 3, (200, 10), generator=generator, dtype=torch.int8)
    x = first.repeat_interleave(2, dim=1)
    base = torch.full((20, 3), -np.log(3.0))
    whole, chunked = LocalLD(20, 2), LocalLD(20, 2)
    chunked.CHUNK_FLOATS = 200 * 3 * 2 * 3
    loss = whole.pretrain(x, base)
    assert chunked.pretrain(x, base) == pytest.approx(loss, rel=1e-5)
    assert torch.allclose(whole.weight, chunked.weight, atol=1e-5)
    # copies are predicted far better than by frequencies alone (log 3 nats per SNP)
    assert loss < 0.75 * 20 * np.log(3.0)
    with seeded(1, torch.device("cpu")):
        drawn = whole.sample(base.expand(500, -1, -1))
    assert (drawn[:, 1::2] == drawn[:, 0::2]).float().mean() > 0.9
    # per-individual base logits (n, m, 3) fit too
    assert LocalLD(20, 2).pretrain(x, base.expand(200, -1, -1)) == pytest.approx(loss, rel=1e-5)


def test_drawing_without_lag_terms_follows_the_logits():
    layer = LocalLD(3, 2)
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [1 / 3, 1 / 3, 1 / 3]]))
    with seeded(2, torch.device("cpu")):
        drawn = layer.sample(logits.expand(20_000, -1, -1))
    for j in range(3):
        shares = torch.bincount(drawn[:, j].long(), minlength=3).float() / 20_000
        assert torch.allclose(shares, logits[j].exp(), atol=0.02)
    with seeded(2, torch.device("cpu")):  # a lower temperature leans to the likeliest
        cold = layer.sample(logits.expand(20_000, -1, -1), temperature=0.5)
    assert (cold[:, 0] == 0).float().mean() > 0.8


def test_binomial_logits_are_hardy_weinberg_of_the_dosage():
    probabilities = binomial_logits(torch.tensor([[0.0, 1.0, 1.6]])).exp()[0]
    assert torch.allclose(probabilities.sum(1), torch.ones(3))
    assert torch.allclose(probabilities[1], torch.tensor([0.25, 0.5, 0.25]))
    assert torch.allclose(probabilities[2], torch.tensor([0.04, 0.32, 0.64]), atol=1e-6)
    assert probabilities[0, 0] == pytest.approx(0.99**2)


def test_phenotype_terms_keep_a_conditional_models_association():
    generator = torch.Generator().manual_seed(4)
    phenotype = torch.randn(600, 1, generator=generator)
    p = torch.sigmoid(1.5 * phenotype).expand(-1, 3)  # 3 SNPs whose allele tracks the trait
    x = torch.binomial(torch.full_like(p, 2.0), p, generator=generator).to(torch.int8)
    layer = LocalLD(3, 1, cond_dim=1)
    layer.pretrain(x, torch.full((3, 3), -np.log(3.0)), phenotype)
    effect = layer.trait_weight[:, 0, 2] - layer.trait_weight[:, 0, 0]
    assert (effect > 1.0).all()  # genotype 2 over 0 per standard deviation of the trait
    with seeded(5, torch.device("cpu")):
        drawn = layer.sample(torch.full((600, 3, 3), -np.log(3.0)), phenotype)
    r = np.corrcoef(drawn[:, 0].numpy(), phenotype[:, 0].numpy())[0, 1]
    assert r > 0.4
    assert torch.equal(layer.context(x[:5]), layer.context(x[:5], cond=None))
    assert not torch.equal(layer.context(x[:5], cond=phenotype[:5]), layer.context(x[:5]))


def test_vae_lag_terms_per_batch_equal_the_precomputed_table(monkeypatch):
    from genobench_plugins.vae import VAEGenerator

    generator = torch.Generator().manual_seed(6)
    x = torch.randint(0, 3, (12, 30), generator=generator, dtype=torch.int8)
    vae = VAEGenerator()
    vae.local_ld_ = LocalLD(30, 3)
    with torch.no_grad():
        vae.local_ld_.weight.normal_(generator=generator)
    rows = torch.tensor([1, 5, 7])
    table = vae._lag_terms(x)(rows, x[rows])
    monkeypatch.setattr(VAEGenerator, "LAG_TERMS_BYTES", 0)  # too large to keep: per batch
    assert torch.allclose(vae._lag_terms(x)(rows, x[rows]), table)


def test_pretraining_within_seconds_cuts_the_steps_for_every_snp():
    generator = torch.Generator().manual_seed(7)
    x = torch.randint(0, 3, (50, 40), generator=generator, dtype=torch.int8)
    base = torch.full((40, 3), -np.log(3.0))
    full, short = LocalLD(40, 2), LocalLD(40, 2)
    short.CHUNK_FLOATS = 50 * 3 * 2 * 10  # four chunks: the cut applies to all of them
    full.pretrain(x, base, steps=60)
    short.pretrain(x, base, steps=60, seconds=0.0)  # no time: the 10-step floor
    ten = LocalLD(40, 2)
    ten.pretrain(x, base, steps=10)
    assert torch.allclose(short.weight, ten.weight, atol=1e-6)
    assert not torch.allclose(full.weight, ten.weight, atol=1e-3)


def _ar_genotypes(rho: float, n: int = 400, m: int = 600, seed: int = 0) -> np.ndarray:
    """Dosages from two haplotypes each, alleles thresholded from a Gaussian AR(1) process
    along the SNPs: LD between SNPs ``lag`` apart decays like rho ** lag."""
    rng = np.random.default_rng(seed)
    h = np.empty((2 * n, m))
    h[:, 0] = rng.normal(size=2 * n)
    for j in range(1, m):
        h[:, j] = rho * h[:, j - 1] + np.sqrt(1 - rho ** 2) * rng.normal(size=2 * n)
    alleles = (h > 0).astype(np.int8)
    return alleles[:n] + alleles[n:]


def test_ld_by_lag_decays_and_stays_within_chromosomes():
    x = _ar_genotypes(0.8)
    r2 = ld_by_lag(x, lags=(1, 2, 4, 8))
    assert r2[1] > r2[2] > r2[4] > r2[8]
    # two chromosomes of 300 SNPs: no pair 400 apart on one chromosome
    chromosomes = np.array(["1"] * 300 + ["2"] * 300)
    assert 400 not in ld_by_lag(x, chromosomes, lags=(1, 400))
    assert 400 in ld_by_lag(x, lags=(1, 400))


def test_auto_lags_follow_the_extent_of_ld():
    short, long = _ar_genotypes(0.5), _ar_genotypes(0.97)
    assert ld_extent_lags(short) == AUTO_LAGS[0]
    assert ld_extent_lags(long) == AUTO_LAGS[-1]
    assert ld_extent_lags(short) < ld_extent_lags(_ar_genotypes(0.85)) <= ld_extent_lags(long)


def _trait_panel(n: int, m: int, associated: int, seed: int):
    """``n`` individuals x ``m`` SNPs whose first ``associated`` SNPs' alleles track one
    standardised phenotype (log-odds 0.8 per standard deviation); the rest do not."""
    generator = torch.Generator().manual_seed(seed)
    phenotype = torch.randn(n, 1, generator=generator)
    p = torch.full((n, m), 0.4)
    p[:, :associated] = torch.sigmoid(-0.4 + 0.8 * phenotype)
    x = torch.binomial(torch.full_like(p, 2.0), p, generator=generator).to(torch.int8)
    return x, phenotype


def _selected(x, phenotype, levels=(0.0, 1e-4, 1e-2, 1.0)):
    layer = LocalLD(x.shape[1], 1, cond_dim=1)
    base = torch.log(torch.stack([(x == g).float().mean(0) for g in range(3)], 1) + 1e-3)
    layer.pretrain(x, base, torch.zeros_like(phenotype))  # the other terms, no phenotype
    return layer, layer.select_trait_terms(x, base, phenotype, 1, levels)


def test_phenotype_terms_are_kept_at_associated_snps_only():
    x, phenotype = _trait_panel(600, 60, 6, seed=8)
    layer, chosen = _selected(x, phenotype)
    kept = layer.trait_weight[:, 0].abs().sum(1) > 0
    assert 0 < chosen["level"] < 1 and chosen["snps"] == int(kept.sum())
    assert kept[:6].all() and kept[6:].sum() <= 3
    effect = layer.trait_weight[:6, 0, 2] - layer.trait_weight[:6, 0, 0]
    assert (effect > 0.8).all()  # log-odds of 2 over 0 per standard deviation: about 1.6
    assert chosen["held_out_r"]["0"] == 0.0 and chosen["held_out_r"]["0.0001"] > 0.3


@pytest.mark.parametrize("seed", [9, 15, 16])  # where one standard error kept every term
def test_without_association_no_phenotype_terms_are_kept(seed):
    x, phenotype = _trait_panel(400, 60, 0, seed=seed)
    layer, chosen = _selected(x, phenotype)
    assert chosen["level"] == 0.0 and chosen["snps"] == 0
    assert not layer.trait_weight.any()


def test_the_score_test_holds_its_level_on_null_snps():
    from genobench_plugins.deep.local_ld import _tested_terms

    x, phenotype = _trait_panel(300, 2000, 0, seed=10)
    base = torch.log(torch.stack([(x == g).float().mean(0) for g in range(3)], 1))
    offset = base[:, None, :].expand(-1, 300, -1).contiguous()
    _, p = _tested_terms(offset, x.long().T.contiguous(), phenotype, penalty=1.0)
    assert 0.03 < float((p < 0.05).double().mean()) < 0.07
    assert 0.005 < float((p < 0.01).double().mean()) < 0.02
