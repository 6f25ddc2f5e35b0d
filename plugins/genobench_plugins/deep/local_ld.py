"""An autoregressive local-LD output layer for per-SNP genotype logits.

A network that emits 3 logits per SNP and draws each SNP on its own given its latent code makes
SNPs independent given that code: all their LD has to pass through the code. Short-range LD
(haplotype blocks) then needs a code wide enough to name each training individual's haplotypes,
which is what the privacy gates catch. This layer lets each SNP's logits also depend on the
genotypes already drawn at the ``order`` SNPs before it on the same chromosome (an additive
log-linear term per SNP and lag), as PixelVAE's autoregressive decoder does for images
(Gulrajani et al. 2017, ICLR): the code keeps the long-range part (ancestry, population
structure), the layer the local part, with ``order x 9`` parameters per SNP.

Measured on human_chr22 before it was built (seed 1): a 3-cluster order-3 Markov chain along the
SNPs, counts from the training split, scored ld 0.86, structure 1.00 and diversity 0.70 and passed
every privacy gate (membership AUC 0.52), where PCA + Gaussian models in the training split's
PC space passed the membership gate only at ld 0.18 or below (``benchmarks/privacy_frontier.py``).

Training is teacher-forced (the lags are the individual's own genotypes: one pass, no
recurrence); drawing is sequential along the SNPs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import torch
from scipy import stats
from torch import nn
from torch.nn import functional as F

#: Standard errors by which the held-out r of the best significance level must exceed 0 for
#: the layer to keep phenotype terms (:meth:`LocalLD.select_trait_terms`): the best of
#: several levels is the largest of several noisy r, so one standard error would keep terms
#: on a third of panels without any association (8 simulated panels, 60 SNPs, 400
#: individuals).
TRAIT_SIGNIFICANCE = 2.0


class LocalLD(nn.Module):
    """``logits[:, j] += sum_lag weight[j, lag - 1, g[:, j - lag]]`` over lags on the same
    chromosome.

    :param n_snps: m. :param order: lags (previous SNPs) each SNP sees; 0 disables the layer.
    :param chromosomes: (m,) chromosome of each SNP, in panel order; a lag that crosses into
        another chromosome is masked out. ``None``: one chromosome.
    :param cond_dim: standardised phenotypes a conditional model draws for (0: none); each
        SNP's logits then also get ``cond @ trait_weight[j]``, a per-SNP genotype-phenotype
        log-odds term fitted with the lags (the association a conditional model must keep).
    :ivar weight: float32 (m, order, 3, 3): [SNP, lag, previous genotype, genotype] log-odds
        terms, zero at the start (the wrapped model unchanged).
    :ivar trait_weight: float32 (m, cond_dim, 3), zero at the start.
    :ivar mask: float32 (m, order) buffer, 1 where the lag exists on the SNP's chromosome.
    """

    #: Floats of lag features held at once (n x SNPs x 3 order): SNPs are taken in chunks.
    CHUNK_FLOATS = 1 << 24

    def __init__(self, n_snps: int, order: int, chromosomes: np.ndarray | None = None,
                 cond_dim: int = 0):
        super().__init__()
        self.order = int(order)
        self.weight = nn.Parameter(torch.zeros(n_snps, self.order, 3, 3))
        self.trait_weight = nn.Parameter(torch.zeros(n_snps, int(cond_dim), 3))
        self.register_buffer("mask", lag_mask(n_snps, self.order, chromosomes))

    def chunks(self, n: int) -> list[slice]:
        """SNP ranges whose lag features for ``n`` individuals fit :attr:`CHUNK_FLOATS`."""
        m = self.weight.shape[0]
        step = max(1, self.CHUNK_FLOATS // max(1, n * 3 * max(self.order, 1)))
        return [slice(a, min(a + step, m)) for a in range(0, m, step)]

    def features(self, dosages: torch.Tensor, snps: slice | None = None) -> torch.Tensor:
        """The one-hot genotypes at the lags of SNPs ``snps`` (default all), float32
        (n, SNPs, 3 order): column ``3 (lag - 1) + g`` is 1 where SNP j - lag has genotype g
        and the lag is on j's chromosome."""
        m = dosages.shape[1]
        start, stop, _ = (snps or slice(0, m)).indices(m)
        first = max(0, start - self.order)  # the lags reach back this far
        previous = F.one_hot(dosages[:, first:stop].long(), 3).to(self.weight.dtype)
        previous = F.pad(previous, (0, 0, self.order - (start - first), 0))
        width = stop - start  # previous[:, order + i] is SNP start + i
        lags = [previous[:, self.order - lag:self.order - lag + width]
                * self.mask[None, start:stop, lag - 1, None] for lag in range(1, self.order + 1)]
        return torch.cat(lags, dim=2)

    def trait_terms(self, cond: torch.Tensor | None, snps: slice | None = None):
        """The phenotype terms (n, SNPs, 3) of standardised phenotypes ``cond`` (n, cond_dim),
        or 0 without them."""
        if cond is None or self.trait_weight.shape[1] == 0:
            return 0.0
        return torch.einsum("nc,mco->nmo", cond.to(self.trait_weight.dtype),
                            self.trait_weight[snps or slice(None)])

    def context(self, dosages: torch.Tensor, snps: slice | None = None,
                cond: torch.Tensor | None = None) -> torch.Tensor:
        """The lag (and phenotype) terms (n, SNPs, 3) of genotypes ``dosages`` (n, m) at SNPs
        ``snps`` (default all, in chunks; teacher forcing: the lags are the individuals'
        own)."""
        if snps is None:
            return torch.cat([self.context(dosages, part, cond)
                              for part in self.chunks(dosages.shape[0])], dim=1)
        features = self.features(dosages, snps)
        weight = self.weight[snps].reshape(features.shape[1], -1, 3)
        return torch.einsum("nmk,mko->nmo", features, weight) + self.trait_terms(cond, snps)

    def forward(self, logits: torch.Tensor, dosages: torch.Tensor,
                cond: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (n, m, 3) of the network plus the terms of ``dosages`` (n, m) and
        ``cond``."""
        return logits.reshape(logits.shape[0], -1, 3) + self.context(dosages, cond=cond)

    def pretrain(self, dosages: torch.Tensor, base_logits: torch.Tensor,
                 cond: torch.Tensor | None = None, *, penalty: float = 1.0, steps: int = 60,
                 lr: float = 0.1, seconds: float | None = None) -> float:
        """Fit the lag terms alone on top of fixed ``base_logits`` (m, 3), or one row per
        individual (n, m, 3), with the phenotype terms of ``cond`` (n, cond_dim) for a
        conditional model, by full-batch
        Adam on the cross-entropy plus ``penalty`` x the sum of squared weights (a N(0, 1 /
        (2 penalty)) prior on each log-odds term), divided by n.

        The wrapped network starts from independent sites (its output bias at the training
        genotype frequencies); this gives the layer the training split's local LD before the
        network trains, where the network's learning rate would take hundreds of epochs to
        move log-odds of several units. Each SNP's terms are a separate problem and Adam
        updates each weight on its own, so SNPs are fitted in chunks (:meth:`chunks`) with
        the same result as all at once. With ``seconds``, the number of steps is cut (to at
        least 10, the same for every SNP) so that fitting takes about that long, from the
        time of the first chunk's first step: on a long chromosome the network keeps its share
        of a capped fit. :returns: the final loss per individual (nats).
        """
        n = dosages.shape[0]
        total = 0.0
        chunks = self.chunks(n)
        for index, snps in enumerate(chunks):
            # SNP-major, so the products are one batched matmul over the chunk's SNPs
            features = self.features(dosages, snps)
            traits = self.trait_weight.shape[1] if cond is not None else 0
            if traits:
                features = torch.cat([features, cond[:, None, :].to(features.dtype)
                                      .expand(-1, features.shape[1], -1)], dim=2)
            features = features.transpose(0, 1).contiguous()  # (m, n, k)
            target = dosages[:, snps].long().T.reshape(-1)
            base = (base_logits[snps][:, None, :] if base_logits.dim() == 2
                    else base_logits[:, snps].transpose(0, 1)).detach()  # (m, 1 or n, 3)
            weight = torch.cat([self.weight[snps].detach().reshape(features.shape[0], -1, 3),
                                self.trait_weight[snps, :traits].detach()], dim=1).clone()
            weight.requires_grad_(True)
            optimizer = torch.optim.Adam([weight], lr=lr)
            started = time.perf_counter()
            for step in range(int(steps)):
                if seconds is not None and index == 0 and step == 1:  # one step, all SNPs
                    per_step = (time.perf_counter() - started) * self.weight.shape[0] \
                        / max(1, snps.stop - snps.start)
                    steps = max(10, min(int(steps), int(seconds / max(per_step, 1e-9))))
                if step >= steps:
                    break
                logits = base + torch.bmm(features, weight)  # (m, n, 3)
                loss = (F.cross_entropy(logits.reshape(-1, 3), target, reduction="sum")
                        + penalty * weight.pow(2).sum()) / n
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            with torch.no_grad():
                lags = 3 * self.order
                self.weight[snps] = weight[:, :lags].reshape(self.weight[snps].shape)
                self.trait_weight[snps, :traits] = weight[:, lags:]
            total += float(loss.detach())
        return total

    def select_trait_terms(self, dosages: torch.Tensor, base_logits: torch.Tensor,
                           cond: torch.Tensor, traits: int, levels: Sequence[float], *,
                           penalty: float = 1.0, seed: int = 0) -> dict:
        """Fit the phenotype terms (the first ``traits`` condition columns) and keep them only
        at SNPs whose association with the phenotypes is significant at the level, of
        ``levels``, whose terms predict held-out individuals' phenotypes best.

        Call after :meth:`pretrain` fitted the lag and other condition terms without these
        columns (zeroed). With those terms fixed, each SNP's phenotype terms are fitted under
        the prior ``penalty`` and tested by a score test (:func:`_tested_terms`). Terms at
        every SNP carry the training individuals' own genotype-phenotype covariance, noise
        included, which tells who was trained on (Homer et al. 2008; Im et al. 2012); terms at
        the SNPs that pass a test carry the association. The level is chosen as a
        pruning-and-thresholding polygenic score's is, by 2-fold cross-validation: terms
        fitted and tested on one half; on the other half, the Pearson r between each phenotype
        and its score (the sum over kept SNPs of the terms' log-odds of genotype 2 over 0
        times the centred dosage). Where the best mean r over phenotypes and folds exceeds
        :data:`TRAIT_SIGNIFICANCE` standard errors, the smallest level whose r is within one
        standard error of it (the one-standard-error rule) is applied to the terms fitted on
        every individual; otherwise no terms are kept. A level of 1 keeps every SNP's terms,
        0 none.

        :param dosages: (n, m). :param base_logits: (m, 3) or (n, m, 3), as for
            :meth:`pretrain`. :param cond: (n, cond_dim).
        :returns: {"level": the chosen one, "snps": SNPs whose terms were kept, "seconds",
            "held_out_r": {"level": mean held-out r}}.
        """
        started = time.perf_counter()
        n = dosages.shape[0]
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        folds = (order[: n // 2].to(dosages.device), order[n // 2:].to(dosages.device))
        levels = sorted(map(float, levels))
        scores = [torch.zeros(len(levels), fold.numel(), traits, dtype=torch.float64,
                              device=dosages.device) for fold in folds[::-1]]
        features = cond[:, :traits].to(self.trait_weight.dtype)  # (n, traits)
        others = without_traits(cond, traits)
        fitted = []  # per chunk: its SNPs, and terms and p-values from every individual
        for snps in self.chunks(n):
            offset, target = self._trait_problem(dosages, base_logits, others, snps)
            fitted.append((snps, *_tested_terms(offset, target, features, penalty)))
            centred = (target - target.float().mean(1, keepdim=True)).double()  # (m, n)
            for (fit, score), total in zip((folds, folds[::-1]), scores, strict=True):
                weight, p = _tested_terms(offset[:, fit], target[:, fit], features[fit],
                                          penalty)
                effect = (weight[:, :, 2] - weight[:, :, 0]).double()  # (m, traits)
                for index, level in enumerate(levels):
                    kept = _passing(p, level).double()[:, None]
                    total[index] += centred[:, score].T @ (effect * kept)
        phenotypes = [features[fold].double() for fold in folds[::-1]]
        r = {level: np.array([_pearson(total[index][:, c], y[:, c])
                              for total, y in zip(scores, phenotypes, strict=True)
                              for c in range(traits)])
             for index, level in enumerate(levels)}  # per fold and phenotype
        held_out_r = {level: float(values.mean()) for level, values in r.items()}
        best = max(levels, key=lambda level: held_out_r[level])
        # the standard error of a Pearson r, (1 - r^2) / sqrt(n - 1), of the best one's mean
        spread = float(np.mean((1 - r[best]**2) / np.sqrt(n // 2 - 1)) / np.sqrt(r[best].size))
        # no terms unless the best predicts held-out phenotypes significantly; else the
        # one-standard-error rule (Hastie et al. 2009, 7.10): the fewest terms whose r is
        # within one standard error of the best
        chosen = 0.0
        if held_out_r[best] > TRAIT_SIGNIFICANCE * spread:
            chosen = min(level for level in levels
                         if held_out_r[level] >= held_out_r[best] - spread)
        kept_snps = 0
        for snps, weight, p in fitted:
            kept = _passing(p, chosen)
            kept_snps += int(kept.sum())
            with torch.no_grad():
                self.trait_weight[snps, :traits] = weight * kept[:, None, None]
        return dict(level=chosen, snps=kept_snps, seconds=time.perf_counter() - started,
                    held_out_r={f"{level:g}": value for level, value in held_out_r.items()})

    @torch.no_grad()
    def _trait_problem(self, dosages, base_logits, others, snps):
        """SNP-major logits without the phenotype terms (m, n, 3) and genotypes (m, n) for
        the SNPs ``snps``; ``others``: the condition rows with the phenotypes zeroed
        (:func:`without_traits`)."""
        base = base_logits[snps][None] if base_logits.dim() == 2 else base_logits[:, snps]
        offset = (base + self.context(dosages, snps, others)).transpose(0, 1).contiguous()
        return offset.float(), dosages[:, snps].long().T.contiguous()

    @torch.no_grad()
    def sample(self, logits: torch.Tensor, cond: torch.Tensor | None = None, *,
               temperature: float = 1.0, greedy: bool = False) -> torch.Tensor:
        """Genotypes int8 (n, m) drawn SNP by SNP from softmax((logits + terms) / T), or with
        ``greedy`` the likeliest genotype at each SNP given those before it (argmax decoding).

        ``logits`` (n, m, 3) or (n, 3 m); ``cond`` (n, cond_dim) the phenotypes to draw for.
        Draws use torch's global generator (Gumbel-max), so call it inside
        :func:`~.runtime.seeded`.
        """
        logits = logits.reshape(logits.shape[0], -1, 3).float() + self.trait_terms(cond)
        noise = torch.zeros_like(logits) if greedy else \
            -torch.empty_like(logits).exponential_().log()
        n, m, _ = logits.shape
        out = torch.zeros(n, m, dtype=torch.long, device=logits.device)
        weight = self.weight.float() * self.mask[:, :, None, None]
        lags = torch.arange(1, self.order + 1, device=logits.device)
        rows = torch.arange(self.order, device=logits.device)
        scale = 1.0 / float(temperature)
        for j in range(m):
            current = logits[:, j]
            if self.order and j:
                usable = int(min(self.order, j))
                previous = out[:, j - lags[:usable]]  # (n, usable)
                current = current + weight[j, rows[:usable], previous].sum(1)
            out[:, j] = (current * scale + noise[:, j]).argmax(1)
        return out.to(torch.int8)


def without_traits(cond: torch.Tensor, traits: int) -> torch.Tensor:
    """Condition rows ``cond`` (n, c) with their first ``traits`` columns, the phenotypes,
    zeroed: what the layer's other condition terms (ancestry) are fitted and read with."""
    others = cond.clone()
    others[:, :traits] = 0
    return others


def _passing(p: torch.Tensor, level: float) -> torch.Tensor:
    """SNPs (m,) whose p-values ``p`` pass ``level``; every SNP at a level of 1."""
    return (p < level) | (level >= 1.0)


def _pearson(a: torch.Tensor, b: torch.Tensor) -> float:
    """Pearson r of two vectors, 0 where either is constant."""
    a, b = a - a.mean(), b - b.mean()
    denominator = float(a.norm() * b.norm())
    return float(a @ b) / denominator if denominator > 0 else 0.0


def _tested_terms(offset: torch.Tensor, target: torch.Tensor, features: torch.Tensor,
                  penalty: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-SNP log-odds terms (m, k, 3) of ``features`` (n, k) on top of ``offset`` (m, n, 3)
    for genotypes ``target`` (m, n), and each SNP's p-value (m,) against no terms.

    Both come from the score and the Fisher information at no terms, with genotype 0 as the
    reference category: the p-value of Rao's score test (chi-square, 2 k degrees of freedom;
    asymptotically the likelihood-ratio test) and one Newton step from 0 on the cross-entropy
    plus ``penalty`` x the squared terms (the prior of :meth:`LocalLD.pretrain`), exact for
    the small per-SNP effects of a complex trait. No iterations: a SNP chunk costs a few
    products of its size.
    """
    m, k = offset.shape[0], features.shape[1]
    x = features.double()
    probabilities = torch.softmax(offset.double(), dim=-1)[..., 1:]  # (m, n, 2)
    residual = F.one_hot(target, 3)[..., 1:].double() - probabilities
    score = torch.einsum("nk,mno->mko", x, residual).reshape(m, 2 * k)
    # per individual, the multinomial's information diag(p) - p p^T over genotypes 1 and 2
    weights = torch.diag_embed(probabilities) - probabilities[..., :, None] * \
        probabilities[..., None, :]  # (m, n, 2, 2)
    information = torch.einsum("na,nb,mnpq->mapbq", x, x, weights).reshape(m, 2 * k, 2 * k)
    ridge = torch.eye(2 * k, dtype=information.dtype, device=information.device)
    tiny = 1e-9 * information.diagonal(dim1=1, dim2=2).mean(1).clamp(min=1e-12)
    statistic = (score[:, None, :] @ torch.linalg.solve(
        information + tiny[:, None, None] * ridge, score[..., None]))[:, 0, 0]
    step = torch.linalg.solve(information + 2 * penalty * ridge, score[..., None])[..., 0]
    weight = torch.zeros(m, k, 3, dtype=offset.dtype, device=offset.device)
    weight[:, :, 1:] = step.reshape(m, k, 2).to(offset.dtype)
    p = torch.as_tensor(stats.chi2.sf(statistic.clamp(min=0).cpu().numpy(), 2 * k),
                        device=offset.device)
    return weight, p


def binomial_logits(dosages: torch.Tensor, floor: float = 0.01) -> torch.Tensor:
    """Genotype log-probabilities (n, m, 3) of a Binomial(2, p) with p = dosage / 2 clipped to
    [floor, 1 - floor]: real-valued dosages (a PCA reconstruction) as per-SNP logits."""
    p = (dosages.float() / 2).clamp(floor, 1 - floor)
    q = 1 - p
    return torch.stack([2 * q.log(), math.log(2) + p.log() + q.log(), 2 * p.log()], dim=-1)


def lag_mask(n_snps: int, order: int, chromosomes: np.ndarray | None) -> torch.Tensor:
    """float32 (m, order): 1 where SNP j - lag exists and is on SNP j's chromosome."""
    index = np.arange(n_snps)
    same = np.zeros((n_snps, order), dtype=np.float32)
    codes = (np.zeros(n_snps, dtype=np.int64) if chromosomes is None
             else np.unique(np.asarray(chromosomes).astype(str), return_inverse=True)[1])
    for lag in range(1, order + 1):
        earlier = index - lag
        valid = earlier >= 0
        same[valid, lag - 1] = codes[valid] == codes[earlier[valid]]
    return torch.from_numpy(same)


#: Lags of ``local_ld = "auto"``: the powers of two tried, and the longest kept. 64 lags
#: memorised training haplotypes on both issue suites (VAE, seed 1: the reconstruction-error
#: membership AUC reached 1.00; on cow_chr14 the relatives gate failed on seeds 1-3).
AUTO_LAGS = (4, 8, 16, 32)

#: ``local_ld = "auto"`` keeps the fewest lags of :data:`AUTO_LAGS` beyond which the training
#: split's LD (mean r^2 between SNPs that many apart) exceeds its long-range level
#: (:data:`FAR_LAG` apart) by at most this share of the excess at lag 1.
LD_EXTENT_SHARE = 0.1

#: SNPs apart at which LD is taken as the long-range level: population structure, not linkage.
FAR_LAG = 128


def ld_by_lag(dosages: np.ndarray, chromosomes=None, lags=(1, 2, 4, 8, 16, 32, 64, 128)
              ) -> dict[int, float]:
    """Mean r^2 between the dosages of SNPs ``lag`` apart on the same chromosome, per lag.

    :param dosages: (n, m) 0/1/2. :param chromosomes: (m,) or None (one chromosome).
    :returns: {lag: mean r^2} for the lags that have pairs (monomorphic SNPs left out).
    """
    x = np.asarray(dosages, dtype=np.float64)
    sd = x.std(0)
    keep = sd > 0
    z = (x[:, keep] - x[:, keep].mean(0)) / sd[keep]
    chrom = np.zeros(x.shape[1], dtype=int) if chromosomes is None else \
        np.unique(np.asarray(chromosomes).astype(str), return_inverse=True)[1]
    chrom = chrom[keep]
    out = {}
    for lag in lags:
        same = chrom[:-lag] == chrom[lag:] if lag < z.shape[1] else np.zeros(0, bool)
        if same.any():
            r = (z[:, :-lag][:, same] * z[:, lag:][:, same]).mean(0)
            out[int(lag)] = float(np.mean(r ** 2))
    return out


def ld_extent_lags(dosages: np.ndarray, chromosomes=None) -> int:
    """``local_ld = "auto"``: the fewest lags of :data:`AUTO_LAGS` that cover the training
    split's LD, by :data:`LD_EXTENT_SHARE` of its excess over the level :data:`FAR_LAG` SNPs
    apart (or at the farthest lag with pairs on short panels), at most the largest.

    Measured (mean r^2 at lags 1 / 8 / 16 / 32 / 128): human_chr22 0.083 / 0.022 / 0.016 /
    0.012 / 0.011 gives 16; cow_chr14, Holstein LD over megabases, 0.168 / 0.069 / 0.050 /
    0.034 / 0.009 gives 32 (64 by the rule, kept at the largest).
    """
    r2 = ld_by_lag(dosages, chromosomes, lags=sorted({1, *AUTO_LAGS, FAR_LAG}))
    if 1 not in r2:
        return AUTO_LAGS[0]
    floor = r2[max(r2)]
    excess = r2[1] - floor
    for lag in AUTO_LAGS:
        if lag not in r2 or r2[lag] - floor <= LD_EXTENT_SHARE * excess:
            return lag
    return AUTO_LAGS[-1]
