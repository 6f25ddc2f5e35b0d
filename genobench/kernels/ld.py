"""Linkage disequilibrium from exact integer products: Rogers-Huff r and r^2 matrices, LD
decay by distance bins, window comparisons of two sets and the correlation score."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from .products import as_int8, count_values, exact_gram

# -- linkage disequilibrium ----------------------------------------------------------------

def snp_sums(xt: torch.Tensor):
    """Sums per SNP of an SNP-major (m, n) int8 matrix: (S = sum x int64, V = n sum x^2 - S^2).

    ``V`` (float64) is n^2 times the variance; zero exactly for a monomorphic SNP. It uses
    x^2 = x + 2 [x == 2] on {0, 1, 2}, so no wide temporary is built.
    """
    n = xt.shape[1]
    s = count_values(xt, 1)
    q = s + 2 * count_values(xt, 1, 2)
    return s, (n * q - s * s).to(torch.float64)


def _correlation(gram, n, s_a, v_a, s_b, v_b) -> torch.Tensor:
    """Pearson r from exact integer sums: (n G - S_a S_b) / sqrt(V_a V_b); NaN if V is 0."""
    numerator = (n * gram - s_a[:, None] * s_b[None, :]).to(torch.float64)
    r = numerator / torch.sqrt(v_a[:, None] * v_b[None, :])
    r = r.clamp(-1.0, 1.0)  # rounding of the last division may step just outside
    return torch.where((v_a[:, None] > 0) & (v_b[None, :] > 0), r, torch.nan)


def ld_matrix(dosages, other=None, *, squared: bool = True, device: str = "cpu",
              method: str = "auto") -> np.ndarray:
    """Rogers-Huff unphased LD between every pair of SNPs of one (or two) blocks of SNPs.

    r is the Pearson correlation of dosages across individuals (Rogers & Huff 2009, Genetics
    182:839), the quantity ``allel.rogers_huff_r`` estimates. Meant for cross-checks and
    heatmaps of a window: the whole (m_a, m_b) matrix is materialised.

    :param dosages: (n_samples, m_a) 0/1/2.
    :param other: optional (n_samples, m_b) on the same individuals; default ``dosages``.
    :param squared: return r^2 (default) or r.
    :returns: float64 array (m_a, m_b); NaN where either SNP is monomorphic.
    """
    xa = as_int8(dosages, device).T.contiguous()
    xb = xa if other is None else as_int8(other, device).T.contiguous()
    if xa.shape[1] != xb.shape[1]:
        raise ValueError(f"dosages and other have {xa.shape[1]} and {xb.shape[1]} individuals")
    s_a, v_a = snp_sums(xa)
    s_b, v_b = (s_a, v_a) if other is None else snp_sums(xb)
    r = _correlation(exact_gram(xa, xb, method=method), xa.shape[1], s_a, v_a, s_b, v_b)
    return (r * r if squared else r).cpu().numpy()


@dataclasses.dataclass
class LDDecay:
    """An LD-decay curve: r^2 summed and counted over SNP pairs per physical-distance bin.

    :ivar edges: float64 (n_bins + 1,), bin edges in bp, log-spaced.
    :ivar sums: float64 (n_bins,), sum of r^2 over the pairs in each bin.
    :ivar counts: int64 (n_bins,), number of SNP pairs in each bin.
    """

    edges: np.ndarray
    sums: np.ndarray
    counts: np.ndarray

    @property
    def centres(self) -> np.ndarray:
        """Geometric centre of each bin in bp, float64 (n_bins,)."""
        return np.sqrt(self.edges[:-1] * self.edges[1:])

    @property
    def mean(self) -> np.ndarray:
        """Mean r^2 per bin, float64 (n_bins,); NaN for a bin without pairs."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.counts > 0, self.sums / np.maximum(self.counts, 1), np.nan)


