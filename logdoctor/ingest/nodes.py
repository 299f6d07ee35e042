"""Node identity: one canonical name per node, whatever the collection calls its folders.

A UCM collection names each node's folder by host name or IP address, whichever the cluster
(or the RTMT wizard) uses, and may put a download-time folder under it (RTMT's default
``<server name or IP>/<download time>/...``); lines name nodes by host name (``node=``,
``server=``), a SAML entity id by FQDN, a certificate by IP address. This module turns all of
that into one name per node:

1. **Layout** (:func:`node_from_path`): the folder before the activelog tree of a file names
   its node. Layout anchors start that tree (``platform``, ``tomcat``, ``active``, ``syslog``,
   ``cm``, ``audit``, ``epas``, ``l/thirdparty/jakarta-tomcat`` ...); folders that look like
   download times (``2024-05-01_10-12-33``, epoch numbers) are never node names.
2. **Statements** (:func:`statements`, :data:`IDENTITY_SOURCES`, :data:`FILE_NAME_SOURCES`):
   lines and file names in which a node states its own name.
3. **Identity** (:func:`identify`): each node's names joined into one; its canonical name is
   its host name wherever its files state it, else one declared for it in the deployment
   file (``addresses``), else its folder name (the host part of an FQDN). The other names
   (folder names, IP addresses, FQDNs) become its aliases. ``--set-node`` always wins.
4. **Resolution** (:meth:`NodeTable.apply`): the ``node`` column and the names inside lines
   (``server``) are rewritten to canonical names, so events, facts and findings agree.

Two safety rules keep distinct nodes apart: a statement never joins two folders of the bundle
into one node, and a name stated by several folders (a cluster-wide SAML entity id) is not
used. Both are reported in :attr:`NodeTable.notes`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import NamedTuple

import polars as pl

from logdoctor.ingest.regexes import to_rust
from logdoctor.table import ParseStats
from logdoctor.ucm.prt import prt_identity

__all__ = [
    "FILE_NAME_SOURCES",
    "IDENTITY_SOURCES",
    "STRONG",
    "FileNameSource",
    "IdentitySource",
    "Node",
    "NodeTable",
    "Statement",
    "archive_stem",
    "default_node",
    "file_statements",
    "host_of",
    "identify",
    "identify_events",
    "identity_literals",
    "is_download_time",
    "is_fqdn",
    "is_ip",
    "named_files",
    "node_from_path",
    "statements",
]

# -- names ---------------------------------------------------------------------------------------

_DOWNLOAD_TIME = re.compile(
    r"""^(?:
        \d{4}[-_.]?\d{2}[-_.]?\d{2}                                  # a date
        (?:[ _T.-]?\d{2}[-_.:h]?\d{2}(?:[-_.:m]?\d{2}(?:[.,]\d{1,9})?s?)?)?  # a time of day
        (?:Z|[+-]\d{2}:?\d{2})?                                      # a zone
      | \d{9,13}                                                      # epoch s / ms
      )$""",
    re.VERBOSE,
)
_FQDN = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)


def is_download_time(name: str) -> bool:
    """True for a folder named after a time (``2024-05-01_10-12-33``, ``20240501103000``,
    ``1714558353``): RTMT and ``file get`` put one under each node, it never names a node."""
    return bool(_DOWNLOAD_TIME.match(name))


def is_ip(name: str) -> bool:
    """True for an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def is_fqdn(name: str) -> bool:
    """True for a dotted host name (``ucm-pub.example.com``), not an IP address."""
    if is_ip(name) or not _FQDN.match(name):
        return False
    return not name.rsplit(".", 1)[-1].isdigit()


def host_of(name: str) -> str:
    """The host name of an FQDN (its first label); any other name as it is."""
    if is_fqdn(name):
        label = name.split(".", 1)[0]
        if not label.isdigit():
            return label
    return name


# -- layout --------------------------------------------------------------------------------------

_ANCHORS = frozenset(
    {
        "platform",
        "tomcat",
        "activelog",
        "active",
        "var",
        "usr",
        "log",
        "syslog",
        "cm",
        "audit",
        "epas",
        "thirdparty",
        "jakarta-tomcat",
    }
)
"""Path components that start the activelog tree of an RTMT / CLI collection (``var/log/
active``, ``usr/local/thirdparty``...); the folder before the first of them names the node."""


