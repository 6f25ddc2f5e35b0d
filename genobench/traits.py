"""Phenotypes with a known genetic architecture, simulated on a suite's individuals.

A suite declares traits in ``[[traits]]`` tables (validated by :class:`TraitSpec`)::

    [[traits]]
    name = "sex"
    kind = "binary"          # a coin flip with probability `prevalence` of coding 1
    prevalence = 0.5

    [[traits]]
    name = "height"          # quantitative (the default kind)
    n_causal = 100           # causal variants, drawn from all segregating sites
    h2 = 0.6                 # heritability: Var(g) / (Var(g) + Var(e))
    effects = "laplace"      # "normal", "laplace" or "equal" (+-1 with a random sign)
    alpha = -0.25            # effect variance proportional to [p(1-p)]^alpha
    mean = 163.0             # trait units
    sd = 6.5                 # standard deviation of g + e
    covariates = { sex = 13.0 }   # effect of a binary trait, in trait units per unit

The additive model of a quantitative trait is

    y = mu + sum_j beta_j x_j + sum_k b_k c_k + e,    e ~ N(0, (1 - h2) sd^2),

with ``x_j`` the dosage of causal variant ``j`` and ``beta_j = z_j [p_j (1 - p_j)]^(alpha/2)``,
``z_j`` drawn from the chosen distribution with variance 1; the effects are then scaled so the
genetic value ``g`` has variance ``h2 sd^2`` in the simulated individuals and ``mu`` is chosen
so ``g`` has mean 0 there. ``alpha = -1`` gives every standardized genotype the same expected
share of variance (the GCTA model); ``alpha = 0`` gives allele effects independent of frequency;
Speed et al. (2017, Nat Genet 49:986) estimate alpha near -0.25 for human complex traits.
A binary trait with ``n_causal`` and ``h2`` follows the liability-threshold model (Falconer
1965): liability ``g + e`` with variance 1, cases above the ``1 - prevalence`` normal quantile.

Causal variants are drawn from every segregating site before the SNP panel is chosen, so most
are not on the panel, as with a genotyping array. The truth (causal variants, effects,
intercepts, realized heritability) is returned by :func:`simulate_traits` and stored with the
suite; :func:`phenotypes_from_truth` applies it to new individuals (synthetic ones).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Optional

import numpy as np
import pandas as pd
import pydantic
from scipy import special

from .data import GenotypeData
from .errors import DataError, SpecError

#: Key of the truth in a suite's info (``info.json``) and in ``EvaluationContext.truth``.
TRUTH_KEY = "traits"
_QUANTITATIVE_ONLY = ("mean", "sd", "covariates")
_GENETIC_ONLY = ("effects", "alpha", "causal_maf")


class TraitSpec(pydantic.BaseModel):
    """One ``[[traits]]`` table: a quantitative trait or a binary trait / covariate.

    :ivar n_causal: number of causal variants (quantitative: at least 1; binary: 0 for a trait
        without genetic basis, such as sex, else a liability-threshold trait).
    :ivar h2: heritability in (0, 1), on the liability scale for binary traits.
    :ivar effects: distribution of the standardized effects: "normal", "laplace" (heavier
        tails: a few large loci) or "equal" (same size, random sign).
    :ivar alpha: MAF dependence; effect variance proportional to ``[p(1-p)]^alpha``.
    :ivar causal_maf: causal variants are drawn among sites with at least this minor-allele
        frequency (default 0: every segregating site).
    :ivar mean, sd: intercept and standard deviation (of ``g + e``) in trait units.
    :ivar covariates: effect of each named binary trait, in trait units per unit (quantitative
        traits only).
    :ivar prevalence: share of individuals coded 1 (binary traits only).
    """

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    name: str = pydantic.Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*$", max_length=64)
    kind: Literal["quantitative", "binary"] = "quantitative"
    n_causal: pydantic.NonNegativeInt = 0
    h2: Optional[float] = pydantic.Field(None, gt=0.0, lt=1.0)
    effects: Literal["normal", "laplace", "equal"] = "normal"
    alpha: float = pydantic.Field(0.0, ge=-2.0, le=2.0)
    causal_maf: float = pydantic.Field(0.0, ge=0.0, lt=0.5)
    mean: float = 0.0
    sd: pydantic.PositiveFloat = 1.0
    covariates: dict[str, float] = pydantic.Field(default_factory=dict)
    prevalence: float = pydantic.Field(0.5, gt=0.0, lt=1.0)

    @pydantic.model_validator(mode="after")
    def _consistent(self):
        given = self.model_fields_set
        where = f"trait {self.name!r}"
        if self.kind == "quantitative":
            if self.n_causal < 1:
                raise ValueError(f"{where}: n_causal must be at least 1 for a quantitative trait")
            if self.h2 is None:
                raise ValueError(f"{where}: missing required key h2 (heritability in (0, 1))")
            if "prevalence" in given:
                raise ValueError(f"{where}: key prevalence applies to binary traits only")
            return self
        for key in _QUANTITATIVE_ONLY:
            if key in given:
                raise ValueError(f"{where}: key {key} applies to quantitative traits only")
        if (self.n_causal > 0) != (self.h2 is not None):
            raise ValueError(f"{where}: a binary trait takes n_causal and h2 together (a "
                             "liability-threshold trait) or neither (a coin flip, like sex)")
        if self.n_causal == 0:
            for key in _GENETIC_ONLY:
                if key in given:
                    raise ValueError(f"{where}: key {key} applies only with n_causal")
        return self

    @property
    def genetic(self) -> bool:
        """True when the trait has causal variants."""
        return self.n_causal > 0


def _check_table(traits: list[TraitSpec]) -> list[dict[str, Any]]:
    """Cross-trait rules; returns the traits as plain dicts (the keys as given)."""
    names = [trait.name for trait in traits]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ValueError(f"trait name {name!r} is declared twice")
    binary = {trait.name for trait in traits if trait.kind == "binary"}
    for trait in traits:
        for covariate in trait.covariates:
            if covariate not in names:
                raise ValueError(f"trait {trait.name!r}: covariates.{covariate}: no trait "
                                 f"named {covariate!r} (declare it, e.g. kind = \"binary\")")
            if covariate not in binary:
                raise ValueError(f"trait {trait.name!r}: covariates.{covariate}: a covariate "
                                 "must be a binary trait")
    return [trait.model_dump(exclude_unset=True) for trait in traits]


#: The type of a suite's ``traits`` list: each table validated as a :class:`TraitSpec` (errors
#: name the table and key), then kept as a plain dict with the keys as given, so the suite spec
#: stays JSON-ready for its cache key.
TraitTable = Annotated[list[TraitSpec], pydantic.AfterValidator(_check_table),
                       pydantic.PlainSerializer(list, return_type=list[dict[str, Any]])]
_TABLE = pydantic.TypeAdapter(TraitTable)


def validate_traits(traits) -> list[TraitSpec]:
    """``traits`` (dicts or :class:`TraitSpec`) validated as a suite's table would be.

    :raises SpecError: naming the table and key at fault (``traits.1.h2: ...``).
    """
    table = [t.model_dump(exclude_unset=True) if isinstance(t, TraitSpec) else t
             for t in traits or []]
    try:
        plain = _TABLE.validate_python(table)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in ("traits", *first["loc"]))
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        raise SpecError(f"{location}: {message}") from None
    return [TraitSpec(**item) for item in plain]


# -- simulation --------------------------------------------------------------------------------

def _standard_effects(distribution: str, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` draws with mean 0 and variance 1 from the named distribution."""
    if distribution == "normal":
        return rng.standard_normal(k)
    if distribution == "laplace":
        return rng.laplace(0.0, 1.0 / math.sqrt(2.0), k)  # variance 2 b^2 = 1
    return rng.choice(np.array([-1.0, 1.0]), k)


