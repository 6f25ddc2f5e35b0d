"""Progress display for runs: a rich progress bar, or one plain line per job in quiet mode."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


class RunProgress:
    """Shows suites being prepared, jobs finishing and training progress."""

    def __init__(self, console: Console, *, quiet: bool = False):
        self.console = console
        self.quiet = quiet or not console.is_terminal
        self._progress = None
        self._task = None
        self._done = 0

    def __enter__(self):
        if not self.quiet:
            self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                      TextColumn("{task.completed} jobs"), TimeElapsedColumn(),
                                      console=self.console, transient=True)
            self._progress.__enter__()
            self._task = self._progress.add_task("genobench run", total=None)
        return self

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.__exit__(*exc)
        return False

    def set_total(self, total: int):
        if self._progress is not None:
            self._progress.update(self._task, total=total)

    def preparing(self, suite: str):
        self._message(f"preparing suite {suite}")

    def job_progress(self, job, values: dict):
        if self._progress is not None:
            shown = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                             for k, v in values.items())
            self._progress.update(self._task, description=f"{job.id} {shown}")

    def job_done(self, job, record: dict):
        self._done += 1
        status = "ok" if record["status"] == "ok" else f"FAILED: {record['error']}"
        seconds = sum(p.get("seconds", 0) for p in record.get("timing", {}).values())
        line = f"[{self._done}] {job.id}: {status} ({seconds:.1f} s)"
        if self._progress is not None:
            self._progress.console.print(line, markup=False, highlight=False)
            self._progress.update(self._task, completed=self._done, description=job.id)
        else:
            self.console.print(line, markup=False, highlight=False)

    def _message(self, text: str):
        if self._progress is not None:
            self._progress.update(self._task, description=text)
        else:
            self.console.print(text, markup=False, highlight=False)
