"""Export logdoctor's formats as lnav format files, so lnav reads a bundle with logdoctor's kinds.

lnav (https://lnav.org) reads a log with the regexes of a JSON format file: each regex must match
a whole first line, name its parts (``timestamp``, ``level``, ``body``, values), and lnav
"locks on" to the regex that read the previous line, trying it first. logdoctor reads a record
with a header regex, then gives it the kind of the first event pattern (in file order) that
the message (and logger) matches. The export turns one into the other:

- one lnav format per logdoctor format, named ``logdoctor_<name>_log``;
- per header regex and per event pattern, one lnav regex: the header (``ts`` becomes
  ``timestamp``, ``msg`` becomes ``body``) with the event pattern as a lookahead at the start
  of the body (its named groups become lnav values: ``user``, ``client_id``...), the logger
  pattern as a lookahead at the start of the logger, and negative lookaheads for every earlier
  event and every earlier header: the regexes exclude each other, so lnav's lock-on cannot
  change which one reads a line, and "first match in file order" is kept;
- per header, a last regex for the records no event knows (``unrecognized``);
- each regex is named ``<kind>#<header>.<event>``: lnav's hidden ``log_format_regex`` column
  holds it, and ``logdoctor_kinds.sql`` adds a view ``logdoctor_<name>_kinds`` per format whose
  ``kind`` column is the part before ``#``;
- the level map, the timestamp formats (chrono directives translated to lnav's strftime) and
  the format's samples (lnav checks each one when it loads the file).

What lnav reads differently (approximations, also in the README):

- lnav matches the first line of a record only; an event pattern that logdoctor finds in a
  continuation line (a multi-line message) is not seen there, and ``(?m)`` patterns match at
  the start of the first line only;
- a logger pattern's ``^`` and ``$`` become "no logger character (letter, digit, ``_``, ``$``,
  ``.``) before / after", which is exact for the Java loggers of the built-in families;
- values are shown as written: logdoctor decodes percent-encoded values and reads ``-`` as
  empty, lnav does not; ``[[link]]`` fields (filled from a later record) are not exported;
- lnav shows times as written (no zone); logdoctor converts them to UTC with ``--tz``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from logdoctor.ingest.formats.regex_tokens import TokenKind, tokenize
from logdoctor.ingest.formats.types import EventPattern, Format, HeaderPattern
from logdoctor.timestamps import TimestampFormat

__all__ = ["LNAV_LEVELS", "file_pattern", "kinds_sql", "lnav_format", "lnav_name", "write_lnav"]

LNAV_LEVELS = {
    "TRACE": "trace",
    "DEBUG": "debug",
    "INFO": "info",
    "WARN": "warning",
    "ERROR": "error",
    "FATAL": "fatal",
}
"""logdoctor's normalized levels and lnav's level names."""

SCHEMA = "https://lnav.org/schemas/format-v1.schema.json"

_HEADER_NAMES = {"ts": "timestamp", "msg": "body"}
_LOGGER_CHARS = r"[\w$.]"
_FLAGS = re.compile(r"^\(\?([aiLmsux]+)\)")


def lnav_name(fmt: Format) -> str:
    """The lnav format (and SQL table) name of a format: ``logdoctor_<name>_log``."""
    return "logdoctor_" + re.sub(r"[^a-z0-9_]", "_", fmt.name) + "_log"


def _pcre(src: str, *, capture: bool, rename: dict[str, str] | None = None) -> str:
    """logdoctor's regex dialect as PCRE2: ``(?P<n>`` becomes ``(?<n>`` (or ``(?:`` when not
    ``capture``), ``\\Z`` becomes ``\\z``; classes and escapes are copied as they are."""
    out: list[str] = []
    for t in tokenize(src):
        if t.kind is TokenKind.NAMED:
            name = (rename or {}).get(t.name, t.name)
            out.append(f"(?<{name}>" if capture else "(?:")
        elif t.kind is TokenKind.ESCAPE and t.text == "\\Z" and not t.in_class:
            out.append("\\z")
        else:
            out.append(t.text)
    return "".join(out)


def _split_flags(src: str) -> tuple[str, str]:
    """Leading inline flags (those PCRE2 has: i, m, s, x) and the rest of a pattern."""
    flags = ""
    while m := _FLAGS.match(src):
        flags += "".join(f for f in m.group(1) if f in "imsx")
        src = src[m.end() :]
    return flags, src


def _body_check(e: EventPattern, *, capture: bool) -> str:
    """The event pattern as a lookahead at the start of the message."""
    flags, rest = _split_flags(e.regex.source)
    opts = f"(?{flags})" if flags else ""
    if rest.startswith("^"):
        inner = _pcre(rest[1:], capture=capture)
    else:
        src = _pcre(rest, capture=capture)
        at_start = _anchors(src, start="")
        if at_start == src:
            inner = ".*?(?:" + src + ")"
        else:
            # a ``^`` inside a searched pattern (``(?:^|\s)Event=``) is the start of the
            # message, which in lnav's line is where the header ends: one branch tries the
            # pattern there with ``^`` true, the other further on with ``^`` false; a branch
            # reset lets both branches hold the same capture groups
            later = _anchors(src, start="(?!)")
            inner = (
                f"(?|{at_start}|.*?(?:{later}))" if capture else f"(?:{at_start}|.*?(?:{later}))"
            )
    return f"(?={opts}{inner})"


def _logger_check(e: EventPattern) -> str:
    """The logger pattern as a lookahead at the start of the logger (search semantics)."""
    assert e.logger is not None
    flags, rest = _split_flags(e.logger.source)
    opts = f"(?{flags})" if flags else ""
    anchored = _anchors(
        _pcre(rest, capture=False), start=f"(?<!{_LOGGER_CHARS})", end=f"(?!{_LOGGER_CHARS})"
    )
    return f"(?={opts}{_LOGGER_CHARS}*?(?:{anchored}))"


def _anchors(src: str, *, start: str, end: str = "$") -> str:
    """``^`` and ``$`` outside classes replaced by ``start`` and ``end``."""
    out: list[str] = []
    for t in tokenize(src):
        if t.kind is TokenKind.CHAR and not t.in_class and t.text in ("^", "$"):
            out.append(start if t.text == "^" else end)
        else:
            out.append(t.text)
    return "".join(out)


def _prefix(h: HeaderPattern, *, capture: bool, logger: str = "") -> str:
    """The header regex without its message group; ``logger`` is put before the logger group.
    Without ``capture``, groups are non-capturing. The result has no leading ``^`` and is an
    atomic group."""
    src = h.prefix.source
    if logger:
        at = src.find("(?P<logger>")
        src = src[:at] + logger + src[at:] if at >= 0 else src
    out = _pcre(src, capture=capture, rename=_HEADER_NAMES)
    # atomic: the message starts where logdoctor's first match of the header ends, and no
    # backtracking may move that start to get around an exclusion
    return "(?>" + out.removeprefix("^") + ")"


def _logger_ok(h: HeaderPattern, e: EventPattern) -> bool:
    """False when the header has no logger and the event's logger pattern needs one."""
    if e.logger is None or "logger" in h.prefix.groups:
        return True
    return e.logger.py.search("") is not None


