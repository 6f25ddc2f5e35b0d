"""The bad-input table: every user or plugin mistake gives one clear line, never a traceback.

User mistakes stop the command with exit status 1 and a single ``Error: ...`` line naming the
problem. Plugin faults during a job become a failed row with the reason (tests/test_runner.py
checks those end to end); they are listed here too so the table is complete.
"""

# ruff: noqa: E501 -- tables of cases read best one case per line

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TINY_SUITE, fake_installed_plugin

FAULTY_DIR = Path(__file__).parent


def genobench(*args, env=None, cwd=None):
    environment = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "genobench.cli", *args], capture_output=True,
                          text=True, env=environment, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def faulty_site(tmp_path_factory):
    sys.path.insert(0, str(FAULTY_DIR))
    from faulty_plugins import install_faulty_plugins

    return install_faulty_plugins(tmp_path_factory.mktemp("faulty-site"))


def _suite(tmp_path, text, name="suite.toml"):
    path = tmp_path / name
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    return str(path)


def _duplicate_plugin(tmp_path):
    fake_installed_plugin(tmp_path, "dup_plugin", (
        "import genobench\n"
        "from genobench.anchors import IndependentSites\n"
        "class Again(IndependentSites):\n    pass\n"
        "@genobench.hookimpl\n"
        "def genobench_register_generators(register):\n    register(Again)\n"),
        distribution="dup-plugin", version="2.0", entry_point="dup")
    return {"PYTHONPATH": str(tmp_path)}


def _import_error_plugin(tmp_path):
    fake_installed_plugin(tmp_path, "bad_import", "import numpy_that_does_not_exist\n",
                          distribution="bad-import", entry_point="badimport")
    return {"PYTHONPATH": str(tmp_path)}


def _misspelt_hook_plugin(tmp_path):
    fake_installed_plugin(tmp_path, "misspelt", (
        "import genobench\n@genobench.hookimpl\n"
        "def genobench_register_generator(register):\n    pass\n"), distribution="misspelt")
    return {"PYTHONPATH": str(tmp_path)}


