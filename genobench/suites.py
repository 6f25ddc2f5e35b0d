"""Suite specs (TOML files in ``suites/``) and their materialization into cached splits.

A spec names a source (registered by a plugin; first ``stdpopsim``), a SNP panel (MAF filter,
number or density of SNPs), a train / validation / test split and a seed. Materializing runs
the source, applies the panel, splits the individuals and caches the splits on disk under a key
made of the spec's data-defining tables and the software versions, so a second run reuses it.
A suite file is data only: it is parsed with :mod:`tomllib` and never executes code.
"""

from __future__ import annotations

import contextvars
import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pydantic
import tomllib

from . import __version__
from .data import GenotypeData
from .errors import DataError, GenobenchError, SpecError, UnknownNameError
from .generators import PROFILES
from .panel import PanelSpec, select_panel
from .traits import TraitTable

#: Bump when the on-disk layout or the panel/split algorithms change: invalidates caches.
CACHE_FORMAT = 3


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class SplitSpec(_Strict):
    """The ``[split]`` table: shares of individuals in train, validation and test (sum 1), and
    how many reference draws the suite holds besides them.

    The reference set is real individuals that no split holds: ``reference_draws`` disjoint
    draws, each the size of the test split, from the same population (stratified like the
    splits). A simulated suite simulates them on top of its ``samples``; a suite of files
    splits them off first. The reference row of a leaderboard is scored on them, and their
    spread is each metric's noise floor (:mod:`genobench.scorecard`).
    """

    train: float = pydantic.Field(0.6, gt=0, lt=1)
    validation: float = pydantic.Field(0.2, gt=0, lt=1)
    test: float = pydantic.Field(0.2, gt=0, lt=1)
    reference_draws: int = pydantic.Field(3, ge=1, le=10)

    @pydantic.model_validator(mode="after")
    def _sums_to_one(self):
        total = self.train + self.validation + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + validation + test must be 1, got {total:g}")
        return self


class RunSpec(_Strict):
    """The ``[run]`` table: what ``genobench run`` does with the suite by default."""

    generators: Optional[list[str]] = None
    seeds: list[int] = pydantic.Field(default_factory=lambda: [1], min_length=1)
    profile: str = "quick"
    time_limit: Optional[pydantic.PositiveFloat] = None
    memory_limit: Optional[pydantic.PositiveFloat] = None

    @pydantic.field_validator("profile")
    @classmethod
    def _profile(cls, value):
        if value not in PROFILES:
            raise ValueError(f"expected one of {', '.join(PROFILES)}")
        return value


class EvaluateSpec(pydantic.BaseModel):
    """The ``[evaluate]`` table: which metrics (``metrics``, default all), and their options.

    Every other key is an option of the registered metrics, declared once with its default in
    :mod:`genobench.metrics.options` (``distance``, ``knn_k``, ``ld_max_distance``,
    ``pca_components``, ``gwas_window``, ...); a sub-table named after a metric sets options for
    that metric only (``[evaluate.gwas_hit_overlap] gwas_window = 50_000``). They are checked
    against the registered metrics when the suite is parsed (:func:`parse_spec`).
    """

    model_config = pydantic.ConfigDict(extra="allow", frozen=True)

    metrics: Optional[list[str]] = None

    def options(self) -> dict[str, Any]:
        """The metric options the table sets (everything but ``metrics``)."""
        return dict(self.model_extra or {})


class SuiteSpec(_Strict):
    """A whole suite file.

    ``generators`` maps a generator name to its hyperparameters (``[generators.vae]``).
    """

    name: str
    description: str = ""
    seed: int = 1
    source: dict[str, Any]
    panel: PanelSpec = PanelSpec()
    split: SplitSpec = SplitSpec()
    run: RunSpec = RunSpec()
    evaluate: EvaluateSpec = EvaluateSpec()
    generators: dict[str, dict[str, Any]] = pydantic.Field(default_factory=dict)
    traits: TraitTable = pydantic.Field(default_factory=list)
    #: Named sizes: ``[sizes.paper] samples = {...}`` overrides ``[source]`` keys (see
    #: :func:`apply_size`).
    sizes: dict[str, dict[str, Any]] = pydantic.Field(default_factory=dict)

    #: Where the spec came from (not part of the file).
    path: Optional[Path] = pydantic.Field(None, exclude=True)
    #: The size it was parsed at (``--size``; None: the default), not part of the file: it
    #: travels in each job, so a worker on another host builds the same suite.
    size: Optional[str] = pydantic.Field(None, exclude=True)


