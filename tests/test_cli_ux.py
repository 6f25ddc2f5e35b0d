"""The first hour of a user: progress that tells time, output folders that keep every result,
an end-of-run summary, Markdown written as Markdown, and "did you mean" for near misses."""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, fake_installed_plugin
from rich.console import Console

from genobench import registry
from genobench.benchmark import run_benchmark
from genobench.cli import main
from genobench.errors import ResultsError
from genobench.executors import InlineExecutor
from genobench.outputs import LOCK_NAME, OutputLock
from genobench.progress import RunProgress, Tracker, format_duration
from genobench.records import JobRecord
from genobench.report import escape_markdown
from genobench.suites import load_spec
from genobench.summary import WIDTH, ranking_table, scorecard_tables

# A generator that fits for ``seconds`` without reporting any progress (default 35), then
# samples each SNP from its training frequency: the slow job of the progress and signal tests.
SLOW_PLUGIN = textwrap.dedent('''\
    import time

    import numpy as np

    import genobench


    class SleepsInFit(genobench.Generator):
        name = "sleeps_in_fit"
        description = "fits for a while without reporting progress (tests)"

        def fit(self, train, *, seed, context=None):
            time.sleep(float(self.options.get("seconds", 35)))
            self.frequencies_ = train.dosages.mean(axis=0) / 2

        def generate(self, n, *, seed, phenotypes=None):
            rng = np.random.default_rng(seed)
            return rng.binomial(2, self.frequencies_, size=(n, self.frequencies_.size)).astype(
                np.int8)


    @genobench.hookimpl
    def genobench_register_generators(register):
        register(SleepsInFit)
''')


@pytest.fixture
def slow_site(tmp_path, monkeypatch):
    """``sleeps_in_fit`` installed as a plugin, in this process and in spawned ones."""
    (tmp_path / "site").mkdir()
    site = fake_installed_plugin(tmp_path / "site", "genobench_sleeps", SLOW_PLUGIN,
                                 distribution="genobench-sleeps", entry_point="sleeps")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH",
                       os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    registry.reset_plugins()
    yield site
    registry.reset_plugins()


def _cli(*args, env=None):
    """The command in a fresh process, stderr decoded."""
    return subprocess.run([sys.executable, "-m", "genobench.cli", *args], capture_output=True,
                          text=True, env=dict(os.environ, **(env or {})), timeout=600)


def _generators(out: Path) -> set[str]:
    return {json.loads(p.read_text())["generator"] for p in (out / "results").glob("*.json")}


# -- the output lock ------------------------------------------------------------------------

def test_lock_removed_after_success(tiny_suite_file, tmp_path):
    out = tmp_path / "out"
    run_benchmark([load_spec(tiny_suite_file)], out, executor=InlineExecutor(),
                  generators=["independent_sites"])
    assert not (out / LOCK_NAME).exists()
    assert (out / "leaderboard.md").is_file()


class _Exploding:
    """An executor that fails (or is interrupted) after the first record is stored."""

    def __init__(self, error):
        self.error = error

    def run(self, jobs, on_result, on_progress=None):
        InlineExecutor().run(jobs[:1], on_result, on_progress)
        raise self.error


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()],
                         ids=["failure", "interrupt"])
def test_lock_removed_after_failure(tiny_suite_file, tmp_path, error):
    out = tmp_path / "out"
    with pytest.raises(type(error)):
        run_benchmark([load_spec(tiny_suite_file)], out, executor=_Exploding(error),
                      generators=["independent_sites", "real_holdout"])
    assert not (out / LOCK_NAME).exists()
    assert len(list((out / "results").glob("*.json"))) >= 1  # what finished is kept
    with OutputLock(out):  # and the folder is free for the next run
        assert (out / LOCK_NAME).exists()
    assert not (out / LOCK_NAME).exists()


def test_a_lock_left_by_a_killed_run_does_not_block(tmp_path):
    (tmp_path / LOCK_NAME).write_text("pid 999999")  # the kernel dropped its flock long ago
    with OutputLock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text() == f"pid {os.getpid()}"
    assert not (tmp_path / LOCK_NAME).exists()


@pytest.mark.parametrize("signum, status, word", [(signal.SIGINT, 130, "Interrupted"),
                                                  (signal.SIGTERM, 143, "Terminated")],
                         ids=["ctrl-c", "sigterm"])
