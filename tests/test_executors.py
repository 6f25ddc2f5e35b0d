"""Runs that survive interruption, and the same results on a Dask cluster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from genobench.benchmark import run_benchmark
from genobench.errors import ResultsError
from genobench.executors import DaskExecutor, InlineExecutor, ProcessExecutor
from genobench.outputs import OutputLock
from genobench.runner import plan
from genobench.suites import load_spec

GENERATORS = ["independent_sites", "real_holdout", "msprime"]


def _metric_values(folder):
    values = {}
    for path in sorted((folder / "results").glob("*.json")):
        record = json.loads(path.read_text())
        values[path.stem] = {k: v["value"] for k, v in record["metrics"].items()}
    return values


def _assert_same_values(first, second):
    """Same jobs, same metric values (to float round-off: thread counts differ by executor)."""
    assert first.keys() == second.keys()
    for job in first:
        assert first[job].keys() == second[job].keys()
        for metric, value in first[job].items():
            other = second[job][metric]
            if value is None or other is None:
                assert value is other, (job, metric)
            else:
                assert other == pytest.approx(value, rel=1e-6, abs=1e-9), (job, metric)


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_loses_nothing(tiny_suite_file, tmp_path):
    spec = load_spec(tiny_suite_file)
    reference = tmp_path / "reference"
    run_benchmark([spec], reference, executor=InlineExecutor(), generators=GENERATORS,
                  seeds=[1, 2, 3])
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "genobench.cli", "run", str(tiny_suite_file), "--out",
               str(out), "--seeds", "1,2,3", "-q", *sum((["-g", g] for g in GENERATORS), [])]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        done = list((out / "results").glob("*.json")) if (out / "results").is_dir() else []
        if len(done) >= 3 or process.poll() is not None:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the run and its job processes, mid-way
    process.wait()
    finished = {p.stem: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    # 3 seeds x (independent_sites, msprime, permuted_frequencies) + real_holdout once
    total = len(plan([spec], generators=GENERATORS, seeds=[1, 2, 3]))
    assert total == 10
    assert 3 <= len(finished) < total, "the run should have been killed mid-way"
    for path in (out / "results").glob("*.json"):
        json.loads(path.read_text())  # every stored record is whole
    resumed = subprocess.run(command + ["--resume"], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Skipped {len(finished)} finished job(s)" in resumed.stderr
    for stem, mtime in finished.items():  # no finished job was recomputed
        assert (out / "results" / f"{stem}.json").stat().st_mtime_ns == mtime
    _assert_same_values(_metric_values(out), _metric_values(reference))


def test_two_runs_on_one_output_folder_refuse(tiny_suite_file, tmp_path):
    out = tmp_path / "shared"
    out.mkdir()
    with OutputLock(out):
        with pytest.raises(ResultsError, match="another genobench run .* is writing"):
            run_benchmark([load_spec(tiny_suite_file)], out, executor=InlineExecutor(),
                          generators=["independent_sites"])


def test_process_executor_matches_inline(tiny_suite_file, tmp_path):
    spec = load_spec(tiny_suite_file)
    run_benchmark([spec], tmp_path / "inline", executor=InlineExecutor(), generators=GENERATORS)
    run_benchmark([spec], tmp_path / "local", executor=ProcessExecutor(jobs=2),
                  generators=GENERATORS)
    _assert_same_values(_metric_values(tmp_path / "inline"), _metric_values(tmp_path / "local"))


@pytest.mark.slow
def test_local_dask_cluster_gives_the_same_results(tiny_suite_file, tmp_path):
    pytest.importorskip("distributed")
    spec = load_spec(tiny_suite_file)
    run_benchmark([spec], tmp_path / "inline", executor=InlineExecutor(),
                  generators=GENERATORS, seeds=[2])
    run_benchmark([spec], tmp_path / "dask", executor=DaskExecutor(workers=2),
                  generators=GENERATORS, seeds=[2])
    _assert_same_values(_metric_values(tmp_path / "inline"), _metric_values(tmp_path / "dask"))
    # the three asked for and the marginal baseline, every anchor always runs
    assert len(_metric_values(tmp_path / "dask")) == 4


@pytest.mark.slow
def test_existing_dask_scheduler_on_loopback(tiny_suite_file, tmp_path):
    distributed = pytest.importorskip("distributed")
    import dask

    dask.config.set({"distributed.worker.daemon": False})
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        executor = DaskExecutor(address=cluster.scheduler_address)
        summary = run_benchmark([load_spec(tiny_suite_file)], tmp_path / "remote",
                                executor=executor, generators=["independent_sites"])
    # the job asked for and the two other anchors that run with every suite
    assert len(summary.records) == 3
    stored = [json.loads(path.read_text())
              for path in sorted((tmp_path / "remote" / "results").glob("*.json"))]
    assert [(r["generator"], r["status"]) for r in stored] == [
        ("independent_sites", "ok"), ("permuted_frequencies", "ok"), ("real_holdout", "ok")]


def test_each_job_process_takes_the_environment_of_its_start(tiny_suite_file, tmp_path,
                                                             monkeypatch):
    """Job processes come from a server started once (forkserver where the platform has
    one): a job must still see the run's environment as it is when the job starts."""
    spec = load_spec(tiny_suite_file)
    first = run_benchmark([spec], tmp_path / "a", executor=ProcessExecutor(jobs=1),
                          generators=["independent_sites"])
    assert all(record.status == "ok" for record in first.records)
    monkeypatch.setenv("GENOBENCH_LOAD_PLUGINS", "")  # the job's registry: no entry points
    second = run_benchmark([spec], tmp_path / "b", executor=ProcessExecutor(jobs=1),
                           generators=["msprime"])  # known here (registry made earlier)
    failed = {r.generator: r.error for r in second.records if r.status != "ok"}
    assert "unknown generator 'msprime'" in failed["msprime"]
