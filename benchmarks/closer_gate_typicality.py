"""Does the closer-than-holdout gate read typical individuals as leaks, and still catch copies?

Draws individuals that know no training individual: each SNP on its own from the training
genotype frequencies, sharpened to a temperature (softmax of log-frequencies / T: below 1 the
draws lean to each SNP's commonest genotype, so the individuals grow typical and alike). For
each temperature it prints the ``dcr_closer_share`` statistic (the gate's computation,
:func:`genobench_plugins.deep.checkpoints.closer_share`) against the test split, which the
leaderboard uses, and against the validation split, the same individuals each time; then the
same for a copier of training rows, for real held-out individuals of which 30 % are
replaced by copies, for real unseen individuals (the suite's reference draws), for msprime
individuals (new genealogies of the suite's demographic model, their sites placed by the
training split's allele frequencies), and, where the suite labels populations, for Binomial
draws from the per-population allele frequencies of the training split and of real unseen
individuals (what frequencies alone carry). It first prints the held-out individuals' distance
ratios, whose spread sets how close "unusually close" is. A statistic that answers who was
trained on reads about 0 for the drawn individuals on both splits, 1 for the copier and about
0.3 for the partial copier.

Measured on human_chr22 and cow_chr14 (2026-12-02, three draws each) with the gate's ratio
form (distance to the training split over distance to the holdout, against the real
individuals' 5th percentile of that ratio): every temperature from 0.5 to 1 read -0.025 to
+0.017; the copier 1.00, the partial copier 0.25-0.34. The first form compared distances with
two thresholds (5th percentiles of the held-out individuals' distances to the training split
and of the training individuals' to the holdout): individuals at temperature 0.7 sat at about
one distance from every real set, at the edge of both thresholds, and read +0.28 to +0.40 on
human_chr22's test split and -0.31 to -0.34 on its validation split. On 29,875 SNPs
(human_chr1, 2026-12-03) the ratios span 0.986-1.005 (5th-95th percentile) and msprime reads
+0.025 to +0.117 (human_chr22: +0.008 to +0.033; cow_chr14: 0), real unseen individuals -0.033
to +0.017 (docs/performance.md, "Every human chromosome"). Frequencies alone, on human_chr22
(CEU 288, CHB 36, YRI 36 training individuals): draws from the training split's per-population
frequencies read +0.020 (0.000 to +0.033), from real unseen individuals' -0.003.

Usage (a materialized suite from the cache, or simulated first)::

    python benchmarks/closer_gate_typicality.py suites/human_chr22.toml
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from genobench_plugins.coalescent import MsprimeCoalescent, population_frequencies
from genobench_plugins.deep.checkpoints import closer_share

from genobench import FitContext, kernels
from genobench.metrics.privacy import distance_ratios
from genobench.suites import load_spec, materialize


def sharpened_independent_sites(train: np.ndarray, n: int, temperature: float,
                                rng: np.random.Generator) -> np.ndarray:
    """``n`` individuals (int8 (n, m)), each SNP drawn on its own from the training genotype
    frequencies raised to 1 / ``temperature`` and renormalised."""
    frequencies = np.stack([(train == g).mean(0) for g in (0, 1, 2)], 1) + 1e-9
    p = frequencies ** (1.0 / temperature)
    cumulative = (p / p.sum(1, keepdims=True)).cumsum(1)
    u = rng.random((n, train.shape[1]))
    return (u > cumulative[:, 0]).astype(np.int8) + (u > cumulative[:, 1]).astype(np.int8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite")
    parser.add_argument("--temperatures", default="0.5,0.7,0.85,1")
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    suite = materialize(load_spec(args.suite))
    train, validation, test = (torch.as_tensor(part.dosages)
                               for part in (suite.train, suite.validation, suite.test))
    rng = np.random.default_rng(args.seed)
    nearest = lambda a, b=None: np.asarray(kernels.nearest_neighbour_distances(  # noqa: E731
        a, b, exclude_self=b is None))
    ratios = distance_ratios(nearest(test, train), nearest(test))
    print(f"{suite.name}: held-out individuals' distance ratios (to the training split over "
          f"to their own), 5th / 50th / 95th percentile: "
          + " / ".join(f"{q:.3f}" for q in np.percentile(ratios, [5, 50, 95])))
    print(f"{suite.name}: closer-than-holdout share of sharpened independent-sites draws "
          f"({test.shape[0]} individuals each): test split / validation split")
    def shares(draw) -> str:
        values = []
        for _ in range(args.draws):
            drawn = torch.as_tensor(draw())
            values.append(f"{closer_share(train, test, drawn):+.3f} / "
                          f"{closer_share(train, validation, drawn):+.3f}")
        return ", ".join(values)

    n = test.shape[0]
    for temperature in (float(t) for t in args.temperatures.split(",")):
        print(f"  temperature {temperature:g}: " + shares(
            lambda t=temperature: sharpened_independent_sites(suite.train.dosages, n, t, rng)))
    print("  copier of training rows: " + shares(
        lambda: suite.train.dosages[rng.integers(0, train.shape[0], n)]))

    def partial_copier():
        # real individuals no model saw, 30 % of them replaced by copies of training rows
        unseen = suite.reference.dosages[rng.choice(suite.reference.n_samples, n, replace=False)]
        copied = rng.random(n) < 0.3
        unseen[copied] = suite.train.dosages[rng.integers(0, train.shape[0], copied.sum())]
        return unseen
    print("  30 % copier (real unseen individuals otherwise): " + shares(partial_copier))
    print("  real unseen individuals (reference draws): " + shares(
        lambda: suite.reference.dosages[rng.choice(suite.reference.n_samples, n, replace=False)]))
    coalescent = MsprimeCoalescent()  # knows the training split only through site placement
    coalescent.fit(suite.train, seed=args.seed + 1, context=FitContext(
        validation=suite.validation, source=suite.source, suite=suite.name))
    print("  msprime (the suite's demographic model, new genealogies): " + shares(
        lambda: coalescent.generate(n, seed=int(rng.integers(1, 2**31 - 1)))))
    if suite.train.populations is not None and suite.reference.populations is not None:
        # frequencies alone: the same draw from the training split's per-population allele
        # frequencies and from those of real individuals no one trained on
        # in the training split's proportions, as msprime draws them
        sizes = coalescent._samples_for(n)
        for label, part in (("the training split", suite.train),
                            ("real unseen individuals", suite.reference)):
            print(f"  Binomial(2, p) from the per-population frequencies of {label}: "
                  + shares(lambda part=part: population_frequency_draw(part, sizes, rng)))


def population_frequency_draw(source, sizes: dict[str, int],
                              rng: np.random.Generator) -> np.ndarray:
    """Individuals (int8 (sum of sizes, m)), ``sizes[name]`` of each population, each SNP
    drawn Binomial(2, p) with p the allele frequency of the individual's population in
    ``source`` (a data set with population labels;
    :func:`genobench_plugins.coalescent.population_frequencies`)."""
    names = list(sizes)
    frequencies = population_frequencies(source.dosages, source.populations, names)  # (m, k)
    return np.concatenate([rng.binomial(2, frequencies[:, column],
                                        size=(sizes[name], frequencies.shape[0]))
                           for column, name in enumerate(names)]).astype(np.int8)

if __name__ == "__main__":
    main()
