"""The msprime coalescent baseline: new individuals from the suite's own demographic model.

On a simulated suite this is the ideal generator: it draws fresh genealogies from the very
model that made the data (stdpopsim + msprime, offline, uniform recombination). A fresh
simulation has its own segregating sites, so each panel SNP is mapped to a simulated site near
its position with the closest minor-allele frequency, used once, and polarized to the panel's
alternate allele (the approach of mapping simulated sites onto a chip).
"""

from __future__ import annotations

import numpy as np

import genobench
from genobench import FitContext, GeneratorError, GenotypeData


def map_sites_to_panel(panel_positions: np.ndarray, panel_frequencies: np.ndarray,
                       site_positions: np.ndarray, site_dosages: np.ndarray) -> np.ndarray:
    """Pick one simulated site per panel SNP and return dosages on the panel.

    :param panel_positions: int (m,) sorted positions (bp) of the panel SNPs of one chromosome.
    :param panel_frequencies: float (m,) alternate-allele frequencies of the panel SNPs.
    :param site_positions: int (s,) sorted positions of the simulated sites.
    :param site_dosages: int8 (n, s) simulated dosages.
    :returns: int8 (n, m) dosages; site j goes to the panel SNP at most once, flipped (2 - g)
        when its frequency lies on the other side of 0.5 than the panel SNP's.
    """
    m, s = panel_positions.size, site_positions.size
    n = site_dosages.shape[0]
    if s == 0:
        raise GeneratorError("the coalescent simulation produced no segregating sites")
    site_freq = site_dosages.mean(axis=0, dtype=np.float64) / 2
    site_maf = np.minimum(site_freq, 1 - site_freq)
    panel_maf = np.minimum(panel_frequencies, 1 - panel_frequencies)
    spacing = np.diff(panel_positions)
    half_window = max(1_000.0, float(np.median(spacing)) / 2 if spacing.size else 50_000.0)
    lo = np.searchsorted(site_positions, panel_positions - half_window, side="left")
    hi = np.searchsorted(site_positions, panel_positions + half_window, side="right")
    used = np.zeros(s, dtype=bool)
    chosen = np.empty(m, dtype=np.int64)
    for i in range(m):  # one pass over panel SNPs; candidates are a small window each
        a, b = lo[i], hi[i]
        candidates = np.arange(a, b)[~used[a:b]] if b > a else np.empty(0, np.int64)
        if candidates.size == 0:  # widen to the nearest unused sites on either side
            free = np.flatnonzero(~used)
            if free.size == 0:
                free = np.arange(s)
            k = np.searchsorted(site_positions[free], panel_positions[i])
            candidates = free[max(0, k - 8):k + 8]
        cost = np.abs(site_maf[candidates] - panel_maf[i])
        best = candidates[np.argmin(cost)]
        chosen[i] = best
        used[best] = True
    dosages = site_dosages[:, chosen]
    flip = (site_freq[chosen] > 0.5) != (panel_frequencies > 0.5)
    dosages[:, flip] = 2 - dosages[:, flip]
    return dosages.reshape(n, m).astype(np.int8)


class MsprimeCoalescent(genobench.Generator):
    """Fresh coalescent simulations from the suite's stdpopsim demographic model."""

    name = "msprime"
    description = ("Coalescent simulation (msprime) from the suite's own demographic model, "
                   "sites mapped onto the panel")
    citation = "Baumdicker et al. 2022, Genetics (msprime 1.0); Adrion et al. 2020, eLife (stdpopsim)"

    def fit(self, train: GenotypeData, *, seed: int, context: FitContext | None = None) -> None:
        source = dict(context.source) if context is not None else {}
        if source.get("kind") != "stdpopsim":
            raise GeneratorError(
                f"msprime needs a simulated (stdpopsim) suite; this suite's source is "
                f"{source.get('kind')!r}")
        self.source_ = source
        self.positions_ = train.positions
        self.chromosomes_ = train.chromosomes
        self.frequencies_ = train.allele_frequencies()
        if train.populations is not None:
            names, counts = np.unique(train.populations, return_counts=True)
            self.population_shares_ = dict(zip(names.tolist(), (counts / counts.sum()).tolist()))
        else:
            samples = source["samples"]
            total = sum(samples.values())
            self.population_shares_ = {k: v / total for k, v in samples.items()}

    def _samples_for(self, n: int) -> dict[str, int]:
        names = sorted(self.population_shares_)
        shares = np.array([self.population_shares_[k] for k in names])
        counts = np.floor(shares * n).astype(int)
        counts[np.argsort(-(shares * n - counts))[: n - counts.sum()]] += 1
        return dict(zip(names, counts.tolist()))

    def generate(self, n: int, *, seed: int, phenotypes=None) -> np.ndarray:
        from genobench.sources.simulated import StdpopsimOptions, simulate

        options = StdpopsimOptions(**self.source_)
        simulated = simulate(options, seed=seed, samples=self._samples_for(n))
        out = np.empty((simulated.n_samples, self.positions_.size), dtype=np.int8)
        for chromosome in dict.fromkeys(self.chromosomes_.tolist()):
            panel = self.chromosomes_ == chromosome
            sites = simulated.chromosomes == chromosome
            out[:, panel] = map_sites_to_panel(
                self.positions_[panel], self.frequencies_[panel],
                simulated.positions[sites], simulated.dosages[:, sites])
        return out[np.random.default_rng(seed).permutation(out.shape[0])]


@genobench.hookimpl
def genobench_register_generators(register):
    register(MsprimeCoalescent)
