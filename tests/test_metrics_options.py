"""Tests of genobench/metrics/options.py: metric options declared once, checked at parse time."""

from __future__ import annotations

import numpy as np
import pytest

from genobench.errors import SpecError
from genobench.metrics.base import EvaluationContext
from genobench.metrics.options import GwasOptions, LDOptions, NeighbourOptions
from genobench.registry import get_metric, get_registry
from genobench.suites import parse_spec

SUITE = """\
name = "options"
[source]
kind = "stdpopsim"
species = "HomSap"
model = "OutOfAfrica_3G09"
chromosomes = ["chr22"]
left = 30_000_000
right = 31_000_000
samples = { CEU = 60 }
"""


def spec(evaluate: str):
    return parse_spec(SUITE + "[evaluate]\n" + evaluate, where="suite.toml")


def test_every_registered_metric_declares_its_options_with_defaults():
    for metric in get_registry().metrics.values():
        metric.Options()  # every field has a default
    assert GwasOptions().gwas_window == 100_000
    assert LDOptions().ld_max_distance == 1_000_000
    assert NeighbourOptions().knn_k is None


def test_gwas_window_set_in_a_suite_changes_the_gwas_window():
    options = spec("gwas_window = 25_000\n").evaluate.options()
    context = EvaluationContext(real=None, synthetic=None, options=options)
    for name in ("gwas_hit_overlap", "causal_recovery"):
        assert get_metric(name).settings(context).gwas_window == 25_000
    default = EvaluationContext(real=None, synthetic=None, options={})
    assert get_metric("gwas_hit_overlap").settings(default).gwas_window == 100_000


def test_a_metric_sub_table_overrides_the_shared_value_for_that_metric_only():
    options = spec("gwas_window = 25_000\n[evaluate.causal_recovery]\ngwas_window = 5_000\n"
                   ).evaluate.options()
    context = EvaluationContext(real=None, synthetic=None, options=options)
    assert get_metric("causal_recovery").settings(context).gwas_window == 5_000
    assert get_metric("gwas_hit_overlap").settings(context).gwas_window == 25_000


@pytest.mark.parametrize("table, words", [
    ("gwas_windw = 5\n", ["suite.toml", "unknown metric option 'gwas_windw'",
                          "gwas_window (gwas_hit_overlap"]),
    ("[evaluate.gwas_hit_overlap]\nwindow = 5\n", [
        "suite.toml", "unknown option 'window' of metric gwas_hit_overlap",
        "its options: gwas_window"]),
    ("[evaluate.no_such_metric]\nk = 1\n", ["suite.toml", "no registered metric"]),
    ("knn_k = 0\n", ["suite.toml", "knn_k", "greater than 0"]),
    ("distance = 'cosine'\n", ["suite.toml", "distance", "'cosine'"]),
])
def test_unknown_or_invalid_option_is_one_line_naming_file_metric_and_options(table, words):
    with pytest.raises(SpecError) as raised:
        spec(table)
    message = str(raised.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_runner_options_reach_the_metrics(tmp_path):
    from genobench.runner import evaluate_synthetic
    from genobench.suites import materialize

    path = tmp_path / "options.toml"
    path.write_text(SUITE + "[evaluate]\nld_max_distance = 20_000\n")
    parsed = parse_spec(path.read_text(), where=str(path), path=path)
    suite = materialize(parsed)
    values, _, _, _ = evaluate_synthetic(suite.test, suite.reference_draws[0], spec=parsed,
                                         metric_names=["ld_r2_difference"])
    assert "within 20000 bp" in values["ld_r2_difference"]["note"]
    assert np.isfinite(values["ld_r2_difference"]["value"])
