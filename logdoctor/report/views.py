"""Small pure helpers that shape text for the report's views: marked-up pieces (fix steps'
`commands`, evidence's decisive fields), short paths, stable anchors, rule subject nouns,
the bundle's name and times.

Each takes text that :func:`logdoctor.report.text.neutral` already made inert and returns
plain strings or ``(text, marked)`` pieces; the template escapes everything it prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePath

from logdoctor.report.model import Rich

__all__ = [
    "DECISIVE",
    "basename",
    "bundle_name",
    "code_parts",
    "fmt_duration",
    "fmt_minute",
    "fmt_time",
    "mark_parts",
    "plural",
    "rel_path",
    "slug",
    "subject_noun",
]

DECISIVE = ("reason", "error", "check", "via", "cause", "result", "status")
"""Fields of a log line that say why it matters (marked in evidence excerpts)."""

_CODE = re.compile(r"``([^`]+)``|`([^`]+)`")
_FIELD = re.compile(r"(?<![\w.-])(?:" + "|".join(DECISIVE) + r")=(?!-(?:\s|$))\S+")
_ARCHIVE = re.compile(r"(?i)(\.tar\.gz|\.tar\.bz2|\.tar\.xz|\.tgz|\.zip|\.tar|\.gz)$")
_SUBJECT = re.compile(r"Subject:\s*(?:the\s+)?(.+?)(?:\s+and\b|\s+or\b|[.;,(]|$)", re.S)


def fmt_time(t: datetime | None) -> str:
    """``2026-11-20 08:00:01.120`` in UTC (empty for None): evidence and tables, to the
    millisecond as the log lines."""
    if t is None:
        return ""
    if t.tzinfo is not None:
        t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def fmt_minute(t: datetime | None) -> str:
    """``2026-11-20 08:00`` in UTC (empty for None): the page header's range."""
    return fmt_time(t)[:16]


def fmt_duration(seconds: float) -> str:
    """A short human duration: ``45 s``, ``12 min``, ``3 h 20 min``, ``2 d 4 h``."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min" + (f" {s} s" if s else "")
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h} h" + (f" {m} min" if m else "")
    d, h = divmod(h, 24)
    return f"{d} d" + (f" {h} h" if h else "")


def _pieces(text: str, pattern: re.Pattern[str], group: bool) -> Rich:
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in pattern.finditer(text):
        if m.start() > pos:
            out.append((text[pos : m.start()], False))
        inner = next((g for g in m.groups() if g is not None), m.group(0)) if group else m.group(0)
        out.append((inner, True))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return tuple(out)


def code_parts(text: str) -> Rich:
    """Text with its ```code``` and ````code```` spans as marked pieces (backticks dropped)."""
    return _pieces(text, _CODE, True)


def mark_parts(text: str) -> Rich:
    """A log excerpt with its decisive fields (``reason=refresh_disabled``, ``via=expc1``;
    not ``via=-``) as marked pieces."""
    return _pieces(text, _FIELD, False)


def basename(path: str) -> str:
    """The last part of a path, archive members included (``a.zip!x/ssosp00001.log``)."""
    return re.split(r"[/\\!]", path.rstrip("/\\"))[-1] or path


def rel_path(path: str, inputs: Sequence[str]) -> str:
    """``path`` relative to the input it came from (the longest input that holds it; an
    archive's members after its ``!``); the path itself when no input holds it."""
    for inp in sorted((i.rstrip("/\\") for i in inputs if i), key=len, reverse=True):
        if path == inp:
            return basename(path)
        for sep in ("/", "\\", "!"):
            if path.startswith(inp + sep):
                return path[len(inp) + 1 :]
    return path[2:] if path.startswith("./") else path


def slug(text: str) -> str:
    """Letters, digits, ``.``, ``_`` and ``-`` of ``text``, runs of others as one ``-``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")


def plural(noun: str, n: int) -> str:
    """``noun`` for one, else the naive English plural (``device names``, ``nodes``)."""
    if n == 1 or noun.endswith("s"):
        return noun
    return noun + "s"


def subject_noun(detection: str | None) -> str:
    """What a rule's findings are about, from its documentation's ``Subject: the ...``
    sentence (``device name``); ``subject`` when the page says nothing."""
    m = _SUBJECT.search(detection or "")
    if m is None:
        return "subject"
    noun = " ".join(m.group(1).split())
    return noun if 0 < len(noun) <= 40 else "subject"


def bundle_name(inputs: Iterable[str]) -> str:
    """The name of what the report is about: the first input's folder or archive name
    (without the archive suffix), ``+ N more`` for several."""
    names = []
    for p in inputs:
        name = PurePath(p.rstrip("/\\")).name
        if not name:
            try:
                name = Path(p).resolve().name
            except OSError:
                name = p
        names.append(_ARCHIVE.sub("", name) or name)
    if not names:
        return "logdoctor report"
    return names[0] if len(names) == 1 else f"{names[0]} + {len(names) - 1} more"
