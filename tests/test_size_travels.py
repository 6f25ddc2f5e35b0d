"""The suite size travels in each job: a Dask worker that does not see the client's environment
builds the suite at the client's --size."""

from __future__ import annotations

import pytest

from genobench.benchmark import run_benchmark
from genobench.executors import DaskExecutor
from genobench.runner import plan
from genobench.suites import SIZE_ENV, load_spec, materialize


def test_job_carries_the_size_and_parses_at_it_without_the_environment(tiny_suite_file,
                                                                       monkeypatch):
    monkeypatch.setenv(SIZE_ENV, "2")
    spec = load_spec(tiny_suite_file)
    assert spec.size == "2"
    (job, *_) = plan([spec], generators=["independent_sites"])
    assert job.size == "2"
    monkeypatch.delenv(SIZE_ENV)
    assert job.spec().source["samples"] == {"CEU": 180, "YRI": 60}
    assert load_spec(tiny_suite_file).source["samples"] == {"CEU": 90, "YRI": 30}


def test_dask_workers_without_the_client_environment_build_the_sized_suite(tiny_suite_file,
                                                                          tmp_path,
                                                                          monkeypatch):
    distributed = pytest.importorskip("distributed")
    import dask

    default = materialize(load_spec(tiny_suite_file)).info["sizes"]
    dask.config.set({"distributed.worker.daemon": False})
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None, processes=True) as cluster:
        # the size reaches the client only, after the worker process started
        monkeypatch.setenv(SIZE_ENV, "2")
        spec = load_spec(tiny_suite_file)
        summary = run_benchmark([spec], tmp_path / "out",
                                executor=DaskExecutor(address=cluster.scheduler_address),
                                generators=["independent_sites"])
    record = next(r for r in summary.records if r.generator == "independent_sites")
    assert record.status == "ok", record.error
    assert record.suite_info["sizes"]["test"] == 2 * default["test"]
    assert record.provenance["parameters"]["size"] == "2"
