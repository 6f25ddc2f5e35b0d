"""The core's plots, registered through ``genobench_register_plots`` like any plugin's.

Each reads one metric's curves (or values), named by its ``metric``:

- ``ld_decay_distance``: ``distance_bp``, ``real``, ``synthetic`` (LD decay);
- ``ld_r2_difference``: ``heatmap_snps`` ([k]), ``heatmap_real`` and ``heatmap_synthetic``
  (k x k r^2 of the first SNPs, row by row; LD heatmaps);
- ``allele_frequency_r``: ``real``, ``synthetic`` (allele-frequency scatter);
- ``pca_w2_real_basis``: ``real_pc1``, ``real_pc2``, ``synthetic_pc1``, ``synthetic_pc2`` (one
  point per individual), or ``real`` and ``synthetic`` as lists of ``[pc1, pc2, ...]`` points;
  optional ``explained_variance`` (or ``explained_variance_ratio_real``: fractions, PC1 first)
  for the axis labels;
- ``aats``: its value per generator (bars);
- ``gwas_beta_r``: ``position``, ``chromosome``, ``real_logp``, ``synthetic_logp`` (-log10 p
  per SNP; mirrored Manhattan plot);

and two read the scorecard: the family scores and fidelity against fit + generate time.
"""

from __future__ import annotations

import math

import numpy as np

from ..hookspecs import hookimpl
from ..records import finite
from ..scorecard import SCORED_FAMILIES
from .plots import Plot, PlotPanel, figure, nanmean, panel_grid, series, tidy
from .text import label

LD_DECAY, LD_R2, ALLELE_FREQUENCY = "ld_decay_distance", "ld_r2_difference", "allele_frequency_r"
AATS, PCA, GWAS = "aats", "pca_w2_real_basis", "gwas_beta_r"


def _scatter_rows(count: int, most: int) -> np.ndarray:
    """Evenly spaced indices of at most ``most`` of ``count`` points (a lighter scatter)."""
    return np.linspace(0, count - 1, min(count, most)).astype(int)


class ScorecardPlot(Plot):
    """Scorecard.

    Family scores per generator (median of the resolving metrics' S = (D_base - D_gen) /
    (D_base - D_ref)); ✗ privacy: fails a privacy gate.
    """

    name = "scorecard"
    wide = True

    def draw(self, panel: PlotPanel):
        """Each generator's family scores (0: baseline, 1: real data) as grouped bars, privacy
        failures marked."""
        rows = [row for row in panel.suite["rows"] if any(
            row["families"].get(f) is not None for f in SCORED_FAMILIES)]
        families = [f for f in SCORED_FAMILIES
                    if any(r["families"].get(f) is not None for r in rows)]
        if not rows or not families:
            return None
        made = figure(7.2, 0.5 * len(rows) * max(1, len(families) / 2.5) + 1.4)
        axes = made.add_subplot()
        height = 0.8 / len(families)
        for k, family in enumerate(families):
            positions = np.arange(len(rows))[::-1] + (len(families) / 2 - k - 0.5) * height
            values = [row["families"].get(family) for row in rows]
            axes.barh(positions, [v if v is not None else 0.0 for v in values], height=height,
                      color=f"C{k}", label=family)
        labels = [label(row["generator"]) + (" (reference)" if row["is_reference"] else "")
                  + (" ✗ privacy" if row["privacy_passed"] is False else "") for row in rows]
        axes.set_yticks(np.arange(len(rows))[::-1], labels, fontsize=9)
        axes.axvline(0.0, color="black", linewidth=1.0)
        axes.axvline(1.0, color="black", linewidth=1.0, linestyle="--")
        axes.set(xlim=(-1.05, 1.15), xlabel="score: 0 = baseline, 1 = real data")
        tidy(axes)
        axes.grid(False, axis="y")
        axes.legend(frameon=False, fontsize=8, loc="lower left")
        return made


