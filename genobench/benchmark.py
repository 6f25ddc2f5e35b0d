"""A whole benchmark run: plan the jobs, prepare the suites, execute, store, render; and
preparing suites ahead of a run (:func:`prepare_suites`).

This is what ``genobench run`` calls. Each record is written atomically the moment its job
ends, so a run that is interrupted loses only the jobs in flight; ``resume=True`` skips jobs
whose records exist. A lock file keeps two runs from writing to one output folder, and a run
into a folder with records adds to them (:mod:`genobench.outputs`).
"""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from . import results as results_module
from .errors import ResultsError
from .outputs import (
    EarlierRecords,
    OutputLock,
    clear_output_folder,
    earlier_records,
    mixed_suite_data,
)
from .records import JobRecord
from .runner import Job, check_output_folder, plan
from .suites import SuiteSpec, cache_folder, cache_key, materialize


@dataclasses.dataclass
class RunSummary:
    """What a run did: output folder, jobs run and skipped, records, leaderboard files.

    ``records`` are every record in ``out`` (the leaderboard's), ``earlier`` what the folder
    held before the run, ``removed`` how many records ``overwrite`` deleted.
    """

    out: Path
    ran: list[Job]
    skipped: list[Job]
    records: list[JobRecord]
    leaderboard: dict
    earlier: EarlierRecords = EarlierRecords()
    removed: int = 0


def run_benchmark(specs: list[SuiteSpec], out: Path, *, executor, resume: bool = False,
                  overwrite: bool = False,
                  on_result: Callable[[Job, JobRecord], None] | None = None,
                  on_progress=None, on_prepare=None, on_start=None, title: str | None = None,
                  prepare_jobs: int = 1, **plan_options) -> RunSummary:
    """Run every job of ``specs`` and render the leaderboard of every record under ``out``.

    Records already in ``out`` stay, and the leaderboard covers them too; those of jobs this
    run runs again are replaced, unless ``resume`` skips those jobs. ``overwrite`` first deletes
    the folder's records and leaderboards. Stored records of a suite made from other data (another
    size, seed or software version) are refused rather than mixed in.

    :param plan_options: generators, seeds, profile, metrics, time_limit, memory_limit,
        options (see :func:`genobench.runner.plan`).
    :param on_prepare: called as ``on_prepare(suite name, cached=bool)`` before each suite is
        materialized.
    :param prepare_jobs: suites materialized at once before the jobs start
        (:func:`prepare_suites`; ``genobench run`` passes its ``-j``): the 22 human
        chromosomes take about half the time on 2 cores.
    :param on_start: called with (jobs to run, jobs skipped) before the first job starts.
    """
    from .report import render_leaderboard

    if resume and overwrite:
        raise ResultsError("--resume keeps finished jobs and --overwrite deletes them: "
                           "choose one")
    out = Path(out)
    jobs = plan(specs, **plan_options)  # unknown names fail here, before any work
    check_output_folder(out)
    with OutputLock(out):
        removed = clear_output_folder(out) if overwrite else 0
        earlier = earlier_records(out, [job.id for job in jobs], resume=resume)
        if earlier.kept:
            keys = {spec.name: cache_key(spec) for spec in specs}
            kept = set(earlier.kept)
            mixed = mixed_suite_data([r for r in results_module.load_results(out)
                                      if r.id in kept], keys)
            if mixed:
                suite, count = sorted(mixed.items())[0]
                raise ResultsError(
                    f"{out}: {count} stored record(s) of suite {suite!r} were made from other "
                    "data (another --size, seed, source or software version); use --overwrite "
                    "to start afresh, or another --out")
        done = set(earlier.skipped)
        todo = [job for job in jobs if job.id not in done]
        skipped = [job for job in jobs if job.id in done]
        # materialize once here, ``prepare_jobs`` suites at once; each job then reads the cache
        prepare_suites([spec for spec in specs if any(job.suite == spec.name for job in todo)],
                       jobs=prepare_jobs, on_start=on_prepare)
        results_module.write_json_atomic(out / "run.json", dict(
            suites=[spec.name for spec in specs],
            suite_files=[str(spec.path) for spec in specs],
            jobs=[job.id for job in jobs],
            provenance=results_module.provenance(**{
                k: v for k, v in plan_options.items() if v is not None})))

        def store(job, record):
            results_module.write_result(out, record)
            if on_result:
                on_result(job, record)

        if on_start:
            on_start(todo, skipped)
        executor.run(todo, store, on_progress)
        records = results_module.load_results(out)
        if not records:
            raise ResultsError(f"{out}: the run produced no records")
        leaderboard = render_leaderboard(records, out, title=title)
    return RunSummary(out, todo, skipped, records, leaderboard, earlier, removed)


def _prepare_one(spec: SuiteSpec, *, refresh: bool) -> tuple[str, dict]:
    """Materialize one suite; module level so a process pool can run it."""
    return spec.name, materialize(spec, refresh=refresh).info


def prepare_suites(specs: list[SuiteSpec], *, refresh: bool = False, jobs: int = 1,
                   on_start: Callable | None = None, on_done: Callable | None = None) -> None:
    """Materialize ``specs`` ahead of a run (``genobench prepare``), ``jobs`` suites at once in
    spawned processes.

    Cached suites are announced at once; suites joining other suites (``kind = "suites"``)
    come last, when their members are cached. A failure, Ctrl-C or SIGTERM starts no further
    suite.

    :param on_start: called as ``on_start(name, cached=bool)`` when a suite starts.
    :param on_done: called as ``on_done(name, info)`` with what materialize reports.
    """
    on_start = on_start or (lambda name, cached: None)
    on_done = on_done or (lambda name, info: None)
    one = functools.partial(_prepare_one, refresh=refresh)
    cached = {spec.name: not refresh and cache_folder(spec).is_dir() for spec in specs}
    joined = [spec for spec in specs if spec.source.get("kind") == "suites"]
    specs = [spec for spec in specs if spec.source.get("kind") != "suites"]
    for spec in specs + joined:  # cached ones are announced (and done) at once
        if cached[spec.name]:
            on_start(spec.name, cached=True)
    todo = [spec for spec in specs if not cached[spec.name]]
    if jobs > 1 and len(todo) > 1:
        pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))
        try:
            futures = [pool.submit(one, spec) for spec in todo]
            for spec in todo[:jobs]:  # the pool takes suites in order, `jobs` at a time
                on_start(spec.name, cached=False)
            waiting = todo[jobs:]
            for future in as_completed(futures):
                on_done(*future.result())
                if waiting:
                    on_start(waiting.pop(0).name, cached=False)
        except BaseException:  # an error, Ctrl-C or SIGTERM: start no further suite
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
    else:
        for spec in todo:
            on_start(spec.name, cached=False)
            on_done(*one(spec))
    for spec in [s for s in specs if cached[s.name]] + joined:
        if not cached[spec.name]:
            on_start(spec.name, cached=False)
        on_done(*one(spec))