def _parts(rel: str) -> list[str]:
    return [p for p in PurePosixPath(rel.replace("\\", "/")).parts if p not in ("", "/", ".")]


def _is_anchor(folders: Sequence[str], i: int) -> bool:
    part = folders[i].lower()
    if part in _ANCHORS:
        return True
    # RTMT writes /usr/local/thirdparty/... with its first 9 characters cut: ``l/thirdparty``.
    return part == "l" and i + 1 < len(folders) and folders[i + 1].lower() == "thirdparty"


def node_from_path(rel: str, default: str, *, anchors_only: bool = False) -> str:
    """The node a file belongs to, from its path inside a bundle.

    ``cucm-pub/platform/log/ssoApp.log`` and ``cucm-pub/2024-05-01_10-12-33/tomcat/...`` give
    ``cucm-pub``; ``RTMT_out/10.1.1.2/l/thirdparty/jakarta-tomcat/logs/...`` gives
    ``10.1.1.2``. With no layout anchor, the first folder that is not a download time (unless
    ``anchors_only``); otherwise ``default``. A Jabber problem report filed as
    ``jabber-prt/<user>/<device>/jabber.log`` gives its device: a client, not a server node
    (:mod:`logdoctor.ucm.prt`).
    """
    prt = prt_identity(rel)
    if prt is not None:
        return prt[1]
    folders = _parts(rel)[:-1]
    for i in range(len(folders)):
        if _is_anchor(folders, i):
            for j in range(i - 1, -1, -1):
                if not is_download_time(folders[j]):
                    return folders[j]
            return default
    if not anchors_only:
        for part in folders:
            if not is_download_time(part):
                return part
    return default


_ARCHIVE_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tbz2", ".txz", ".zip", ".tar")


def archive_stem(name: str) -> str:
    """An archive's name without its suffix (``10.1.1.10.tar.gz`` -> ``10.1.1.10``)."""
    low = name.lower()
    for suffix in _ARCHIVE_SUFFIXES:
        if low.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def default_node(path: str) -> str:
    """The node name a folder or archive stands for when its files name none: its own name,
    or its parent's when it is a download-time folder (``cucmpub/2024-05-01_10-12-33``)."""
    parts = _parts(path)
    for part in reversed(parts):
        if not is_download_time(part) and part not in ("..",):
            return part
    return "unknown"


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
)
"""File names that state their node's name (for families that keep such files)."""


STRONG = 3
"""Weight of a statement that may rename a folder named by host name (a SAML consumer URL,
a PerfMon file name; CiscoSyslog's NodeID when it is read). Weaker ones (logdoctor's own line
forms, an SP entity id that may be the cluster's) only name folders that have no host name:
an IP address, or no folder at all."""


def _has_host_name(name: str) -> bool:
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
            rows = frame.filter(pl.col("family") == src.family)
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
                folders = {
                    f: node_from_path(f, n)
                    for f, n in rows.select("file", "node").unique().iter_rows()
                    if isinstance(f, str) and isinstance(n, str)
                }
                node = pl.col("file").replace_strict(folders, default=pl.col("node"))
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


# -- identity ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A node: its canonical name and the other names it goes by."""

    name: str
    aliases: tuple[str, ...] = ()
    """Folder names, IP addresses and FQDNs of the node (sorted), without ``name``."""
    folders: tuple[str, ...] = ()
    """Its names in the bundle's layout (the folders its files came from)."""
    named_by: str = "folder"
    """Where ``name`` comes from: ``--set-node``, a statement's source (``service restart``,
    ``SAML entity id``...), ``deployment file`` or ``folder``."""


# Canonical-name preference, best first.
_FORCED, _STATED, _DECLARED, _LAYOUT, _OTHER = range(5)
_ORIGIN = {_FORCED: "--set-node", _DECLARED: "deployment file", _LAYOUT: "folder"}


