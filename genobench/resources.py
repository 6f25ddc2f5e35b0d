"""Measure the time and memory of a phase of work (fit, generate, evaluate).

Peak memory is the peak resident set size of this process during the phase, sampled by a
background thread (psutil) every ``interval`` seconds; torch and numpy allocations are included.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import psutil


@dataclasses.dataclass
class PhaseUsage:
    """Resources one phase used: wall seconds, CPU seconds, peak resident memory in MB."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0

    def as_dict(self) -> dict:
        return {k: round(v, 4) for k, v in dataclasses.asdict(self).items()}


class measure:
    """Context manager timing a phase: ``with measure() as usage: ...`` fills ``usage``."""

    def __init__(self, interval: float = 0.02):
        self.usage = PhaseUsage()
        self._interval = interval
        self._process = psutil.Process()
        self._stop = threading.Event()

    def _sample(self):
        while not self._stop.wait(self._interval):
            self._peak = max(self._peak, self._rss())

    def _rss(self) -> int:
        try:
            return self._process.memory_info().rss
        except psutil.Error:
            return 0

    def __enter__(self) -> PhaseUsage:
        self._peak = self._rss()
        self._cpu = self._process.cpu_times()
        self._start = time.perf_counter()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self.usage

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        cpu = self._process.cpu_times()
        self.usage.seconds = time.perf_counter() - self._start
        self.usage.cpu_seconds = (cpu.user - self._cpu.user) + (cpu.system - self._cpu.system)
        self.usage.peak_rss_mb = max(self._peak, self._rss()) / 2**20
        return False
