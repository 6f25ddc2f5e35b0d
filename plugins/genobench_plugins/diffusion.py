"""The seed paper's PCA + diffusion model (generator ``diffusion``).

Genotypes are compressed per chromosome by PCA of the training dosages, keeping the leading
components that explain ``variance`` (90 %) of the variance; a denoising diffusion model (DDPM,
Ho et al. 2020) learns the joint distribution of the standardised PC scores of all chromosomes.
Its noise predictor is a residual MLP that adds a sinusoidal time embedding and, for the
conditional model, a phenotype embedding to every block. New scores are decoded as
``X W^T + mu`` and rounded and clipped to {0, 1, 2} (Xie et al. 2026, GigaScience).

Outside the paper profile the PCA keeps 2 components (ancestry) and new scores are decoded
through the local-LD layer (:class:`~.deep.local_ld.LocalLD`): each SNP is drawn from the
Binomial(2, dosage / 2) of its decoded dosage plus log-odds terms of the genotypes drawn at the
16 SNPs before it and of the conditioning phenotypes, fitted to the training split.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.nn import functional as F

import genobench
from genobench.errors import GeneratorError

from .deep import TorchGenerator, TrainingLog, adam, batches, power_of_two_width
from .deep.local_ld import binomial_logits
from .deep.pca import PCACodec


def sinusoidal_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Transformer-style sinusoidal embedding of integer time steps (Vaswani et al. 2017).

    :param t: (n,) time steps. :returns: float32 (n, dim).
    """
    half = dim // 2
    frequencies = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device) / half)
    angles = t.float()[:, None] * frequencies[None, :]
    out = torch.cat([angles.sin(), angles.cos()], dim=1)
    return F.pad(out, (0, dim - 2 * half))


class DenoiserBlock(nn.Module):
    """``h + MLP(LayerNorm(h) + embedding)``: a residual block that sees time and phenotype."""

    def __init__(self, width: int):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, h: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        return h + self.mlp(self.norm(h) + embedding)


class NoisePredictor(nn.Module):
    """Predicts the noise added to PC scores from the noisy scores, the step and phenotypes."""

    def __init__(self, dim: int, width: int, n_blocks: int, time_dim: int, cond_dim: int = 0):
        super().__init__()
        self.time_dim, self.cond_dim = time_dim, cond_dim
        self.inp = nn.Linear(dim, width)
        self.time = nn.Sequential(nn.Linear(time_dim, width), nn.SiLU(), nn.Linear(width, width))
        self.cond = nn.Sequential(nn.Linear(cond_dim, width), nn.SiLU(),
                                  nn.Linear(width, width)) if cond_dim else None
        self.blocks = nn.ModuleList(DenoiserBlock(width) for _ in range(n_blocks))
        self.out = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, dim))

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None = None):
        embedding = self.time(sinusoidal_embedding(t, self.time_dim))
        if self.cond is not None:
            embedding = embedding + self.cond(cond)
        h = self.inp(x)
        for block in self.blocks:
            h = block(h, embedding)
        return self.out(h)


class Schedule:
    """DDPM noise schedule: linear betas (Ho et al. 2020) and the quantities sampling needs."""

    def __init__(self, steps: int, beta_start: float, beta_end: float, device):
        self.steps = steps
        self.betas = torch.linspace(beta_start, beta_end, steps, dtype=torch.float64)
        self.alphas = 1 - self.betas
        self.alpha_bars = torch.cumprod(self.alphas, 0)
        previous = torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bars[:-1]])
        # Posterior variance of q(x_{t-1} | x_t, x_0) (beta tilde in Ho et al. 2020, eq. 7).
        self.posterior_var = self.betas * (1 - previous) / (1 - self.alpha_bars)
        for name in ("betas", "alphas", "alpha_bars", "posterior_var"):
            setattr(self, name, getattr(self, name).float().to(device))


