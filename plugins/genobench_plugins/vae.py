"""The seed paper's variational autoencoder on one-hot genotypes (generator ``vae``).

Each individual enters as a one-hot vector (3 per SNP); the decoder returns 3 logits per SNP,
a softmax over the genotypes 0 / 1 / 2. The loss is the cross-entropy summed over SNPs plus the
KL divergence of the Gaussian posterior from N(0, I); new individuals decode latent codes z and
take the most likely genotype per SNP (or draw it). Encoder and decoder are residual MLPs with
BatchNorm and LeakyReLU(0.05) (Xie et al. 2026, GigaScience; Kingma & Welling 2014). The
decoder's output bias starts at the log training genotype frequencies.

By default each SNP is drawn from its predicted distribution (``decode = "sample"``). The
paper's argmax decoding (``decode = "argmax"``) makes each individual the most likely genotype
vector given its latent code: LD is kept, but individuals are less varied than real ones
(k-NN F1 0.02 on human_chr22 in genobench's first published run).

Outside the paper profile two parts are added, so that the latent code carries ancestry and
not the training individuals' haplotypes:

- an autoregressive local-LD output layer (:class:`~.deep.local_ld.LocalLD`, ``local_ld``
  lags): each SNP's logits also depend on the genotypes drawn at the SNPs before it, as in
  PixelVAE (Gulrajani et al. 2017). It is fitted to the training split on top of its genotype
  frequencies before the network trains, then kept fixed;
- latent codes from a Gaussian mixture fitted to the training individuals' posterior means
  (``latent = "mixture"``; ex-post density estimation, Ghosh et al. 2020), where the decoder
  was trained, rather than from the prior N(0, I) (the paper, ``latent = "prior"``), which a
  VAE trained on a few hundred individuals does not fill.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

import genobench

from . import deep
from .deep.mixture import MixtureSampler


class VAENet(nn.Module):
    """Encoder (3 m -> widths -> mean and log-variance) and mirrored decoder (-> 3 m logits)."""

    def __init__(self, n_snps: int, widths: list[int], latent_dim: int):
        super().__init__()
        self.encoder = deep.ResidualMLP(3 * n_snps, widths, norm="batch")
        self.mean = nn.Linear(widths[-1], latent_dim)
        self.log_var = nn.Linear(widths[-1], latent_dim)
        self.decoder = deep.ResidualMLP(latent_dim, widths[::-1], norm="batch")
        self.logits = nn.Linear(widths[0], 3 * n_snps)
        self.latent_dim = latent_dim
        # Where new latent codes are drawn from: N(0, I), the prior, until fit_latent
        # replaces it (saved with the weights).
        self.latent = MixtureSampler(latent_dim)

    def encode(self, x: torch.Tensor):
        """Posterior means and log-variances (n, latent) of one-hot individuals (n, 3 m).

        The log-variance is clamped to [-30, 20] in value only: its gradient passes as if
        unclamped (straight through), so a unit that overshoots the bound is pulled back by
        the KL term. With a plain clamp, which has no gradient outside its range, units that
        overshot early on human_chr1 (29,875 SNPs) stayed at exp(20) for good (KL 4.9e8 by
        epoch 4).
        """
        h = self.encoder(x)
        log_var = self.log_var(h)
        return self.mean(h), log_var + (log_var.clamp(-30.0, 20.0) - log_var).detach()

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Logits (n, m, 3) of the genotypes given latent codes (n, latent)."""
        out = self.logits(self.decoder(z))
        return out.reshape(out.shape[0], -1, 3)

    def latent_codes(self, n: int) -> torch.Tensor:
        """``n`` latent codes from the sampling mixture (global generator: call seeded)."""
        return self.latent.sample(n)

    @torch.no_grad()
    def fit_latent(self, x: torch.Tensor | None, *, components: int = 1) -> None:
        """Set the sampling distribution to the aggregate posterior of ``x`` (one-hot
        training individuals), or back to the prior N(0, I) when ``x`` is None.

        The aggregate posterior is the mixture of the individuals' N(mu_i, sigma_i^2): the
        region the decoder was trained on. With ``components`` 1 it is matched by one
        Gaussian of its moments, mean(mu_i) and cov(mu_i) + mean(diag sigma_i^2); above 1 by
        a Gaussian mixture of the posterior means with up to that many components, the
        number chosen by BIC, each component's covariance widened by mean(diag sigma_i^2)
        (:class:`~.deep.mixture.MixtureSampler`; ex-post density estimation, Ghosh et al.
        2020, ICLR). Neither keeps any individual's code, so neither copies a training
        individual.
        """
        if x is None:
            self.latent.fit(None)
            return
        training = self.training
        self.eval()
        mean, log_var = self.encode(x)
        self.train(training)
        self.latent.fit(mean, components=components,
                        widen=torch.diag(log_var.double().exp().mean(0)))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # models saved with one Gaussian (latent_mean, latent_factor) load as a mixture of one
        old_mean, old_factor = prefix + "latent_mean", prefix + "latent_factor"
        if old_mean in state_dict:
            state_dict[prefix + "latent.weights"] = torch.ones(1)
            state_dict[prefix + "latent.means"] = state_dict.pop(old_mean)[None]
            state_dict[prefix + "latent.factors"] = state_dict.pop(old_factor)[None]
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class VAEGenerator(deep.TorchGenerator):
    """Variational autoencoder with a per-SNP 3-way softmax decoder.

    Hyperparameters (``standard`` profile defaults; ``quick`` and ``paper`` change some):

    - ``epochs`` 200 (quick 30, paper 1000), ``batch_size`` 64 (paper 256),
      ``lr`` 1e-3 (paper 5e-4): Adam.
    - ``hidden``: encoder widths, default ``[w, w/2, w/4]`` with w the power of two nearest
      0.6 x SNPs within 128..``max_width`` (512; paper 1024: 1,771 SNPs -> 1024/512/256, the
      paper's cow chr14 net).
    - ``latent_dim``: default w / 8, at least 16 (128 for w = 1024, as in the paper).
    - ``beta`` 1.0: weight of the KL term.
    - ``latent`` "mixture" (paper "prior"): where new latent codes come from. "mixture": a
      Gaussian mixture of the training individuals' posterior means, up to
      ``latent_components`` (8) components chosen by BIC, each widened by the mean posterior
      variance (:meth:`VAENet.fit_latent`, refitted at every validation and for the kept
      weights); "posterior": one Gaussian of the aggregate posterior's mean and covariance;
      "prior": N(0, I). Measured on human_chr22 (seed 1, local_ld 4, temperature 1, latent_dim
      4, hidden [128, 64, 32]): one Gaussian drew codes between the ancestries' clusters
      (structure 0.53, correlation score 0.35, ld 0.47); the mixture gave structure 0.97,
      correlation score 0.97 and ld 0.91.
    - ``local_ld`` "auto" (quick 16, paper 0: none): lags of the local-LD output layer
      (:class:`~.deep.local_ld.LocalLD`); "auto" takes as many as the training split's LD
      reaches along the panel, 4 to 32 (:func:`~.deep.local_ld.ld_extent_lags`: 16 on
      human_chr22, 32 on cow_chr14, where 16 lags left the cows' k-NN recall below an
      independent-sites draw's on seeds 1-3); ``ld_penalty`` 1.0: its N(0, 1 / (2 x penalty))
      prior on each log-odds term. Measured on human_chr22 (seed 1): the layer alone on
      training frequencies scored ld 0.27 (LD-decay 0.54, correlation score 0.01); with the
      network and the mixture latent, ld 0.87 and every privacy gate passed, where the
      network alone reached ld 0.45 (the published board). 64 lags memorised haplotypes
      (the reconstruction-error membership AUC reached 1.00) and failed the privacy-loss
      gate.
    - ``decode`` "sample" (default: each SNP drawn from its predicted distribution, so
      individuals vary as real ones do) or "argmax" (the paper: the most likely genotype;
      with the local-LD layer, given the genotypes chosen at the SNPs before it).
    - ``temperature`` 0.9 (paper 1.0): sampling draws from softmax(logits / temperature).
      Below 1 a draw leans to each SNP's likelier genotype. With the local-LD layer (16 lags,
      seed 1), k-NN precision on human_chr22 rose from 0.23 at 1.0 to 0.99 at 0.9 (diversity
      0.23 -> 0.99); at 0.8 it failed the closer-than-holdout gate (0.15, limit 0.097).
      The standard profile then chooses it on the validation split (``temperatures``,
      :mod:`~.deep.temperature`): on cow_chr14 (32 lags) 0.9 gave cows related to a training
      cow more often than real unseen cows are, and the best diversity came at 1.1.
    - ``eval_every`` 10 (quick 5, standard 1 from epoch 2, paper 20): epochs between
      validations.
    """

    name = "vae"
    description = ("Variational autoencoder on one-hot genotypes, per-SNP softmax decoder "
                   "(cross-entropy + KL), residual MLPs")
    citation = ("Xie et al. 2026, GigaScience, doi:10.1093/gigascience/giag044; "
                "Kingma & Welling 2014, ICLR")
    supports_phenotypes = False

    DEFAULTS = dict(epochs=200, batch_size=64, lr=1e-3, hidden=None, latent_dim=None,
                    max_width=512, beta=1.0, decode="sample", temperature=0.9,
                    latent="mixture", latent_components=8, eval_every=10, local_ld="auto",
                    ld_penalty=1.0)
    PROFILES = {
        "quick": dict(epochs=30, eval_every=5, local_ld=16),
        # a validation after every epoch: on human_chr22 the validation closer-than-holdout
        # share rose from 0.01-0.07 at epoch 5 to 0.2 by epoch 10 (seeds 1-3), so every 5
        # epochs kept epoch 5 at the gate's line (test split 0.050, limit 0.050); every epoch
        # kept epochs 2-4: closer 0.042, ld 0.84 (from 0.61), diversity 0.72 (from 1.00), and
        # on cow_chr14 ld 0.61, diversity 0.62 (docs/performance.md); from epoch 2, as the first
        # epoch's network is barely trained (kept on a rerun of human_chr22, seed 3, where every
        # later epoch's validation privacy loss exceeded its allowance: ld 0.46 over seeds)
        "standard": dict(eval_every=1, validate_from=2),
        "paper": dict(epochs=1000, batch_size=256, lr=5e-4, max_width=1024, latent="prior",
                      temperature=1.0, selection="f1", eval_every=20, local_ld=0),
    }

    def _widths(self, n_snps: int) -> tuple[list[int], int]:
        hidden = self.config_["hidden"]
        if hidden is None:
            w = deep.power_of_two_width(0.6 * n_snps, 128, int(self.config_["max_width"]))
            hidden = [w, w // 2, w // 4]
        latent = self.config_["latent_dim"] or max(16, hidden[0] // 8)
        return [int(h) for h in hidden], int(latent)

    def _build(self, extra=None) -> None:
        if self.config_["decode"] not in ("argmax", "sample"):
            raise genobench.GeneratorError("vae: decode must be 'argmax' or 'sample'")
        if self.config_.get("latent", "prior") not in ("prior", "posterior", "mixture"):
            raise genobench.GeneratorError(
                "vae: latent must be 'prior', 'posterior' or 'mixture'")
        widths, latent = self._widths(self.n_snps_)
        self.config_["hidden"], self.config_["latent_dim"] = widths, latent
        self.net_ = VAENet(self.n_snps_, widths, latent).to(self.device_)
        self._build_local_ld(self.n_snps_)

    def _modules(self):
        return self._with_local_ld({"net": self.net_})

    #: Largest table of the training split's lag terms (n x m x 3 float32) kept for training;
    #: above it the terms of each batch are recomputed.
    LAG_TERMS_BYTES = 1 << 30

    def _lag_terms(self, data: torch.Tensor):
        """``terms(rows, x)``: the fixed local-LD layer's lag terms (batch, m, 3) of training
        rows ``rows`` (genotypes ``x``), or 0 without the layer; computed once for the whole
        split when they fit :attr:`LAG_TERMS_BYTES`, else per batch."""
        if self.local_ld_ is None:
            return lambda rows, x: 0.0
        if data.shape[0] * data.shape[1] * 12 <= self.LAG_TERMS_BYTES:
            with torch.no_grad():
                table = self.local_ld_.context(data)
            return lambda rows, x: table[rows]

        def per_batch(rows, x):
            with torch.no_grad():
                return self.local_ld_.context(x)

        return per_batch

    def _logits(self, z: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (n, m, 3) of genotypes ``x`` given codes ``z``: the decoder's, plus the
        local-LD layer's lag terms of ``x`` when the model has one (teacher forcing)."""
        logits = self.net_.decode(z)
        return logits if self.local_ld_ is None or x is None else self.local_ld_(logits, x)

    def _fit_model(self, train, *, started, time_limit, progress) -> deep.TrainingLog:
        self.chromosomes_ = train.chromosomes
        self._build()
        config = self.config_
        data = torch.as_tensor(train.dosages, device=self.device_)
        with torch.no_grad():  # start the decoder at the training genotype frequencies
            self.net_.logits.bias.copy_(deep.genotype_log_frequencies(data))
        beta = float(config["beta"])
        self._fit_local_ld(data, self.net_.logits.bias.reshape(-1, 3))  # on those frequencies
        lag_terms = self._lag_terms(data)
        optimizer = deep.adam(self.net_.parameters(), lr=config["lr"])

        def run_epoch(epoch: int) -> dict:
            self.net_.train()
            totals = torch.zeros(2, device=self.device_)
            for rows in deep.batches(data.shape[0], config["batch_size"], shuffle=True,
                                     device=self.device_, drop_small=True):
                x = data[rows]
                mean, log_var = self.net_.encode(deep.one_hot(x))
                z = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
                logits = self.net_.decode(z) + lag_terms(rows, x)
                # Summed over SNPs and latent dimensions, averaged over individuals.
                reconstruction = F.cross_entropy(logits.reshape(-1, 3), x.long().reshape(-1),
                                                 reduction="sum") / x.shape[0]
                kl = -0.5 * (1 + log_var - mean.pow(2) - log_var.exp()).sum(1).mean()
                loss = reconstruction + beta * kl
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                totals += torch.stack([reconstruction.detach(), kl.detach()]) * x.shape[0]
            reconstruction, kl = (totals / data.shape[0]).tolist()
            return dict(loss=reconstruction + beta * kl, reconstruction=reconstruction, kl=kl)

        latent = config.get("latent", "prior")
        self._fit_latent = lambda: self.net_.fit_latent(
            None if latent == "prior" else deep.one_hot(data),
            components=int(config.get("latent_components", 8)) if latent == "mixture" else 1)
        log = self._train(run_epoch, started=started, time_limit=time_limit, progress=progress)
        # The kept weights' sampling Gaussian (the same as at their validation: the encoder's
        # eval-mode means and variances are deterministic).
        self._fit_latent()
        self._fit_latent = None
        self.net_.eval()
        return log

    def _membership_signals(self):
        """The kept model's reconstruction error of each individual: summed cross-entropy of
        its genotypes decoded from its posterior mean (lower for individuals it memorised)."""

        def reconstruction_error(x: torch.Tensor, cond=None) -> torch.Tensor:
            self.net_.eval()
            mean, _ = self.net_.encode(deep.one_hot(x))
            logits = self._logits(mean, x)
            return F.cross_entropy(logits.reshape(-1, 3), x.long().reshape(-1),
                                   reduction="none").reshape(x.shape[0], -1).sum(1)

        return {"reconstruction error": reconstruction_error}

    def _validator(self):
        """Validation samples from the sampling distribution of the weights being scored."""
        validate = super()._validator()
        if validate is None:
            return None

        def refit_then_validate() -> dict:
            self._fit_latent()
            return validate()

        return refit_then_validate

    @torch.no_grad()
    def _sample(self, n: int, cond=None) -> torch.Tensor:
        training = self.net_.training
        self.net_.eval()
        z = self.net_.latent_codes(n)
        out = self._draw(self.net_.decode(z))
        self.net_.train(training)
        return out


@genobench.hookimpl
def genobench_register_generators(register):
    register(VAEGenerator)
