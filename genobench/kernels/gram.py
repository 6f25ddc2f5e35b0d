"""Grams of centred or standardised dosages: the GRM, PCA (dense or Krylov) and their pieces.

These statistics weight every SNP by its own scale (1/sd), so their products are float32
matrix products over chunks of SNPs, each chunk standardised once and summed into an
individuals x individuals matrix; centred PCA without scaling needs no floats at all (its Gram
matrix is the exact integer product of the dosages, centred afterwards in float64). Past
:data:`GRAM_LIMIT` individuals no n x n matrix is formed: the Krylov iteration applies it
through int8 products of the dosages, so memory grows with n x SNPs, not n^2.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from .products import as_int8, exact_product_t, fixed_point_product, row_dot
from .summaries import scaling, snp_moments
from .threads import one_thread

#: SNPs per standardised chunk: bounds the float32 copy at n x snp_chunk.
SNP_CHUNK = 4096
#: Largest Gram matrix decomposed densely (LAPACK); larger ones go to Krylov iteration.
DENSE_EIGEN_LIMIT = 1000
#: Most individuals whose scaled Gram matrix (n^2 m / 2 float32 products) a scaled PCA forms;
#: past it the matrix is applied through int8 products instead (about 2,200 n m).
SCALED_GRAM_LIMIT = 2500
#: Most individuals whose exact integer Gram matrix an unscaled PCA forms (int32 plus a
#: float32 centred copy: 8 n^2 bytes, 0.5 GB here); past it the centred Gram matrix is applied
#: through int8 products like a scaled one, so memory grows with n m, not n^2.
GRAM_LIMIT = 8000

def _standardised(x: torch.Tensor, columns: slice, centre, scale) -> torch.Tensor:
    """float32 (n, chunk): (x[:, columns] - centre) * scale."""
    block = x[:, columns].to(torch.float32)
    return (block - centre[columns].to(torch.float32)) * scale[columns].to(torch.float32)


def _bands(n: int, block_size: int, device) -> list[torch.Tensor]:
    """Zeroed float32 row bands of an upper-triangular n x n matrix: band i holds rows
    a0:a1 and columns a0:n, contiguous, so products are added in place without copies."""
    return [torch.zeros((min(a0 + block_size, n) - a0, n - a0), dtype=torch.float32,
                        device=device) for a0 in range(0, n, block_size)]


def _accumulate(bands: list[torch.Tensor], z: torch.Tensor, block_size: int) -> None:
    """Add z z^T to the bands: each band's rows against every row from its first on."""
    for band, a0 in zip(bands, range(0, z.shape[0], block_size), strict=True):
        band.addmm_(z[a0:a0 + band.shape[0]], z[a0:].T)


def _assemble(bands: list[torch.Tensor], block_size: int) -> torch.Tensor:
    """The full symmetric matrix from its bands (each diagonal block from its upper
    triangle, so the result is exactly symmetric)."""
    n = bands[0].shape[1] if bands else 0
    gram = torch.empty((n, n), dtype=bands[0].dtype if bands else torch.float32)
    for band, a0 in zip(bands, range(0, n, block_size), strict=True):
        gram[a0:a0 + band.shape[0], a0:] = band
    return _mirror(gram, block_size)


def _mirror(gram: torch.Tensor, block_size: int) -> torch.Tensor:
    """Make ``gram`` exactly symmetric from its blocks on and above the diagonal: the lower
    blocks are copied from the upper ones, and each diagonal block from its upper triangle."""
    n = gram.shape[0]
    for a0 in range(0, n, block_size):
        a1 = min(a0 + block_size, n)
        block = gram[a0:a1, a0:a1]
        block.copy_(block.triu() + block.triu(1).T)
        gram[a1:, a0:a1] = gram[a0:a1, a1:].T
    return gram


def scaled_gram(dosages, centre, scale, *, snp_chunk: int = SNP_CHUNK, block_size: int = 2048,
                device: str = "cpu") -> torch.Tensor:
    """Z Z^T for Z = (dosages - centre) * scale, float32 (n, n), symmetric.

    SNPs go in chunks of ``snp_chunk`` (each standardised once); only the blocks on and above
    the diagonal are multiplied, then mirrored.
    """
    x = as_int8(dosages, device)
    n, m = x.shape
    centre = torch.as_tensor(centre, device=x.device)
    scale = torch.as_tensor(scale, device=x.device)
    bands = _bands(n, block_size, x.device)
    for start in range(0, m, snp_chunk):
        _accumulate(bands, _standardised(x, slice(start, start + snp_chunk), centre, scale),
                    block_size)
    return _assemble(bands, block_size)