class LDDecayPlot(Plot):
    """LD decay.

    Mean r² between SNP pairs by physical distance, real test split against each generator's
    output.
    """

    name = "ld_decay"
    metric = LD_DECAY

    def draw(self, panel: PlotPanel):
        """Mean r^2 by distance: the real curve once, each generator's synthetic curve (mean
        over seeds when the bins agree)."""
        runs_of: dict[str, list] = {}
        for generator, curves in panel.curves(self.metric):
            arrays = series(curves, "distance_bp", "real", "synthetic")
            if arrays is not None and np.any(arrays[0] > 0):
                runs_of.setdefault(generator, []).append(arrays)
        if not runs_of:
            return None
        made = figure(6.4, 4.0)
        axes = made.add_subplot()
        distance, real, _ = next(iter(runs_of.values()))[0]
        axes.plot(distance, real, color="black", linewidth=2.4, label="real (test split)",
                  zorder=5)
        for generator, runs in runs_of.items():
            same_bins = all(np.array_equal(run[0], runs[0][0], equal_nan=True) for run in runs)
            synthetic = nanmean([run[2] for run in runs]) if same_bins else runs[0][2]
            look = panel.style(generator)
            axes.plot(runs[0][0], synthetic, color=look.color, linewidth=1.6,
                      linestyle="--" if look.reference else "-", marker="o", markersize=3,
                      label=label(generator) + (" (reference)" if look.reference else ""))
        axes.set_xscale("log")
        axes.set(xlabel="distance between SNPs (bp)", ylabel="mean $r^2$")
        tidy(axes)
        axes.legend(frameon=False, fontsize=8, loc="upper right")
        return made


def _heatmap(curves, which: str) -> np.ndarray | None:
    """The k x k r^2 matrix ``heatmap_<which>`` of an ``ld_r2_difference`` curve, or None."""
    size = series(curves, "heatmap_snps")
    values = series(curves, f"heatmap_{which}")
    if size is None or values is None or not np.isfinite(size[0][0]):
        return None
    k = int(size[0][0])
    if k < 2 or values[0].size != k * k:
        return None
    return values[0].reshape(k, k)


class LDHeatmapPlot(Plot):
    """LD heatmaps.

    r² between the first SNPs of the first chromosome: the real test split above the
    diagonal, each generator's output below it.
    """

    name = "ld_heatmap"
    metric = LD_R2

    def draw(self, panel: PlotPanel):
        """Per generator (its first seed) one matrix: real r^2 in the upper triangle, synthetic
        in the lower, on one colour scale from 0 to 1."""
        pairs: dict[str, np.ndarray] = {}
        for generator, curves in panel.curves(self.metric):
            real, synthetic = _heatmap(curves, "real"), _heatmap(curves, "synthetic")
            if real is None or synthetic is None or real.shape != synthetic.shape \
                    or generator in pairs:
                continue
            upper = np.triu(np.ones(real.shape, dtype=bool), k=1)
            pairs[generator] = np.where(upper, real, synthetic)
        if not pairs:
            return None
        made, panels = panel_grid(len(pairs), columns=4, width=2.6, height=2.6)
        image = None
        for axes, (generator, matrix) in zip(panels, pairs.items(), strict=True):
            image = axes.imshow(np.clip(matrix, 0.0, 1.0), vmin=0.0, vmax=1.0, cmap="viridis",
                                interpolation="nearest")
            axes.set_title(label(generator, 28), fontsize=9,
                           style="italic" if panel.style(generator).reference else "normal")
            axes.set_xticks([])
            axes.set_yticks([])
            axes.set_xlabel("real ↗  synthetic ↙", fontsize=7)
        made.colorbar(image, ax=panels, shrink=0.8, label="$r^2$")
        return made


