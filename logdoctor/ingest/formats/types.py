"""A compiled format's values: its header, event and field patterns, samples and links, each
regex compiled for both engines; :func:`logdoctor.ingest.formats.spec.load_format` makes them
from a format file. A regex's Python pattern is compiled on first use (see :class:`Regex`).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from logdoctor.ingest.formats.templates import (
    encoder,
)
from logdoctor.ingest.regexes import to_python
from logdoctor.model import Basis
from logdoctor.table import FIELD_COLUMNS, NODE_FIELD
from logdoctor.timestamps import TimestampFormat, Zone

__all__ = [
    "EXTRACT_COLUMNS",
    "EventPattern",
    "FieldPattern",
    "Format",
    "FormatError",
    "HeaderPattern",
    "Link",
    "Regex",
    "Sample",
    "SplitPlan",
    "split_plan",
]

EXTRACT_COLUMNS: tuple[str, ...] = (*FIELD_COLUMNS, NODE_FIELD)
"""Columns an event pattern's groups or a ``[[field]]`` extractor may fill."""


class FormatError(ValueError):
    """A format file is invalid; the message names the file, the entry and the field."""

    def __init__(self, path: str | Path, entry: str, problem: str) -> None:
        self.path = str(path)
        self.entry = entry
        self.problem = problem
        super().__init__(f"{self.path}: {entry}: {problem}")


@dataclass(frozen=True)
class Regex:
    """A regex compiled for both engines.

    ``py``, the line engine's pattern, is compiled from ``source`` on first use and is not
    pickled: a format read back from the compiled-formats cache
    (:mod:`logdoctor.ingest.formats.compiled`) compiles only the regexes a run matches with
    (a cache hit of ``stats`` compiles none).
    """

    source: str
    rust: str
    groups: tuple[str, ...]

    @cached_property
    def py(self) -> re.Pattern[str]:
        """The pattern for Python's ``re`` (ASCII classes), compiled once per instance."""
        return to_python(self.source)

    def __getstate__(self) -> dict[str, object]:
        """The fields only: the compiled pattern is left out (compiled again on first use)."""
        return {k: v for k, v in self.__dict__.items() if k != "py"}


@dataclass(frozen=True)
class HeaderPattern:
    """A header line pattern: a record starts on a line it matches."""

    regex: Regex
    timestamps: tuple[TimestampFormat, ...]
    prefix: Regex
    """The regex without its trailing ``(?P<msg>.*)``: the bulk engine slices the message off."""
    zone: Zone | None = None
    """The zone of this header's timestamps when they carry no offset themselves (``zone =
    "UTC"`` for a stamp written as UTC); None: the node's zone (``--tz``, a deployment file,
    a zone a log of the node states)."""
    untimed: bool = False
    """Declared ``untimed = true``: its lines carry no time (AuditApp's bare alarm form, an
    empty ``(?P<ts>)`` group), so its records have no time. lnav needs a time on every
    message, so the lnav export leaves these headers out."""

    @property
    def zoneless(self) -> bool:
        """True when some of this header's timestamps are read in the node's zone."""
        return self.zone is None and any(not tf.has_zone for tf in self.timestamps)


@dataclass(frozen=True)
class SplitPlan:
    """How to cut the fields of a ``key=value`` template by splitting on single spaces.

    ``fields`` holds (token position, characters to skip, column); ``width`` is the number of
    splits needed. Valid only on messages the pattern's regex is known to match.
    """

    width: int
    fields: tuple[tuple[int, int, str], ...]
    open_end: bool
    """The last token is a field that ends at whitespace, not at a literal space."""
    tokens: tuple[tuple[str, bool], ...] = ()
    """Per position: the literal text (a whole literal token, or a field's ``key=`` prefix)
    and whether the token is a field."""


_TOKEN_FIELD = re.compile(
    r"^((?:[^\\.^$*+?{}\[\]|()\s]|\\[^A-Za-z0-9])*)(?:\(\?P<(\w+)>\\S\+\)|(\\S\+))?$"
)


