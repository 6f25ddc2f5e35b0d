"""Per-SNP and per-individual summaries of 0/1/2 dosages: genotype counts, allele
frequencies, heterozygosity, exact moments and standardisation (centre and scale per SNP)."""

from __future__ import annotations

import numpy as np
import torch

from .products import as_int8, count_values

# -- per-SNP summaries ---------------------------------------------------------------------

def genotype_counts(dosages, *, block_size: int = 8192, device: str = "cpu") -> np.ndarray:
    """Count hom-ref (0), het (1) and hom-alt (2) genotypes per SNP.

    :param dosages: (n_samples, n_snps) 0/1/2.
    :param block_size: individuals per block (bounds the temporaries).
    :returns: int64 array (n_snps, 3): columns hom-ref, het, hom-alt.
    """
    x = as_int8(dosages, device)
    n, m = x.shape
    total = torch.zeros(m, dtype=torch.int64, device=x.device)
    hom_alt = torch.zeros(m, dtype=torch.int64, device=x.device)
    for start in range(0, n, block_size):
        block = x[start:start + block_size]
        total += count_values(block, 0)
        hom_alt += count_values(block, 0, 2)
    het = total - 2 * hom_alt
    counts = torch.stack([n - het - hom_alt, het, hom_alt], dim=1)
    return counts.cpu().numpy()


def genotype_frequencies(dosages, *, block_size: int = 8192, device: str = "cpu") -> np.ndarray:
    """Hom-ref, het and hom-alt rates per SNP: float64 array (n_snps, 3), rows sum to 1.

    NaN when there are no individuals.
    """
    counts = genotype_counts(dosages, block_size=block_size, device=device)
    n = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts / n


def allele_frequencies(dosages, *, block_size: int = 8192, device: str = "cpu") -> np.ndarray:
    """Alternate allele frequency per SNP: float64 array (n_snps,), (het + 2 hom-alt) / 2n."""
    frequencies = genotype_frequencies(dosages, block_size=block_size, device=device)
    return frequencies[:, 1] / 2.0 + frequencies[:, 2]


def heterozygosity(dosages, *, device: str = "cpu") -> np.ndarray:
    """Observed heterozygosity of each individual: its share of heterozygous SNPs.

    :param dosages: (n_samples, n_snps) 0/1/2.
    :returns: float64 array (n_samples,); NaN when there are no SNPs.
    """
    x = as_int8(dosages, device)
    with np.errstate(invalid="ignore", divide="ignore"):
        return count_values(x, 1, 1).cpu().numpy().astype(np.float64) / x.shape[1]

_SCALERS = ("none", "patterson", "standard")

def snp_moments(x: torch.Tensor):
    """Column sums and variances of int8 dosages (n, m), exact: (S int64 (m,), var float64).

    ``var`` is the population variance (n - 0 degrees of freedom), from the integer sums
    S = sum x and Q = sum x^2 as (n Q - S^2) / n^2; exactly 0 for a monomorphic SNP.
    """
    n = x.shape[0]
    s = count_values(x, 0)
    q = s + 2 * count_values(x, 0, 2)  # x^2 = x + 2 [x == 2] on {0, 1, 2}
    return s, (n * q - s * s).to(torch.float64) / max(n, 1) ** 2


def scaling(x: torch.Tensor, scaler: str):
    """(centre, scale) per SNP, float64 (m,): the standardised value is (x - centre) * scale.

    ``"none"``: centre on the mean, scale 1. ``"patterson"``: mean and 1 / sqrt(p (1 - p))
    with p = mean / 2 (Patterson et al. 2006, PLoS Genetics 2:e190; scikit-allel's default).
    ``"standard"``: mean and 1 / sd (z-scores, population sd). Monomorphic SNPs get scale 0
    under the last two (they carry no variation).
    """
    if scaler not in _SCALERS:
        raise ValueError(f"scaler must be one of {', '.join(_SCALERS)}, not {scaler!r}")
    n = x.shape[0]
    s, var = snp_moments(x)
    centre = s.to(torch.float64) / n
    if scaler == "none":
        return centre, torch.ones_like(centre)
    spread = (centre / 2 * (1 - centre / 2)) if scaler == "patterson" else var
    positive = spread > 0
    return centre, torch.where(positive, 1 / torch.sqrt(torch.where(positive, spread, 1.0)),
                               0.0)

