"""Progress of runs and of suite preparation: what is done, what runs now, how long is left.

In a terminal a live rich display shows the items done out of the total, each running job's
phase and step (epoch) and an estimate of the time left. Without a terminal (a log, CI) or with
``-q``, plain lines: one per finished item, and a status line whenever nothing was printed for
:data:`HEARTBEAT_S` seconds, so a long fit never looks like a hang.
"""

from __future__ import annotations

import heapq
import threading
import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

#: Seconds of silence after which a plain status line is printed (the promise is one line at
#: least every 15 s; 10 leaves room for a busy machine).
HEARTBEAT_S = 10.0


def format_duration(seconds: float) -> str:
    """``seconds`` for people: 8 s, 3 min 05 s, 2 h 10 min."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class _Item:
    """One running job or suite: its phase, step and when they began."""

    def __init__(self, name: str, now: float):
        self.name = name
        self.started = now
        self.phase = "starting"
        self.phase_started = now
        self.step = None
        self.steps = None
        self.values: dict = {}

    def update(self, values: dict, now: float) -> None:
        values = dict(values)
        phase = values.pop("phase", None)
        if phase is not None and phase != self.phase:
            self.phase, self.phase_started = phase, now
            self.step = self.steps = None
            self.values = {}
        if "step" in values:
            self.step = values.pop("step")
            self.steps = values.pop("total", self.steps)
            self.values = values

    def left(self, now: float, typical: float | None) -> float | None:
        """Seconds this item still needs, from its steps or from a typical item's time."""
        if self.phase == "fit" and self.step and self.steps:
            fit_left = (now - self.phase_started) * (self.steps - self.step) / self.step
            return fit_left + (0.1 * typical if typical else 0.0)
        if typical is None:
            return None
        return max(typical - (now - self.started), 0.0)

    def describe(self, now: float) -> str:
        text = f"{self.name} {self.phase}"
        if self.step is not None and self.steps:
            text += f" {self.step}/{self.steps}"
        shown = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in self.values.items())
        if shown:
            text += f" ({shown})"
        return text + f" {format_duration(now - self.phase_started)}"