def ld_decay(dosages, positions, chromosomes=None, *, min_distance: float = 1e3,
             max_distance: float = 1e6, n_bins: int = 16, block_size: int | None = None,
             device: str = "cpu", method: str = "auto") -> LDDecay:
    """Mean Rogers-Huff r^2 per log-spaced distance bin over all SNP pairs on a chromosome.

    Pairs of SNPs on the same chromosome at a distance ``d`` with
    ``min_distance <= d <= max_distance`` bp fall into ``n_bins`` bins with edges
    ``logspace(log10(min_distance), log10(max_distance), n_bins + 1)`` (the LD-decay plot of
    Xie et al. 2026, 10^3..10^6 bp). Closer pairs (and SNPs at the same position) are left out.
    SNPs monomorphic in ``dosages`` have no r and are left out. Work goes in tiles of
    ``block_size`` x ``block_size`` SNPs (default: fitted to the window): a block of SNPs
    against the SNPs to its right within ``max_distance``, so the full m x m matrix is never
    built.

    :param dosages: (n_samples, n_snps) 0/1/2.
    :param positions: (n_snps,) physical positions in bp.
    :param chromosomes: (n_snps,) chromosome labels, or None for a single chromosome.
    :returns: :class:`LDDecay` with per-bin sums of r^2 and pair counts.
    """
    if not 0 < min_distance < max_distance:
        raise ValueError(f"need 0 < min_distance < max_distance, got {min_distance}, "
                         f"{max_distance}")
    edges = np.logspace(math.log10(min_distance), math.log10(max_distance), n_bins + 1)
    dosages = np.asarray(dosages) if not isinstance(dosages, torch.Tensor) else dosages
    positions = np.asarray(positions, dtype=np.int64)
    sums = torch.zeros(n_bins + 1, dtype=torch.float64, device=device)
    counts = torch.zeros(n_bins + 1, dtype=torch.int64, device=device)
    edges_t = torch.as_tensor(edges, device=device)
    for index in _chromosome_order(positions, chromosomes):
        xt = as_int8(_columns(dosages, index), device).T.contiguous()  # SNP-major (m_c, n)
        s, v = snp_sums(xt)
        keep = v > 0  # monomorphic SNPs: r undefined
        xt, s, v = xt[keep], s[keep], v[keep]
        pos = positions[index][keep.cpu().numpy()]
        n = xt.shape[1]
        for row, col, distance, wanted in _window_tiles(pos, min_distance, max_distance,
                                                        block_size, device):
            numerator = (n * exact_gram(xt[row], xt[col], method=method)
                         - s[row, None] * s[None, col]).to(torch.float64)
            r2 = (numerator.square_() / (v[row, None] * v[None, col])).clamp_(max=1.0)
            bins = torch.bucketize(distance.to(torch.float64), edges_t, right=True) - 1
            bins = torch.where(wanted, bins.clamp_(0, n_bins - 1), n_bins).ravel()
            sums += torch.bincount(bins, weights=r2.ravel(), minlength=n_bins + 1)
            counts += torch.bincount(bins, minlength=n_bins + 1)
    return LDDecay(edges, sums[:n_bins].cpu().numpy(), counts[:n_bins].cpu().numpy())


def _chromosome_order(positions: np.ndarray, chromosomes) -> list[np.ndarray]:
    """Per chromosome, the indices of its SNPs in order of position."""
    chromosomes = (np.zeros(positions.shape[0], dtype=int) if chromosomes is None
                   else np.asarray(chromosomes))
    order = []
    for chromosome in np.unique(chromosomes):
        index = np.flatnonzero(chromosomes == chromosome)
        order.append(index[np.argsort(positions[index], kind="stable")])
    return order


def _columns(data, index: np.ndarray):
    """``data[:, index]``, as a view (no gather) when the index is a contiguous run, as the
    SNPs of one chromosome usually are."""
    if index.size and index[-1] - index[0] + 1 == index.size and (np.diff(index) == 1).all():
        return data[:, int(index[0]):int(index[-1]) + 1]
    return data[:, index]


def window_block_size(pos: np.ndarray, max_distance: float,
                      block_size: int | None = None) -> int:
    """``block_size``, or one fitted to the window: twice the SNPs a window typically spans
    (a power of two from 128 to 1024), so sparse windows do not pay for wide tiles."""
    if block_size is not None:
        return block_size
    if pos.shape[0] == 0:
        return 128
    spans = np.searchsorted(pos, pos + max_distance, side="right") - np.arange(pos.shape[0])
    return int(min(1024, max(128, 2 ** math.ceil(math.log2(2 * np.median(spans) + 1)))))


def _window_tiles(pos: np.ndarray, min_distance: float, max_distance: float,
                  block_size: int | None, device):
    """The SNP pairs (i < j) of one chromosome within a distance window, tile by tile.

    :param pos: sorted positions (m_c,).
    :yields: (rows slice, columns slice, distance, wanted): the tile's int64 distances in bp
        and a boolean mask of its pairs with ``min_distance <= pos[j] - pos[i] <=
        max_distance`` and i < j, each pair appearing in one tile only. Tiles are
        ``block_size`` SNPs a side (default: :func:`window_block_size`), a block against the
        blocks to its right within ``max_distance``: no m x m array is ever built.
    """
    m_c = pos.shape[0]
    block_size = window_block_size(pos, max_distance, block_size)
    pos_t = torch.as_tensor(pos, device=device)
    for row in range(0, m_c, block_size):
        row_end = min(row + block_size, m_c)
        # SNPs to the right of this block within max_distance of its last SNP
        right = int(np.searchsorted(pos, pos[row_end - 1] + max_distance, side="right"))
        for col in range(row, right, block_size):
            col_end = min(col + block_size, right)
            distance = pos_t[None, col:col_end] - pos_t[row:row_end, None]
            wanted = (distance >= min_distance) & (distance <= max_distance)
            if col == row:  # the diagonal tile: each pair once, no SNP with itself
                wanted &= torch.ones_like(wanted).triu(1)
            if wanted.any():
                yield slice(row, row_end), slice(col, col_end), distance, wanted


