"""Fidelity metrics: how closely synthetic genotypes reproduce the real ones' statistics.

Per-SNP frequencies (allele and genotype), differentiation between the two sets (Fst), linkage
disequilibrium (LD decay with physical distance, r^2 pair by pair within a window, and the
correlation score over all SNP pairs) as evaluated by Xie et al. (GigaScience 2026); beyond
the paper, heterozygosity of individuals and the Hardy-Weinberg deviation profile of SNPs.
The per-SNP summaries and the real LD-decay curve are computed once per evaluation through
:meth:`EvaluationContext.cached`; the numerical work is in :mod:`.kernels` and :mod:`.gram`.
"""

from __future__ import annotations

import numpy as np

from ..hookspecs import hookimpl
from . import gram, kernels
from .base import EvaluationContext, Metric, MetricResult

XIE_2026 = ("Xie et al. 2026, Learning inherent genetic patterns and trait associations with "
            "deep generative models for discrete genotype simulation, GigaScience, "
            "doi:10.1093/gigascience/giag044")
ROGERS_HUFF_2009 = ("Rogers & Huff 2009, Linkage disequilibrium between loci with unknown "
                    "phase, Genetics 182:839-844")
NEI_1973 = "Nei 1973, Analysis of gene diversity in subdivided populations, PNAS 70:3321-3323"
VINAS_2022 = ("Vinas et al. 2022, Adversarial generation of gene expression data, "
              "Bioinformatics 38:730-737")
WRIGHT_1951 = "Wright 1951, The genetical structure of populations, Annals of Eugenics 15:323-354"

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
    return (float(context.option("ld_min_distance", 1e3)),
            float(context.option("ld_max_distance", 1e6)),
            int(context.option("ld_bins", 16)))


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
    name = "allele_frequency_r"
    label = "Allele frequency r"
    family = "fidelity"
    direction = "higher"
    ideal = 1.0
    range = (-1.0, 1.0)
    description = ("Pearson correlation of per-SNP alternate allele frequencies, real vs "
                   "synthetic.")
    citation = XIE_2026

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
    name = "genotype_frequency_r"
    label = "Genotype frequency r"
    family = "fidelity"
    direction = "higher"
    ideal = 1.0
    range = (-1.0, 1.0)
    description = ("Mean of the Pearson correlations of per-SNP hom-ref, het and hom-alt "
                   "rates, real vs synthetic.")
    citation = XIE_2026

    def compute(self, context):
        real = genotype_frequencies(context, "real")
        synthetic = genotype_frequencies(context, "synthetic")
        rs = {g: pearson_r(real[:, k], synthetic[:, k]) for k, g in enumerate(_GENOTYPES)}
        note = ", ".join(f"{g} r={r:.4f}" for g, r in rs.items())
        curves = {f"r_{g}": [None if np.isnan(r) else r] for g, r in rs.items()}
        value = float(np.mean(list(rs.values())))
        if np.isnan(value):
            return MetricResult(None, f"undefined: {note}", curves)
        return MetricResult(value, note, curves)


class Fst(Metric):
    name = "fst"
    label = "Fst real vs synthetic"
    family = "fidelity"
    direction = "lower"
    ideal = 0.0
    range = (0.0, 1.0)
    description = ("Differentiation between real and synthetic: per SNP (H_T - H_S) / H_T "
                   "with H = 2p(1-p), negatives set to 0, averaged with weights H_T.")
    citation = f"{XIE_2026}; {NEI_1973}"

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


class LDDecayDistance(Metric):
    name = "ld_decay_distance"
    label = "LD decay distance"
    family = "fidelity"
    direction = "lower"
    ideal = 0.0
    range = (0.0, 1.0)
    description = ("Mean absolute difference between real and synthetic LD-decay curves: "
                   "mean Rogers-Huff r^2 in log-spaced distance bins (options ld_min_distance, "
                   "ld_max_distance in bp, ld_bins), over bins with pairs in both sets.")
    citation = f"{XIE_2026}; {ROGERS_HUFF_2009}"

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
    name = "ld_r2_difference"
    label = "LD r2 difference"
    family = "fidelity"
    direction = "lower"
    ideal = 0.0
    range = (0.0, 1.0)
    description = ("Mean absolute difference of Rogers-Huff r^2, real vs synthetic, over every "
                   "SNP pair of a chromosome at most ld_max_distance bp apart.")
    citation = f"{XIE_2026}; {ROGERS_HUFF_2009}"

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
    name = "correlation_score"
    label = "Correlation score"
    family = "fidelity"
    direction = "higher"
    ideal = 1.0
    range = (-1.0, 1.0)
    description = ("Pearson correlation between the SNP-SNP correlation distances (1 - r) of "
                   "the real and of the synthetic data, over all SNP pairs.")
    citation = f"{VINAS_2022}; {XIE_2026}"

    def compute(self, context):
        score = gram.correlation_score(context.real.dosages, context.synthetic.dosages,
                                       device=context.device)
        m = context.real.n_snps
        return MetricResult(score, f"{m * (m - 1) // 2} SNP pairs")


class Heterozygosity(Metric):
    name = "heterozygosity"
    label = "Heterozygosity W1"
    family = "fidelity"
    direction = "lower"
    ideal = 0.0
    range = (0.0, 1.0)
    description = ("1-Wasserstein distance between the distributions of observed "
                   "heterozygosity (share of heterozygous SNPs) of real and synthetic "
                   "individuals.")
    citation = WRIGHT_1951

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
    name = "hwe_deviation"
    label = "HWE deviation (F) difference"
    family = "fidelity"
    direction = "lower"
    ideal = 0.0
    range = (0.0, 2.0)
    description = ("Mean absolute difference, real vs synthetic, of the per-SNP deviation from "
                   "Hardy-Weinberg proportions F = 1 - H_obs / H_exp (H_exp = 2p(1-p)), over "
                   "SNPs polymorphic in both sets.")
    citation = WRIGHT_1951

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


METRICS = (AlleleFrequencyR(), GenotypeFrequencyR(), Fst(), LDDecayDistance(), LDDifference(),
           CorrelationScore(), Heterozygosity(), HardyWeinberg())


@hookimpl
def genobench_register_metrics(register):
    """Register the core fidelity metrics."""
    for metric in METRICS:
        register(metric)
