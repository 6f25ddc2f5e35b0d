"""Trait-association metrics: do synthetic genotypes keep the genotype-phenotype link?

Synthetic individuals carry phenotypes when the generator was conditioned on the test split's
phenotypes, or, on simulated suites, when the runner could compute them from the true causal
model (every causal variant on the panel). Otherwise these metrics report "not applicable"
rather than a number. The traits analysed are those with causal variants in the suite's truth
(adjusted for their declared covariates, such as sex), or every phenotype column when the
truth is unknown. With several traits a metric is the mean over them (each in the note).

Metrics (family "association"): ``gwas_beta_r`` (Pearson r of per-SNP GWAS betas, real vs
synthetic; its curves hold the mirrored Manhattan plot), ``gwas_hit_overlap`` (F1 of the
Bonferroni-significant SNPs matched within a window), ``causal_recovery`` (F1 of the synthetic
hits against the true causal variants, simulated suites only), ``tstr_r`` and ``tstr_mse``
(GBLUP trained on synthetic, tested on real; an MLP and train-on-real in the note) and
``h2_difference`` (Haseman-Elston SNP heritability, real vs synthetic).

GWAS (Xie et al. 2026 evaluate per-SNP marginal OLS). For each SNP ``x`` the model
``y = a + C g + b x + e`` is fitted for all SNPs at once: with ``Q`` an orthonormal basis of
``[1, C]`` (n x k) and ``y_r = y - Q Q'y``, the Frisch-Waugh-Lovell theorem gives

    b = x'y_r / x_r'x_r,   x_r'x_r = sum x^2 - (sum x)^2 / n - |Q_c'x|^2,
    se = sqrt((y_r'y_r - b x'y_r) / (n - k - 1) / x_r'x_r),   t = b / se,
    p = 2 P(T_{n-k-1} > |t|),

where ``Q_c`` are the columns of ``Q`` orthogonal to the intercept: exactly what PLINK 2
``--glm`` reports (``BETA``, ``SE``, ``T_STAT``, ``P``). Only ``X'[y_r, Q_c]`` needs the genotypes:
one thin product per block of SNPs. It is computed exactly in integers: the float columns are
quantized to 33 bits as five balanced base-128 int8 digits and multiplied with the int8 dosages
(``torch._int_mm``, int32 accumulation, see :mod:`.kernels`), so the only rounding is the
quantization (relative 1.2e-10 of the column maximum). :func:`gwas_plink` streams a PLINK
``.bed`` file without decoding it: its 2-bit codes are unpacked to bit planes ``lo``, ``hi``
with dosage ``2 - lo - hi``, and the counts per SNP come from popcounts of the packed bytes.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import special

from ..errors import DataError
from ..hookspecs import hookimpl
from ..traits import TRUTH_KEY, causal_index
from . import kernels
from .base import EvaluationContext, Metric, MetricResult
from .fidelity import XIE_2026, pearson_r, scatter_subsample
from .options import GwasOptions

HASEMAN_ELSTON_1972 = ("Haseman & Elston 1972, The investigation of linkage between a "
                       "quantitative trait and a marker locus, Behavior Genetics 2:3-19")
VANRADEN_2008 = ("VanRaden 2008, Efficient methods to compute genomic predictions, "
                 "J Dairy Sci 91:4414-4423 (GRM method 1)")
PLINK2 = "Chang et al. 2015, Second-generation PLINK, GigaScience 4:7 (--glm)"

#: Genome-wide significance: Bonferroni 0.05 / M over the M SNPs tested.
ALPHA = 0.05
#: Non-significant SNPs kept in the Manhattan-plot curves (significant ones are all kept).
MANHATTAN_POINTS = 2000

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


class _Design:
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
        digits = np.zeros((v.shape[0], kernels._round_up(width, 16)), dtype=np.int8)
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
                raw = kernels._int8_product(self._digits_t, a).T
            else:
                raw = kernels._int8_product(a, self.digits)
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


def _scan(design: _Design, m: int, block_size: int, device: str, block) -> GwasResult:
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
    design = _Design(phenotype, covariates)
    if x.ndim != 2 or x.shape[0] != design.keep.size:
        raise DataError(f"dosages have shape {x.shape}, phenotype {design.keep.size} values")
    if not design.keep.all():
        x = x[design.keep]
    # a column of ones gives sum x from the same exact product (its scale is a power of 2)
    columns = _QuantizedColumns(np.column_stack([design.v, np.ones(design.n)]), device)

    def block(start, stop):
        rows = np.ascontiguousarray(x[:, start:stop])  # (n, b): row pieces, no transpose
        a = kernels._as_int8(rows, device)
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
    design = _Design(phenotype, covariates)
    if design.keep.size != n:
        raise DataError(f"{fam} lists {n} individuals, the phenotype has {design.keep.size}")
    complete = bool(design.keep.all())
    v_all = np.zeros((n, design.v.shape[1]))
    v_all[design.keep] = design.v
    bit_columns = _QuantizedColumns(v_all, device, interleave=True, rows=8 * n4)
    columns = bit_columns if complete else _QuantizedColumns(design.v, device)
    packed = np.memmap(bed, dtype=np.uint8, mode="r", offset=3, shape=(m, n4))
    width = kernels._round_up(n4, 8)  # whole 64-bit words per row for the popcounts
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
        products = columns.integer_product(kernels._as_int8(x, device)) / columns.scale
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


# -- GRM and Haseman-Elston regression -------------------------------------------------------

def grm(dosages, *, device: str = "cpu") -> np.ndarray:
    """Genomic relationship matrix ``Z Z' / sum_j 2 p_j (1 - p_j)`` with ``Z = X - 2p``.

    VanRaden's (2008) first method, with ``p`` the alternate-allele frequencies of these
    individuals. ``X X'`` is an exact integer product (:func:`.kernels.exact_gram`); centring is
    applied afterwards: ``Z Z' = X X' - r 1' - 1 r' + 4 p'p`` with ``r = X 2p``.

    :param dosages: (n, m) 0/1/2.
    :returns: float64 (n, n).
    """
    x = kernels._as_int8(dosages, device)
    p = kernels.allele_frequencies(x, device=device)
    gram = kernels.exact_gram(x, x).cpu().numpy().astype(np.float64)
    values = np.asarray(dosages)
    r = np.zeros(x.shape[0])
    for start in range(0, x.shape[1], 4096):
        r += values[:, start:start + 4096].astype(np.float64) @ (2.0 * p[start:start + 4096])
    denominator = float((2.0 * p * (1.0 - p)).sum())
    if not denominator > 0:
        raise DataError("GRM: every SNP is monomorphic")
    return (gram - r[:, None] - r[None, :] + 4.0 * float(p @ p)) / denominator


def haseman_elston(relationships: np.ndarray, phenotype, covariates=None) -> float:
    """SNP heritability by Haseman-Elston cross-product regression (Haseman & Elston 1972).

    The phenotype is adjusted for the covariates (OLS with intercept) and standardized; the
    products ``y_i y_j`` of distinct pairs are regressed, with an intercept, on the
    relationships ``A_ij``; the slope estimates h2. All pair sums come from matrix identities
    (``sum_{i != j} A_ij y_i y_j = y'Ay - sum_i A_ii y_i^2``, ...), never a loop over pairs.

    :param relationships: (n, n) GRM of the same individuals.
    :returns: the estimate (unbounded: sampling noise can take it outside [0, 1]).
    """
    design = _Design(phenotype, covariates)
    y = design.v[:, 0]
    y = y / math.sqrt(max(design.yy / design.n, 1e-300))
    a = relationships[np.ix_(design.keep, design.keep)]
    n = y.size
    pairs = n * (n - 1)
    diagonal = np.diag(a)
    sum_a = a.sum() - diagonal.sum()
    sum_aa = (a * a).sum() - (diagonal * diagonal).sum()
    sum_z = y.sum() ** 2 - (y * y).sum()
    sum_az = y @ a @ y - (diagonal * y * y).sum()
    spread = pairs * sum_aa - sum_a ** 2
    if not spread > 0:
        return float("nan")
    return float((pairs * sum_az - sum_a * sum_z) / spread)


# -- phenotype prediction ---------------------------------------------------------------------

@contextlib.contextmanager
def _one_thread():
    """Run small dense linear algebra (eigh, a tiny network) on one thread.

    Multi-threaded BLAS and OpenMP barriers collapse when the machine runs more threads than
    it has cores (measured here under load: a 600 x 600 eigh took 6.8 s on 2 threads, 0.2 s
    on one); these problems are too small to gain from threads anyway.
    """
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(threads)


def _standardized(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Dosages standardized with the training set's frequencies, float32, (n, m_poly) each."""
    p = train.mean(axis=0, dtype=np.float64) / 2.0
    keep = (p > 0) & (p < 1)
    centre, scale = 2.0 * p[keep], np.sqrt(2.0 * p[keep] * (1.0 - p[keep]) * keep.sum())
    centre, scale = centre.astype(np.float32), scale.astype(np.float32)
    return [(x[:, keep].astype(np.float32) - centre) / scale for x in (train, *others)]


def _adjusted(phenotypes: pd.DataFrame, trait: str, covariates: list[str]) -> np.ndarray:
    """The trait with its covariates regressed out (OLS with intercept, within the set)."""
    design = _Design(phenotypes[trait].to_numpy(),
                     phenotypes[covariates].to_numpy() if covariates else None)
    values = np.full(design.keep.size, np.nan)
    values[design.keep] = design.v[:, 0]
    return values


#: Heritabilities tried by GBLUP; the one with the smallest leave-one-out error is used.
H2_GRID = np.linspace(0.05, 0.95, 19)


def gblup_predict(z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray,
                  *, device: str = "cpu") -> np.ndarray:
    """GBLUP (ridge regression on standardized SNPs, in kernel form) with h2 chosen by LOO.

    ``K = Z Z'`` (columns of ``Z`` scaled so the mean diagonal is about 1), prediction
    ``K_* (K + lambda I)^-1 y`` with ``lambda = (1 - h2) / h2``; the leave-one-out residuals
    ``e_i / (1 - H_ii)`` of every h2 in :data:`H2_GRID` come from one eigendecomposition.
    """
    zt = torch.as_tensor(z_train, device=device)
    k = (zt @ zt.T).double().cpu().numpy()
    k_test = (torch.as_tensor(z_test, device=device) @ zt.T).double().cpu().numpy()
    d, u = np.linalg.eigh((k + k.T) / 2)
    d = np.maximum(d, 0.0)
    uy = u.T @ y_train
    best, best_press = None, np.inf
    for h2 in H2_GRID:
        shrink = d / (d + (1 - h2) / h2)
        fitted = u @ (shrink * uy)
        leverage = (u * u) @ shrink
        press = float((((y_train - fitted) / (1 - leverage)) ** 2).sum())
        if press < best_press:
            best, best_press = h2, press
    return k_test @ (u @ (uy / (d + (1 - best) / best)))


def mlp_predict(z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, *, seed: int,
                hidden: int = 32, max_epochs: int = 100, patience: int = 10,
                device: str = "cpu") -> np.ndarray:
    """A small neural network (SNPs -> ``hidden`` ReLU units -> 1) on standardized SNPs.

    Adam (learning rate 1e-3, weight decay 1e-3), minibatches of 128; a fifth of the training
    individuals is held out and the weights of the epoch with the lowest held-out MSE are kept
    (early stopping). Initial weights and batches come from ``seed`` only (the global torch
    random state is restored afterwards).
    """
    y_mean, y_sd = float(y_train.mean()), float(y_train.std()) or 1.0
    target = ((y_train - y_mean) / y_sd).astype(np.float32)
    rng = np.random.default_rng(seed)
    order = rng.permutation(y_train.size)
    n_val = max(1, y_train.size // 5)
    val, fit = order[:n_val], order[n_val:]
    x = torch.as_tensor(z_train, device=device)
    y = torch.as_tensor(target, device=device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(rng.integers(2**31)))
        model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(),
                                    torch.nn.Linear(hidden, 1)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-3)
    held_out_rows = torch.as_tensor(val, device=device)

    def held_out_loss() -> float:
        model.eval()
        with torch.no_grad():
            return float(torch.mean((model(x[held_out_rows]).squeeze(1)
                                     - y[held_out_rows]) ** 2))

    best_loss, waited = held_out_loss(), 0
    best_state = {key: t.detach().clone() for key, t in model.state_dict().items()}
    for _ in range(max_epochs):
        model.train()
        shuffled = rng.permutation(fit)
        for start in range(0, shuffled.size, 128):
            batch = torch.as_tensor(shuffled[start:start + 128], device=device)
            optimizer.zero_grad()
            loss = torch.mean((model(x[batch]).squeeze(1) - y[batch]) ** 2)
            loss.backward()
            optimizer.step()
        loss = held_out_loss()
        if loss < best_loss - 1e-6:
            best_loss, waited = loss, 0
            best_state = {key: t.detach().clone() for key, t in model.state_dict().items()}
        else:
            waited += 1
            if waited >= patience:
                break
    model.load_state_dict(best_state)
    with torch.no_grad():
        predicted = model(torch.as_tensor(z_test, device=device)).squeeze(1).cpu().numpy()
    return predicted.astype(np.float64) * y_sd + y_mean


# -- which traits, and whether synthetic individuals have them -------------------------------

def _truth_traits(context: EvaluationContext) -> dict:
    return (context.truth or {}).get(TRUTH_KEY) or {}


def association_traits(context: EvaluationContext) -> list[tuple[str, list[str]]]:
    """(trait, covariates) pairs to analyse: traits with causal variants in the truth, else
    every phenotype column of the real individuals (without covariates)."""
    real = context.real.trait_names
    truth = _truth_traits(context)
    if truth:
        return [(name, [c for c in (t.get("covariates") or {}) if c in real])
                for name, t in truth.items() if t.get("n_causal") and name in real]
    return [(name, []) for name in real]


def _missing_reason(context: EvaluationContext, trait: str, covariates: list[str]) -> str | None:
    """Why the synthetic individuals cannot be analysed for ``trait``, or None if they can."""
    names = context.synthetic.trait_names
    lacking = [name for name in [trait, *covariates] if name not in names
               or not np.isfinite(context.synthetic.phenotypes[name].to_numpy()).any()]
    if not lacking:
        return None
    truth = _truth_traits(context).get(trait)
    if truth is None:
        return (f"synthetic individuals have no {lacking[0]!r} values: the generator is not "
                "conditioned on phenotypes and the suite's causal model is unknown")
    _, on_panel = causal_index(context.synthetic, truth)
    if not on_panel.all():
        return (f"synthetic individuals have no {trait!r} values: the generator is not "
                f"conditioned on phenotypes and {int((~on_panel).sum())} of {on_panel.size} "
                "causal variants are not on the SNP panel")
    return f"synthetic individuals have no {lacking[0]!r} values"


def usable_traits(context: EvaluationContext):
    """(traits that both sets carry, notes on those left out, or a reason nothing applies)."""
    traits = association_traits(context)
    if not traits:
        if context.real.trait_names:
            return [], [], "no trait of the suite has causal variants (nothing to associate)"
        return [], [], "the suite has no phenotypes"
    usable, skipped = [], []
    for trait, covariates in traits:
        reason = _missing_reason(context, trait, covariates)
        if reason is None:
            usable.append((trait, covariates))
        else:
            skipped.append(f"{trait}: not applicable ({reason})")
    if not usable:
        reason = _missing_reason(context, *traits[0])
        return [], skipped, reason
    return usable, skipped, None


def trait_gwas(context: EvaluationContext, which: str, trait: str,
               covariates: list[str]) -> GwasResult:
    """GWAS of ``trait`` in ``context.<which>`` ("real" or "synthetic"), cached per context."""
    data = getattr(context, which)

    def compute():
        table = data.phenotypes
        return gwas(data.dosages, table[trait].to_numpy(),
                    table[covariates].to_numpy() if covariates else None, device=context.device)

    return context.cached(f"gwas/{which}/{trait}/{','.join(covariates)}", compute)


def _near(chromosomes_a, positions_a, chromosomes_b, positions_b, window: float) -> np.ndarray:
    """bool (len a): whether each a has some b on its chromosome within ``window`` bp."""
    found = np.zeros(len(positions_a), dtype=bool)
    for chromosome in np.unique(chromosomes_a):
        mine = np.flatnonzero(chromosomes_a == chromosome)
        theirs = np.sort(positions_b[chromosomes_b == chromosome])
        if theirs.size == 0:
            continue
        left = np.searchsorted(theirs, positions_a[mine] - window, side="left")
        right = np.searchsorted(theirs, positions_a[mine] + window, side="right")
        found[mine] = right > left
    return found


def _f1(n_a: int, a_matched: int, n_b: int, b_matched: int) -> float:
    """F1 of two sets matched within a window: recall over a, precision over b."""
    if n_a == 0 or n_b == 0:
        return 0.0
    recall, precision = a_matched / n_a, b_matched / n_b
    return 0.0 if recall + precision == 0 else 2 * recall * precision / (recall + precision)


def _plain(values) -> list:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


def manhattan_curves(context: EvaluationContext, real: GwasResult,
                     synthetic: GwasResult) -> dict:
    """Mirrored Manhattan plot data: every significant SNP, a spread of the others."""
    significant = np.flatnonzero(real.significant() | synthetic.significant())
    others = np.setdiff1d(np.arange(real.p.size), significant)
    index = np.union1d(significant, others[scatter_subsample(others.size, MANHATTAN_POINTS)])
    data = context.real
    return {"position": [int(v) for v in data.positions[index]],
            "chromosome": [str(v) for v in data.chromosomes[index]],
            "real_logp": _plain(real.logp[index]),
            "synthetic_logp": _plain(synthetic.logp[index])}


class _AssociationMetric(Metric):
    """Shared flow: per trait a value and a note; the metric is the mean over traits."""

    family = "association"
    citation = XIE_2026

    def per_trait(self, context, trait: str, covariates: list[str]):
        """(value or None, note, curves or None) for one trait both sets carry."""
        raise NotImplementedError

    def precondition(self, context) -> str | None:
        """A reason the metric does not apply beyond missing phenotypes, or None."""
        return None

    def compute(self, context):
        usable, skipped, reason = usable_traits(context)
        if reason is not None:
            return MetricResult(None, f"not applicable: {reason}")
        reason = self.precondition(context)
        if reason is not None:
            return MetricResult(None, f"not applicable: {reason}")
        values, notes, curves = [], [], {}
        for trait, covariates in usable:
            value, note, trait_curves = self.per_trait(context, trait, covariates)
            if value is not None and np.isfinite(value):
                values.append(float(value))
            notes.append(f"{trait}: {note}")
            curves = curves or trait_curves or {}  # plots show the first trait
        notes += skipped
        note = "; ".join(notes)
        if not values:
            return MetricResult(None, f"undefined: {note}", curves)
        return MetricResult(float(np.mean(values)), note, curves)


class GwasBetaR(_AssociationMetric):
    name = "gwas_beta_r"
    label = "GWAS beta r"
    direction = "higher"
    ideal = 1.0
    range = (-1.0, 1.0)
    description = ("Pearson correlation of per-SNP GWAS effect sizes (marginal OLS of the "
                   "phenotype on dosage, adjusted for the trait's covariates), real vs "
                   "synthetic; mean over traits. Curves: mirrored Manhattan plot data.")

    def per_trait(self, context, trait, covariates):
        real = trait_gwas(context, "real", trait, covariates)
        synthetic = trait_gwas(context, "synthetic", trait, covariates)
        both = np.isfinite(real.beta) & np.isfinite(synthetic.beta)
        r = pearson_r(real.beta[both], synthetic.beta[both]) if both.sum() > 2 else np.nan
        return (r, f"r={r:.4f} over {int(both.sum())} SNPs",
                manhattan_curves(context, real, synthetic))


def _hits(context, which, trait, covariates):
    data = getattr(context, which)
    significant = trait_gwas(context, which, trait, covariates).significant()
    return data.chromosomes[significant], data.positions[significant]


class GwasHitOverlap(_AssociationMetric):
    Options = GwasOptions
    name = "gwas_hit_overlap"
    label = "GWAS hit overlap F1"
    direction = "higher"
    ideal = 1.0
    range = (0.0, 1.0)
    description = ("F1 of Bonferroni-significant SNPs (p < 0.05/M) real vs synthetic: recall = "
                   "share of real hits with a synthetic hit within the window (option "
                   "gwas_window, default 100 kb), precision = share of synthetic hits with a "
                   "real hit within it; undefined when neither set has a hit.")

    def per_trait(self, context, trait, covariates):
        window = float(self.settings(context).gwas_window)
        real_c, real_p = _hits(context, "real", trait, covariates)
        syn_c, syn_p = _hits(context, "synthetic", trait, covariates)
        counts = f"{real_p.size} real and {syn_p.size} synthetic hits"
        if real_p.size == 0 and syn_p.size == 0:
            return None, (f"no Bonferroni-significant SNP in either set "
                          f"(n={context.real.n_samples} real individuals)"), None
        recalled = int(_near(real_c, real_p, syn_c, syn_p, window).sum())
        precise = int(_near(syn_c, syn_p, real_c, real_p, window).sum())
        f1 = _f1(real_p.size, recalled, syn_p.size, precise)
        return f1, f"F1={f1:.3f} ({counts}, window {window / 1e3:g} kb)", None


class CausalRecovery(_AssociationMetric):
    Options = GwasOptions
    name = "causal_recovery"
    label = "Causal loci recovered F1"
    direction = "higher"
    ideal = 1.0
    range = (0.0, 1.0)
    description = ("Simulated suites: F1 of the synthetic GWAS hits against the true causal "
                   "variants (on the panel or not): recall = share of causal variants with a "
                   "Bonferroni-significant synthetic SNP within the window (gwas_window, "
                   "default 100 kb), precision = share of hits near a causal variant. The note "
                   "gives the real data's F1, the practical ceiling at this sample size.")

    def precondition(self, context):
        if not _truth_traits(context):
            return "the true causal variants are unknown (not a simulated suite with traits)"
        return None

    def per_trait(self, context, trait, covariates):
        window = float(self.settings(context).gwas_window)
        causal = _truth_traits(context)[trait]["causal"]
        true_c = np.asarray(causal["chromosome"], dtype=str)
        true_p = np.asarray(causal["position"], dtype=np.int64)
        scores = {}
        for which in ("synthetic", "real"):
            hit_c, hit_p = _hits(context, which, trait, covariates)
            scores[which] = (_f1(true_p.size, int(_near(true_c, true_p, hit_c, hit_p,
                                                        window).sum()),
                                 hit_p.size, int(_near(hit_c, hit_p, true_c, true_p,
                                                       window).sum())), hit_p.size)
        (f1, hits), (real_f1, real_hits) = scores["synthetic"], scores["real"]
        return f1, (f"F1={f1:.3f} with {hits} hits for {true_p.size} causal variants "
                    f"(real data: F1={real_f1:.3f}, {real_hits} hits)"), None


def _trtr_individuals(context: EvaluationContext, size: int):
    """The training split's individuals for train-on-real, subsampled to ``size`` (seed 0)."""
    train = context.train
    if train is None or train.phenotypes is None:
        return None
    if train.n_samples > size:
        rows = np.sort(np.random.default_rng(0).choice(train.n_samples, size, replace=False))
        train = train.take_samples(rows)
    return train


def prediction_scores(context: EvaluationContext, trait: str, covariates: list[str]) -> dict:
    """r and relative MSE on the real individuals of GBLUP and an MLP trained on synthetic
    (``tstr``) and on as many real training individuals (``trtr``); cached per context.

    Phenotypes are adjusted for the trait's covariates within each set, so the scores measure
    the genotype-phenotype link only. MSE is divided by the real adjusted phenotype's variance
    (1 = no better than predicting the mean).
    """

    def score(prediction, target):
        mse = float(np.mean((prediction - target) ** 2) / np.var(target))
        return dict(r=pearson_r(prediction, target), mse=mse)

    def compute():
        real = context.real
        y_real = _adjusted(real.phenotypes, trait, covariates)
        test = np.isfinite(y_real)
        results = {}
        sources = {"tstr": context.synthetic,
                   "trtr": _trtr_individuals(context, context.synthetic.n_samples)}
        for setting, source in sources.items():
            if source is None:
                continue
            y = _adjusted(source.phenotypes, trait, covariates)
            rows = np.isfinite(y)
            z_train, z_test = _standardized(source.dosages[rows], real.dosages[test])
            results[setting] = {
                "ridge": score(gblup_predict(z_train, y[rows], z_test, device=context.device),
                               y_real[test]),
                "mlp": score(mlp_predict(z_train, y[rows], z_test, seed=0,
                                         device=context.device), y_real[test])}
        return results

    def compute_on_one_thread():
        with _one_thread():
            return compute()

    return context.cached(f"prediction/{trait}/{','.join(covariates)}", compute_on_one_thread)


class _PredictionMetric(_AssociationMetric):
    key = "r"

    def per_trait(self, context, trait, covariates):
        scores = prediction_scores(context, trait, covariates)
        parts = [f"{setting} {model} {self.key}={scores[setting][model][self.key]:.3f}"
                 for setting in ("tstr", "trtr") if setting in scores
                 for model in ("ridge", "mlp")]
        curves = {setting: _plain([scores[setting][model][self.key]
                                   for model in ("ridge", "mlp")])
                  for setting in ("tstr", "trtr") if setting in scores}
        curves["model"] = ["ridge", "mlp"]
        return scores["tstr"]["ridge"][self.key], ", ".join(parts), curves


class TstrR(_PredictionMetric):
    name = "tstr_r"
    label = "TSTR prediction r"
    direction = "higher"
    ideal = 1.0
    range = (-1.0, 1.0)
    key = "r"
    description = ("Train on synthetic, test on real: Pearson r between the real individuals' "
                   "covariate-adjusted phenotype and its GBLUP prediction (ridge on "
                   "standardized SNPs, h2 by leave-one-out) trained on the synthetic "
                   "individuals. The note adds a small MLP and train-on-real (as many training "
                   "individuals) for both models.")
    citation = f"{XIE_2026}; {VANRADEN_2008}"


class TstrMse(_PredictionMetric):
    name = "tstr_mse"
    label = "TSTR prediction MSE"
    direction = "lower"
    ideal = 0.0
    range = (0.0, 4.0)
    key = "mse"
    description = ("Train on synthetic, test on real: mean squared error of the GBLUP "
                   "prediction of the real covariate-adjusted phenotype, divided by its "
                   "variance (1 = no better than the mean; values can exceed 1). The note "
                   "adds a small MLP and train-on-real.")
    citation = f"{XIE_2026}; {VANRADEN_2008}"


class H2Difference(_AssociationMetric):
    name = "h2_difference"
    label = "SNP h2 difference"
    direction = "lower"
    ideal = 0.0
    range = (0.0, 1.0)
    description = ("|h2_synthetic - h2_real|, SNP heritabilities estimated by Haseman-Elston "
                   "cross-product regression on the GRM (VanRaden method 1) of the panel SNPs, "
                   "phenotypes adjusted for covariates; each estimate clipped to [0, 1].")
    citation = f"{HASEMAN_ELSTON_1972}; {VANRADEN_2008}"

    def per_trait(self, context, trait, covariates):
        estimates = {}
        for which in ("real", "synthetic"):
            data = getattr(context, which)
            relationships = context.cached(f"grm/{which}",
                                           lambda d=data: grm(d.dosages, device=context.device))
            table = data.phenotypes
            estimates[which] = haseman_elston(relationships, table[trait].to_numpy(),
                                              table[covariates].to_numpy() if covariates
                                              else None)
        real, synthetic = estimates["real"], estimates["synthetic"]
        value = abs(float(np.clip(synthetic, 0, 1)) - float(np.clip(real, 0, 1)))
        note = (f"real {real:.3f}, synthetic {synthetic:.3f} (n={context.real.n_samples} and "
                f"{context.synthetic.n_samples}")
        truth = _truth_traits(context).get(trait)
        if truth and "realized_h2" in truth:
            note += f"; simulated h2 {truth['realized_h2']:.3f} over all causal variants"
        return value, note + ")", None


METRICS = (GwasBetaR(), GwasHitOverlap(), CausalRecovery(), TstrR(), TstrMse(), H2Difference())


@hookimpl
def genobench_register_metrics(register):
    """Register the trait-association metrics."""
    for metric in METRICS:
        register(metric)
