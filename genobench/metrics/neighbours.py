"""Nearest-neighbour searches shared by the privacy and structure metrics, once per evaluation.

AATS, privacy loss, k-NN precision / recall / F1, distance to closest record, exact copies and
kinship all reduce the same products: every real, synthetic or training individual against
every other of its own set (``within``) or of another set (``cross``). Each search runs once
per evaluation and is kept in :meth:`EvaluationContext.cached`; a within-set search keeps the
``k`` nearest distances (column 0 is the nearest neighbour for AATS, column ``k - 1`` the
k-NN radius), a real-vs-synthetic search also decides ball coverage for precision and recall,
and a search against the training set also reduces KING kinship.

Sets compared with AATS or k-NN are first brought to the same size: the larger is subsampled
without replacement, from ``default_rng([subsample_seed, set code])``. Whole real and synthetic
sets under the Euclidean distance take their products from one exact Gram matrix of the two
sets pooled (:func:`pooled_gram`), which the PCAs of :mod:`.structure` use too.
"""

from __future__ import annotations

import numpy as np

from . import kernels  # the re-exports of genobench.kernels (tests patch them here)
from .base import EvaluationContext
from .options import NeighbourOptions

_SET_CODES = {"real": 0, "synthetic": 1, "train": 2}  # one subsample stream per set

#: The k-NN size rule (see :func:`knn_k`): k = max(KNN_MIN_K, round(KNN_SHARE * n)).
KNN_SHARE = 0.005
KNN_MIN_K = 3
#: A suite's own ``knn_k`` above this share of the individuals saturates the balls.
KNN_MAX_SHARE = 0.1
#: Largest pool of real and synthetic individuals whose exact Gram matrix is kept (int32,
#: 4 bytes per pair: 0.4 GB at this size) and shared by the Euclidean searches and the PCAs;
#: past it every search goes tile by tile and keeps only its k best per row (no n x n matrix).
POOLED_GRAM_LIMIT = 10_000


def pooled_dosages(context: EvaluationContext) -> np.ndarray:
    """Real then synthetic individuals in one array (cached)."""
    return context.cached("dosages/pooled", lambda: np.concatenate(
        [context.real.dosages, context.synthetic.dosages]))


def pooled_gram(context: EvaluationContext):
    """x x^T of the real and synthetic individuals pooled, real first (cached), or None past
    :data:`POOLED_GRAM_LIMIT` individuals.

    Its blocks are the products every real-synthetic search needs (within each set and
    across) and the Gram matrices of the real, synthetic and pooled PCAs, so one product of
    (n_real + n_syn)^2 / 2 pairs serves them all.
    """
    if context.real.n_samples + context.synthetic.n_samples > POOLED_GRAM_LIMIT:
        return None
    return context.cached("gram/pooled", lambda: kernels.integer_gram(
        pooled_dosages(context), device=context.device))


def _gram_block(context: EvaluationContext, rows: str, columns: str, sizes):
    """The block of :func:`pooled_gram` for whole sets ``rows`` x ``columns`` (Euclidean
    searches only), or None."""
    whole = all(getattr(context, which).n_samples == size
                for which, size in zip((rows, columns), sizes, strict=True))
    if (distance_metric(context) != "euclidean" or not whole
            or {rows, columns} - {"real", "synthetic"}):
        return None
    pooled = pooled_gram(context)
    if pooled is None:
        return None
    n_real = context.real.n_samples
    span = {"real": slice(0, n_real), "synthetic": slice(n_real, None)}
    return pooled[span[rows], span[columns]]


def distance_metric(context: EvaluationContext) -> str:
    """The ``distance`` option: "euclidean" (default) or "manhattan"."""
    metric = context.settings(NeighbourOptions).distance
    if metric not in ("euclidean", "manhattan"):
        raise ValueError(f"option distance must be 'euclidean' or 'manhattan', not {metric!r}")
    return metric


def default_knn_k(size: int) -> int:
    """k of the k-NN balls by the size rule: ``max(3, round(0.005 * size))``.

    Xie et al. 2026 chose k = 60 from real-vs-real analysis for test sets of about 12,000 to
    19,000 individuals (k/n about 0.3-0.5 %); Kynkaanniemi et al. 2019 use k = 3. Keeping k/n at
    0.5 % (at least 3) keeps real-vs-real precision and recall below saturation at every suite
    size: with k near n every ball holds nearly every individual and any generator scores 1.
    """
    return max(KNN_MIN_K, int(round(KNN_SHARE * size)))


