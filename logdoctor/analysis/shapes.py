"""Templates of unrecognized records: mask variable parts, group, then mine with Drain.

A record no event pattern knows is still a line some program wrote from a format string. This
module recovers those format strings ("templates") so that thousands of unrecognized records
read as a handful of messages, each with a count, the time span, the nodes and two verbatim
examples. LD901, the report's "Unrecognized messages" and ``logdoctor formats suggest`` all use
:func:`mine`; nothing else groups unrecognized records.

How, and why this way (speed: a million records must take no longer to mine than to parse):

1. **Mask** (vectorised, polars): the first line of each message is cut to ``SHAPE_CHARS`` and
   the :data:`MASKS` rules, applied in order, replace every ``key=value`` value by ``<v>``, then
   JWT-looking strings, uuids, client ids, percent-encoded values, addresses, hex strings and
   numbers by placeholders such as ``<uuid>``. The rules are data: a table of (name, pattern,
   placeholder, and the regex of the text a placeholder stands for).
2. **Group** identical masked lines ("shapes") per family: a million records typically give a
   few hundred shapes.
3. **Mine** the distinct shapes, weighted by their counts, with Drain (He et al., "Drain: An
   Online Log Parsing Approach with Fixed Depth Tree", ICWS 2017): a tree keyed by the token
   count and the first tokens leads to a few candidate templates; a shape joins the most similar
   one (share of equal tokens at least ``similarity``) and the positions that differ become
   ``<*>``, else it starts a template of its own. Shapes are fed most frequent first, so the
   result does not depend on the order of the records. The tree is keyed by the first three
   words (``depth`` 5): a status word there (``issued`` / ``refused``) keeps two events apart,
   but so does a name (``Job alice finished``), until a node has ``max_children`` children.

Drain is implemented here rather than taken from the ``drain3`` package: it is the same
algorithm, but takes weights (one call per shape, not per record) and is typed;
``benchmarks/bench_shapes.py`` compares both on the same input.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

__all__ = [
    "MASKS",
    "PLACEHOLDER",
    "SHAPE_CHARS",
    "WILDCARD",
    "Drain",
    "Example",
    "Mask",
    "Template",
    "first_line_expr",
    "mask_expr",
    "mine",
]

WILDCARD = "<*>"
"""The token Drain puts where the shapes of one template differ."""

SHAPE_CHARS = 1000
"""Characters of a message's first line a shape is taken from."""


@dataclass(frozen=True)
class Mask:
    """One masking rule: text matching ``pattern`` (Rust regex syntax) becomes ``placeholder``.

    ``raw`` is the regex (logdoctor's format dialect) that matches the original text a
    placeholder stands for, so a template can be turned back into a pattern.
    """

    name: str
    pattern: str
    placeholder: str
    raw: str


_HEX = "[0-9a-fA-F]"
_VALUE_CHARS = r"""[^\s,;)\]}"'<>]"""
KEY_VALUE = Mask("value", rf"={_VALUE_CHARS}+", "=<v>", rf"{_VALUE_CHARS}+")
"""The value of ``key=value``, whatever it is: masked first, since most variable text of a
log line is there (and what remains for the other rules is short)."""

MASKS: tuple[Mask, ...] = (
    KEY_VALUE,
    Mask(
        "jwt",
        r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
        "<jwt>",
        r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
    ),
    Mask(
        "uuid",
        rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}",
        "<uuid>",
        rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}",
    ),
    Mask("client", rf"\bC{_HEX}{{64}}\b", "<client>", rf"C{_HEX}{{64}}"),
    Mask(
        "pct",
        r"[A-Za-z0-9._~+/-]*(?:%[0-9A-Fa-f]{2}[A-Za-z0-9._~+/-]*)+",
        "<pct>",
        r"[A-Za-z0-9._~+/%-]+",
    ),
    Mask("ip", r"\b\d{1,3}(?:\.\d{1,3}){3}\b", "<ip>", r"\d{1,3}(?:\.\d{1,3}){3}"),
    Mask(
        "hex",
        rf"\b(?:0x)?(?:{_HEX}*[0-9]{_HEX}*[a-fA-F]|{_HEX}*[a-fA-F]{_HEX}*[0-9]){_HEX}*\b",
        "<hex>",
        rf"(?:0x)?{_HEX}+",
    ),
    Mask("num", r"[0-9]+", "<n>", r"\d+"),
)
"""The masking rules, applied in this order: ``key=value`` values, then specific shapes,
then bare numbers. A placeholder is ``<name>`` (``=<v>`` for a value)."""

