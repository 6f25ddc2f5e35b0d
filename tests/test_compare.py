"""Tests of genobench/compare.py and `genobench compare`: the regression gate of
`tox -e regression` passes on identical results and fails when a generator gets worse."""

from __future__ import annotations

import configparser
import copy
import json
import shlex
from pathlib import Path

import pytest
import tomllib
from click.testing import CliRunner
from test_report import SUITE, make_records

from genobench.cli import main
from genobench.compare import compare_leaderboards, load_leaderboard, parse_tolerances
from genobench.errors import GenobenchError
from genobench.report import leaderboard_data
from genobench.results import load_results, write_json_atomic, write_result
from genobench.runner import plan
from genobench.suites import load_spec

ROOT = Path(__file__).resolve().parent.parent


def records_with(seeds=(1,)) -> list[dict]:
    """The report tests' records (gen_a, gen_b, gen_c, the baselines independent_sites and
    permuted_frequencies, real_holdout once, an always-failing generator), without curves."""
    return make_records(seeds=seeds, curves=False)


def store(folder, records) -> str:
    for record in records:
        write_result(folder, record)
    return str(folder)


def worsen(records: list[dict]) -> list[dict]:
    """gen_a's allele-frequency r drops by 0.05 (higher is better), gen_b now fails, gen_c's
    fit takes 10 times as long."""
    records = copy.deepcopy(records)
    for record in records:
        if record["generator"] == "gen_a":
            record["metrics"]["allele_frequency_r"]["value"] -= 0.05
        elif record["generator"] == "gen_b":
            record.update(status="failed", error="GeneratorError: NaN loss in epoch 3",
                          metrics={})
        elif record["generator"] == "gen_c":
            record["timing"]["fit"]["seconds"] *= 10
    return records


@pytest.fixture
def runs(tmp_path):
    base = records_with()
    return dict(baseline=store(tmp_path / "baseline", base),
                same=store(tmp_path / "same", copy.deepcopy(base)),
                worse=store(tmp_path / "worse", worsen(base)))


def invoke(*args):
    return CliRunner().invoke(main, ["compare", *args])


