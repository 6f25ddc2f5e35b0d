"""Jobs end to end: fit, generate, validate, evaluate, store; faults become failed rows."""

from __future__ import annotations

import json
import os
import sys

import pytest

from genobench import registry
from genobench.anchors import ANCHORS
from genobench.benchmark import run_benchmark
from genobench.executors import InlineExecutor, ProcessExecutor
from genobench.records import JobRecord
from genobench.results import load_results
from genobench.runner import plan, run_job
from genobench.suites import load_spec


@pytest.fixture
def faulty(tmp_path, monkeypatch):
    """The misbehaving generators of tests/faulty_plugins.py, installed as an entry point."""
    sys.path.insert(0, os.path.dirname(__file__))
    from faulty_plugins import install_faulty_plugins

    (tmp_path / "site").mkdir()
    site = install_faulty_plugins(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    registry.reset_plugins()
    yield
    registry.reset_plugins()


def _job(jobs, generator):
    (job,) = [job for job in jobs if job.generator == generator]
    return job


def test_plan_always_adds_the_anchors(tiny_suite_file):
    """The reference and both baselines run for every suite, whatever a run asks for; the
    reference (real data, the same draws whatever the seed) for the first seed only."""
    spec = load_spec(tiny_suite_file)
    jobs = plan([spec], generators=["msprime"], seeds=[3, 4])
    assert [(job.generator, job.seed) for job in jobs] == [
        ("msprime", 3), ("msprime", 4), ("real_holdout", 3), ("independent_sites", 3),
        ("independent_sites", 4), ("permuted_frequencies", 3), ("permuted_frequencies", 4)]
    asked = plan([spec], generators=["independent_sites"])  # an anchor asked for: not twice
    assert sorted(job.generator for job in asked) == sorted(ANCHORS)


def test_one_job_end_to_end(tiny_suite_file):
    spec = load_spec(tiny_suite_file)
    job = _job(plan([spec], generators=["independent_sites"]), "independent_sites")
    record = run_job(job)
    assert record.status == "ok", record.error
    assert set(record.timing) == {"fit", "generate", "evaluate"}
    for usage in record.timing.values():
        assert usage.seconds >= 0 and usage.peak_rss_mb > 0
    assert record.metrics["allele_frequency_r"].value > 0.8
    assert record.metric_info["fst"].direction == "lower"
    provenance = record.provenance
    assert provenance["parameters"]["seed"] == 1
    assert {"genobench", "numpy", "msprime", "stdpopsim"} <= set(provenance["software"])
    assert provenance["machine"]["cpus"] >= 1
    assert record.suite_info["n_snps"] == 200
    assert JobRecord.from_json(json.loads(json.dumps(record.to_json(), allow_nan=False))) \
        == record


def test_a_deep_job_records_what_training_did(tiny_suite_file):
    spec = load_spec(tiny_suite_file)
    job = _job(plan([spec], generators=["vae"], profile="quick",
                    options={"vae": {"epochs": 4, "eval_every": 2}}), "vae")
    record = run_job(job)
    assert record.status == "ok", record.error
    training = record.training
    assert training["epochs"] == 4 and training["stopped"] == "epochs"
    assert [v["epoch"] for v in training["validations"]] == [2, 4]
    assert 0 <= training["validations"][0]["membership"] <= 1
    assert JobRecord.from_json(json.loads(json.dumps(record.to_json(), allow_nan=False))) \
        == record


def test_same_seed_same_record(tiny_suite_file):
    spec = load_spec(tiny_suite_file)
    job = _job(plan([spec], generators=["independent_sites"], seeds=[5]), "independent_sites")
    first, second = run_job(job), run_job(job)
    assert {k: v.value for k, v in first.metrics.items()} == \
        {k: v.value for k, v in second.metrics.items()}


def test_run_writes_records_and_leaderboard(tiny_suite_file, tmp_path):
    spec = load_spec(tiny_suite_file)
    summary = run_benchmark([spec], tmp_path / "out", executor=InlineExecutor(),
                            generators=["independent_sites", "msprime", "real_holdout"])
    names = {r.generator for r in summary.records}
    assert names == {"independent_sites", "msprime", "real_holdout", "permuted_frequencies"}
    assert all(r.ok for r in summary.records)
    # the reference row is scored on every reference draw: the mean, with each draw's value
    (reference,) = [r for r in summary.records if r.generator == "real_holdout"]
    fst = reference.metrics["fst"]
    assert len(fst.draws) == 3 and fst.value == pytest.approx(sum(fst.draws) / 3)
    for fmt in ("html", "md"):
        assert summary.leaderboard[fmt].exists()
    assert len(load_results(tmp_path / "out")) == 4
    resumed = run_benchmark([spec], tmp_path / "out", executor=InlineExecutor(), resume=True,
                            generators=["independent_sites", "msprime", "real_holdout"])
    assert resumed.ran == [] and len(resumed.skipped) == 4


FAULTS = {
    "fails_at_fit": "generator 'fails_at_fit' failed in fit: RuntimeError: fit exploded",
    "fails_at_generate": "failed in generate: RuntimeError: generate exploded",
    "wrong_shape": "generator 'wrong_shape' output: expected 200 SNPs, got 201",
    "too_few": "generator 'too_few' output: expected 24 individuals, got 23",
    "returns_three": "generator 'returns_three' output: value 3.0 at individual 12, SNP 66",
    "returns_minus_one": "value -1.0 at individual 12, SNP 66 is not a genotype",
    "returns_nan": "value nan at individual 12, SNP 66",
    "returns_strings": "expected integer dosages",
    "returns_none": "expected a 2-D array",
}


def test_run_prepares_its_suites_in_parallel_before_the_jobs(tiny_suite_file, tmp_path):
    """Two uncached suites are materialized by ``prepare_jobs`` processes, each announced once
    (the 22 human chromosomes: about half the preparation time on 2 cores)."""
    text = tiny_suite_file.read_text()
    paths = []
    for name, seed in (("tiny_prep_a", 101), ("tiny_prep_b", 102)):  # not in the test cache
        paths.append(tmp_path / f"{name}.toml")
        paths[-1].write_text(text.replace('name = "tiny"', f'name = "{name}"')
                             .replace("seed = 7", f"seed = {seed}"))
    specs = [load_spec(path) for path in paths]
    announced = []
    summary = run_benchmark(specs, tmp_path / "out", executor=InlineExecutor(),
                            generators=["independent_sites"], prepare_jobs=2,
                            on_prepare=lambda name, cached: announced.append((name, cached)))
    assert sorted(announced) == [("tiny_prep_a", False), ("tiny_prep_b", False)]
    assert {r.suite for r in summary.records} == {"tiny_prep_a", "tiny_prep_b"}
    assert all(r.ok for r in summary.records)


def test_plugin_faults_become_failed_rows_inline(faulty, tiny_suite_file, tmp_path):
    spec = load_spec(tiny_suite_file)
    summary = run_benchmark([spec], tmp_path / "out", executor=InlineExecutor(),
                            generators=["ok_ones", *FAULTS])
    by_name = {r.generator: r for r in summary.records}
    assert by_name["ok_ones"].status == "ok"
    for name, message in FAULTS.items():
        assert by_name[name].status == "failed"
        assert message in by_name[name].error, by_name[name].error
        assert "\n" not in by_name[name].error
    html = summary.leaderboard["html"].read_text()
    assert "fit exploded" in html


def test_process_isolation_limits_and_crashes(faulty, tiny_suite_file, tmp_path):
    spec = load_spec(tiny_suite_file)
    summary = run_benchmark(
        [spec], tmp_path / "out", executor=ProcessExecutor(jobs=2),
        generators=["ok_ones", "hangs", "eats_memory", "dies", "returns_three"],
        time_limit=25, memory_limit=1.0)
    by_name = {r.generator: r for r in summary.records}
    assert by_name["ok_ones"].status == "ok"
    assert by_name["hangs"].error == "generator 'hangs' timed out after 25 s"
    assert by_name["eats_memory"].error.startswith("generator 'eats_memory' exceeded 1 GB")
    assert "process exited with code 3" in by_name["dies"].error
    assert "value 3.0" in by_name["returns_three"].error