PLACEHOLDER: dict[str, Mask] = {m.placeholder.lstrip("="): m for m in MASKS}
"""Each placeholder (``<v>``, ``<uuid>``...) and the rule that makes it."""


def first_line_expr(col: pl.Expr) -> pl.Expr:
    """A message's first line (most messages have one line: those are not searched)."""
    text = col.fill_null("")
    multi = text.str.contains("\n", literal=True)
    return pl.when(multi).then(text.str.extract(r"^([^\n]*)", 1)).otherwise(text)


def _ascii_boundaries(pattern: str) -> str:
    """``\b`` as an ASCII word boundary: Rust's Unicode one keeps the fast engines out."""
    return pattern.replace(r"\b", r"(?-u:\b)")


def mask_expr(col: pl.Expr, *, first_line: bool = False) -> pl.Expr:
    """The shape of a message: its first line (cut to ``SHAPE_CHARS``), masked, stripped.

    With ``first_line``, ``col`` already holds first lines."""
    e = (col.fill_null("") if first_line else first_line_expr(col)).str.slice(0, SHAPE_CHARS)
    for m in MASKS:
        e = e.str.replace_all(_ascii_boundaries(m.pattern), m.placeholder, literal=False)
    return e.str.strip_chars()


# -- Drain ---------------------------------------------------------------------------------------


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    clusters: list[int] = field(default_factory=list)


@dataclass
class _Cluster:
    tokens: list[str]
    weight: int


def _is_variable(token: str) -> bool:
    """A token that should not route the prefix tree: a placeholder, or one with a digit."""
    return "<" in token or any(c.isdigit() for c in token)


class Drain:
    """The Drain fixed-depth tree over token lists, with weighted inserts.

    ``depth - 2`` leading tokens route a shape to its leaf (drain3 routes by ``depth - 3``: our
    depth 5 is its depth 6); ``similarity`` is the share of equal tokens a shape needs to join a
    template; a node with ``max_children`` children sends new tokens to its ``<*>`` child.
    """

    def __init__(self, depth: int = 5, similarity: float = 0.5, max_children: int = 100) -> None:
        if depth < 3:
            raise ValueError("Drain depth must be at least 3")
        self.prefix = depth - 2
        self.similarity = similarity
        self.max_children = max_children
        self._root: dict[int, _Node] = {}
        self.clusters: list[_Cluster] = []

    def add(self, tokens: Sequence[str], weight: int = 1) -> int:
        """Add a token list seen ``weight`` times; returns the index of its template."""
        leaf = self._leaf(tokens, create=False)
        best = self._best(leaf, tokens) if leaf is not None else None
        if best is None:
            self.clusters.append(_Cluster(list(tokens), weight))
            cid = len(self.clusters) - 1
            node = self._leaf(tokens, create=True)
            assert node is not None
            node.clusters.append(cid)
            return cid
        c = self.clusters[best]
        c.tokens = [a if a == b else WILDCARD for a, b in zip(c.tokens, tokens, strict=True)]
        c.weight += weight
        return best

    def template(self, cid: int) -> tuple[str, ...]:
        """The template tokens of a cluster."""
        return tuple(self.clusters[cid].tokens)

    def _leaf(self, tokens: Sequence[str], *, create: bool) -> _Node | None:
        n = len(tokens)
        node = self._root.get(n)
        if node is None:
            if not create:
                return None
            node = self._root.setdefault(n, _Node())
        for depth, tok in enumerate(tokens):
            if depth >= self.prefix or depth >= n - 1:
                break
            key = WILDCARD if _is_variable(tok) else tok
            child = node.children.get(key)
            if child is None and not create:
                child = node.children.get(WILDCARD)
                if child is None:
                    return None
            elif child is None:
                child = node.children.setdefault(self._route(node, key), _Node())
            node = child
        return node

    def _route(self, node: _Node, key: str) -> str:
        """The child a new token creates (or joins, when the node is full)."""
        taken = len(node.children)
        if WILDCARD in node.children:
            return key if taken < self.max_children else WILDCARD
        return key if taken + 1 < self.max_children else WILDCARD

    def _best(self, leaf: _Node, tokens: Sequence[str]) -> int | None:
        best: int | None = None
        best_key = (-1.0, -1)
        for cid in leaf.clusters:
            tpl = self.clusters[cid].tokens
            same = params = 0
            for a, b in zip(tpl, tokens, strict=True):
                if a == WILDCARD:
                    params += 1
                elif a == b:
                    same += 1
            sim = same / len(tpl) if tpl else 1.0
            if (sim, params) > best_key:
                best, best_key = cid, (sim, params)
        if best is None or best_key[0] < self.similarity:
            return None
        return best


