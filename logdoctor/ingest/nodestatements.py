"""Node statements: the lines and file names in which a node states its own name.

Part of node identity (:mod:`logdoctor.ingest.nodes`, step 2 of its docstring): the evidence
that :func:`logdoctor.ingest.nodes.identify` joins with the layout's names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import NamedTuple

import polars as pl

from logdoctor.ingest.nodenames import is_ip, node_from_path
from logdoctor.ingest.regexes import to_rust

__all__ = [
    "FILE_NAME_SOURCES",
    "IDENTITY_SOURCES",
    "STRONG",
    "FileNameSource",
    "IdentitySource",
    "Statement",
    "family_literals",
    "file_statements",
    "has_host_name",
    "identity_literals",
    "named_files",
    "statement_frame",
    "statements",
]

# -- statements ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentitySource:
    """A kind of line in which a node states its own name.

    This is the hook for log families that carry host names (CiscoSyslog ``host`` and
    ``NodeID``, an Expressway log's host): add an entry naming the family, a text every such
    line holds, and where the name is: an event-table column (with the kinds that carry it)
    or a regex on the message whose group 1 is the name.
    """

    label: str
    family: str
    literal: str
    """Text every such line holds (with ``column``: the message starts with it). A file
    without it holds no such line: a streaming load skips it when it learns node names."""
    kinds: tuple[str, ...] = ()
    """Event kinds that carry it (empty: any kind of the family)."""
    column: str | None = None
    """Column of the event table holding the name."""
    pattern: str | None = None
    """Regex on the message; group 1 is the name (instead of ``column``)."""
    weight: int = 1
    """How strongly it names the node (the strongest statement of a node wins)."""
    layout: bool = False
    """The statement is about the node of the file's folder (:func:`node_from_path`), for a
    family whose lines set their own node column (CiscoSyslog's NodeID)."""


IDENTITY_SOURCES: tuple[IdentitySource, ...] = (
    # CiscoSyslog alarms name the node that raised them (NodeID; document 214607): the folder
    # holding the file is that node.
    IdentitySource(
        "syslog alarm NodeID",
        "ciscosyslog",
        "NodeID",
        pattern=r"\[\s*NodeID\s*=\s*([A-Za-z0-9][A-Za-z0-9_.-]*)\s*\]",
        weight=3,
        layout=True,
    ),
    # logdoctor's validation line form: the validating server writes its own name.
    IdentitySource(
        "token validation",
        "ssosp",
        "Token validat",
        ("token.validated", "token.rejected"),
        column="server",
    ),
    # Cisco's SPSSOFederate trace (TN-217268): the node's own SAML assertion consumer URL and
    # its SP entity id (the node's FQDN; in cluster-wide SSO it may be the publisher's, which
    # the "stated by several folders" rule of identify() then drops).
    IdentitySource(
        "SAML consumer URL",
        "ssosp",
        "AssertionConsumerService",
        pattern=r"AssertionConsumerService\s*:\s*URL\s*:\s*https?://([A-Za-z0-9][A-Za-z0-9.-]*)",
        weight=3,
    ),
    IdentitySource(
        "SAML entity id",
        "ssosp",
        "spEntityID",
        pattern=r"spEntityID is\s*:\s*([A-Za-z0-9][A-Za-z0-9.-]*)",
        weight=2,
    ),
    # Cisco's certificate trace (TN-210541): the address of the node whose certificate it is.
    IdentitySource(
        "certificate address",
        "certmgmt",
        "ipAddress",
        pattern=r"ipAddress\s*:\s*(\d{1,3}(?:\.\d{1,3}){3})\b",
    ),
)
"""Lines in which a node states its own name (see :class:`IdentitySource`)."""


def identity_literals() -> tuple[bytes, ...]:
    """The texts a line must hold to state a node's name (UTF-8): a file with none of them
    holds no statement."""
    return tuple(dict.fromkeys(src.literal.encode("utf-8") for src in IDENTITY_SOURCES))


def family_literals(family: str) -> tuple[str, ...]:
    """The texts a line of ``family`` must hold to state a node's name (none: its lines
    state none); :func:`statement_frame` reads no other line of the family."""
    return tuple(dict.fromkeys(s.literal for s in IDENTITY_SOURCES if s.family == family))


@dataclass(frozen=True)
class FileNameSource:
    """A file name that carries the name of the node it comes from."""

    label: str
    pattern: str
    """Regex on the file's base name; group ``node`` is the name."""
    weight: int = 3


FILE_NAME_SOURCES: tuple[FileNameSource, ...] = (
    # RTMT 15 administration guide: PerfMon_<node>_<month>_<day>_<year>_<hour>_<minute>.csv
    FileNameSource(
        "PerfMon file name", r"^PerfMon_(?P<node>.+)_\d{2}_\d{2}_\d{4}_\d{2}_\d{2}\.csv(?:\.gz)?$"
    ),
    # Expressway's diagnostic log: loggingsnapshot_<Expressway-HostName>_<Date>.txt (the
    # Expressway administrator guide); the date's form varies, so anything from the first
    # "_<digit>" on.
    FileNameSource(
        "Expressway loggingsnapshot file name",
        r"^loggingsnapshot_(?P<node>[A-Za-z0-9][A-Za-z0-9.-]*?)_\d[^/]*\.(?:txt|log)(?:\.gz)?$",
    ),
)
"""File names that state their node's name (for families that keep such files)."""


STRONG = 3
"""Weight of a statement that may rename a folder named by host name (a SAML consumer URL,
a PerfMon file name; CiscoSyslog's NodeID when it is read). Weaker ones (logdoctor's own line
forms, an SP entity id that may be the cluster's) only name folders that have no host name:
an IP address, or no folder at all."""


def has_host_name(name: str) -> bool:
    """True for a name that is neither an IP address nor ``unknown``."""
    return not is_ip(name) and name != "unknown"


class Statement(NamedTuple):
    """Lines of one node (``node``: its layout name) stating that its name is ``name``."""

    node: str
    name: str
    weight: int
    lines: int
    source: str


_STATEMENT_SCHEMA = {
    "node": pl.String(),
    "name": pl.String(),
    "weight": pl.Int64(),
    "count": pl.Int64(),
    "source": pl.String(),
}


_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.:-]{0,252})$")
"""What a stated node name may be: a host name, an FQDN or an IP address (log text is
attacker-controlled; anything else is not taken as a name)."""


