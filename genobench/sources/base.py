"""The suite-source interface: turns a suite's validated ``[source]`` table into genotypes."""

from __future__ import annotations

from pathlib import Path

import pydantic

from ..data import GenotypeData


class SourceOptions(pydantic.BaseModel):
    """Base of every source's options model: unknown keys are errors, values are strict."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
    kind: str


class SuiteSource:
    """Base class of suite sources.

    :ivar name: the ``kind`` value a suite's ``[source]`` table uses to select this source.
    :ivar Options: pydantic model (subclass of :class:`SourceOptions`) validating the table.
    """

    name: str = ""
    description: str = ""
    Options: type[SourceOptions] = SourceOptions

    def load(self, options: SourceOptions, *, seed: int, base_dir: Path) -> GenotypeData:
        """Produce every individual and every variable biallelic site of the suite.

        :param options: the validated ``[source]`` table.
        :param seed: integer seed derived from the suite's seed.
        :param base_dir: folder of the suite file; relative paths in options resolve here.
        :returns: a :class:`GenotypeData` before any SNP panel is applied.
        """
        raise NotImplementedError

    def check(self, options: SourceOptions, base_dir: Path) -> None:
        """Reject options that validate but cannot work (an unknown species, a missing file).

        Called when the suite file is read, before anything runs; raise
        :class:`~genobench.errors.SpecError` or :class:`~genobench.errors.DataError` with a
        message starting with the ``[source]`` key at fault.
        """

    def versions(self) -> dict[str, str]:
        """Software versions that change what :meth:`load` returns (part of the cache key)."""
        return {}

    def input_files(self, options: SourceOptions, base_dir: Path) -> list[Path]:
        """Files :meth:`load` reads; their size and modification time enter the cache key."""
        return []
