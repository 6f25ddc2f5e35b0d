"""Saved models: one file format for every generator, holding numbers and text, never code.

A model file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays) read with
``allow_pickle=False``. Pickles, and ``torch.save`` files (a pickle inside a zip), can call any
Python function while they load, so a shared model file could run code on the machine that opens
it; an ``.npz`` read without pickles holds arrays of numbers and strings only. One member holds a
JSON header (:class:`ModelHeader`: generator, providing distribution, options, the panel's SNP
ids, genobench's version, a format version, and the state's plain values); the other members
hold the state's arrays. :func:`load_model` checks the header before it builds anything.

The state is what :meth:`genobench.Generator.get_state` returns: a flat dict from names to
numpy arrays (numbers or fixed-width strings, never objects) or plain JSON values.
"""

from __future__ import annotations

import dataclasses
import json
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import DataError, GeneratorError, GenobenchError

#: What the header's ``format`` says.
FORMAT = "genobench-model"
#: Version of the layout this genobench writes; a file of a higher version is refused.
FORMAT_VERSION = 1
#: Archive member holding the JSON header (as uint8 bytes).
HEADER_MEMBER = "__genobench_model__"
#: State key that carries the panel's SNP ids; stored in the header, not in the state.
SNP_IDS_KEY = "snp_ids_"

_PICKLE_RISK = ("loading a pickle can run arbitrary code, so genobench never opens one; "
                "save models with genobench (Generator.save or generate --save-model)")


@dataclasses.dataclass(frozen=True)
class ModelHeader:
    """The JSON header of a model file: what the model is and where it may be applied.

    :ivar generator: registry name of the generator (``"vae"``).
    :ivar distribution: name of the distribution that provides it, and its version.
    :ivar genobench_version: genobench's version that wrote the file.
    :ivar options: the generator's keyword options (``Generator.options``).
    :ivar suite: name of the suite the model was trained on ("" when unknown).
    :ivar snp_ids: the panel's SNP ids, in column order.
    :ivar values: the plain-JSON part of the state.
    :ivar arrays: state key -> archive member holding that array.
    :ivar format_version: :data:`FORMAT_VERSION` of the writer.
    """

    generator: str
    distribution: str
    distribution_version: str
    genobench_version: str
    options: dict
    suite: str
    snp_ids: tuple
    values: dict
    arrays: dict
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        record = dataclasses.asdict(self)
        record["snp_ids"] = list(self.snp_ids)
        return json.dumps({"format": FORMAT, **record})

    @classmethod
    def from_json(cls, text: str, *, where: str = "model file") -> ModelHeader:
        """Parse and check a header; :class:`DataError` naming ``where`` when it is not one."""
        try:
            record = json.loads(text)
        except ValueError as error:
            raise DataError(f"{where}: unreadable genobench model header ({error})") from None
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise DataError(f"{where}: not a genobench model file (no {FORMAT} header)")
        version = record.get("format_version")
        if not isinstance(version, int) or version < 1:
            raise DataError(f"{where}: invalid model format version {version!r}")
        if version > FORMAT_VERSION:
            raise DataError(f"{where}: model format version {version} is newer than this "
                            f"genobench reads (version {FORMAT_VERSION}); upgrade genobench")
        fields = {f.name for f in dataclasses.fields(cls)}
        missing = sorted(fields - set(record))
        if missing:
            raise DataError(f"{where}: model header lacks {', '.join(missing)}")
        record = {k: v for k, v in record.items() if k in fields}
        record["snp_ids"] = tuple(record["snp_ids"])
        return cls(**record)


