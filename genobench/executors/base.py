"""The one interface of executors, and the guard every executor runs a job through."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Protocol

from ..errors import GenobenchError
from ..records import JobRecord
from ..runner import Job, failed_record, run_job

#: Called in the run's process as each job ends, with its record.
OnResult = Callable[[Job, JobRecord], None]
#: Called with a job's progress values ({"phase": ...}, steps, loss) while it runs.
OnProgress = Callable[[Job, dict], None]


class Executor(Protocol):
    """Runs jobs somewhere and hands each record back as the job ends.

    :ivar name: what ``--executor`` calls it.
    """

    name: str

    def run(self, jobs: list[Job], on_result: OnResult,
            on_progress: OnProgress | None = None) -> None:
        """Run every job in ``jobs``; call ``on_result(job, record)`` once per job, in this
        process, whatever happened to it (a crash, a time or memory limit: a failed record)."""


def safe_run_job(job: Job, progress=None) -> JobRecord:
    """:func:`genobench.runner.run_job` that also turns harness errors (a bad suite) and any
    other exception into a failed record: a record always comes back."""
    try:
        return run_job(job, progress=progress)
    except GenobenchError as error:
        return failed_record(job, str(error))
    except Exception as error:  # noqa: BLE001 - a record must come back whatever happened
        return failed_record(job, f"{type(error).__name__}: {error}",
                             "\n".join(traceback.format_exc().splitlines()[-12:]))
