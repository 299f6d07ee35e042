"""The event table: its columns, their documentation and types (pandas for users, polars
inside), the empty table, per-file parse statistics and the one ISO 8601 time formatter.

Ground floor: imports nothing of logdoctor but :mod:`logdoctor.timestamps`. The parse
engines fill tables of :data:`POLARS_SCHEMA`; :mod:`logdoctor.ingest.load` hands
:data:`DTYPES` (pandas) to users.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from logdoctor.timestamps import Zone, offset_text

__all__ = [
    "CATEGORICAL_COLUMNS",
    "COLUMNS",
    "COLUMN_DOC",
    "DTYPES",
    "FIELD_COLUMNS",
    "HEADER_FIELDS",
    "NODE_FIELD",
    "POLARS_SCHEMA",
    "ParseStats",
    "empty_frame",
    "iso",
]

FIELD_COLUMNS: tuple[str, ...] = (
    "user",
    "client_id",
    "device",
    "token_id",
    "grant",
    "reason",
    "key",
    "server",
    "param",
    "value",
    "agent",
)
"""Columns an event pattern may fill from its named groups."""

COLUMNS: tuple[str, ...] = (
    "time",
    "node",
    "family",
    "file",
    "line",
    "level",
    "thread",
    "logger",
    "kind",
    "basis",
    *FIELD_COLUMNS,
    "message",
)
"""Event table columns, in order. One row per log record (header line + continuation lines)."""


CATEGORICAL_COLUMNS: tuple[str, ...] = (
    "node",
    "family",
    "file",
    "level",
    "kind",
    "basis",
    "thread",
    "logger",
    "grant",
    "server",
    "client_id",
    "key",
    "reason",
    "param",
    "value",
    "agent",
    "user",
    "device",
)
"""Columns that the rule context holds as polars ``Categorical`` (4 bytes a row instead of a
16-byte string view, which a null costs too): those of few distinct values, the mostly null
ones (reason, param, value, agent) and the names of users and devices (thousands, repeated on
every line of theirs). They compare, sort, min / max and ``is_in`` as their text; a join with
a String column, a ``.str`` operation or a cast to a number needs a cast to String first.
``token_id`` and ``message`` stay String: their values are mostly unique."""


HEADER_FIELDS: tuple[str, ...] = ("ts", "level", "thread", "logger", "msg", "node", "local")
"""Named groups a header regex may use (``ts`` and ``msg`` are required). ``node``: the host
the line names (it replaces the node of the bundle layout); ``local``: the same moment as
``ts`` in the node's local time, without a year (gives the node's UTC offset)."""

NODE_FIELD = "node"
"""The one column besides FIELD_COLUMNS that a ``[[field]]`` extractor may fill: the node a
line names (CiscoSyslog ``NodeID``, an Expressway host) replaces the bundle layout's."""

COLUMN_DOC: Mapping[str, str] = {
    "time": "When the record was written, converted to UTC (tz-aware).",
    "node": "The node that wrote the record: the one the line names (CiscoSyslog NodeID, an "
    "Expressway host), else the one of the bundle layout (or --node).",
    "family": "Log family: ssoapp, ssosp, certmgmt, ciscosyslog, jabber, expressway, auditapp.",
    "file": "The file the record came from (archive members as archive!member).",
    "line": "1-based line number of the record's first line in its file.",
    "level": "Normalized level: TRACE, DEBUG, INFO, WARN, ERROR, FATAL.",
    "thread": "Thread name, e.g. http-bio-8443-exec-12.",
    "logger": "Logger (category) as written, e.g. authentication.SAMLAuthenticator.",
    "kind": "Event kind (see `logdoctor kinds`), or unrecognized.",
    "basis": "How well-founded the pattern that recognized the record is: published (a "
    "verbatim public line backs it), documented (the behaviour is, the wording is modelled) "
    "or modelled; empty for unrecognized records.",
    "user": "End user (or admin) the record concerns.",
    "client_id": "OAuth client id (C + 64 hex for Jabber).",
    "device": "Device name (CSF..., TCT..., BOT..., TAB...).",
    "token_id": "Token identifier: access-token jti, refresh-token tid or its index.",
    "grant": "OAuth grant or response type: authorization_code, refresh_token, implicit, code.",
    "reason": "Why something failed or happened: error code, check name, an alarm's "
    "Reason / ErrorDetails / Message, an HTTP status (Jabber, Expressway response).",
    "key": "Key checksum or kid that signed / encrypted / validated the token; what names the "
    "record otherwise: a CiscoSyslog alarm's name, an Expressway Txn-id or alarm Id, Allowed or "
    "Denied for MRA access, an audit EventType.",
    "server": "Server that validated or proxied: IM&P, Unity Connection, Expressway, UCM node.",
    "param": "Parameter, key use, certificate unit or service name the record is about; an "
    "HTTP method (Expressway), the function that logged (Jabber).",
    "value": "New value of param, or a count; an HTTP path (Expressway), an alarm's state "
    "(Raised, Lowered), an audit event's status.",
    "agent": "Client software as declared by the client (e.g. Jabber/14.1 Windows).",
    "message": "The record's message text, continuation lines included.",
}

STRING_DTYPE = "str"
CATEGORY_DTYPE = "category"
TIME_DTYPE = "datetime64[us, UTC]"

DTYPES: Mapping[str, str] = {
    "time": TIME_DTYPE,
    "node": CATEGORY_DTYPE,
    "family": CATEGORY_DTYPE,
    "file": CATEGORY_DTYPE,
    "line": "int64",
    "level": CATEGORY_DTYPE,
    "thread": STRING_DTYPE,
    "logger": STRING_DTYPE,
    "kind": CATEGORY_DTYPE,
    "basis": CATEGORY_DTYPE,
    **{c: STRING_DTYPE for c in FIELD_COLUMNS},
    "message": STRING_DTYPE,
}
"""pandas dtype of each column of the event table handed to users."""


