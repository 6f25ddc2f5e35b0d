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
                       site_positions: np.ndarray, site_frequencies: np.ndarray,
                       site_dosages: np.ndarray) -> np.ndarray:
    """Pick one simulated site per panel SNP and return dosages on the panel.

    Sites are matched on their allele frequency in every population, so the synthetic
    individuals keep the population structure of the panel, not only its pooled frequencies.

    :param panel_positions: int (m,) sorted positions (bp) of the panel SNPs of one chromosome.
    :param panel_frequencies: float (m, k) alternate-allele frequency of each panel SNP in each
        of k populations (k = 1 without population labels).
    :param site_positions: int (s,) sorted positions of the simulated sites.
    :param site_frequencies: float (s, k) frequencies of the simulated sites, same populations.
    :param site_dosages: int8 (n, s) simulated dosages.
    :returns: int8 (n, m) dosages; each simulated site is used at most once, and flipped
        (2 - g) when its other allele matches the panel SNP's frequencies better.
    """
    m, s = panel_positions.size, site_positions.size
    if s == 0:
        raise GeneratorError("the coalescent simulation produced no segregating sites")
    spacing = np.diff(panel_positions)
    half_window = max(2_000.0, float(np.median(spacing)) if spacing.size else 50_000.0)
    lo = np.searchsorted(site_positions, panel_positions - half_window, side="left")
    hi = np.searchsorted(site_positions, panel_positions + half_window, side="right")
    used = np.zeros(s, dtype=bool)
    chosen = np.empty(m, dtype=np.int64)
    flip = np.zeros(m, dtype=bool)
    for i in range(m):  # one pass over panel SNPs; candidates are a small window each
        a, b = lo[i], hi[i]
        candidates = np.arange(a, b)[~used[a:b]] if b > a else np.empty(0, np.int64)
        if candidates.size == 0:  # widen to the nearest unused sites on either side
            free = np.flatnonzero(~used)
            if free.size == 0:
                free = np.arange(s)
            k = np.searchsorted(site_positions[free], panel_positions[i])
            candidates = free[max(0, k - 8):k + 8]
        q = site_frequencies[candidates]
        same = np.abs(q - panel_frequencies[i]).sum(axis=1)
        other = np.abs(1 - q - panel_frequencies[i]).sum(axis=1)
        best = int(np.argmin(np.minimum(same, other)))
        chosen[i] = candidates[best]
        flip[i] = other[best] < same[best]
        used[chosen[i]] = True
    dosages = site_dosages[:, chosen]
    dosages[:, flip] = 2 - dosages[:, flip]
    return dosages.astype(np.int8)


def population_frequencies(dosages: np.ndarray, labels: np.ndarray | None,
                           populations: list[str]) -> np.ndarray:
    """Alternate-allele frequency per SNP and population: float (SNPs, len(populations))."""
    if labels is None or not populations:
        return (dosages.mean(axis=0, dtype=np.float64) / 2)[:, None]
    columns = []
    for name in populations:
        rows = labels == name
        columns.append(dosages[rows].mean(axis=0, dtype=np.float64) / 2 if rows.any()
                       else dosages.mean(axis=0, dtype=np.float64) / 2)
    return np.stack(columns, axis=1)


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
        if train.populations is not None:
            names, counts = np.unique(train.populations, return_counts=True)
            self.population_shares_ = dict(zip(names.tolist(), (counts / counts.sum()).tolist()))
        else:
            samples = source["samples"]
            total = sum(samples.values())
            self.population_shares_ = {k: v / total for k, v in samples.items()}
        self.populations_ = sorted(self.population_shares_) if train.populations is not None else []
        self.frequencies_ = population_frequencies(train.dosages, train.populations,
                                                   self.populations_)

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
            site_dosages = simulated.dosages[:, sites]
            out[:, panel] = map_sites_to_panel(
                self.positions_[panel], self.frequencies_[panel], simulated.positions[sites],
                population_frequencies(site_dosages, simulated.populations, self.populations_),
                site_dosages)
        return out[np.random.default_rng(seed).permutation(out.shape[0])]


@genobench.hookimpl
def genobench_register_generators(register):
    register(MsprimeCoalescent)
