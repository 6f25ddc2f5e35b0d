"""The hot numerical code of genobench: blocked, vectorised torch kernels every metric reuses.

Every function takes dosages (0/1/2, int8, individuals x SNPs, numpy or torch), runs on
``device`` ("cpu" or "cuda") and bounds memory by working in blocks whose sizes are parameters;
Python loops run over blocks only, never over SNP pairs or individuals.

Exactness. Dosages are small integers, so every cross-product these kernels need (LD numerators,
squared Euclidean and Manhattan distances) is an integer sum of terms in {0, 1, 2, 4}. Products
are computed by :func:`exact_gram` in one of two exact ways:

* ``torch._int_mm``: int8 x int8 with int32 accumulation. A sum of ``k`` terms of at most 4 is
  at most ``4 k``, exact in int32 while ``k <= 2**28`` (``4 * 2**28 = 2**30 < 2**31``).
* float32 matmul: every partial sum is an integer no larger than ``4 k``; float32 represents
  every integer up to ``2**24`` exactly, so any summation order (blocked, FMA, TF32 inputs,
  which hold 0/1/2 exactly) gives the exact result while ``k <= 2**22``.

Longer inner dimensions are cut into chunks within those limits and the chunks are summed in
int64. Distances stay integers (squared for Euclidean) until the end, so nearest neighbours
and ties are decided exactly; r is formed in float64 from exact integer sums (one rounding in
the numerator's conversion and the division, nowhere else).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

#: Largest inner dimension of one int8 product: sums of 4 * k stay below 2**31 (int32).
INT32_EXACT_K = 2**28
#: Largest inner dimension of one float32 product: sums of 4 * k stay at most 2**24.
FLOAT32_EXACT_K = 2**22

#: Distances between individuals are int32: at most 4 m (squared Euclidean) or 2 m
#: (Manhattan), exact for m up to 2**28 SNPs; the largest value stands for "none yet".
_DISTANCE = torch.int32
_NONE = torch.iinfo(_DISTANCE).max
_MAX_SNPS = 2**28
_METRICS = ("euclidean", "manhattan")
_int_mm_broken: set[str] = set()  # device types where torch._int_mm raised once


def _as_int8(values, device) -> torch.Tensor:
    """Dosages as an int8 tensor on ``device`` (no copy for a C-contiguous int8 array on CPU)."""
    if isinstance(values, torch.Tensor):
        return values.to(device=device, dtype=torch.int8)
    return torch.as_tensor(np.ascontiguousarray(values, dtype=np.int8), device=device)


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _count(x: torch.Tensor, dim: int, value: int | None = None) -> torch.Tensor:
    """Exact int64 sums of a 0/1/2 int8 matrix along ``dim`` (of ``x == value`` if given).

    torch's reductions of small integers run at about 1e8 values/s on the CPU, numpy's some
    20 times faster, so CPU tensors are summed through numpy (a view, no copy) in int32,
    exact below 2**30 values; other devices use torch.
    """
    if x.device.type == "cpu":
        array = x.numpy()
        if value is not None:
            array = array == value
        return torch.from_numpy(array.sum(dim, dtype=np.int32).astype(np.int64))
    return (x if value is None else x == value).sum(dim, dtype=torch.int64)


def _int8_product(a: torch.Tensor, b_t: torch.Tensor, pad: bool | None = None) -> torch.Tensor:
    """``a @ b_t`` for int8 (p, k) and (k, q) through ``torch._int_mm``: int32 (p, q).

    CUDA kernels want every dimension a multiple of 8 and above 16: with ``pad`` (default:
    on any device but the CPU) zero rows and columns are padded on (they add nothing to the
    sums) and the result is cut back.
    """
    if not (a.device.type != "cpu" if pad is None else pad):
        return torch._int_mm(a, b_t)
    (p, k), q = a.shape, b_t.shape[1]
    pp, kk, qq = (max(_round_up(size, 8), 24) for size in (p, k, q))
    if (pp, kk, qq) != (p, k, q):
        a = torch.nn.functional.pad(a, (0, kk - k, 0, pp - p))
        b_t = torch.nn.functional.pad(b_t, (0, qq - q, 0, kk - k))
    return torch._int_mm(a.contiguous(), b_t.contiguous())[:p, :q]


def exact_gram(a, b, *, method: str = "auto") -> torch.Tensor:
    """Exact integer cross-products ``a @ b.T`` of small integer matrices.

    :param a: int8 tensor (p, k) with values in -2..2 (dosages or 0/1 indicators).
    :param b: int8 tensor (q, k), same device.
    :param method: "int8" (``torch._int_mm``), "float32", or "auto": int8 where the device
        supports it, float32 otherwise. Both are exact (see the module docstring).
    :returns: int64 tensor (p, q).
    """
    return _product_t(a, b.T, _check_method(method))


def _check_method(method: str) -> str:
    if method not in ("auto", "int8", "float32"):
        raise ValueError(f"method must be 'auto', 'int8' or 'float32', not {method!r}")
    return method


def _product_t(a: torch.Tensor, b_t: torch.Tensor, method: str,
               dtype: torch.dtype = torch.int64) -> torch.Tensor:
    """:func:`exact_gram` with the right factor already transposed: ``a`` (p, k) @ ``b_t``
    (k, q) -> (p, q) of ``dtype`` (int32 only where the sums fit). A contiguous ``b_t`` is used
    as it is (no copy per call)."""
    device_type = a.device.type
    use_int = method == "int8" or (method == "auto" and hasattr(torch, "_int_mm")
                                   and device_type not in _int_mm_broken)
    k = a.shape[1]
    if k == 0:
        return torch.zeros(a.shape[0], b_t.shape[1], dtype=dtype, device=a.device)
    chunk = INT32_EXACT_K if use_int else FLOAT32_EXACT_K
    total = None
    for start in range(0, k, chunk):
        a_part, b_part = a[:, start:start + chunk], b_t[start:start + chunk]
        if use_int:
            try:
                part = _int8_product(a_part.contiguous(), b_part.contiguous())
            except RuntimeError:
                if method == "int8":
                    raise
                _int_mm_broken.add(device_type)
                return _product_t(a, b_t, "float32", dtype)
        else:
            part = a_part.to(torch.float32) @ b_part.to(torch.float32)
        if total is None:
            total = part.to(dtype) if k <= chunk else part.to(torch.int64)
        else:
            total += part.to(torch.int64)
    return total.to(dtype)


# -- per-SNP summaries ---------------------------------------------------------------------

def genotype_counts(dosages, *, block_size: int = 8192, device: str = "cpu") -> np.ndarray:
    """Count hom-ref (0), het (1) and hom-alt (2) genotypes per SNP.

    :param dosages: (n_samples, n_snps) 0/1/2.
    :param block_size: individuals per block (bounds the temporaries).
    :returns: int64 array (n_snps, 3): columns hom-ref, het, hom-alt.
    """
    x = _as_int8(dosages, device)
    n, m = x.shape
    total = torch.zeros(m, dtype=torch.int64, device=x.device)
    hom_alt = torch.zeros(m, dtype=torch.int64, device=x.device)
    for start in range(0, n, block_size):
        block = x[start:start + block_size]
        total += _count(block, 0)
        hom_alt += _count(block, 0, 2)
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
    x = _as_int8(dosages, device)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _count(x, 1, 1).cpu().numpy().astype(np.float64) / x.shape[1]


# -- linkage disequilibrium ----------------------------------------------------------------

def _snp_stats(xt: torch.Tensor):
    """Sums per SNP of an SNP-major (m, n) int8 matrix: (S = sum x int64, V = n sum x^2 - S^2).

    ``V`` (float64) is n^2 times the variance; zero exactly for a monomorphic SNP. It uses
    x^2 = x + 2 [x == 2] on {0, 1, 2}, so no wide temporary is built.
    """
    n = xt.shape[1]
    s = _count(xt, 1)
    q = s + 2 * _count(xt, 1, 2)
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
    xa = _as_int8(dosages, device).T.contiguous()
    xb = xa if other is None else _as_int8(other, device).T.contiguous()
    if xa.shape[1] != xb.shape[1]:
        raise ValueError(f"dosages and other have {xa.shape[1]} and {xb.shape[1]} individuals")
    s_a, v_a = _snp_stats(xa)
    s_b, v_b = (s_a, v_a) if other is None else _snp_stats(xb)
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
        xt = _as_int8(_columns(dosages, index), device).T.contiguous()  # SNP-major (m_c, n)
        s, v = _snp_stats(xt)
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


def _window_block(pos: np.ndarray, max_distance: float, block_size: int | None) -> int:
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
        ``block_size`` SNPs a side (default: :func:`_window_block`), a block against the
        blocks to its right within ``max_distance``: no m x m array is ever built.
    """
    m_c = pos.shape[0]
    block_size = _window_block(pos, max_distance, block_size)
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
            xt = _as_int8(_columns(data, index), device).T.contiguous()
            s, v = _snp_stats(xt)
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


