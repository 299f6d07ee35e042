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

The compiled values (:class:`Format`, its patterns and samples) live in
:mod:`logdoctor.ingest.formats.types`. A key=value event may declare a
*template* from which its regex is derived (:mod:`logdoctor.ingest.formats.templates`); the
engines read the compiled patterns only, never the template.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import polars as pl

from logdoctor.ingest.formats.templates import (
    TemplateError,
    parse_template,
    template_regex,
)
from logdoctor.ingest.formats.types import (
    EXTRACT_COLUMNS,
    EventPattern,
    FieldPattern,
    Format,
    FormatError,
    HeaderPattern,
    Link,
    Regex,
    Sample,
    split_plan,
)
from logdoctor.ingest.regexes import literal_prefix, to_python, to_rust
from logdoctor.model import Basis, EventKind, Level, is_event_kind
from logdoctor.table import FIELD_COLUMNS, HEADER_FIELDS
from logdoctor.timestamps import TimestampFormat, TimestampFormatError, resolve_zone

__all__ = ["load_format"]

_KINDS = {k.value for k in EventKind}
_LEVELS = {lv.value for lv in Level}
_BASES = tuple(b.value for b in Basis)


def _known_keys(path: Path, entry: str, raw: dict[str, Any], allowed: set[str]) -> None:
    """Refuse an entry with keys outside ``allowed``, naming them."""
    unknown = set(raw) - allowed
    if unknown:
        raise FormatError(path, entry, f"unknown keys: {', '.join(sorted(unknown))}")


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
    return Regex(source=source, rust=rust, groups=tuple(py.groupindex))


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
    _known_keys(path, entry, raw, {"regex", "timestamp", "zone", "untimed"})
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


def _event_regex(path: Path, entry: str, template: Any, source: Any) -> Regex:
    """An event's regex: its own, else the one its template derives; groups are columns."""
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
    return rx


def _consts(path: Path, entry: str, consts: Any, rx: Regex) -> dict[str, str]:
    """An event's ``set`` table: columns it fills with a constant (not also regex groups)."""
    if not isinstance(consts, dict) or not all(isinstance(v, str) for v in consts.values()):
        raise FormatError(path, entry, "set must be a table of strings")
    for k in consts:
        if k not in EXTRACT_COLUMNS:
            raise FormatError(path, entry, f"set.{k} is not an event column")
        if k in rx.groups:
            raise FormatError(path, entry, f"set.{k} is also a regex group; keep one")
    return dict(consts)


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
    rx = _event_regex(path, entry, template, raw.get("regex"))
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
    consts = _consts(path, entry, raw.get("set", {}), rx)
    name = raw.get("name")
    if name is not None and (not isinstance(name, str) or template is None):
        raise FormatError(path, entry, "name must be a string, on a templated event")
    _known_keys(
        path,
        entry,
        raw,
        {"kind", "regex", "logger", "set", "description", "basis", "template", "name"},
    )
    return EventPattern(
        index=i,
        kind=kind,
        regex=rx,
        logger=logger,
        set=consts,
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
    _known_keys(path, entry, raw, {"regex", "kinds", "description"})
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


def _read_toml(p: Path) -> dict[str, Any]:
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise FormatError(p, "file", f"cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(p, "file", f"not valid TOML: {exc}") from None


def _levels(p: Path, levels_raw: Any) -> dict[str, str]:
    """The level map: every normalized level as itself, plus the file's RAW = NORMALIZED."""
    if not isinstance(levels_raw, dict):
        raise FormatError(p, "levels", "must be a table RAW = NORMALIZED")
    levels: dict[str, str] = {lv: lv for lv in _LEVELS}
    for k, v in levels_raw.items():
        if v not in _LEVELS:
            raise FormatError(p, f"levels.{k}", f"{v!r} is not one of {', '.join(sorted(_LEVELS))}")
        levels[k.upper()] = v
    return levels


def _links(p: Path, raw_links: Any) -> tuple[Link, ...]:
    """The ``[[link]]`` entries."""
    links = []
    for i, lk in enumerate(raw_links):
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
    return tuple(links)


def load_format(path: str | Path, *, builtin: bool = False) -> Format:
    """Load and compile one format file (samples are checked by :func:`load_formats`)."""
    p = Path(path)
    raw = _read_toml(p)
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
    levels = _levels(p, raw.get("levels", {}))
    events = tuple(_event(p, i, e) for i, e in enumerate(raw.get("event", [])))
    fields_raw = raw.get("field", [])
    if not isinstance(fields_raw, list):
        raise FormatError(p, "field", "must be an array of tables ([[field]])")
    extractors = tuple(_field(p, i, x) for i, x in enumerate(fields_raw))
    samples_raw = raw.get("sample", [])
    if not isinstance(samples_raw, list) or not samples_raw:
        raise FormatError(p, "sample", "at least one [[sample]] is required")
    samples = tuple(_sample(p, i, s) for i, s in enumerate(samples_raw))
    links = _links(p, raw.get("link", []))
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
        links=links,
        builtin=builtin,
        fields=extractors,
        writer=raw.get("writer"),
    )