# -- templates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """A record a template was mined from, verbatim."""

    node: str
    file: str
    line: int
    time: datetime | None
    message: str


@dataclass(frozen=True)
class Template:
    """Unrecognized records that share one message template."""

    id: str
    """A stable short id (family and template text hashed)."""
    family: str
    rank: int
    """1 for the family's most frequent template, 2 for the next..."""
    tokens: tuple[str, ...]
    count: int
    first: datetime | None
    last: datetime | None
    nodes: tuple[str, ...]
    files: tuple[str, ...]
    examples: tuple[Example, ...]
    """Up to two records: the first and the last (by time) whose messages differ if any do."""
    shapes: tuple[tuple[str, int], ...]
    """The masked first lines grouped into this template, with their counts (most first)."""
    loose_spacing: bool = False
    """Some record has runs of spaces or tabs (or leading blanks) in its first line."""
    cut: bool = False
    """Some record's first line was longer than ``SHAPE_CHARS``: the template is a prefix."""

    @property
    def text(self) -> str:
        """The template as one line (``<*>`` where records differ)."""
        return " ".join(self.tokens)


def _template_id(family: str, text: str) -> str:
    return hashlib.sha256(f"{family}\0{text}".encode()).hexdigest()[:10]


_SLICE_ROWS = 100_000
"""Records masked per task: slices are masked in parallel (one regex pass is one thread)."""


