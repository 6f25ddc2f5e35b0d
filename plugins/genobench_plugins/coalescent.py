"""The msprime coalescent baseline: new individuals from the suite's own demographic model.

On a simulated suite it is an independent replicate of the demographic model: fresh
genealogies from the very model that made the data (stdpopsim + msprime, offline, uniform
recombination). It is a reference row, shown on every leaderboard and never ranked: new
genealogies are not new samples of the suite's own genealogy, so nearest-neighbour metrics (AATS,
k-NN, detection) tell its individuals apart from the real ones even though the model is exact,
which says how much of a generator's distance is owed to the population's history. A fresh
simulation has its own segregating sites, so each panel SNP is mapped to a simulated site near
its position with the closest minor-allele frequency, used once, and polarized to the panel's
alternate allele (the approach of mapping simulated sites onto a chip).

On a real-data suite (any source other than stdpopsim) there is no model to re-simulate, so
:meth:`MsprimeCoalescent.fit` fits the simplest one to the training split: one population of
constant size. Its size comes from linkage disequilibrium by default (``ne_method = "ld"``:
the Hill & Weir 1988 expectation of r^2 at the assumed recombination rate, matched to the
panel's r^2 decay), which SNP-array ascertainment and thinning leave nearly intact, or from
diversity (``ne_method = "diversity"``: Watterson's estimator, corrected for the panel's
minor-allele-frequency cut-off; right for sequence data, an underestimate for a thinned array).
New individuals are simulated with ``msprime.sim_ancestry`` + ``sim_mutations`` over each
chromosome's span and mapped onto the panel as above. The mutation rate of that simulation
only sets how many candidate sites there are (it leaves genealogies and LD alone), so it is
raised until there are several candidates per panel SNP.
"""

from __future__ import annotations

import numpy as np

import genobench
from genobench import FitContext, GeneratorError, GenotypeData, kernels
from genobench.sources.simulated import StdpopsimOptions, simulate


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
    description = ("Reference, not ranked: an independent replicate of the demographic model "
                   "(msprime from the suite's own model; real data: a constant-size model "
                   "fitted to LD), sites mapped onto the panel. New genealogies, so "
                   "nearest-neighbour metrics tell it apart from the suite's individuals")
    is_reference = True
    citation = ("Baumdicker et al. 2022, Genetics (msprime 1.0); "
                "Adrion et al. 2020, eLife (stdpopsim)")

    def __init__(self, ne: float | None = None, ne_method: str = "ld",
                 recombination_rate: float = 1e-8, mutation_rate: float = 1.25e-8,
                 candidates_per_snp: float = 8.0):
        """Options for real-data suites (a stdpopsim suite re-simulates its own model).

        :param ne: diploid effective population size; None estimates it (``ne_method``).
        :param ne_method: "ld" (from r^2 decay) or "diversity" (Watterson's theta).
        :param recombination_rate: per bp per generation (human genome average 1e-8).
        :param mutation_rate: per bp per generation, used by ``ne_method = "diversity"``.
        :param candidates_per_snp: simulated common sites wanted per panel SNP.
        """
        if ne_method not in ("ld", "diversity"):
            raise GeneratorError(f"msprime: ne_method must be 'ld' or 'diversity', "
                                 f"not {ne_method!r}")
        super().__init__(ne=ne, ne_method=ne_method, recombination_rate=recombination_rate,
                         mutation_rate=mutation_rate, candidates_per_snp=candidates_per_snp)

    def fit(self, train: GenotypeData, *, seed: int, context: FitContext | None = None) -> None:
        source = dict(context.source) if context is not None else {}
        if source.get("kind") != "stdpopsim":
            self._fit_constant_size(train)
            return
        self.source_ = source
        self.positions_ = train.positions
        self.chromosomes_ = train.chromosomes
        if train.populations is not None:
            names, counts = np.unique(train.populations, return_counts=True)
            shares = (counts / counts.sum()).tolist()
            self.population_shares_ = dict(zip(names.tolist(), shares, strict=True))
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
        return dict(zip(names, counts.tolist(), strict=True))

    # -- real-data suites: a constant-size model fitted to the panel ---------------------------
    def _fit_constant_size(self, train: GenotypeData) -> None:
        self.source_ = None
        self.positions_ = train.positions
        self.chromosomes_ = train.chromosomes
        self.populations_ = []  # one simulated population: pooled frequencies
        self.frequencies_ = population_frequencies(train.dosages, None, [])
        ne = self.options["ne"]
        if ne is None:
            if self.options["ne_method"] == "ld":
                ne = ne_from_ld(train.dosages, train.positions, train.chromosomes,
                                self.options["recombination_rate"])
            else:
                ne = ne_from_diversity(train.dosages, train.positions, train.chromosomes,
                                       self.options["mutation_rate"])
        self.ne_ = float(ne)
        maf = np.minimum(self.frequencies_[:, 0], 1 - self.frequencies_[:, 0])
        self.min_maf_ = float(max(maf.min(), 0.5 / train.n_samples)) if maf.size else 0.01

    def _simulate_constant_size(self, n: int, seed: int) -> np.ndarray:
        import msprime

        out = np.empty((n, self.positions_.size), dtype=np.int8)
        chromosomes = list(dict.fromkeys(self.chromosomes_.tolist()))
        seeds = np.random.default_rng(seed).integers(1, 2**31 - 1, size=(len(chromosomes), 2))
        haplotypes = 2 * n
        # Share of segregating sites with minor-allele count >= the panel's cut-off under the
        # neutral site-frequency spectrum (expected count of sites at frequency i/2n ~ 1/i).
        low = max(1, int(np.ceil(self.min_maf_ * haplotypes)))
        common = sum(1 / i for i in range(low, haplotypes - low + 1)) or 1.0
        for (ancestry_seed, mutation_seed), chromosome in zip(seeds, chromosomes, strict=True):
            panel = np.flatnonzero(self.chromosomes_ == chromosome)
            positions = self.positions_[panel]
            start = int(positions.min())
            length = float(max(positions.max() - start + 1, 1_000))
            ts = msprime.sim_ancestry(
                samples=n, ploidy=2, population_size=self.ne_, sequence_length=length,
                recombination_rate=self.options["recombination_rate"],
                random_seed=int(ancestry_seed))
            # Enough mutations for candidates_per_snp common sites per panel SNP.
            wanted = self.options["candidates_per_snp"] * panel.size
            rate = wanted / (4 * self.ne_ * length * common)
            ts = msprime.sim_mutations(ts, rate=rate, model=msprime.BinaryMutationModel(),
                                       discrete_genome=False, random_seed=int(mutation_seed))
            genotypes = ts.genotype_matrix()  # (sites, haplotypes), individuals' nodes adjacent
            dosages = (genotypes[:, 0::2] + genotypes[:, 1::2]).T.astype(np.int8)
            site_positions = (ts.tables.sites.position + start).astype(np.int64)
            counts = dosages.sum(axis=0, dtype=np.int64)
            keep = (counts > 0) & (counts < 2 * n)
            dosages, site_positions = dosages[:, keep], site_positions[keep]
            out[:, panel] = map_sites_to_panel(
                positions, self.frequencies_[panel], site_positions,
                population_frequencies(dosages, None, []), dosages)
        return out

    def generate(self, n: int, *, seed: int, phenotypes=None) -> np.ndarray:
        if self.source_ is None:
            return self._simulate_constant_size(n, seed)
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