def test_lock_removed_after_a_signal(slow_site, tiny_suite_file, tmp_path, signum, status,
                                     word):
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "genobench.cli", "run", str(tiny_suite_file), "--out", str(out),
         "-g", "sleeps_in_fit", "--option", "sleeps_in_fit.seconds=120", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a shell's background job (nohup, CI runners) ignores SIGINT, and Python keeps an
        # ignored SIGINT ignored: give the command a terminal's default disposition
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if (out / LOCK_NAME).exists() and (out / "run.json").exists():
            break  # the lock is held and the job is being started
        time.sleep(0.1)
    assert (out / LOCK_NAME).exists(), "".join(lines)
    time.sleep(1)
    process.send_signal(signum)  # the command only, as a terminal's Ctrl-C or kill would
    assert process.wait(60) == status, "".join(lines)
    reader.join(10)
    assert not (out / LOCK_NAME).exists()
    text = "".join(lines)
    assert f"{word}: finished jobs are stored; rerun with --resume." in text
    assert "Traceback" not in text


# -- a run into an existing folder ----------------------------------------------------------

def test_subset_rerun_keeps_the_other_records(slow_site, tiny_suite_file, tmp_path):
    out = tmp_path / "out"
    spec = load_spec(tiny_suite_file)
    options = {"sleeps_in_fit": {"seconds": 0}}
    first = run_benchmark([spec], out, executor=InlineExecutor(), options=options,
                          generators=["independent_sites", "sleeps_in_fit"])
    assert {"independent_sites", "sleeps_in_fit"} <= _generators(out)
    n_first = len(first.records)

    again = run_benchmark([spec], out, executor=InlineExecutor(),
                          generators=["independent_sites"])
    assert "independent_sites__seed1" in " ".join(job.id for job in again.ran)
    assert "tiny__sleeps_in_fit__seed1" in again.earlier.kept
    assert "tiny__independent_sites__seed1" in again.earlier.replaced
    assert len(again.records) == n_first  # every record in the folder, not only this run's
    leaderboard = json.loads((out / "leaderboard.json").read_text())
    rows = {row["generator"] for suite in leaderboard["suites"] for row in suite["rows"]}
    assert "sleeps_in_fit" in rows
    assert "sleeps_in_fit" in (out / "leaderboard.md").read_text()

    fresh = run_benchmark([spec], out, executor=InlineExecutor(), overwrite=True,
                          generators=["independent_sites"])
    assert fresh.removed == n_first
    assert "sleeps_in_fit" not in _generators(out)
    assert "sleeps_in_fit" not in (out / "leaderboard.md").read_text()


def test_the_terminal_says_what_was_kept(slow_site, tiny_suite_file, tmp_path):
    out = tmp_path / "out"
    common = ["run", str(tiny_suite_file), "--out", str(out), "--executor", "inline", "-q",
              "-m", "allele_frequency_r"]
    first = CliRunner().invoke(main, common + ["-g", "independent_sites", "-g", "sleeps_in_fit",
                                               "--option", "sleeps_in_fit.seconds=0"])
    assert first.exit_code == 0, first.output
    n_records = len(list((out / "results").glob("*.json")))
    second = CliRunner().invoke(main, common + ["-g", "independent_sites"])
    assert second.exit_code == 0, second.output
    kept = re.search(r"(\d+) earlier record\(s\) kept: the leaderboard covers all (\d+) records",
                     second.stderr)
    assert kept, second.stderr
    assert int(kept.group(1)) >= 1 and int(kept.group(2)) == n_records
    assert "--overwrite starts afresh" in second.stderr
    # every file written is named
    for name in ("leaderboard.html", "leaderboard.md", "leaderboard.json", "leaderboard.csv"):
        assert str(out / name) in second.stderr
    assert "Records (" in second.stderr
    assert not (out / LOCK_NAME).exists()


def test_resume_and_overwrite_together_refuse(tiny_suite_file, tmp_path):
    result = CliRunner().invoke(main, ["run", str(tiny_suite_file), "--out", str(tmp_path / "o"),
                                       "-g", "independent_sites", "--resume", "--overwrite"])
    assert result.exit_code == 1
    assert "choose one" in result.stderr and "Traceback" not in result.stderr


def test_records_of_other_suite_data_are_not_mixed_in(tiny_suite_file, tmp_path):
    out = tmp_path / "out"
    run_benchmark([load_spec(tiny_suite_file)], out, executor=InlineExecutor(),
                  generators=["independent_sites"], metrics=["allele_frequency_r"],
                  seeds=[1])
    other = tmp_path / "other" / "tiny.toml"  # the same suite name, another seed: other data
    other.parent.mkdir()
    other.write_text(tiny_suite_file.read_text().replace("seed = 7", "seed = 8"))
    with pytest.raises(ResultsError, match="made from other data.*--overwrite"):
        run_benchmark([load_spec(other)], out, executor=InlineExecutor(),
                      generators=["independent_sites"], seeds=[2],
                      metrics=["allele_frequency_r"])
    assert not (out / LOCK_NAME).exists()


# -- progress -------------------------------------------------------------------------------

class _Job:
    def __init__(self, id):
        self.id = id