# -- distances between individuals ---------------------------------------------------------

def _encode(x: torch.Tensor, metric: str):
    """Features and per-row norms whose Gram matrix gives exact integer distances.

    Euclidean: features x, norm sum x^2, and |x - y|^2 = |x|^2 + |y|^2 - 2 x.y.
    Manhattan on {0, 1, 2}: with the threshold indicators u = [x >= 1] and w = [x >= 2],
    x = u + w and |x - y| = |u_x - u_y| + |w_x - w_y| (an ordinal value differs from another
    by the number of thresholds between them); for 0/1 values |a - b| = a + b - 2ab, so
    sum |x - y| = sum x + sum y - 2 [u_x, w_x].[u_y, w_y]: one product of (rows, 2m) 0/1
    matrices.
    """
    if metric == "euclidean":
        return x, _squared_norms(x)
    n, m = x.shape
    features = torch.empty((n, 2 * m), dtype=torch.int8, device=x.device)
    for start in range(0, n, 1024):  # bounds the boolean temporaries
        block = x[start:start + 1024]
        features[start:start + 1024, :m] = block >= 1
        features[start:start + 1024, m:] = block == 2
    return features, _count(x, 1)


def _squared_norms(x: torch.Tensor) -> torch.Tensor:
    """sum x^2 per row of 0/1/2 dosages, int64: x^2 = x + 2 [x == 2]."""
    return _count(x, 1) + 2 * _count(x, 1, 2)