def _genetic_value(data, spec: TraitSpec, frequencies: np.ndarray, variance: float,
                   rng: np.random.Generator):
    """Draw causal variants and effects; scale them so ``g`` has ``variance`` in ``data``
    (whose causal sites only are taken: ``data.take_snps(index)``).

    :returns: (causal SNP index (k,), effects (k,), centred genetic values (n,), offset) with
        ``g = X[:, index] @ effects + offset`` of mean 0.
    """
    maf = np.minimum(frequencies, 1.0 - frequencies)
    candidates = np.flatnonzero((maf > 0) & (maf >= spec.causal_maf))
    if spec.n_causal > candidates.size:
        floor = f" with MAF >= {spec.causal_maf:g}" if spec.causal_maf else ""
        raise DataError(f"trait {spec.name!r}: n_causal {spec.n_causal} is more than the "
                        f"{candidates.size} segregating sites{floor}")
    index = np.sort(rng.choice(candidates, size=spec.n_causal, replace=False))
    p = frequencies[index]
    effects = _standard_effects(spec.effects, index.size, rng) * (p * (1 - p)) ** (spec.alpha / 2)
    # Fortran order, the layout of ``dosages[:, index]``: the product's last bits depend on it
    # (BLAS), and suites prepared before must stay byte for byte the same
    causal = np.asfortranarray(data.take_snps(index).dosages, dtype=np.float64)
    values = causal @ effects
    spread = values.var()
    if not spread > 0:
        raise DataError(f"trait {spec.name!r}: the causal variants do not vary among the "
                        f"{data.n_samples} individuals; use more individuals or n_causal")
    scale = math.sqrt(variance / spread)
    effects, values = effects * scale, values * scale
    offset = -values.mean()
    return index, effects, values + offset, offset


