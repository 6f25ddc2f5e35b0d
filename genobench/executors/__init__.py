"""Where jobs run, behind one interface (:class:`~.base.Executor`).

- ``inline`` (:class:`InlineExecutor`): one after another in this process; no isolation,
  easiest to debug;
- ``local`` (:class:`ProcessExecutor`, the default): one fresh process per job, several at a
  time, with time and memory limits;
- ``dask`` (:class:`DaskExecutor`): on a Dask cluster, each job in a fresh process on a worker.

Every executor takes a list of :class:`~genobench.runner.Job` and calls ``on_result(job,
record)`` in this process as each job ends, so the caller stores each record at once. The
executors share :mod:`.base` (the interface, :func:`~.base.safe_run_job`) and :mod:`.isolation`
(a job in a child process); none imports another.
"""

from __future__ import annotations

from ..errors import GenobenchError
from .base import Executor, OnProgress, OnResult, safe_run_job
from .dask_cluster import DaskExecutor
from .inline import InlineExecutor
from .process import ProcessExecutor

__all__ = ["EXECUTORS", "DaskExecutor", "Executor", "InlineExecutor", "OnProgress", "OnResult",
           "ProcessExecutor", "make_executor", "safe_run_job"]

#: The executors ``--executor`` chooses from, by name.
EXECUTORS = ("local", "inline", "dask")


def make_executor(name: str = "local", *, jobs: int = 1, scheduler: str | None = None) -> Executor:
    """The executor called ``name``: "local" (processes), "inline" or "dask"; a ``scheduler``
    address means dask."""
    if scheduler is not None or name == "dask":
        return DaskExecutor(address=scheduler, workers=jobs)
    if name == "inline":
        return InlineExecutor()
    if name == "local":
        return ProcessExecutor(jobs=jobs)
    raise GenobenchError(f"unknown executor {name!r} (known: {', '.join(EXECUTORS)})")
