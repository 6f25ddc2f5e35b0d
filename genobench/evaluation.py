"""Scoring a synthetic set made anywhere: equal-size comparisons and a scorecard of its own.

``genobench evaluate`` compares two files, not a suite, so it builds what a suite gives a run:

- **equal sizes.** Several metrics carry a 1/n bias (Nei's Fst, mean r^2, nearest-neighbour
  distances), so every comparison is made between sets of one size ``n``: the larger set is
  subsampled without replacement, ``SIZE_DRAWS`` times, and the values averaged. A synthetic set
  twice the real one's size therefore scores like an equal-size one.
- **a reference.** Real individuals neither the generator nor the comparison saw: the
  ``--reference`` file, or, without one, two thirds of ``--real`` set aside at random (two
  draws, each the size of the remaining third, which becomes the real set compared). Their
  spread is each metric's noise floor.
- **baselines.** ``independent_sites`` and ``permuted_frequencies`` (:mod:`genobench.anchors`)
  sampled from the training individuals' allele frequencies (``--train``), else from the
  reference's.

The records it makes have the shape of a run's, so :mod:`genobench.scorecard` scores them the
same way.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .anchors import REFERENCE, IndependentSites, PermutedFrequencies
from .data import GenotypeData
from .errors import DataError
from .records import JobRecord
from .runner import evaluate_synthetic, pool_draws
from .scorecard import suite_scorecard

#: Subsamples of a larger set averaged in an equal-size comparison.
SIZE_DRAWS = 3
#: Reference draws split off ``--real`` when no ``--reference`` is given.
SPLIT_DRAWS = 2


@dataclasses.dataclass
class Evaluation:
    """What :func:`evaluate_sets` found.

    :ivar values: the synthetic set's metrics {name: {value, note, seconds}} (averaged over
        equal-size draws).
    :ivar curves: its plot curves (first draw); :ivar info: metric descriptions.
    :ivar scorecard: :func:`genobench.scorecard.suite_scorecard` of the synthetic set and the
        anchors, or None without a scorecard.
    :ivar sizes: individuals per compared set, and where the reference came from.
    """

    values: dict
    curves: dict
    info: dict
    usage: dict
    scorecard: dict | None
    sizes: dict


def _rows(data: GenotypeData, size: int, rng: np.random.Generator) -> GenotypeData:
    """``size`` individuals of ``data``: all of them in order, or a sorted random sample."""
    if data.n_samples == size:
        return data
    return data.take_samples(np.sort(rng.choice(data.n_samples, size, replace=False)))


def split_reference(real: GenotypeData, *, seed: int = 0,
                    draws: int = SPLIT_DRAWS) -> tuple[GenotypeData, list[GenotypeData]]:
    """``real`` split at random into the set compared and ``draws`` reference draws, all of
    one size (``n // (draws + 1)``)."""
    size = real.n_samples // (draws + 1)
    if size < 2:
        raise DataError(f"--real holds {real.n_samples} individuals: too few to set a "
                        "reference aside (give --reference, or --no-scorecard)")
    order = np.random.default_rng([seed, 1]).permutation(real.n_samples)
    parts = [real.take_samples(np.sort(order[k * size:(k + 1) * size]))
             for k in range(draws + 1)]
    return parts[0], parts[1:]


def reference_draws(reference: GenotypeData, size: int, *, seed: int = 0,
                    most: int = 3) -> list[GenotypeData]:
    """Disjoint draws of ``size`` individuals from a reference file (at most ``most``)."""
    count = min(most, reference.n_samples // size)
    if count < 1:
        raise DataError(f"--reference holds {reference.n_samples} individuals, fewer than the "
                        f"{size} compared")
    order = np.random.default_rng([seed, 2]).permutation(reference.n_samples)
    return [reference.take_samples(np.sort(order[k * size:(k + 1) * size]))
            for k in range(count)]


def equal_size_evaluation(real: GenotypeData, synthetic: GenotypeData, *, train=None,
                          metric_names=None, device: str = "cpu", seed: int = 0,
                          truth: dict | None = None) -> tuple:
    """:func:`genobench.runner.evaluate_synthetic` on sets brought to one size: the larger
    subsampled ``SIZE_DRAWS`` times and the values averaged (each metric's ``draws`` lists the
    subsamples' values)."""
    size = min(real.n_samples, synthetic.n_samples)
    if real.n_samples == synthetic.n_samples:
        return evaluate_synthetic(real, synthetic, train=train, metric_names=metric_names,
                                  device=device, truth=truth)
    rng = np.random.default_rng([seed, 3])
    evaluations = [evaluate_synthetic(_rows(real, size, rng), _rows(synthetic, size, rng),
                                      train=train, metric_names=metric_names, device=device,
                                      truth=truth)
                   for _ in range(SIZE_DRAWS)]
    return pool_draws(evaluations)


def _record(generator: str, evaluation: tuple, *, reference: bool = False) -> JobRecord:
    """The record of one evaluated set, shaped like a run's so the scorecard reads it."""
    metrics, curves, info, usage = evaluation
    return JobRecord.from_json(dict(
        suite="evaluate", generator=generator, seed=1, status="ok", metrics=metrics,
        curves=curves, metric_info=info, timing={"evaluate": usage},
        generator_info=dict(is_reference=reference)))


def evaluate_sets(real: GenotypeData, synthetic: GenotypeData, *, train=None, reference=None,
                  metric_names=None, device: str = "cpu", scorecard: bool = True,
                  name: str = "synthetic", seed: int = 0) -> Evaluation:
    """Score ``synthetic`` against ``real`` at equal sizes, with a scorecard unless asked not.

    :param reference: real individuals held out from everything, or None to split them off
        ``real`` (:func:`split_reference`); unused without a scorecard.
    :param train: the generator's training individuals, for the privacy gates and the
        baselines' frequencies.
    """
    kwargs = dict(train=train, metric_names=metric_names, device=device)
    if not scorecard:
        values, curves, info, usage = equal_size_evaluation(real, synthetic, seed=seed,
                                                            **kwargs)
        return Evaluation(values, curves, info, usage, None,
                          dict(real=real.n_samples, synthetic=synthetic.n_samples))
    if reference is None:
        compared, draws = split_reference(real, seed=seed)
        origin = f"two thirds of --real set aside ({len(draws)} draws)"
    else:
        compared, draws = real, reference_draws(reference, real.n_samples, seed=seed)
        origin = f"--reference ({len(draws)} draws)"
    size = min(compared.n_samples, synthetic.n_samples)
    rng = np.random.default_rng([seed, 4])
    compared = _rows(compared, size, rng)
    draws = [_rows(draw, size, rng) for draw in draws]
    # the baselines' allele frequencies: the training individuals', else the reference's
    source = train if train is not None else draws[0].with_dosages(
        np.concatenate([draw.dosages for draw in draws]), sample_prefix="reference_")
    records = []
    main = equal_size_evaluation(compared, synthetic, seed=seed, **kwargs)
    records.append(_record(name, main))
    pooled = [evaluate_synthetic(compared, draw, **kwargs) for draw in draws]
    records.append(_record(REFERENCE, pooled[0] if len(pooled) == 1 else pool_draws(pooled),
                           reference=True))
    for generator_class, code in ((IndependentSites, 5), (PermutedFrequencies, 6)):
        generator = generator_class()
        generator.fit(source, seed=seed + code)
        baseline = compared.with_dosages(generator.generate(size, seed=seed + code),
                                         sample_prefix=f"{generator.name}_")
        records.append(_record(generator.name, evaluate_synthetic(compared, baseline,
                                                                  **kwargs)))
    values, curves, info, usage = main
    return Evaluation(values, curves, info, usage, suite_scorecard(records),
                      dict(real=compared.n_samples, synthetic=synthetic.n_samples,
                           compared=size, reference=origin))
