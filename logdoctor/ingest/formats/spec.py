"""Format files: load, validate and compile the declarative descriptions in ``parsers/*.toml``.

A format file describes one log family the way lnav's format files do: title, description,
sources, file-name patterns, header regex(es) with named groups, timestamp formats, the level
map, then ``[[event]]`` patterns that map message bodies onto event kinds and columns (each
with the ``basis`` of its form: published, documented or modelled), ``[[field]]`` extractors
that fill a column wherever its value sits in the message (the parameters of a Cisco alarm
come in any order and subset), and ``[[sample]]`` lines with the kind and fields they must
give. :func:`load_format` reads and validates one file, naming the file, the entry and the
field of what is wrong; the catalog (:mod:`logdoctor.ingest.formats.catalog`) loads them all
and refuses a file whose samples do not parse as declared (:mod:`logdoctor.ingest.formats.check`).

Writing lines: a later step makes key=value events declare a *template* from which both their
regex and the writers' lines derive (``Format.render``); it belongs here, on :class:`Format`
and :class:`EventPattern`, beside the regexes it will replace (the engines read the compiled
patterns only, never the template).
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from logdoctor.ingest.formats.templates import (
    TemplateError,
    encoder,
    parse_template,
    template_regex,
)
from logdoctor.ingest.regexes import literal_prefix, to_python, to_rust
from logdoctor.model import Basis, EventKind, Level, is_event_kind
from logdoctor.table import FIELD_COLUMNS, HEADER_FIELDS, NODE_FIELD
from logdoctor.timestamps import TimestampFormat, TimestampFormatError, Zone, resolve_zone

__all__ = [
    "EventPattern",
    "FieldPattern",
    "Format",
    "FormatError",
    "HeaderPattern",
    "Link",
    "Sample",
    "load_format",
]

_KINDS = {k.value for k in EventKind}
_LEVELS = {lv.value for lv in Level}
_BASES = tuple(b.value for b in Basis)
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
    """A regex compiled for both engines."""

    source: str
    py: re.Pattern[str]
    rust: str
    groups: tuple[str, ...]


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


def _regex(path: Path, entry: str, fieldname: str, source: Any) -> Regex:
    if not isinstance(source, str) or not source:
        raise FormatError(path, entry, f"{fieldname} must be a non-empty string")
    try:
        py = to_python(source)
    except re.error as exc:
        raise FormatError(path, entry, f"{fieldname} is not a valid regex: {exc}") from None
    rust = to_rust(source)
    try:
        pl.Series("probe", [""], dtype=pl.String).str.contains(rust)
    except Exception as exc:  # polars raises ComputeError for unsupported syntax
        first = str(exc).strip().splitlines()
        detail = first[-1].strip() if first else str(exc)
        raise FormatError(
            path,
            entry,
            f"{fieldname} uses syntax the bulk engine does not support "
            f"(no look-around or back-references): {detail}",
        ) from None
    return Regex(source=source, py=py, rust=rust, groups=tuple(py.groupindex))


def _str_list(path: Path, entry: str, fieldname: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FormatError(path, entry, f"{fieldname} must be a string or a list of strings")
    return tuple(value)


_MSG_TAIL = re.compile(r"\(\?P<msg>\.\*\)\$?$")


def _header(path: Path, i: int, raw: Any) -> HeaderPattern:
    entry = f"header[{i}]"
    if not isinstance(raw, dict):
        raise FormatError(path, entry, "must be a table with regex and timestamp")
    rx = _regex(path, entry, "regex", raw.get("regex"))
    for g in rx.groups:
        if g not in HEADER_FIELDS:
            raise FormatError(
                path,
                entry,
                f"regex group {g!r} is not a header field (allowed: {', '.join(HEADER_FIELDS)})",
            )
    for required in ("ts", "msg"):
        if required not in rx.groups:
            raise FormatError(path, entry, f"regex must have a (?P<{required}>...) group")
    if not rx.source.startswith("^"):
        raise FormatError(path, entry, "regex must be anchored with ^ (a header starts a line)")
    tail = _MSG_TAIL.search(rx.source)
    if tail is None:
        raise FormatError(path, entry, "regex must end with (?P<msg>.*) (the rest of the line)")
    prefix = _regex(path, entry, "regex", rx.source[: tail.start()])
    unknown = set(raw) - {"regex", "timestamp", "zone", "untimed"}
    if unknown:
        raise FormatError(path, entry, f"unknown keys: {', '.join(sorted(unknown))}")
    untimed = _untimed(path, entry, raw.get("untimed", False), prefix)
    zone = None
    if "zone" in raw:
        if not isinstance(raw["zone"], str):
            raise FormatError(path, entry, "zone must be a string (UTC, an IANA name, +02:00)")
        try:
            zone = resolve_zone(raw["zone"])
        except ValueError as exc:
            raise FormatError(path, entry, f"zone: {exc}") from None
    stamps = _str_list(path, entry, "timestamp", raw.get("timestamp"))
    if not stamps:
        raise FormatError(path, entry, "timestamp must list at least one format")
    compiled = []
    for s in stamps:
        try:
            compiled.append(TimestampFormat.compile(s))
        except TimestampFormatError as exc:
            raise FormatError(path, entry, f"timestamp: {exc}") from None
    return HeaderPattern(
        regex=rx, timestamps=tuple(compiled), prefix=prefix, zone=zone, untimed=untimed
    )


_EMPTY_TS = "(?P<ts>)"


def _untimed(path: Path, entry: str, flag: Any, prefix: Regex) -> bool:
    """The ``untimed`` flag, checked against the regex: true exactly when its ``ts`` group is
    the empty ``(?P<ts>)`` (a header that can never read a time must say so, and only such a
    header may)."""
    if not isinstance(flag, bool):
        raise FormatError(path, entry, "untimed must be true or false")
    empty = _EMPTY_TS in prefix.source
    if flag and not empty:
        raise FormatError(path, entry, f"untimed = true needs an empty {_EMPTY_TS} group")
    if empty and not flag:
        raise FormatError(
            path, entry, f"an empty {_EMPTY_TS} group reads no time: declare untimed = true"
        )
    return flag


def _event(path: Path, i: int, raw: Any) -> EventPattern:
    entry = f"event[{i}]"
    if not isinstance(raw, dict):
        raise FormatError(path, entry, "must be a table")
    kind = raw.get("kind")
    if not isinstance(kind, str) or not is_event_kind(kind):
        raise FormatError(
            path, entry, f"kind {kind!r} is not an event kind (see logdoctor kinds) nor draft.<n>"
        )
    if kind == EventKind.UNRECOGNIZED:
        raise FormatError(path, entry, "kind unrecognized is reserved for records no event matches")
    entry = f"event[{i}] ({kind})"
    template = raw.get("template")
    source = raw.get("regex")
    if template is not None:
        try:
            derived = template_regex(parse_template(template))
        except TemplateError as exc:
            raise FormatError(path, entry, f"template: {exc}") from None
        source = derived if source is None else source
    rx = _regex(path, entry, "regex", source)
    for g in rx.groups:
        if g not in EXTRACT_COLUMNS:
            raise FormatError(
                path,
                entry,
                f"regex group {g!r} is not an event column (allowed: {', '.join(EXTRACT_COLUMNS)})",
            )
    basis = raw.get("basis")
    if basis not in _BASES:
        raise FormatError(
            path,
            entry,
            f"basis {basis!r}: every [[event]] must say basis = "
            '"published" (a verbatim public line backs it), "documented" (the behaviour is '
            'documented, the wording modelled) or "modelled"',
        )
    logger = None
    if "logger" in raw:
        logger = _regex(path, entry, "logger", raw["logger"])
        if logger.groups:
            raise FormatError(path, entry, "logger regex must not have named groups")
    consts = raw.get("set", {})
    if not isinstance(consts, dict) or not all(isinstance(v, str) for v in consts.values()):
        raise FormatError(path, entry, "set must be a table of strings")
    for k in consts:
        if k not in EXTRACT_COLUMNS:
            raise FormatError(path, entry, f"set.{k} is not an event column")
        if k in rx.groups:
            raise FormatError(path, entry, f"set.{k} is also a regex group; keep one")
    name = raw.get("name")
    if name is not None and (not isinstance(name, str) or template is None):
        raise FormatError(path, entry, "name must be a string, on a templated event")
    unknown = set(raw) - {"kind", "regex", "logger", "set", "description", "basis"}
    unknown -= {"template", "name"}
    if unknown:
        raise FormatError(path, entry, f"unknown keys: {', '.join(sorted(unknown))}")
    return EventPattern(
        index=i,
        kind=kind,
        regex=rx,
        logger=logger,
        set=dict(consts),
        literal=literal_prefix(rx.source),
        description=str(raw.get("description", "")),
        split=split_plan(rx.source),
        basis=str(basis),
        template=template,
        name=name,
    )


def _field(path: Path, i: int, raw: Any) -> FieldPattern:
    entry = f"field[{i}]"
    if not isinstance(raw, dict):
        raise FormatError(path, entry, "must be a table with regex (and optional kinds)")
    unknown = set(raw) - {"regex", "kinds", "description"}
    if unknown:
        raise FormatError(path, entry, f"unknown keys: {', '.join(sorted(unknown))}")
    rx = _regex(path, entry, "regex", raw.get("regex"))
    if len(rx.groups) != 1 or rx.groups[0] not in EXTRACT_COLUMNS:
        raise FormatError(
            path,
            entry,
            "regex must have exactly one named group, the column it fills (one of "
            f"{', '.join(EXTRACT_COLUMNS)})",
        )
    kinds = _str_list(path, entry, "kinds", raw.get("kinds", []))
    for k in kinds:
        if k not in _KINDS or k == EventKind.UNRECOGNIZED:
            raise FormatError(path, entry, f"kinds: {k!r} is not a recognized event kind")
    return FieldPattern(
        index=i,
        column=rx.groups[0],
        regex=rx,
        kinds=kinds,
    )


def _sample(path: Path, i: int, raw: Any) -> Sample:
    entry = f"sample[{i}]"
    if not isinstance(raw, dict):
        raise FormatError(path, entry, "must be a table with line and kind")
    text = raw.get("line")
    if not isinstance(text, str) or not text:
        raise FormatError(path, entry, "line must be a non-empty string")
    kind = raw.get("kind")
    if not isinstance(kind, str) or not is_event_kind(kind):
        raise FormatError(path, entry, f"kind {kind!r} is not an event kind")
    fields = raw.get("fields", {})
    if not isinstance(fields, dict):
        raise FormatError(path, entry, "fields must be a table")
    allowed = set(EXTRACT_COLUMNS) | {"level", "thread", "logger", "time", "message"}
    for k, v in fields.items():
        if k not in allowed:
            raise FormatError(path, entry, f"fields.{k} is not a column")
        if not isinstance(v, str):
            raise FormatError(path, entry, f"fields.{k} must be a string")
    return Sample(index=i, text=text.rstrip("\n"), kind=kind, fields=dict(fields))


def load_format(path: str | Path, *, builtin: bool = False) -> Format:
    """Load and compile one format file (samples are checked by :func:`load_formats`)."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            raw = tomllib.load(fh)
    except OSError as exc:
        raise FormatError(p, "file", f"cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(p, "file", f"not valid TOML: {exc}") from None
    for key in ("name", "family", "title", "description"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise FormatError(p, key, "required string is missing")
    name = raw["name"]
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", name):
        raise FormatError(p, "name", "must be lower-case letters, digits, - or _")
    headers_raw = raw.get("header")
    if not isinstance(headers_raw, list) or not headers_raw:
        raise FormatError(p, "header", "at least one [[header]] is required")
    headers = tuple(_header(p, i, h) for i, h in enumerate(headers_raw))
    levels_raw = raw.get("levels", {})
    if not isinstance(levels_raw, dict):
        raise FormatError(p, "levels", "must be a table RAW = NORMALIZED")
    levels: dict[str, str] = {lv: lv for lv in _LEVELS}
    for k, v in levels_raw.items():
        if v not in _LEVELS:
            raise FormatError(p, f"levels.{k}", f"{v!r} is not one of {', '.join(sorted(_LEVELS))}")
        levels[k.upper()] = v
    events = tuple(_event(p, i, e) for i, e in enumerate(raw.get("event", [])))
    fields_raw = raw.get("field", [])
    if not isinstance(fields_raw, list):
        raise FormatError(p, "field", "must be an array of tables ([[field]])")
    extractors = tuple(_field(p, i, x) for i, x in enumerate(fields_raw))
    samples_raw = raw.get("sample", [])
    if not isinstance(samples_raw, list) or not samples_raw:
        raise FormatError(p, "sample", "at least one [[sample]] is required")
    samples = tuple(_sample(p, i, s) for i, s in enumerate(samples_raw))
    links = []
    for i, lk in enumerate(raw.get("link", [])):
        entry = f"link[{i}]"
        if not isinstance(lk, dict):
            raise FormatError(p, entry, "must be a table")
        fld, src = lk.get("field"), lk.get("source")
        targets = _str_list(p, entry, "targets", lk.get("targets", []))
        if fld not in FIELD_COLUMNS:
            raise FormatError(p, entry, f"field {fld!r} is not an event column")
        if src not in _KINDS or not all(t in _KINDS for t in targets):
            raise FormatError(p, entry, "source and targets must be event kinds")
        links.append(Link(field=str(fld), source=str(src), targets=targets))
    return Format(
        name=name,
        family=raw["family"],
        title=raw["title"],
        description=raw["description"].strip(),
        urls=_str_list(p, "url", "url", raw.get("url", [])),
        path=str(p),
        file_patterns=_str_list(p, "file_patterns", "file_patterns", raw.get("file_patterns", [])),
        path_hints=_str_list(p, "path_hints", "path_hints", raw.get("path_hints", [])),
        headers=headers,
        levels=levels,
        events=events,
        samples=samples,
        links=tuple(links),
        builtin=builtin,
        fields=extractors,
        writer=raw.get("writer"),
    )
