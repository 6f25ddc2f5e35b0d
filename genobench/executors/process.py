"""The process executor: one fresh process per job, several at a time, with limits."""

from __future__ import annotations

import os
import time

from ..runner import Job
from .base import OnProgress, OnResult
from .isolation import JobProcess


class ProcessExecutor:
    """One fresh (spawned) process per job, ``jobs`` at a time, with time and memory limits
    (:class:`~.isolation.JobProcess`).

    :param jobs: processes running at once; torch threads are shared out among them.
    :param poll: seconds between checks of the running processes.
    """

    name = "local"

    def __init__(self, jobs: int = 1, poll: float = 0.05):
        self.jobs = max(1, int(jobs))
        self.poll = poll

    def run(self, jobs: list[Job], on_result: OnResult, on_progress: OnProgress | None = None):
        pending = list(jobs)
        running: list[JobProcess] = []
        threads = max(1, (os.cpu_count() or 1) // self.jobs)
        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    job = pending.pop(0)
                    running.append(JobProcess(job, threads=threads))
                    if on_progress:  # the job's own process reports its phases and steps
                        on_progress(job, {"phase": "starting"})
                for process in list(running):
                    record = process.poll(on_progress)
                    if record is not None:
                        running.remove(process)
                        on_result(process.job, record)
                time.sleep(self.poll)
        finally:
            for process in running:
                process.kill()