def grm(dosages, *, snp_chunk: int = SNP_CHUNK, block_size: int = 2048,
        device: str = "cpu") -> np.ndarray:
    """The genomic relationship matrix of ``plink2 --make-rel`` (variance-standardised).

    A_jk = (1/M) sum_i (x_ji - 2 p_i)(x_ki - 2 p_i) / (2 p_i (1 - p_i)) over the M SNPs
    polymorphic in ``dosages`` (Yang et al. 2011, AJHG 88:76; PLINK 2's --make-rel).

    :param dosages: (n, m) 0/1/2.
    :returns: float64 array (n, n).
    """
    x = as_int8(dosages, device)
    centre, _ = scaling(x, "none")
    p = centre / 2
    spread = 2 * p * (1 - p)
    polymorphic = spread > 0
    scale = torch.where(polymorphic, 1 / torch.sqrt(torch.where(polymorphic, spread, 1.0)), 0.0)
    gram = scaled_gram(x, centre, scale, snp_chunk=snp_chunk, block_size=block_size)
    return (gram.to(torch.float64) / max(int(polymorphic.sum()), 1)).cpu().numpy()


def integer_gram(dosages, *, block_size: int = 2048, device: str = "cpu",
                 method: str = "auto") -> torch.Tensor:
    """x x^T exactly, (n, n), each pair of blocks once, then mirrored.

    int32 (entries are at most 4 m, so exact below 2**29 SNPs), half the memory of int64.
    """
    x = as_int8(dosages, device)
    n = x.shape[0]
    dtype = torch.int32 if 4 * x.shape[1] < 2**31 else torch.int64
    gram = torch.zeros((n, n), dtype=dtype, device=x.device)
    for b0 in range(0, n, block_size):
        b1 = min(b0 + block_size, n)
        x_t = x[b0:b1].T.contiguous()
        for a0 in range(0, b1, block_size):
            gram[a0:min(a0 + block_size, n), b0:b1] = exact_product_t(x[a0:a0 + block_size], x_t,
                                                                 method, dtype)
    return _mirror(gram, block_size)


class _Float32:
    """A symmetric matrix kept in float32, applied to float64 blocks."""

    def __init__(self, matrix: torch.Tensor):
        self.matrix = matrix.to(torch.float32)
        self.shape, self.device = matrix.shape, matrix.device

    def __matmul__(self, block: torch.Tensor) -> torch.Tensor:
        return (self.matrix @ block.to(torch.float32)).to(torch.float64)


def _centre(gram: torch.Tensor, r: torch.Tensor, c: float, large: bool, band: int = 1024):
    """(x x^T - r 1^T - 1 r^T + c, its trace) in float64: the matrix as a tensor, or for a
    ``large`` one (which only the Krylov iteration reads) a :class:`_Float32` filled band by
    band, so that no float64 copy of the whole matrix is ever made."""
    if not large:
        centred = gram.to(torch.float64)
        centred -= r[:, None]
        centred -= r[None, :]
        centred += c
        return centred, float(torch.diagonal(centred).sum())
    n = gram.shape[0]
    out = torch.empty((n, n), dtype=torch.float32, device=gram.device)
    trace = 0.0
    for a0 in range(0, n, band):
        rows = slice(a0, min(a0 + band, n))
        block = gram[rows].to(torch.float64) - r[rows, None] - r[None, :] + c
        trace += float(torch.diagonal(block[:, a0:]).sum())
        out[rows] = block
    return _Float32(out), trace


