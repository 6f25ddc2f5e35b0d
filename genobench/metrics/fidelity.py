"""Fidelity metrics: how closely synthetic genotypes reproduce the real ones' statistics.

Two scorecard families. ``marginal``: per-SNP frequencies (allele and genotype) and
differentiation between the two sets (Fst) as evaluated by Xie et al. (GigaScience 2026), an
Fst without sample-size bias (Hudson), and beyond the paper the heterozygosity of individuals
and the Hardy-Weinberg deviation profile of SNPs. ``ld``: linkage disequilibrium (LD decay with
physical distance, r^2 pair by pair within a window, and the correlation score over all SNP
pairs). Marginal metrics are scored against ``permuted_frequencies`` (independent_sites keeps
every frequency by construction); LD metrics against ``independent_sites``.

Sample size: Nei's Fst and mean r^2 carry a 1/n bias, so sets are compared at equal sizes:
``genobench run`` generates as many individuals as the test split holds, and ``evaluate``
subsamples the larger set (:func:`genobench.runner.evaluate_synthetic`).
The per-SNP summaries and the real LD-decay curve are computed once per evaluation through
:meth:`EvaluationContext.cached`; the numerical work is in :mod:`.kernels` and :mod:`.gram`.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .base import EvaluationContext, Metric, MetricResult
from .catalogue import metric_info
from .options import LDOptions

#: At most this many SNPs go into the scatter-plot curves.
SCATTER_POINTS = 2000
_GENOTYPES = ("hom_ref", "het", "hom_alt")


def genotype_frequencies(context: EvaluationContext, which: str) -> np.ndarray:
    """Hom-ref / het / hom-alt rates per SNP of ``context.real`` or ``.synthetic`` (cached).

    :param which: "real" or "synthetic".
    :returns: float64 (n_snps, 3).
    """
    data = getattr(context, which)
    return context.cached(f"genotype_frequencies/{which}", lambda: kernels.genotype_frequencies(
        data.dosages, device=context.device))


def allele_frequencies(context: EvaluationContext, which: str) -> np.ndarray:
    """Alternate allele frequency per SNP of ``context.real`` or ``.synthetic``: (n_snps,)."""
    frequencies = genotype_frequencies(context, which)
    return frequencies[:, 1] / 2.0 + frequencies[:, 2]


def ld_decay_options(context: EvaluationContext) -> tuple[float, float, int]:
    """(min distance bp, max distance bp, number of bins) from the suite's options."""
    options = context.settings(LDOptions)
    return float(options.ld_min_distance), float(options.ld_max_distance), int(options.ld_bins)


def ld_decay_curve(context: EvaluationContext, which: str) -> kernels.LDDecay:
    """The LD-decay curve of ``context.real`` or ``.synthetic`` under the suite's options.

    Cached per context under ``ld_decay/<which>/<min>/<max>/<bins>``, so other metrics (and
    reports) reuse the real curve rather than recompute it.
    """
    low, high, bins = ld_decay_options(context)
    data = getattr(context, which)
    return context.cached(f"ld_decay/{which}/{low:g}/{high:g}/{bins}", lambda: kernels.ld_decay(
        data.dosages, data.positions, data.chromosomes, min_distance=low, max_distance=high,
        n_bins=bins, device=context.device))