def _check_metric(metric: str) -> None:
    if metric not in _METRICS:
        raise ValueError(f"distance metric must be one of {', '.join(_METRICS)}, not {metric!r}")


def _finish(integer_distances: torch.Tensor, metric: str) -> np.ndarray:
    """Exact integer distances (squared for Euclidean) to float64 distances; max -> inf."""
    integers = integer_distances.cpu().numpy()
    none = np.iinfo(integers.dtype).max
    d = np.where(integers == none, np.inf, integers.astype(np.float64))
    # numpy's sqrt is correctly rounded (IEEE 754), so equal integers give equal distances
    return np.sqrt(d) if metric == "euclidean" else d


def _integers(distances, metric: str, device) -> torch.Tensor:
    """The inverse of :func:`_finish` for distances it produced: inf -> max, Euclidean
    distances squared and rounded back to their exact integers."""
    d = np.asarray(distances, dtype=np.float64)
    finite = np.isfinite(d)
    values = np.rint(d * d if metric == "euclidean" else d)
    values = np.minimum(np.where(finite, values, 0), _NONE - 1).astype(np.int32)
    return torch.as_tensor(np.where(finite, values, _NONE), device=device)


def _distance_tiles(xa, xb, metric, block_size, method, *, upper=False, squared=False,
                    gram=None):
    """Exact integer distance tiles (squared for Euclidean) between the rows of two sets.

    :param xa: int8 (n_a, m); :param xb: int8 (n_b, m), or None for ``xa`` against itself.
    :param upper: with ``xb`` None, only tiles on and above the diagonal (each pair once,
        the diagonal tiles whole).
    :param squared: also yield the squared Euclidean distances (the same tile for the
        Euclidean metric, one more product for Manhattan).
    :param gram: Euclidean only: the products ``xa @ xb.T`` (n_a, n_b) when the caller has
        them already (:func:`genobench.metrics.gram.integer_gram` of a pooled set): the tiles
        are then read from it instead of multiplied.
    :yields: (a0, a1, b0, b1, d, d2) int32 tiles (a1 - a0, b1 - b0); ``d2`` None unless
        ``squared``. Each column block's features are transposed once, for all row blocks.
    """
    if xa.shape[1] > _MAX_SNPS:
        raise ValueError(f"{xa.shape[1]} SNPs: int32 distances are exact up to {_MAX_SNPS}")
    if gram is not None:
        yield from _gram_tiles(xa, xb, gram, metric, block_size, upper)
        return
    fa, na = _encode(xa, metric)
    fb, nb = (fa, na) if xb is None else _encode(xb, metric)
    na, nb = na.to(_DISTANCE), nb.to(_DISTANCE)
    ya, yb = xa, (xa if xb is None else xb)
    extra = squared and metric != "euclidean"
    if extra:
        ea, eb = _squared_norms(ya).to(_DISTANCE), _squared_norms(yb).to(_DISTANCE)
    n_a, n_b = fa.shape[0], fb.shape[0]
    for b0 in range(0, n_b, block_size):
        b1 = min(b0 + block_size, n_b)
        fb_t = fb[b0:b1].T.contiguous()
        yb_t = yb[b0:b1].T.contiguous() if extra else None
        for a0 in range(0, b1 if upper and xb is None else n_a, block_size):
            a1 = min(a0 + block_size, n_a)
            # |x|^2 + |y|^2 - 2 x.y, in place on the product
            d = _product_t(fa[a0:a1], fb_t, method, _DISTANCE).mul_(-2)
            d.add_(na[a0:a1, None]).add_(nb[None, b0:b1])
            d2 = None
            if squared:
                d2 = d
                if extra:
                    d2 = _product_t(ya[a0:a1], yb_t, method, _DISTANCE).mul_(-2)
                    d2.add_(ea[a0:a1, None]).add_(eb[None, b0:b1])
            yield a0, a1, b0, b1, d, d2


