"""How fast the deep generators train: FLOPs of the dense layers counted from one epoch, a
calibration product timed in the same process, and the achieved fraction of it that a fit
records in ``training_["throughput"]``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

from .runtime import synchronize

#: Nesting depth of :func:`differentiated_twice` blocks (the counter's hook reads it).
_TWICE = [0]


@contextlib.contextmanager
def differentiated_twice() -> Iterator[None]:
    """Mark the dense-layer calls inside as differentiated twice, as a gradient penalty's are:
    :func:`count_flops` counts them 12 N per sample instead of 6 N.

    Per linear layer of 2 N forward FLOPs per sample: the forward pass (2 N), the gradient of
    the input that ``autograd.grad(..., create_graph=True)`` takes (2 N: no weight gradient),
    then the loss's backward pass through that gradient (its weight and output-gradient
    products, 4 N) and through the forward pass (4 N). Outside :func:`count_flops` it does
    nothing but set a flag.
    """
    _TWICE[0] += 1
    try:
        yield
    finally:
        _TWICE[0] -= 1


def count_flops(function: Callable[[], Any], modules: dict[str, nn.Module]) -> tuple[Any, float]:
    """Run ``function()`` and count the floating-point operations of the dense layers of
    ``modules``: 2 x rows x inputs x outputs per linear-layer call, three times that when
    gradients flow (forward, gradient of the input, gradient of the weights: the usual
    6 N per sample), six times inside :func:`differentiated_twice` (a gradient penalty's
    double backward, 12 N). Returns (result, FLOPs).

    Forward hooks, not torch's FlopCounterMode, which cannot follow the gradient penalty's
    ``autograd.grad``; element-wise work and the optimizer are left out.
    """
    total = [0.0]

    def hook(layer, inputs, output):
        rows = inputs[0].numel() // layer.in_features
        factor = (6 if _TWICE[0] else 3) if torch.is_grad_enabled() else 1
        total[0] += factor * 2.0 * rows * layer.in_features * layer.out_features

    handles = [m.register_forward_hook(hook) for module in modules.values()
               for m in module.modules() if isinstance(m, nn.Linear)]
    try:
        result = function()
    finally:
        for handle in handles:
            handle.remove()
    return result, total[0]


def calibration_rate(rows: int, inner: int, cols: int, device: torch.device, *,
                     seconds: float = 0.25, dtype=torch.float32) -> float:
    """FLOP/s of a (rows x inner) @ (inner x cols) product on ``device``, timed here and now.

    The reference for a model's achieved rate: the same process, threads and load as the
    training that just ran, and a product shaped like the model's widest layer.
    """
    a = torch.randn(rows, inner, device=device, dtype=dtype)
    b = torch.randn(inner, cols, device=device, dtype=dtype)
    a @ b  # warm-up (allocations, kernel choice)
    synchronize(device)
    count, t0 = 0, time.perf_counter()
    while True:
        a @ b
        count += 1
        synchronize(device)
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds or count >= 1000:
            return 2.0 * rows * inner * cols * count / elapsed


def training_throughput(modules: dict[str, nn.Module], *, flops_per_epoch: float | None,
                        epochs: int, train_seconds: float, rows: int,
                        device: torch.device) -> dict:
    """Achieved FLOP/s of a training run against a calibration product run now, in this process
    and thread setting, shaped like the widest linear layer of ``modules`` at ``rows`` rows (the
    training batch size).

    :returns: {"flops_per_epoch", "epochs", "train_seconds", "achieved_flop_s",
        "calibration_flop_s", "fraction" (achieved / calibration), "calibration_shape",
        "threads", "device"}; the achieved rate and fraction are None without a FLOP count.
    """
    widest = max((m for module in modules.values() for m in module.modules()
                  if isinstance(m, nn.Linear)), key=lambda m: m.in_features * m.out_features)
    calibration = calibration_rate(rows, widest.in_features, widest.out_features, device)
    achieved = None
    if flops_per_epoch and train_seconds > 0:
        achieved = flops_per_epoch * epochs / train_seconds
    return dict(
        flops_per_epoch=flops_per_epoch, epochs=epochs, train_seconds=train_seconds,
        achieved_flop_s=achieved, calibration_flop_s=calibration,
        fraction=None if achieved is None else round(achieved / calibration, 4),
        calibration_shape=[rows, widest.in_features, widest.out_features],
        threads=torch.get_num_threads(), device=str(device))