def _causal_table(data, index, effects, frequencies) -> dict:
    return dict(chromosome=data.chromosomes[index].tolist(),
                position=data.positions[index].tolist(),
                effect=[float(e) for e in effects],
                frequency=[float(f) for f in frequencies[index]])


def simulate_traits(data: GenotypeData, traits, *, seed: int) -> tuple[GenotypeData, dict]:
    """Phenotypes for every individual of ``data`` under the declared architectures.

    :param data: all individuals and segregating sites (before the SNP panel is chosen).
    :param traits: the suite's trait tables (dicts or :class:`TraitSpec`).
    :param seed: each trait draws from its own child of ``numpy.random.SeedSequence(seed)``.
    :returns: ``data`` with a phenotype column per trait (declared order; binary traits coded
        0/1) and ``{"traits": {name: truth}}``. A trait's truth holds its settings, the realized
        heritability (``Var(g) / Var(g + e)`` in these individuals), the model's ``intercept``
        and ``noise_sd`` (and ``threshold`` on the liability scale for binary traits), and
        ``causal``: chromosome, position (bp), effect (trait units per alternate allele) and
        alternate-allele frequency of each causal variant.
    """
    specs = validate_traits(traits)
    if not specs:
        return data, {}
    _check_no_clash(data, [spec.name for spec in specs])
    table, truth = simulate_phenotypes(data, specs, seed=seed)
    return with_phenotypes(data, table), truth


def simulate_phenotypes(data, traits, *, seed: int) -> tuple[pd.DataFrame | None, dict]:
    """:func:`simulate_traits` without attaching the table: (phenotypes, truth).

    Only the causal sites' dosages are read (``data.take_snps(causal).dosages``), so ``data``
    may be a per-site summary that decodes only the sites taken
    (:class:`genobench.sources.simulated.SiteCounts`, answering ``allele_frequencies()``,
    ``n_samples``, ``chromosomes``, ``positions`` and ``take_snps``): causal variants are
    still drawn among every segregating site, with no individuals x sites matrix in memory.

    :returns: one float column per trait (declared order) and ``{"traits": {...}}``; (None,
        {}) when ``traits`` is empty.
    """
    specs = validate_traits(traits)
    if not specs:
        return None, {}
    frequencies = data.allele_frequencies()
    n = data.n_samples
    children = np.random.SeedSequence(seed).spawn(len(specs))
    values: dict[str, np.ndarray] = {}
    truth: dict[str, dict] = {}
    # Binary traits first: quantitative traits use them as covariates.
    for position in sorted(range(len(specs)), key=lambda i: specs[i].kind != "binary"):
        spec, rng = specs[position], np.random.default_rng(children[position])
        record: dict[str, Any] = dict(kind=spec.kind, n_causal=spec.n_causal)
        if spec.kind == "binary" and not spec.genetic:
            y = (rng.random(n) < spec.prevalence).astype(np.float64)
            record.update(prevalence=spec.prevalence, realized_prevalence=float(y.mean()))
        elif spec.kind == "binary":
            index, effects, g, offset = _genetic_value(data, spec, frequencies, spec.h2, rng)
            noise_sd = math.sqrt(1.0 - spec.h2)
            e = rng.normal(0.0, noise_sd, n)
            threshold = float(special.ndtri(1.0 - spec.prevalence))
            y = ((g + e) > threshold).astype(np.float64)
            record.update(h2=spec.h2, realized_h2=float(g.var() / (g + e).var()),
                          prevalence=spec.prevalence, realized_prevalence=float(y.mean()),
                          effects=spec.effects, alpha=spec.alpha, intercept=float(offset),
                          noise_sd=noise_sd, threshold=threshold,
                          causal=_causal_table(data, index, effects, frequencies))
        else:
            index, effects, g, offset = _genetic_value(data, spec, frequencies,
                                                       spec.h2 * spec.sd ** 2, rng)
            noise_sd = spec.sd * math.sqrt(1.0 - spec.h2)
            e = rng.normal(0.0, noise_sd, n)
            y = spec.mean + g + e
            for covariate, effect in spec.covariates.items():
                y = y + effect * values[covariate]
            record.update(h2=spec.h2, realized_h2=float(g.var() / (g + e).var()),
                          effects=spec.effects, alpha=spec.alpha, mean=spec.mean, sd=spec.sd,
                          covariates=dict(spec.covariates), intercept=float(spec.mean + offset),
                          noise_sd=noise_sd,
                          causal=_causal_table(data, index, effects, frequencies))
        values[spec.name] = y
        truth[spec.name] = record
    table = pd.DataFrame({spec.name: values[spec.name] for spec in specs})
    return table, {TRUTH_KEY: {spec.name: truth[spec.name] for spec in specs}}