def _gram_tiles(xa, xb, gram, metric, block_size, upper):
    """:func:`_distance_tiles` from given products: |x|^2 + |y|^2 - 2 x.y per tile."""
    if metric != "euclidean":
        raise ValueError("distances from products need the euclidean metric")
    yb = xa if xb is None else xb
    if tuple(gram.shape) != (xa.shape[0], yb.shape[0]):
        raise ValueError(f"gram has shape {tuple(gram.shape)}, expected "
                         f"{(xa.shape[0], yb.shape[0])}")
    na, nb = _squared_norms(xa).to(_DISTANCE), _squared_norms(yb).to(_DISTANCE)
    n_a, n_b = xa.shape[0], yb.shape[0]
    for b0 in range(0, n_b, block_size):
        b1 = min(b0 + block_size, n_b)
        for a0 in range(0, b1 if upper and xb is None else n_a, block_size):
            a1 = min(a0 + block_size, n_a)
            d = gram[a0:a1, b0:b1].to(_DISTANCE, copy=True).mul_(-2)  # never in place
            d.add_(na[a0:a1, None]).add_(nb[None, b0:b1])
            yield a0, a1, b0, b1, d, d


def _inputs(a, b, metric, device, method):
    _check_metric(metric)
    _check_method(method)
    xa = _as_int8(a, device)
    xb = None if b is None else _as_int8(b, device)
    if xb is not None and xa.shape[1] != xb.shape[1]:
        raise ValueError(f"a and b have {xa.shape[1]} and {xb.shape[1]} SNPs")
    return xa, xb


def _nearest(a, b, metric, exclude_self, block_size, device, method):
    """Blocked minimum of the exact integer distance matrix along both axes."""
    xa, xb = _inputs(a, b, metric, device, method)
    if exclude_self and xb is not None and xa.shape[0] != xb.shape[0]:
        raise ValueError("exclude_self needs a and b to be the same rows")
    n_a = xa.shape[0]
    n_b = n_a if xb is None else xb.shape[0]
    row_min = torch.full((n_a,), _NONE, dtype=_DISTANCE, device=xa.device)
    col_min = torch.full((n_b,), _NONE, dtype=_DISTANCE, device=xa.device)
    for a0, a1, b0, b1, d, _ in _distance_tiles(xa, xb if xb is not None else xa, metric,
                                                block_size, method):
        if exclude_self and a0 == b0:  # blocks are aligned: only diagonal tiles hold (i, i)
            d.fill_diagonal_(_NONE)
        row_min[a0:a1] = torch.minimum(row_min[a0:a1], d.min(1).values)
        col_min[b0:b1] = torch.minimum(col_min[b0:b1], d.min(0).values)
    return row_min, col_min


