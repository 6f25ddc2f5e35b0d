"""Thread control for small dense algebra inside the kernels and the metrics."""

from __future__ import annotations

import contextlib

import torch


@contextlib.contextmanager
def torch_threads(count: int):
    """Run torch on ``count`` threads inside the block, restoring the previous count after
    (benchmarks measure at a stated thread count)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def one_thread():
    """Run small dense algebra (a few-hundred-row eigh, a logistic regression) on one thread.

    Multi-threaded BLAS and OpenMP barriers collapse when the machine runs more threads than
    it has cores, and problems this small gain nothing from threads anyway (measured here
    under load: a 150 x 150 ``eigh`` took 0.6 s on 2 threads and 2 ms on one).
    """
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(threads)
