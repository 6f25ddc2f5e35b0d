"""One job in a fresh child process, watched for its time and memory limits.

Shared by the process executor (several at once on this machine) and the Dask executor (one per
task on a worker): a job that crashes the interpreter, runs past its time limit or uses more
memory than its limit becomes a failed record, and the process tree is killed.

Where the platform has it (Linux, macOS) every job's process is forked from a multiprocessing
*forkserver* that imported torch, genobench and the first-party plugins once
(:data:`PRELOAD`): a job starts in about 0.07 s instead of the 1.4 s a spawned interpreter takes
to import them, and is still a fresh process of its own (nothing of one job reaches the next).
The server was started with the environment of its first job, so each job carries its parent's
``os.environ`` and ``sys.path`` as they are when it starts and applies them first. Elsewhere
(Windows) jobs are spawned.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time

import psutil

from ..records import JobRecord
from ..runner import Job, failed_record
from .base import safe_run_job

__all__ = ["JobProcess", "PRELOAD", "run_isolated"]

#: Modules the forkserver imports once for every job it forks (missing ones are skipped).
PRELOAD = ["numpy", "scipy.linalg", "sklearn.linear_model", "torch", "genobench.runner",
           "genobench.registry", "genobench.metrics.core",
           "genobench_plugins.vae", "genobench_plugins.gan", "genobench_plugins.diffusion",
           "genobench_plugins.coalescent"]


def _job_context():
    """forkserver (preloading :data:`PRELOAD`) where the platform has it, else spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def _child(job: Job, connection, threads: int, environment: dict, path: list) -> None:
    """Entry point of a job's process: take the parent's environment and import path, run
    the job, send progress and the record through the pipe.

    The run that started it decides when a job stops (a Ctrl-C reaches the whole terminal
    process group; the run then kills its jobs), so the job ignores SIGINT; once the run is
    gone nobody reads the pipe, and the job ends without a word.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(environment)
    sys.path[:] = path
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass

    def progress(**values):
        try:
            connection.send(("progress", values))
        except OSError:  # the run has gone: nobody to tell
            os._exit(1)

    try:
        connection.send(("result", safe_run_job(job, progress)))
        connection.close()
    except OSError:
        os._exit(1)


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its children (0 once it is gone)."""
    try:
        parent = psutil.Process(pid)
        total = parent.memory_info().rss
        for child in parent.children(recursive=True):
            total += child.memory_info().rss
        return total
    except psutil.Error:
        return 0


class JobProcess:
    """A job running in a spawned child process.

    :param threads: torch and OpenMP threads the job may use.
    """

    _context = _job_context()

    def __init__(self, job: Job, *, threads: int = 1):
        self.job = job
        self._receiver, sender = self._context.Pipe(duplex=False)
        self._process = self._context.Process(
            target=_child, args=(job, sender, threads, dict(os.environ), list(sys.path)),
            name=f"genobench-{job.id}", daemon=True)
        self._process.start()
        sender.close()
        self._start = time.monotonic()
        self.peak_rss = 0

    def poll(self, on_progress=None) -> JobRecord | None:
        """The job's record if it has ended (finished, crashed or stopped at a limit), else
        None; progress messages that arrived go to ``on_progress(job, values)``."""
        job, process = self.job, self._process
        try:
            while self._receiver.poll():
                kind, payload = self._receiver.recv()
                if kind == "progress":
                    if on_progress:
                        on_progress(job, payload)
                else:
                    process.join(10)
                    return self._close(payload)
        except (EOFError, OSError):
            pass
        if not process.is_alive():
            process.join()
            code = process.exitcode
            how = f"killed by signal {-code}" if code and code < 0 else f"exited with code {code}"
            return self._close(failed_record(job, f"generator {job.generator!r}: the job's "
                                                  f"process {how} before returning a result"))
        elapsed = time.monotonic() - self._start
        if job.time_limit is not None and elapsed > job.time_limit:
            self.kill()
            return self._close(failed_record(job, f"generator {job.generator!r} timed out "
                                                  f"after {job.time_limit:g} s"))
        rss = _tree_rss(process.pid)
        self.peak_rss = max(self.peak_rss, rss)
        if job.memory_limit is not None and rss > job.memory_limit * 2**30:
            self.kill()
            return self._close(failed_record(
                job, f"generator {job.generator!r} exceeded {job.memory_limit:g} GB of memory "
                     f"({rss / 2**30:.2f} GB in use)"))
        return None

    def kill(self) -> None:
        """Kill the job's process and every process it started (nothing once it has ended)."""
        if not self._process.is_alive():
            return
        try:
            parent = psutil.Process(self._process.pid)
            for child in parent.children(recursive=True):
                child.kill()
            parent.kill()
        except psutil.Error:
            pass
        self._process.join(5)

    def _close(self, record: JobRecord) -> JobRecord:
        self._receiver.close()
        return record


def run_isolated(job: Job, *, poll: float = 0.05, threads: int | None = None) -> JobRecord:
    """Run one job in a child process until it ends; its record (failed at a limit or crash).

    :param threads: for the job; default every core of this machine (one job at a time).
    """
    running = JobProcess(job, threads=threads or os.cpu_count() or 1)
    try:
        while (record := running.poll()) is None:
            time.sleep(poll)
        return record
    finally:
        running.kill()