def nearest_neighbour_distances(a, b=None, *, metric: str = "euclidean",
                                exclude_self: bool = False, block_size: int = 2048,
                                device: str = "cpu", method: str = "auto") -> np.ndarray:
    """Distance from each row of ``a`` to its nearest row of ``b``.

    Distances are exact (integer sums, see :func:`_encode`), so comparisons between them and
    ties are exact. Memory is bounded by ``block_size`` x ``block_size`` tiles.

    :param a: (n_a, m) 0/1/2, query individuals.
    :param b: (n_b, m) 0/1/2, reference individuals; None means ``a`` itself.
    :param metric: "euclidean" or "manhattan" (in dosage units).
    :param exclude_self: ignore the pair (i, i): ``b`` must be the same rows as ``a``; the
        nearest neighbour of a row then is another row (its duplicate, if any, at distance 0).
    :param block_size: individuals per tile, for ``a`` and ``b`` alike.
    :returns: float64 array (n_a,); inf where ``b`` has no candidate.
    """
    if b is None and exclude_self:  # each pair once: half the products
        return knn_distances(a, k=1, metric=metric, block_size=block_size, device=device,
                             method=method)[:, 0]
    row_min, _ = _nearest(a, b, metric, exclude_self, block_size, device, method)
    return _finish(row_min, metric)


def cross_nearest_distances(a, b, *, metric: str = "euclidean", block_size: int = 2048,
                            device: str = "cpu", method: str = "auto"):
    """Nearest-neighbour distances across two sets in both directions, from one pass.

    :param a: (n_a, m) 0/1/2.
    :param b: (n_b, m) 0/1/2.
    :returns: (a_to_b float64 (n_a,), b_to_a float64 (n_b,)): for each row of one set, the
        distance to its nearest row of the other.
    """
    row_min, col_min = _nearest(a, b, metric, False, block_size, device, method)
    return _finish(row_min, metric), _finish(col_min, metric)


def pairwise_distances(a, b=None, *, metric: str = "euclidean", device: str = "cpu",
                       method: str = "auto") -> np.ndarray:
    """The full distance matrix between the rows of ``a`` and ``b`` (default ``a``).

    For small sets (tests, plots): materialises (n_a, n_b). Values are exact: integers for
    Manhattan, square roots of exact integers for Euclidean.

    :returns: float64 array (n_a, n_b).
    """
    xa, xb = _inputs(a, b, metric, device, method)
    xb = xa if xb is None else xb
    fa, na = _encode(xa, metric)
    fb, nb = _encode(xb, metric)
    return _finish(na[:, None] + nb[None, :] - 2 * exact_gram(fa, fb, method=method), metric)


def _merge_smallest(top: torch.Tensor, rows: slice, d: torch.Tensor) -> None:
    """Keep in ``top[rows]`` (sorted, ascending) the smallest values of it and of ``d``."""
    k = top.shape[1]
    if k == 1:
        top[rows, 0] = torch.minimum(top[rows, 0], d.min(1).values)
    else:
        top[rows] = torch.topk(torch.cat([top[rows], d], dim=1), k, dim=1, largest=False,
                               sorted=True).values


