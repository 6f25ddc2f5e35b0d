"""Where jobs run: in this process, in one fresh process per job (the default), or on Dask.

Every executor takes a list of :class:`~genobench.runner.Job` and calls
``on_result(job, record)`` in this process as each job ends, so the caller writes each record at
once. The process executor isolates plugins: a job that crashes the interpreter, runs past its
time limit or uses more memory than its limit becomes a failed record; the other jobs go on.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable

import psutil

from .errors import GenobenchError
from .runner import Job, failed_record, run_job

OnResult = Callable[[Job, dict], None]
OnProgress = Callable[[Job, dict], None]


def _safe_run_job(job: Job, progress=None) -> dict:
    """:func:`run_job` that also turns harness errors (a bad suite) into a failed record."""
    try:
        return run_job(job, progress=progress)
    except GenobenchError as error:
        return failed_record(job, str(error))
    except Exception as error:  # noqa: BLE001 - a record must come back whatever happened
        import traceback

        return failed_record(job, f"{type(error).__name__}: {error}",
                             "\n".join(traceback.format_exc().splitlines()[-12:]))


class InlineExecutor:
    """Runs jobs one after another in this process: no isolation, easiest to debug."""

    name = "inline"

    def run(self, jobs: list[Job], on_result: OnResult, on_progress: OnProgress | None = None):
        for job in jobs:
            progress = ((lambda job=job, **values: on_progress(job, values)) if on_progress
                        else None)
            if progress:
                progress(phase="starting")
            on_result(job, _safe_run_job(job, progress))


def _child(job: Job, connection, threads: int) -> None:
    """Entry point of a job's process: run it, send progress and the record through the pipe."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass

    def progress(**values):
        connection.send(("progress", values))

    connection.send(("result", _safe_run_job(job, progress)))
    connection.close()


def _kill_tree(process: multiprocessing.Process) -> None:
    try:
        parent = psutil.Process(process.pid)
        for child in parent.children(recursive=True):
            child.kill()
        parent.kill()
    except psutil.Error:
        pass
    process.join(5)


def _tree_rss(pid: int) -> int:
    try:
        parent = psutil.Process(pid)
        total = parent.memory_info().rss
        for child in parent.children(recursive=True):
            total += child.memory_info().rss
        return total
    except psutil.Error:
        return 0


class ProcessExecutor:
    """One fresh (spawned) process per job, ``jobs`` at a time, with time and memory limits.

    :param jobs: processes running at once; torch threads are shared out among them.
    :param poll: seconds between checks of the running processes.
    """

    name = "local"

    def __init__(self, jobs: int = 1, poll: float = 0.05):
        self.jobs = max(1, int(jobs))
        self.poll = poll
        self._context = multiprocessing.get_context("spawn")

    def run(self, jobs: list[Job], on_result: OnResult, on_progress: OnProgress | None = None):
        pending = list(jobs)
        running: dict[int, tuple] = {}
        threads = max(1, (os.cpu_count() or 1) // self.jobs)
        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    job = pending.pop(0)
                    receiver, sender = self._context.Pipe(duplex=False)
                    process = self._context.Process(target=_child, args=(job, sender, threads),
                                                    name=f"genobench-{job.id}", daemon=True)
                    process.start()
                    sender.close()
                    if on_progress:  # the job's own process reports its phases and steps
                        on_progress(job, {"phase": "starting"})
                    running[process.pid] = (job, process, receiver, time.monotonic(), 0)
                for pid, (job, process, receiver, start, peak) in list(running.items()):
                    record = self._check(job, process, receiver, start, peak, on_progress)
                    if record is None:
                        running[pid] = (job, process, receiver, start,
                                        max(peak, _tree_rss(pid)))
                        continue
                    del running[pid]
                    receiver.close()
                    on_result(job, record)
                time.sleep(self.poll)
        finally:
            for _job, process, _receiver, *_ in running.values():
                _kill_tree(process)

    def _check(self, job, process, receiver, start, peak, on_progress):
        """The job's record if it has ended (finished, crashed or stopped), else None."""
        try:
            while receiver.poll():
                kind, payload = receiver.recv()
                if kind == "progress":
                    if on_progress:
                        on_progress(job, payload)
                else:
                    process.join(10)
                    return payload
        except (EOFError, OSError):
            pass
        if not process.is_alive():
            process.join()
            code = process.exitcode
            how = f"killed by signal {-code}" if code and code < 0 else f"exited with code {code}"
            return failed_record(job, f"generator {job.generator!r}: the job's process {how} "
                                      "before returning a result")
        elapsed = time.monotonic() - start
        if job.time_limit is not None and elapsed > job.time_limit:
            _kill_tree(process)
            return failed_record(job, f"generator {job.generator!r} timed out after "
                                      f"{job.time_limit:g} s")
        if job.memory_limit is not None:
            rss = _tree_rss(process.pid)
            if rss > job.memory_limit * 2**30:
                _kill_tree(process)
                return failed_record(job, f"generator {job.generator!r} exceeded "
                                          f"{job.memory_limit:g} GB of memory "
                                          f"({rss / 2**30:.2f} GB in use)")
        return None


def make_executor(name: str = "local", *, jobs: int = 1, scheduler: str | None = None):
    """The executor called ``name``: "local" (processes), "inline" or "dask"."""
    if scheduler is not None or name == "dask":
        from .dask_executor import DaskExecutor

        return DaskExecutor(address=scheduler, workers=jobs)
    if name == "inline":
        return InlineExecutor()
    if name == "local":
        return ProcessExecutor(jobs=jobs)
    raise GenobenchError(f"unknown executor {name!r} (known: local, inline, dask)")