def _plain_console():
    return Console(file=io.StringIO(), width=200, force_terminal=False)


def test_plain_status_line_during_a_silent_fit():
    console = _plain_console()
    with RunProgress(console, jobs=1, heartbeat=0.3) as progress:
        progress.started([_Job("s__a__seed1"), _Job("s__b__seed1")], [])
        progress.job_progress(_Job("s__a__seed1"), {"phase": "fit"})
        progress.job_progress(_Job("s__a__seed1"), {"step": 3, "total": 10, "loss": 1.25})
        time.sleep(1.2)
    lines = console.file.getvalue().splitlines()
    status = [line for line in lines if "running:" in line]
    assert len(status) >= 2, lines
    assert "0/2 jobs done" in status[-1]
    assert "s__a__seed1 fit 3/10 (loss=1.25)" in status[-1]
    assert "elapsed, about " in status[-1]  # the steps give an estimate before any job ends


def test_job_lines_count_out_of_the_total():
    console = _plain_console()
    with RunProgress(console, jobs=2, heartbeat=None) as progress:
        progress.started([_Job("j1"), _Job("j2")], [])
        progress.job_progress(_Job("j1"), {"phase": "starting"})
        progress.job_done(_Job("j1"), JobRecord.from_json(dict(
            suite="s", generator="g1", seed=1, status="ok", timing={"fit": {"seconds": 2.0}})))
        progress.job_done(_Job("j2"), JobRecord.from_json(dict(
            suite="s", generator="g2", seed=1, status="failed", error="boom")))
    text = console.file.getvalue()
    assert "[1/2] j1: ok (2.0 s)" in text and "[2/2] j2: FAILED: boom" in text


def test_estimate_shares_pending_jobs_over_the_slots():
    tracker = Tracker(_plain_console(), noun="jobs", parallel=2, heartbeat=None)
    tracker.set_total(5)
    assert tracker.estimate() is None  # nothing says yet how long a job takes
    tracker._durations = [10.0, 10.0]  # two jobs of 10 s done
    tracker.done = 2
    # three pending jobs of ~10 s on two free slots: 20 s
    assert tracker.estimate() == pytest.approx(20.0)
    tracker.start("long")
    tracker.update("long", {"phase": "fit"})
    tracker.update("long", {"step": 1, "total": 4})
    item = tracker._running["long"]
    item.phase_started -= 30.0  # one epoch in 30 s: 90 s of fit left, plus a little
    left = tracker.estimate()
    assert 90.0 <= left <= 95.0
    assert format_duration(left).startswith("1 min 3")