@dataclasses.dataclass
class LDComparison:
    """Rogers-Huff r^2 of two data sets on the same SNP pairs (those within a window).

    :ivar pairs: number of SNP pairs compared.
    :ivar sums: float64 sums over the pairs: ``abs_diff`` (|r2_a - r2_b|), ``a``, ``b``,
        ``aa``, ``bb``, ``ab`` (r2_a, r2_b and their squares and product).
    """

    pairs: int
    sums: dict

    @property
    def mean_abs_difference(self) -> float:
        """Mean |r^2_a - r^2_b| over the pairs; NaN without pairs."""
        return self.sums["abs_diff"] / self.pairs if self.pairs else float("nan")

    @property
    def r2_correlation(self) -> float:
        """Pearson correlation of r^2_a and r^2_b over the pairs; NaN when undefined."""
        n, s = self.pairs, self.sums
        if n < 2:
            return float("nan")
        cov = s["ab"] - s["a"] * s["b"] / n
        var = (s["aa"] - s["a"] ** 2 / n) * (s["bb"] - s["b"] ** 2 / n)
        return cov / math.sqrt(var) if var > 0 else float("nan")


def ld_window_comparison(a, b, positions, chromosomes=None, *, max_distance: float = 1e6,
                         block_size: int | None = None, device: str = "cpu",
                         method: str = "auto") -> LDComparison:
    """Compare the LD (Rogers-Huff r^2) of two data sets on the same SNPs, pair by pair.

    Every pair of SNPs on the same chromosome at most ``max_distance`` bp apart is compared
    (the pairs ``plink --r2 --ld-window-kb`` lists). A SNP monomorphic in one set has r = 0
    with every other SNP there: the absence of LD counts against a generator that loses a
    SNP's variation, rather than dropping the pair.

    :param a: (n_a, m) 0/1/2; :param b: (n_b, m) 0/1/2 on the same SNPs.
    :param positions: (m,) bp; :param chromosomes: (m,) labels or None.
    :returns: :class:`LDComparison` sums over the pairs.
    """
    positions = np.asarray(positions, dtype=np.int64)
    a = np.asarray(a) if not isinstance(a, torch.Tensor) else a
    b = np.asarray(b) if not isinstance(b, torch.Tensor) else b
    if a.shape[1] != b.shape[1] or a.shape[1] != positions.shape[0]:
        raise ValueError(f"a, b and positions have {a.shape[1]}, {b.shape[1]} and "
                         f"{positions.shape[0]} SNPs")
    names = ("abs_diff", "a", "b", "aa", "bb", "ab")
    sums = torch.zeros(len(names), dtype=torch.float64, device=device)
    pairs = 0
    for index in _chromosome_order(positions, chromosomes):
        sets = []
        for data in (a, b):
            xt = as_int8(_columns(data, index), device).T.contiguous()
            s, v = snp_sums(xt)
            inv = torch.where(v > 0, 1 / torch.sqrt(torch.where(v > 0, v, 1.0)), 0.0)
            sets.append((xt, s, inv))
        for row, col, _, wanted in _window_tiles(positions[index], 0, max_distance,
                                                 block_size, device):
            r2 = []
            for xt, s, inv in sets:
                r = ((xt.shape[1] * exact_gram(xt[row], xt[col], method=method)
                      - s[row, None] * s[None, col]).to(torch.float64)
                     * inv[row, None] * inv[None, col])
                r2.append(torch.where(wanted, r.square_().clamp_(max=1.0), 0.0))
            r2a, r2b = r2
            pairs += int(wanted.sum())
            sums += torch.stack([(r2a - r2b).abs_().sum(), r2a.sum(), r2b.sum(),
                                 r2a.square().sum(), r2b.square().sum(), (r2a * r2b).sum()])
    return LDComparison(pairs, dict(zip(names, sums.cpu().tolist(), strict=True)))

