"""The anchors every scorecard is measured between: one reference and two baselines.

A scorecard score places a generator between what carries no information (0) and real data
(1), metric by metric (:mod:`genobench.scorecard`). The three rows that fix those ends are run
for every suite and seed, whatever generators a run asks for (as SDGym always runs its trivial
baseline), and are registered here, through the same hook as any plugin's generators:

- ``real_holdout`` (the reference, 1): real individuals no model saw, drawn from the suite's
  reference set, the same size as the test split and from the same population, with their
  phenotypes. The suite holds several disjoint draws; their spread is each metric's noise
  floor.
- ``independent_sites`` (the baseline of LD, structure, diversity and association, 0): each SNP
  drawn from its training allele frequency under Hardy-Weinberg equilibrium: frequencies right,
  LD and structure gone. It takes the phenotypes a conditional generator is given (drawn from
  the training split) and ignores them: its individuals carry phenotypes with no genetic link,
  the association metrics' baseline.
- ``permuted_frequencies`` (the baseline of marginal metrics, 0): independent_sites would sit at
  the floor of every frequency metric by construction, so the marginal baseline keeps the
  training set's frequency spectrum but puts it on the wrong SNPs (frequencies permuted across
  SNPs): what a generator that learnt nothing SNP-specific would give.
"""

from __future__ import annotations

import numpy as np

from .data import GenotypeData
from .errors import GeneratorError
from .generators import FitContext, Generator
from .hookspecs import hookimpl

REFERENCE = "real_holdout"
BASELINE = "independent_sites"
MARGINAL_BASELINE = "permuted_frequencies"
#: Every anchor, in the order they are shown.
ANCHORS = (REFERENCE, BASELINE, MARGINAL_BASELINE)


def hardy_weinberg_sample(frequencies: np.ndarray, n: int, *, seed: int) -> np.ndarray:
    """``n`` individuals with each SNP drawn from Binomial(2, p): int8 (n, len(frequencies))."""
    rng = np.random.default_rng(seed)
    return rng.binomial(2, frequencies, size=(n, frequencies.size)).astype(np.int8)


class IndependentSites(Generator):
    """Each SNP drawn from Binomial(2, p) with p its training alternate-allele frequency."""

    name = BASELINE
    description = ("Baseline: each SNP drawn independently from its training allele frequency "
                   "(Hardy-Weinberg): frequencies kept, no LD; paired at random with training "
                   "phenotypes (no association)")
    citation = "Baseline; cf. Yelmen et al. 2021, PLoS Genetics"
    #: It accepts phenotypes and ignores them: the association baseline.
    supports_phenotypes = True

    def fit(self, train: GenotypeData, *, seed: int, context: FitContext | None = None) -> None:
        self.frequencies_ = train.allele_frequencies()

    def generate(self, n: int, *, seed: int, phenotypes=None) -> np.ndarray:
        return hardy_weinberg_sample(self.frequencies_, n, seed=seed)


class PermutedFrequencies(IndependentSites):
    """The training frequency spectrum on the wrong SNPs: p permuted across SNPs, then HWE."""

    name = MARGINAL_BASELINE
    description = ("Baseline of marginal metrics: the training allele frequencies permuted "
                   "across SNPs, each SNP drawn under Hardy-Weinberg: right spectrum, wrong SNPs")
    citation = "Baseline (issue 'A verdict that cannot be gamed')"
    supports_phenotypes = False

    def fit(self, train: GenotypeData, *, seed: int, context: FitContext | None = None) -> None:
        rng = np.random.default_rng(seed)
        self.frequencies_ = rng.permutation(train.allele_frequencies())


class RealHoldout(Generator):
    """Real individuals the models never saw (a draw of the suite's reference set)."""

    name = REFERENCE
    description = ("Reference: real individuals no model saw (the suite's reference set, the "
                   "test split's size, same population): the real-vs-real noise floor")
    citation = "Xie et al. 2026, GigaScience (real-vs-real analysis)"
    is_reference = True

    def fit(self, train: GenotypeData, *, seed: int, context: FitContext | None = None) -> None:
        draws = list(getattr(context, "reference", None) or [])
        if not draws:
            raise GeneratorError("real_holdout needs the suite's reference set")
        if draws[0].n_snps != train.n_snps:
            raise GeneratorError("real_holdout: reference and training SNPs differ")
        self.draws_ = draws

    def generate(self, n: int, *, seed: int, phenotypes=None) -> np.ndarray:
        """The first reference draw holding ``n`` individuals (draws are disjoint)."""
        draw = self.draws_[int(seed) % len(self.draws_)]
        if n > draw.n_samples:
            raise GeneratorError(f"real_holdout: asked for {n} individuals, a reference draw "
                                 f"holds {draw.n_samples}")
        return draw.dosages[:n].copy()


@hookimpl
def genobench_register_generators(register):
    """Register the anchors: the reference and the two baselines."""
    register(IndependentSites)
    register(PermutedFrequencies)
    register(RealHoldout)