class _ScaledGram:
    """The operator Y -> Z Z^T Y for Z = (x - centre) * scale, without forming Z or Z Z^T.

    Z^T Y = scale * (x^T Y - centre 1^T Y) and Z W = x (scale W) - 1 (centre . scale W): two
    products of the int8 dosages per application (:func:`fixed_point_product`), each costing
    n m (4 columns per vector) int8 multiply-adds, against n^2 m / 2 for forming Z Z^T.
    """

    def __init__(self, x: torch.Tensor, centre: torch.Tensor, scale: torch.Tensor):
        self.x, self.x_t = x, x.T.contiguous()
        self.centre, self.scale = centre.to(torch.float64), scale.to(torch.float64)
        self.shape, self.device = (x.shape[0], x.shape[0]), x.device

    def __matmul__(self, block: torch.Tensor) -> torch.Tensor:
        inner = fixed_point_product(self.x_t, block) - self.centre[:, None] * block.sum(0)
        weighted = inner * (self.scale ** 2)[:, None]
        return fixed_point_product(self.x, weighted) - (self.centre @ weighted)[None, :]


def _top_eigenpairs(matrix, k: int):
    """The k largest eigenvalues (descending) and eigenvectors of a symmetric float64 matrix.

    ``matrix`` is a tensor, or an operator (:class:`_ScaledGram`) applying one. Up to
    :data:`DENSE_EIGEN_LIMIT` rows: LAPACK's dsyevr for the top k pairs only (scipy
    ``subset_by_index``). Larger: :func:`_block_krylov`, which reads the matrix once per block
    of vectors (a dense decomposition costs n^3, and single-vector Lanczos reads the whole
    matrix per vector). Each eigenvector's sign makes its largest-magnitude entry positive.
    """
    n = matrix.shape[0]
    if isinstance(matrix, torch.Tensor) and (n <= DENSE_EIGEN_LIMIT or k >= n - 1):
        from scipy.linalg import eigh

        with one_thread():
            values, vectors = eigh(matrix.cpu().numpy(), subset_by_index=[n - k, n - 1])
        values, vectors = values[::-1], vectors[:, ::-1]
    else:
        if isinstance(matrix, torch.Tensor):
            # the iteration reads the whole matrix once per block: in float32, half the
            # memory traffic and 3.5x faster here; its rounding (6e-8 relative) moves the
            # eigenvalues by about 1e-9 and the eigenvectors less than the tolerance
            matrix = _Float32(matrix)
        values, vectors = _block_krylov(matrix, k)
        values, vectors = values.cpu().numpy(), vectors.cpu().numpy()
    peak = np.abs(vectors).argmax(axis=0)
    vectors = vectors * np.sign(vectors[peak, np.arange(vectors.shape[1])])
    return np.ascontiguousarray(values), np.ascontiguousarray(vectors)


def _block_krylov(matrix, k: int, *, tolerance: float = 1e-6, max_blocks: int = 60):
    """Top k eigenpairs of a symmetric positive semi-definite matrix by block Krylov iteration.

    The basis grows by one block of 2k + 8 vectors per product with ``matrix`` (the product
    orthogonalised twice against the basis: full reorthogonalisation); the Rayleigh-Ritz
    pairs of the basis are accepted once every residual |A v - theta v| is below
    ``tolerance`` times the largest eigenvalue (Golub & Van Loan, Matrix Computations, 4th
    ed., sections 10.3 and 10.5): on genotype Gram matrices, whose eigenvalues past the first
    few PCs form a flat bulk, the default 1e-6 gives eigenvectors within 1e-8 (1 - |cos|) and
    eigenvalues within 1e-9 of a dense solver's (6,000 individuals x 50,000 SNPs, checked
    here). The start block is seeded, so results are reproducible.

    :param matrix: a float64 tensor, or an operator with ``shape``, ``device`` and
        ``matrix @ block``.
    :returns: (values (k,) descending, vectors (n, k)) as float64 tensors.
    """
    n = matrix.shape[0]
    width = min(2 * k + 8, n)
    columns = min(n, max_blocks * width)
    # basis and images are stored transposed, vector by row, so that the leading rows in use
    # are one contiguous matrix (its transpose is a view BLAS reads without copying)
    basis = torch.empty((columns, n), dtype=torch.float64, device=matrix.device)
    images = torch.empty_like(basis)
    small = torch.empty((columns, columns), dtype=torch.float64, device=matrix.device)
    generator = torch.Generator().manual_seed(0)
    block = torch.randn((n, width), generator=generator, dtype=torch.float64)
    block = torch.linalg.qr(block.to(matrix.device)).Q
    used = 0
    while True:
        new = slice(used, used + block.shape[1])
        image = matrix @ block
        basis[new], images[new] = block.T, image.T
        small[:new.stop, new] = basis[:new.stop] @ image  # Q^T A Q, grown by a block
        small[new, :used] = small[:used, new].T
        used = new.stop
        q, aq = basis[:used].T, images[:used].T
        t = small[:used, :used]
        with one_thread():
            theta, s = torch.linalg.eigh((t + t.T) / 2)
        theta, s = theta.flip(0)[:k], s.flip(1)[:, :k]
        vectors = q @ s
        residual = torch.linalg.vector_norm(aq @ s - vectors * theta, dim=0)
        if bool((residual <= tolerance * theta[0].abs()).all()) or used >= columns:
            return theta, vectors
        image = image[:, :columns - used]  # a basis of all n vectors is exact
        for _ in range(2):  # twice is enough (Giraud et al. 2005, Numer Math 101:87)
            image = image - q @ (basis[:used] @ image)
        block = torch.linalg.qr(image).Q


