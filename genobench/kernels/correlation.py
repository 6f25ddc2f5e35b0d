"""The correlation score of Vinas et al. 2022: exact, or a sketch with a stated error.

The score is the Pearson correlation, over all m (m - 1) / 2 SNP pairs, of the SNP-SNP
correlations r_a of one set and r_b of another. The pairs are never formed: with Z_a the
z-scored dosages of ``a`` (n_a x m), R_a = Z_a^T Z_a / n_a, and the five sums the correlation
needs are sums in individual space,

- sum_ij R_a,ij = |Z_a 1|^2 / n_a (exact, n m),
- sum_ij R_a,ij^2 = |Z_a Z_a^T|_F^2 / n_a^2, likewise for b, and
- sum_ij R_a,ij R_b,ij = |Z_a Z_b^T|_F^2 / (n_a n_b);

the diagonal (1 for a polymorphic SNP, else 0) is taken off and the rest halved for the upper
triangle. The three squared Frobenius norms T_aa, T_bb, T_ab hold all the cost.

- **exact**: the pooled (n_a + n_b) Gram matrix, one float32 tile at a time, reduced to its
  squared sums: (n_a + n_b)^2 m / 2 multiply-adds (6e12 operations for 5,000 + 5,000
  individuals x 50,000 SNPs, 30 s here);
- **sketch** (Hutch++, Meyer, Musco, Musco & Woodruff 2021, SOSA): for A = Z_x Z_y^T,
  |A|_F^2 = tr(A^T A) is split on an orthonormal basis Q of A S (S: ``rank`` random signs):
  |Q^T A|_F^2 is computed exactly and the rest, |(I - Q Q^T) A|_F^2, is estimated without bias
  from ``probes`` Rademacher vectors g as the mean of |(I - Q Q^T) A g|^2. Genotype Grams have
  a few large eigenvalues (population structure, LD blocks) that the exact part takes whole,
  so the estimated rest is flat and its error small. Cost: about (n_a + n_b) m (2.5 (rank +
  probes) + 3 rank) multiply-adds, 10x fewer than exact at 5,000 x 50,000.
  The error is stated, not hidden: the standard error of the score is the spread of the score
  over bootstrap resamples of the probes (:class:`CorrelationScore`); with the fixed ``seed``
  the result is reproducible.

``method="auto"`` is exact up to :data:`EXACT_LIMIT` multiply-adds, the sketch past it.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from .products import as_int8
from .summaries import scaling

#: SNPs per standardised chunk: bounds a float32 copy at n x snp_chunk.
SNP_CHUNK = 4096
#: Pooled Gram multiply-adds ((n_a + n_b)^2 m / 2) up to which ``auto`` computes exactly:
#: 2.5e11, about 2 s at this machine's float32 rate (2,200 + 2,200 individuals x 50,000 SNPs).
EXACT_LIMIT = 2.5e11
#: Directions the sketch computes exactly, and random probes of the rest.
SKETCH_RANK = 64
SKETCH_PROBES = 64
#: Bootstrap resamples of the probes behind the stated standard error.
BOOTSTRAP = 400
#: Largest standardised copy (bytes) the sketch keeps between its passes; past it every pass
#: standardises its chunks again (memory: the int8 data plus one chunk).
KEEP_BYTES = 1 << 30

__all__ = ["CorrelationScore", "correlation_score", "correlation_score_estimate", "EXACT_LIMIT"]


@dataclasses.dataclass(frozen=True)
class CorrelationScore:
    """A correlation score and how it was computed.

    :ivar value: the score in [-1, 1] (NaN with fewer than 3 SNPs or no variation).
    :ivar standard_error: 0 when exact; for the sketch, the bootstrap standard error (report
        it as value +- 2 standard errors).
    :ivar method: ``"exact"`` or ``"sketch"``.
    :ivar rank, probes: the sketch's settings (0 when exact).
    """

    value: float
    standard_error: float = 0.0
    method: str = "exact"
    rank: int = 0
    probes: int = 0

    def describe(self, pairs: int) -> str:
        """A one-line note: the pairs, and for the sketch its stated error."""
        if self.method == "exact":
            return f"{pairs} SNP pairs"
        return (f"{pairs} SNP pairs; Hutch++ sketch (rank {self.rank}, {self.probes} probes): "
                f"+-{2 * self.standard_error:.4f} (2 standard errors)")


class _Standardised:
    """Z = (x - centre) * scale of one set, applied chunk by chunk, never formed whole unless
    it fits in :data:`KEEP_BYTES`.

    :param x: int8 (n, m); :param centre, scale: float64 (m,) from :func:`.summaries.scaling`.
    """

    def __init__(self, x: torch.Tensor, centre, scale, snp_chunk: int):
        self.x, self.snp_chunk = x, snp_chunk
        self.scale = scale.to(torch.float32)
        self.offset = -(centre * scale).to(torch.float32)  # z = x * scale + offset
        self.kept = None
        if 4 * x.shape[0] * x.shape[1] <= KEEP_BYTES:
            self.kept = list(self._standardise())

    def _standardise(self):
        for start in range(0, self.x.shape[1], self.snp_chunk):
            columns = slice(start, start + self.snp_chunk)
            block = torch.empty(self.x[:, columns].shape, dtype=torch.float32,
                                device=self.x.device)
            block.copy_(self.x[:, columns])
            yield columns, torch.addcmul(self.offset[columns], block, self.scale[columns],
                                         out=block)

    def chunks(self):
        """(columns, float32 z-scores (n, chunk)) over the SNPs."""
        return iter(self.kept) if self.kept is not None else self._standardise()

    def t_times(self, v: torch.Tensor) -> torch.Tensor:
        """Z^T v: (m, c) for v (n, c)."""
        return torch.cat([block.T @ v for _, block in self.chunks()])

    def times(self, w: torch.Tensor) -> torch.Tensor:
        """Z w: (n, c) for w (m, c)."""
        out = torch.zeros((self.x.shape[0], w.shape[1]), dtype=torch.float32, device=w.device)
        for columns, block in self.chunks():
            out.addmm_(block, w[columns])
        return out

    def row_sums(self) -> torch.Tensor:
        """Z 1: (n,) float64 (a float32 product per chunk, summed in float64)."""
        total = torch.zeros(self.x.shape[0], dtype=torch.float64, device=self.x.device)
        for _, block in self.chunks():
            total += block @ torch.ones(block.shape[1], dtype=torch.float32, device=block.device)
        return total


def correlation_score(a, b, *, method: str = "auto", snp_chunk: int = SNP_CHUNK,
                      block_size: int = 2048, device: str = "cpu") -> float:
    """The score's value (see :func:`correlation_score_estimate`)."""
    return correlation_score_estimate(a, b, method=method, snp_chunk=snp_chunk,
                                      block_size=block_size, device=device).value


