"""The Dask executor: jobs on a Dask cluster, a local one started for the run or an existing
scheduler.

Each job still runs in its own fresh process on the worker (:func:`~.isolation.run_isolated`:
the same isolation and time and memory limits as the process executor); records come back to
this process as jobs finish and are stored at once. Workers must have genobench and the
generators' plugins installed. A job carries everything it needs (the suite file's text, its
size), so a worker on another host builds the client's suite without the client's environment.
"""

from __future__ import annotations

from ..errors import GenobenchError
from ..runner import Job, failed_record
from .base import OnProgress, OnResult
from .isolation import run_isolated


class DaskExecutor:
    """Submit every job to Dask and hand records back as they complete.

    :param address: scheduler address (``tcp://host:8786``); None starts a local cluster of
        ``workers`` single-threaded worker processes on the loopback interface.
    """

    name = "dask"

    def __init__(self, address: str | None = None, workers: int = 1):
        self.address = address
        self.workers = max(1, int(workers))

    def _client(self):
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise GenobenchError("the dask executor needs dask.distributed: "
                                 "pip install 'dask[distributed]'") from None
        if self.address:
            try:
                return Client(self.address, timeout="10s"), None
            except OSError as error:
                raise GenobenchError(f"cannot reach Dask scheduler {self.address}: {error}") \
                    from None
        # worker processes must not be daemonic, so each job can get a process of its own
        dask.config.set({"distributed.worker.daemon": False})
        cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
        return Client(cluster), cluster

    def run(self, jobs: list[Job], on_result: OnResult, on_progress: OnProgress | None = None):
        if not jobs:
            return
        from distributed import as_completed

        client, cluster = self._client()
        try:
            futures = {client.submit(run_isolated, job, pure=False, key=f"genobench-{job.id}"): job
                       for job in jobs}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    record = future.result()
                except Exception as error:  # a lost worker: the job failed, the run goes on
                    record = failed_record(job, f"generator {job.generator!r}: Dask task "
                                                f"failed: {type(error).__name__}: {error}")
                on_result(job, record)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
