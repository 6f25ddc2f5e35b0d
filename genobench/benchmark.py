"""A whole benchmark run: plan the jobs, prepare the suites, execute, store, render.

This is what ``genobench run`` calls. Each record is written atomically the moment its job
ends, so a run that is interrupted loses only the jobs in flight; ``resume=True`` skips jobs
whose records exist. A lock file keeps two runs from writing to one output folder.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from . import results as results_module
from .errors import ResultsError
from .runner import Job, check_output_folder, finished_jobs, plan
from .suites import SuiteSpec, materialize

LOCK_NAME = ".genobench.lock"


class OutputLock:
    """An exclusive lock on an output folder; a second run gets a clear refusal."""

    def __init__(self, out: Path):
        self.path = Path(out) / LOCK_NAME

    def __enter__(self):
        self._handle = open(self.path, "a+")
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle.seek(0)
            holder = self._handle.read().strip() or "another process"
            self._handle.close()
            raise ResultsError(f"{self.path.parent}: another genobench run ({holder}) is writing "
                               "to this output folder; wait for it or use another --out") from None
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(f"pid {os.getpid()}")
        self._handle.flush()
        return self

    def __exit__(self, *exc):
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
        return False


@dataclasses.dataclass
class RunSummary:
    """What a run did: output folder, jobs run and skipped, records, leaderboard files."""

    out: Path
    ran: list[Job]
    skipped: list[Job]
    records: list[dict]
    leaderboard: dict


def run_benchmark(specs: list[SuiteSpec], out: Path, *, executor, resume: bool = False,
                  on_result: Callable[[Job, dict], None] | None = None,
                  on_progress=None, on_prepare=None, title: str | None = None,
                  **plan_options) -> RunSummary:
    """Run every job of ``specs`` and render the leaderboard of everything under ``out``.

    :param plan_options: generators, seeds, profile, metrics, time_limit, memory_limit,
        options (see :func:`genobench.runner.plan`).
    :param on_prepare: called with each suite name before it is materialized.
    """
    from .report import render_leaderboard

    out = Path(out)
    jobs = plan(specs, **plan_options)  # unknown names fail here, before any work
    check_output_folder(out)
    with OutputLock(out):
        done = finished_jobs(out) if resume else set()
        todo = [job for job in jobs if job.id not in done]
        skipped = [job for job in jobs if job.id in done]
        for spec in specs:  # materialize once here; each job then reads the cache
            if any(job.suite == spec.name for job in todo):
                if on_prepare:
                    on_prepare(spec.name)
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

        executor.run(todo, store, on_progress)
        wanted = {job.id for job in jobs}
        records = [r for r in results_module.load_results(out)
                   if results_module.job_id(r["suite"], r["generator"], r["seed"]) in wanted]
        if not records:
            raise ResultsError(f"{out}: the run produced no records")
        leaderboard = render_leaderboard(records, out, title=title)
    return RunSummary(out, todo, skipped, records, leaderboard)