class AlleleFrequencyPlot(Plot):
    """Allele frequencies.

    Alternate-allele frequency per SNP, real test split (x) against synthetic (y); the
    dotted line is equality.
    """

    name = "allele_frequency"
    metric = ALLELE_FREQUENCY
    wide = True
    max_points = 4000

    def draw(self, panel: PlotPanel):
        """One real-vs-synthetic allele-frequency scatter per generator (its first seed)."""
        found = panel.first_series(self.metric, "real", "synthetic")
        if not found:
            return None
        made, panels = panel_grid(len(found), columns=5, width=2.5, height=2.8, sharex=True,
                                  sharey=True)
        for axes, (generator, (real, synthetic)) in zip(panels, found.items(), strict=True):
            keep = _scatter_rows(len(real), self.max_points)
            look = panel.style(generator)
            axes.scatter(real[keep], synthetic[keep], s=4, alpha=0.35, color=look.color,
                         linewidths=0, rasterized=True)
            axes.plot([0, 1], [0, 1], color="0.4", linewidth=0.8, linestyle=":")
            finite_ = np.isfinite(real) & np.isfinite(synthetic)
            constant = (finite_.sum() <= 2 or np.ptp(synthetic[finite_]) == 0
                        or np.ptp(real[finite_]) == 0)
            r = np.nan if constant else np.corrcoef(real[finite_], synthetic[finite_])[0, 1]
            axes.set_title(label(generator, 28) + (f"\nr = {r:.4f}" if np.isfinite(r) else ""),
                           fontsize=9, style="italic" if look.reference else "normal")
            axes.set(xlim=(0, 1), ylim=(0, 1))
            axes.set_box_aspect(1)
            tidy(axes)
        made.supxlabel("real allele frequency", fontsize=9)
        made.supylabel("synthetic allele frequency", fontsize=9)
        return made


def pc_points(curves) -> tuple[np.ndarray, np.ndarray, list[float]] | None:
    """Real and synthetic (n, 2) PC1/PC2 points and the explained variance from a PCA curve
    in either documented layout (see the module docstring); None when malformed."""
    if not isinstance(curves, dict):
        return None
    columns = series(curves, "real_pc1", "real_pc2")
    synthetic = series(curves, "synthetic_pc1", "synthetic_pc2")
    if columns is not None and synthetic is not None:
        points = [np.column_stack(columns), np.column_stack(synthetic)]
    else:
        points = []
        for name in ("real", "synthetic"):
            rows = curves.get(name)
            if not isinstance(rows, (list, tuple)) or not rows or not all(
                    isinstance(row, (list, tuple)) and len(row) >= 2
                    and all(finite(v) is not None for v in row[:2]) for row in rows):
                return None
            points.append(np.array([[float(row[0]), float(row[1])] for row in rows]))
    explained = curves.get("explained_variance", curves.get("explained_variance_ratio_real"))
    variance = [finite(v) for v in explained] if isinstance(explained, (list, tuple)) else []
    return points[0], points[1], [v for v in variance if v is not None]


class PCAPlot(Plot):
    """Population structure (PCA).

    Individuals projected on the first two principal components of the real data: real
    (light grey) and synthetic (colour).
    """

    name = "pca"
    metric = PCA
    max_points = 2000

    def draw(self, panel: PlotPanel):
        """Real and synthetic individuals on the real data's first two PCs, one panel per
        generator (its first seed)."""
        found: dict[str, tuple] = {}
        for generator, curves in panel.curves(self.metric):
            points = pc_points(curves)
            if points is not None and generator not in found:
                found[generator] = points
        if not found:
            return None
        made, panels = panel_grid(len(found), columns=4, width=3.0, height=3.0, sharex=True,
                                  sharey=True)
        variance: list[float] = []
        for axes, (generator, (real, synthetic, explained)) in zip(panels, found.items(),
                                                                   strict=True):
            variance = variance or explained
            look = panel.style(generator)
            for points, colour, name in ((real, "0.75", "real"),
                                         (synthetic, look.color, "synthetic")):
                keep = _scatter_rows(len(points), self.max_points)
                axes.scatter(points[keep, 0], points[keep, 1], s=6, alpha=0.45, color=colour,
                             linewidths=0, rasterized=True, label=name)
            axes.set_title(label(generator, 28), fontsize=9,
                           style="italic" if look.reference else "normal")
            tidy(axes)
        # One legend: "best" placement would search every panel's points (slow).
        panels[0].legend(frameon=False, fontsize=7, markerscale=2, loc="upper right")
        share = lambda i: f" ({variance[i]:.1%})" if len(variance) > i else ""  # noqa: E731
        made.supxlabel(f"PC1{share(0)}", fontsize=9)
        made.supylabel(f"PC2{share(1)}", fontsize=9)
        return made