def correlation_score_estimate(a, b, *, method: str = "auto", rank: int = SKETCH_RANK,
                               probes: int = SKETCH_PROBES, seed: int = 0,
                               snp_chunk: int = SNP_CHUNK, block_size: int = 2048,
                               device: str = "cpu") -> CorrelationScore:
    """Pearson correlation between the SNP-SNP correlations of two data sets (module docs).

    As in the reference code of Xie et al. 2026, a SNP monomorphic in a set has r = 0 with
    every other SNP of that set. The score of d = 1 - r (Vinas et al.'s distances) is the same.

    :param a: (n_a, m) 0/1/2; :param b: (n_b, m) 0/1/2, the same SNPs.
    :param method: ``"exact"``, ``"sketch"`` or ``"auto"`` (exact up to :data:`EXACT_LIMIT`).
    :param rank, probes, seed: the sketch's exact directions, random probes and seed.
    :returns: :class:`CorrelationScore`.
    """
    if method not in ("auto", "exact", "sketch"):
        raise ValueError(f"method must be 'auto', 'exact' or 'sketch', not {method!r}")
    xa, xb = as_int8(a, device), as_int8(b, device)
    if xa.shape[1] != xb.shape[1]:
        raise ValueError(f"a and b have {xa.shape[1]} and {xb.shape[1]} SNPs")
    (n_a, m), n_b = xa.shape, xb.shape[0]
    if m < 3 or n_a < 2 or n_b < 2:
        return CorrelationScore(math.nan)
    (centre_a, scale_a), (centre_b, scale_b) = scaling(xa, "standard"), scaling(xb, "standard")
    poly_a, poly_b = scale_a > 0, scale_b > 0
    counts = int(poly_a.sum()), int(poly_b.sum()), int((poly_a & poly_b).sum())
    if method == "exact" or (method == "auto" and (n_a + n_b) ** 2 * m / 2 <= EXACT_LIMIT):
        squares, row_sums = _exact_squares(xa, xb, (centre_a, centre_b), (scale_a, scale_b),
                                           snp_chunk=snp_chunk, block_size=block_size)
        value = _score(squares, row_sums, counts, (n_a, n_b), m)
        return CorrelationScore(value)
    za = _Standardised(xa, centre_a, scale_a, snp_chunk)
    zb = _Standardised(xb, centre_b, scale_b, snp_chunk)
    row_sums = (za.row_sums(), zb.row_sums())
    rank = max(1, min(rank, n_a, n_b))
    exact, per_probe = _sketched_squares(za, zb, rank, probes, seed)

    def score(index) -> float:
        squares = {key: exact[key] + float(per_probe[key][index].mean()) for key in exact}
        return _score(squares, row_sums, counts, (n_a, n_b), m)

    value = score(np.arange(probes))
    draws = np.random.default_rng(seed).integers(0, probes, (BOOTSTRAP, probes))
    spread = np.nanstd([score(index) for index in draws])
    return CorrelationScore(value, float(spread), "sketch", rank, probes)