class DiffusionGenerator(TorchGenerator):
    """PCA compression + DDPM in PC space, conditioned on phenotypes.

    Hyperparameters (``standard`` defaults; ``quick`` and ``paper`` change some):

    - ``variance`` 0.9: share of each chromosome's variance the kept PCs explain;
      ``max_components`` 2 (paper 512): cap on the total number of PCs (also at most n - 1).
      The paper's 90 % of the variance took 279 PCs on human_chr22; in 6,098 SNPs x 360
      individuals the leading PCs are fitted to the training individuals (held-out
      individuals' scores shrink), so individuals decoded from them sit nearer the training
      ones: Gaussian scores decoded through the training PCA gave a membership AUC of
      0.84-0.86 at 64-279 PCs, and the distance to the PCA's subspace told training from
      validation individuals perfectly (AUC 1.00). With the local-LD layer the PCs only need
      to carry ancestry. Measured with it (human_chr22 seed 2): 4 PCs, ld 0.93 and a
      membership AUC of 0.593 (limit 0.574); 2 PCs, ld 0.92 and 0.521.
    - ``local_ld`` 16 (paper 0: none), ``ld_penalty`` 1.0, ``temperature`` 0.9: decoding. Without
      the layer (the paper) decoded PCs are rounded and clipped to {0, 1, 2}. With it, each
      SNP is drawn, SNP after SNP, from the Binomial(2, dosage / 2) of the decoded dosage
      plus the lag terms of :class:`~.deep.local_ld.LocalLD`, fitted to the training split
      on top of each training individual's own decoded PCs before the diffusion trains.
      ``trait_snps`` "auto": the layer keeps phenotype terms only at SNPs that pass a test, at
      the level whose terms predict held-out training individuals' phenotypes ("all": every
      SNP; :meth:`~.deep.local_ld.LocalLD.select_trait_terms`).
    - ``steps`` 1000 (quick 500, paper 1200): diffusion steps T; ``beta_start`` 1e-4,
      ``beta_end`` 0.02 (linear schedule).
    - ``hidden``: noise-predictor width, default the power of two nearest 2 x PCs within
      256..1024 (paper 2048); ``blocks`` 3; ``time_dim`` 128.
    - ``noise_draws`` 1 (standard 3): diffusion steps and noises drawn per individual in each
      training step, so a step of ``batch_size`` individuals trains on ``noise_draws`` times as
      many rows: the same number of updates with a less noisy loss, and products large
      enough for the cores. Measured on cow_chr14 (seed 1, one thread): 1 draw ran at 28 %
      of the calibration rate, 2 at 37 %, 3 at 46 % (fit 106 s, 1,000 epochs), 4 at 49 %
      (stopped by the 100 s cap at 899 epochs), with ld 0.70-0.71 at each.
    - ``epochs`` 1000 (quick 150, paper 20000), ``batch_size`` 64 (paper 2048), ``lr`` 1e-3
      (paper 3e-4) with a cosine decay to ``lr`` / 100, AdamW; ``ema`` 0.995: decay of the
      exponential moving average of the weights that generates (0 disables).
    - ``conditional`` True: phenotype embedding added to the noise predictor when the training
      split has phenotypes.
    - ``selection``: the common default, "f1+correlation+privacy" in the standard profile.
      With the paper's decoding every checkpoint leaked on the validation split (human_chr22
      seed 1, validations every 100 epochs to 600: privacy loss 0.15 at epoch 100, 0.17 at
      200, membership AUC 0.62-0.73 at 300-600), so the profile used "f1+correlation"; with
      2 PCs and the local-LD layer checkpoints can pass, and the penalty chooses among them.
    - ``eval_every`` 100 (quick 75, paper 100): epochs between validations (each
      runs the full reverse chain for the validation individuals, which dominates the cost of
      training on a CPU when frequent).
    """

    name = "diffusion"
    description = ("DDPM in per-chromosome PCA space, MLP noise predictor with time and "
                   "phenotype embeddings; decoded through a local-LD layer (paper profile: "
                   "90 % variance, rounded and clipped)")
    citation = ("Xie et al. 2026, GigaScience, doi:10.1093/gigascience/giag044; "
                "Ho et al. 2020, NeurIPS")
    supports_phenotypes = True

    #: Noise draws averaged in the denoising-error membership signal.
    MEMBERSHIP_DRAWS = 4

    DEFAULTS = dict(variance=0.9, max_components=2, steps=1000, beta_start=1e-4,
                    beta_end=0.02, hidden=None, blocks=3, time_dim=128, epochs=1000,
                    batch_size=64, noise_draws=1, lr=1e-3, ema=0.995, conditional=True,
                    eval_every=100, local_ld=16, ld_penalty=1.0, trait_snps="auto",
                    temperature=0.9)
    PROFILES = {
        "quick": dict(steps=500, epochs=150, eval_every=75),
        # Checkpoints are not chosen on the validation leakage signals (the other models'
        # standard selection): no checkpoint of the diffusion model is private, so the
        # penalty only kept an undertrained one (see ``selection`` below).
        "standard": dict(noise_draws=3),
        "paper": dict(steps=1200, hidden=2048, epochs=20000, batch_size=2048, lr=3e-4,
                      eval_every=100, selection="f1", local_ld=0, max_components=512),
    }

    def __init__(self, **options):
        draws = options.get("noise_draws", 1)
        if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
            raise GeneratorError(f"{self.name}: noise_draws must be a whole number of at least "
                                 f"1, not {draws!r}")
        super().__init__(**options)

    # -- networks --------------------------------------------------------------------------
    def _build(self, extra=None) -> None:
        if extra is not None:
            self.codec_ = PCACodec.from_state(extra)
        config = self.config_
        k = self.codec_.n_components
        width = int(config["hidden"] or power_of_two_width(2 * k, 256, 1024))
        config["hidden"] = width
        cond_dim = 0 if self.scaler_ is None else len(self.scaler_.names)
        self.net_ = NoisePredictor(k, width, int(config["blocks"]), int(config["time_dim"]),
                                   cond_dim).to(self.device_)
        self.ema_net_ = copy.deepcopy(self.net_).requires_grad_(False)
        self.schedule_ = Schedule(int(config["steps"]), float(config["beta_start"]),
                                  float(config["beta_end"]), self.device_)
        self._build_local_ld(self.codec_.mean.numel(), cond_dim)

    def _modules(self):
        return self._with_local_ld({"net": self.net_, "ema_net": self.ema_net_})

    def _extra_state(self):
        return self.codec_.state()

    def _rows_per_step(self) -> int:
        return int(self.config_["batch_size"]) * int(self.config_.get("noise_draws", 1))

    # -- training --------------------------------------------------------------------------
    def _fit_model(self, train, *, started, time_limit, progress) -> TrainingLog:
        config = self.config_
        dosages = torch.as_tensor(train.dosages, device=self.device_)
        self.codec_ = PCACodec.fit(dosages, train.chromosomes, variance=float(config["variance"]),
                                   max_components=int(config["max_components"]))
        config["n_components"] = self.codec_.n_components
        self.chromosomes_ = train.chromosomes
        self._build()
        z0_all = self.codec_.encode(dosages)
        conds = None if self.scaler_ is None else \
            torch.as_tensor(self.train_phenotypes_, device=self.device_)
        if self.local_ld_ is not None:  # local LD on top of each individual's decoded PCs
            self._fit_local_ld(dosages, binomial_logits(self.codec_.reconstruct(z0_all)), conds)
        epochs, batch_size = int(config["epochs"]), int(config["batch_size"])
        draws = int(config["noise_draws"])
        steps_per_epoch = len(batches(z0_all.shape[0], batch_size, shuffle=False,
                                      device=self.device_))
        optimizer = adam(self.net_.parameters(), lr=config["lr"], decoupled=True)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=max(1, epochs * steps_per_epoch), eta_min=config["lr"] / 100)
        decay = float(config["ema"])
        alpha_bars = self.schedule_.alpha_bars
        ema_params, net_params = list(self.ema_net_.parameters()), list(self.net_.parameters())

        def run_epoch(epoch: int) -> dict:
            self.net_.train()
            total, count = torch.zeros((), device=self.device_), 0
            for rows in batches(z0_all.shape[0], batch_size, shuffle=True, device=self.device_):
                rows = rows.repeat(draws)  # each individual at `draws` steps and noises
                z0 = z0_all[rows]
                t = torch.randint(0, self.schedule_.steps, (z0.shape[0],), device=self.device_)
                noise = torch.randn_like(z0)
                a = alpha_bars[t][:, None]
                zt = a.sqrt() * z0 + (1 - a).sqrt() * noise
                cond = None if conds is None else conds[rows]
                loss = F.mse_loss(self.net_(zt, t, cond), noise)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                with torch.no_grad():  # one fused call, not a Python loop over parameters
                    torch._foreach_lerp_(ema_params, net_params, 1 - decay)
                total += loss.detach() * z0.shape[0]
                count += z0.shape[0]
            return dict(loss=float(total) / count)

        log = self._train(run_epoch, started=started, time_limit=time_limit, progress=progress)
        self.net_.eval()
        return log

    def _membership_signals(self):
        """Two parts of the kept model, each a white-box membership signal: the distance of an
        individual to the training PCA's subspace (the PCs are fitted to the training
        individuals, so theirs is smaller, Lee et al. 2010, JMLR 11:2051), and the noise
        predictor's denoising error on its PC scores at step T / 10, averaged over
        ``MEMBERSHIP_DRAWS`` noise draws (smaller for memorised scores, Carlini et al. 2023,
        USENIX Security)."""
        net = self.ema_net_ if self.config_["ema"] else self.net_

        def denoising_error(x: torch.Tensor, cond=None) -> torch.Tensor:
            net.eval()
            z0 = self.codec_.encode(x)
            step = max(1, self.schedule_.steps // 10)
            t = torch.full((z0.shape[0],), step, device=self.device_, dtype=torch.long)
            a = self.schedule_.alpha_bars[step]
            noise_source = torch.Generator(device=self.device_).manual_seed(0)
            errors = torch.zeros(z0.shape[0], device=self.device_)
            for _ in range(self.MEMBERSHIP_DRAWS):
                noise = torch.randn(z0.shape, generator=noise_source, device=self.device_)
                predicted = net(a.sqrt() * z0 + (1 - a).sqrt() * noise, t, cond)
                errors += (predicted - noise).pow(2).mean(1)
            return errors / self.MEMBERSHIP_DRAWS

        return {"distance to the training PCA's subspace":
                lambda x, cond=None: self.codec_.residual_norms(x),
                "denoising error": denoising_error}

    # -- sampling --------------------------------------------------------------------------
    @torch.no_grad()
    def sample_scores(self, n: int, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Ancestral DDPM sampling of standardised PC scores (n, k), from the EMA weights."""
        net = self.ema_net_ if self.config_["ema"] else self.net_
        net.eval()
        s = self.schedule_
        z = torch.randn(n, self.codec_.n_components, device=self.device_)
        for step in range(s.steps - 1, -1, -1):
            t = torch.full((n,), step, device=self.device_, dtype=torch.long)
            eps = net(z, t, cond)
            mean = (z - s.betas[step] / (1 - s.alpha_bars[step]).sqrt() * eps) \
                / s.alphas[step].sqrt()
            if step > 0:
                z = mean + s.posterior_var[step].sqrt() * torch.randn_like(z)
            else:
                z = mean
        return z

    def _choose_temperature(self) -> dict | None:
        """Without the local-LD layer the dosages are rounded: no temperature to choose."""
        return None if self.local_ld_ is None else super()._choose_temperature()

    def _sample(self, n: int, cond=None) -> torch.Tensor:
        scores = self.sample_scores(n, cond)
        if self.local_ld_ is None:
            return self.codec_.decode(scores)
        return self._draw(binomial_logits(self.codec_.reconstruct(scores)), cond)


@genobench.hookimpl
def genobench_register_generators(register):
    register(DiffusionGenerator)