def _format_location(loc) -> str:
    parts = [str(p) for p in loc if not (isinstance(p, str) and p.startswith("function-"))]
    if not parts:
        return "(top level)"
    head, rest = parts[0], parts[1:]
    if head in ("panel", "split", "run", "evaluate", "source") and rest:
        return f"[{head}] " + ".".join(rest)
    return ".".join(parts)


def _pydantic_message(error: pydantic.ValidationError, where: str, prefix=()) -> str:
    first = error.errors()[0]
    location = _format_location(tuple(prefix) + tuple(first["loc"]))
    kind = first["type"]
    message = first["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return f"{where}: unknown key {location}"
    if kind == "missing":
        return f"{where}: missing required key {location}"
    given = first.get("input")
    shown = "" if isinstance(given, dict) or given is None else f" (got {given!r})"
    return f"{where}: {location}: {message}{shown}"


#: The size of the suite being materialized, for the suites it reads in turn (``suites``
#: sources): set by :func:`materialize`, read by :func:`parse_spec`.
_CURRENT_SIZE: contextvars.ContextVar[str | None] = contextvars.ContextVar("size", default=None)
_UNSET = object()


def normal_size(size: str | None) -> str | None:
    """``size`` stripped, None for the default size (None, "", "default")."""
    if size is None or str(size).strip() in ("", "default"):
        return None
    return str(size).strip()


def default_size() -> str | None:
    """The size to parse at when none is given: the one being materialized, else
    ``GENOBENCH_SIZE`` (the command line's ``--size``), else the default."""
    return normal_size(_CURRENT_SIZE.get() or os.environ.get(SIZE_ENV))


def parse_spec(text: str, *, where: str = "<string>", default_name: str = "suite",
               path: Path | None = None, size=_UNSET) -> SuiteSpec:
    """Parse and validate a suite from TOML text; :class:`SpecError` names file and key.

    :param size: a ``[sizes]`` name or a sample factor (see :func:`apply_size`); None the
        default; unset: :func:`default_size`.
    """
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{where}: not valid TOML: {error}") from None
    table.setdefault("name", default_name)
    try:
        spec = SuiteSpec(path=path, **table)
    except pydantic.ValidationError as error:
        raise SpecError(_pydantic_message(error, where)) from None
    except TypeError as error:
        raise SpecError(f"{where}: {error}") from None
    size = default_size() if size is _UNSET else normal_size(size)
    spec = apply_size(spec, size, where=where).model_copy(update={"size": size})
    source_options(spec, where=where)  # validates the [source] table now, not at run time
    _check_metric_options(spec, where)
    return spec


def _check_metric_options(spec: SuiteSpec, where: str) -> None:
    """The ``[evaluate]`` options checked against the registered metrics (one error line)."""
    from .metrics.options import validate_evaluate_table
    from .registry import get_registry

    validate_evaluate_table(spec.evaluate.options(), get_registry().metrics.values(),
                            where=where)


#: Environment variable choosing the suite size: a name from the suites' ``[sizes]`` tables
#: (``paper``) or a number multiplying every population's ``samples``; unset: the default.
SIZE_ENV = "GENOBENCH_SIZE"


def apply_size(spec: SuiteSpec, size: str | None, *, where: str = "suite") -> SuiteSpec:
    """``spec`` at another size: a named ``[sizes.NAME]`` table or a sample-count factor.

    A name overrides the ``[source]`` keys its table gives (``samples`` at the paper's sizes);
    a suite without that name keeps its size. A number multiplies each population's
    ``samples`` (at least 1 each). ``None``, ``""`` and ``"default"`` change nothing.
    """
    if size is None or size.strip() in ("", "default"):
        return spec
    size = size.strip()
    source = dict(spec.source)
    try:
        factor = float(size)
    except ValueError:
        factor = None
    if factor is not None:
        if not factor > 0:
            raise SpecError(f"{SIZE_ENV}={size}: the sample factor must be positive")
        if isinstance(source.get("samples"), dict):
            source["samples"] = {k: max(1, round(v * factor)) if isinstance(v, (int, float))
                                 else v for k, v in source["samples"].items()}
    elif size in spec.sizes:
        source.update(spec.sizes[size])
    elif not size.isidentifier():
        raise SpecError(f"{SIZE_ENV}={size}: expected a size name (such as paper) or a "
                        "positive number")
    return spec.model_copy(update={"source": source})


def load_spec(path, *, size=_UNSET) -> SuiteSpec:
    """Read and validate the suite file at ``path`` (at ``size``: see :func:`parse_spec`)."""
    path = Path(path)
    if not path.exists():
        raise SpecError(f"{path}: suite file does not exist")
    if path.is_dir():
        raise SpecError(f"{path}: is a folder, expected a suite .toml file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"{path}: cannot read suite file ({error})") from None
    return parse_spec(text, where=str(path), default_name=path.stem, path=path, size=size)


def source_options(spec: SuiteSpec, *, where: str | None = None):
    """The suite's ``[source]`` table validated by the registered source it names.

    :returns: (source object, validated options).
    """
    from .registry import get_suite_source

    where = where or str(spec.path or spec.name)
    kind = spec.source.get("kind")
    if kind is None:
        raise SpecError(f"{where}: missing required key [source] kind")
    try:
        source = get_suite_source(kind)
    except UnknownNameError as error:
        raise SpecError(f"{where}: [source] kind: {error}") from None
    try:
        options = source.Options(**spec.source)
    except pydantic.ValidationError as error:
        raise SpecError(_pydantic_message(error, where, prefix=("source",))) from None
    try:
        source.check(options, spec.path.parent if spec.path else Path.cwd())
    except (SpecError, DataError) as error:
        raise type(error)(f"{where}: {error}") from None
    return source, options


# -- materialization --------------------------------------------------------------------------

#: The parts of a materialized suite, each cached as ``<name>.npz``.
SPLITS = ("train", "validation", "test", "reference")

@dataclasses.dataclass
class Suite:
    """A materialized suite: the spec, its three splits and its reference set on the panel SNPs.

    :ivar reference: every reference draw, one after the other (see :attr:`reference_draws`).
    :ivar source: the validated ``[source]`` options as a plain dict (handed to generators).
    :ivar info: sizes, cache key, source versions, seconds spent materializing; ``reference_draws``
        lists the individuals of each draw.
    """

    spec: SuiteSpec
    train: GenotypeData
    validation: GenotypeData
    test: GenotypeData
    reference: GenotypeData
    source: dict
    info: dict

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def reference_draws(self) -> list[GenotypeData]:
        """The disjoint reference draws, each the test split's size (with phenotypes)."""
        sizes = self.info.get("reference_draws") or [self.reference.n_samples]
        bounds = np.cumsum([0, *sizes])
        return [self.reference.take_samples(np.arange(bounds[k], bounds[k + 1]))
                for k in range(len(sizes))]


def cache_root() -> Path:
    """Folder of materialized suites: ``$GENOBENCH_CACHE`` or ``~/.cache/genobench``."""
    root = os.environ.get("GENOBENCH_CACHE")
    if root:
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "genobench"


def cache_key(spec: SuiteSpec) -> str:
    """Hash of what defines the data: source, panel, split, traits, seed, software versions."""
    source, options = source_options(spec)
    base_dir = spec.path.parent if spec.path else Path.cwd()
    files = []
    for file in source.input_files(options, base_dir):
        try:
            stat = Path(file).stat()
            files.append([str(file), stat.st_size, stat.st_mtime_ns])
        except OSError:
            files.append([str(file), None, None])
    payload = dict(
        format=CACHE_FORMAT, genobench=__version__, numpy=np.__version__,
        source=options.model_dump(mode="json"), source_versions=source.versions(), files=files,
        panel=spec.panel.model_dump(mode="json"), split=spec.split.model_dump(mode="json"),
        traits=spec.traits, seed=spec.seed)
    if spec.size is not None:
        payload["size"] = spec.size  # suites built from other suites change with it too
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return digest[:20]


def cache_folder(spec: SuiteSpec) -> Path:
    """Where :func:`materialize` caches the splits of ``spec`` (a folder once it is cached)."""
    return cache_root() / f"{spec.name}-{cache_key(spec)}"


def growth_factor(split: SplitSpec) -> float:
    """How many times the split individuals a suite holds with its reference draws:
    ``1 + reference_draws * test``."""
    return 1.0 + split.reference_draws * split.test


def split_samples(data: GenotypeData, split: SplitSpec, *,
                  seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """Random train / validation / test index arrays and the reference draws' index arrays,
    stratified by population label.

    Of a population's ``N`` individuals, each reference draw takes
    ``round(test * N / growth_factor(split))`` (the test split's size) and the rest is split by
    the shares: a simulated suite grown by :func:`growth_factor` keeps the split sizes of its
    ``samples``.
    """
    rng = np.random.default_rng(seed)
    labels = data.populations if data.populations is not None else np.zeros(data.n_samples, str)
    parts: tuple[list, ...] = ([], [], [])
    draws: list[list] = [[] for _ in range(split.reference_draws)]
    growth = growth_factor(split)
    for label in dict.fromkeys(labels.tolist()):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_draw = int(round(split.test * members.size / growth))
        for k, draw in enumerate(draws):
            draw.append(members[k * n_draw:(k + 1) * n_draw])
        members = members[len(draws) * n_draw:]
        n_val = int(round(split.validation * members.size))
        n_test = int(round(split.test * members.size))
        parts[1].append(members[:n_val])
        parts[2].append(members[n_val:n_val + n_test])
        parts[0].append(members[n_val + n_test:])
    train, validation, test = (np.sort(np.concatenate(p)) for p in parts)
    reference = [np.sort(np.concatenate(d)) for d in draws]
    for name, index in (("train", train), ("validation", validation), ("test", test),
                        ("reference", reference[0])):
        if index.size < 2:
            raise DataError(f"the {name} split has {index.size} individuals; "
                            "the suite needs more samples")
    return train, validation, test, reference


def _grown(options, split: SplitSpec):
    """``options`` asking for :func:`growth_factor` times the ``samples`` of each population,
    when the source simulates a ``samples`` table; else ``options`` (the reference is split
    off the data)."""
    samples = getattr(options, "samples", None)
    if not isinstance(samples, dict) or not all(isinstance(v, int) for v in samples.values()):
        return options
    growth = growth_factor(split)
    return options.model_copy(update={"samples": {
        name: int(round(count * growth)) for name, count in samples.items()}})


def _materialize_now(spec: SuiteSpec, source, options) -> tuple[dict, dict]:
    """Run the source, simulate the traits, choose the panel, split: (splits, info).

    A source that offers ``load_sites`` (a per-site summary, decoded only where taken: see
    :class:`genobench.sources.simulated.SiteCounts`) never decodes individuals x every site:
    the traits decode their causal sites and the panel its own sites, straight to int8. The
    splits are those of full decoding, byte for byte (tests/test_prepare_paper.py).
    """
    import time

    from .traits import simulate_phenotypes, with_phenotypes

    start = time.perf_counter()
    rng = np.random.default_rng(spec.seed)
    source_seed, split_seed, trait_seed = (int(s) for s in rng.integers(1, 2**31 - 1, size=3))
    base_dir = spec.path.parent if spec.path else Path.cwd()
    load = getattr(source, "load_sites", None) or source.load
    sites = load(_grown(options, spec.split), seed=source_seed, base_dir=base_dir)
    phenotypes, extra = simulate_phenotypes(sites, spec.traits, seed=trait_seed)
    data = select_panel(sites, spec.panel)
    del sites  # the tree sequences (or every decoded site): the panel is all that is kept
    if phenotypes is not None:
        data = with_phenotypes(data, phenotypes)
    train, validation, test, reference = split_samples(data, spec.split, seed=split_seed)
    splits = {"train": data.take_samples(train), "validation": data.take_samples(validation),
              "test": data.take_samples(test),
              "reference": data.take_samples(np.concatenate(reference))}
    info = dict(n_individuals=data.n_samples, n_snps=data.n_snps,
                sizes={k: v.n_samples for k, v in splits.items()},
                reference_draws=[int(d.size) for d in reference],
                chromosomes=list(dict.fromkeys(data.chromosomes.tolist())),
                source_versions=source.versions(), seconds=time.perf_counter() - start, **extra)
    return splits, info


def materialize(spec: SuiteSpec, *, refresh: bool = False) -> Suite:
    """The suite's splits, from the cache when present, else simulated/read and cached.

    Suites it reads in turn (a ``suites`` source's members) are parsed at ``spec.size``.
    """
    token = _CURRENT_SIZE.set(spec.size)
    try:
        return _materialize(spec, refresh=refresh)
    finally:
        _CURRENT_SIZE.reset(token)


def _materialize(spec: SuiteSpec, *, refresh: bool) -> Suite:
    source, options = source_options(spec)
    key = cache_key(spec)
    folder = cache_folder(spec)
    source_dict = options.model_dump(mode="json")
    if folder.is_dir() and not refresh:
        try:
            info = json.loads((folder / "info.json").read_text())
            splits = {name: GenotypeData.load(folder / f"{name}.npz") for name in SPLITS}
            info["cached"] = True
            return Suite(spec, *(splits[name] for name in SPLITS), source_dict, info)
        except (OSError, ValueError, GenobenchError):
            shutil.rmtree(folder, ignore_errors=True)  # a damaged cache entry: rebuild it
    splits, info = _materialize_now(spec, source, options)
    info.update(cache_key=key, cached=False)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=folder.parent))
    try:
        for name, data in splits.items():
            data.save(staging / f"{name}.npz")
        (staging / "info.json").write_text(json.dumps(info, indent=1, default=str))
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        os.replace(staging, folder)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another process won the race: fine
    return Suite(spec, *(splits[name] for name in SPLITS), source_dict, info)