# -- state values -------------------------------------------------------------------------------
def _plain(value: Any, key: str, who: str) -> Any:
    """``value`` as plain JSON (lists for tuples, Python numbers for numpy scalars)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v, key, who) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _plain(v, key, who) for k, v in value.items()}
    raise GeneratorError(
        f"{who}: state {key!r} is a {type(value).__name__}, neither a numpy array nor a plain "
        "JSON value; convert it in get_state and back in set_state")


def split_state(state: dict, who: str) -> tuple[dict, dict]:
    """Check a state and split it into (plain values, numpy arrays)."""
    if not isinstance(state, dict):
        raise GeneratorError(f"{who}: get_state returned a {type(state).__name__}, not a dict")
    values, arrays = {}, {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise GeneratorError(f"{who}: state keys must be strings, not {key!r}")
        if key == SNP_IDS_KEY:
            continue  # the header holds the panel
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise GeneratorError(f"{who}: state {key!r} is an object array; model files "
                                     "hold numbers and strings only")
            arrays[key] = value
        else:
            values[key] = _plain(value, key, who)
    return values, arrays


# -- versions and providers ---------------------------------------------------------------------
def _version_tuple(version: str) -> tuple[int, ...]:
    """Leading numeric parts of a version string: "0.10.2rc1" -> (0, 10, 2)."""
    parts = []
    for part in str(version).split("."):
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def _provider(name: str) -> tuple[str, str]:
    from .registry import provider_of

    try:
        provider = provider_of("generator", name)
    except GenobenchError:
        provider = None
    return (provider.distribution, provider.version) if provider is not None else ("?", "?")


# -- writing ------------------------------------------------------------------------------------
def save_model(generator, path, *, snp_ids: Sequence[str] | None = None,
               suite: str = "") -> ModelHeader:
    """Write a fitted generator to ``path`` (any file name; ``.npz`` suggested).

    :param generator: a fitted :class:`genobench.Generator`.
    :param snp_ids: the panel it was trained on, in column order; default its ``snp_ids_``.
    :param suite: the suite's name, quoted when the model is applied to another panel.
    :returns: the header written.
    """
    who = generator.name or type(generator).__name__
    state = generator.get_state()
    if snp_ids is None:
        snp_ids = state.get(SNP_IDS_KEY) if isinstance(state, dict) else None
        snp_ids = snp_ids if snp_ids is not None else getattr(generator, SNP_IDS_KEY, None)
    if snp_ids is None:
        raise GeneratorError(f"{who}: saving needs the panel's SNP ids (pass snp_ids=)")
    values, arrays = split_state(state, who)
    members = {key: f"a{i}" for i, key in enumerate(arrays)}
    distribution, distribution_version = _provider(generator.name)
    header = ModelHeader(
        generator=generator.name, distribution=distribution,
        distribution_version=distribution_version, genobench_version=__version__,
        options=_plain(dict(generator.options), "options", who), suite=str(suite or ""),
        snp_ids=tuple(str(s) for s in snp_ids), values=values, arrays=members)
    blob = np.frombuffer(header.to_json().encode("utf-8"), dtype=np.uint8)
    content = {HEADER_MEMBER: blob, **{members[k]: v for k, v in arrays.items()}}
    path = Path(path)
    try:
        with open(path, "wb") as handle:  # a handle: np.savez would append ".npz" to a name
            np.savez(handle, **content)
    except OSError as error:
        raise DataError(f"{path}: cannot write the model ({error.strerror})") from None
    return header


# -- reading ------------------------------------------------------------------------------------
def _open_archive(path: Path) -> zipfile.ZipFile:
    """The file as a zip archive, after refusing pickles and torch files by their bytes."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError as error:
        raise DataError(f"{path}: cannot read the model file ({error.strerror})") from None
    if head[:1] == b"\x80":  # PROTO opcode: a pickle (protocol 2+) or a legacy torch.save file
        raise DataError(f"{path} is a pickle file: refused, since {_PICKLE_RISK}")
    if not head.startswith(b"PK"):
        raise DataError(f"{path}: not a genobench model file")
    try:
        archive = zipfile.ZipFile(path)
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as error:
        raise DataError(f"{path}: not a genobench model file ({error})") from None
    if f"{HEADER_MEMBER}.npy" not in names:
        archive.close()
        if any(name.endswith(".pkl") for name in names):
            raise DataError(f"{path} is a torch.save file (a pickle in a zip): refused, since "
                            f"{_PICKLE_RISK}")
        raise DataError(f"{path}: not a genobench model file (no {FORMAT} header)")
    return archive