def _unwritable_out(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    return str(blocker / "out")


# (id, arguments builder, expected fragment of the one error line, extra environment builder)
CASES = [
    ("malformed-toml", lambda t: ["run", _suite(t, "name = 'x'\n[source\n")], "not valid TOML", None),
    ("not-utf8", lambda t: ["run", _suite(t, b"\xff\xfe\x00name")], "cannot read suite file", None),
    ("unknown-key", lambda t: ["run", _suite(t, "colour = 1\n" + TINY_SUITE)], "unknown key colour", None),
    ("unknown-source-key", lambda t: ["run", _suite(t, TINY_SUITE.replace("left =", "lft ="))],
     "unknown key [source] lft", None),
    ("wrong-type", lambda t: ["run", _suite(t, TINY_SUITE.replace("n_snps = 200", "n_snps = 'many'"))],
     "[panel] n_snps: Input should be a valid integer", None),
    ("impossible-maf", lambda t: ["run", _suite(t, TINY_SUITE.replace("maf = 0.05", "maf = 0.9"))],
     "[panel] maf: Input should be less than 0.5", None),
    ("split-sum", lambda t: ["run", _suite(t, TINY_SUITE + "[split]\ntrain = 0.5\nvalidation = 0.1\ntest = 0.1\n")],
     "train + validation + test must be 1", None),
    ("unknown-source-kind", lambda t: ["run", _suite(t, TINY_SUITE.replace('"stdpopsim"', '"magic"'))],
     "unknown suite source 'magic'", None),
    ("unknown-species", lambda t: ["run", _suite(t, TINY_SUITE.replace('"HomSap"', '"Unicorn"'))],
     "unknown stdpopsim species 'Unicorn'", None),
    ("unknown-population", lambda t: ["run", _suite(t, TINY_SUITE.replace("YRI", "XYZ"))],
     "population 'XYZ' is not in model", None),
    ("slice-beyond-end", lambda t: ["run", _suite(t, TINY_SUITE.replace("31_000_000", "91_000_000"))],
     "is beyond the end of", None),
    ("too-few-individuals", lambda t: ["run", _suite(t, TINY_SUITE.replace("CEU = 90, YRI = 30", "CEU = 4"))],
     "split has 1 individuals", None),
    ("empty-panel", lambda t: ["run", _suite(t, TINY_SUITE.replace("right = 31_000_000", "right = 30_000_005"))],
     "no SNP passes the MAF filter", None),
    ("suite-missing", lambda t: ["run", str(t / "nope.toml")], "suite file does not exist", None),
    ("suite-is-folder", lambda t: ["run", str(t)], "is a folder, expected a suite .toml file", None),
    ("no-suite", lambda t: ["run"], "no suite files given", None),
    ("unknown-generator", lambda t: ["run", _suite(t, TINY_SUITE), "-g", "nope"], "unknown generator 'nope'", None),
    ("unknown-metric", lambda t: ["run", _suite(t, TINY_SUITE), "-m", "nope"], "unknown metric 'nope'", None),
    ("bad-seeds", lambda t: ["run", _suite(t, TINY_SUITE), "--seeds", "1,x"], "--seeds '1,x': expected", None),
    ("bad-option", lambda t: ["run", _suite(t, TINY_SUITE), "--option", "epochs=3"],
     "expected GENERATOR.KEY=VALUE", None),
    ("unwritable-out", lambda t: ["run", _suite(t, TINY_SUITE), "-g", "independent_sites",
                                  "--out", _unwritable_out(t)], "output folder cannot be written", None),
    ("duplicate-suite-names", lambda t: ["run", _suite(t, TINY_SUITE, "a.toml"),
                                         _suite(t, TINY_SUITE, "b.toml")],
     "two suite files share the name 'tiny'", None),
    ("plugin-import-error", lambda t: ["list"], "plugin 'badimport' (bad_import) failed to import: "
     "ModuleNotFoundError", _import_error_plugin),
    ("duplicate-plugin-name", lambda t: ["list"],
     ("duplicate generator name 'independent_sites': registered by ",
      "genobench 0.1.0 (genobench.anchors)", "dup-plugin 2.0 (dup)"), _duplicate_plugin),
    ("misspelt-hook", lambda t: ["list"], "genobench_register_generator", _misspelt_hook_plugin),
    ("report-no-results", lambda t: ["report", str(t)], "holds no genobench result records", None),
    ("report-missing", lambda t: ["report", str(t / "nowhere")], "no such results folder", None),
    ("dask-unreachable", lambda t: ["run", _suite(t, TINY_SUITE), "-g", "independent_sites",
                                    "--out", str(t / "o"), "--scheduler", "tcp://127.0.0.1:9"],
     "cannot reach Dask scheduler tcp://127.0.0.1:9", None),
]


def _in_process(args):
    """Run the command in this process (fast); returns (exit status, stderr)."""
    from click.testing import CliRunner

    from genobench.cli import main

    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result.exit_code, result.stderr


@pytest.mark.parametrize("case, make_args, fragment, make_env", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_one_clear_line(tmp_path, case, make_args, fragment, make_env):
    if make_env:  # plugins load once per process: a fresh process for these
        result = genobench(*make_args(tmp_path), env=make_env(tmp_path))
        status, stderr = result.returncode, result.stderr
    else:
        status, stderr = _in_process(make_args(tmp_path))
    assert status == 1, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr
    for part in (fragment,) if isinstance(fragment, str) else fragment:
        assert part in errors[0], errors[0]


PLUGIN_FAULTS = {
    "fails_at_fit": "failed in fit: RuntimeError: fit exploded",
    "fails_at_generate": "failed in generate: RuntimeError: generate exploded",
    "hangs": "timed out after 45 s",
    "wrong_shape": "expected 200 SNPs, got 201",
    "returns_three": "value 3.0 at individual",
    "returns_minus_one": "value -1.0 at individual",
    "returns_nan": "value nan at individual",
}


@pytest.mark.slow
def test_plugin_faults_are_failed_rows_and_the_run_goes_on(faulty_site, tmp_path):
    suite = _suite(tmp_path, TINY_SUITE)
    args = ["run", suite, "--out", str(tmp_path / "out"), "-q", "--jobs", "2",
            "--time-limit", "45", "-m", "allele_frequency_r", "-m", "aats",
            "-g", "independent_sites"]
    for name in PLUGIN_FAULTS:
        args += ["-g", name]
    result = genobench(*args, env={"PYTHONPATH": str(faulty_site)})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    records = {json.loads(p.read_text())["generator"]: json.loads(p.read_text())
               for p in (tmp_path / "out" / "results").glob("*.json")}
    assert records["independent_sites"]["status"] == "ok"
    for name, fragment in PLUGIN_FAULTS.items():
        assert records[name]["status"] == "failed"
        assert fragment in records[name]["error"], records[name]["error"]
    # the 8 asked for, and the two anchors every run adds (real_holdout, permuted_frequencies)
    assert records["real_holdout"]["status"] == records["permuted_frequencies"]["status"] == "ok"
    assert "10 job(s), 7 failed" in result.stderr


def test_a_suite_file_never_executes_code(tmp_path):
    marker = tmp_path / "pwned"
    text = TINY_SUITE.replace('description = "1 Mb of HomSap chr22 for fast tests"',
                              f'description = "__import__(\'os\').system(\'touch {marker}\')"')
    result = genobench("prepare", _suite(tmp_path, text))
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
