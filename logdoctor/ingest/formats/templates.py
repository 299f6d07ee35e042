"""Event templates: the writing side of the line contract, declared in ``parsers/*.toml``.

An ``[[event]]`` may declare ``template = "Access token issued: user={user} jti={token_id}"``.
A placeholder ``{col}`` names an event-table column (one of ``EXTRACT_COLUMNS``); a
placeholder ``{_word}`` is written but read into no column (``error={_error}``). When the event
gives no ``regex``, its regex is derived from the template (:func:`template_regex`: literals
escaped, each placeholder one token ``\\S+``, anchored at the message start); when it gives
both, the format check (:mod:`logdoctor.ingest.formats.templatecheck`) renders the template and
proves the
event reads back what was written. Several templated events of one kind tell themselves apart
with ``name = "..."`` (default: the kind).

A format's ``[writer]`` table says how logdoctor's writers put a whole line together::

    [writer]
    layout = "{ts} {level:<5} [{thread}] {logger} - {msg}"   # str.format fields
    stamps = { ts = "%Y-%m-%d %H:%M:%S,%3f" }                 # strftime, %3f milliseconds
    values = "percent"                                        # how a field value is encoded
    probe = { level = "INFO", thread = "main", logger = "x" } # header values the check uses

:class:`LineEncoder` (one per format, :func:`encoder`) is the one encoder every writer uses:
:meth:`LineEncoder.message` renders an event's message from its template, each value through
the family's value encoder; :meth:`LineEncoder.line` puts header and message together. Value
encoders keep a value from forging a field or a line: ``percent`` (one token, ``-`` for empty;
the parser decodes it), ``bracket`` (inside ``[Name=value]``), ``quoted`` (inside
``Name="value"``), ``text`` (free text on one line).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from logdoctor.table import FIELD_COLUMNS, NODE_FIELD

if TYPE_CHECKING:
    from logdoctor.ingest.formats.types import Format

__all__ = [
    "ENCODERS",
    "LineEncoder",
    "Stamp",
    "Template",
    "TemplateError",
    "bracket",
    "encoder",
    "parse_template",
    "percent",
    "quoted",
    "template_regex",
    "text",
]

COLUMNS: tuple[str, ...] = (*FIELD_COLUMNS, NODE_FIELD)
"""Columns a placeholder may name (the columns an event pattern may fill)."""

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"_?[a-z][a-z0-9_]*")
_SPECIAL = re.compile(r"([\\.^$*+?{}\[\]|()])")


class TemplateError(ValueError):
    """A template or a ``[writer]`` table is invalid, or a render was given the wrong fields."""


# -- value encoders -------------------------------------------------------------------------------

_SAFE = re.compile(r"[A-Za-z0-9_.~:@,-]+")


def percent(value: object) -> str:
    """One log token for ``value``: percent-encoded, ``-`` for empty or None (the parser
    decodes it; no space, quote, ``=``, ``%``, control character or newline survives)."""
    if value is None:
        return "-"
    s = str(value)
    if not s:
        return "-"
    if s == "-":
        return "%2D"
    if (s.isascii() and s.isalnum()) or _SAFE.fullmatch(s):
        return s
    return quote(s, safe=":@,")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def text(value: object) -> str:
    """``value`` as free text on one line (control characters and newlines become a space)."""
    return "" if value is None else _CONTROL.sub(" ", str(value)).strip()


def bracket(value: object) -> str:
    """``value`` inside an alarm parameter ``[Name=value]`` (no bracket, one line)."""
    return text(value).replace("[", "(").replace("]", ")")


def quoted(value: object) -> str:
    """``value`` inside ``Name="value"`` (no double quote, one line)."""
    return text(value).replace('"', "'")


ENCODERS: Mapping[str, Callable[[object], str]] = {
    "percent": percent,
    "text": text,
    "bracket": bracket,
    "quoted": quoted,
}
"""Value encoders by the name a ``[writer]`` table's ``values`` gives."""


