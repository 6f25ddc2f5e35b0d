"""Benchmark jobs: one (suite x generator x seed) each, from fit to a job record.

:func:`plan` turns suite specs and command-line choices into :class:`Job` objects; :func:`run_job`
does one job completely (the generator's life in :mod:`genobench.lifecycle`: fit on train,
generate as many individuals as the test split, check the output; then evaluate against test and
train) and returns its :class:`~genobench.records.JobRecord`, turning any fault of the generator
into a failed record instead of an exception. Executors (:mod:`genobench.executors`) decide where
jobs run; :func:`genobench.benchmark.run_benchmark` ties it together and stores each record as
soon as it exists.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from . import results as results_module
from .anchors import ANCHORS, REFERENCE
from .data import GenotypeData
from .errors import GenobenchError, ResultsError, SpecError
from .generators import FitContext
from .lifecycle import GeneratorFault, build, fit, fit_report, generate, job_seeds
from .metrics.base import EvaluationContext, evaluate
from .records import JobRecord, MetricInfo, MetricValue, PhaseTiming, job_id
from .registry import get_generator, get_metric, get_registry, provider_of
from .resources import measure
from .suites import SuiteSpec, materialize, parse_spec
from .traits import phenotypes_from_truth, truth_from_info


@dataclasses.dataclass(frozen=True)
class Job:
    """One unit of work. Carries the suite file's text, so it runs anywhere (a Dask worker).

    :ivar time_limit: seconds for the whole job, or None.
    :ivar memory_limit: GB of resident memory for the whole job, or None.
    :ivar size: the suite size (``--size``: a ``[sizes]`` name or a sample factor; None the
        default), carried here so a worker on another host builds the same suite.
    """

    suite: str
    suite_text: str
    suite_path: str | None
    generator: str
    seed: int
    options: tuple = ()
    profile: str = "quick"
    metrics: tuple | None = None
    time_limit: float | None = None
    memory_limit: float | None = None
    size: str | None = None

    @property
    def id(self) -> str:
        return job_id(self.suite, self.generator, self.seed)

    def spec(self) -> SuiteSpec:
        path = Path(self.suite_path) if self.suite_path else None
        return parse_spec(self.suite_text, where=self.suite_path or self.suite,
                          default_name=self.suite, path=path, size=self.size)


def plan(specs: list[SuiteSpec], *, generators: list[str] | None = None,
         seeds: list[int] | None = None, profile: str | None = None,
         metrics: list[str] | None = None, time_limit: float | None = None,
         memory_limit: float | None = None, options: dict | None = None) -> list[Job]:
    """The jobs of a run; command-line choices override each suite's ``[run]`` table.

    Unknown generator or metric names raise :class:`~genobench.errors.UnknownNameError` before
    anything runs. ``options`` maps a generator name to hyperparameters overriding the suite's.
    The anchors (:data:`genobench.anchors.ANCHORS`: the reference and the two baselines every
    scorecard score is measured between) run for every suite and seed even when
    ``generators`` leaves them out.
    """
    registry = get_registry()
    jobs = []
    for spec in specs:
        names = list(generators or spec.run.generators or sorted(registry.generators))
        names += [name for name in ANCHORS if name not in names]
        for name in names:
            get_generator(name)
        metric_names = metrics or spec.evaluate.metrics
        for name in metric_names or ():
            get_metric(name)
        text = spec.path.read_text(encoding="utf-8") if spec.path else None
        if text is None:
            raise SpecError(f"suite {spec.name!r} has no file to run from")
        for name in names:
            merged = dict(spec.generators.get(name, {}))
            merged.update((options or {}).get(name, {}))
            run_seeds = list(seeds or spec.run.seeds)
            if name == REFERENCE:  # real data: the same draws whatever the seed
                run_seeds = run_seeds[:1]
            for seed in run_seeds:
                jobs.append(Job(
                    suite=spec.name, suite_text=text, suite_path=str(spec.path), generator=name,
                    seed=int(seed), options=tuple(sorted(merged.items())),
                    profile=profile or spec.run.profile,
                    metrics=tuple(metric_names) if metric_names else None,
                    time_limit=time_limit if time_limit is not None else spec.run.time_limit,
                    memory_limit=(memory_limit if memory_limit is not None
                                  else spec.run.memory_limit),
                    size=spec.size))
    return jobs


def torch_device() -> str:
    """"cuda" when torch finds a GPU, else "cpu"."""
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:
        return "cpu"


def _generator_info(cls, options: dict) -> dict:
    provider = provider_of("generator", cls.name)
    return dict(description=cls.description, citation=cls.citation, options=options,
                provider=str(provider) if provider else None,
                is_reference=bool(cls.is_reference),
                supports_phenotypes=bool(cls.supports_phenotypes))


def base_record(job: Job) -> JobRecord:
    """The fields every record of ``job`` has, finished or failed (status "failed" until the
    job ends well): generator documentation and provenance."""
    try:
        generator_info = _generator_info(get_generator(job.generator), dict(job.options))
    except GenobenchError:
        generator_info = {}
    return JobRecord(
        suite=job.suite, generator=job.generator, seed=job.seed, generator_info=generator_info,
        provenance=results_module.provenance(
            suite=job.suite, generator=job.generator, seed=job.seed, options=dict(job.options),
            profile=job.profile, time_limit=job.time_limit, memory_limit=job.memory_limit,
            size=job.size))


def failed_record(job: Job, error: str, detail: str | None = None,
                  record: JobRecord | None = None) -> JobRecord:
    """``record`` (or a fresh one of ``job``) marked failed with a one-line reason."""
    return (record or base_record(job)).failed(error, detail)


def run_job(job: Job, *, progress=None) -> JobRecord:
    """Fit, generate, validate and evaluate one job; always returns a record.

    Faults of the generator (exceptions in fit or generate, invalid output) give a failed
    record naming the generator, the phase and the reason; the suite and metrics are trusted.
    """
    spec = job.spec()
    suite = materialize(spec)
    record = dataclasses.replace(
        base_record(job), suite_info={k: v for k, v in suite.info.items() if k != "seconds"})
    cls = get_generator(job.generator)
    device = torch_device()
    seeds = job_seeds(job.seed)
    context = FitContext(validation=suite.validation, reference=suite.reference_draws,
                         source=suite.source, suite=suite.name, profile=job.profile,
                         time_limit=job.time_limit, device=device, progress=progress)
    timing: dict[str, PhaseTiming] = {}
    try:  # the generator's faults become a failed row; the run goes on
        generator = build(cls, dict(job.options))
        timing["fit"] = fit(generator, suite.train, name=job.generator, seeds=seeds,
                            context=context, progress=progress)
        record = dataclasses.replace(record, training=fit_report(generator, name=job.generator))
        output = generate(generator, suite.train, suite.test.n_samples, name=job.generator,
                          seeds=seeds, progress=progress)
    except GeneratorFault as fault:
        return dataclasses.replace(record, timing=timing).failed(str(fault), fault.detail)
    timing["generate"] = output.timing
    truth = truth_from_info(suite.info)
    if cls.is_reference and job.generator == REFERENCE:
        # The reference row is scored on every reference draw (real individuals with their
        # own phenotypes): the mean is its value, the spread each metric's noise floor.
        sets = suite.reference_draws
    else:
        sets = [synthetic_set(suite, output.dosages, job.generator, output.conditioning, truth,
                              seed=seeds.phenotypes)]
    if progress:
        progress(phase="evaluate")
    evaluations = [evaluate_synthetic(suite.test, synthetic, train=suite.train, spec=spec,
                                      metric_names=job.metrics, device=device, truth=truth)
                   for synthetic in sets]
    metrics, curves, info, usage = \
        evaluations[0] if len(evaluations) == 1 else pool_draws(evaluations)
    return dataclasses.replace(
        record, status="ok",
        metrics={name: MetricValue.from_json(value) for name, value in metrics.items()},
        curves=curves,
        metric_info={name: MetricInfo.from_json(dict(raw, name=name))
                     for name, raw in info.items()},
        timing=dict(timing, evaluate=PhaseTiming.from_json(usage)))


def synthetic_set(suite, dosages: np.ndarray, generator: str, conditioning, truth, *,
                  seed: int) -> GenotypeData:
    """The generator's output as a data set on the suite's SNPs, with phenotypes: those a
    conditional generator was given; else, on a simulated suite, the true causal model's
    (only traits whose causal variants are all on the panel); else none."""
    synthetic = suite.test.with_dosages(dosages, sample_prefix=f"{generator}_",
                                        phenotypes=conditioning)
    if conditioning is None and truth is not None:
        synthetic = dataclasses.replace(
            synthetic, phenotypes=phenotypes_from_truth(synthetic, truth, seed=seed))
    return synthetic


def pool_draws(evaluations: list[tuple]) -> tuple:
    """One record's (metrics, curves, metric_info, usage) from the evaluations of several
    reference draws: each metric's value is the mean over the draws that have one, with
    ``draws`` listing every draw's value (the scorecard's noise floor); curves and notes are
    the first draw's; seconds add up."""
    first_metrics, curves, info, usage = evaluations[0]
    metrics = {}
    for name, first in first_metrics.items():
        values = [evaluation[0][name]["value"] for evaluation in evaluations]
        present = [v for v in values if v is not None]
        metrics[name] = dict(first, value=float(np.mean(present)) if present else None,
                             draws=values,
                             seconds=round(sum(e[0][name]["seconds"] for e in evaluations), 4))
    usage = dict(usage, seconds=sum(e[3].get("seconds", 0.0) for e in evaluations))
    return metrics, curves, info, usage