def _regexes(fmt: Format) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for hi, h in enumerate(fmt.headers):
        if h.untimed:
            continue
        has_logger = "logger" in h.prefix.groups
        # checks at the start of the line: not an earlier header's line, not a line of an
        # earlier event that needs its logger; at the start of the body: not an earlier event's
        at_start = [f"(?!{_prefix(fmt.headers[k], capture=False)})" for k in range(hi)]
        at_body: list[str] = []
        for e in (e for e in fmt.events if _logger_ok(h, e)):
            logger = _logger_check(e) if e.logger is not None and has_logger else ""
            head = _prefix(h, capture=True, logger=logger)
            pattern = (
                "^"
                + "".join(at_start)
                + head
                + "".join(at_body)
                + _body_check(e, capture=True)
                + "(?<body>.*)$"
            )
            out[f"{e.kind}#{hi}.{e.index}"] = {"pattern": pattern}
            body = _body_check(e, capture=False)
            if logger:
                at_start.append(f"(?!{_prefix(h, capture=False, logger=logger)}{body})")
            else:
                at_body.append(f"(?!{body})")
        head = _prefix(h, capture=True)
        out[f"unrecognized#{hi}"] = {
            "pattern": "^" + "".join(at_start) + head + "".join(at_body) + "(?<body>.*)$"
        }
    return out


def _timestamps(h: HeaderPattern) -> list[str]:
    out: list[str] = []
    for tf in h.timestamps:
        for s in _lnav_time(tf):
            if s not in out:
                out.append(s)
    return out


_DIRECT = {
    "%Y": "%Y",
    "%m": "%m",
    "%d": "%d",
    "%e": "%e",
    "%H": "%H",
    "%M": "%M",
    "%S": "%S",
    "%y": "%y",
    "%b": "%b",
    "%z": "%z",
    "%:z": "%z",
    "%#z": "%z",
    "%T": "%H:%M:%S",
    "%F": "%Y-%m-%d",
    "%%": "%%",
    "%3f": "%L",
    "%6f": "%f",
    "%9f": "%N",
    ".%3f": ".%L",
    "%.3f": ".%L",
    "%.6f": ".%f",
}