def _score(squares: dict, row_sums, counts, sizes, m: int) -> float:
    """The Pearson correlation over SNP pairs from the squared Gram norms and row sums."""
    (n_a, n_b), (m_a, m_b, m_ab) = sizes, counts
    # upper-triangle sums over SNP pairs: (full-matrix sum - diagonal) / 2
    sum_a = (float(row_sums[0].square().sum()) / n_a - m_a) / 2
    sum_b = (float(row_sums[1].square().sum()) / n_b - m_b) / 2
    sum_aa = (squares["aa"] / n_a ** 2 - m_a) / 2
    sum_bb = (squares["bb"] / n_b ** 2 - m_b) / 2
    sum_ab = (squares["ab"] / (n_a * n_b) - m_ab) / 2
    pairs = m * (m - 1) / 2
    covariance = pairs * sum_ab - sum_a * sum_b
    variance = (pairs * sum_aa - sum_a ** 2) * (pairs * sum_bb - sum_b ** 2)
    return covariance / math.sqrt(variance) if variance > 0 else math.nan


def _signs(generator: torch.Generator, rows: int, columns: int, device) -> torch.Tensor:
    """Rademacher (+-1) float32 (rows, columns)."""
    draws = torch.randint(0, 2, (rows, columns), generator=generator, dtype=torch.int8)
    return (draws.to(torch.float32) * 2 - 1).to(device)


def _sketched_squares(za: _Standardised, zb: _Standardised, rank: int, probes: int,
                      seed: int) -> tuple[dict, dict]:
    """Hutch++ of T_aa, T_bb, T_ab: ({key: exact part}, {key: per-probe rest, float64})."""
    generator = torch.Generator().manual_seed(seed)
    device = za.x.device
    n_a, n_b = za.x.shape[0], zb.x.shape[0]
    start_a = torch.cat([_signs(generator, n_a, rank, device),
                         _signs(generator, n_a, probes, device)], 1)
    start_b = torch.cat([_signs(generator, n_b, rank, device),
                         _signs(generator, n_b, probes, device)], 1)
    w_a, w_b = za.t_times(start_a), zb.t_times(start_b)  # Z_x^T [S_x G_x]: (m, rank + probes)
    # A_xy [S_y G_y] = Z_x (Z_y^T [S_y G_y]) for (x, y) = (a, a), (a, b); and (b, b)
    from_a = za.times(torch.cat([w_a, w_b], 1))
    from_b = zb.times(w_b)
    blocks = {"aa": from_a[:, :rank + probes], "ab": from_a[:, rank + probes:], "bb": from_b}
    bases, rest = {}, {}
    for key, block in blocks.items():
        basis, _ = torch.linalg.qr(block[:, :rank].to(torch.float64))
        bases[key] = basis.to(torch.float32)
        tested = block[:, rank:]
        residual = tested - bases[key] @ (bases[key].T @ tested)
        rest[key] = residual.to(torch.float64).square().sum(0).cpu().numpy()
    # exact part |Q^T Z_x Z_y^T|_F^2 = |Z_y (Z_x^T Q)|_F^2
    h_a = za.t_times(torch.cat([bases["aa"], bases["ab"]], 1))
    h_b = zb.t_times(bases["bb"])
    on_a = za.times(h_a[:, :rank])
    on_b = zb.times(torch.cat([h_a[:, rank:], h_b], 1))
    exact = {"aa": float(on_a.to(torch.float64).square().sum()),
             "ab": float(on_b[:, :rank].to(torch.float64).square().sum()),
             "bb": float(on_b[:, rank:].to(torch.float64).square().sum())}
    return exact, rest


