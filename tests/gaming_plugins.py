"""Generators built to game a benchmark, for the scorecard tests: each must be caught.

- ``copier``: returns rows of the training split (memorisation);
- ``repeater``: one training individual repeated n times (mode collapse onto a real person);
- ``shuffler``: each SNP's training column shuffled on its own (frequencies kept, LD gone);
- ``second_reference``: real individuals no model saw (the suite's second reference draw): a
  faithful generator, which must score like real data.

Installed as the entry point ``gaming`` by :func:`install_gaming_plugins`, so spawned job
processes find them as they would a third party's plugin.
"""

import numpy as np

import genobench


class Copier(genobench.Generator):
    name = "copier"
    description = "returns training individuals (tests)"

    def fit(self, train, *, seed, context=None):
        self.rows_ = train.dosages

    def generate(self, n, *, seed, phenotypes=None):
        rows = np.random.default_rng(seed).permutation(self.rows_.shape[0])[:n]
        return self.rows_[np.resize(rows, n)]


class Repeater(genobench.Generator):
    name = "repeater"
    description = "one training individual repeated (tests)"

    def fit(self, train, *, seed, context=None):
        self.row_ = train.dosages[0]

    def generate(self, n, *, seed, phenotypes=None):
        return np.repeat(self.row_[None, :], n, axis=0)


class Shuffler(genobench.Generator):
    name = "shuffler"
    description = "each SNP's training column shuffled independently (tests)"

    def fit(self, train, *, seed, context=None):
        self.rows_ = train.dosages

    def generate(self, n, *, seed, phenotypes=None):
        rng = np.random.default_rng(seed)
        shuffled = rng.permuted(self.rows_, axis=0)
        return shuffled[rng.integers(0, shuffled.shape[0], n)]


class SecondReference(genobench.Generator):
    name = "second_reference"
    description = "real individuals no model saw: the suite's second reference draw (tests)"

    def fit(self, train, *, seed, context=None):
        self.draw_ = context.reference[1]

    def generate(self, n, *, seed, phenotypes=None):
        return self.draw_.dosages[:n]


@genobench.hookimpl
def genobench_register_generators(register):
    for generator in (Copier, Repeater, Shuffler, SecondReference):
        register(generator)


def install_gaming_plugins(folder):
    """Make ``folder`` (to be put on PYTHONPATH) hold this module as an installed distribution
    with a ``genobench`` entry point named ``gaming``."""
    from pathlib import Path

    from conftest import fake_installed_plugin

    return fake_installed_plugin(Path(folder), "genobench_gaming", Path(__file__).read_text(),
                                 distribution="genobench-gaming", entry_point="gaming")
