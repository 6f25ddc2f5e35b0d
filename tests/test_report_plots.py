"""Plots of the leaderboard (genobench/report/plots.py, figures.py): the hook
genobench_register_plots brings a plugin's plot onto the page, plots are drawn only where their
metric has data, a failing plot is left out, and the LD heatmaps ld_r2_difference stores are
drawn."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
from test_report import make_records, plot_titles

import genobench
from genobench import registry
from genobench.errors import PluginError
from genobench.report import Plot, render_leaderboard
from genobench.report.plots import figure, tidy


class _DosageCurvePlot(Plot):
    """A third party's plot of the allele-frequency curves: the sorted synthetic frequencies."""

    name = "sorted_frequencies"
    metric = "allele_frequency_r"
    title = "Sorted synthetic frequencies (plugin)"
    caption = "Each generator's synthetic allele frequencies, sorted."

    def draw(self, panel):
        found = panel.first_series(self.metric, "synthetic")
        if not found:
            return None
        made = figure(6.0, 3.5)
        axes = made.add_subplot()
        for generator, (synthetic,) in found.items():
            axes.plot(np.sort(synthetic), color=panel.style(generator).color, label=generator)
        tidy(axes)
        return made


class _PlotPlugin:
    @staticmethod
    @genobench.hookimpl
    def genobench_register_plots(register):
        register(_DosageCurvePlot())


@pytest.fixture
def plugin_plot():
    registry.register_plugin(_PlotPlugin, name="plot-test")
    yield
    registry.unregister_plugin("plot-test")


def test_genobench_register_plots_puts_a_plugin_plot_on_the_page(plugin_plot, tmp_path):
    assert list(registry.get_registry().plots)[-1] == "sorted_frequencies"  # after the core's
    html = render_leaderboard(make_records(seeds=(1,)), tmp_path)["html"].read_text("utf-8")
    titles = plot_titles(html)
    assert titles[-1] == "Sorted synthetic frequencies (plugin)"
    assert "LD decay" in titles and "Allele frequencies" in titles


def test_a_plot_is_skipped_where_its_metric_has_no_data(plugin_plot, tmp_path):
    html = render_leaderboard(make_records(seeds=(1,), curves=False), tmp_path)["html"]
    titles = plot_titles(html.read_text("utf-8"))
    assert "Sorted synthetic frequencies (plugin)" not in titles
    assert "LD decay" not in titles and "LD heatmaps" not in titles


class _BrokenPlot(Plot):
    name = "broken"
    metric = "allele_frequency_r"
    title = "Broken"

    def draw(self, panel):
        raise RuntimeError("no axes today")


def test_a_failing_plot_is_left_out_with_a_warning(tmp_path):
    records = make_records(seeds=(1,))
    with pytest.warns(Warning, match="plot 'broken'.*RuntimeError: no axes today"):
        paths = render_leaderboard(records, tmp_path, plots=[_BrokenPlot()])
    assert plot_titles(paths["html"].read_text("utf-8")) == []


def test_registering_something_else_as_a_plot_is_rejected():
    class _NotAPlot:
        @staticmethod
        @genobench.hookimpl
        def genobench_register_plots(register):
            register(object())

    registry.register_plugin(_NotAPlot, name="not-a-plot")
    try:
        with pytest.raises(PluginError, match="not a genobench.report.Plot instance"):
            registry.get_registry()
    finally:
        registry.unregister_plugin("not-a-plot")


def _with_heatmaps(records: list[dict], k: int = 6) -> list[dict]:
    """ld_r2_difference curves as the metric stores them: k x k r^2, row by row."""
    records = copy.deepcopy(records)
    rng = np.random.default_rng(3)
    real = np.clip(np.eye(k) + rng.uniform(0, 0.3, (k, k)), 0, 1)
    real = (real + real.T) / 2
    for record in records:
        if record["status"] == "ok":
            synthetic = np.clip(real + rng.normal(0, 0.05, (k, k)), 0, 1)
            record["curves"]["ld_r2_difference"] = dict(
                heatmap_snps=[k], heatmap_real=real.ravel().tolist(),
                heatmap_synthetic=synthetic.ravel().tolist(), r2_correlation=[0.9])
            record["metrics"]["ld_r2_difference"] = dict(value=0.01, note=None)
    return records


def test_ld_heatmaps_are_drawn_from_the_stored_curves(tmp_path):
    html = render_leaderboard(_with_heatmaps(make_records(seeds=(1,))), tmp_path)["html"]
    titles = plot_titles(html.read_text("utf-8"))
    assert titles.index("LD heatmaps") == titles.index("LD decay") + 1


def test_malformed_heatmaps_are_not_drawn(tmp_path):
    records = _with_heatmaps(make_records(seeds=(1,)))
    for record in records:
        if record["status"] == "ok":
            record["curves"]["ld_r2_difference"]["heatmap_real"] = [0.5, None]  # not k x k
    html = render_leaderboard(records, tmp_path)["html"].read_text("utf-8")
    assert "LD heatmaps" not in plot_titles(html)
    assert re.search(r"LD decay", html)
