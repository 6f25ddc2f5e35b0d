"""GWAS kernels: per-SNP marginal regressions of a phenotype on dosages, exact and blocked.

``y = a + C g + b x + e`` is fitted for all SNPs at once: with ``Q`` an orthonormal basis of
``[1, C]`` (n x k) and ``y_r = y - Q Q'y``, the Frisch-Waugh-Lovell theorem gives

    b = x'y_r / x_r'x_r,   x_r'x_r = sum x^2 - (sum x)^2 / n - |Q_c'x|^2,
    se = sqrt((y_r'y_r - b x'y_r) / (n - k - 1) / x_r'x_r),   t = b / se,
    p = 2 P(T_{n-k-1} > |t|),

where ``Q_c`` are the columns of ``Q`` orthogonal to the intercept: exactly what PLINK 2
``--glm`` reports (``BETA``, ``SE``, ``T_STAT``, ``P``). Only ``X'[y_r, Q_c]`` needs the genotypes:
one thin product per block of SNPs. It is computed exactly in integers: the float columns are
quantized to 33 bits as five balanced base-128 int8 digits and multiplied with the int8 dosages
(``torch._int_mm``, int32 accumulation, see :mod:`.products`), so the only rounding is the
quantization (relative 1.2e-10 of the column maximum). :func:`gwas_plink` streams a PLINK
``.bed`` file without decoding it: its 2-bit codes are unpacked to bit planes ``lo``, ``hi``
with dosage ``2 - lo - hi``, and the counts per SNP come from popcounts of the packed bytes.

The association metrics (:mod:`genobench.metrics.association`) and anyone cross-checking
against PLINK import :func:`gwas` and :func:`gwas_plink` from here.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import math
from pathlib import Path

import numpy as np
import torch
from scipy import special

from ..errors import DataError
from .products import as_int8, int8_product, round_up

__all__ = ["ALPHA", "Design", "GwasResult", "gwas", "gwas_plink"]

PLINK2 = "Chang et al. 2015, Second-generation PLINK, GigaScience 4:7 (--glm)"

#: Genome-wide significance: Bonferroni 0.05 / M over the M SNPs tested.
ALPHA = 0.05

_DIGITS, _BASE, _QUANT_BITS = 5, 128, 33
_BED_MAGIC = b"\x6c\x1b\x01"
# PLINK 1 .bed 2-bit codes (low bits first) -> count of allele 1: 00 -> 2, 01 missing, 10 -> 1,
# 11 -> 0. _BED_LUT decodes one byte into its four individuals.
_BED_LUT = np.array([[(2, -1, 1, 0)[(b >> (2 * k)) & 3] for k in range(4)] for b in range(256)],
                    dtype=np.int8)



# -- GWAS ------------------------------------------------------------------------------------

@dataclasses.dataclass
class GwasResult:
    """Per-SNP marginal regression results; NaN for SNPs without variation after covariates.

    :ivar beta: float64 (m,), effect per alternate allele, in phenotype units.
    :ivar se: float64 (m,), standard error of ``beta``.
    :ivar t: float64 (m,), ``beta / se``.
    :ivar p: float64 (m,), two-sided p-value of the t statistic with ``df`` degrees of freedom.
    :ivar n: individuals used (finite phenotype and covariates).
    :ivar df: residual degrees of freedom, ``n - k - 1`` (k: intercept + covariates).
    """

    beta: np.ndarray
    se: np.ndarray
    t: np.ndarray
    p: np.ndarray
    n: int
    df: int

    @property
    def logp(self) -> np.ndarray:
        """-log10 p, float64 (m,); finite where p underflows to 0 (|t| above about 38).

        There the tail is taken as ``f(t) (df + t^2) / ((df + 1) |t|)`` (f the t density),
        the first term of its asymptotic expansion: relative error O(1/t^2), below 0.1 %.
        """
        from scipy.stats import t as student

        with np.errstate(divide="ignore", invalid="ignore"):
            logp = -np.log10(self.p)
            tiny = np.isfinite(self.t) & (self.p < 1e-300)
            t = np.abs(self.t[tiny])
            log_tail = student.logpdf(t, self.df) + np.log((self.df + t * t)
                                                           / ((self.df + 1) * t))
            logp[tiny] = -(math.log(2.0) + log_tail) / math.log(10.0)
        return logp

    def significant(self, alpha: float = ALPHA) -> np.ndarray:
        """Bonferroni: boolean (m,), ``p < alpha / M`` with M the SNPs that have a p-value."""
        tested = np.isfinite(self.p)
        return tested & (self.p < alpha / max(int(tested.sum()), 1))


class Design:
    """One phenotype and its covariates prepared for the per-SNP regressions.

    :ivar keep: bool (n_all,), individuals with a finite phenotype and covariates.
    :ivar v: float64 (n, q): ``[y_r, Q_c]``, the columns the genotypes are multiplied with.
    """

    def __init__(self, phenotype, covariates=None):
        y = np.asarray(phenotype, dtype=np.float64).reshape(-1)
        c = (np.zeros((y.size, 0)) if covariates is None
             else np.asarray(covariates, dtype=np.float64).reshape(y.size, -1))
        self.keep = np.isfinite(y) & np.isfinite(c).all(axis=1)
        y, c = y[self.keep], c[self.keep]
        n = y.size
        basis = [np.full(n, 1.0 / math.sqrt(max(n, 1)))]
        for column in c.T:  # Gram-Schmidt; constant or collinear covariates add nothing
            centred = column - column.mean()
            residual = centred.copy()
            for _ in range(2):
                residual -= np.column_stack(basis) @ (np.column_stack(basis).T @ residual)
            norm = np.linalg.norm(residual)
            if norm > 1e-8 * max(np.linalg.norm(centred), 1e-300) and norm > 0:
                basis.append(residual / norm)
        q = np.column_stack(basis)
        self.n, self.k = n, q.shape[1]
        self.df = n - self.k - 1
        if self.df < 1:
            raise DataError(f"GWAS needs more individuals than covariates + 2 (has {n})")
        y_r = y - q @ (q.T @ y)
        self.yy = float(y_r @ y_r)
        self.v = np.column_stack([y_r, q[:, 1:]])

    def statistics(self, s1, s2, products) -> tuple[np.ndarray, ...]:
        """beta, se, t, p from per-SNP sums of x and x^2 (n-vectors) and ``X'v`` (m, q)."""
        s1, s2 = np.asarray(s1, np.float64), np.asarray(s2, np.float64)
        xy = products[:, 0]
        xx = s2 - s1 * s1 / self.n - (products[:, 1:] ** 2).sum(axis=1)
        valid = xx > 1e-9 * np.maximum(s2, 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            beta = np.where(valid, xy / xx, np.nan)
            rss = np.maximum(self.yy - beta * xy, 0.0)
            se = np.sqrt(rss / self.df / xx)
            t = beta / se
            p = 2.0 * special.stdtr(self.df, -np.abs(t))
        return beta, np.where(valid, se, np.nan), t, p


class _QuantizedColumns:
    """Float columns (n, q) as exact int8 digits: ``v ~ sum_l digit_l 128^l / scale``.

    Each column is scaled so its largest magnitude is 2^33 and rounded to an integer ``u``;
    ``u`` is written in balanced base 128 (digits in [-64, 63]), five digits. Products of int8
    dosages (or bits) with the digits are exact in int32 while the inner dimension is below
    2^31 / 128 (16.7 million individuals) and are recombined exactly in int64. The digit
    columns are padded to a multiple of 16, the width the CPU int8 kernels run fastest at.

    :param interleave: repeat each row twice (for the lo/hi bit planes of a .bed row) and pad
        to ``rows`` rows.
    """

    def __init__(self, v: np.ndarray, device, *, interleave: bool = False,
                 rows: int | None = None):
        v = np.asarray(v, dtype=np.float64)
        self.q = v.shape[1]
        largest = np.abs(v).max(axis=0) if v.size else np.zeros(self.q)
        self.scale = 2.0 ** _QUANT_BITS / np.where(largest > 0, largest, 1.0)
        u = np.rint(v * self.scale).astype(np.int64)
        self.sums = u.sum(axis=0)  # exact column sums of the quantized values
        width = self.q * _DIGITS
        digits = np.zeros((v.shape[0], round_up(width, 16)), dtype=np.int8)
        for level in range(_DIGITS):
            digit = (u + _BASE // 2) % _BASE - _BASE // 2
            digits[:, level:width:_DIGITS] = digit
            u = (u - digit) // _BASE
        assert not u.any()
        if interleave:
            digits = np.repeat(digits, 2, axis=0)
        if rows is not None and rows > digits.shape[0]:
            digits = np.vstack([digits, np.zeros((rows - digits.shape[0], digits.shape[1]),
                                                 np.int8)])
        self.digits = torch.as_tensor(digits, device=device)
        self._digits_t = None
        self._powers = torch.tensor([_BASE ** level for level in range(_DIGITS)],
                                    dtype=torch.int64, device=device)

    def integer_product(self, a: torch.Tensor, *, transposed: bool = False) -> np.ndarray:
        """Exact ``a @ u`` for int8 ``a`` (b, K), or ``a.T @ u`` for ``a`` (K, b) when
        ``transposed`` (individuals-major blocks, multiplied without a transposing copy).

        :returns: int64 (b, q), in quantized units (divide by :attr:`scale`).
        """
        try:
            if transposed:
                if self._digits_t is None:
                    self._digits_t = self.digits.T.contiguous()
                raw = int8_product(self._digits_t, a).T
            else:
                raw = int8_product(a, self.digits)
        except RuntimeError:  # no int8 matmul here: float64 holds these integers exactly
            a = a.to(torch.float64)
            raw = ((a.T if transposed else a) @ self.digits.to(torch.float64)).round()
        b = raw.shape[0]
        raw = raw[:, :self.q * _DIGITS].to(torch.int64).reshape(b, self.q, _DIGITS)
        return (raw * self._powers).sum(dim=2).cpu().numpy()


@contextlib.contextmanager
def _worker_threads(device: str):
    """Threads to scan blocks with: as many as torch's, each running one-threaded kernels.

    The int8 products here are thin (16 columns); one thread per block beats splitting each
    product over threads (about 3x on a 2-core machine). Restores torch's setting after.
    """
    if torch.device(device).type != "cpu":
        yield 1
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield threads
    finally:
        torch.set_num_threads(threads)


def _scan(design: Design, m: int, block_size: int, device: str, block) -> GwasResult:
    """Run ``block(start, stop) -> (sum x, sum x^2, X'v)`` over SNP blocks on worker threads
    and turn the sums into statistics."""
    out = [np.full(m, np.nan) for _ in range(4)]

    def one(bounds):
        start, stop = bounds
        for target, values in zip(out, design.statistics(*block(start, stop)), strict=True):
            target[start:stop] = values

    bounds = [(start, min(start + block_size, m)) for start in range(0, m, block_size)]
    with _worker_threads(device) as threads:
        if threads > 1 and len(bounds) > 1:
            with concurrent.futures.ThreadPoolExecutor(threads) as pool:
                list(pool.map(one, bounds))
        else:
            for item in bounds:
                one(item)
    return GwasResult(*out, n=design.n, df=design.df)


def gwas(dosages, phenotype, covariates=None, *, block_size: int = 2048,
         device: str = "cpu") -> GwasResult:
    """Per-SNP marginal OLS of ``phenotype`` on each SNP's dosage, adjusted for covariates.

    :param dosages: (n, m) 0/1/2.
    :param phenotype: (n,) float; individuals with NaN (in it or a covariate) are left out.
    :param covariates: optional (n, k) float; an intercept is always included, and constant
        or collinear covariates are dropped.
    :param block_size: SNPs per block (bounds memory to n x block_size bytes per thread).
    :returns: :class:`GwasResult` with the statistics PLINK 2 ``--glm`` reports.
    """
    x = np.asarray(dosages)
    design = Design(phenotype, covariates)
    if x.ndim != 2 or x.shape[0] != design.keep.size:
        raise DataError(f"dosages have shape {x.shape}, phenotype {design.keep.size} values")
    if not design.keep.all():
        x = x[design.keep]
    # a column of ones gives sum x from the same exact product (its scale is a power of 2)
    columns = _QuantizedColumns(np.column_stack([design.v, np.ones(design.n)]), device)

    def block(start, stop):
        rows = np.ascontiguousarray(x[:, start:stop])  # (n, b): row pieces, no transpose
        a = as_int8(rows, device)
        products = columns.integer_product(a, transposed=True) / columns.scale
        s1 = np.rint(products[:, -1]).astype(np.int64)
        twos = (np.count_nonzero(rows == 2, axis=0) if a.device.type == "cpu"
                else (a == 2).sum(dim=0).cpu().numpy())
        return s1, s1 + 2 * twos, products[:, :-1]

    return _scan(design, x.shape[1], block_size, device, block)


def _count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


_EVEN_BITS = np.uint64(0x5555555555555555)  # the low bit of every 2-bit code
_ODD_BITS = np.uint64(0xAAAAAAAAAAAAAAAA)


def gwas_plink(path, phenotype, covariates=None, *, block_size: int = 1024,
               max_missing: float = 0.1, device: str = "cpu") -> GwasResult:
    """:func:`gwas` streamed from a PLINK 1 ``.bed`` file set, without loading it whole.

    Dosages count allele 1 (the 5th ``.bim`` column, PLINK 2's ALT), as
    :func:`genobench.io.read_plink` reads them, and missing calls follow its policy: a SNP with
    more than ``max_missing`` of its calls missing gets NaN, other missing calls take the SNP's
    most frequent genotype (ties to the lower dosage). Blocks without missing calls (and
    phenotypes without gaps) never decode the 2-bit codes (see the module docstring).

    :param path: the ``.bed`` file or the file-set prefix.
    :param phenotype: (n,) float in ``.fam`` order; NaN leaves an individual out.
    :param covariates: optional (n, k) float in ``.fam`` order.
    """
    from ..io import plink_files

    bed, bim, fam = plink_files(path)
    for file in (bed, bim, fam):
        if not file.is_file():
            raise DataError(f"PLINK file not found: {file}")
    n, m = _count_lines(fam), _count_lines(bim)
    n4 = (n + 3) // 4
    with open(bed, "rb") as handle:
        magic = handle.read(3)
    if magic != _BED_MAGIC or bed.stat().st_size != 3 + m * n4:
        raise DataError(f"{bed}: not a SNP-major PLINK 1 .bed file for {n} individuals and "
                        f"{m} SNPs (from the .fam and .bim)")
    design = Design(phenotype, covariates)
    if design.keep.size != n:
        raise DataError(f"{fam} lists {n} individuals, the phenotype has {design.keep.size}")
    complete = bool(design.keep.all())
    v_all = np.zeros((n, design.v.shape[1]))
    v_all[design.keep] = design.v
    bit_columns = _QuantizedColumns(v_all, device, interleave=True, rows=8 * n4)
    columns = bit_columns if complete else _QuantizedColumns(design.v, device)
    packed = np.memmap(bed, dtype=np.uint8, mode="r", offset=3, shape=(m, n4))
    width = round_up(n4, 8)  # whole 64-bit words per row for the popcounts
    tail = np.uint8((1 << (2 * (n % 4))) - 1) if n % 4 else None

    def block(start, stop):
        rows = np.zeros((stop - start, width), dtype=np.uint8)
        rows[:, :n4] = packed[start:stop]
        if tail is not None:
            rows[:, n4 - 1] &= tail  # padding codes become 00, which the counts below ignore
        words = rows.view(np.uint64)
        lo = np.bitwise_count(words & _EVEN_BITS).sum(axis=1, dtype=np.int64)
        hi = np.bitwise_count(words & _ODD_BITS).sum(axis=1, dtype=np.int64)
        zero = np.bitwise_count(words & (words >> np.uint64(1)) & _EVEN_BITS).sum(
            axis=1, dtype=np.int64)  # code 11
        het, missing = hi - zero, lo - zero  # codes 10 and 01
        if complete and not missing.any():
            two = n - het - zero
            bits = np.unpackbits(rows[:, :n4], axis=1, bitorder="little").view(np.int8)
            # x'u = sum (2 - lo - hi) u = 2 sum u - [lo, hi]'[u, u]
            products = 2 * bit_columns.sums - bit_columns.integer_product(
                torch.as_tensor(bits, device=device))
            return 2 * two + het, 4 * two + het, products / bit_columns.scale
        x = _BED_LUT[rows[:, :n4]].reshape(stop - start, 4 * n4)[:, :n]  # (b, n), -1 missing
        x, usable = _impute_mode(x, max_missing)
        x = np.ascontiguousarray(x[:, design.keep])
        products = columns.integer_product(as_int8(x, device)) / columns.scale
        products[~usable] = np.nan
        ones, twos = (np.count_nonzero(x == g, axis=1) for g in (1, 2))
        return ones + 2 * twos, ones + 4 * twos, products  # sums of x and x^2

    return _scan(design, m, block_size, device, block)


def _impute_mode(x: np.ndarray, max_missing: float) -> tuple[np.ndarray, np.ndarray]:
    """SNP-major dosages (b, n) with -1 for missing: mode-imputed, and which SNPs are usable."""
    missing = x < 0
    share = missing.mean(axis=1)
    usable = (share <= max_missing) & (share < 1.0)
    if missing.any():
        counts = np.stack([(x == g).sum(axis=1) for g in (0, 1, 2)], axis=1)
        mode = counts.argmax(axis=1).astype(np.int8)  # first maximum: the lower dosage
        x = np.where(missing, mode[:, None], x)
    return x, usable