@dataclasses.dataclass
class PCA:
    """A principal component analysis of individuals (rows) over SNPs.

    :ivar scores: float64 (n, k), the fitted individuals' coordinates on the components.
    :ivar explained_variance: float64 (k,), variance along each component (n - 1 degrees of
        freedom, as scikit-learn's ``explained_variance_``).
    :ivar explained_variance_ratio: float64 (k,), share of the total variance.
    :ivar total_variance: sum of the per-SNP variances of the standardised data.
    :ivar centre, scale: float64 (m,), the standardisation, (x - centre) * scale.
    :ivar vectors: float64 (n, k), unit eigenvectors of the centred Gram matrix.
    :ivar row_dot: float64 (n,), x_i . centre of the fitted individuals (unscaled PCA only).
    """

    scores: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray
    total_variance: float
    centre: np.ndarray
    scale: np.ndarray
    vectors: np.ndarray
    row_dot: np.ndarray | None = None
    _dosages: torch.Tensor | None = dataclasses.field(default=None, repr=False)
    _loadings: np.ndarray | None = dataclasses.field(default=None, repr=False)

    @property
    def loadings(self) -> np.ndarray:
        """float64 (m, k), unit-norm SNP loadings Z^T U / sqrt(lambda) (scikit-learn's
        ``components_.T``): one pass over the fitted data, on first use."""
        if self._loadings is None:
            x = self._dosages
            root = np.sqrt(self.explained_variance * max(x.shape[0] - 1, 1))
            u = torch.as_tensor(self.vectors / np.where(root > 0, root, np.inf),
                                dtype=torch.float32, device=x.device)
            centre = torch.as_tensor(self.centre, device=x.device)
            scale = torch.as_tensor(self.scale, device=x.device)
            loadings = torch.zeros((x.shape[1], u.shape[1]), dtype=torch.float64)
            for start in range(0, x.shape[1], SNP_CHUNK):
                columns = slice(start, start + SNP_CHUNK)
                loadings[columns] = (_standardised(x, columns, centre, scale).T @ u).to(
                    torch.float64).cpu()
            self._loadings = loadings.numpy()
        return self._loadings

    def transform(self, dosages, *, block_size: int = 1024, device: str = "cpu") -> np.ndarray:
        """Coordinates of other individuals on these components: float64 (n', k).

        New individuals are standardised with the fitted data's centre and scale.
        """
        x = as_int8(dosages, device)
        centre = torch.as_tensor(self.centre, dtype=torch.float32, device=x.device)
        scale = torch.as_tensor(self.scale, dtype=torch.float32, device=x.device)
        loadings = torch.as_tensor(self.loadings, dtype=torch.float32, device=x.device)
        parts = [((x[start:start + block_size].to(torch.float32) - centre) * scale) @ loadings
                 for start in range(0, x.shape[0], block_size)]
        if not parts:
            return np.zeros((0, self.vectors.shape[1]))
        return torch.cat(parts).to(torch.float64).cpu().numpy()

    def transform_gram(self, cross_gram, dosages, *, device: str = "cpu") -> np.ndarray:
        """:meth:`transform` of an unscaled PCA from Gram products, without the loadings.

        With the fitted individuals' x_j and a new individual's y: its scores are
        (y - mu) . (x_j - mu) summed against U / sqrt(lambda), and
        (y - mu).(x_j - mu) = y.x_j - y.mu - x_j.mu + mu.mu: the exact integer y.x_j come
        from ``cross_gram`` and only the dot products y.mu need the SNPs.

        :param cross_gram: int64 (n', n) products of the new and the fitted individuals.
        :param dosages: (n', m) the new individuals.
        """
        if self.row_dot is None:
            raise ValueError("transform_gram needs an unscaled PCA (scaler 'none')")
        x = as_int8(dosages, device)
        centre = torch.as_tensor(self.centre, device=x.device)
        new_dot = row_dot(x, centre).cpu().numpy()
        centred = torch.as_tensor(cross_gram).to(torch.float64).cpu().numpy()
        centred -= new_dot[:, None] + self.row_dot[None, :]
        centred += float(self.centre @ self.centre)
        root = np.sqrt(self.explained_variance * max(self.vectors.shape[0] - 1, 1))
        return centred @ (self.vectors / np.where(root > 0, root, np.inf))


