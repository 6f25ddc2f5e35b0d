"""Job results on disk: one JSON file per (suite, generator, seed), written atomically, with
provenance.

A file holds :meth:`genobench.records.JobRecord.to_json` (the record's fields and their schema
are documented there); :func:`load_results` reads them back as :class:`JobRecord` objects,
schema-1 files included. Records live in ``OUT/results/<suite>__<generator>__seed<seed>.json``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import socket
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from .errors import ResultsError
from .records import SCHEMA, JobRecord, as_record, job_id

__all__ = ["RESULTS_FOLDER", "SCHEMA", "job_id", "load_results", "machine", "metrics_frame",
           "provenance", "result_path", "software_versions", "timing_frame", "write_json_atomic",
           "write_result"]

RESULTS_FOLDER = "results"


def software_versions() -> dict[str, str]:
    """Versions of Python and the libraries whose behaviour shapes results."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for package in ("genobench", "numpy", "torch", "msprime", "stdpopsim", "tskit",
                    "scikit-allel", "scipy", "scikit-learn", "pandas"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            pass
    return versions


def machine() -> dict:
    """The machine a job ran on: host, platform, CPU count, memory, accelerator."""
    import psutil

    info = dict(hostname=socket.gethostname(), platform=platform.platform(),
                processor=platform.machine(), cpus=os.cpu_count(),
                memory_gb=round(psutil.virtual_memory().total / 2**30, 1))
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def provenance(**parameters) -> dict:
    """A provenance record in the spirit of tskit's: software, parameters, machine, time."""
    return dict(timestamp=time.strftime("%Y-%m-%dT%H:%M:%S%z"), software=software_versions(),
                parameters=parameters, machine=machine(), command=" ".join(sys.argv))


def write_json_atomic(path: Path, payload) -> None:
    """Write JSON to ``path`` so readers see the old file or the whole new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(payload, out, indent=1, default=_jsonable, allow_nan=False)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(staging, 0o644 & ~_umask())
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _jsonable(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def result_path(out: Path, suite: str, generator: str, seed: int) -> Path:
    """Where the record of one job lives under the output folder ``out``."""
    return Path(out) / RESULTS_FOLDER / f"{job_id(suite, generator, seed)}.json"


def write_result(out: Path, record: JobRecord) -> Path:
    """Store one job's record atomically (a :class:`JobRecord`, or its JSON form); returns its
    path."""
    record = as_record(record)
    path = result_path(out, record.suite, record.generator, record.seed)
    write_json_atomic(path, finite_json(record.to_json()))
    return path


def finite_json(value):
    """Replace NaN/inf (not valid JSON) by None, recursively (records are strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    return value


def load_results(location) -> list[JobRecord]:
    """Every job record under ``location`` (an output folder, its ``results/`` folder, or one
    record file), sorted by suite, generator and seed."""
    location = Path(location)
    if not location.exists():
        raise ResultsError(f"{location}: no such results folder or file")
    if location.is_file():
        files = [location]
    else:
        folder = location / RESULTS_FOLDER if (location / RESULTS_FOLDER).is_dir() else location
        files = sorted(folder.glob("*.json"))
    records = []
    for file in files:
        try:
            record = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ResultsError(f"{file}: unreadable result record ({error})") from None
        if not isinstance(record, dict) or "suite" not in record or "generator" not in record:
            continue  # run.json and other files that are not job records
        records.append(JobRecord.from_json(record, where=str(file)))
    if not records:
        raise ResultsError(f"{location}: holds no genobench result records")
    return sorted(records, key=lambda r: (r.suite, r.generator, r.seed))


def metrics_frame(records) -> pd.DataFrame:
    """Long table of metric values: columns suite, generator, seed, status, metric, value, note."""
    rows = []
    for record in map(as_record, records):
        base = dict(suite=record.suite, generator=record.generator, seed=record.seed,
                    status=record.status)
        for name, result in record.metrics.items():
            rows.append(dict(base, metric=name, value=result.value, note=result.note))
    columns = ["suite", "generator", "seed", "status", "metric", "value", "note"]
    return pd.DataFrame(rows, columns=columns)


def timing_frame(records) -> pd.DataFrame:
    """Long table of timings: suite, generator, seed, phase, seconds, cpu_seconds, peak_rss_mb."""
    rows = []
    for record in map(as_record, records):
        for phase, usage in record.timing.items():
            rows.append(dict(suite=record.suite, generator=record.generator,
                             seed=record.seed, phase=phase, **usage.to_json()))
    columns = ["suite", "generator", "seed", "phase", "seconds", "cpu_seconds", "peak_rss_mb"]
    return pd.DataFrame(rows, columns=columns)