def split_plan(source: str) -> SplitPlan | None:
    """A split plan for regexes made of space-separated tokens: literals, ``key=(?P<col>\\S+)``
    or ``key=\\S+``, anchored with ``^``; None for anything else (the regex is used)."""
    if not source.startswith("^") or "  " in source:
        return None
    tokens = source[1:].split(" ")
    fields: list[tuple[int, int, str]] = []
    shape: list[tuple[str, bool]] = []
    open_end = False
    for pos, tok in enumerate(tokens):
        m = _TOKEN_FIELD.match(tok)
        if m is None or not tok:
            return None
        literal = re.sub(r"\\(.)", r"\1", m.group(1))
        shape.append((literal, bool(m.group(2) or m.group(3))))
        if m.group(2):
            fields.append((pos, len(literal), m.group(2)))
        if pos == len(tokens) - 1 and (m.group(2) or m.group(3)):
            open_end = True
    if not fields:
        return None
    return SplitPlan(
        width=len(tokens) - 1, fields=tuple(fields), open_end=open_end, tokens=tuple(shape)
    )


@dataclass(frozen=True)
class EventPattern:
    """Maps a record's message (and optionally its logger) to an event kind and columns."""

    index: int
    kind: str
    regex: Regex
    logger: Regex | None
    set: Mapping[str, str]
    literal: str
    description: str
    split: SplitPlan | None = None
    basis: str = Basis.MODELLED.value
    """published, documented or modelled (see :class:`logdoctor.model.Basis`)."""
    template: str | None = None
    """How writers render the message (see :mod:`logdoctor.ingest.formats.templates`)."""
    name: str | None = None
    """The template's name when several templated events share a kind."""


@dataclass(frozen=True)
class FieldPattern:
    """Fill ``column`` from a regex's one named group, on records whose column is still empty
    after their event pattern (of ``kinds``, or of any recognized kind)."""

    index: int
    column: str
    regex: Regex
    kinds: tuple[str, ...] = ()
    """Kinds it applies to (empty: every kind but unrecognized)."""


@dataclass(frozen=True)
class Link:
    """Fill ``field`` of ``targets`` events from the next ``source`` event in the same file."""

    field: str
    source: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Sample:
    """A sample record and what it must parse to."""

    index: int
    text: str
    kind: str
    fields: Mapping[str, str]


@dataclass(frozen=True)
class Format:
    """A compiled format file."""

    name: str
    family: str
    title: str
    description: str
    urls: tuple[str, ...]
    path: str
    file_patterns: tuple[str, ...]
    path_hints: tuple[str, ...]
    headers: tuple[HeaderPattern, ...]
    levels: Mapping[str, str]
    events: tuple[EventPattern, ...]
    samples: tuple[Sample, ...]
    links: tuple[Link, ...] = ()
    builtin: bool = True
    specificity: int = field(default=0, compare=False)
    fields: tuple[FieldPattern, ...] = ()
    writer: Mapping[str, Any] | None = None
    """The ``[writer]`` table: how writers put a line together (see
    :mod:`logdoctor.ingest.formats.templates`)."""

    def render(self, name: str, /, **fields: object) -> str:
        """The message of templated event ``name`` (its kind, or its ``name``) with ``fields``."""
        return encoder(self).message(name, **fields)

    @property
    def states_zone(self) -> bool:
        """True when its records state the node's local time next to UTC (a ``local`` header
        group): such a file gives its node's UTC offset (see :mod:`logdoctor.ingest.clocks`)."""
        return any("local" in h.regex.groups for h in self.headers)

    @property
    def zoneless(self) -> bool:
        """True when some of its timestamps carry no zone (read in the node's zone)."""
        return any(h.zoneless for h in self.headers)

    def bases(self) -> dict[str, tuple[str, ...]]:
        """Kind -> the bases of its event patterns in this format (weakest first)."""
        out: dict[str, set[str]] = {}
        for e in self.events:
            out.setdefault(e.kind, set()).add(e.basis)
        return {k: tuple(sorted(v, key=lambda b: Basis(b).rank)) for k, v in sorted(out.items())}

    def matches_name(self, name: str) -> bool:
        """True if a file's base name fits one of the format's file patterns."""
        low = name.lower()
        return any(fnmatch.fnmatchcase(low, p.lower()) for p in self.file_patterns)

    def matches_path(self, path: str) -> bool:
        """True if a path (with folders) contains one of the format's path hints."""
        low = path.replace("\\", "/").lower()
        return any(h.lower() in low for h in self.path_hints)

    def normalize_level(self, raw: str | None) -> str | None:
        """Fold a raw level onto the normalized set (unknown levels are kept, upper-cased)."""
        if raw is None:
            return None
        up = raw.upper()
        return self.levels.get(up, up)
