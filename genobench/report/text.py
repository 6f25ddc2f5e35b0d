"""Text for the leaderboard: numbers, one-line strings and Markdown escaping.

Everything a plugin supplies (names, descriptions, errors, notes) passes through here on its way
into a table cell or a plot label.
"""

from __future__ import annotations

import re

from ..records import finite

__all__ = ["compact", "escape_markdown", "format_number", "format_score", "label", "one_line"]


def one_line(text) -> str:
    """``text`` on one line with runs of white space collapsed ("" for None)."""
    return " ".join(str(text).split()) if text is not None else ""


def format_number(value, digits: int = 4) -> str:
    """``value`` with ``digits`` significant digits (``"n/a"`` for None): 0.9871, 123.5,
    12,346, 1.23e-05."""
    value = finite(value)
    if value is None:
        return "n/a"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if 1e-3 <= magnitude < 1e4:
        return f"{value:.{digits}g}"
    if 1e4 <= magnitude < 1e7:
        return f"{value:,.0f}"
    return f"{value:.{max(digits - 1, 2)}g}"


def format_score(value) -> str:
    """A scorecard score with two decimals ("–" when missing)."""
    value = finite(value)
    return "–" if value is None else f"{value:.2f}"


def compact(value, limit: int = 120) -> str:
    """A suite or machine setting as one short line: ``{a: 1}`` -> ``a 1``, lists comma-joined."""
    if isinstance(value, dict):
        text = ", ".join(f"{key} {compact(item, limit)}" for key, item in value.items())
    elif isinstance(value, (list, tuple)):
        text = ", ".join(compact(item, limit) for item in value)
    elif isinstance(value, float):
        text = format_number(value)
    else:
        text = one_line(value) if value is not None else "–"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def label(name: str, limit: int = 40) -> str:
    """A plugin-supplied name for a matplotlib label: shortened, ``$`` kept out of mathtext."""
    name = one_line(name)
    name = name if len(name) <= limit else name[: limit - 1] + "…"
    return name.replace("$", r"\$")


_MARKDOWN_SPECIAL = re.compile(r"[\\`*\[\]|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# What Markdown would read as HTML: a tag or comment start, or a character reference.
_MARKDOWN_HTML = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?[A-Za-z0-9]+;)")


def escape_markdown(value) -> str:
    """Text safe in a Markdown table cell: one line, Markdown syntax and pipes backslashed.

    HTML that Markdown would pass through (``<tag``, ``&name;``) is backslash-escaped
    (CommonMark escapes any ASCII punctuation), never entity-escaped, so the file reads as
    written: ``p < 0.05/M`` and ``Lopez-Paz & Oquab`` stay as they are. Intra-word ``_`` too.
    """
    if value is None:
        return ""
    text = re.sub(r"\s*[\r\n]+\s*", " ", str(value))
    text = _MARKDOWN_SPECIAL.sub(lambda match: "\\" + match.group(0), text)
    return _MARKDOWN_HTML.sub(lambda match: "\\" + match.group(0), text)

