"""One generator's life in a job: build, fit, generate, check the output.

``genobench run`` (:func:`genobench.runner.run_job`) and ``genobench generate`` go through these
same steps with the same seeds, so a model trained by ``generate --seed S`` is the one a
benchmark job of seed S trains, and a fault of the plugin reads the same in both: one line naming
the generator, the phase and the reason (:class:`GeneratorFault`).

Seeds (:func:`job_seeds`): the job's seed feeds ``numpy.random.default_rng``, whose first two
draws seed ``fit`` and ``generate`` and whose third seeds the phenotypes a simulated suite's true
causal model gives the synthetic individuals.
"""

from __future__ import annotations

import dataclasses
import json
import traceback
from collections.abc import Callable

import numpy as np
import pandas as pd

from .data import GenotypeData, check_dosages
from .errors import GeneratorError
from .generators import FitContext, Generator
from .records import PhaseTiming
from .resources import measure
from .results import finite_json

#: Child seeds are drawn below this bound (a 31-bit seed suits every library a plugin uses).
SEED_BOUND = 2**31 - 1


@dataclasses.dataclass(frozen=True)
class JobSeeds:
    """The child seeds of one job seed (see the module docstring)."""

    fit: int
    generate: int
    phenotypes: int


def job_seeds(seed: int) -> JobSeeds:
    """The fit, generate and phenotype seeds derived from a job's ``seed``."""
    rng = np.random.default_rng(seed)
    fit, generate = (int(s) for s in rng.integers(0, SEED_BOUND, size=2))
    return JobSeeds(fit=fit, generate=generate, phenotypes=int(rng.integers(0, SEED_BOUND)))


class GeneratorFault(GeneratorError):
    """A generator's fault in one phase of its life: raised, turned into a failed record by the
    runner and into one ``Error:`` line by ``genobench generate``.

    :ivar phase: "init", "fit", "generate" or "output check".
    :ivar detail: the last lines of the traceback.
    """

    def __init__(self, message: str, *, phase: str, detail: str | None = None):
        super().__init__(message)
        self.phase = phase
        self.detail = detail


@dataclasses.dataclass(frozen=True)
class Output:
    """What a generator produced, checked.

    :ivar dosages: (n, SNPs) int8 in {0, 1, 2}.
    :ivar conditioning: the phenotype rows a conditional generator was given (one per
        individual), or None.
    :ivar timing: the generate phase's :class:`PhaseTiming`.
    """

    dosages: np.ndarray
    conditioning: pd.DataFrame | None
    timing: PhaseTiming


def conditioning_phenotypes(train: GenotypeData, n: int, *, seed: int):
    """Phenotypes to condition a generator on: ``n`` rows drawn from the training split's
    phenotype table (without replacement while it has enough rows), or None without one.

    Never the test split's: the association metrics score synthetic individuals against the
    test split, and conditioning on the very people scored would leak them (Xie et al. 2026
    condition on phenotypes of the training data's distribution).
    """
    if train.phenotypes is None or not train.n_samples:
        return None
    rows = np.random.default_rng(seed).choice(train.n_samples, size=n,
                                              replace=n > train.n_samples)
    return train.phenotypes.iloc[np.sort(rows)].reset_index(drop=True)


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else ""


def _fault(name: str, phase: str, error: Exception) -> GeneratorFault:
    lines = traceback.format_exc().strip().splitlines()
    return GeneratorFault(f"generator {name!r} failed in {phase}: {type(error).__name__}: "
                          f"{_first_line(error)}", phase=phase, detail="\n".join(lines[-12:]))


def build(cls: type[Generator], options: dict) -> Generator:
    """``cls(**options)``; :class:`GeneratorFault` (phase "init") when that raises."""
    try:
        return cls(**options)
    except Exception as error:  # the plugin's fault, or options it refuses
        raise _fault(cls.name, "init", error) from None


def fit(generator: Generator, train: GenotypeData, *, name: str, seeds: JobSeeds,
        context: FitContext | None = None,
        progress: Callable[..., None] | None = None) -> PhaseTiming:
    """Fit ``generator`` on ``train`` with the seed ``seeds.fit``; the phase's resources.

    :param name: the generator's registry name, for messages.
    :param progress: called as ``progress(phase="fit")`` first (the progress display).
    :raises GeneratorFault: naming the generator, the phase and the reason.
    """
    if progress:
        progress(phase="fit")
    try:
        with measure() as usage:
            generator.fit(train, seed=seeds.fit, context=context)
    except Exception as error:  # the plugin's fault
        raise _fault(name, "fit", error) from None
    return PhaseTiming(**usage.as_dict())


def fit_report(generator: Generator, *, name: str) -> dict:
    """``generator.fit_report()`` as plain JSON values ({} when it reports nothing).

    NaN and infinities become None. A report that raises or is no mapping of JSON values gives
    ``{"error": one line}`` naming the generator and the reason: the leaderboard shows it, and
    the job's fit, output and scores are kept.
    """
    try:
        report = generator.fit_report()
        if report is None:
            return {}
        if not isinstance(report, dict):
            raise TypeError(f"returned {type(report).__name__}, not a dict")
        return finite_json(json.loads(json.dumps(report)))
    except Exception as error:  # the plugin's fault; the job's results stand
        return {"error": f"generator {name!r}: fit_report() {type(error).__name__}: "
                         f"{_first_line(error)}"}


def generate(generator: Generator, train: GenotypeData, n: int, *, name: str, seeds: JobSeeds,
             progress: Callable[..., None] | None = None) -> Output:
    """Generate ``n`` individuals on ``train``'s SNPs with the seed ``seeds.generate`` and
    check them (:func:`genobench.check_dosages`: shape, integer dosages in 0..2).

    A conditional generator (``supports_phenotypes``) is given ``n`` phenotype rows of the
    training split (:func:`conditioning_phenotypes`, seeded by ``seeds.generate``).

    :raises GeneratorFault: naming the generator, the phase and the reason; for output that
        fails the check, the check's message (it names the individual and SNP).
    """
    if progress:
        progress(phase="generate")
    try:
        conditioning = conditioning_phenotypes(train, n, seed=seeds.generate) \
            if generator.supports_phenotypes else None
        phenotypes = None if conditioning is None else conditioning.to_numpy(dtype=np.float64)
        with measure() as usage:
            output = generator.generate(n, seed=seeds.generate, phenotypes=phenotypes)
    except Exception as error:  # the plugin's fault
        raise _fault(name, "generate", error) from None
    try:
        dosages = check_dosages(output, who=f"generator {name!r} output", n_samples=n,
                                n_snps=train.n_snps)
    except Exception as error:  # noqa: BLE001 - whatever the plugin returned
        lines = traceback.format_exc().strip().splitlines()
        raise GeneratorFault(_first_line(error), phase="output check",
                             detail="\n".join(lines[-12:])) from None
    return Output(dosages=dosages, conditioning=conditioning,
                  timing=PhaseTiming(**usage.as_dict()))