def pca(dosages, n_components: int = 10, *, scaler: str = "none", snp_chunk: int = SNP_CHUNK,
        block_size: int = 2048, device: str = "cpu", method: str = "auto",
        gram: torch.Tensor | None = None) -> PCA:
    """PCA of individuals through the eigendecomposition of their n x n Gram matrix.

    With Z the standardised dosages (:func:`scaling`; ``"none"`` is plain centring, as
    scikit-learn's ``PCA`` on the dosages), Z Z^T = U diag(lambda) U^T gives the scores
    U sqrt(lambda) and the loadings Z^T U / sqrt(lambda). For ``"none"`` the Gram matrix is
    the exact integer x x^T, centred in float64: x_c x_c^T = x x^T - r 1^T - 1 r^T + c with
    r = x mu and c = mu.mu (past :data:`GRAM_LIMIT` individuals, without a given ``gram``,
    it is applied through int8 products instead, as below). Otherwise it is the float32
    :func:`scaled_gram` for up to :data:`SCALED_GRAM_LIMIT` individuals, and for more never
    formed: the Krylov iteration applies it through int8 products (:class:`_ScaledGram`),
    8 n m per vector and application instead of n^2 m / 2 float32 in all.

    :param dosages: (n, m) 0/1/2.
    :param n_components: components kept; at most n - 1 and m.
    :param gram: with ``scaler="none"``, the integer Gram matrix :func:`integer_gram` of the
        dosages when the caller has it already (a block of a larger one, say).
    :returns: :class:`PCA`.
    """
    x = as_int8(dosages, device)
    n, m = x.shape
    k = min(int(n_components), n - 1, m)
    if k < 1:
        raise ValueError(f"PCA needs at least 2 individuals and 1 SNP, got {n} x {m}")
    centre, scale = scaling(x, scaler)
    r = None
    if scaler == "none" and gram is None and n > GRAM_LIMIT:
        r = row_dot(x, centre)
        centred = _ScaledGram(x, centre, scale)  # scale 1: the centred Gram, never formed
        _, variance = snp_moments(x)
        total = float(n * variance.sum())
    elif scaler == "none":
        r = row_dot(x, centre)
        if gram is None:
            gram = integer_gram(x, block_size=block_size, method=method)
        centred, total = _centre(gram, r, float(centre @ centre), n > DENSE_EIGEN_LIMIT)
    elif n <= SCALED_GRAM_LIMIT:
        centred = scaled_gram(x, centre, scale, snp_chunk=snp_chunk,
                              block_size=block_size).to(torch.float64)
        total = float(torch.diagonal(centred).sum())
    else:  # never formed: the Krylov iteration applies Z Z^T through int8 products
        centred = _ScaledGram(x, centre, scale)
        _, variance = snp_moments(x)
        total = float(n * (variance * scale.to(torch.float64) ** 2).sum())
    values, vectors = _top_eigenpairs(centred, k)
    del centred
    values = np.maximum(values, 0.0)
    ratio = values / total if total > 0 else np.full(k, math.nan)
    return PCA(vectors * np.sqrt(values), values / max(n - 1, 1), ratio, total / max(n - 1, 1),
               centre.cpu().numpy(), scale.cpu().numpy(), vectors,
               None if r is None else r.cpu().numpy(), _dosages=x)
