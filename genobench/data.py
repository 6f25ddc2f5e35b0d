"""The one data object that crosses every boundary in genobench: a genotype data set.

Dosages are the count of alternate alleles per diploid individual and SNP: 0, 1 or 2, stored as
``int8`` with shape ``(n_samples, n_snps)``. The object is validated once, where it is built;
everything downstream may rely on its invariants.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError


def check_dosages(values, *, who: str = "genotypes", n_samples: int | None = None,
                  n_snps: int | None = None) -> np.ndarray:
    """Return ``values`` as a C-contiguous int8 array of dosages, or raise :class:`DataError`.

    Checks a 2-D shape, the expected number of samples and SNPs where given, no NaN and values
    only in {0, 1, 2}; the message names ``who`` and the first offending value with its index.
    """
    array = np.asarray(values)
    if array.ndim != 2:
        raise DataError(f"{who}: expected a 2-D array (samples x SNPs), got shape {array.shape}")
    if n_samples is not None and array.shape[0] != n_samples:
        raise DataError(f"{who}: expected {n_samples} individuals, got {array.shape[0]}")
    if n_snps is not None and array.shape[1] != n_snps:
        raise DataError(f"{who}: expected {n_snps} SNPs, got {array.shape[1]}")
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise DataError(f"{who}: value {array[i, j]} at individual {i}, SNP {j} "
                            "is not a genotype (expected 0, 1 or 2)")
        if (array != np.round(array)).any():
            i, j = np.argwhere(array != np.round(array))[0]
            raise DataError(f"{who}: value {array[i, j]} at individual {i}, SNP {j} "
                            "is not a genotype (expected 0, 1 or 2)")
    elif array.dtype.kind not in "iub":
        raise DataError(f"{who}: expected integer dosages, got dtype {array.dtype}")
    bad = (array < 0) | (array > 2)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(f"{who}: value {array[i, j]} at individual {i}, SNP {j} "
                        "is not a genotype (expected 0, 1 or 2)")
    return np.ascontiguousarray(array, dtype=np.int8)


@dataclasses.dataclass(frozen=True, eq=False)
class GenotypeData:
    """A genotype data set: individuals x SNPs, with SNP and sample annotations.

    :ivar dosages: int8 array, shape (n_samples, n_snps), alternate-allele counts in {0, 1, 2}.
    :ivar positions: int64 array, shape (n_snps,), 1-based physical positions in bp, sorted
        within each chromosome.
    :ivar chromosomes: str array, shape (n_snps,), the chromosome of each SNP (``"22"``).
    :ivar snp_ids: str array, shape (n_snps,), unique SNP identifiers.
    :ivar sample_ids: str array, shape (n_samples,), unique sample identifiers.
    :ivar populations: optional str array, shape (n_samples,), population label per individual.
    :ivar phenotypes: optional DataFrame, one row per individual (same order as dosages), one
        column per trait (float; binary traits coded 0/1).
    """

    dosages: np.ndarray
    positions: np.ndarray
    chromosomes: np.ndarray
    snp_ids: np.ndarray
    sample_ids: np.ndarray
    populations: np.ndarray | None = None
    phenotypes: pd.DataFrame | None = None

    def __post_init__(self):
        set_ = object.__setattr__
        dosages = check_dosages(self.dosages, who="dosages")
        n, m = dosages.shape
        set_(self, "dosages", dosages)
        positions = np.asarray(self.positions)
        if positions.shape != (m,):
            raise DataError(f"positions: expected {m} values (one per SNP), "
                            f"got shape {positions.shape}")
        if m and (positions < 0).any():
            raise DataError("positions: negative physical position")
        set_(self, "positions", positions.astype(np.int64))
        chromosomes = np.asarray(self.chromosomes, dtype=str)
        if chromosomes.ndim == 0:
            chromosomes = np.full(m, str(chromosomes))
        if chromosomes.shape != (m,):
            raise DataError(f"chromosomes: expected {m} values, got shape {chromosomes.shape}")
        set_(self, "chromosomes", chromosomes)
        for field, size in (("snp_ids", m), ("sample_ids", n)):
            ids = np.asarray(getattr(self, field), dtype=str)
            if ids.shape != (size,):
                raise DataError(f"{field}: expected {size} values, got shape {ids.shape}")
            if len(np.unique(ids)) != size:
                values, counts = np.unique(ids, return_counts=True)
                raise DataError(f"{field}: duplicated id {str(values[counts > 1][0])!r}")
            set_(self, field, ids)
        if self.populations is not None:
            populations = np.asarray(self.populations, dtype=str)
            if populations.shape != (n,):
                raise DataError(f"populations: expected {n} labels, got shape {populations.shape}")
            set_(self, "populations", populations)
        if self.phenotypes is not None:
            phenotypes = pd.DataFrame(self.phenotypes).reset_index(drop=True)
            if len(phenotypes) != n:
                raise DataError(f"phenotypes: expected {n} rows, got {len(phenotypes)}")
            try:
                phenotypes = phenotypes.astype(float)
            except (TypeError, ValueError) as error:
                raise DataError(f"phenotypes: not numeric ({error})") from None
            set_(self, "phenotypes", phenotypes)

    # -- shape ---------------------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        """Number of individuals (rows)."""
        return self.dosages.shape[0]

    @property
    def n_snps(self) -> int:
        """Number of SNPs (columns)."""
        return self.dosages.shape[1]

    @property
    def trait_names(self) -> list[str]:
        """Names of the phenotype columns, empty when there are none."""
        return [] if self.phenotypes is None else list(self.phenotypes.columns)

    def __repr__(self) -> str:
        chroms = ",".join(dict.fromkeys(self.chromosomes.tolist()))
        return (f"GenotypeData({self.n_samples} individuals x {self.n_snps} SNPs, "
                f"chromosome {chroms or '-'}, traits {self.trait_names})")

    # -- derived data sets ---------------------------------------------------------------
    def take_samples(self, index) -> GenotypeData:
        """A new data set with the individuals at ``index`` (int array or boolean mask)."""
        index = np.asarray(index)
        return dataclasses.replace(
            self,
            dosages=self.dosages[index],
            sample_ids=self.sample_ids[index],
            populations=None if self.populations is None else self.populations[index],
            phenotypes=None if self.phenotypes is None
            else self.phenotypes.iloc[np.arange(self.n_samples)[index]],
        )

    def take_snps(self, index) -> GenotypeData:
        """A new data set with the SNPs at ``index`` (int array or boolean mask)."""
        index = np.asarray(index)
        return dataclasses.replace(
            self,
            dosages=self.dosages[:, index],
            positions=self.positions[index],
            chromosomes=self.chromosomes[index],
            snp_ids=self.snp_ids[index],
        )

    def with_dosages(self, dosages, *, sample_prefix: str = "syn", populations=None,
                     phenotypes=None, who: str = "genotypes") -> GenotypeData:
        """A data set on the same SNPs with new individuals (synthetic ones, for example).

        :param dosages: array-like (n, n_snps) of 0/1/2; validated here.
        """
        dosages = check_dosages(dosages, who=who, n_snps=self.n_snps)
        ids = np.array([f"{sample_prefix}{i}" for i in range(dosages.shape[0])])
        return GenotypeData(dosages, self.positions, self.chromosomes, self.snp_ids, ids,
                            populations, phenotypes)

    # -- summaries -----------------------------------------------------------------------
    def allele_frequencies(self) -> np.ndarray:
        """Alternate allele frequency per SNP, float64 shape (n_snps,)."""
        return self.dosages.mean(axis=0, dtype=np.float64) / 2.0

    # -- storage -------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write to ``path`` (a ``.npz`` file); phenotypes go to a JSON member."""
        arrays = dict(dosages=self.dosages, positions=self.positions,
                      chromosomes=self.chromosomes, snp_ids=self.snp_ids,
                      sample_ids=self.sample_ids)
        if self.populations is not None:
            arrays["populations"] = self.populations
        if self.phenotypes is not None:  # float64 arrays: exact round trip
            arrays["phenotype_values"] = self.phenotypes.to_numpy(dtype=np.float64)
            arrays["phenotype_names"] = np.asarray(self.phenotypes.columns, dtype=str)
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)

    @classmethod
    def load(cls, path) -> GenotypeData:
        """Read a data set written by :meth:`save`."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as archive:
                members = {key: archive[key] for key in archive.files}
        except (OSError, ValueError) as error:
            raise DataError(f"{path}: cannot read genotype data ({error})") from None
        values = members.pop("phenotype_values", None)
        names = members.pop("phenotype_names", None)
        phenotypes = None
        if values is not None and names is not None:
            phenotypes = pd.DataFrame(values, columns=names.tolist())
        return cls(phenotypes=phenotypes, **members)