class AATSPlot(Plot):
    """Adversarial accuracy (AATS).

    Nearest-neighbour adversarial accuracy against held-out individuals, mean ± std over
    seeds; hatched bars are reference rows. A resemblance measure: privacy is judged by the
    gates.
    """

    name = "aats"
    metric = AATS

    def draw(self, panel: PlotPanel):
        """AATS per generator with its spread over seeds; the line marks the ideal 0.5."""
        bars = [(row["generator"], row["cells"][self.metric]) for row in panel.suite["rows"]
                if self.metric in row["cells"] and row["cells"][self.metric]["mean"] is not None]
        if not bars:
            return None
        made = figure(6.4, 0.45 * len(bars) + 1.2)
        axes = made.add_subplot()
        positions = np.arange(len(bars))[::-1]
        looks = [panel.style(name) for name, _ in bars]
        drawn = axes.barh(positions, [cell["mean"] for _, cell in bars],
                          xerr=[cell["std"] or 0.0 for _, cell in bars],
                          color=[look.color for look in looks], height=0.6,
                          error_kw=dict(ecolor="0.2", capsize=3, linewidth=1))
        for patch, look in zip(drawn.patches, looks, strict=True):
            if look.reference:
                patch.set_hatch("//")
        # Yale et al. 2020: 0.5 when real and synthetic are indistinguishable neighbours.
        axes.axvline(0.5, color="black", linewidth=1.2, linestyle="--")
        axes.set_yticks(positions, [label(name) for name, _ in bars], fontsize=9)
        axes.set(xlim=(0, 1), xlabel="AATS against the test split (0.5: indistinguishable; "
                                     "above: told apart from real data)")
        tidy(axes)
        axes.grid(False, axis="y")
        return made


def chromosome_order(name: str) -> tuple:
    """Natural order of chromosome names: 1, 2, ..., 10, ..., X, Y (a "chr" prefix ignored)."""
    bare = str(name).removeprefix("chr")
    return (0, int(bare), "") if bare.isdigit() else (1, 0, bare)


