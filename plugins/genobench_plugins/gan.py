"""The seed paper's two adversarial models with Gumbel-Softmax outputs: ``gan`` and ``wgan_gp``.

The generator maps noise to 3 logits per SNP; during training its output is a Gumbel-Softmax
sample (Jang et al. 2017; Maddison et al. 2017), a relaxed one-hot vector whose temperature is
annealed from 1 to 0.1, so gradients reach the generator through discrete genotypes; at
generation the sample is hard, one genotype per SNP. The discriminator (critic) reads one-hot
genotypes. Both nets are residual MLPs whose widths are proportional to 3 x SNPs, as in the
paper's ``proportional_neuron`` configurations (Xie et al. 2026, GigaScience). The generator's
output bias starts at the log training genotype frequencies, so training starts from the
independent-sites model and has to learn the dependence between SNPs, not the frequencies.

- ``gan``: binary cross-entropy (non-saturating) loss (Goodfellow et al. 2014); unconditional.
- ``wgan_gp``: Wasserstein loss with gradient penalty, lambda 10, 5 critic steps per generator
  step, Adam(0.5, 0.9) (Gulrajani et al. 2017); conditioned on phenotypes, which are
  concatenated to the input of every generator and critic block.

Outside the paper profile both nets are also conditioned on ``ancestry`` (2) coordinates: the
training split's leading PCs for real individuals (:class:`~.deep.pca.PCACodec`), drawn from a
Gaussian mixture of them (:class:`~.deep.mixture.MixtureSampler`) for new ones; and the
generator's logits are drawn through the local-LD layer (:class:`~.deep.local_ld.LocalLD`,
``local_ld`` 16 lags, at ``temperature`` 0.9), fitted before training on the training
frequencies with the ancestry coordinates (and phenotypes) as conditions. Measured on
human_chr22 (seed 1, standard profile): the GAN alone learnt no LD in the 100 s cap (ld 0.01 on
the published board); with the layer, ld 0.37 but no population structure (structure -0.04);
with the ancestry coordinates too, ld 0.66 and structure 0.67, while its individuals fail the
closer-than-holdout and relatives gates (docs/performance.md).

The standard profile validates after the first epoch too (``validate_first``), so the starting
point (the layer on the starting frequencies, with the ancestry coordinates, and an untrained
generator) competes with the trained weights. Trained to the 100 s cap, both models scored
below it on this machine: the GAN's validation correlation score was 0.38 after one epoch and
0.16-0.21 at epochs 10-40 (human_chr22, seed 1), and its test-split ld fell from 0.76 to 0.55
while its individuals failed the closer-than-holdout gate; both now keep the first epoch's
weights on human_chr22 and cow_chr14, which their Training table shows. (The VAE and the
diffusion model do not: their first epoch's networks are untrained, and the validation score
kept them where later checkpoints paid a leakage penalty, with the diffusion model's test
scores at ld -1.00.)
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import genobench

from . import deep
from .deep.mixture import MixtureSampler
from .deep.pca import PCACodec


class GumbelGeneratorNet(nn.Module):
    """Noise (and condition) -> residual MLP -> 3 logits per SNP."""

    def __init__(self, latent_dim: int, widths: list[int], n_snps: int, cond_dim: int = 0):
        super().__init__()
        self.body = deep.ResidualMLP(latent_dim, widths, cond_dim=cond_dim, norm="batch")
        self.head = nn.Linear(widths[-1] + cond_dim, 3 * n_snps)
        self.latent_dim, self.cond_dim = latent_dim, cond_dim

    def logits(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = self.body(z, cond)
        out = self.head(torch.cat([h, cond], dim=1) if self.cond_dim else h)
        return out.reshape(out.shape[0], -1, 3)

    def forward(self, z, cond, tau: float, hard: bool = False) -> torch.Tensor:
        """A relaxed (or straight-through hard) one-hot sample, flattened (n, 3 m)."""
        return F.gumbel_softmax(self.logits(z, cond), tau=tau, hard=hard, dim=-1).flatten(1)


class CriticNet(nn.Module):
    """One-hot genotypes (and condition) -> residual MLP -> one score."""

    def __init__(self, n_snps: int, widths: list[int], cond_dim: int = 0, norm: str = "layer"):
        super().__init__()
        self.body = deep.ResidualMLP(3 * n_snps, widths, cond_dim=cond_dim, norm=norm)
        self.head = nn.Linear(widths[-1] + cond_dim, 1)
        self.cond_dim = cond_dim

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = self.body(x, cond)
        return self.head(torch.cat([h, cond], dim=1) if self.cond_dim else h).squeeze(1)


def temperature(epoch: int, epochs: int, start: float, end: float) -> float:
    """Gumbel-Softmax temperature, annealed geometrically from ``start`` to ``end``."""
    fraction = epoch / max(1, epochs - 1)
    return float(start * (end / start) ** fraction)


class _GumbelAdversarial(deep.TorchGenerator):
    """What the GAN and the WGAN-GP share: nets, temperature, sampling, save / load."""

    #: Divisors of 3 x SNPs giving the generator's and the critic's hidden widths.
    GENERATOR_DIVISORS: tuple = ()
    CRITIC_DIVISORS: tuple = ()

    def _widths(self) -> tuple[list[int], list[int]]:
        features, cap = 3 * self.n_snps_, self.config_["max_width"]
        g = self.config_["generator_hidden"] or [
            deep.scaled_width(features, d, minimum=64, maximum=cap)
            for d in self.GENERATOR_DIVISORS]
        c = self.config_["critic_hidden"] or [
            deep.scaled_width(features, d, minimum=64, maximum=cap)
            for d in self.CRITIC_DIVISORS]
        return [int(w) for w in g], [int(w) for w in c]

    def _build(self, extra=None) -> None:
        if self.config_["decode"] not in ("argmax", "sample"):
            raise genobench.GeneratorError(f"{self.name}: decode must be 'argmax' or 'sample'")
        g, c = self._widths()
        self.config_["generator_hidden"], self.config_["critic_hidden"] = g, c
        if extra is not None:
            self.ancestry_codec_ = PCACodec.from_state(extra) if "pca_mean" in extra else None
        traits = 0 if self.scaler_ is None else len(self.scaler_.names)
        ancestry = 0 if self.ancestry_codec_ is None else self.ancestry_codec_.n_components
        self.ancestry_ = MixtureSampler(ancestry).to(self.device_) if ancestry else None
        self.generator_ = GumbelGeneratorNet(int(self.config_["latent_dim"]), g, self.n_snps_,
                                             traits + ancestry).to(self.device_)
        self.critic_ = CriticNet(self.n_snps_, c, traits + ancestry,
                                 self.config_["critic_norm"]).to(self.device_)
        self._build_local_ld(self.n_snps_, traits + ancestry)

    def _modules(self):
        modules = {"generator": self.generator_, "critic": self.critic_}
        if self.ancestry_ is not None:
            modules["ancestry"] = self.ancestry_
        return self._with_local_ld(modules)

    def _extra_state(self):
        return {} if self.ancestry_codec_ is None else self.ancestry_codec_.state()

    def _fit_ancestry(self, data: torch.Tensor) -> None:
        """With ``ancestry`` k > 0: the training split's leading k PCs over all its SNPs
        (ancestry is genome-wide; standardised scores, :class:`~.deep.pca.PCACodec`), which
        both nets are conditioned on; :meth:`_prepare` fits the Gaussian mixture of the
        training individuals' scores (:class:`~.deep.mixture.MixtureSampler`, up to 8
        components by BIC) that new individuals' coordinates are drawn from."""
        k = int(self.config_.get("ancestry") or 0)
        genome = np.zeros(data.shape[1], dtype=np.int64)  # one block: PCs of all SNPs
        self.ancestry_codec_ = PCACodec.fit(data, genome, variance=1.0,
                                            max_components=k) if k else None

    def _with_ancestry(self, cond: torch.Tensor | None, x: torch.Tensor | None = None,
                       n: int = 0) -> torch.Tensor | None:
        """The nets' condition: ``cond`` (phenotypes, or None) followed by the ancestry
        coordinates of genotypes ``x``, or ``n`` drawn ones; ``cond`` without ancestry."""
        if self.ancestry_codec_ is None:
            return cond
        scores = self.ancestry_codec_.encode(x) if x is not None else self.ancestry_.sample(n)
        return scores if cond is None else torch.cat([cond, scores.to(cond.dtype)], dim=1)

    def _tau(self, epoch: int) -> float:
        config = self.config_
        return temperature(epoch, int(config["epochs"]), float(config["tau_start"]),
                           float(config["tau_end"]))

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.generator_.latent_dim, device=self.device_)

    @torch.no_grad()
    def _sample(self, n: int, cond=None) -> torch.Tensor:
        training = self.generator_.training
        self.generator_.eval()
        cond = self._with_ancestry(cond, n=n)
        # a hard Gumbel-Softmax sample is a categorical draw from softmax(logits)
        out = self._draw(self.generator_.logits(self._noise(n), cond), cond)
        self.generator_.train(training)
        return out

    def _critic_pair(self, real: torch.Tensor, fake: torch.Tensor,
                     cond: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The critic's scores (n,) of ``real`` and of ``fake`` (one-hot rows, n each).

        One critic call on the stacked batch when the critic normalises each individual on
        its own (LayerNorm or none: the scores equal two calls', and a product of twice the
        rows runs faster); two calls with BatchNorm, whose batch statistics must not mix
        real and fake individuals.
        """
        if self.config_["critic_norm"] == "batch":
            return self.critic_(real, cond), self.critic_(fake, cond)
        both = None if cond is None else torch.cat([cond, cond])
        scores = self.critic_(torch.cat([real, fake]), both)
        return scores[:real.shape[0]], scores[real.shape[0]:]

    def _membership_signals(self):
        """The kept critic's score of each individual, negated (a critic that memorised its
        training individuals scores them as more real: the white-box attack of Hayes et al.
        2019, LOGAN, PoPETs)."""

        def critic_score(x: torch.Tensor, cond=None) -> torch.Tensor:
            self.critic_.eval()
            cond = self._with_ancestry(cond if self.scaler_ is not None else None, x)
            return -self.critic_(deep.one_hot(x), cond)

        return {"critic score": critic_score}

    def _prepare(self, train) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Build the nets for ``train``; start the generator at the training genotype
        frequencies (output bias = log f); fit the local-LD layer on top of them and the
        ancestry mixture. :returns: the dosages (n, m) and the nets' condition rows (n, c)
        (phenotypes then ancestry; None without either)."""
        self.chromosomes_ = train.chromosomes
        data = torch.as_tensor(train.dosages, device=self.device_)
        self._fit_ancestry(data)
        self._build()
        traits = None if self.scaler_ is None else \
            torch.as_tensor(self.train_phenotypes_, device=self.device_)
        with torch.no_grad():
            self.generator_.head.bias.copy_(deep.genotype_log_frequencies(data))
        conds = self._with_ancestry(traits, data)
        self._fit_local_ld(data, self.generator_.head.bias.reshape(-1, 3), conds)
        if self.ancestry_ is not None:  # from the coordinates just encoded, the last columns
            self.ancestry_.fit(conds[:, -self.ancestry_.dim:], components=8)
        return data, conds

    def _epoch_runner(self, data: torch.Tensor, conds: torch.Tensor | None, step,
                      names: tuple[str, str]):
        """``run_epoch`` for the training loop: one pass over shuffled batches of ``data``
        (dosages) at this epoch's temperature, ``step(real one-hot, condition rows or None,
        tau)`` updating the nets and returning two losses, averaged over the batches under
        ``names``."""
        batch_size = int(self.config_["batch_size"])

        def run_epoch(epoch: int) -> dict:
            self.generator_.train()
            self.critic_.train()
            tau = self._tau(epoch)
            totals, steps = torch.zeros(2, device=self.device_), 0
            for rows in deep.batches(data.shape[0], batch_size, shuffle=True,
                                     device=self.device_, drop_small=True):
                totals += step(deep.one_hot(data[rows]), None if conds is None else conds[rows],
                               tau)
                steps += 1
            first, second = (totals / max(steps, 1)).tolist()
            return {names[0]: first, names[1]: second, "tau": tau}

        return run_epoch

    def _train(self, run_epoch, *, started, time_limit, progress) -> deep.TrainingLog:
        log = super()._train(run_epoch, started=started, time_limit=time_limit,
                             progress=progress)
        self.generator_.eval()
        return log