class _Groups:
    """Union-find over names compared without case."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.spelling: dict[str, str] = {}
        self.rank: dict[str, tuple[int, int, int, str]] = {}

    def add(self, name: str, origin: int, weight: int = 0, count: int = 0, how: str = "") -> str:
        key = name.casefold()
        self.parent.setdefault(key, key)
        self.spelling.setdefault(key, name)
        # Lower is better: origin first, then the strongest and most frequent statement.
        rank = (origin, -weight, -count, how)
        if key not in self.rank or rank < self.rank[key]:
            self.rank[key] = rank
        return key

    def find(self, key: str) -> str:
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def members(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key in self.parent:
            out.setdefault(self.find(key), []).append(key)
        return out


def _add_name(
    g: _Groups, name: str, origin: int, weight: int = 0, count: int = 0, how: str = ""
) -> str:
    """Add a name, and link an FQDN to its host name (which takes the FQDN's rank)."""
    key = g.add(name, origin if not is_fqdn(name) else _OTHER, weight, count, how)
    host = host_of(name)
    if host != name:
        g.union(key, g.add(host, origin, weight, count, how))
    return key


_ADDRESS_ORDER = {_FORCED: 0, _LAYOUT: 1, _DECLARED: 2, _STATED: 3, _OTHER: 4}
"""Among addresses (a node with no host name), the folder's name comes before the others."""


def _canonical_rank(g: _Groups, key: str) -> tuple[int, int, int, int, str]:
    """Sort key of a candidate canonical name (lower is better): host names before IP
    addresses and FQDNs; host names stated in lines first, then declared ones, then folder
    names; addresses by the folder's name first."""
    spelled = g.spelling[key]
    origin, weight, count, _how = g.rank[key]
    if is_ip(spelled) or is_fqdn(spelled):
        return (1, _ADDRESS_ORDER[origin], weight, count, key)
    return (0, origin, weight, count, key)


@dataclass(frozen=True)
class NodeTable:
    """Every node's canonical name and aliases, and how to rewrite names into them."""

    nodes: tuple[Node, ...] = ()
    """The nodes that have files, by canonical name."""
    notes: tuple[str, ...] = ()
    """Statements not used, and why (one line each)."""
    index: Mapping[str, str] = field(default_factory=dict)
    """Every known name (without case) -> its canonical name."""
    layout: tuple[str, ...] = ()
    """What it was built from: the layout's node names, ..."""
    said: tuple[Statement, ...] = ()
    """... the statements, ..."""
    declared: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """... the declared names and their addresses ..."""
    forced: str | None = None
    """... and the ``--set-node`` name (see :meth:`extend`)."""

    def resolve(self, name: str) -> str:
        """The canonical name of ``name``: its node's, else the host part of an FQDN, else
        ``name`` itself."""
        hit = self.index.get(name.casefold())
        if hit is not None:
            return hit
        host = host_of(name)
        return self.index.get(host.casefold(), host)

    def node(self, name: str) -> Node | None:
        """The node called ``name`` (or known by it as an alias)."""
        canon = self.resolve(name)
        return next((n for n in self.nodes if n.name == canon), None)

    def extend(self, declared: Mapping[str, Sequence[str]]) -> NodeTable:
        """The same identity with the names and addresses of a deployment file added."""
        merged = {k: tuple(v) for k, v in self.declared.items()}
        for name, addresses in declared.items():
            merged[name] = tuple(dict.fromkeys((*merged.get(name, ()), *addresses)))
        return identify(self.layout, self.said, declared=merged, forced=self.forced)

    def mapping(self, names: Iterable[str | None]) -> dict[str, str]:
        """``name -> canonical`` for those of ``names`` that change."""
        out = {}
        for n in names:
            if n is not None and n not in out:
                canon = self.resolve(n)
                if canon != n:
                    out[n] = canon
        return out

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The event table with node names and the names in lines (``server``) canonical."""
        if frame.height == 0:
            return frame
        cols = []
        for col in ("node", "server"):
            m = self.mapping(frame[col].unique().to_list())
            if m:
                cols.append(pl.col(col).replace(m))
        return frame.with_columns(cols) if cols else frame

    def apply_stats(self, stats: Iterable[ParseStats]) -> list[ParseStats]:
        """The per-file statistics with canonical node names (new objects where they change)."""
        out = []
        for st in stats:
            canon = self.resolve(st.node) if st.node else st.node
            out.append(st if canon == st.node else replace(st, node=canon))
        return out

    def to_dict(self) -> list[dict[str, object]]:
        """The JSON form: one object per node (name, aliases, folders, named_by)."""
        return [
            {
                "name": n.name,
                "aliases": list(n.aliases),
                "folders": list(n.folders),
                "named_by": n.named_by,
            }
            for n in self.nodes
        ]


def identify(
    layout: Iterable[str],
    said: Iterable[Statement] = (),
    *,
    declared: Mapping[str, Sequence[str]] | None = None,
    forced: str | None = None,
) -> NodeTable:
    """Join each node's names and choose its canonical name.

    ``layout``: the node names the bundle's folders give its files; ``said``: statements
    (:func:`statements`, :func:`file_statements`); ``declared``: deployment-file names and the
    addresses listed for them; ``forced``: the ``--set-node`` name (always canonical).
    """
    layout = tuple(dict.fromkeys(n for n in layout if n))
    said = tuple(said)
    wanted = {k: tuple(v) for k, v in (declared or {}).items()}
    g = _Groups()
    notes: list[str] = []
    folder_key = {}
    for name in layout:
        origin = _FORCED if forced is not None and name == forced else _LAYOUT
        folder_key[name] = _add_name(g, name, origin)
    if forced is not None:
        _add_name(g, forced, _FORCED)
    for name, addresses in wanted.items():
        key = _add_name(g, name, _DECLARED)
        for a in addresses:
            g.union(key, _add_name(g, a, _DECLARED))
    # Each folder's strongest statement of a host name and of an address.
    best: dict[tuple[str, bool], Statement] = {}
    for st in said:
        if st.node not in folder_key:
            continue
        slot = (st.node, is_ip(st.name))
        old = best.get(slot)
        if old is None or (st.weight, st.lines) > (old.weight, old.lines):
            best[slot] = st
    claimed: dict[str, set[str]] = {}
    for (node, _ip), st in best.items():
        claimed.setdefault(host_of(st.name).casefold(), set()).add(node)
    layout_keys = {host_of(n).casefold(): n for n in layout}
    for (node, _ip), st in sorted(best.items()):
        host = host_of(st.name).casefold()
        if len(claimed[host]) > 1:
            notes.append(
                f"{st.name} ({st.source}) is stated by {len(claimed[host])} folders "
                f"({', '.join(sorted(claimed[host]))}): not used to name them"
            )
            continue
        if (
            not is_ip(st.name)
            and _has_host_name(node)
            and host != host_of(node).casefold()
            and st.weight < STRONG
        ):
            notes.append(
                f"{node}: its {st.source} lines name {st.name}; the folder's own name is kept "
                "(only a strong statement renames a folder named by host name)"
            )
            continue
        other = layout_keys.get(host)
        if other is not None and g.find(folder_key[other]) != g.find(folder_key[node]):
            notes.append(
                f"{node}: its {st.source} names {st.name}, which is another folder of the "
                "bundle: kept apart"
            )
            continue
        g.union(folder_key[node], _add_name(g, st.name, _STATED, st.weight, st.lines, st.source))
    index: dict[str, str] = {}
    nodes = []
    for _root, keys in sorted(g.members().items()):
        if forced is not None and forced.casefold() in keys:
            canon_key = forced.casefold()
        else:
            canon_key = min(keys, key=lambda k: _canonical_rank(g, k))
        canon = g.spelling[canon_key]
        for k in keys:
            index[k] = canon
        folders = tuple(sorted(n for n in layout if n.casefold() in keys))
        if folders:
            origin, _w, _c, how = g.rank[canon_key]
            nodes.append(
                Node(
                    name=canon,
                    aliases=tuple(sorted(g.spelling[k] for k in keys if k != canon_key)),
                    folders=folders,
                    named_by=how or _ORIGIN.get(origin, "folder"),
                )
            )
    return NodeTable(
        nodes=tuple(sorted(nodes, key=lambda n: n.name)),
        notes=tuple(notes),
        index=index,
        layout=layout,
        said=said,
        declared=wanted,
        forced=forced,
    )


def identify_events(
    frame: pl.DataFrame,
    stats: Iterable[ParseStats] = (),
    *,
    declared: Mapping[str, Sequence[str]] | None = None,
) -> NodeTable:
    """:func:`identify` from an event table (its node names as the layout) and its files'
    statistics (names of files that produced no event, and file-name statements)."""
    stats = list(stats)
    layout = [str(n) for n in frame["node"].unique().sort().to_list() if n is not None]
    layout += [st.node for st in stats if st.node]
    said = statements(frame) + file_statements((st.node, st.path) for st in stats if st.node)
    return identify(layout, said, declared=declared)
