"""Plugin discovery and registration through the public hooks."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import fake_installed_plugin

import genobench
from genobench import hookspecs, registry
from genobench.errors import PluginError

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, env=None, cwd=None):
    environment = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "genobench.cli", *args], capture_output=True,
                          text=True, env=environment, cwd=cwd, timeout=600)


def test_first_party_plugins_register_through_entry_points():
    registered = registry.get_registry()
    # the anchors are a core module registered through pm.register like the core metrics;
    # msprime comes through its entry point like a third party's generator
    providers = {"independent_sites": "genobench.anchors", "real_holdout": "genobench.anchors",
                 "permuted_frequencies": "genobench.anchors", "msprime": "coalescent"}
    for name, plugin in providers.items():
        assert name in registered.generators
        provider = registered.providers[("generator", name)]
        assert provider.distribution == "genobench"
        assert provider.plugin == plugin
    assert "genobench.anchors" in registry.DEFAULT_PLUGINS
    assert "stdpopsim" in registered.suite_sources
    assert {"allele_frequency_r", "genotype_frequency_r", "fst", "fst_hudson",
            "ld_decay_distance", "aats", "aats_train", "membership_auc"} <= set(registered.metrics)


class _Duplicate(genobench.Generator):
    name = "independent_sites"

    def fit(self, train, *, seed, context=None):
        pass

    def generate(self, n, *, seed, phenotypes=None):
        return np.zeros((n, 1), np.int8)


class _DuplicatePlugin:
    @staticmethod
    @genobench.hookimpl
    def genobench_register_generators(register):
        register(_Duplicate)


def test_duplicate_name_names_both_providers():
    registry.register_plugin(_DuplicatePlugin, name="duplicate-test")
    try:
        with pytest.raises(PluginError) as error:
            registry.get_registry()
        message = str(error.value)
        assert "duplicate generator name 'independent_sites'" in message
        assert "genobench.anchors" in message and "duplicate-test" in message
    finally:
        registry.unregister_plugin("duplicate-test")
    assert "independent_sites" in registry.get_registry().generators


class _Misspelt:
    @staticmethod
    @genobench.hookimpl
    def genobench_register_generator(register):  # missing "s": not a hook
        pass


def test_misspelt_hook_fails_loudly():
    with pytest.raises(Exception, match="genobench_register_generator"):
        registry.register_plugin(_Misspelt, name="misspelt")
    registry.load_plugins().unregister(name="misspelt")


class _NotAGenerator:
    @staticmethod
    @genobench.hookimpl
    def genobench_register_generators(register):
        register(object)


def test_registering_a_non_generator_is_rejected():
    registry.register_plugin(_NotAGenerator, name="not-a-generator")
    try:
        with pytest.raises(PluginError, match="not a genobench.Generator subclass"):
            registry.get_registry()
    finally:
        registry.unregister_plugin("not-a-generator")


def test_unknown_name_lists_known_ones():
    with pytest.raises(genobench.UnknownNameError, match="unknown generator 'nope'.*msprime"):
        registry.get_generator("nope")


@pytest.mark.slow
def test_load_plugins_env_limits_entry_points():
    anchors = {"independent_sites", "real_holdout", "permuted_frequencies"}
    listed = run_cli("list", "--json", env={"GENOBENCH_LOAD_PLUGINS": "coalescent"})
    assert listed.returncode == 0, listed.stderr
    names = {g["name"] for g in json.loads(listed.stdout)["generators"]}
    assert names == anchors | {"msprime"}  # no vae, gan or diffusion
    listed = run_cli("list", "--json", env={"GENOBENCH_LOAD_PLUGINS": ""})
    assert listed.returncode == 0, listed.stderr
    # no entry point: the core modules only, the anchors (every run needs them) and metrics
    assert {g["name"] for g in json.loads(listed.stdout)["generators"]} == anchors
    assert json.loads(listed.stdout)["metrics"]  # core metrics always load


THIRD_PARTY_MODULE = '''
"""A third party's generator: copies a random training individual per draw (a bad model)."""
import numpy as np
import genobench


class Resampler(genobench.Generator):
    name = "resampler"
    description = "Resamples training individuals"

    def fit(self, train, *, seed, context=None):
        self.train_ = train.dosages

    def generate(self, n, *, seed, phenotypes=None):
        rows = np.random.default_rng(seed).integers(0, self.train_.shape[0], n)
        return self.train_[rows]


@genobench.hookimpl
def genobench_register_generators(register):
    register(Resampler)
'''

THIRD_PARTY_PYPROJECT = '''
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "genobench-resampler"
version = "0.3.1"