def hill_weir_r2(rho: np.ndarray) -> np.ndarray:
    """Expected r^2 between two sites at population-scaled recombination rho = 4 Ne c.

    Hill & Weir 1988 (Theor Popul Biol 33:54) from Ohta & Kimura's equilibrium.
    """
    return (10 + rho) / ((2 + rho) * (11 + rho))


def ne_from_ld(dosages: np.ndarray, positions: np.ndarray, chromosomes: np.ndarray,
               recombination_rate: float, *, max_distance: float = 1e6,
               bins: int = 12) -> float:
    """Diploid Ne whose expected r^2 decay matches the panel's (least squares on log Ne).

    The panel's decay is genobench's LD-decay kernel (:func:`genobench.kernels.ld_decay`: mean
    Rogers-Huff r^2 of the dosages over SNP pairs in log-spaced distance bins from 1 kb to
    ``max_distance``); 1 / n is added to the expectation for the sampling bias of r^2
    (Hill 1981), and bins are weighted by their pair counts.
    """
    n = dosages.shape[0]
    decay = kernels.ld_decay(dosages, positions, chromosomes, min_distance=1e3,
                             max_distance=max_distance, n_bins=bins)
    filled = decay.counts > 0
    if not filled.any():
        raise GeneratorError("msprime: no SNP pairs within 1 kb - 1 Mb to estimate Ne from LD")
    observed = decay.mean[filled]
    centres = decay.centres[filled]
    grid = np.logspace(2, 7, 501)
    expected = hill_weir_r2(4 * grid[:, None] * recombination_rate * centres[None, :]) + 1 / n
    loss = ((np.log(expected) - np.log(observed)[None, :]) ** 2 * decay.counts[filled]).sum(axis=1)
    return float(grid[np.argmin(loss)])


def ne_from_diversity(dosages: np.ndarray, positions: np.ndarray, chromosomes: np.ndarray,
                      mutation_rate: float) -> float:
    """Diploid Ne = theta_W / (4 mu), Watterson's theta per bp (Watterson 1975).

    Segregating sites are the panel's polymorphic SNPs over the chromosomes' spans; the harmonic
    sum runs over the allele counts the panel's lowest minor-allele frequency lets through (the
    neutral spectrum), so a MAF cut-off is corrected for, thinning is not.
    """
    haplotypes = 2 * dosages.shape[0]
    counts = dosages.sum(axis=0, dtype=np.int64)
    minor = np.minimum(counts, haplotypes - counts)
    segregating = int((minor > 0).sum())
    if segregating == 0:
        raise GeneratorError("msprime: no polymorphic SNP to estimate diversity from")
    low = int(minor[minor > 0].min())
    harmonic = sum(1 / i for i in range(low, haplotypes - low + 1))
    span = sum(float(positions[chromosomes == c].max() - positions[chromosomes == c].min() + 1)
               for c in dict.fromkeys(chromosomes.tolist()))
    theta = segregating / (harmonic * span)
    return float(theta / (4 * mutation_rate))


@genobench.hookimpl
def genobench_register_generators(register):
    register(MsprimeCoalescent)