class ManhattanPlot(Plot):
    """GWAS (mirrored Manhattan).

    Per-SNP association of the trait in the real test split (above) and in synthetic data
    (below); dashed: Bonferroni 0.05 / SNPs.
    """

    name = "manhattan"
    metric = GWAS
    wide = True

    def draw(self, panel: PlotPanel):
        """Mirrored Manhattan plots, one panel per generator (its first seed): -log10 p of the
        real GWAS above the axis, of the synthetic one below, with the Bonferroni line
        0.05 / SNPs (the paper's threshold) on both sides."""
        found: dict[str, tuple] = {}
        for generator, curves in panel.curves(self.metric):
            arrays = series(curves, "position", "real_logp", "synthetic_logp")
            chromosomes = curves.get("chromosome")
            if (arrays is None or not isinstance(chromosomes, (list, tuple))
                    or len(chromosomes) != len(arrays[0]) or generator in found):
                continue
            found[generator] = (*arrays, [str(c) for c in chromosomes])
        if not found:
            return None
        made = figure(9.6, 2.3 * len(found) + 0.6)
        grid = made.subplots(len(found), 1, squeeze=False, sharex=False)
        for axes, (generator, data) in zip(grid.flat, found.items(), strict=True):
            self._panel(axes, generator, *data, panel.style(generator))
        grid.flat[-1].set_xlabel("chromosome")
        return made

    @staticmethod
    def _panel(axes, generator, position, real, synthetic, chromosomes, look) -> None:
        names = sorted(set(chromosomes), key=chromosome_order)
        chromosome = np.array(chromosomes)
        x = np.full(len(position), np.nan)
        offset, ticks = 0.0, []
        for index, name in enumerate(names):
            here = chromosome == name
            span = np.nanmax(position[here]) if np.isfinite(position[here]).any() else 0.0
            x[here] = position[here] + offset
            ticks.append(offset + span / 2)
            # Alternate shades tell neighbouring chromosomes apart.
            axes.scatter(x[here], real[here], s=5, color="0.15" if index % 2 == 0 else "0.55",
                         linewidths=0, rasterized=True)
            axes.scatter(x[here], -synthetic[here], s=5, color=look.color,
                         alpha=1.0 if index % 2 == 0 else 0.45, linewidths=0, rasterized=True)
            offset += span * 1.02 + 1.0
        threshold = -math.log10(0.05 / max(len(position), 1))
        for sign in (1, -1):
            axes.axhline(sign * threshold, color="C3", linewidth=0.8, linestyle="--")
        axes.axhline(0, color="black", linewidth=0.6)
        top = np.nanmax(np.concatenate([real, synthetic, [threshold]]))
        axes.set_ylim(-top * 1.08, top * 1.08)
        axes.set_yticks(axes.get_yticks(), [f"{abs(v):g}" for v in axes.get_yticks()])
        axes.set_ylim(-top * 1.08, top * 1.08)
        axes.set_xticks(ticks, names if len(names) <= 30 else [""] * len(names), fontsize=8)
        axes.set_ylabel("−log10 p\nreal ↑  synthetic ↓", fontsize=8)
        axes.set_title(label(generator), fontsize=9, loc="left",
                       style="italic" if look.reference else "normal")
        tidy(axes)
        axes.grid(False, axis="x")


class ParetoPlot(Plot):
    """Quality against cost.

    Each generator's fidelity against its fit + generate time; outlined points are on the
    Pareto front (nothing is both faster and better).
    """

    name = "pareto"

    def draw(self, panel: PlotPanel):
        """Scorecard fidelity (quality) against fit + generate seconds (cost), the Pareto
        front joined by a line."""
        points = panel.suite["pareto"]
        if len(points) < 2:
            return None
        made = figure(6.4, 4.0)
        axes = made.add_subplot()
        front = [point for point in points if point["front"]]
        axes.plot([p["cost_s"] for p in front], [p["fidelity"] for p in front], color="0.3",
                  linewidth=1.2, linestyle="-", drawstyle="steps-post", zorder=1,
                  label="Pareto front")
        for point in points:
            look = panel.style(point["generator"])
            axes.scatter([point["cost_s"]], [point["fidelity"]], s=70 if point["front"] else 40,
                         color=look.color, edgecolors="black" if point["front"] else "none",
                         linewidths=1.2, zorder=3)
            axes.annotate(label(point["generator"], 24), (point["cost_s"], point["fidelity"]),
                          textcoords="offset points", xytext=(6, 4), fontsize=8)
        costs = [p["cost_s"] for p in points]
        if min(costs) > 0 and max(costs) / min(costs) > 20:
            axes.set_xscale("log")
        axes.set(xlabel="fit + generate time (s)", ylabel="fidelity (0 baseline, 1 real data)")
        tidy(axes)
        axes.legend(frameon=False, fontsize=8)
        return made


#: The core plots, in page order.
PLOTS = (ScorecardPlot(), LDDecayPlot(), LDHeatmapPlot(), AlleleFrequencyPlot(), PCAPlot(),
         AATSPlot(), ManhattanPlot(), ParetoPlot())


@hookimpl
def genobench_register_plots(register):
    for plot in PLOTS:
        register(plot)