# -- templates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A parsed template: ``literals[0] {names[0]} literals[1] ... {names[-1]} literals[-1]``."""

    source: str
    literals: tuple[str, ...]
    names: tuple[str, ...]
    """Placeholders as written (``user``, ``_error``)."""
    keys: tuple[str, ...]
    """The keyword each placeholder is rendered from (``_error`` -> ``error``)."""
    _fmt: str = field(init=False, repr=False, compare=False)
    """The literals joined by ``{}`` (a literal holds no brace): one ``str.format`` renders."""
    _keyset: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_fmt", "{}".join(self.literals))
        object.__setattr__(self, "_keyset", frozenset(self.keys))

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns it fills when read back."""
        return tuple(n for n in self.names if not n.startswith("_"))

    def render(self, values: Mapping[str, object], encode: Callable[[object], str]) -> str:
        """The message with each placeholder's value encoded; every key must be given, no other."""
        if values.keys() != self._keyset:
            missing = [k for k in self.keys if k not in values]
            extra = sorted(set(values) - set(self.keys))
            raise TemplateError(
                f"template {self.source!r}: "
                + (f"missing {', '.join(missing)}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"no placeholder for {', '.join(extra)}" if extra else "")
            )
        return self._fmt.format(*[encode(values[k]) for k in self.keys])


def parse_template(source: str) -> Template:
    """Parse a template; raises TemplateError naming the problem."""
    if not isinstance(source, str) or not source:
        raise TemplateError("template must be a non-empty string")
    literals: list[str] = []
    names: list[str] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(source):
        literals.append(source[pos : m.start()])
        name = m.group(1)
        if not _NAME.fullmatch(name):
            raise TemplateError(f"placeholder {{{name}}}: a column name or _word")
        if not name.startswith("_") and name not in COLUMNS:
            raise TemplateError(
                f"placeholder {{{name}}} is not an event column (allowed: {', '.join(COLUMNS)}; "
                "{_word} for a value read into no column)"
            )
        if name in names:
            raise TemplateError(f"placeholder {{{name}}} appears twice")
        names.append(name)
        pos = m.end()
    literals.append(source[pos:])
    if any("{" in lit or "}" in lit for lit in literals):
        raise TemplateError("unbalanced { or } (a template's braces are placeholders only)")
    for lit in literals[1:-1]:
        if not lit:
            raise TemplateError("two placeholders with nothing between them cannot be read back")
    keys = tuple(n.removeprefix("_") for n in names)
    if len(set(keys)) != len(keys):
        raise TemplateError("a placeholder is given both as {x} and {_x}")
    return Template(source=source, literals=tuple(literals), names=tuple(names), keys=keys)


def _escape(literal: str) -> str:
    return _SPECIAL.sub(r"\\\1", literal)


def template_regex(t: Template) -> str:
    """The event regex a template stands for: ``^`` + escaped literals, each column placeholder
    ``(?P<col>\\S+)``, each ``{_word}`` ``\\S+`` (the shape
    :func:`logdoctor.ingest.formats.types.split_plan`
    cuts by splitting on spaces)."""
    out = ["^", _escape(t.literals[0])]
    for name, lit in zip(t.names, t.literals[1:], strict=True):
        out.append(r"\S+" if name.startswith("_") else rf"(?P<{name}>\S+)")
        out.append(_escape(lit))
    return "".join(out)


# -- time stamps ----------------------------------------------------------------------------------


class Stamp:
    """A writer's time stamp: strftime directives plus ``%3f`` (milliseconds). Formats a naive
    ``datetime`` (the wall clock to write) or a POSIX time (written as its UTC wall clock)."""

    def __init__(self, spec: str) -> None:
        if spec.count("%3f") > 1:
            raise TemplateError(f"stamp {spec!r}: %3f at most once")
        head, sep, tail = spec.partition("%3f")
        self.spec = spec
        self._head = head
        self._tail = tail
        self._ms = bool(sep)
        self._cache: tuple[int, str] = (-1, "")
        """(second, its formatted head): one tuple, so threads never see half an update."""

    def format(self, when: datetime | float) -> str:
        """The stamp of ``when``."""
        if isinstance(when, datetime):
            head = when.strftime(self._head)
            if not self._ms:
                return head
            return f"{head}{when.microsecond // 1000:03d}{when.strftime(self._tail)}"
        sec = int(when // 1)
        cached_sec, head = self._cache
        if sec != cached_sec:  # most lines of a busy log share their second
            head = time.strftime(self._head, time.gmtime(sec))
            self._cache = (sec, head)
        if not self._ms:
            return head
        ms = int((when - sec) * 1000)
        if not self._tail:
            return f"{head}{ms:03d}"
        return f"{head}{ms:03d}{time.strftime(self._tail, time.gmtime(sec))}"


# -- the encoder ----------------------------------------------------------------------------------


@dataclass
class LineEncoder:
    """Renders messages and whole lines of one format (see the module docstring)."""

    family: str
    templates: Mapping[str, Template]
    """Template by event name (``name``, else the kind)."""
    layout: str | None = None
    stamps: Mapping[str, Stamp] = field(default_factory=dict)
    values: Callable[[object], str] = percent
    probe: Mapping[str, str] = field(default_factory=dict)

    def template(self, name: str) -> Template:
        """The template of event ``name``; TemplateError if the format has none."""
        t = self.templates.get(name)
        if t is None:
            raise TemplateError(
                f"{self.family}: no templated event {name!r} (templated: "
                f"{', '.join(sorted(self.templates)) or 'none'})"
            )
        return t

    def message(self, name: str, /, **fields: object) -> str:
        """The message of event ``name`` with ``fields`` (keywords: its placeholders' keys)."""
        return self.template(name).render(fields, self.values)

    def line(self, msg: str, /, **header: object) -> str:
        """One whole line (no newline): the ``[writer]`` layout with ``msg`` and the header
        values; a stamp field given as a datetime or POSIX time is formatted by its stamp."""
        if self.layout is None:
            raise TemplateError(f"{self.family}: the format has no [writer] layout")
        values: dict[str, object] = {}
        for k, v in header.items():
            stamp = self.stamps.get(k)
            if stamp is not None and isinstance(v, (datetime, float, int)):
                v = stamp.format(v)
            values[k] = v
        values["msg"] = msg
        try:
            return self.layout.format_map(values)
        except KeyError as exc:
            raise TemplateError(f"{self.family}: layout needs {exc.args[0]!r}") from None

    def render(self, name: str, /, header: Mapping[str, object], **fields: object) -> str:
        """:meth:`line` of :meth:`message`: event ``name``'s whole line."""
        return self.line(self.message(name, **fields), **header)


def _writer(family: str, raw: Any) -> tuple[str | None, dict[str, Stamp], str, dict[str, str]]:
    if raw is None:
        return None, {}, "percent", {}
    if not isinstance(raw, dict):
        raise TemplateError("[writer] must be a table")
    unknown = set(raw) - {"layout", "stamps", "values", "probe"}
    if unknown:
        raise TemplateError(f"[writer]: unknown keys: {', '.join(sorted(unknown))}")
    layout = raw.get("layout")
    if not isinstance(layout, str) or "{msg}" not in layout:
        raise TemplateError("[writer] layout must be a string with a {msg} field")
    stamps_raw = raw.get("stamps", {})
    if not isinstance(stamps_raw, dict) or not all(isinstance(v, str) for v in stamps_raw.values()):
        raise TemplateError("[writer] stamps must be a table of strftime strings")
    values = raw.get("values", "percent")
    if values not in ENCODERS:
        raise TemplateError(f"[writer] values must be one of {', '.join(ENCODERS)}")
    probe = raw.get("probe", {})
    if not isinstance(probe, dict) or not all(isinstance(v, str) for v in probe.values()):
        raise TemplateError("[writer] probe must be a table of strings")
    stamps = {k: Stamp(v) for k, v in stamps_raw.items()}
    return layout, stamps, str(values), dict(probe)


def build_encoder(fmt: Format) -> LineEncoder:
    """A new encoder for ``fmt`` (TemplateError when its ``[writer]`` table or two event names
    clash)."""
    templates: dict[str, Template] = {}
    for e in fmt.events:
        if e.template is None:
            continue
        name = e.name or e.kind
        if name in templates:
            raise TemplateError(
                f"event[{e.index}] ({e.kind}): another templated event is named {name!r}; "
                'give each a distinct name = "..."'
            )
        templates[name] = parse_template(e.template)
    layout, stamps, values, probe = _writer(fmt.family, fmt.writer)
    return LineEncoder(
        family=fmt.family,
        templates=templates,
        layout=layout,
        stamps=stamps,
        values=ENCODERS[values],
        probe=probe,
    )


_ENCODERS: dict[int, tuple[Format, LineEncoder]] = {}


def encoder(fmt: Format) -> LineEncoder:
    """The encoder of ``fmt`` (built once per format object)."""
    hit = _ENCODERS.get(id(fmt))
    if hit is not None and hit[0] is fmt:
        return hit[1]
    enc = build_encoder(fmt)
    _ENCODERS[id(fmt)] = (fmt, enc)
    return enc