def _check_no_clash(data: GenotypeData, names) -> None:
    clash = [name for name in names if name in data.trait_names]
    if clash:
        raise DataError(f"trait {clash[0]!r}: the data already has a phenotype of that name")


def with_phenotypes(data: GenotypeData, table: pd.DataFrame) -> GenotypeData:
    """``data`` with the columns of ``table`` (one row per individual) after its phenotypes.

    :raises DataError: when ``data`` already has a phenotype of one of those names.
    """
    _check_no_clash(data, table.columns)
    if data.phenotypes is not None:
        table = pd.concat([data.phenotypes.reset_index(drop=True), table], axis=1)
    return data.__class__(data.dosages, data.positions, data.chromosomes, data.snp_ids,
                          data.sample_ids, data.populations, table)


# -- applying the truth to other individuals ----------------------------------------------------

def truth_from_info(info: dict | None) -> dict | None:
    """The truth stored in a suite's info (``{"traits": {...}}``), or None when it has none."""
    traits = (info or {}).get(TRUTH_KEY)
    return {TRUTH_KEY: traits} if traits else None


def causal_index(data: GenotypeData, trait: dict) -> tuple[np.ndarray, np.ndarray]:
    """Where a trait's causal variants sit on ``data``'s SNPs (matched on chromosome, position).

    :param trait: one trait's truth (see :func:`simulate_traits`).
    :returns: (SNP index of each causal variant, -1 where it is not on the panel; boolean mask
        of those on the panel).
    """
    causal = trait.get("causal") or {}
    wanted = pd.MultiIndex.from_arrays([np.asarray(causal.get("chromosome", []), dtype=str),
                                        np.asarray(causal.get("position", []), dtype=np.int64)])
    panel = pd.MultiIndex.from_arrays([data.chromosomes.astype(str), data.positions])
    if panel.is_unique:
        index = panel.get_indexer(wanted)
    else:  # several SNPs at one position (real data): match the first
        first = np.flatnonzero(~panel.duplicated())
        found = panel[first].get_indexer(wanted)
        index = np.where(found >= 0, first[np.maximum(found, 0)], -1)
    index = np.asarray(index, dtype=np.int64)
    return index, index >= 0


def phenotypes_from_truth(data: GenotypeData, truth: dict | None, *,
                          seed: int) -> pd.DataFrame | None:
    """Phenotypes of new individuals (synthetic ones) from the true causal model.

    A trait gets values only when every one of its causal variants (and every covariate) is
    available on ``data``'s SNPs; its environmental noise (and binary traits without genetic
    basis) are drawn afresh from ``numpy.random.SeedSequence(seed)``'s children.

    :returns: one column per trait that could be computed (truth order), or None when no trait
        with causal variants could be: association metrics then do not apply.
    """
    traits = (truth or {}).get(TRUTH_KEY) or {}
    if not traits:
        return None
    names = list(traits)
    children = np.random.SeedSequence(seed).spawn(len(names))
    n = data.n_samples
    values: dict[str, np.ndarray] = {}
    for position in sorted(range(len(names)), key=lambda i: traits[names[i]]["kind"] != "binary"):
        name = names[position]
        trait, rng = traits[name], np.random.default_rng(children[position])
        if not trait.get("n_causal"):
            values[name] = (rng.random(n) < trait["prevalence"]).astype(np.float64)
            continue
        index, on_panel = causal_index(data, trait)
        covariates = trait.get("covariates") or {}
        if not on_panel.all() or any(c not in values for c in covariates):
            continue
        effects = np.asarray(trait["causal"]["effect"], dtype=np.float64)
        g = trait["intercept"] + data.dosages[:, index].astype(np.float64) @ effects
        y = g + rng.normal(0.0, trait["noise_sd"], n)
        if trait["kind"] == "binary":
            values[name] = (y > trait["threshold"]).astype(np.float64)
            continue
        for covariate, effect in covariates.items():
            y = y + effect * values[covariate]
        values[name] = y
    if not any(traits[name].get("n_causal") for name in values):
        return None
    return pd.DataFrame({name: values[name] for name in names if name in values})
