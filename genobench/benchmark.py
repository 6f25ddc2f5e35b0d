"""A whole benchmark run: plan the jobs, prepare the suites, execute, store, render.

This is what ``genobench run`` calls. Each record is written atomically the moment its job
ends, so a run that is interrupted loses only the jobs in flight; ``resume=True`` skips jobs
whose records exist. A lock file keeps two runs from writing to one output folder, and a run
into a folder with records adds to them (:mod:`genobench.outputs`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
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
                  **plan_options) -> RunSummary:
    """Run every job of ``specs`` and render the leaderboard of every record under ``out``.

    Records already in ``out`` stay, and the leaderboard covers them too; those of jobs this
    run runs again are replaced, unless ``resume`` skips those jobs. ``overwrite`` first deletes
    the folder's records and leaderboards. Stored records of a suite made from other data (another
    size, seed or software version) are refused rather than mixed in.

    :param plan_options: generators, seeds, profile, metrics, time_limit, memory_limit,
        options (see :func:`genobench.runner.plan`).
    :param on_prepare: called as ``on_prepare(suite name, cached=bool)`` before each suite is
        materialized.
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
        for spec in specs:  # materialize once here; each job then reads the cache
            if any(job.suite == spec.name for job in todo):
                if on_prepare:
                    on_prepare(spec.name, cached=cache_folder(spec).is_dir())
                materialize(spec)
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
