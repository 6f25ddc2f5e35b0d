"""Generators that misbehave in every way a third-party plugin can, for the isolation tests.

Installed as the entry point ``faulty`` by :func:`install_faulty_plugins`, so the spawned job
processes find them exactly as they would find a real third party's plugin.
"""

import os
import time

import numpy as np

import genobench


class _Base(genobench.Generator):
    description = "misbehaves on purpose (tests)"

    def fit(self, train, *, seed, context=None):
        self.m_ = train.n_snps

    def generate(self, n, *, seed, phenotypes=None):
        return np.ones((n, self.m_), np.int8)


def _make(name, **methods):
    return type(name, (_Base,), dict(name=name, **methods))


def _raise(message):
    def method(self, *args, **kwargs):
        raise RuntimeError(message)
    return method


def _returns(make):
    def generate(self, n, *, seed, phenotypes=None):
        return make(n, self.m_)
    return generate


def _hang(self, *args, **kwargs):
    time.sleep(3600)


def _eat_memory(self, *args, **kwargs):
    hog = []
    while True:
        hog.append(np.ones(50 * 2**20, np.uint8))  # 50 MB at a time, touched
        time.sleep(0.01)


def _die(self, *args, **kwargs):
    os._exit(3)


def _with_value(value):
    def make(n, m):
        out = np.ones((n, m), dtype=float)
        out[n // 2, m // 3] = value
        return out
    return make


FAULTY = [
    _make("ok_ones"),
    _make("fails_at_fit", fit=_raise("fit exploded")),
    _make("fails_at_generate", generate=_raise("generate exploded")),
    _make("hangs", fit=_hang),
    _make("eats_memory", fit=_eat_memory),
    _make("dies", fit=_die),
    _make("wrong_shape", generate=_returns(lambda n, m: np.ones((n, m + 1), np.int8))),
    _make("too_few", generate=_returns(lambda n, m: np.ones((n - 1, m), np.int8))),
    _make("returns_three", generate=_returns(_with_value(3))),
    _make("returns_minus_one", generate=_returns(_with_value(-1))),
    _make("returns_nan", generate=_returns(_with_value(np.nan))),
    _make("returns_strings", generate=_returns(lambda n, m: np.full((n, m), "a"))),
    _make("returns_none", generate=_returns(lambda n, m: None)),
]


@genobench.hookimpl
def genobench_register_generators(register):
    for cls in FAULTY:
        register(cls)


def install_faulty_plugins(folder):
    """Make ``folder`` (to be put on sys.path / PYTHONPATH) hold this module as an installed
    distribution with a ``genobench`` entry point named ``faulty``."""
    from pathlib import Path

    from conftest import fake_installed_plugin

    return fake_installed_plugin(Path(folder), "genobench_faulty", Path(__file__).read_text(),
                                 distribution="genobench-faulty", entry_point="faulty")