@pytest.mark.slow
def test_a_line_at_least_every_15_s_during_a_long_fit(slow_site, tiny_suite_file, tmp_path):
    """Without a terminal, a 35 s fit that reports nothing still gets status lines."""
    process = subprocess.Popen(
        [sys.executable, "-m", "genobench.cli", "run", str(tiny_suite_file), "--out",
         str(tmp_path / "out"), "-g", "sleeps_in_fit", "-m", "allele_frequency_r"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stamped = [(time.monotonic(), line) for line in process.stderr]
    assert process.wait(60) == 0, "".join(line for _, line in stamped)
    first = next(i for i, (_, line) in enumerate(stamped) if "suite tiny" in line)
    last = next(i for i, (_, line) in enumerate(stamped) if "sleeps_in_fit__seed1: ok" in line)
    times = [t for t, _ in stamped[first:last + 1]]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert times[-1] - times[0] >= 35  # the fit really was long
    assert max(gaps) < 15, stamped
    assert any("sleeps_in_fit__seed1 fit" in line for _, line in stamped[first:last])


# -- what the user reads --------------------------------------------------------------------

def _outside_code(markdown: str) -> str:
    markdown = re.sub(r"```.*?```", "", markdown, flags=re.S)
    return re.sub(r"`[^`\n]*`", "", markdown)


def test_markdown_has_no_html_entities(tiny_suite_file, tmp_path):
    out = tmp_path / "out"
    run_benchmark([load_spec(tiny_suite_file)], out, executor=InlineExecutor(),
                  generators=["independent_sites", "real_holdout"])
    text = _outside_code((out / "leaderboard.md").read_text())
    for entity in ("&amp;", "&lt;", "&gt;"):
        assert entity not in text


def test_markdown_escaping_is_backslashes():
    assert escape_markdown("Lopez-Paz & Oquab") == "Lopez-Paz & Oquab"
    assert escape_markdown("p < 0.05/M, r > 0") == "p < 0.05/M, r > 0"
    assert escape_markdown("<script>x</script>") == r"\<script>x\</script>"
    assert escape_markdown("&amp; a|b") == r"\&amp; a\|b"
    assert escape_markdown("two\nlines *bold*") == r"two lines \*bold\*"


def test_did_you_mean_for_suite_paths_and_names(monkeypatch):
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    result = runner.invoke(main, ["run", "suites/quick_human", "-q"])
    assert result.exit_code == 1
    assert "did you mean suites/quick_human.toml?" in result.stderr
    result = runner.invoke(main, ["prepare", "suites/quik_human.toml"])
    assert result.exit_code == 1 and "did you mean suites/quick_human.toml" in result.stderr
    result = runner.invoke(main, ["run", "suites/quick_human.toml", "-g", "independnt_sites"])
    assert result.exit_code == 1
    assert "did you mean 'independent_sites'?" in result.stderr
    result = runner.invoke(main, ["run", "suites/quick_human.toml", "-m", "allele_frequncy_r"])
    assert "did you mean 'allele_frequency_r'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_cached_suite_is_reported_at_once(tiny_suite_file, tmp_path):
    runner = CliRunner()
    first = runner.invoke(main, ["prepare", str(tiny_suite_file)])
    assert first.exit_code == 0, first.output
    second = runner.invoke(main, ["prepare", str(tiny_suite_file)])
    assert "using cached suite tiny" in second.stderr
    assert "preparing suite" not in second.stderr
    assert "[1/1] tiny: 200 SNPs" in second.stderr
    run = runner.invoke(main, ["run", str(tiny_suite_file), "--out", str(tmp_path / "o"),
                               "-g", "independent_sites", "--executor", "inline", "-q",
                               "-m", "allele_frequency_r"])
    assert run.exit_code == 0, run.output
    assert "using cached suite tiny" in run.stderr and "preparing suite" not in run.stderr


# -- the end-of-run summary -----------------------------------------------------------------

SCORECARD = {
    "scorecard": {"quick_human": {
        "wgan_gp": {"families": {"marginal": 0.91, "ld": 0.55, "structure": 0.7,
                                 "diversity": 0.4, "association": None}, "fidelity": 0.72,
                    "privacy": {"passed": True, "gates": {"exact_copies": {"value": 0,
                                                                           "passed": True}}},
                    "reference": False},
        "a_generator_with_a_rather_long_plugin_name": {
            "families": {"marginal": 0.99, "ld": 0.98, "structure": 0.97, "diversity": 0.9,
                         "association": 0.8}, "fidelity": 0.98,
            "privacy": {"passed": False, "gates": {
                "exact_copies": {"value": 1.0, "passed": False},
                "closer_than_holdout": {"value": 0.9, "passed": False},
                "aats_train": {"value": 0.5, "passed": True}}},
            "reference": False},
        "real_holdout": {"families": {"marginal": 1, "ld": 1, "structure": 1, "diversity": 1,
                                      "association": 1}, "fidelity": 1.0,
                         "privacy": {"passed": True, "gates": {}}, "reference": True}}},
    "ranking": [{"generator": "wgan_gp"},
                {"generator": "a_generator_with_a_rather_long_plugin_name"}],
}


def _rendered(tables) -> list[str]:
    console = Console(file=io.StringIO(), width=WIDTH, force_terminal=False)
    for table in tables:
        console.print(table)
    return console.file.getvalue().splitlines()


def test_scorecard_summary_fits_100_columns():
    lines = _rendered(scorecard_tables(SCORECARD))
    assert lines and max(len(line) for line in lines) <= WIDTH
    text = "\n".join(lines)
    for header in ("fidelity", "marginal", "ld", "structure", "diversity", "privacy"):
        assert header in text
    wgan = next(line for line in lines if "wgan_gp" in line)
    assert wgan.split()[:3] == ["1", "wgan_gp", "0.72"] and "pass" in wgan
    long = next(line for line in lines if "a_generator" in line)
    assert long.split()[0] == "2" and long.split()[-1] == "FAIL"  # long names fold
    caption = " ".join(text.split())
    assert ("Privacy gates failed: a_generator_with_a_rather_long_plugin_name: exact_copies, "
            "closer_than_holdout.") in caption  # the failed gates are named
    reference = next(line for line in lines if "real_holdout" in line)
    assert reference.split()[0] == "ref"
    assert lines.index(reference) > lines.index(wgan)  # references after the ranked rows


def test_summary_without_scorecard_shows_the_ranking():
    data = {"ranking": [{"position": 1, "generator": "vae", "mean_rank": 1.5, "jobs": 2,
                         "failed_jobs": 0, "suites": {"s1": 1.5}}],
            "suites": [{"name": "s1"}]}
    assert scorecard_tables(data) == []
    lines = _rendered([ranking_table(data)])
    assert max(len(line) for line in lines) <= WIDTH
    assert any(line.split()[:3] == ["1", "vae", "1.50"] for line in lines)
    assert ranking_table({}) is None
