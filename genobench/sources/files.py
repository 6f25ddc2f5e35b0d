"""Suites over the user's own genotype files: ``kind = "vcf"`` (VCF/BCF) and ``kind = "plink"``.

A suite points at a file (relative paths resolve against the suite file's folder) and optionally
a phenotype table keyed by sample id::

    [source]
    kind = "plink"
    path = "data/holstein"               # holstein.bed/.bim/.fam (or "data/holstein.bed")
    phenotypes = "data/fat.csv"          # optional: CSV/TSV, one row per individual
    id_column = "animal"                 # optional: default the table's first column
    phenotype_columns = ["fat_yd"]       # optional: default every other column
    chromosomes = ["14"]                 # optional: default every chromosome in the file
    max_missing = 0.05                   # optional: drop SNPs missing in more than 5 %

Reading follows the policies of :mod:`genobench.io` (multi-allelic sites dropped, missing calls
imputed with the SNP's mode, non-diploid calls rejected, positions sorted). The input files'
sizes and modification times are part of the suite's cache key, so editing a file rebuilds it.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import pydantic

from .. import io
from ..data import GenotypeData
from ..errors import DataError, SpecError
from ..hookspecs import hookimpl
from .base import SourceOptions, SuiteSource


class FileOptions(SourceOptions):
    """The ``[source]`` table of a suite read from files (shared by ``vcf`` and ``plink``)."""

    path: str = pydantic.Field(description="genotype file, relative to the suite file")
    phenotypes: Optional[str] = pydantic.Field(
        None, description="phenotype table (CSV, TSV), relative to the suite file")
    id_column: Optional[str] = pydantic.Field(
        None, description="sample-id column of the phenotype table; default its first column")
    phenotype_columns: Optional[list[str]] = pydantic.Field(
        None, min_length=1, description="trait columns; default every other column")
    chromosomes: Optional[list[str]] = pydantic.Field(
        None, min_length=1, description="chromosomes to keep; default all")
    max_missing: float = pydantic.Field(
        io.MAX_MISSING, ge=0.0, le=1.0,
        description="drop SNPs with a larger share of missing calls; impute the rest")

    @pydantic.field_validator("chromosomes", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        if isinstance(value, (str, int)):
            value = [value]
        return None if value is None else [str(v) for v in value]

    @pydantic.model_validator(mode="after")
    def _phenotype_keys(self):
        if self.phenotypes is None and (self.id_column or self.phenotype_columns):
            raise ValueError("id_column and phenotype_columns need a phenotypes table")
        return self


class VcfOptions(FileOptions):
    kind: str = "vcf"


class PlinkOptions(FileOptions):
    kind: str = "plink"


class _FileSource(SuiteSource):
    """What the VCF and PLINK sources share: paths, checks, phenotypes, cache inputs."""

    def genotype_files(self, options, base_dir: Path) -> list[Path]:
        raise NotImplementedError

    def read(self, path: Path, options) -> GenotypeData:
        raise NotImplementedError

    @staticmethod
    def resolve(path: str, base_dir: Path) -> Path:
        """``path`` from the suite file, resolved against the suite file's folder."""
        return (Path(base_dir) / Path(path).expanduser()).resolve()

    def check(self, options, base_dir: Path) -> None:
        for file in self.genotype_files(options, base_dir):
            if not file.is_file():
                raise DataError(f"[source] path: file not found: {file}")
        if options.phenotypes is not None:
            table = self.resolve(options.phenotypes, base_dir)
            if not table.is_file():
                raise DataError(f"[source] phenotypes: file not found: {table}")

    def input_files(self, options, base_dir: Path) -> list[Path]:
        files = self.genotype_files(options, base_dir)
        if options.phenotypes is not None:
            files.append(self.resolve(options.phenotypes, base_dir))
        return files

    def load(self, options, *, seed: int, base_dir: Path) -> GenotypeData:
        path = self.resolve(options.path, base_dir)
        with warnings.catch_warnings():
            warnings.simplefilter("always", io.InputWarning)  # report every time it is read
            data = self.read(path, options)
            if options.phenotypes is not None:
                table_path = self.resolve(options.phenotypes, base_dir)
                table = io.read_phenotypes(table_path, id_column=options.id_column,
                                           columns=options.phenotype_columns)
                data = io.attach_phenotypes(data, table, where=str(table_path))
        return data

    def alleles(self, options, base_dir: Path, snp_ids):
        """(REF, ALT) letters of ``snp_ids`` in the input file (see :func:`io.read_alleles`)."""
        return io.read_alleles(self.resolve(options.path, base_dir), snp_ids,
                               chromosomes=options.chromosomes, max_missing=options.max_missing)

    def versions(self) -> dict[str, str]:
        import importlib.metadata as metadata

        found = {}
        for package in ("cyvcf2", "bed-reader"):
            try:
                found[package] = metadata.version(package)
            except metadata.PackageNotFoundError:
                found[package] = "missing"
        return found


class VcfSource(_FileSource):
    """Individuals read from a VCF or BCF file (``.vcf``, ``.vcf.gz``, ``.bcf``) with cyvcf2."""

    name = "vcf"
    description = "the user's VCF/BCF file (cyvcf2), with an optional phenotype table"
    Options = VcfOptions

    def genotype_files(self, options, base_dir: Path) -> list[Path]:
        return [self.resolve(options.path, base_dir)]

    def check(self, options, base_dir: Path) -> None:
        if not options.path.endswith(io.VCF_SUFFIXES):
            raise SpecError(f"[source] path: {options.path!r} is not a VCF/BCF file name "
                            f"(expected {', '.join(io.VCF_SUFFIXES)})")
        super().check(options, base_dir)

    def read(self, path: Path, options) -> GenotypeData:
        return io.read_vcf(path, chromosomes=options.chromosomes,
                           max_missing=options.max_missing)


class PlinkSource(_FileSource):
    """Individuals read from a PLINK 1 binary file set (``.bed/.bim/.fam``) with bed-reader."""

    name = "plink"
    description = "the user's PLINK 1 .bed/.bim/.fam files (bed-reader), optional phenotypes"
    Options = PlinkOptions

    def genotype_files(self, options, base_dir: Path) -> list[Path]:
        return io.plink_files(self.resolve(options.path, base_dir))

    def read(self, path: Path, options) -> GenotypeData:
        return io.read_plink(path, chromosomes=options.chromosomes,
                             max_missing=options.max_missing)


@hookimpl
def genobench_register_suite_sources(register):
    register(VcfSource())
    register(PlinkSource())
