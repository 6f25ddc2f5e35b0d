"""Per-chromosome PCA of dosages: the diffusion model's compression and the GANs' ancestry
coordinates."""

from __future__ import annotations

import math

import numpy as np
import torch


class PCACodec:
    """Per-chromosome PCA of dosages: encode to standardised scores, decode to {0, 1, 2}.

    :ivar mean: float32 (m,) SNP means. :ivar loadings: float32 (m, k) block-diagonal over
        chromosomes stored densely per chromosome as ``parts``. :ivar scale: float32 (k,)
        standard deviation of each score (its singular value / sqrt(n - 1)).
    """

    def __init__(self, mean, parts, scale):
        self.mean, self.parts, self.scale = mean, parts, scale  # parts: [(snp index, W)]

    @classmethod
    def fit(cls, dosages: torch.Tensor, chromosomes: np.ndarray, *, variance: float,
            max_components: int) -> PCACodec:
        """PCA per chromosome keeping the fewest PCs reaching ``variance`` explained.

        ``max_components`` caps the total; a chromosome's cap is its share of the SNPs (at
        least 1 component). At most n - 1 components are informative.
        """
        x = dosages.double()
        n, m = x.shape
        mean = x.mean(0)
        parts, scales = [], []
        for chromosome in dict.fromkeys(chromosomes.tolist()):
            index = torch.as_tensor(np.flatnonzero(chromosomes == chromosome),
                                    device=dosages.device)
            centred = x[:, index] - mean[index]
            _, s, vh = torch.linalg.svd(centred, full_matrices=False)
            explained = s**2 / max((s**2).sum().item(), 1e-12)
            keep = int((explained.cumsum(0) < variance).sum().item()) + 1
            cap = max(1, round(max_components * index.numel() / m))
            keep = max(1, min(keep, cap, n - 1, int((s > 1e-8).sum().item()) or 1))
            parts.append((index, vh[:keep].T.float().contiguous()))
            scales.append((s[:keep] / math.sqrt(max(n - 1, 1))).float().clamp_min(1e-6))
        return cls(mean.float(), parts, torch.cat(scales))

    @property
    def n_components(self) -> int:
        return int(self.scale.numel())

    def encode(self, dosages: torch.Tensor) -> torch.Tensor:
        """Standardised PC scores (n, k)."""
        x = dosages.float() - self.mean
        scores = torch.cat([x[:, index] @ w for index, w in self.parts], dim=1)
        return scores / self.scale

    def reconstruct(self, z: torch.Tensor) -> torch.Tensor:
        """Dosages float32 (n, m) of standardised scores ``z``: ``scores W^T + mu``, unrounded."""
        scores = z * self.scale
        out = self.mean.expand(z.shape[0], -1).clone()
        start = 0
        for index, w in self.parts:
            k = w.shape[1]
            out[:, index] += scores[:, start:start + k] @ w.T
            start += k
        return out

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Dosages int8 (n, m): :meth:`reconstruct`, rounded and clipped to {0, 1, 2}."""
        return self.reconstruct(z).round().clamp(0, 2).to(torch.int8)

    def residual_norms(self, dosages: torch.Tensor) -> torch.Tensor:
        """Euclidean distance (n,) of each individual's dosages to the kept PCs' subspace (what
        decoding cannot reproduce; before rounding): ``|x - reconstruct(encode(x))|``."""
        return (dosages.float() - self.reconstruct(self.encode(dosages))).norm(dim=1)

    def state(self) -> dict[str, torch.Tensor]:
        extra = {"pca_mean": self.mean, "pca_scale": self.scale}
        for i, (index, w) in enumerate(self.parts):
            extra[f"pca_index_{i}"], extra[f"pca_loadings_{i}"] = index, w
        return extra

    @classmethod
    def from_state(cls, extra: dict[str, torch.Tensor]) -> PCACodec:
        parts, i = [], 0
        while f"pca_index_{i}" in extra:
            parts.append((extra[f"pca_index_{i}"].long(), extra[f"pca_loadings_{i}"]))
            i += 1
        return cls(extra["pca_mean"], parts, extra["pca_scale"])