def _masked(records: pl.DataFrame) -> pl.DataFrame:
    """Columns ``_first`` (first line) and ``shape`` for every record, in record order."""
    lf = records.lazy().select(first_line_expr(pl.col("message")).alias("_first"))
    parts = max(1, min(os.cpu_count() or 1, records.height // _SLICE_ROWS))
    step = -(-records.height // parts)
    frames = pl.collect_all(
        [
            lf.slice(i * step, step).with_columns(
                mask_expr(pl.col("_first"), first_line=True).alias("shape")
            )
            for i in range(parts)
        ]
    )
    return pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]


def _distinct_shapes(records: pl.DataFrame) -> pl.DataFrame:
    """One row per (family, shape): counts, times, nodes, files and example row numbers.

    The examples are the records with the smallest and the largest (time, file, line), so they
    do not depend on the order of the records."""
    first = pl.col("_first")
    order = [pl.col("time"), pl.col("file").cast(pl.String), pl.col("line")]
    return (
        records.select("family", "node", "file", "line", "time")
        .with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"))
        .hstack(_masked(records))
        .lazy()
        .group_by(["family", "shape"])
        .agg(
            pl.len().alias("count"),
            pl.col("time").min().alias("first"),
            pl.col("time").max().alias("last"),
            pl.col("node").unique().alias("nodes"),
            pl.col("file").unique().alias("files"),
            pl.col("_row").sort_by(order, nulls_last=True).first().alias("row_first"),
            pl.col("_row")
            .sort_by(order, descending=True, nulls_last=True)
            .first()
            .alias("row_last"),
            (
                first.str.starts_with(" ")
                | first.str.contains("  ", literal=True)
                | first.str.contains("\t", literal=True)
            )
            .any()
            .alias("loose"),
            (first.str.len_chars() > SHAPE_CHARS).any().alias("cut"),
        )
        .with_columns(
            pl.col("family").cast(pl.String).fill_null(""),
            pl.col("nodes").cast(pl.List(pl.String)),
            pl.col("files").cast(pl.List(pl.String)),
        )
        .sort(["family", "count", "shape"], descending=[False, True, False])
        .collect()
    )


def _example(records: pl.DataFrame, row: int) -> Example:
    r = records.row(row, named=True)
    return Example(
        node=str(r.get("node") or ""),
        file=str(r.get("file") or ""),
        line=int(r.get("line") or 0),
        time=r.get("time"),
        message=str(r.get("message") or ""),
    )


def _pick_examples(
    records: pl.DataFrame, rows: Sequence[tuple[tuple[int, float], int]]
) -> tuple[Example, ...]:
    """The template's first record and its last one; a record with a different message than
    the first one is preferred to an identical repeat."""
    first = min(rows)[1]
    ordered = sorted(rows)
    msg0 = records["message"][first]
    later = [r for _, r in reversed(ordered) if r != first]
    other = next((r for r in later if records["message"][r] != msg0), later[0] if later else None)
    out = [_example(records, first)]
    if other is not None:
        out.append(_example(records, other))
    return tuple(out)


def _sort_key(t: datetime | None) -> tuple[int, float]:
    return (1, 0.0) if t is None else (0, t.timestamp())


def mine(
    records: pl.DataFrame,
    *,
    depth: int = 5,
    similarity: float = 0.5,
) -> list[Template]:
    """Mine the templates of ``records`` (columns family, node, file, line, time, message).

    Families are mined apart (a template belongs to one family). The result is ordered by
    family, then most frequent first; ``rank`` numbers the templates of each family from 1.
    """
    if records.height == 0:
        return []
    shapes = _distinct_shapes(records)
    per_family: dict[str, Drain] = {}
    member: list[int] = []
    for fam, shape in zip(shapes["family"], shapes["shape"], strict=True):
        drain = per_family.setdefault(fam, Drain(depth=depth, similarity=similarity))
        member.append(drain.add(shape.split(), 1))
    weights = shapes["count"].to_list()
    groups: dict[tuple[str, int], list[int]] = {}
    for i, (fam, cid) in enumerate(zip(shapes["family"], member, strict=True)):
        groups.setdefault((fam, cid), []).append(i)
    rows = shapes.to_dicts()
    out: list[Template] = []
    for (fam, cid), idx in groups.items():
        tokens = per_family[fam].template(cid)
        text = " ".join(tokens)
        firsts = [rows[i]["first"] for i in idx if rows[i]["first"] is not None]
        lasts = [rows[i]["last"] for i in idx if rows[i]["last"] is not None]
        picks = [(_sort_key(rows[i]["first"]), rows[i]["row_first"]) for i in idx]
        picks += [(_sort_key(rows[i]["last"]), rows[i]["row_last"]) for i in idx]
        out.append(
            Template(
                id=_template_id(fam, text),
                family=fam,
                rank=0,
                tokens=tokens,
                count=sum(weights[i] for i in idx),
                first=min(firsts) if firsts else None,
                last=max(lasts) if lasts else None,
                nodes=_union(rows[i]["nodes"] for i in idx),
                files=_union(rows[i]["files"] for i in idx),
                examples=_pick_examples(records, picks),
                shapes=tuple((rows[i]["shape"], weights[i]) for i in idx),
                loose_spacing=any(rows[i]["loose"] for i in idx),
                cut=any(rows[i]["cut"] for i in idx),
            )
        )
    out.sort(key=lambda t: (t.family, -t.count, t.text))
    ranked: list[Template] = []
    rank = 0
    for i, t in enumerate(out):
        rank = 1 if i == 0 or out[i - 1].family != t.family else rank + 1
        ranked.append(_with_rank(t, rank))
    return ranked


def _with_rank(t: Template, rank: int) -> Template:
    from dataclasses import replace

    return replace(t, rank=rank)


def _union(lists: Iterable[Sequence[str]]) -> tuple[str, ...]:
    return tuple(sorted({x for xs in lists for x in xs if x}))
