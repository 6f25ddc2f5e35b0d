"""Does the closer-than-holdout gate read typical individuals as leaks?

Draws individuals that know no training individual: each SNP on its own from the training
genotype frequencies, sharpened to a temperature (softmax of log-frequencies / T: below 1 the
draws lean to each SNP's commonest genotype, so the individuals grow typical and alike). For
each temperature it prints the ``dcr_closer_share`` statistic (the gate's computation,
:func:`genobench_plugins.deep.checkpoints.closer_share`) against the test split, which the
leaderboard uses, and against the validation split, the same individuals each time. A statistic
that answers who was trained on reads about 0 on both; measured on human_chr22 (2026-12-02,
three draws of 120), temperature 0.7 read +0.33 to +0.42 on the test split (the gate's limit
was 0.097) and -0.28 to -0.35 on the validation split, and 0.00 on both at 0.5, 0.85 and 1.0.

Such individuals sit at about one distance from every real set, at the edge of the gate's two
thresholds (5th percentiles of the held-out individuals' distances to the training split and of
the training individuals' distances to the held-out split), so the statistic reports which
threshold that distance falls under.

Usage (a materialized suite from the cache, or simulated first)::

    python benchmarks/closer_gate_typicality.py suites/human_chr22.toml
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from genobench_plugins.deep.checkpoints import closer_share

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
    print(f"{suite.name}: closer-than-holdout share of sharpened independent-sites draws "
          f"({test.shape[0]} individuals each): test split / validation split")
    for temperature in (float(t) for t in args.temperatures.split(",")):
        values = []
        for _ in range(args.draws):
            drawn = torch.as_tensor(sharpened_independent_sites(
                suite.train.dosages, test.shape[0], temperature, rng))
            values.append(f"{closer_share(train, test, drawn):+.3f} / "
                          f"{closer_share(train, validation, drawn):+.3f}")
        print(f"  temperature {temperature:g}: " + ", ".join(values))


if __name__ == "__main__":
    main()