def pearson_r(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two vectors; NaN when either is constant."""
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    y = np.asarray(y, dtype=np.float64) - np.mean(y)
    denominator = np.sqrt((x @ x) * (y @ y))
    return float(x @ y / denominator) if denominator > 0 else float("nan")


def scatter_subsample(n: int, limit: int = SCATTER_POINTS) -> np.ndarray:
    """Deterministic, evenly spaced indices of at most ``limit`` of ``n`` points."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def _plain(values) -> list:
    """Floats for JSON, with None where a value is missing (NaN)."""
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


class AlleleFrequencyR(Metric):
    info = metric_info("allele_frequency_r")

    def compute(self, context):
        real = allele_frequencies(context, "real")
        synthetic = allele_frequencies(context, "synthetic")
        r = pearson_r(real, synthetic)
        index = scatter_subsample(real.shape[0])
        curves = {"real": _plain(real[index]), "synthetic": _plain(synthetic[index])}
        if np.isnan(r):
            return MetricResult(None, "undefined: allele frequencies constant in one set", curves)
        return MetricResult(r, curves=curves)


class GenotypeFrequencyR(Metric):
    info = metric_info("genotype_frequency_r")

    def compute(self, context):
        real = genotype_frequencies(context, "real")
        synthetic = genotype_frequencies(context, "synthetic")
        rs = {g: pearson_r(real[:, k], synthetic[:, k]) for k, g in enumerate(_GENOTYPES)}
        note = ", ".join(f"{g} r={r:.4f}" for g, r in rs.items())
        curves = {f"r_{g}": [None if np.isnan(r) else r] for g, r in rs.items()}
        # column-major ravel: all hom-ref rates, then all het, then all hom-alt, as the paper
        value = pearson_r(real.ravel(order="F"), synthetic.ravel(order="F"))
        if np.isnan(value):
            return MetricResult(None, f"undefined: {note}", curves)
        return MetricResult(value, note, curves)


class Fst(Metric):
    info = metric_info("fst")

    def compute(self, context):
        p_real = allele_frequencies(context, "real")
        p_synthetic = allele_frequencies(context, "synthetic")
        h_s = (2 * p_real * (1 - p_real) + 2 * p_synthetic * (1 - p_synthetic)) / 2
        p_total = (p_real + p_synthetic) / 2
        h_t = 2 * p_total * (1 - p_total)
        total = h_t.sum()
        if total <= 0:
            return MetricResult(None, "undefined: every SNP monomorphic in both sets")
        # H_T - H_S = (p1 - p2)^2 / 2 >= 0 here; the clip only removes rounding, as the paper
        # sets negative per-SNP values to 0. The H_T-weighted mean of (H_T - H_S) / H_T is:
        return float(np.maximum(h_t - h_s, 0.0).sum() / total)


def hudson_fst(p1: np.ndarray, p2: np.ndarray, n1: int, n2: int) -> float:
    """Hudson's Fst of two samples, ratio of averages over SNPs (Bhatia et al. 2013, eq. 10).

    Per SNP ``N = (p1 - p2)^2 - p1 (1 - p1) / (n1 - 1) - p2 (1 - p2) / (n2 - 1)`` and
    ``D = p1 (1 - p2) + p2 (1 - p1)``, with ``n`` the haplotype counts (2 x individuals);
    ``sum N / sum D``. The subtracted terms remove the sampling variance of each frequency, so
    two samples of one population score about 0 whatever their sizes (negative values are
    sampling noise and are kept, unbiased).
    """
    n1, n2 = 2 * n1, 2 * n2
    numerator = (p1 - p2) ** 2 - p1 * (1 - p1) / (n1 - 1) - p2 * (1 - p2) / (n2 - 1)
    denominator = p1 * (1 - p2) + p2 * (1 - p1)
    total = denominator.sum()
    return float(numerator.sum() / total) if total > 0 else float("nan")


class HudsonFst(Metric):
    info = metric_info("fst_hudson")

    def compute(self, context):
        value = hudson_fst(allele_frequencies(context, "real"),
                           allele_frequencies(context, "synthetic"),
                           context.real.n_samples, context.synthetic.n_samples)
        if np.isnan(value):
            return MetricResult(None, "undefined: every SNP monomorphic in both sets")
        return value


class LDDecayDistance(Metric):
    Options = LDOptions
    info = metric_info("ld_decay_distance")

    def compute(self, context):
        real = ld_decay_curve(context, "real")
        synthetic = ld_decay_curve(context, "synthetic")
        curves = {"distance_bp": _plain(real.centres), "real": _plain(real.mean),
                  "synthetic": _plain(synthetic.mean)}
        both = (real.counts > 0) & (synthetic.counts > 0)
        if not both.any():
            return MetricResult(None, "no SNP pairs within the LD distance range", curves)
        value = np.abs(real.mean[both] - synthetic.mean[both]).mean()
        note = None if both.all() else f"{int(both.sum())} of {both.size} bins populated"
        return MetricResult(float(value), note, curves)


#: SNPs a side of the LD heatmaps kept as curves (32 x 32 = 1,024 values per set).
HEATMAP_SNPS = 32


class LDDifference(Metric):
    Options = LDOptions
    info = metric_info("ld_r2_difference")

    def compute(self, context):
        real, synthetic = context.real, context.synthetic
        _, high, _ = ld_decay_options(context)
        comparison = kernels.ld_window_comparison(
            real.dosages, synthetic.dosages, real.positions, real.chromosomes,
            max_distance=high, device=context.device)
        # heatmaps of the first SNPs of the first chromosome, for plots
        first = np.flatnonzero(real.chromosomes == real.chromosomes[0])[:HEATMAP_SNPS]
        curves = {"heatmap_snps": [len(first)], "r2_correlation": _plain(
            [comparison.r2_correlation])}
        for which, data in (("real", real), ("synthetic", synthetic)):
            r2 = np.nan_to_num(kernels.ld_matrix(data.dosages[:, first], device=context.device))
            curves[f"heatmap_{which}"] = _plain(r2.ravel())
        if comparison.pairs == 0:
            return MetricResult(None, "no SNP pairs within ld_max_distance", curves)
        note = (f"{comparison.pairs} SNP pairs within {high:g} bp; r^2 correlation "
                f"{comparison.r2_correlation:.4f}")
        return MetricResult(comparison.mean_abs_difference, note, curves)


class CorrelationScore(Metric):
    info = metric_info("correlation_score")

    def compute(self, context):
        score = kernels.correlation_score_estimate(context.real.dosages,
                                                   context.synthetic.dosages,
                                                   device=context.device)
        m = context.real.n_snps
        return MetricResult(score.value, score.describe(m * (m - 1) // 2))


class Heterozygosity(Metric):
    info = metric_info("heterozygosity")

    def compute(self, context):
        from scipy.stats import wasserstein_distance

        real = kernels.heterozygosity(context.real.dosages, device=context.device)
        synthetic = kernels.heterozygosity(context.synthetic.dosages, device=context.device)
        high = max(real.max(initial=0), synthetic.max(initial=0)) or 1.0
        edges = np.linspace(0, high, 41)
        curves = {"bin_edges": _plain(edges),
                  "real": _plain(np.histogram(real, edges)[0] / max(real.size, 1)),
                  "synthetic": _plain(np.histogram(synthetic, edges)[0] / max(synthetic.size, 1))}
        note = f"mean heterozygosity real {real.mean():.4f}, synthetic {synthetic.mean():.4f}"
        return MetricResult(float(wasserstein_distance(real, synthetic)), note, curves)


def het_excess(context: EvaluationContext, which: str) -> np.ndarray:
    """F = 1 - H_obs / H_exp per SNP (H_exp = 2p(1-p)); NaN for a monomorphic SNP."""
    frequencies = genotype_frequencies(context, which)
    p = frequencies[:, 1] / 2.0 + frequencies[:, 2]
    expected = 2 * p * (1 - p)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, 1 - frequencies[:, 1] / expected, np.nan)


class HardyWeinberg(Metric):
    info = metric_info("hwe_deviation")

    def compute(self, context):
        real, synthetic = het_excess(context, "real"), het_excess(context, "synthetic")
        both = np.isfinite(real) & np.isfinite(synthetic)
        index = scatter_subsample(real.shape[0])
        curves = {"real": _plain(real[index]), "synthetic": _plain(synthetic[index])}
        if not both.any():
            return MetricResult(None, "no SNP polymorphic in both sets", curves)
        note = (f"mean F real {real[both].mean():.4f}, synthetic {synthetic[both].mean():.4f} "
                f"over {int(both.sum())} SNPs")
        return MetricResult(float(np.abs(real[both] - synthetic[both]).mean()), note, curves)


METRICS = (AlleleFrequencyR(), GenotypeFrequencyR(), Fst(), HudsonFst(), LDDecayDistance(),
           LDDifference(), CorrelationScore(), Heterozygosity(), HardyWeinberg())
