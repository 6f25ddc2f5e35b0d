"""Which part of a fitted GAN or WGAN-GP puts its individuals closer to the training split?

Fits one model (standard profile, one seed) and reads the ``dcr_closer_share`` statistic
against the test split (:func:`genobench_plugins.deep.checkpoints.closer_share`, the gate's
computation) with the correlation score (LD over all SNP pairs) and the validation-split
membership AUC, each the mean over 4 draws of the test split's size, for the model as fitted
and with one part taken out at a time:

- the ancestry coordinates drawn for new individuals, replaced by real unseen individuals'
  (the validation split's, encoded) or by 0;
- the local-LD layer's condition terms (per-SNP log-odds linear in the ancestry coordinates
  and phenotypes), its phenotype terms alone, or its lag terms;
- the phenotypes conditioned on (a conditional model): rows of the validation split, or the
  training rows with each column shuffled, in place of the training rows the harness draws;
- the layer's ancestry terms smaller than a percentile of their sizes (``--thresholds``; size:
  the largest of a SNP's 3 log-odds for one coordinate, centred over the genotypes) zeroed, or
  all of them soft-thresholded by that size;
- the layer refitted under a stronger prior (``--penalties``: the option ``ld_penalty``).

Measured on human_chr22 (seed 3, WGAN-GP, 2026-12-03; docs/performance.md, "Quality of the
deep models"): as fitted +0.062 (correlation score 0.339); without the layer's condition
terms +0.015 (0.006); ancestry 0 +0.006 (0.007); without the lag terms +0.033 (0.395);
conditioned on validation phenotypes +0.050; layer prior 10: +0.010 (0.225), 30: 0.000
(0.118).

Usage::

    python benchmarks/closer_sources.py suites/human_chr22.toml --model wgan_gp --seed 3
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import torch
from genobench_plugins.deep.checkpoints import closer_share, correlation_score, privacy_scores

from genobench import FitContext
from genobench.lifecycle import conditioning_phenotypes
from genobench.registry import get_generator
from genobench.suites import load_spec, materialize

DRAWS = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite")
    parser.add_argument("--model", default="wgan_gp", choices=("gan", "wgan_gp"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--penalties", default="10,30")
    parser.add_argument("--thresholds", default="25,50,75")
    parser.add_argument("--trait-snps", default=None,
                        help="the WGAN-GP's option trait_snps (default: its own, auto)")
    args = parser.parse_args()
    suite = materialize(load_spec(args.suite))
    train, validation, test = (torch.as_tensor(part.dosages)
                               for part in (suite.train, suite.validation, suite.test))
    model = get_generator(args.model)(
        **({} if args.trait_snps is None else {"trait_snps": args.trait_snps}))
    model.fit(suite.train, seed=args.seed, context=FitContext(
        validation=suite.validation, source=suite.source, suite=suite.name,
        profile="standard", device="cpu"))
    n = test.shape[0]
    conditional = bool(model.supports_phenotypes) and suite.train.phenotypes is not None

    def training_rows(draw: int):
        return conditioning_phenotypes(suite.train, n, seed=draw) if conditional else None

    def read(label: str, phenotypes: Callable[[int], object] = training_rows) -> None:
        closer, correlation, membership = [], [], []
        for draw in range(DRAWS):
            drawn = torch.as_tensor(np.asarray(model.generate(
                n, seed=args.seed + 100 + draw, phenotypes=phenotypes(draw))))
            closer.append(closer_share(train, test, drawn))
            correlation.append(correlation_score(test, drawn))
            membership.append(privacy_scores(train, validation, drawn)["membership"])
        print(f"  {label}: closer {np.mean(closer):+.3f} ("
              + " ".join(f"{c:+.3f}" for c in closer)
              + f"), correlation score {np.mean(correlation):.3f}, "
                f"validation membership AUC {np.mean(membership):.3f}", flush=True)

    print(f"{suite.name}, {args.model}, seed {args.seed}: closer-than-holdout share on the test "
          f"split, mean of {DRAWS} draws of {n}")
    read("as fitted")
    layer, ancestry = model.local_ld_, model.ancestry_
    if ancestry is not None:
        drawn_coordinates = ancestry.sample
        unseen = model.ancestry_codec_.encode(validation.to(model.device_))
        ancestry.sample = lambda k: unseen[torch.randint(0, unseen.shape[0], (k,))]
        read("ancestry coordinates of real unseen individuals")
        ancestry.sample = lambda k: torch.zeros(k, unseen.shape[1], device=unseen.device)
        read("ancestry coordinates 0")
        ancestry.sample = drawn_coordinates
    if layer is not None:
        lags, conditions = layer.weight.detach().clone(), layer.trait_weight.detach().clone()
        with torch.no_grad():
            layer.trait_weight.zero_()
        read("layer without its condition terms")
        with torch.no_grad():
            layer.trait_weight.copy_(conditions)
            layer.weight.zero_()
        read("layer without its lag terms")
        with torch.no_grad():
            layer.weight.copy_(lags)
        traits = layer.trait_weight.shape[1] - (0 if ancestry is None else ancestry.dim)
        if traits:
            with torch.no_grad():
                layer.trait_weight[:, :traits] = 0
            read("layer without its phenotype terms (ancestry terms kept)")
            with torch.no_grad():
                layer.trait_weight.copy_(conditions)
    if conditional:
        read("conditioned on the validation split's phenotypes", lambda draw: (
            suite.validation.phenotypes.sample(n, replace=n > suite.validation.n_samples,
                                               random_state=draw).reset_index(drop=True)))

        def shuffled(draw: int):
            rows, rng = training_rows(draw).copy(), np.random.default_rng(draw)
            for column in rows.columns:
                rows[column] = rng.permutation(rows[column].to_numpy())
            return rows
        read("conditioned on training phenotypes, each column shuffled", shuffled)
    if layer is not None and ancestry is not None:
        fitted = layer.trait_weight.detach().clone()
        d = ancestry.dim
        centred = fitted[:, -d:] - fitted[:, -d:].mean(-1, keepdim=True)
        sizes = centred.abs().amax(-1)  # (m, d)
        for percentile in (float(q) for q in args.thresholds.split(",") if q):
            cut = float(torch.quantile(sizes.flatten().float(), percentile / 100))
            with torch.no_grad():
                layer.trait_weight[:, -d:] = fitted[:, -d:] * (sizes >= cut)[..., None]
            read(f"ancestry terms below their {percentile:g}th percentile ({cut:.3f}) zeroed")
            with torch.no_grad():
                shrunk = (centred.abs() - cut).clamp(min=0)
                layer.trait_weight[:, -d:] = torch.sign(centred) * shrunk
            read(f"ancestry terms soft-thresholded by {cut:.3f}")
        with torch.no_grad():
            layer.trait_weight.copy_(fitted)
    if layer is not None:
        # refit as fitting does under the option ld_penalty (:meth:`_fit_local_ld`), from zero
        data = train.to(model.device_)
        traits = None if model.scaler_ is None else \
            torch.as_tensor(model.train_phenotypes_, device=model.device_)
        conds = model._with_ancestry(traits, data)
        for penalty in (float(p) for p in args.penalties.split(",") if p):
            with torch.no_grad():
                layer.weight.zero_()
                layer.trait_weight.zero_()
            model.config_["ld_penalty"] = penalty
            model._fit_local_ld(data, model.generator_.head.bias.reshape(-1, 3), conds)
            read(f"layer refitted with prior ld_penalty {penalty:g}")


if __name__ == "__main__":
    main()