[project.entry-points.genobench]
resampler = "genobench_resampler"
'''


@pytest.fixture(scope="module")
def third_party_site(tmp_path_factory):
    """A separate tiny distribution, pip-installed into its own folder."""
    source = tmp_path_factory.mktemp("genobench-resampler")
    (source / "pyproject.toml").write_text(THIRD_PARTY_PYPROJECT)
    (source / "genobench_resampler.py").write_text(THIRD_PARTY_MODULE)
    target = tmp_path_factory.mktemp("site")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(target), str(source)],
        capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    return target


@pytest.mark.slow
def test_separately_installed_plugin_is_listed_and_runs(third_party_site, tiny_suite_file,
                                                         tmp_path):
    env = {"PYTHONPATH": os.pathsep.join([str(third_party_site),
                                          os.environ.get("PYTHONPATH", "")])}
    listed = run_cli("list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {g["name"]: g for g in json.loads(listed.stdout)["generators"]}
    assert rows["resampler"]["provider"] == "genobench-resampler 0.3.1 (resampler)"
    out = tmp_path / "out"
    ran = run_cli("run", str(tiny_suite_file), "-g", "resampler", "-g", "real_holdout",
                  "--out", str(out), "--quiet", env=env)
    assert ran.returncode == 0, ran.stderr
    record = json.loads((out / "results" / "tiny__resampler__seed1.json").read_text())
    assert record["status"] == "ok"
    assert record["generator_info"]["provider"] == "genobench-resampler 0.3.1 (resampler)"
    # copying training individuals is visible to the privacy metrics
    assert record["metrics"]["privacy_loss"]["value"] > 0.1


def test_plugin_failing_at_import_is_one_clear_line(tmp_path):
    fake_installed_plugin(tmp_path, "broken_plugin", "raise RuntimeError('boom at import')\n",
                          distribution="broken-plugin", entry_point="broken")
    listed = run_cli("list", env={"PYTHONPATH": str(tmp_path)})
    assert listed.returncode == 1
    assert listed.stderr.strip() == (
        "Error: plugin 'broken' (broken_plugin) failed to import: RuntimeError: boom at import")


class _MeanDosageGap(genobench.Metric):
    name = "mean_dosage_gap"
    direction = "lower"
    ideal = 0.0
    range = (0.0, 2.0)

    def compute(self, context):
        return abs(context.real.dosages.mean() - context.synthetic.dosages.mean())


class _MetricPlugin:
    @staticmethod
    @genobench.hookimpl
    def genobench_register_metrics(register):
        register(_MeanDosageGap())


def test_genobench_register_metrics_adds_a_metric():
    from genobench.runner import evaluate_synthetic

    registry.register_plugin(_MetricPlugin, name="metric-test")
    try:
        assert "mean_dosage_gap" in registry.get_registry().metrics
        rng = np.random.default_rng(1)
        real = genobench.GenotypeData(rng.integers(0, 3, (10, 4)), [1, 2, 3, 4], "1",
                                      list("abcd"), [f"r{i}" for i in range(10)])
        synthetic = real.with_dosages(np.zeros((10, 4), np.int8))
        values, _, info, _ = evaluate_synthetic(real, synthetic, metric_names=["mean_dosage_gap"])
        assert values["mean_dosage_gap"]["value"] == pytest.approx(real.dosages.mean())
        assert info["mean_dosage_gap"]["direction"] == "lower"
    finally:
        registry.unregister_plugin("metric-test")


class _RandomSource(genobench.SuiteSource):
    name = "random_uniform"
    description = "uniform random genotypes (for tests)"

    class Options(genobench.SourceOptions):
        individuals: int
        snps: int

    def load(self, options, *, seed, base_dir):
        rng = np.random.default_rng(seed)
        n, m = options.individuals, options.snps
        return genobench.GenotypeData(rng.integers(0, 3, (n, m)), np.arange(m) * 1000 + 1, "1",
                                      [f"s{j}" for j in range(m)], [f"i{i}" for i in range(n)])


class _SourcePlugin:
    @staticmethod
    @genobench.hookimpl
    def genobench_register_suite_sources(register):
        register(_RandomSource())


def test_genobench_register_suite_sources_adds_a_source(write_suite):
    from genobench.suites import load_spec, materialize

    registry.register_plugin(_SourcePlugin, name="source-test")
    try:
        path = write_suite("""
            [source]
            kind = "random_uniform"
            individuals = 50
            snps = 30
        """)
        suite = materialize(load_spec(path))
        assert suite.train.n_snps == suite.reference.n_snps == 30
        # a source of data (no samples table to grow) has its reference draws split off first
        sizes = [s.n_samples for s in (suite.train, suite.validation, suite.test)]
        draws = [draw.n_samples for draw in suite.reference_draws]
        assert sum(sizes) + sum(draws) == 50 and draws == [suite.test.n_samples] * 3
        bad = write_suite("""
            [source]
            kind = "random_uniform"
            individuals = "many"
            snps = 30
        """, name="bad.toml")
        with pytest.raises(genobench.SpecError, match=r"bad.toml: \[source\] individuals"):
            load_spec(bad)
    finally:
        registry.unregister_plugin("source-test")


# -- every hook is documented and tested (datasette's rule) -----------------------------------

def _hook_names():
    return [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
            if name.startswith("genobench_")]


@pytest.mark.parametrize("hook", _hook_names())
def test_every_hook_is_documented_with_its_signature(hook):
    docs = (ROOT / "docs" / "writing-plugins.md").read_text()
    signature = f"{hook}{inspect.signature(getattr(hookspecs, hook))}"
    assert re.search(rf"^#+ `{re.escape(signature)}`", docs, re.MULTILINE), signature
    assert getattr(hookspecs, hook).__doc__


@pytest.mark.parametrize("hook", _hook_names())
def test_every_hook_has_a_test(hook):
    tests = "".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py")
                    if p.name != "test_plugins.py")
    tests += Path(__file__).read_text().split("# -- every hook")[0]
    assert hook in tests, f"no test mentions {hook}"
