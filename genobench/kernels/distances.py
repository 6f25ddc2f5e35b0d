"""Exact distances between individuals and the searches built on them: nearest neighbours,
k nearest neighbours, k-NN ball coverage and KING-robust kinship, all tile by tile.

Memory: the dosages, (n, k) best distances and one ``block_size`` x ``block_size`` tile at a
time; no n x n matrix is formed unless a caller passes one (``gram``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from .products import as_int8, check_method, count_values, exact_gram, exact_product_t

#: Distances between individuals are int32: at most 4 m (squared Euclidean) or 2 m
#: (Manhattan), exact for m up to 2**28 SNPs; the largest value stands for "none yet".
_DISTANCE = torch.int32
_NONE = torch.iinfo(_DISTANCE).max
_MAX_SNPS = 2**28
_METRICS = ("euclidean", "manhattan")

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
    return features, count_values(x, 1)


def _squared_norms(x: torch.Tensor) -> torch.Tensor:
    """sum x^2 per row of 0/1/2 dosages, int64: x^2 = x + 2 [x == 2]."""
    return count_values(x, 1) + 2 * count_values(x, 1, 2)


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
            d = exact_product_t(fa[a0:a1], fb_t, method, _DISTANCE).mul_(-2)
            d.add_(na[a0:a1, None]).add_(nb[None, b0:b1])
            d2 = None
            if squared:
                d2 = d
                if extra:
                    d2 = exact_product_t(ya[a0:a1], yb_t, method, _DISTANCE).mul_(-2)
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
    check_method(method)
    xa = as_int8(a, device)
    xb = None if b is None else as_int8(b, device)
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
    return _king(d2, count_values(xa, 1, 1), count_values(xb, 1, 1)).cpu().numpy()


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
        het_a, het_b = count_values(xa, 1, 1), count_values(xb, 1, 1)
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
