"""Where and how the deep generators run: device choice, seeding without global side effects,
CPU thread count, subnormal floats flushed on the CPU, and device synchronisation for timing."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import sys

import numpy as np
import torch

from genobench import FitContext


def resolve_device(requested: str | None, context: FitContext | None = None) -> torch.device:
    """The torch device to train on.

    :param requested: a device name from the options ("cpu", "cuda", "cuda:1"), or None / "auto"
        for the harness's choice (``context.device``); "cuda" without a GPU falls back to CPU.
    """
    name = requested if requested not in (None, "auto") else (
        context.device if context is not None else "cpu")
    if str(name).startswith("cuda") and not torch.cuda.is_available():
        name = "cpu"
    return torch.device(name)


def child_seeds(seed: int, count: int) -> list[int]:
    """``count`` independent integer seeds derived from ``seed`` (numpy's default_rng)."""
    return [int(s) for s in np.random.default_rng(seed).integers(0, 2**62, size=count)]


@contextlib.contextmanager
def seeded(seed: int, device: torch.device):
    """Run a block with torch's global generators seeded from ``seed``, restored afterwards.

    Module initialisation, dropout, ``torch.randn`` and friends draw from the global generators;
    forking them keeps a fit or a generate call deterministic for its seed without leaking state
    to the caller (``torch.random.fork_rng``).
    """
    devices = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices, device_type="cuda"):
        torch.random.default_generator.manual_seed(seed)
        if devices:
            with torch.cuda.device(devices[0]):
                torch.cuda.manual_seed(seed)
        yield


@contextlib.contextmanager
def cpu_threads(count: int | None):
    """Use ``count`` intra-op CPU threads inside the block (None: leave torch's setting).

    On a machine shared with other jobs fewer threads than cores can be much faster, since
    torch's threads spin while they wait for each other.
    """
    if not count:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(count))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def flush_denormals():
    """Treat subnormal float32 values as zero on the CPU inside the block (FTZ/DAZ).

    Adversarial training drives many gradients and Adam moments below 1e-38, where x86 cores
    take a slow microcode path: measured here, one thread, the GAN's quick profile on 5,000
    individuals x 5,000 SNPs, two epochs took 150 s with subnormals and 39 s flushed (the
    backward pass 0.19 s -> 0.03 s per step). No weight that small changes a sample; the
    training path may differ from an unflushed run in its last digits.
    """
    supported = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if supported:
            torch.set_flush_denormal(False)


#: glibc's mallopt parameter for the size from which blocks are mapped from the OS one by one.
_M_MMAP_THRESHOLD = -3
#: Blocks up to this size are served from the reusable heap once :func:`reuse_large_blocks` ran.
LARGE_BLOCK_BYTES = 1 << 30
_LARGE_BLOCKS_REUSED: list[bool] = []


def reuse_large_blocks() -> bool:
    """Serve memory blocks up to :data:`LARGE_BLOCK_BYTES` from the C heap for the rest of
    this process, where glibc maps every block above at most 32 MiB from the OS afresh.

    A dense layer over 18,294 one-hot inputs and 512 outputs has a 37.5 MB weight gradient,
    allocated and freed at every training step: mapped afresh, its pages fault and are zeroed
    on first touch each time. Measured on human_chr22 (the VAE's standard profile, one thread,
    10 epochs): 10.4 s of training with glibc's default, 9.3 s with the heap (the dense layers
    from 29 % to 33 % of the calibration rate). It is what PyTorch's CPU tuning guide gets by
    swapping in jemalloc or tcmalloc, done with the C library already loaded. Process-wide
    (it cannot be scoped): the memory of freed large blocks is kept for reuse rather than
    returned at once. Does nothing, and returns False, off glibc (macOS, Windows, musl).
    """
    if _LARGE_BLOCKS_REUSED:
        return _LARGE_BLOCKS_REUSED[0]
    done = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            done = bool(libc.mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES))
        except (OSError, AttributeError):  # not glibc: no mallopt
            done = False
    _LARGE_BLOCKS_REUSED.append(done)
    return done


def synchronize(device: torch.device) -> None:
    """Wait for queued work on ``device`` (a no-op on the CPU), so a timer measures it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