class Tracker:
    """Counts items (jobs or suites) done out of a total and estimates the time left.

    :param noun: what the items are, plural ("jobs", "suites").
    :param parallel: items run at once (the estimate schedules the pending ones on them).
    :param heartbeat: seconds of silence before a plain status line; None: no status lines.
    """

    def __init__(self, console: Console, *, noun: str, parallel: int = 1,
                 quiet: bool = False, heartbeat: float | None = HEARTBEAT_S,
                 title: str = "genobench"):
        self.console = console
        self.noun = noun
        self.parallel = max(1, int(parallel))
        self.quiet = quiet or not console.is_terminal
        self.heartbeat = heartbeat
        self.title = title
        self.total: int | None = None
        self.done = 0
        self.failed = 0
        self.note = ""
        self._durations: list[float] = []
        self._running: dict[str, _Item] = {}
        self._lock = threading.RLock()
        self._started = time.monotonic()
        self._last_line = self._started
        self._stop = threading.Event()
        self._thread = None
        self._progress = None
        self._task = None
        self._tasks: dict[str, int] = {}

    # -- life cycle -----------------------------------------------------------------------
    def __enter__(self):
        if not self.quiet:
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(bar_width=24),
                TextColumn("{task.fields[counts]}"), TextColumn("{task.fields[note]}"),
                console=self.console, transient=True)
            self._progress.__enter__()
            self._task = self._progress.add_task(self.title, total=None, counts="",
                                                 note="")
        if self.heartbeat is not None or self._progress is not None:
            self._thread = threading.Thread(target=self._beat, name="genobench-progress",
                                            daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._progress is not None:
            self._progress.__exit__(*exc)
        return False

    def _beat(self):
        tick = 1.0 if self._progress is not None else min(1.0, self.heartbeat or 1.0)
        while not self._stop.wait(tick):
            with self._lock:
                now = time.monotonic()
                if self._progress is not None:
                    self._refresh(now)
                elif now - self._last_line >= self.heartbeat and (self._running or self.note):
                    self._say(self.status(now))

    # -- events ---------------------------------------------------------------------------
    def set_total(self, total: int) -> None:
        """How many items there are (shown as done / total)."""
        self._set(total=total)

    def set_note(self, text: str) -> None:
        """What happens between items (preparing a suite): shown live, not as a line."""
        self._set(note=text)

    def _set(self, **fields) -> None:
        with self._lock:
            for name, value in fields.items():
                setattr(self, name, value)
            self._refresh(time.monotonic())

    def message(self, text: str) -> None:
        """A line worth keeping (a suite prepared, a job finished), in either mode."""
        with self._lock:
            self._say(text)

    def start(self, name: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._running.setdefault(name, _Item(name, now))
            self._refresh(now)

    def update(self, name: str, values: dict) -> None:
        with self._lock:
            now = time.monotonic()
            self._running.setdefault(name, _Item(name, now)).update(values, now)
            self._refresh(now)

    def finish(self, name: str, *, ok: bool, seconds: float | None = None) -> int:
        """Count ``name`` done; :returns: how many are done now."""
        with self._lock:
            now = time.monotonic()
            item = self._running.pop(name, None)
            if seconds is None and item is not None:
                seconds = now - item.started
            if seconds is not None:
                self._durations.append(seconds)
            self.done += 1
            self.failed += not ok
            if self._progress is not None and name in self._tasks:
                self._progress.remove_task(self._tasks.pop(name))
            self._refresh(now)
            return self.done

    # -- what is shown --------------------------------------------------------------------
    def estimate(self, now: float | None = None) -> float | None:
        """Seconds until every item is done, or None while nothing says how long one takes.

        Running items need what their steps say (or a typical item's time minus their age);
        pending ones a typical item's time each (the mean of the finished ones, or before any
        has finished, the projected time of the running ones with steps), shared out over the
        parallel slots as they free up.
        """
        now = time.monotonic() if now is None else now
        typical = sum(self._durations) / len(self._durations) if self._durations else None
        if typical is None:  # before any item ends: what the running fits project for theirs
            projected = [now - item.started + item.left(now, None)
                         for item in self._running.values() if item.step and item.steps]
            typical = sum(projected) / len(projected) if projected else None
        slots = []
        for item in self._running.values():
            left = item.left(now, typical)
            if left is None:
                return None
            slots.append(left)
        pending = max((self.total or 0) - self.done - len(self._running), 0)
        if pending and typical is None:
            return None
        slots += [0.0] * max(self.parallel - len(slots), 0)
        heapq.heapify(slots)
        for _ in range(pending):
            heapq.heappush(slots, heapq.heappop(slots) + typical)
        return max(slots) if slots else 0.0

    def counts(self) -> str:
        total = "?" if self.total is None else self.total
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.done}/{total} {self.noun}{failed}"

    def timing(self, now: float) -> str:
        text = f"{format_duration(now - self._started)} elapsed"
        if self.total is None:
            return text
        left = self.estimate(now)
        if left is not None:
            text += f", about {format_duration(left)} left"
        elif self.total:
            text += f", estimate after the first of the {self.noun}"
        return text

    def status(self, now: float | None = None) -> str:
        """One plain line: counts, what runs now, elapsed and the estimate."""
        now = time.monotonic() if now is None else now
        parts = [f"{self.counts()} done"]
        if self._running:
            parts.append("running: " + ", ".join(item.describe(now)
                                                 for item in self._running.values()))
        elif self.note:
            parts.append(self.note)
        return f"[{time.strftime('%H:%M:%S')}] " + "; ".join(parts) + f"; {self.timing(now)}"

    def _say(self, text: str) -> None:
        self._last_line = time.monotonic()
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def _refresh(self, now: float) -> None:
        if self._progress is None:
            return
        description = self.note if self.note and not self._running else self.title
        self._progress.update(self._task, description=description, total=self.total,
                              completed=self.done, counts=self.counts(), note=self.timing(now))
        for name, item in self._running.items():
            if name not in self._tasks:
                self._tasks[name] = self._progress.add_task(name, total=None, counts="",
                                                            note="")
            shown = item.describe(now)[len(name) + 1:]
            self._progress.update(self._tasks[name], description=f"  {name}",
                                  total=item.steps, completed=item.step or 0, counts="",
                                  note=shown)


class RunProgress(Tracker):
    """The progress of ``genobench run``: suites prepared, then jobs."""

    def __init__(self, console: Console, *, quiet: bool = False, jobs: int = 1,
                 heartbeat: float | None = HEARTBEAT_S):
        super().__init__(console, noun="jobs", parallel=jobs, quiet=quiet,
                         heartbeat=heartbeat, title="genobench run")

    def preparing(self, suite: str, *, cached: bool = False) -> None:
        if cached:
            self.message(f"using cached suite {suite}")
            self.set_note(f"loading cached suite {suite}")
        else:
            self.message(f"preparing suite {suite} (simulating or reading, then cached)")
            self.set_note(f"preparing suite {suite}")

    def started(self, todo: list, skipped: list) -> None:
        self.set_note("starting jobs")
        self.set_total(len(todo))

    def job_progress(self, job, values: dict) -> None:
        with self._lock:
            self.note = ""
            self.update(job.id, values)

    def job_done(self, job, record) -> None:
        """A job ended with ``record`` (a :class:`genobench.records.JobRecord`)."""
        ok = record.ok
        seconds = sum(usage.seconds or 0.0 for usage in record.timing.values())
        with self._lock:
            done = self.finish(job.id, ok=ok)
            if self.total is not None and done >= self.total:
                self.set_note("writing the leaderboard")
            status = "ok" if ok else f"FAILED: {record.error}"
            total = f"/{self.total}" if self.total else ""
            self._say(f"[{done}{total}] {job.id}: {status} ({seconds:.1f} s)")


class PrepareProgress(Tracker):
    """The progress of ``genobench prepare``: suites materialized out of the total."""

    def __init__(self, console: Console, *, total: int, jobs: int = 1, quiet: bool = False,
                 heartbeat: float | None = HEARTBEAT_S):
        super().__init__(console, noun="suites", parallel=jobs, quiet=quiet,
                         heartbeat=heartbeat, title="genobench prepare")
        self.total = total

    def suite_started(self, suite: str, *, cached: bool) -> None:
        if cached:
            self.message(f"using cached suite {suite}")
        else:
            self.message(f"preparing suite {suite}")
            self.start(suite)
            self.update(suite, {"phase": "simulating or reading"})

    def suite_done(self, suite: str, info: dict) -> None:
        cached = bool(info.get("cached"))
        state = "cached" if cached else f"built in {format_duration(info.get('seconds', 0))}"
        sizes = info.get("sizes", {})
        with self._lock:
            done = self.finish(suite, ok=True, seconds=None if cached else info.get("seconds"))
            self._say(f"[{done}/{self.total}] {suite}: {info['n_snps']} SNPs, "
                      f"train/validation/test {sizes.get('train')}/{sizes.get('validation')}/"
                      f"{sizes.get('test')} individuals ({state})")
