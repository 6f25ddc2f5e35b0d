"""The inline executor: jobs one after another in this process."""

from __future__ import annotations

from ..runner import Job
from .base import OnProgress, OnResult, safe_run_job


class InlineExecutor:
    """Runs jobs one after another in this process: no isolation, easiest to debug."""

    name = "inline"

    def run(self, jobs: list[Job], on_result: OnResult, on_progress: OnProgress | None = None):
        for job in jobs:
            progress = ((lambda job=job, **values: on_progress(job, values)) if on_progress
                        else None)
            if progress:
                progress(phase="starting")
            on_result(job, safe_run_job(job, progress))