def test_identical_results_pass(runs):
    result = invoke(runs["baseline"], runs["same"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["suite", "generator", "what", "baseline", "current", "change",
                                "verdict"]
    # 6 rows with values (3 generators, 2 baselines, the reference) x 4 metrics; 7 rows with
    # timings (the failed one too) x 3 phases
    assert lines[-1] == "OK: no regressions (24 metric and 21 timing comparisons)"
    assert "REGRESSION" not in result.output


def test_worsened_generator_fails_with_the_right_lines(runs):
    result = invoke(runs["baseline"], runs["worse"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    regressions = [line for line in lines if "REGRESSION" in line]
    assert len(regressions) == 3
    af = next(line for line in regressions if "allele_frequency_r" in line)
    assert af.split()[:6] == [SUITE, "gen_a", "allele_frequency_r", "0.991", "0.941", "-0.05"]
    assert "allele_frequency_r worse by 0.05 (0.991 -> 0.941; tolerance 0.01)" in af
    status = next(line for line in regressions if " gen_b " in line)
    assert "seed 1 now fails: GeneratorError: NaN loss in epoch 3" in status
    fit = next(line for line in regressions if " gen_c " in line)
    assert "fit_s x10 (12.5 s -> 125 s; tolerance x2)" in fit
    assert lines[-1].startswith("FAIL: 3 regressions: ")
    assert f"{SUITE}/gen_b: seed 1 now fails" in lines[-1]
    # The generator that failed in the baseline too is no regression.
    assert not any(" broken " in line for line in regressions)


def test_tolerances_let_changes_pass(runs):
    result = invoke(runs["baseline"], runs["worse"], "--tolerance", "allele_frequency_r=0.06",
                    "--time-tolerance", "11")
    assert result.exit_code == 1  # gen_b still fails
    assert [line.split()[1] for line in result.output.splitlines()
            if "REGRESSION" in line] == ["gen_b"]


def test_missing_generator_and_missing_seed_fail(tmp_path):
    base = records_with(seeds=(1, 2))
    current = [r for r in base if r["generator"] != "gen_c"
               and not (r["generator"] == "gen_a" and r["seed"] == 2)]
    comparison = compare_leaderboards(leaderboard_data(base), leaderboard_data(current))
    reasons = {c.generator: c.reason for c in comparison.regressions}
    assert reasons == {"gen_c": "missing from the current run", "gen_a": "seed 2 missing"}


def test_direction_aware_and_seed_spread():
    base = records_with(seeds=(1, 2, 3))
    current = copy.deepcopy(base)
    for record in current:
        if record["generator"] == "gen_a":
            record["metrics"]["fst"]["value"] -= 0.5  # lower is better: an improvement
            record["metrics"]["ld_decay_distance"]["value"] += 0.0105  # 0.0005 over 0.01 + 0.001
        if record["generator"] == "gen_b":
            record["metrics"]["aats"]["value"] = 1.0 - record["metrics"]["aats"]["value"]  # 0.38
        if record["generator"] == "gen_c":
            record["metrics"]["aats"]["value"] -= 0.06  # 0.55 -> 0.49: closer to the ideal 0.5
    changes = {(c.generator, c.item): c for c in compare_leaderboards(
        leaderboard_data(base), leaderboard_data(current)).changes}
    assert changes[("gen_a", "fst")].verdict == "better"
    # Worse by 0.0105 against a tolerance of 0.01 plus the baseline's seed spread (0.001).
    assert changes[("gen_a", "ld_decay_distance")].verdict == "worse"
    assert changes[("gen_b", "aats")].verdict == "same"  # 0.62 and 0.38 are as far from 0.5
    assert changes[("gen_c", "aats")].verdict == "better"
    tight = compare_leaderboards(leaderboard_data(base), leaderboard_data(current),
                                 tolerances={"ld_decay_distance": 0.005})
    assert [(c.generator, c.item) for c in tight.regressions] == [("gen_a", "ld_decay_distance")]


def test_small_times_and_new_things_do_not_fail():
    base = records_with()
    current = copy.deepcopy(base)
    for record in current:
        record["timing"]["generate"]["seconds"] = 0.05 * 10  # 0.5 s: below the 1 s floor
        record["metric_info"] = dict(record["metric_info"], new_metric=dict(
            name="new_metric", direction="higher", ideal=1.0))
        if record["status"] == "ok":
            record["metrics"]["new_metric"] = dict(value=0.5, note=None)
    extra = copy.deepcopy(next(r for r in current if r["generator"] == "gen_a"))
    extra["generator"] = "gen_new"
    comparison = compare_leaderboards(leaderboard_data(base), leaderboard_data(current + [extra]))
    assert not comparison.regressions
    new = {(c.generator, c.item) for c in comparison.changes if c.verdict == "new"}
    assert ("gen_new", "status") in new and ("gen_a", "new_metric") in new


def test_lost_metric_value_fails():
    base = records_with()
    current = copy.deepcopy(base)
    current[0]["metrics"]["fst"] = dict(value=None, note="failed: ValueError: boom")
    regressions = compare_leaderboards(leaderboard_data(base),
                                       leaderboard_data(current)).regressions
    assert [(c.generator, c.item) for c in regressions] == [(current[0]["generator"], "fst")]
    assert "no longer computed" in regressions[0].reason


def test_inputs_leaderboard_json_and_record_file(tmp_path, runs):
    records = records_with()
    board = tmp_path / "board" / "leaderboard.json"
    write_json_atomic(board, leaderboard_data(records))  # what render_leaderboard writes
    assert load_leaderboard(board) == json.loads(board.read_text())
    assert load_leaderboard(board.parent) == load_leaderboard(board)
    by_job = sorted(records, key=lambda r: (r["suite"], r["generator"], r["seed"]))
    assert load_leaderboard(runs["baseline"]) == leaderboard_data(by_job)
    one = next((Path(runs["baseline"]) / "results").glob("*gen_a*.json"))
    assert [row["generator"] for row in load_leaderboard(one)["suites"][0]["rows"]] == ["gen_a"]
    result = invoke(str(board), runs["worse"])
    assert result.exit_code == 1 and result.output.count("REGRESSION") == 3


def test_user_mistakes_are_one_line(runs, tmp_path):
    result = invoke(runs["baseline"], str(tmp_path / "nowhere"))
    assert result.exit_code == 1 and result.output.startswith("Error: ")
    assert "no such results folder" in result.output and "Traceback" not in result.output
    result = invoke(runs["baseline"], runs["same"], "--tolerance", "fts=0.1")
    assert result.exit_code == 1 and "Error: --tolerance fts: no such metric" in result.output
    with pytest.raises(GenobenchError, match="METRIC=VALUE"):
        parse_tolerances(["fst"])
    with pytest.raises(GenobenchError, match="METRIC=VALUE"):
        parse_tolerances(["fst=-1"])


# -- the committed baseline and `tox -e regression` -----------------------------------------

def regression_settings() -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "tox.ini", encoding="utf-8")
    return dict(parser["regression"])


@pytest.fixture(scope="module")
def committed_baseline():
    settings = regression_settings()
    folder = ROOT / settings["baseline"]
    if not (folder / "results").is_dir():
        pytest.fail(f"{folder} is missing: create it with `tox -e regression-baseline`")
    return settings, folder, [record.to_json() for record in load_results(folder)]


def test_baseline_matches_the_regression_run(committed_baseline):
    """tox.ini's regression run and the committed baseline name the same jobs, so a changed
    generator list (a new plugin) fails here until the baseline is refreshed."""
    settings, _, records = committed_baseline
    generators = shlex.split(settings["generators"])
    assert generators[::2] == ["-g"] * (len(generators) // 2)
    paths = [ROOT / path for path in settings["suites"].split()]
    suites = {tomllib.loads(path.read_text())["name"] for path in paths}
    seeds = [int(seed) for seed in settings["seeds"].split(",")]
    # the jobs the run plans: the anchors join every run, the reference once per suite
    jobs = plan([load_spec(path) for path in paths], generators=generators[1::2], seeds=seeds)
    assert {job.suite for job in jobs} == suites
    assert {(r["suite"], r["generator"], r["seed"]) for r in records} == {
        (job.suite, job.generator, job.seed) for job in jobs}
    assert all(r["status"] == "ok" for r in records)


def test_regression_gate_on_the_committed_baseline(committed_baseline, tmp_path):
    """What `tox -e regression` runs, on the committed baseline: identical results pass; a
    deliberately worsened generator (a metric beyond tolerance, a generator now failing, a
    fit ten times slower) fails with one line each."""
    settings, folder, records = committed_baseline
    options = shlex.split(settings["compare_options"])
    assert invoke(str(folder), str(folder), *options).exit_code == 0
    contenders = sorted({r["generator"] for r in records
                         if not r["generator_info"].get("is_reference")})
    worse = copy.deepcopy(records)
    for record in worse:
        if record["generator"] == contenders[0]:
            record["metrics"]["allele_frequency_r"]["value"] -= 0.2
        elif record["generator"] == contenders[1]:
            record.update(status="failed", error="GeneratorError: deliberately broken",
                          metrics={})
        elif record["generator"] == contenders[2]:
            for phase in record["timing"].values():
                phase["seconds"] = max(phase["seconds"], 10.0) * 10
    result = invoke(str(folder), store(tmp_path / "current", worse), *options)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "REGRESSION" in line]
    assert any(f" {contenders[0]} " in line and "allele_frequency_r worse by 0.2" in line
               for line in lines)
    assert any(f" {contenders[1]} " in line and "now fails: GeneratorError: deliberately"
               in line for line in lines)
    assert any(f" {contenders[2]} " in line and "fit_s x" in line for line in lines)
    assert result.output.splitlines()[-1].startswith("FAIL: ")


def test_changed_suite_data_is_reported_not_failed():
    base = records_with()
    current = copy.deepcopy(base)
    for record in current:
        record["suite_info"]["cache_key"] = "def456"
    comparison = compare_leaderboards(leaderboard_data(base), leaderboard_data(current))
    assert not comparison.regressions
    (change,) = [c for c in comparison.changes if c.kind == "suite"]
    assert (change.baseline, change.current, change.verdict) == ("abc123", "def456", "info")
