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

Steps 1 and 2 live in :mod:`logdoctor.ingest.nodenames` and :mod:`logdoctor.ingest.nodestatements`
(import their names from there); this module joins them (steps 3 and 4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from logdoctor.ingest.nodenames import (
    host_of,
    is_fqdn,
    is_ip,
)
from logdoctor.ingest.nodestatements import (
    STRONG,
    Statement,
    file_statements,
    has_host_name,
    statements,
)
from logdoctor.table import ParseStats

__all__ = ["Node", "NodeTable", "identify", "identify_events"]

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
    folder_key = _seed(g, layout, wanted, forced)
    notes = _join_statements(g, layout, folder_key, _strongest(said, folder_key))
    index, nodes = _nodes(g, layout, forced)
    return NodeTable(
        nodes=nodes,
        notes=tuple(notes),
        index=index,
        layout=layout,
        said=said,
        declared=wanted,
        forced=forced,
    )


def _seed(
    g: _Groups, layout: Sequence[str], wanted: Mapping[str, Sequence[str]], forced: str | None
) -> dict[str, str]:
    """Add the folders' names, the forced name and the declared names with their addresses;
    returns each folder's key."""
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
    return folder_key


def _strongest(
    said: Iterable[Statement], folder_key: Mapping[str, str]
) -> dict[tuple[str, bool], Statement]:
    """Each folder's strongest statement of a host name and of an address."""
    best: dict[tuple[str, bool], Statement] = {}
    for st in said:
        if st.node not in folder_key:
            continue
        slot = (st.node, is_ip(st.name))
        old = best.get(slot)
        if old is None or (st.weight, st.lines) > (old.weight, old.lines):
            best[slot] = st
    return best


def _join_statements(
    g: _Groups,
    layout: Sequence[str],
    folder_key: Mapping[str, str],
    best: Mapping[tuple[str, bool], Statement],
) -> list[str]:
    """Join each folder with the names it states, by the two safety rules of the module
    docstring (and a weak statement never renames a folder named by host name); returns the
    notes on statements not used."""
    notes: list[str] = []
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
            and has_host_name(node)
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
    return notes


def _nodes(
    g: _Groups, layout: Sequence[str], forced: str | None
) -> tuple[dict[str, str], tuple[Node, ...]]:
    """Each name's canonical name, and the nodes of the bundle's folders (sorted by name)."""
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
    return index, tuple(sorted(nodes, key=lambda n: n.name))


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