@dataclass
class ParseStats:
    """What happened to one input file: counts that reconcile with its lines.

    Invariant: ``lines == record_lines + malformed``, where ``record_lines`` counts the lines
    folded into records (each record's header plus its continuation lines).
    """

    path: str
    family: str | None = None
    node: str | None = None
    bytes: int = 0
    lines: int = 0
    records: int = 0
    record_lines: int = 0
    malformed: int = 0
    unrecognized: int = 0
    decode_errors: int = 0
    bad_timestamps: int = 0
    nul_bytes: int = 0
    """NUL bytes removed from lines (the hole a writer leaves after a truncation); a line of
    nothing but NULs is dropped and not counted in ``lines``."""
    truncated: int = 0
    """Records (or malformed lines) whose text was cut to ``parse.MAX_RECORD_BYTES``."""
    first_time: datetime | None = None
    last_time: datetime | None = None
    kinds: dict[str, int] = field(default_factory=dict)
    malformed_lines: list[int] = field(default_factory=list)
    utc_offsets: dict[str, int] = field(default_factory=dict)
    """For a file whose records state two clocks (CiscoSyslog: the node's local time and UTC):
    the node's UTC offsets they show (``+02:00``), with how many records show each."""
    zone_from: str | None = None
    """For a file whose times carry no zone, read in the zone another file of its node states
    (see :mod:`logdoctor.ingest.clocks`): that file."""
    error: str | None = None
    """Why nothing of the file could be read."""
    partial: str | None = None
    """Why only the first part of the file could be read (a truncated compressed file); the
    counts are those of that part, and the file is also listed among the input errors."""

    MALFORMED_LINES_KEPT = 1000
    """At most this many malformed line numbers are listed (the count is always exact)."""

    @property
    def utc_offset(self) -> str | None:
        """The node's UTC offset most of the file's records state (None: they state none)."""
        if not self.utc_offsets:
            return None
        return max(sorted(self.utc_offsets), key=lambda k: self.utc_offsets[k])

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by ``logdoctor stats``."""
        out: dict[str, Any] = {
            "path": self.path,
            "family": self.family,
            "node": self.node,
            "bytes": self.bytes,
            "lines": self.lines,
            "records": self.records,
            "malformed": self.malformed,
            "unrecognized": self.unrecognized,
            "decode_errors": self.decode_errors,
            "bad_timestamps": self.bad_timestamps,
            "nul_bytes": self.nul_bytes,
            "truncated": self.truncated,
            "first_time": iso(self.first_time),
            "last_time": iso(self.last_time),
            "kinds": dict(sorted(self.kinds.items())),
            "malformed_lines": list(self.malformed_lines),
            "utc_offset": self.utc_offset,
        }
        if len(self.utc_offsets) > 1:
            out["utc_offsets"] = dict(sorted(self.utc_offsets.items()))
        if self.zone_from is not None:
            out["zone_from"] = self.zone_from
        if self.error is not None:
            out["error"] = self.error
        if self.partial is not None:
            out["partial"] = self.partial
        return out


if TYPE_CHECKING:
    import polars as pl

    POLARS_SCHEMA: dict[str, pl.DataType]
    """The event table inside the engines (polars); :mod:`logdoctor.ingest.load` hands pandas
    (:data:`DTYPES`) to users. Made on first use: polars is imported only by commands that
    need it (``kinds`` and a cache hit of the compiled formats do not)."""


def _polars_schema() -> dict[str, pl.DataType]:
    """:data:`POLARS_SCHEMA`, made once (polars imported then)."""
    import polars as pl

    schema: dict[str, pl.DataType] | None = globals().get("POLARS_SCHEMA")
    if schema is None:
        schema = {
            "time": pl.Datetime("us", "UTC"),
            **{c: pl.Int64() if c == "line" else pl.String() for c in COLUMNS if c != "time"},
        }
        globals()["POLARS_SCHEMA"] = schema
    return schema


def __getattr__(name: str) -> object:
    """:data:`POLARS_SCHEMA`, made on first use."""
    if name != "POLARS_SCHEMA":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _polars_schema()


def empty_frame() -> pl.DataFrame:
    """An event table with no rows and the full schema."""
    import polars as pl

    return pl.DataFrame(schema=_polars_schema())


def iso(
    t: datetime | None,
    zone: Zone | None = None,
    *,
    precision: Literal["exact", "ms"] = "exact",
) -> str | None:
    """ISO 8601 text of a time, the one formatter of every writer; None for None.

    UTC with ``Z`` (``2026-11-20T08:45:00.500Z``), or in ``zone`` with its offset
    (``2026-11-20T03:45:00.500-05:00``). ``precision``: ``"exact"`` writes milliseconds, or
    microseconds when the time has finer digits (event exports, stats, the tail's JSONL);
    ``"ms"`` always milliseconds, finer digits cut (findings documents, SARIF, JUnit). A naive
    time is taken as UTC.
    """
    if t is None:
        return None
    aware = t if t.tzinfo is not None else t.replace(tzinfo=UTC)
    local = aware.astimezone(UTC if zone is None else zone.tz)
    text = local.strftime("%Y-%m-%dT%H:%M:%S.")
    if precision == "exact" and local.microsecond % 1000:
        text += f"{local.microsecond:06d}"
    else:
        text += f"{local.microsecond // 1000:03d}"
    return text + ("Z" if zone is None else offset_text(local.utcoffset()))
