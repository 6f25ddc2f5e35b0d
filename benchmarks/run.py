"""``tox -e bench``: run the benchmarks, save the results, and compare with the last saved run.

pytest-benchmark saves each run under ``STORAGE/<machine id>/``. When this machine has a saved
run, the new one is compared with it and a slowdown beyond ``--fail`` (for example
``min:25%``) fails; on a fresh machine there is nothing to compare with, so the first run is
only saved (``--benchmark-compare-fail`` would otherwise stop it with a usage error).

Usage: ``python benchmarks/run.py --storage DIR --fail min:25% [pytest arguments]``; benchmark
files among the pytest arguments (``tox -e bench -- benchmarks/test_bench_report.py``) run
instead of the whole folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest
from pytest_benchmark.utils import get_machine_id


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", type=Path, required=True, help="where runs are saved")
    parser.add_argument("--fail", default="min:25%", help="--benchmark-compare-fail threshold")
    options, rest = parser.parse_known_args(argv)
    storage = options.storage.resolve()
    saved = sorted((storage / get_machine_id()).glob("*.json"))
    # Benchmark files or folders among the pytest arguments replace the default (all of them).
    chosen = any(not arg.startswith("-") and Path(arg.split("::")[0]).exists() for arg in rest)
    args = [] if chosen else [str(Path(__file__).parent)]
    args += ["--benchmark-only", "--benchmark-autosave", f"--benchmark-storage=file://{storage}"]
    if saved:
        print(f"comparing with {saved[-1].name}; failing on {options.fail}", flush=True)
        args += ["--benchmark-compare", f"--benchmark-compare-fail={options.fail}"]
    else:
        print(f"no saved run for {get_machine_id()} in {storage}: saving the first one",
              flush=True)
    return int(pytest.main(args + rest))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
