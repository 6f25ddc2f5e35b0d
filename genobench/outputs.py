"""Output folders of runs: the lock that keeps two runs apart, and what a new run keeps.

A run writes into its output folder under :class:`OutputLock`, which is released (and its file
removed) on every way out: success, an error, Ctrl-C or SIGTERM (the command line turns SIGTERM
into an exception, so the same ``finally`` runs). A run into a folder that already holds records
adds to it: records of jobs it does not run are kept and the leaderboard covers them all;
``overwrite=True`` (``--overwrite``) clears the folder's records and leaderboards first.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
from pathlib import Path

from . import results as results_module
from .errors import ResultsError
from .records import JobRecord

LOCK_NAME = ".genobench.lock"
#: Files a run writes at the top of its output folder (results/ holds the records).
RUN_FILES = ("run.json", "leaderboard.html", "leaderboard.md", "leaderboard.json",
             "leaderboard.csv")


class OutputLock:
    """An exclusive lock on an output folder; a second run gets a clear refusal.

    The lock is an ``flock`` on ``OUT/.genobench.lock``. The kernel drops it when the process
    dies, even by SIGKILL, so a file left behind then never blocks a later run; a clean exit
    removes the file too.
    """

    def __init__(self, out: Path):
        self.path = Path(out) / LOCK_NAME
        self._handle = None

    def __enter__(self):
        while True:
            handle = open(self.path, "a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise ResultsError(f"{self.path.parent}: another genobench run ({holder}) is "
                                   "writing to this output folder; wait for it or use another "
                                   "--out") from None
            # The holder before us may have removed the file between our open and our lock:
            # then we locked a file nobody else sees, so try again on the current one.
            try:
                same = os.fstat(handle.fileno()).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            handle.close()
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc):
        self.release()
        return False

    def release(self) -> None:
        """Remove the lock file and unlock; safe to call twice."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # while still holding the lock: see __enter__
        except OSError:
            pass
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


@dataclasses.dataclass(frozen=True)
class EarlierRecords:
    """What an output folder held before a run: records the run keeps and those it redoes.

    :ivar kept: ids of records of jobs this run does not run (they stay on the leaderboard).
    :ivar replaced: ids of records of jobs this run runs again (their new record replaces them).
    :ivar skipped: ids of finished jobs ``--resume`` does not run again (kept as they are).
    """

    kept: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


def record_ids(out: Path) -> set[str]:
    """Ids of the job records stored under ``out``."""
    folder = Path(out) / results_module.RESULTS_FOLDER
    return {path.stem for path in folder.glob("*.json")} if folder.is_dir() else set()


def earlier_records(out: Path, job_ids, *, resume: bool = False) -> EarlierRecords:
    """Sort the records already in ``out`` by what a run of ``job_ids`` does with them."""
    stored = record_ids(out)
    planned = set(job_ids)
    ours = stored & planned
    return EarlierRecords(kept=tuple(sorted(stored - planned)),
                          replaced=() if resume else tuple(sorted(ours)),
                          skipped=tuple(sorted(ours)) if resume else ())


def clear_output_folder(out: Path) -> int:
    """Delete the records and leaderboards of earlier runs in ``out`` (``--overwrite``).

    Only files genobench writes are removed; anything else in the folder stays.
    :returns: the number of records removed.
    """
    out = Path(out)
    removed = 0
    folder = out / results_module.RESULTS_FOLDER
    try:
        for path in folder.glob("*.json") if folder.is_dir() else ():
            path.unlink()
            removed += 1
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
    except OSError as error:
        raise ResultsError(f"{out}: cannot clear the earlier results "
                           f"({error.strerror or error})") from None
    return removed


def mixed_suite_data(records: list[JobRecord], cache_keys: dict[str, str]) -> dict[str, int]:
    """Suites whose stored records were made from other data than this run's.

    A suite's cache key changes with its size, source, panel, split, seed or software versions;
    a leaderboard mixing records of two versions of one suite would compare unlike things.

    :param cache_keys: this run's cache key per suite name.
    :returns: {suite: number of stored records made from other data}.
    """
    mixed: dict[str, int] = {}
    for record in records:
        key = record.suite_info.get("cache_key")
        wanted = cache_keys.get(record.suite)
        if key and wanted and key != wanted:
            mixed[record.suite] = mixed.get(record.suite, 0) + 1
    return mixed
