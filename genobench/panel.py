"""The SNP panel of a suite (its ``[panel]`` table) and the rule that picks it, as a chip does.

:func:`select_panel` reads only per-site allele frequencies, positions and chromosomes, then
takes the chosen sites; so it runs unchanged on a decoded :class:`~genobench.data.GenotypeData`
and on a source's per-site summary that decodes only the sites taken
(:class:`genobench.sources.simulated.SiteCounts`): at the paper's sizes the panel is chosen
without ever holding individuals x every common site.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pydantic

from .data import GenotypeData
from .errors import DataError


class PanelSpec(pydantic.BaseModel):
    """The ``[panel]`` table: which segregating sites become the SNP panel (a chip design).

    ``n_snps`` (total over all chromosomes) or ``density`` (SNPs per Mb) thin the sites that pass
    the MAF filter to evenly spaced ones; with neither, every passing site is kept.
    """

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    maf: float = pydantic.Field(0.01, ge=0.0, lt=0.5)
    n_snps: Optional[pydantic.PositiveInt] = None
    density: Optional[pydantic.PositiveFloat] = None

    @pydantic.model_validator(mode="after")
    def _one_size(self):
        if self.n_snps is not None and self.density is not None:
            raise ValueError("give n_snps or density, not both")
        return self


def panel_sites(frequencies: np.ndarray, positions: np.ndarray, chromosomes: np.ndarray,
                panel: PanelSpec) -> np.ndarray:
    """Indices (sorted) of the sites the panel keeps: the MAF filter, then thinning to evenly
    spaced SNPs as a genotyping array would.

    Thinning picks, per chromosome, the passing site nearest to each of ``k`` evenly spaced
    target positions (``k`` proportional to the chromosome's span), without repeats.

    :param frequencies: alternate-allele frequency per site, float64 (m,).
    :param positions: 1-based positions (m,), sorted within each chromosome.
    :param chromosomes: chromosome of each site (m,).
    """
    maf = np.minimum(frequencies, 1 - frequencies)
    passing = np.flatnonzero(maf >= max(panel.maf, 1e-12))
    if passing.size == 0:
        raise DataError(f"no SNP passes the MAF filter {panel.maf}")
    if panel.n_snps is None and panel.density is None:
        return passing
    chromosomes = chromosomes[passing]
    order = list(dict.fromkeys(chromosomes.tolist()))
    spans = {c: np.ptp(positions[passing][chromosomes == c]) + 1 for c in order}
    if panel.n_snps is not None:
        total = sum(spans.values())
        wanted = {c: max(1, round(panel.n_snps * spans[c] / total)) for c in order}
    else:
        wanted = {c: max(1, round(panel.density * spans[c] / 1e6)) for c in order}
    chosen = []
    for chromosome in order:
        index = passing[chromosomes == chromosome]
        at = positions[index]
        k = wanted[chromosome]
        if k >= index.size:
            chosen.append(index)
            continue
        targets = np.linspace(at[0], at[-1], k)
        nearest = np.clip(np.searchsorted(at, targets), 0, index.size - 1)
        previous = np.clip(nearest - 1, 0, index.size - 1)
        gap_before = np.abs(at[previous] - targets)
        closer = np.where(gap_before < np.abs(at[nearest] - targets), previous, nearest)
        picked = np.unique(closer)
        if picked.size < k:  # fill collisions with evenly spread unused sites
            unused = np.setdiff1d(np.arange(index.size), picked)
            extra = unused[np.linspace(0, unused.size - 1, k - picked.size).astype(int)]
            picked = np.union1d(picked, extra)
        chosen.append(index[picked])
    return np.concatenate(chosen)


def select_panel(data, panel: PanelSpec) -> GenotypeData:
    """``data`` on the sites of :func:`panel_sites`.

    :param data: a :class:`~genobench.data.GenotypeData`, or a per-site summary answering
        ``allele_frequencies()``, ``positions``, ``chromosomes`` and ``take_snps(index)``
        (:class:`genobench.sources.simulated.SiteCounts`, which decodes only those sites).
    """
    return data.take_snps(panel_sites(data.allele_frequencies(), data.positions,
                                      data.chromosomes, panel))
