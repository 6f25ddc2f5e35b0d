"""The generator interface every genotype simulator implements.

A generator is a small class (the pattern of stdpopsim's engines and llm's models): the harness
instantiates it with hyperparameters, calls :meth:`Generator.fit` on the training split and
:meth:`Generator.generate` for as many individuals as the test split holds. Randomness comes in
as a keyword-only ``seed``; child seeds are derived with ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .data import GenotypeData

#: Training budgets a run can ask for (the deep-model issue gives them meaning per model).
PROFILES = ("quick", "standard", "paper")


@dataclasses.dataclass
class FitContext:
    """What the harness knows besides the training data, handed to :meth:`Generator.fit`.

    :ivar validation: the validation split (for checkpoint selection or a holdout reference).
    :ivar source: the suite's ``[source]`` table as validated (for example the stdpopsim
        species, demographic model and contig), so a generator can re-simulate from it.
    :ivar suite: the suite name.
    :ivar profile: training budget, one of :data:`PROFILES`.
    :ivar time_limit: wall-clock seconds training may use, or None; stop cleanly before it.
    :ivar device: "cpu" or "cuda", as torch finds it.
    :ivar progress: callback ``progress(step, total, **values)`` for long training, or None.
    """

    validation: GenotypeData | None = None
    source: dict = dataclasses.field(default_factory=dict)
    suite: str = ""
    profile: str = "quick"
    time_limit: float | None = None
    device: str = "cpu"
    progress: Callable[..., None] | None = None


class Generator:
    """Base class of genotype generators.

    Subclasses set the class attributes and implement :meth:`fit` and :meth:`generate`.
    Hyperparameters arrive as keyword arguments to ``__init__`` and are kept in
    :attr:`options`, which is recorded with every result.
    """

    #: Unique registry name, lower case (``"independent_sites"``).
    name: str = ""
    #: One sentence shown by ``genobench list`` and in leaderboards.
    description: str = ""
    #: Reference to cite for the method.
    citation: str = ""
    #: True when :meth:`generate` accepts ``phenotypes`` (conditional generation).
    supports_phenotypes: bool = False
    #: True for reference rows that are not models (the real holdout).
    is_reference: bool = False

    def __init__(self, **options: Any):
        self.options = dict(options)

    def fit(self, train: GenotypeData, *, seed: int, context: FitContext | None = None) -> None:
        """Learn from the training split.

        :param train: training individuals x SNPs.
        :param seed: integer seed; derive child seeds from ``numpy.random.default_rng(seed)``.
        :param context: validation split, suite source, profile, time limit, device.
        """
        raise NotImplementedError

    def generate(self, n: int, *, seed: int, phenotypes: np.ndarray | None = None) -> np.ndarray:
        """Return ``n`` synthetic individuals on the training SNPs.

        :param n: number of individuals.
        :param seed: integer seed.
        :param phenotypes: float array (n, n_traits) to condition on, when
            :attr:`supports_phenotypes`; otherwise None.
        :returns: int8 array (n, n_snps) with values in {0, 1, 2}.
        """
        raise NotImplementedError

    def save(self, path) -> None:
        """Write the fitted generator to ``path`` so it can generate later."""
        with open(Path(path), "wb") as handle:
            pickle.dump(self, handle)

    @classmethod
    def load(cls, path) -> Generator:
        """Read a generator written by :meth:`save`."""
        with open(Path(path), "rb") as handle:
            generator = pickle.load(handle)
        if not isinstance(generator, Generator):
            raise TypeError(f"{path} does not hold a genobench generator")
        return generator
