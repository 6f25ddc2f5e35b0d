"""How much LD a model can learn from a suite's training split before the privacy gates catch it.

The least a model that learns LD learns is the covariance of the training individuals' leading
principal components. This script measures that floor: the diffusion generator's PCA
(:class:`genobench_plugins.diffusion.PCACodec`, fitted to the training split) keeping k PCs, and
a Gaussian in its standardised score space in place of the diffusion model (the PCA + Gaussian
ablation), decoded, rounded and clipped like the diffusion model's samples. Each k's
individuals (the test split's size) are scored with ``genobench evaluate``'s scorecard against
the test split, with the suite's reference draws and the baselines: its ld family score, its
membership-inference AUC against the gate's limit, and the gates it fails.

Where the membership AUC passes its limit only at a k whose ld family is below 0.5, no model
fitted to this training split's covariance reaches ld 0.5 and the membership gate at this suite
size: a limit of the suite (its training individuals), not of one model.

Usage (a materialized suite from the cache, or simulated first)::

    python benchmarks/privacy_frontier.py suites/cow_chr14.toml --pcs 2,4,8,16,32,64
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from genobench_plugins.diffusion import PCACodec

from genobench.evaluation import evaluate_sets
from genobench.suites import load_spec, materialize


def pca_gaussian(train, n: int, pcs: int, seed: int) -> np.ndarray:
    """``n`` individuals (n, SNPs) int8: N(0, I) standardised scores on the training split's
    leading ``pcs`` PCs (per chromosome, shares of ``pcs`` by SNP count), decoded, rounded and
    clipped to {0, 1, 2}."""
    codec = PCACodec.fit(torch.as_tensor(train.dosages), train.chromosomes, variance=1.0,
                         max_components=pcs)
    scores = torch.randn(n, codec.n_components, generator=torch.Generator().manual_seed(seed))
    return codec.decode(scores).numpy()


def frontier(suite_path: str, pcs: list[int], seed: int = 1) -> list[dict]:
    """One row per k: ``pcs``, ``ld`` (family score), ``membership`` (AUC), ``limit`` (the
    membership gate's), ``failed`` (gates failed)."""
    suite = materialize(load_spec(suite_path))
    test = suite.test
    rows = []
    for k in pcs:
        synthetic = test.with_dosages(pca_gaussian(suite.train, test.n_samples, k, seed),
                                      sample_prefix="pca_gaussian_")
        card = evaluate_sets(test, synthetic, train=suite.train, reference=suite.reference,
                             seed=seed).scorecard["generators"]["synthetic"]
        gates = card["privacy"]["gates"]
        membership = gates.get("membership_auc", {})
        rows.append(dict(pcs=k, ld=card["families"].get("ld"),
                         membership=membership.get("value"), limit=membership.get("threshold"),
                         failed=[name for name, gate in gates.items() if gate["passed"] is False]))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", help="suite spec (.toml)")
    parser.add_argument("--pcs", default="2,4,8,16,32,64", help="PCs kept, comma-separated")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rows = frontier(args.suite, [int(k) for k in args.pcs.split(",")], seed=args.seed)
    print("| PCs | ld family | membership AUC (limit) | gates failed |")
    print("|---:|---:|---:|---|")
    for row in rows:
        print(f"| {row['pcs']} | {row['ld']:.2f} | {row['membership']:.3f} "
              f"({row['limit']:.3f}) | {', '.join(row['failed']) or 'none'} |")


if __name__ == "__main__":
    main()