def _lnav_time(tf: TimestampFormat) -> list[str]:
    """lnav timestamp formats for one chrono format (``%.f``, an optional fraction of any
    length, becomes one format per length lnav knows, and one without)."""
    variants = [""]
    for part in re.split(r"(%[.:#]?[0-9]?[A-Za-z%])", tf.chrono):
        if not part:
            continue
        if part == "%.f":
            variants = [v + s for v in variants for s in (".%L", ".%f", ".%N", "")]
        elif part in _DIRECT:
            variants = [v + _DIRECT[part] for v in variants]
        else:
            variants = [v + part for v in variants]
    return variants


def _glob(pattern: str) -> str:
    """A file-name glob (``*``, ``?``, ``[...]``) as a regex over the last path component."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and "]" in pattern[i + 1 :]:
            j = pattern.index("]", i + 1)
            body = pattern[i + 1 : j]
            out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
            i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def file_pattern(fmt: Format) -> str:
    """lnav's ``file-pattern`` for a format: its file-name patterns or its path hints.

    lnav tries every format on a file and keeps the first that fits its first lines; logdoctor
    breaks ties between formats whose headers fit equally (the tolerant ssoApp header fits
    ssosp lines) by the file's name and path, so the export restricts each format to its files.
    """
    names = [_glob(p) for p in fmt.file_patterns]
    hints = [re.escape(h) for h in fmt.path_hints]
    alts = []
    if names:
        alts.append("(?:^|/)(?:" + "|".join(names) + ")$")
    alts += hints
    return "(?i)(?:" + "|".join(alts) + ")" if alts else ".*"


def lnav_format(fmt: Format) -> dict[str, Any]:
    """The lnav format definition (the value under the format's name) for one format."""
    levels: dict[str, list[str]] = {}
    for raw, norm in sorted(fmt.levels.items()):
        name = LNAV_LEVELS.get(norm)
        if name is not None:
            levels.setdefault(name, []).append(re.escape(raw))
    values: dict[str, dict[str, Any]] = {
        "thread": {"kind": "string", "identifier": True},
        "logger": {"kind": "string", "identifier": True},
    }
    for e in fmt.events:
        for g in e.regex.groups:
            values.setdefault(g, {"kind": "string", "identifier": True})
    used = {g for h in fmt.headers if not h.untimed for g in h.prefix.groups}
    values = {k: v for k, v in values.items() if k not in ("thread", "logger") or k in used}
    return {
        "title": f"logdoctor: {fmt.title}",
        "description": fmt.description,
        "url": fmt.urls[0] if fmt.urls else "",
        "file-pattern": file_pattern(fmt),
        "regex": _regexes(fmt),
        "timestamp-format": sorted({s for h in fmt.headers for s in _timestamps(h)}),
        "level-field": "level",
        "level": {k: "(?i)^(?:" + "|".join(v) + ")$" for k, v in levels.items()},
        "body-field": "body",
        "value": values,
        "sample": [{"line": s.text} for s in fmt.samples if lnav_reads_alike(fmt, s.text)],
    }


def lnav_reads_alike(fmt: Format, text: str) -> bool:
    """False for a sample lnav cannot read the way logdoctor does.

    That is a sample whose header has no time (lnav needs one on every message), or a
    multi-line sample whose first line is a header with nothing after it: lnav picks a line's
    regex from the first line alone, so CiscoSyslog's console form (the alarm on the next
    line) is one lnav cannot classify. lnav rejects the whole format when such a sample is
    listed, so the export leaves it out; logdoctor's own format check still runs it.
    """
    first, nl, _ = text.partition("\n")
    for h in fmt.headers:
        m = h.prefix.py.match(first)
        if m is not None:
            if h.untimed:
                return False
            return not nl or bool(first[m.end() :].strip())
    return True


def kinds_sql(formats: Sequence[Format]) -> str:
    """SQL run by lnav at start-up: a view per format with a ``kind`` column."""
    lines = [
        "-- logdoctor: the event kind of each line, from the name of the lnav regex that read",
        "-- it (<kind>#<header>.<event>). Written by `logdoctor formats export --lnav`.",
    ]
    for fmt in formats:
        table = lnav_name(fmt)
        view = table.removesuffix("_log") + "_kinds"
        lines += [
            f"DROP VIEW IF EXISTS {view};",
            f"CREATE VIEW {view} AS",
            "  SELECT log_line, log_time, log_level, log_path, log_format_regex,",
            "         substr(log_format_regex, 1, instr(log_format_regex, '#') - 1) AS kind, *",
            f"  FROM {table};",
        ]
    return "\n".join(lines) + "\n"


def write_lnav(formats: Sequence[Format], out_dir: str | Path) -> list[Path]:
    """Write one ``<lnav name>.json`` per format and ``logdoctor_kinds.sql`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in formats:
        doc = {"$schema": SCHEMA, lnav_name(fmt): lnav_format(fmt)}
        path = out / f"{lnav_name(fmt)}.json"
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    sql = out / "logdoctor_kinds.sql"
    sql.write_text(kinds_sql(formats), encoding="utf-8")
    written.append(sql)
    return written
