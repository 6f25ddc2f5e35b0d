"""Reference baselines every leaderboard carries.

- ``independent_sites``: each SNP drawn independently from its training allele frequency under
  Hardy-Weinberg equilibrium. Keeps allele and genotype frequencies, destroys LD and structure:
  the floor any generative model must beat on LD and population-structure metrics.
- ``real_holdout``: held-out real individuals (the validation split), not a model. Comparing it
  with the test split is the paper's real-vs-real analysis: the noise floor of every metric.
"""

from __future__ import annotations

import numpy as np

import genobench
from genobench import FitContext, GeneratorError, GenotypeData


class IndependentSites(genobench.Generator):
    """Each SNP drawn from Binomial(2, p) with p its training alternate-allele frequency."""

    name = "independent_sites"
    description = ("Each SNP drawn independently from its training allele frequency "
                   "(Hardy-Weinberg): keeps frequencies, no LD")
    citation = "Baseline; cf. Yelmen et al. 2021, PLoS Genetics"

    def fit(self, train: GenotypeData, *, seed: int, context: FitContext | None = None) -> None:
        self.frequencies_ = train.allele_frequencies()

    def generate(self, n: int, *, seed: int, phenotypes=None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return rng.binomial(2, self.frequencies_, size=(n, self.frequencies_.size)).astype(np.int8)


class RealHoldout(genobench.Generator):
    """Real individuals the models never saw (the validation split): the noise floor."""

    name = "real_holdout"
    description = "Held-out real individuals (validation split): the real-vs-real noise floor"
    citation = "Xie et al. 2026, GigaScience (real-vs-real analysis)"
    is_reference = True

    def fit(self, train: GenotypeData, *, seed: int, context: FitContext | None = None) -> None:
        if context is None or context.validation is None:
            raise GeneratorError("real_holdout needs the suite's validation split")
        if context.validation.n_snps != train.n_snps:
            raise GeneratorError("real_holdout: validation and training SNPs differ")
        self.holdout_ = context.validation.dosages

    def generate(self, n: int, *, seed: int, phenotypes=None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        available = self.holdout_.shape[0]
        rows = rng.choice(available, size=n, replace=n > available)
        return self.holdout_[rows].copy()


@genobench.hookimpl
def genobench_register_generators(register):
    register(IndependentSites)
    register(RealHoldout)