class GANGenerator(_GumbelAdversarial):
    """GAN with Gumbel-Softmax outputs and a binary cross-entropy loss.

    Hyperparameters (``standard`` defaults; ``quick`` and ``paper`` change some):

    - ``epochs`` 200 (quick 30, paper 1000), ``batch_size`` 64 (quick 32, paper 256).
    - ``lr_generator`` 2e-4, ``lr_discriminator`` 2e-4 (quick 5e-4 and 5e-4; paper 5e-4 and
      1e-4, the paper's cow chr14 settings), Adam betas (0.5, 0.999).
    - ``critic_norm`` "none" (paper "batch"): normalisation in the discriminator's blocks; on a
      few hundred individuals BatchNorm let the discriminator win early and the allele
      frequencies drift (r 0.85 against 0.98 without it on the quick suite).
    - ``latent_dim`` 128; ``generator_hidden`` default [3m/6, 3m/3], ``critic_hidden``
      (the discriminator) default [3m/5, 3m/10] for m SNPs, each capped at ``max_width``
      (384 quick, 512 standard, none paper).
    - ``tau_start`` 1.0, ``tau_end`` 0.1: Gumbel-Softmax temperature, annealed geometrically
      over the epochs; ``straight_through`` False (True: hard one-hot forward pass).
    - ``decode`` "sample" (hard Gumbel-Softmax: a categorical draw per SNP) or "argmax".
    - ``local_ld`` 16, ``ld_penalty`` 1.0, ``temperature`` 0.9, ``ancestry`` 2 (paper: 0, 0,
      1.0 and 0): the local-LD layer and the ancestry coordinates (module docs).
    - ``eval_every`` 10 (quick 5): epochs between validations; the standard profile also
      validates after the first epoch (``validate_first``, module docs).
    """

    name = "gan"
    description = ("GAN with Gumbel-Softmax outputs (3 logits per SNP, temperature 1 -> 0.1), "
                   "BCE loss, residual MLPs")
    citation = ("Xie et al. 2026, GigaScience, doi:10.1093/gigascience/giag044; "
                "Goodfellow et al. 2014, NeurIPS; Jang et al. 2017, ICLR")
    supports_phenotypes = False

    GENERATOR_DIVISORS = (6, 3)
    CRITIC_DIVISORS = (5, 10)
    DEFAULTS = dict(epochs=200, batch_size=64, lr_generator=2e-4, lr_discriminator=2e-4,
                    latent_dim=128, generator_hidden=None, critic_hidden=None, max_width=512,
                    tau_start=1.0, tau_end=0.1, straight_through=False, decode="sample",
                    critic_norm="none", eval_every=10, local_ld=16, ld_penalty=1.0,
                    temperature=0.9, ancestry=2)
    PROFILES = {
        "quick": dict(epochs=30, batch_size=32, lr_generator=5e-4, lr_discriminator=5e-4,
                      max_width=384, eval_every=5),
        "standard": dict(validate_first=True),
        "paper": dict(epochs=1000, batch_size=256, lr_generator=5e-4, lr_discriminator=1e-4,
                      critic_norm="batch", max_width=None, selection="f1", local_ld=0,
                      temperature=1.0, ancestry=0),
    }

    def _fit_model(self, train, *, started, time_limit, progress) -> deep.TrainingLog:
        config = self.config_
        data, conds = self._prepare(train)
        opt_g = deep.adam(self.generator_.parameters(), lr=config["lr_generator"],
                          betas=(0.5, 0.999))
        opt_d = deep.adam(self.critic_.parameters(), lr=config["lr_discriminator"],
                          betas=(0.5, 0.999))
        hard = bool(config["straight_through"])

        def step(real: torch.Tensor, cond, tau: float) -> torch.Tensor:
            n = real.shape[0]
            ones = torch.ones(n, device=self.device_)
            fake = self.generator_(self._noise(n), cond, tau, hard)
            real_scores, fake_scores = self._critic_pair(real, fake.detach(), cond)
            d_loss = (F.binary_cross_entropy_with_logits(real_scores, ones)
                      + F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(ones)))
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            g_loss = F.binary_cross_entropy_with_logits(self.critic_(fake, cond), ones)
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            return torch.stack([d_loss.detach(), g_loss.detach()])

        run_epoch = self._epoch_runner(data, conds, step, ("d_loss", "loss"))
        return self._train(run_epoch, started=started, time_limit=time_limit,
                           progress=progress)


