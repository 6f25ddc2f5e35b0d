"""Simulated suites: stdpopsim species and demographic models, run offline with msprime.

Every contig uses its uniform recombination rate (stdpopsim's default, no genetic-map download),
and the demographic model's mutation rate unless the suite overrides it. ``chunk`` simulates a
long chromosome as independent pieces (msprime's time grows about quadratically with length).
Only biallelic segregating sites are kept; positions are reported 1-based, as in VCF.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import numpy as np
import pydantic

from ..data import GenotypeData
from ..errors import SpecError
from ..hookspecs import hookimpl
from .base import SourceOptions, SuiteSource

_BLOCK_SITES = 4096  # sites decoded per block: bounds memory to 4096 x haplotypes int8


class StdpopsimOptions(SourceOptions):
    """The ``[source]`` table of a simulated suite."""

    kind: str = "stdpopsim"
    species: str = pydantic.Field(description="stdpopsim species id, e.g. HomSap or BosTau")
    model: str = pydantic.Field(description="demographic model id, e.g. OutOfAfrica_3G09")
    chromosomes: list[str] = pydantic.Field(min_length=1,
                                            description="contig ids, e.g. ['chr22'] or ['25']")
    left: Optional[pydantic.NonNegativeInt] = None
    right: Optional[pydantic.PositiveInt] = None
    samples: dict[str, pydantic.PositiveInt] = pydantic.Field(
        min_length=1, description="diploid individuals per population")
    mutation_rate: Optional[pydantic.PositiveFloat] = None
    chunk: Optional[pydantic.PositiveInt] = pydantic.Field(
        None, description="simulate each chromosome as independent pieces of about this many "
                          "bp: msprime's time grows about quadratically with length, so pieces "
                          "make long chromosomes affordable; LD across piece borders is lost")
    min_maf: float = pydantic.Field(
        0.0, ge=0.0, lt=0.5,
        description="drop sites whose minor allele frequency among the simulated individuals "
                    "is below this while decoding: bounds memory on long chromosomes (most "
                    "sites are rare); set it to the panel's maf")

    @pydantic.field_validator("chromosomes", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, (str, int)) else value

    @pydantic.model_validator(mode="after")
    def _slice(self):
        if (self.left is not None or self.right is not None) and len(self.chromosomes) != 1:
            raise ValueError("left/right slice only with a single chromosome")
        if self.left is not None and self.right is not None and self.right <= self.left:
            raise ValueError(f"right ({self.right}) must be greater than left ({self.left})")
        return self


def _species_model_contig(options: StdpopsimOptions, chromosome: str):
    import stdpopsim

    try:
        species = stdpopsim.get_species(options.species)
    except ValueError:
        raise SpecError(
            f"[source] species: unknown stdpopsim species {options.species!r}") from None
    try:
        model = species.get_demographic_model(options.model)
    except ValueError:
        known = ", ".join(m.id for m in species.demographic_models)
        raise SpecError(f"[source] model: {options.model!r} is not a {options.species} "
                        f"demographic model (known: {known})") from None
    ids = {c.id for c in species.genome.chromosomes}
    contig_id = next((c for c in (chromosome, f"chr{chromosome}", chromosome.removeprefix("chr"))
                      if c in ids), None)
    if contig_id is None:
        raise SpecError(f"[source] chromosomes: {chromosome!r} is not a {options.species} "
                        f"chromosome (known: {', '.join(sorted(ids))})")
    populations = {p.name for p in model.populations}
    for name in options.samples:
        if name not in populations:
            raise SpecError(f"[source] samples: population {name!r} is not in model "
                            f"{options.model} (known: {', '.join(sorted(populations))})")
    length = species.genome.get_chromosome(contig_id).length
    if options.right is not None and options.right > length:
        raise SpecError(f"[source] right: {options.right} is beyond the end of {contig_id} "
                        f"({int(length)} bp)")
    contig = species.get_contig(
        contig_id, left=options.left, right=options.right,
        mutation_rate=options.mutation_rate or model.mutation_rate)
    return species, model, contig, contig_id


def tree_sequence_dosages(ts, *, min_maf: float = 0.0
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Diploid dosages of the biallelic segregating sites of a tree sequence.

    :param min_maf: also drop sites whose minor allele frequency is below this.

    :returns: (dosages int8 (individuals, sites), positions int64 1-based (sites,),
        population index per individual (individuals,)).
    """
    individuals = [ind for ind in ts.individuals() if len(ind.nodes) == 2]
    nodes = np.array([ind.nodes for ind in individuals], dtype=np.int32)  # (n, 2)
    samples = ts.samples()
    column = {node: i for i, node in enumerate(samples)}
    first = np.array([column[a] for a in nodes[:, 0]])
    second = np.array([column[b] for b in nodes[:, 1]])
    population = np.array([ts.node(a).population for a in nodes[:, 0]])
    n_haplotypes = len(samples)
    # fewest copies of the minor allele a kept site has (1: every segregating site)
    least = max(1, int(np.ceil(min_maf * 2 * len(first) - 1e-9)))
    keep_blocks, position_blocks = [], []
    buffer = np.empty((_BLOCK_SITES, n_haplotypes), dtype=np.int8)
    positions = np.empty(_BLOCK_SITES, dtype=np.int64)
    n_alleles = np.empty(_BLOCK_SITES, dtype=np.int64)
    filled = 0

    def flush(count):
        block = buffer[:count]
        ok = (n_alleles[:count] == 2) & (block.min(axis=1) >= 0)
        dos = block[ok][:, first] + block[ok][:, second]
        counts = dos.sum(axis=1, dtype=np.int64)
        seg = (counts >= least) & (counts <= 2 * len(first) - least)
        keep_blocks.append(dos[seg].T.copy())
        position_blocks.append(positions[:count][ok][seg] + 1)

    for variant in ts.variants(copy=False):
        buffer[filled] = variant.genotypes
        positions[filled] = int(variant.site.position)
        n_alleles[filled] = variant.num_alleles
        filled += 1
        if filled == _BLOCK_SITES:
            flush(filled)
            filled = 0
    if filled:
        flush(filled)
    dosages = (np.concatenate(keep_blocks, axis=1) if keep_blocks
               else np.zeros((len(first), 0), np.int8))
    site_positions = (np.concatenate(position_blocks) if position_blocks
                      else np.zeros(0, np.int64))
    return dosages, site_positions, population