def _exact_squares(xa: torch.Tensor, xb: torch.Tensor, centres, scales, *, snp_chunk: int,
                   block_size: int) -> tuple[dict, tuple]:
    """T_aa, T_bb, T_ab exactly, from the pooled Gram matrix formed one ``block_size`` tile
    at a time and reduced to its squared sums (memory: the pooled int8 data plus a tile), and
    the float64 row sums of Z_a and Z_b."""
    n_a, m = xa.shape
    n = n_a + xb.shape[0]
    x = torch.cat([xa, xb])  # pooled int8 rows, a first: the data once more, no n x n matrix
    centres = tuple(c.to(torch.float32) for c in centres)
    scales = tuple(s.to(torch.float32) for s in scales)

    def standardised(rows: slice, columns: slice) -> torch.Tensor:
        """float32 z-scores of pooled rows on SNP columns, each row with its own set's scale."""
        block = x[rows, columns].to(torch.float32)
        split = min(max(n_a - rows.start, 0), block.shape[0])
        for part, which in ((slice(0, split), 0), (slice(split, None), 1)):
            block[part] -= centres[which][columns]
            block[part] *= scales[which][columns]
        return block

    row_sums = torch.zeros(n, dtype=torch.float64, device=x.device)
    for a0 in range(0, n, block_size):
        rows = slice(a0, min(a0 + block_size, n))
        for start in range(0, m, snp_chunk):
            row_sums[rows] += standardised(rows, slice(start, start + snp_chunk)).sum(
                1, dtype=torch.float64)
    # squared Frobenius norms of the a-a, b-b and a-b blocks of the pooled Gram matrix, tile
    # by tile over its upper triangle: an off-diagonal tile stands for its mirror image too
    squares = {"aa": 0.0, "bb": 0.0, "ab": 0.0}
    for a0 in range(0, n, block_size):
        rows = slice(a0, min(a0 + block_size, n))
        for b0 in range(a0, n, block_size):
            cols = slice(b0, min(b0 + block_size, n))
            tile = torch.zeros((rows.stop - a0, cols.stop - b0), dtype=torch.float32,
                               device=x.device)
            for start in range(0, m, snp_chunk):
                columns = slice(start, start + snp_chunk)
                tile.addmm_(standardised(rows, columns), standardised(cols, columns).T)
            square = tile.to(torch.float64).square_()
            ra, ca = max(min(n_a - a0, square.shape[0]), 0), max(min(n_a - b0, square.shape[1]), 0)
            aa, bb = float(square[:ra, :ca].sum()), float(square[ra:, ca:].sum())
            ab = float(square[:ra, ca:].sum())
            if a0 == b0:  # the whole square: both orders of every pair, the diagonal once
                squares["aa"] += aa
                squares["bb"] += bb
                squares["ab"] += ab
            else:
                squares["aa"] += 2 * aa
                squares["bb"] += 2 * bb
                squares["ab"] += ab + float(square[ra:, :ca].sum())
    return squares, (row_sums[:n_a], row_sums[n_a:])