def knn_distances(a, *, k: int, metric: str = "euclidean", block_size: int = 2048,
                  device: str = "cpu", method: str = "auto", gram=None) -> np.ndarray:
    """Distances from each row of ``a`` to its ``k`` nearest other rows, nearest first.

    Each pair is computed once (tiles on and above the diagonal, used for both rows); every
    tile's candidates are merged into the running ``k`` smallest with ``topk``, so memory is
    (n, k) plus one tile. Distances are exact, as in :func:`nearest_neighbour_distances`; a
    duplicate of a row is a neighbour at distance 0.

    :param a: (n, m) 0/1/2.
    :param k: neighbours per row (k >= 1).
    :param gram: optional ``a @ a.T`` (Euclidean only), used instead of new products.
    :returns: float64 array (n, k), rows ascending; inf where a row has fewer than ``k``
        others. Column ``k - 1`` is the radius of the k-NN ball of Kynkaanniemi et al. 2019.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    x, _ = _inputs(a, None, metric, device, method)
    top = torch.full((x.shape[0], k), _NONE, dtype=_DISTANCE, device=x.device)
    for a0, a1, b0, b1, d, _ in _distance_tiles(x, None, metric, block_size, method,
                                                upper=True, gram=gram):
        if a0 == b0:
            d.fill_diagonal_(_NONE)
        _merge_smallest(top, slice(a0, a1), d)
        if a0 != b0:
            _merge_smallest(top, slice(b0, b1), d.T)
    return _finish(top, metric)


#: Lower bounds of the KING-robust kinship of duplicates (monozygotic twins), first- and
#: second-degree relatives: 2^-1.5, 2^-2.5, 2^-3.5 (Manichaikul et al. 2010, Table 1; the
#: HAPNEST evaluation, Wharrie et al. 2023).
KING_THRESHOLDS = {"duplicate": 0.354, "first_degree": 0.177, "second_degree": 0.0884}


def _king(d2: torch.Tensor, het_a: torch.Tensor, het_b: torch.Tensor) -> torch.Tensor:
    """KING-robust kinship from squared Euclidean dosage distances and het counts.

    KING's between-family estimator (Manichaikul et al. 2010, Bioinformatics 26:2867, eq. 11;
    what ``plink2 --make-king`` reports) is
    phi = 1/2 - (H_i + H_j - 2 (N_AaAa - 2 N_AA,aa)) / (4 min(H_i, H_j)), with H the het
    counts, N_AaAa the SNPs where both are het and N_AA,aa those with opposite homozygotes.
    Without missing calls the bracket equals the squared Euclidean distance of the dosages:
    per SNP, (x_i - x_j)^2 is 1 for one het, 4 for opposite homozygotes and 0 otherwise, and
    H_i + H_j - 2 N_AaAa counts the SNPs with exactly one het; hence
    phi = 1/2 - |x_i - x_j|^2 / (4 min(H_i, H_j)), from the exact integer distances.
    With no het in either individual phi is 1/2 for identical ones and -inf otherwise.
    """
    smaller = torch.minimum(het_a[:, None], het_b[None, :]).to(torch.float64)
    phi = 0.5 - d2.to(torch.float64) / (4 * smaller)
    return torch.where(smaller > 0, phi, torch.where(d2 == 0, 0.5, -math.inf))


def king_kinship(a, b=None, *, device: str = "cpu", method: str = "auto") -> np.ndarray:
    """KING-robust kinship between every row of ``a`` and of ``b`` (default ``a``).

    For small sets (tests, plots): materialises (n_a, n_b). See :func:`_king`.

    :returns: float64 array (n_a, n_b).
    """
    xa, xb = _inputs(a, b, "euclidean", device, method)
    xb = xa if xb is None else xb
    d2 = (_squared_norms(xa)[:, None] + _squared_norms(xb)[None, :]
          - 2 * exact_gram(xa, xb, method=method))
    return _king(d2, _count(xa, 1, 1), _count(xb, 1, 1)).cpu().numpy()


@dataclasses.dataclass
class KinshipSummary:
    """KING-robust kinship between two sets, reduced over pairs.

    :ivar a_max: float64 (n_a,), each row of ``a``'s largest kinship with any row of ``b``.
    :ivar b_max: float64 (n_b,), likewise for ``b``.
    :ivar pair_counts: pairs per degree of :data:`KING_THRESHOLDS` (duplicate: phi above
        0.354; first degree: above 0.177 up to 0.354; second degree: above 0.0884 up to 0.177).
    """

    a_max: np.ndarray
    b_max: np.ndarray
    pair_counts: dict


@dataclasses.dataclass
class CrossNeighbours:
    """What one pass over all pairs of two sets finds.

    :ivar a_to_b: float64 (n_a,), distance of each row of ``a`` to its nearest row of ``b``.
    :ivar b_to_a: float64 (n_b,), likewise.
    :ivar a_covered: bool (n_a,): inside some ball of ``b`` (``radius_b``), or None.
    :ivar b_covered: bool (n_b,): inside some ball of ``a`` (``radius_a``), or None.
    :ivar kinship: :class:`KinshipSummary`, or None.
    """

    a_to_b: np.ndarray
    b_to_a: np.ndarray
    a_covered: np.ndarray | None = None
    b_covered: np.ndarray | None = None
    kinship: KinshipSummary | None = None


def cross_neighbours(a, b, *, metric: str = "euclidean", radius_a=None, radius_b=None,
                     kinship: bool = False, block_size: int = 2048, device: str = "cpu",
                     method: str = "auto", gram=None) -> CrossNeighbours:
    """Nearest neighbours across two sets, k-NN ball coverage and kinship, from one pass.

    Ball coverage is the manifold test of Kynkaanniemi et al. 2019: a row of ``a`` is
    covered when its distance to some row j of ``b`` is at most ``radius_b[j]`` (inclusive).

    :param a: (n_a, m) 0/1/2; :param b: (n_b, m) 0/1/2.
    :param radius_a: float64 (n_a,) ball radii of ``a``'s rows as :func:`knn_distances`
        returns them (compared exactly, as integers), or None for no coverage of ``b``.
    :param radius_b: likewise for ``b``'s rows, or None.
    :param kinship: also reduce KING-robust kinship (:func:`_king`) over all pairs.
    :param gram: optional ``a @ b.T`` (Euclidean only), used instead of new products.
    :returns: :class:`CrossNeighbours`.
    """
    xa, xb = _inputs(a, b, metric, device, method)
    n_a, n_b = xa.shape[0], xb.shape[0]
    row_min = torch.full((n_a,), _NONE, dtype=_DISTANCE, device=xa.device)
    col_min = torch.full((n_b,), _NONE, dtype=_DISTANCE, device=xa.device)
    ra = None if radius_a is None else _integers(radius_a, metric, xa.device)
    rb = None if radius_b is None else _integers(radius_b, metric, xa.device)
    a_cov = torch.zeros(n_a, dtype=torch.bool, device=xa.device)
    b_cov = torch.zeros(n_b, dtype=torch.bool, device=xa.device)
    if kinship:
        het_a, het_b = _count(xa, 1, 1), _count(xb, 1, 1)
        a_max = torch.full((n_a,), -math.inf, dtype=torch.float64, device=xa.device)
        b_max = torch.full((n_b,), -math.inf, dtype=torch.float64, device=xa.device)
        bounds = list(KING_THRESHOLDS.values())
        counts = torch.zeros(len(bounds), dtype=torch.int64, device=xa.device)
    for a0, a1, b0, b1, d, d2 in _distance_tiles(xa, xb, metric, block_size, method,
                                                 squared=kinship, gram=gram):
        row_min[a0:a1] = torch.minimum(row_min[a0:a1], d.min(1).values)
        col_min[b0:b1] = torch.minimum(col_min[b0:b1], d.min(0).values)
        if rb is not None:
            a_cov[a0:a1] |= (d <= rb[None, b0:b1]).any(1)
        if ra is not None:
            b_cov[b0:b1] |= (d <= ra[a0:a1, None]).any(0)
        if kinship:
            phi = _king(d2, het_a[a0:a1], het_b[b0:b1])
            a_max[a0:a1] = torch.maximum(a_max[a0:a1], phi.max(1).values)
            b_max[b0:b1] = torch.maximum(b_max[b0:b1], phi.max(0).values)
            above = torch.stack([(phi > bound).sum() for bound in bounds])
            counts += above - torch.cat([above.new_zeros(1), above[:-1]])
    summary = None
    if kinship:
        summary = KinshipSummary(a_max.cpu().numpy(), b_max.cpu().numpy(),
                                 dict(zip(KING_THRESHOLDS, counts.cpu().tolist(), strict=True)))
    return CrossNeighbours(
        _finish(row_min, metric), _finish(col_min, metric),
        a_cov.cpu().numpy() if rb is not None else None,
        b_cov.cpu().numpy() if ra is not None else None, summary)