def _member(archive: zipfile.ZipFile, name: str, path: Path) -> np.ndarray:
    try:
        with archive.open(f"{name}.npy") as handle:
            return np.lib.format.read_array(handle, allow_pickle=False)
    except KeyError:
        raise DataError(f"{path}: model file lacks member {name!r}") from None
    except ValueError as error:  # object arrays need pickles: refused
        raise DataError(f"{path}: member {name!r} refused ({error})") from None


def read_header(path) -> ModelHeader:
    """The header of a model file, checked (format, version) without reading the state."""
    path = Path(path)
    with _open_archive(path) as archive:
        blob = _member(archive, HEADER_MEMBER, path)
    header = ModelHeader.from_json(blob.tobytes().decode("utf-8", "replace"), where=str(path))
    _check_genobench_version(header, path)
    return header


def _check_genobench_version(header: ModelHeader, path: Path) -> None:
    if _version_tuple(header.genobench_version) > _version_tuple(__version__):
        raise DataError(f"{path} was saved by genobench {header.genobench_version}, newer than "
                        f"this genobench {__version__}; upgrade genobench to load it")


def _panel_label(suite: str, snp_ids: Sequence[str]) -> str:
    name = f"suite {suite!r}" if suite else "an unnamed panel"
    first, last = (snp_ids[0], snp_ids[-1]) if len(snp_ids) else ("-", "-")
    return f"{name} ({len(snp_ids):,} SNPs, {first} .. {last})"


def check_panel(header: ModelHeader, snp_ids: Sequence[str], suite: str = "",
                where: str = "model") -> None:
    """Raise :class:`DataError` naming both panels when ``snp_ids`` differ from the model's."""
    wanted = [str(s) for s in snp_ids]
    if list(header.snp_ids) == wanted:
        return
    shared = len(set(header.snp_ids) & set(wanted))
    detail = ("the same SNPs in another order" if shared == len(wanted) == len(header.snp_ids)
              else f"{shared:,} SNPs in common")
    raise DataError(f"{where} was trained on {_panel_label(header.suite, header.snp_ids)}, "
                    f"not on {_panel_label(suite, wanted)}: {detail}")


def load_model(path, *, generator: str | None = None, snp_ids: Sequence[str] | None = None,
               suite: str = "", device: str | None = None):
    """Read a model file and return the fitted generator, ready to generate.

    Checks, in order, each with one clear :class:`DataError`: a pickle or torch file (refused
    unread), the format and its version, the genobench version, the generator (when
    ``generator`` names one), the panel (when ``snp_ids`` are given). The class comes from the
    registry by the header's generator name.

    :param device: "cpu", "cuda" or None (the model's own choice); passed to ``set_state``.
    """
    from .registry import get_generator

    path = Path(path)
    header = read_header(path)
    if generator is not None and header.generator != generator:
        raise DataError(f"{path} holds a {header.generator!r} model, not {generator!r}")
    if snp_ids is not None:
        check_panel(header, snp_ids, suite, where=str(path))
    try:
        cls = get_generator(header.generator)
    except GenobenchError:
        raise DataError(f"{path} holds a {header.generator!r} model (from "
                        f"{header.distribution} {header.distribution_version}), but no "
                        "installed plugin registers that generator") from None
    state = dict(header.values)
    with _open_archive(path) as archive:
        for key, member in header.arrays.items():
            state[key] = _member(archive, member, path)
    state[SNP_IDS_KEY] = list(header.snp_ids)
    try:
        model = cls(**header.options)
        model.set_state(state, device=device)
    except GenobenchError:
        raise
    except Exception as error:  # the plugin's fault: one line naming it
        raise GeneratorError(f"generator {header.generator!r} could not restore {path}: "
                             f"{type(error).__name__}: {error}") from None
    return model