def knn_k(context: EvaluationContext, size: int) -> int:
    """k of the k-NN balls for sets of ``size``: the suite's ``knn_k`` option, or the size rule
    (:func:`default_knn_k`); never more than size - 1 neighbours are searched."""
    wanted = context.settings(NeighbourOptions).knn_k
    k = default_knn_k(size) if wanted is None else int(wanted)
    return max(1, min(k, size - 1))


def knn_saturation(context: EvaluationContext, size: int) -> str | None:
    """Why the suite's ``knn_k`` saturates k-NN balls at ``size`` individuals, or None.

    A k above :data:`KNN_MAX_SHARE` of the individuals makes every ball cover most of the other
    set, so precision and recall reach 1 for nearly any generator; such a k is refused, never
    capped into saturation.
    """
    wanted = context.settings(NeighbourOptions).knn_k
    if wanted is None or int(wanted) <= KNN_MAX_SHARE * size:
        return None
    return (f"knn_k={int(wanted)} saturates k-NN balls with {size} individuals per set "
            f"(at most {int(KNN_MAX_SHARE * size)}; leave knn_k unset for the size rule)")


def equal_size(context: EvaluationContext, which: str = "real") -> int:
    """The common size of ``context.<which>`` and the synthetic set: the smaller one's."""
    return min(getattr(context, which).n_samples, context.synthetic.n_samples)


def subsample(context: EvaluationContext, which: str, size: int) -> np.ndarray:
    """Dosages of ``size`` individuals of ``context.<which>``, drawn without replacement.

    All of them (in order) when the set has exactly ``size``; otherwise a sorted sample from
    ``default_rng([subsample_seed, set code])``, the same for every metric of the context.
    """
    dosages = getattr(context, which).dosages
    n = dosages.shape[0]
    if size == n:
        return dosages
    seed = context.settings(NeighbourOptions).subsample_seed
    rng = np.random.default_rng([seed, _SET_CODES[which]])
    return dosages[np.sort(rng.choice(n, size=size, replace=False))]


def sampling_note(context: EvaluationContext, which: str, size: int) -> str:
    """"" when both sets are whole, else ", both sets subsampled to N"."""
    sizes = {getattr(context, which).n_samples, context.synthetic.n_samples}
    return "" if sizes == {size} else f", both sets subsampled to {size}"


def within(context: EvaluationContext, which: str, size: int) -> np.ndarray:
    """Distances to the k nearest other individuals of the same set, float64 (size, k).

    ``k`` is :func:`knn_k` of ``size``; ``size`` individuals are sampled (:func:`subsample`).
    """
    metric, k = distance_metric(context), knn_k(context, size)
    return context.cached(
        f"neighbours/{metric}/within/{which}:{size}/k{k}",
        lambda: kernels.knn_distances(subsample(context, which, size), k=k, metric=metric,
                                      device=context.device,
                                      gram=_gram_block(context, which, which, (size, size))))


def cross(context: EvaluationContext, which: str, size: int, other: str = "synthetic",
          other_size: int | None = None) -> kernels.CrossNeighbours:
    """Nearest neighbours between ``size`` individuals of ``which`` and of ``other``.

    Real against synthetic also decides k-NN ball coverage both ways (radii from
    :func:`within`); a search from the training set also reduces KING kinship.

    :param other_size: individuals of ``other``; default ``size``.
    :returns: :class:`~genobench.kernels.CrossNeighbours` with ``a`` = ``which``.
    """
    metric = distance_metric(context)
    other_size = size if other_size is None else other_size
    coverage = (which, other) == ("real", "synthetic") and size == other_size

    def compute():
        radii = {}
        if coverage:
            radii = dict(radius_a=within(context, which, size)[:, -1],
                         radius_b=within(context, other, other_size)[:, -1])
        return kernels.cross_neighbours(
            subsample(context, which, size), subsample(context, other, other_size),
            metric=metric, kinship=which == "train", device=context.device,
            gram=_gram_block(context, which, other, (size, other_size)), **radii)

    key = f"neighbours/{metric}/cross/{which}:{size}/{other}:{other_size}"
    if coverage:
        key += f"/k{knn_k(context, size)}"
    return context.cached(key, compute)


def to_train(context: EvaluationContext, which: str) -> kernels.CrossNeighbours:
    """Every individual of ``which`` ("synthetic" or "real") against the whole training set.

    The same search as :func:`cross` from the training set when the sizes agree, so privacy
    loss, DCR, exact copies and kinship share it.
    """
    return cross(context, "train", context.train.n_samples, which,
                 getattr(context, which).n_samples)