def _clean_name(name: str | None) -> str | None:
    if name is None:
        return None
    name = name.strip().strip("[]").rstrip(".")
    return name if _NAME.match(name) else None


def statement_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``frame`` that state a node's name, counted per node and name (columns
    node, name, weight, count, source); small, to be kept while a load streams."""
    parts = []
    if frame.height:
        for src in IDENTITY_SOURCES:
            # Only the columns read here are filtered (the event table has some 25).
            want = ["family", "kind", "message", "node", "file", src.column]
            rows = frame.select(
                # As text: the rule context holds these as Categorical, and the layout
                # join and the concatenation below are of String columns.
                pl.col(c).cast(pl.String) if c in ("node", "file", src.column) else pl.col(c)
                for c in want
                if c is not None and c in frame.columns
            )
            rows = rows.filter(pl.col("family") == src.family)
            if src.kinds:
                rows = rows.filter(pl.col("kind").is_in(list(src.kinds)))
            if src.column is not None:
                rows = rows.filter(pl.col("message").str.starts_with(src.literal))
                name = pl.col(src.column)
            else:
                assert src.pattern is not None
                rows = rows.filter(pl.col("message").str.contains(src.literal, literal=True))
                # The formats' dialect: ASCII digits, spaces and word boundaries.
                name = pl.col("message").str.extract(to_rust(src.pattern), 1)
            if rows.height == 0:
                continue
            node = pl.col("node")
            if src.layout and "file" in rows.columns:
                rows = _with_layout_nodes(rows)
                node = pl.coalesce("_layout", "node")
            parts.append(
                rows.select(node.alias("node"), name.alias("name"))
                .drop_nulls()
                .group_by("node", "name")
                .len("count")
                .with_columns(
                    pl.lit(src.weight, dtype=pl.Int64).alias("weight"),
                    pl.lit(src.label).alias("source"),
                    pl.col("count").cast(pl.Int64),
                )
                .select(list(_STATEMENT_SCHEMA))
            )
    if not parts:
        return pl.DataFrame(schema=_STATEMENT_SCHEMA)
    return pl.concat(parts, how="vertical")


def _with_layout_nodes(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with column ``_layout``: the node of each row's file by its folder
    (:func:`node_from_path`, the row's own node where the path names none), decided once
    per distinct file and node (a file may hold lines of several hosts)."""
    pairs = [
        (f, n, node_from_path(f, n))
        for f, n in rows.select("file", "node").unique().iter_rows()
        if isinstance(f, str) and isinstance(n, str)
    ]
    layout = pl.DataFrame(
        pairs, schema={"file": pl.String, "node": pl.String, "_layout": pl.String}, orient="row"
    )
    return rows.join(layout, on=["file", "node"], how="left", maintain_order="left")


def statements(frame: pl.DataFrame) -> list[Statement]:
    """The statements of :data:`IDENTITY_SOURCES` in an event table (or in the output of
    :func:`statement_frame`, already counted)."""
    said = frame if "weight" in frame.columns else statement_frame(frame)
    said = (
        said.group_by("node", "name", "weight", "source")
        .agg(pl.col("count").sum())
        .select("node", "name", "weight", "count", "source")
        .sort("node", "name", "source")
    )
    out = []
    for node, name, weight, count, source in said.iter_rows():
        clean = _clean_name(name)
        if clean is not None and node is not None:
            out.append(Statement(str(node), clean, int(weight), int(count), str(source)))
    return out


def file_statements(files: Iterable[tuple[str, str]]) -> list[Statement]:
    """Statements of :data:`FILE_NAME_SOURCES` in (node, file path) pairs."""
    out = []
    for node, path in files:
        base = PurePosixPath(path.replace("\\", "/").rsplit("!", 1)[-1]).name
        for src in FILE_NAME_SOURCES:
            m = re.match(src.pattern, base)
            name = _clean_name(m.group("node")) if m else None
            if name is not None:
                out.append(Statement(node, name, src.weight, 1, src.label))
    return out


def named_files(paths: Iterable[str], layout: Iterable[str]) -> list[tuple[str, str]]:
    """(node, path) for files that are not logs (``PerfMon_<node>_...csv`` among them): the
    node is the last folder of the path that is a layout node name."""
    known = set(layout)
    out = []
    for path in paths:
        folders = path.replace("\\", "/").replace("!", "/").split("/")[:-1]
        node = next((f for f in reversed(folders) if f in known), None)
        if node is not None:
            out.append((node, path))
    return out