class WGANGPGenerator(_GumbelAdversarial):
    """Phenotype-conditioned WGAN-GP with Gumbel-Softmax outputs.

    Hyperparameters (``standard`` defaults; ``quick`` and ``paper`` change some):

    - ``epochs`` 300 (quick 30, paper 1000): passes of the critic over the training split;
      ``batch_size`` 64 (quick 32, paper 128).
    - ``n_critic`` 5 critic steps per generator step, ``gp_lambda`` 10, ``lr`` 1e-3 for both
      nets (paper 1e-4; at 2e-4 the standard profile's 100 s on quick_human_trait ended with
      a correlation score of 0.075, at 1e-3 it passed 0.3 by epoch 30), Adam betas (0.5, 0.9)
      (Gulrajani et al. 2017; the paper's settings).
    - ``latent_dim`` 128; ``generator_hidden`` default [3m/24, 3m/12, 3m/6], ``critic_hidden``
      default [3m/8, 3m/16, 3m/32] (the paper's human configuration), capped at
      ``max_width`` (384 quick, 512 standard, none paper). The critic uses LayerNorm
      (BatchNorm would break the per-sample gradient penalty).
    - ``tau_start`` 1.0, ``tau_end`` 0.1, ``straight_through`` False, ``decode`` "sample".
    - ``local_ld`` 16, ``ld_penalty`` 1.0, ``temperature`` 0.9, ``ancestry`` 2 (paper: 0, 0,
      1.0 and 0): the local-LD layer and the ancestry coordinates (module docs); the layer's
      phenotype terms carry the conditioning phenotypes' association with each SNP.
    - ``trait_snps`` "auto": the SNPs where the layer keeps phenotype terms: "all", a
      significance level, or "auto", the level whose terms predict held-out training
      individuals' phenotypes (:meth:`~.deep.local_ld.LocalLD.select_trait_terms`). Terms at
      every SNP put its individuals nearer the training split on human_chr22 (WGAN-GP seed 3:
      closer-than-holdout share +0.062 with them, +0.040 without), where the height signal
      of 360 people passes no test; on cow_chr14 "auto" keeps every SNP's.
    - ``conditional`` True: condition on the training split's phenotypes when it has any
      (standardised; missing values set to the mean). Without phenotypes it trains
      unconditionally; ``generate`` without phenotypes draws training phenotype vectors.
    - ``eval_every`` 10 (quick 5) epochs.
    """

    name = "wgan_gp"
    description = ("Phenotype-conditioned WGAN-GP with Gumbel-Softmax outputs "
                   "(lambda 10, 5 critic steps), residual MLPs")
    citation = ("Xie et al. 2026, GigaScience, doi:10.1093/gigascience/giag044; "
                "Gulrajani et al. 2017, NeurIPS; Jang et al. 2017, ICLR")
    supports_phenotypes = True

    GENERATOR_DIVISORS = (24, 12, 6)
    CRITIC_DIVISORS = (8, 16, 32)
    DEFAULTS = dict(epochs=300, batch_size=64, lr=1e-3, n_critic=5, gp_lambda=10.0,
                    latent_dim=128, generator_hidden=None, critic_hidden=None, max_width=512,
                    tau_start=1.0, tau_end=0.1, straight_through=False, decode="sample",
                    critic_norm="layer", conditional=True, eval_every=10, local_ld=16,
                    ld_penalty=1.0, trait_snps="auto", temperature=0.9, ancestry=2)
    PROFILES = {
        "quick": dict(epochs=30, batch_size=32, max_width=384, eval_every=5),
        "standard": dict(validate_first=True),
        "paper": dict(epochs=1000, batch_size=128, lr=1e-4, max_width=None, eval_every=20,
                      selection="f1", local_ld=0, temperature=1.0, ancestry=0),
    }

    def _gradient_penalty(self, real, fake, cond) -> torch.Tensor:
        """E[(||grad_x critic(x)||_2 - 1)^2] on random interpolates of real and fake."""
        eps = torch.rand(real.shape[0], 1, device=self.device_)
        mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
        with deep.differentiated_twice():
            (grad,) = torch.autograd.grad(self.critic_(mixed, cond).sum(), mixed,
                                          create_graph=True)
        return ((grad.norm(2, dim=1) - 1) ** 2).mean()

    def _fit_model(self, train, *, started, time_limit, progress) -> deep.TrainingLog:
        config = self.config_
        data, conds = self._prepare(train)
        opt_g = deep.adam(self.generator_.parameters(), lr=config["lr"], betas=(0.5, 0.9))
        opt_c = deep.adam(self.critic_.parameters(), lr=config["lr"], betas=(0.5, 0.9))
        hard, lam = bool(config["straight_through"]), float(config["gp_lambda"])
        n_critic = int(config["n_critic"])
        state = dict(critic_steps=0, g_loss=float("nan"))

        def step(real: torch.Tensor, cond, tau: float) -> torch.Tensor:
            n = real.shape[0]
            with torch.no_grad():
                fake = self.generator_(self._noise(n), cond, tau, hard)
            real_scores, fake_scores = self._critic_pair(real, fake, cond)
            wasserstein = real_scores.mean() - fake_scores.mean()
            c_loss = -wasserstein + lam * self._gradient_penalty(real, fake, cond)
            opt_c.zero_grad(set_to_none=True)
            c_loss.backward()
            opt_c.step()
            state["critic_steps"] += 1
            if state["critic_steps"] % n_critic == 0:
                fake = self.generator_(self._noise(n), cond, tau, hard)
                g_loss = -self.critic_(fake, cond).mean()
                opt_g.zero_grad(set_to_none=True)
                g_loss.backward()
                opt_g.step()
                state["g_loss"] = float(g_loss.detach())
            return torch.stack([c_loss.detach(), wasserstein.detach()])

        critic_epoch = self._epoch_runner(data, conds, step, ("loss", "wasserstein"))

        def run_epoch(epoch: int) -> dict:
            return {**critic_epoch(epoch), "g_loss": state["g_loss"]}

        return self._train(run_epoch, started=started, time_limit=time_limit,
                           progress=progress)


@genobench.hookimpl
def genobench_register_generators(register):
    register(GANGenerator)
    register(WGANGPGenerator)
