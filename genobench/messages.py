"""Warnings a user sees: one line each, ``warning: <file>: <what> (<count>)``, never a traceback.

genobench code warns through :func:`warn`, which raises a Python warning of category
:class:`GenobenchWarning` carrying a frozen :class:`Notice`; the command line collects every
warning raised while it works (genobench's own and those of libraries such as cyvcf2, numpy or
scikit-learn) with :func:`collect`, prints each as one line (:func:`show`, also under ``-q``)
and records them in ``--json`` output (:meth:`Notice.to_json`). Nothing prints a Python
source line under a warning.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings

#: Schema version of :meth:`Notice.to_json`.
NOTICE_SCHEMA = 1


@dataclasses.dataclass(frozen=True)
class Notice:
    """One warning for the user.

    :ivar source: what it is about: a file path, or "genobench" / a library's name.
    :ivar what: what happened, one line without the count.
    :ivar count: how many items it concerns (SNPs left out, calls imputed), or None.
    """

    source: str
    what: str
    count: int | None = None

    def text(self) -> str:
        """``<source>: <what> (<count>)``, the count only when there is one."""
        suffix = "" if self.count is None else f" ({self.count})"
        return f"{self.source}: {self.what}{suffix}"

    def line(self) -> str:
        """The line shown to the user: ``warning: <source>: <what> (<count>)``."""
        return f"warning: {self.text()}"

    def to_json(self) -> dict:
        return dict(schema=NOTICE_SCHEMA, source=self.source, what=self.what, count=self.count)

    @classmethod
    def from_json(cls, payload: dict) -> Notice:
        return cls(str(payload["source"]), str(payload["what"]), payload.get("count"))


class GenobenchWarning(UserWarning):
    """A Python warning carrying a :class:`Notice` (``.notice``); its text is the notice's."""

    def __init__(self, notice: Notice):
        super().__init__(notice.text())
        self.notice = notice


def warn(source, what: str, count: int | None = None, *,
         category: type[GenobenchWarning] = GenobenchWarning, stacklevel: int = 2) -> Notice:
    """Raise a genobench warning about ``source`` (a path or a name) and return its notice."""
    notice = Notice(str(source), " ".join(str(what).split()), None if count is None else
                    int(count))
    warnings.warn(category(notice), stacklevel=stacklevel + 1)
    return notice


def as_notice(warning: warnings.WarningMessage, source: str | None = None) -> Notice:
    """The :class:`Notice` of a caught warning: its own for a genobench warning; for another
    library's, its message's first line about ``source`` (default: the library's package)."""
    message = warning.message
    if isinstance(message, GenobenchWarning):
        return message.notice
    text = str(message).strip().splitlines()[0] if str(message).strip() else \
        warning.category.__name__
    if source is None:
        module = (warning.filename or "").replace("\\", "/")
        parts = [p for p in module.split("/") if p]
        package = next((p for p in reversed(parts[:-1]) if p not in ("site-packages", "src")),
                       "python")
        source = package if "site-packages" in parts else "genobench"
    return Notice(source, " ".join(text.split()))


@contextlib.contextmanager
def collect(source: str | None = None):
    """Catch every warning raised inside as :class:`Notice` objects, in order, without
    duplicates; yields the list, filled when the block ends.

    :param source: what library warnings raised inside are about (the file being read).
    """
    notices: list[Notice] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield notices
        finally:
            for warning in caught:
                notice = as_notice(warning, source)
                if notice not in notices:
                    notices.append(notice)


def show(notices, echo) -> None:
    """Print each notice as its one line through ``echo`` (a ``print``-like callable)."""
    for notice in notices:
        echo(notice.line())