def _pieces(options: StdpopsimOptions, chromosome: str) -> list[StdpopsimOptions]:
    """The options of each independently simulated piece of ``chromosome``.

    Without ``chunk``, one piece: the chromosome (or its ``left``/``right`` slice). With it,
    the span is cut into equal pieces of at most ``chunk`` bp, each simulated on its own (the
    same individuals; genealogies independent across borders, as for unlinked loci).
    """
    import stdpopsim

    one = options.model_copy(update={"chromosomes": [chromosome]})
    if options.chunk is None:
        return [one]
    _, _, _, contig_id = _species_model_contig(one, chromosome)
    length = int(stdpopsim.get_species(options.species).genome.get_chromosome(contig_id).length)
    start, end = options.left or 0, options.right or length
    count = -(-(end - start) // options.chunk)  # ceil
    borders = np.linspace(start, end, count + 1).round().astype(int)
    return [one.model_copy(update={"left": int(a), "right": int(b)})
            for a, b in zip(borders[:-1], borders[1:], strict=True)]


def simulated_pieces(options: StdpopsimOptions, *, seed: int,
                     samples: dict[str, int] | None = None):
    """Each piece of each chromosome simulated with stdpopsim + msprime, in order.

    :param samples: diploid individuals per population; defaults to ``options.samples``.
    :param seed: seeds each piece's simulation through ``numpy.random.default_rng``, so
        :func:`simulate` and :func:`simulate_sites` see the very same tree sequences.
    :returns: an iterator of (contig id, tree sequence).
    """
    import stdpopsim

    samples = dict(options.samples if samples is None else samples)
    samples = {k: v for k, v in samples.items() if v > 0}
    engine = stdpopsim.get_engine("msprime")
    rng = np.random.default_rng(seed)
    for chromosome in options.chromosomes:
        for piece in _pieces(options, chromosome):
            _, model, contig, contig_id = _species_model_contig(piece, chromosome)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # model vs contig recombination rate notice
                ts = engine.simulate(model, contig, samples,
                                     seed=int(rng.integers(1, 2**31 - 1)))
            yield contig_id, ts


def simulate(options: StdpopsimOptions, *, seed: int, samples: dict[str, int] | None = None,
             sample_prefix: str = "") -> GenotypeData:
    """Simulate the suite's individuals (or ``samples`` instead) with stdpopsim + msprime.

    :param samples: diploid individuals per population; defaults to ``options.samples``.
    :param seed: seeds each chromosome's simulation through ``numpy.random.default_rng``.
    :returns: all biallelic segregating sites of every chromosome, in order.
    """
    parts, positions, chromosomes, population_names = [], [], [], None
    for contig_id, ts in simulated_pieces(options, seed=seed, samples=samples):
        dosages, pos, population = tree_sequence_dosages(ts, min_maf=options.min_maf)
        names = np.array([ts.population(p).metadata.get("name", str(p))
                          for p in population])
        population_names = names if population_names is None else population_names
        parts.append(dosages)
        positions.append(pos)
        chromosomes.append(np.full(len(pos), contig_id.removeprefix("chr")))
    dosages = np.concatenate(parts, axis=1)
    positions = np.concatenate(positions)
    chromosomes = np.concatenate(chromosomes)
    snp_ids = np.char.add(np.char.add(chromosomes.astype(str), ":"), positions.astype(str))
    return GenotypeData(dosages, positions, chromosomes, snp_ids,
                        _sample_ids(population_names, sample_prefix),
                        populations=population_names)


def _diploid_nodes(ts):
    """(first, second) sample nodes of each diploid individual, and its population index."""
    nodes = np.array([ind.nodes for ind in ts.individuals() if len(ind.nodes) == 2],
                     dtype=np.int32).reshape(-1, 2)
    population = ts.tables.nodes.population[nodes[:, 0]] if nodes.size else np.zeros(0, int)
    return nodes[:, 0], nodes[:, 1], population


def site_allele_counts(ts, *, min_maf: float = 0.0):
    """Per-site allele counts of the diploid individuals, from the trees, without decoding.

    The count of each site's derived allele is a site statistic of the tree sequence
    (``sample_count_stat`` with ``polarised=True``: the samples below each mutation), so no
    genotype matrix is formed. Sites are kept as :func:`tree_sequence_dosages` keeps them:
    biallelic (two alleles, ancestral included) and with at least ``ceil(min_maf * 2 n)``
    copies of each allele (1: every segregating site).

    :returns: (site ids int64 (k,), positions int64 1-based (k,), derived-allele counts int64
        (k,)) of the kept sites, in order.
    """
    first, second, _ = _diploid_nodes(ts)
    n = first.size
    if ts.num_sites == 0 or n == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    samples = np.concatenate([first, second])
    counts = ts.sample_count_stat(
        [samples], lambda x: x, 1, windows="sites", mode="site", span_normalise=False,
        polarised=True, strict=False)[:, 0].round().astype(np.int64)
    n_alleles = np.fromiter(
        (len({site.ancestral_state, *(m.derived_state for m in site.mutations)})
         for site in ts.sites()), dtype=np.int64, count=ts.num_sites)
    least = max(1, int(np.ceil(min_maf * 2 * n - 1e-9)))
    keep = np.flatnonzero((n_alleles == 2) & (counts >= least) & (counts <= 2 * n - least))
    positions = ts.tables.sites.position[keep].astype(np.int64) + 1
    return keep.astype(np.int64), positions, counts[keep]


def decode_sites(ts, site_ids, *, block_sites: int = _BLOCK_SITES) -> np.ndarray:
    """Diploid dosages of the given sites only, int8 (individuals, len(site_ids)).

    Sites are decoded one at a time (``tskit.Variant.decode``) into a block of
    ``block_sites`` columns that is copied into the result, so memory is the result plus one
    block; the individuals and the dosage coding are those of :func:`tree_sequence_dosages`.
    """
    import tskit

    first, second, _ = _diploid_nodes(ts)
    n = first.size
    out = np.empty((n, len(site_ids)), dtype=np.int8)
    variant = tskit.Variant(ts, samples=np.concatenate([first, second]))
    for start in range(0, len(site_ids), block_sites):
        part = site_ids[start:start + block_sites]
        block = np.empty((len(part), n), dtype=np.int8)
        for j, site in enumerate(part):
            variant.decode(int(site))
            genotypes = variant.genotypes
            block[j] = genotypes[:n] + genotypes[n:]
        out[:, start:start + len(part)] = block.T
    return out


class SiteCounts:
    """Simulated chromosomes summarised per site, decoded only where asked.

    It answers what :func:`genobench.panel.select_panel` and
    :func:`genobench.traits.simulate_phenotypes` read of a
    :class:`~genobench.data.GenotypeData` (``allele_frequencies()``, ``positions``,
    ``chromosomes``, ``n_samples``, ``n_snps``, ``snp_ids``) from per-site allele counts, and
    :meth:`take_snps` decodes only the sites taken (the panel's, the traits' causal ones),
    piece by piece, straight to int8: a suite is prepared at the paper's sizes with memory of
    the order of the panel's dosages plus the tree sequences, never individuals x every common
    site. The result is identical to ``simulate(...).take_snps(index)``.
    """

    def __init__(self, pieces, positions, chromosomes, counts, sample_ids, populations):
        self._pieces = pieces  # (tree sequence, its kept site ids, first column) per piece
        self.positions, self.chromosomes = positions, chromosomes
        self.counts = counts
        self.sample_ids, self.populations = sample_ids, populations
        self.snp_ids = np.char.add(np.char.add(chromosomes.astype(str), ":"),
                                   positions.astype(str))

    @property
    def n_samples(self) -> int:
        return int(self.sample_ids.size)

    @property
    def n_snps(self) -> int:
        return int(self.positions.size)

    def allele_frequencies(self) -> np.ndarray:
        """Alternate (derived) allele frequency per site, float64 (n_snps,)."""
        return self.counts / (2.0 * max(self.n_samples, 1))

    def take_snps(self, index) -> GenotypeData:
        """Every individual on the sites ``index`` (sorted, no repeats), decoded now."""
        index = np.asarray(index, dtype=np.int64)
        if index.size and (np.any(np.diff(index) <= 0) or index[0] < 0
                           or index[-1] >= self.n_snps):
            raise ValueError("take_snps needs sorted, distinct site indices in range")
        parts = []
        for ts, site_ids, first in self._pieces:
            local = index[(index >= first) & (index < first + site_ids.size)] - first
            if local.size:
                parts.append(decode_sites(ts, site_ids[local]))
        dosages = (np.concatenate(parts, axis=1) if parts
                   else np.zeros((self.n_samples, 0), np.int8))
        return GenotypeData(dosages, self.positions[index], self.chromosomes[index],
                            self.snp_ids[index], self.sample_ids, populations=self.populations)


def simulate_sites(options: StdpopsimOptions, *, seed: int,
                   samples: dict[str, int] | None = None, sample_prefix: str = "") -> SiteCounts:
    """:func:`simulate` without decoding: the same simulations (same seeds), summarised per
    site (:class:`SiteCounts`), for choosing a panel at sizes where decoding every site
    would not fit in memory."""
    pieces, positions, chromosomes, counts, population_names = [], [], [], [], None
    first = 0
    for contig_id, ts in simulated_pieces(options, seed=seed, samples=samples):
        site_ids, pos, count = site_allele_counts(ts, min_maf=options.min_maf)
        if population_names is None:
            _, _, population = _diploid_nodes(ts)
            population_names = np.array([ts.population(p).metadata.get("name", str(p))
                                         for p in population])
        pieces.append((ts, site_ids, first))
        first += site_ids.size
        positions.append(pos)
        counts.append(count)
        chromosomes.append(np.full(len(pos), contig_id.removeprefix("chr")))
    return SiteCounts(pieces, np.concatenate(positions), np.concatenate(chromosomes),
                      np.concatenate(counts), _sample_ids(population_names, sample_prefix),
                      population_names)


def _sample_ids(population_names, sample_prefix: str) -> np.ndarray:
    """``<prefix><population>_<k>``, k counting from 1 within each population."""
    counters: dict[str, int] = {}
    sample_ids = []
    for name in population_names:
        counters[name] = counters.get(name, 0) + 1
        sample_ids.append(f"{sample_prefix}{name}_{counters[name]}")
    return np.array(sample_ids)


class StdpopsimSource(SuiteSource):
    """Individuals simulated from a stdpopsim species and demographic model."""

    name = "stdpopsim"
    description = "simulated offline with stdpopsim + msprime (uniform recombination rate)"
    Options = StdpopsimOptions

    def check(self, options, base_dir: Path) -> None:
        for chromosome in options.chromosomes:
            _species_model_contig(options, chromosome)

    def load(self, options, *, seed, base_dir: Path) -> GenotypeData:
        return simulate(options, seed=seed)

    def load_sites(self, options, *, seed, base_dir: Path) -> SiteCounts:
        """:meth:`load` summarised per site, decoded only on ``take_snps``: what
        :func:`genobench.suites.materialize` asks for, so no suite decodes every site."""
        return simulate_sites(options, seed=seed)

    def versions(self):
        import msprime
        import stdpopsim
        import tskit

        return {"stdpopsim": stdpopsim.__version__, "msprime": msprime.__version__,
                "tskit": tskit.__version__}


@hookimpl
def genobench_register_suite_sources(register):
    register(StdpopsimSource())
