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

``kind = "suites"`` joins other suite files SNP-wise (``suites = ["cow_chr1.toml", ...]``): the
same individuals over several chromosomes, each chromosome's panel as its own suite built it.
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


class SuitesOptions(SourceOptions):
    """The ``[source]`` table of a suite joining other suites' SNPs."""

    kind: str = "suites"
    suites: list[str] = pydantic.Field(
        min_length=2, description="suite files, relative to this suite file")


class SuitesSource(SuiteSource):
    """The individuals of several suites, their SNPs side by side (one per chromosome).

    Chromosomes are unlinked, so stdpopsim simulates each one independently for the same
    sampled individuals; individual ``i`` of every chromosome suite is one animal or person,
    and joining the suites' panels column-wise is the whole-genome data. Each member comes from
    its own cache (``genobench prepare`` the members first and this costs seconds); the joined
    data is then filtered, split and cached under this suite's own seed. Members must hold the
    same sample ids and different chromosomes; their phenotypes are not carried over (give
    the joined suite its own traits).
    """

    name = "suites"
    description = "other suites joined SNP-wise: several chromosomes of the same individuals"
    Options = SuitesOptions

    @staticmethod
    def member_paths(options, base_dir: Path) -> list[Path]:
        return [(Path(base_dir) / member).resolve() for member in options.suites]

    def members(self, options, base_dir: Path):
        from ..suites import load_spec

        specs = []
        for path in self.member_paths(options, base_dir):
            if not path.is_file():
                raise DataError(f"[source] suites: suite file not found: {path}")
            specs.append(load_spec(path))
        if len({spec.name for spec in specs}) != len(specs):
            raise SpecError("[source] suites: a suite is listed twice")
        return specs

    def check(self, options, base_dir: Path) -> None:
        specs = self.members(options, base_dir)
        first = specs[0].source.get("samples")
        for spec in specs:
            if spec.source.get("kind") == self.name:
                raise SpecError(f"[source] suites: {spec.path.name} joins suites itself; "
                                "list chromosome suites only")
            samples = spec.source.get("samples")
            if samples != first:
                raise SpecError(f"[source] suites: {spec.path.name} samples {samples} differ "
                                f"from {specs[0].path.name}'s {first}; members must share "
                                "their individuals")

    def input_files(self, options, base_dir: Path) -> list[Path]:
        from ..suites import source_options

        files = []
        for spec in self.members(options, base_dir):
            files.append(spec.path)
            source, member_options = source_options(spec)
            files.extend(source.input_files(member_options, spec.path.parent))
        return files

    def versions(self) -> dict[str, str]:
        from ..registry import get_registry

        found = {}
        for name, source in sorted(get_registry().suite_sources.items()):
            if name != self.name:
                found.update(source.versions())
        return found

    def load(self, options, *, seed: int, base_dir: Path) -> GenotypeData:
        import numpy as np

        from ..suites import materialize

        parts, order = [], None
        for spec in self.members(options, base_dir):
            suite = materialize(spec)
            splits = (suite.train, suite.validation, suite.test, suite.reference)
            ids = np.concatenate([s.sample_ids for s in splits])
            if order is None:
                order = np.sort(ids)
            elif ids.size != order.size or not np.array_equal(np.sort(ids), order):
                raise DataError(f"[source] suites: {spec.name} holds other individuals than "
                                f"{parts[0][0]}; members must share their sample ids")
            position = np.argsort(ids)  # rows in the order of ``order``
            dosages = np.concatenate([s.dosages for s in splits])[position]
            populations = (None if splits[0].populations is None
                           else np.concatenate([s.populations for s in splits])[position])
            parts.append((spec.name, splits[0], dosages, populations))
        seen: dict[str, str] = {}
        for name, data, _, _ in parts:
            for chromosome in dict.fromkeys(data.chromosomes.tolist()):
                if chromosome in seen:
                    raise DataError(f"[source] suites: chromosome {chromosome} is in both "
                                    f"{seen[chromosome]} and {name}")
                seen[chromosome] = name
        first = parts[0][1]
        return GenotypeData(
            np.concatenate([p[2] for p in parts], axis=1),
            np.concatenate([p[1].positions for p in parts]),
            np.concatenate([p[1].chromosomes for p in parts]),
            np.concatenate([p[1].snp_ids for p in parts]),
            order, populations=parts[0][3] if first.populations is not None else None)


@hookimpl
def genobench_register_suite_sources(register):
    register(VcfSource())
    register(PlinkSource())
    register(SuitesSource())
