"""Exact products of small integer matrices, the base every kernel builds on.

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

import numpy as np
import torch

#: Largest inner dimension of one int8 product: sums of 4 * k stay below 2**31 (int32).
INT32_EXACT_K = 2**28
#: Largest inner dimension of one float32 product: sums of 4 * k stay at most 2**24.
FLOAT32_EXACT_K = 2**22

_int_mm_broken: set[str] = set()  # device types where torch._int_mm raised once


def as_int8(values, device) -> torch.Tensor:
    """Dosages as an int8 tensor on ``device`` (no copy for a C-contiguous int8 array on CPU)."""
    if isinstance(values, torch.Tensor):
        return values.to(device=device, dtype=torch.int8)
    return torch.as_tensor(np.ascontiguousarray(values, dtype=np.int8), device=device)


def round_up(value: int, multiple: int) -> int:
    """The smallest multiple of ``multiple`` at least ``value``."""
    return -(-value // multiple) * multiple


def count_values(x: torch.Tensor, dim: int, value: int | None = None) -> torch.Tensor:
    """Exact int64 sums of a 0/1/2 int8 matrix along ``dim`` (of ``x == value`` if given).

    torch's reductions of small integers run at about 1e8 values/s on the CPU, numpy's some
    20 times faster, so CPU tensors are summed through numpy (a view, no copy) in int32,
    exact below 2**30 values; other devices use torch. Matches are counted with
    ``count_nonzero`` (5x faster here than summing the boolean matrix as int32).
    """
    if x.device.type == "cpu":
        array = x.numpy()
        if value is not None:
            return torch.from_numpy(
                np.asarray(np.count_nonzero(array == value, axis=dim), dtype=np.int64))
        return torch.from_numpy(array.sum(dim, dtype=np.int32).astype(np.int64))
    return (x if value is None else x == value).sum(dim, dtype=torch.int64)


def int8_product(a: torch.Tensor, b_t: torch.Tensor, pad: bool | None = None) -> torch.Tensor:
    """``a @ b_t`` for int8 (p, k) and (k, q) through ``torch._int_mm``: int32 (p, q).

    CUDA kernels want every dimension a multiple of 8 and above 16: with ``pad`` (default:
    on any device but the CPU) zero rows and columns are padded on (they add nothing to the
    sums) and the result is cut back.
    """
    if not (a.device.type != "cpu" if pad is None else pad):
        return torch._int_mm(a, b_t)
    (p, k), q = a.shape, b_t.shape[1]
    pp, kk, qq = (max(round_up(size, 8), 24) for size in (p, k, q))
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
    return exact_product_t(a, b.T, check_method(method))


def check_method(method: str) -> str:
    if method not in ("auto", "int8", "float32"):
        raise ValueError(f"method must be 'auto', 'int8' or 'float32', not {method!r}")
    return method


def exact_product_t(a: torch.Tensor, b_t: torch.Tensor, method: str,
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
                part = int8_product(a_part.contiguous(), b_part.contiguous())
            except RuntimeError:
                if method == "int8":
                    raise
                _int_mm_broken.add(device_type)
                return exact_product_t(a, b_t, "float32", dtype)
        else:
            part = a_part.to(torch.float32) @ b_part.to(torch.float32)
        if total is None:
            total = part.to(dtype) if k <= chunk else part.to(torch.int64)
        else:
            total += part.to(torch.int64)
    return total.to(dtype)


def row_dot(x: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
    """x @ vector, float64 (n,), through int8 products (:func:`fixed_point_product`): the
    dosages are read once, never converted to floats."""
    return fixed_point_product(x, vector.to(torch.float64)[:, None])[:, 0]


#: Balanced base-256 digits of the fixed-point values in :func:`fixed_point_product`.
_DIGITS = 4


def fixed_point_product(x: torch.Tensor, values: torch.Tensor, method: str = "auto",
                       chunk: int = 2**23) -> torch.Tensor:
    """x @ values for int8 dosages x (r, k) and float64 values (k, c), as int8 products.

    Each column of ``values`` is rounded to a fixed point of 2^-30 of its largest magnitude
    (error at most 5e-10 of it) and cut into four balanced base-256 digits, int8
    each; x times the (k, 4c) digit matrix is an exact int8 x int8 -> int32 product (sums of
    up to ``chunk`` terms of at most 2 * 128) and the digits are recombined in float64. The
    int8 product runs about 4x faster than float32 here, so four digits cost about as much
    as one float32 product, without converting the dosages to floats.
    """
    k, c = values.shape
    peak = values.abs().amax(dim=0).clamp_min(torch.finfo(torch.float64).tiny)
    step = peak / 2**30  # |q| <= 2^30: three digits leave at most 65 for the fourth
    remainder = torch.round(values / step).to(torch.int64)
    digits = []
    for _ in range(_DIGITS):
        digit = (remainder + 128) % 256 - 128
        digits.append(digit.to(torch.int8))
        remainder = (remainder - digit) // 256
    digit_t = torch.cat(digits, dim=1)  # (k, 4c): digit j of column i at j c + i
    total = torch.zeros((x.shape[0], _DIGITS * c), dtype=torch.float64, device=x.device)
    for start in range(0, k, chunk):
        part = exact_product_t(x[:, start:start + chunk],
                               digit_t[start:start + chunk].contiguous(), method, torch.int32)
        total += part.to(torch.float64)
    weights = 256.0 ** torch.arange(_DIGITS, dtype=torch.float64, device=x.device)
    return (total.view(x.shape[0], _DIGITS, c) * weights[None, :, None]).sum(1) * step