def evaluate_synthetic(real: GenotypeData, synthetic: GenotypeData, *, train=None,
                       spec: SuiteSpec | None = None, metric_names=None, device="cpu",
                       truth: dict | None = None):
    """Evaluate synthetic against real individuals with the chosen (default: all) metrics.

    ``truth`` is what a simulated suite knows (``{"traits": ...}``, see
    :func:`genobench.traits.truth_from_info`), for metrics that score against it.

    :returns: (metrics {name: {value, note}}, curves {name: {...}}, metric_info, evaluate usage).
    """
    registry = get_registry()
    names = list(metric_names) if metric_names else sorted(registry.metrics)
    metrics = [get_metric(name) for name in names]
    options = spec.evaluate.options() if spec is not None else {}
    context = EvaluationContext(real=real, synthetic=synthetic, train=train, options=options,
                                device=device, truth=truth)
    with measure() as usage:
        outcomes, seconds = evaluate(context, metrics)
    values = {name: dict(value=r.value, note=r.note, seconds=round(seconds[name], 4))
              for name, r in outcomes.items()}
    curves = {name: r.curves for name, r in outcomes.items() if r.curves}
    info = {metric.name: metric.describe() for metric in metrics}
    return values, curves, info, usage.as_dict()


def finished_jobs(out: Path) -> set[str]:
    """Ids of the jobs whose records already exist under ``out`` (for ``--resume``)."""
    folder = Path(out) / results_module.RESULTS_FOLDER
    return {path.stem for path in folder.glob("*.json")} if folder.is_dir() else set()


def check_output_folder(out: Path) -> None:
    """Create ``out`` if needed; :class:`ResultsError` when it cannot be written."""
    out = Path(out)
    try:
        (out / results_module.RESULTS_FOLDER).mkdir(parents=True, exist_ok=True)
        probe = out / ".genobench-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise ResultsError(f"{out}: output folder cannot be written ({error.strerror or error})") \
            from None
