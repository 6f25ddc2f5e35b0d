"""genobench's numerical kernels: exact, blocked, vectorised torch code every metric reuses.

Every function takes dosages (0/1/2, int8, individuals x SNPs, numpy or torch), runs on
``device`` ("cpu", or "cuda" when torch finds one) and bounds memory by working in blocks
whose sizes are parameters; Python loops run over blocks only, never over SNP pairs or
individuals. Metrics and plugins import these public names (``from genobench import kernels``
or ``from genobench.kernels.distances import knn_distances``); the modules are:

- :mod:`.products`: exact int8 products (``torch._int_mm``) and fixed-point float products;
- :mod:`.summaries`: genotype counts, allele frequencies, heterozygosity, moments, scaling;
- :mod:`.ld`: Rogers-Huff LD matrices, LD decay, window comparisons, the correlation score;
- :mod:`.distances`: exact distances, nearest and k nearest neighbours, ball coverage, KING;
- :mod:`.gram`: integer and scaled Gram matrices, the GRM and PCA (dense or Krylov);
- :mod:`.correlation`: the correlation score, exact or sketched with a stated error;
- :mod:`.gwas`: per-SNP marginal regressions (GWAS), exact, from arrays or a PLINK ``.bed``;
- :mod:`.prediction`: VanRaden's GRM, Haseman-Elston heritability, GBLUP and an MLP;
- :mod:`.threads`: :func:`one_thread` for small dense algebra.
"""

from .correlation import CorrelationScore, correlation_score, correlation_score_estimate
from .distances import (
    KING_THRESHOLDS,
    CrossNeighbours,
    KinshipSummary,
    cross_nearest_distances,
    cross_neighbours,
    king_kinship,
    knn_distances,
    nearest_neighbour_distances,
    pairwise_distances,
)
from .gram import GRAM_LIMIT, PCA, grm, integer_gram, pca, scaled_gram
from .gwas import GwasResult, gwas, gwas_plink
from .ld import (
    LDComparison,
    LDDecay,
    ld_decay,
    ld_matrix,
    ld_window_comparison,
)
from .prediction import gblup_predict, haseman_elston, mlp_predict, vanraden_grm
from .products import (
    FLOAT32_EXACT_K,
    INT32_EXACT_K,
    as_int8,
    count_values,
    exact_gram,
    exact_product_t,
    fixed_point_product,
    int8_product,
    round_up,
    row_dot,
)
from .summaries import (
    allele_frequencies,
    genotype_counts,
    genotype_frequencies,
    heterozygosity,
    scaling,
    snp_moments,
)
from .threads import one_thread

__all__ = [
    "CorrelationScore", "CrossNeighbours", "FLOAT32_EXACT_K", "GRAM_LIMIT", "GwasResult",
    "INT32_EXACT_K", "KING_THRESHOLDS", "KinshipSummary", "LDComparison", "LDDecay", "PCA",
    "allele_frequencies", "as_int8", "correlation_score", "correlation_score_estimate",
    "count_values", "cross_nearest_distances", "cross_neighbours", "exact_gram",
    "exact_product_t", "fixed_point_product", "gblup_predict", "genotype_counts",
    "genotype_frequencies", "grm", "gwas", "gwas_plink", "haseman_elston", "heterozygosity",
    "int8_product", "integer_gram", "king_kinship", "knn_distances", "ld_decay", "ld_matrix",
    "ld_window_comparison", "mlp_predict", "nearest_neighbour_distances", "one_thread",
    "pairwise_distances", "pca", "round_up", "row_dot", "scaled_gram", "scaling", "snp_moments",
    "vanraden_grm",
]
