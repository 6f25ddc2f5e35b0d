"""A Gaussian mixture to draw low-dimensional codes from: the VAE's latent codes and the GANs'
ancestry coordinates.

A population of distinct ancestries puts its individuals' codes in clusters; one Gaussian
fitted to them also draws codes between the clusters, individuals of no real ancestry. A
mixture of a few components, chosen by BIC, follows the clusters without keeping any
individual's code (ex-post density estimation, Ghosh et al. 2020, ICLR).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def gaussian_mixture(codes: np.ndarray, components: int):
    """A full-covariance Gaussian mixture of ``codes`` (n, d), 1..``components`` components
    chosen by BIC (scikit-learn, fixed seed): weights (k,), means (k, d), covariances
    (k, d, d) as float64 tensors."""
    from sklearn.mixture import GaussianMixture

    best, best_bic = None, float("inf")
    for k in range(1, components + 1):
        mixture = GaussianMixture(k, covariance_type="full", random_state=0,
                                  reg_covar=1e-6).fit(codes)
        bic = mixture.bic(codes)
        if bic < best_bic:
            best, best_bic = mixture, bic
    return (torch.from_numpy(best.weights_), torch.from_numpy(best.means_),
            torch.from_numpy(best.covariances_))


class MixtureSampler(nn.Module):
    """Draws codes (n, d): component c with probability ``weights[c]``, then
    ``means[c] + factors[c] @ e``, e ~ N(0, I). Starts as one component N(0, I).

    :ivar weights: float32 (k,) buffer. :ivar means: float32 (k, d) buffer.
    :ivar factors: float32 (k, d, d) buffer, lower Cholesky factors of the covariances.
    Loading a state dict resizes the buffers to the saved number of components.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.dim = int(dim)
        self.register_buffer("weights", torch.ones(1))
        self.register_buffer("means", torch.zeros(1, self.dim))
        self.register_buffer("factors", torch.eye(self.dim)[None])

    @torch.no_grad()
    def fit(self, codes: torch.Tensor | None, *, components: int = 1,
            widen: torch.Tensor | None = None) -> MixtureSampler:
        """Fit to ``codes`` (n, d); None: back to N(0, I).

        ``components`` 1: one Gaussian of the codes' mean and covariance; above 1: a mixture
        of up to that many components by BIC (:func:`gaussian_mixture`; one Gaussian when
        there are fewer than 4 codes a component). ``widen`` (d, d) is added to every
        component's covariance (the VAE's mean posterior variance).
        """
        device = self.means.device
        if codes is None:
            self._set(torch.ones(1), torch.zeros(1, self.dim), torch.eye(self.dim)[None])
            return self
        codes = codes.double().cpu()
        if components > 1 and codes.shape[0] >= 4 * components:
            weights, means, covariances = gaussian_mixture(codes.numpy(), components)
        else:
            covariance = torch.cov(codes.T).reshape(self.dim, self.dim) if codes.shape[0] > 1 \
                else torch.zeros(self.dim, self.dim, dtype=torch.float64)
            weights, means, covariances = torch.ones(1), codes.mean(0)[None], covariance[None]
        if widen is not None:
            covariances = covariances + widen.double().cpu()
        eye = torch.eye(self.dim, dtype=torch.float64)
        jitter = 1e-6 * max(float(covariances.diagonal(dim1=1, dim2=2).mean()), 1e-12)
        factors = torch.linalg.cholesky(covariances + jitter * eye)
        self._set(weights.to(device), means.to(device), factors.to(device))
        return self

    def sample(self, n: int) -> torch.Tensor:
        """``n`` codes float32 (n, d) (torch's global generator: call it seeded)."""
        e = torch.randn(n, self.dim, device=self.means.device)
        if self.weights.numel() == 1:
            return self.means[0] + e @ self.factors[0].T
        component = torch.multinomial(self.weights, n, replacement=True)
        return self.means[component] + torch.einsum("nij,nj->ni", self.factors[component], e)

    def _set(self, weights, means, factors) -> None:
        device = self.means.device
        self.weights = weights.float().to(device)
        self.means = means.float().to(device)
        self.factors = factors.float().to(device)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if prefix + "means" in state_dict:  # the saved mixture's size
            self._set(*(torch.empty_like(state_dict[prefix + name])
                        for name in ("weights", "means", "factors")))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
