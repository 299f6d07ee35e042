"""A template of unrecognized lines as an event regex: its variable parts become fields,
named after their key (:data:`~.model.COLUMN_KEYS`) or their shape."""

from __future__ import annotations

import re
from dataclasses import dataclass

from logdoctor.analysis.shapes import PLACEHOLDER, WILDCARD, Template
from logdoctor.analysis.suggest.model import COLUMN_KEYS, DEVICE_NAME

__all__ = ["event_regex", "refined_tokens"]

_SHAPE_COLUMN = {"<client>": "client_id", "<jwt>": "token_id", "<uuid>": "token_id"}
"""Columns a keyless value is named after by its shape alone."""

_PIECE = re.compile(r"<[a-z*]+>|[^<]+|<")
_KEY_AT_END = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*)=$")


def _norm_key(key: str) -> str:
    return re.sub(r"[_.\-]", "", key).lower()


_KEY_COLUMN: dict[str, tuple[str, int]] = {
    k: (col, rank) for col, keys in COLUMN_KEYS.items() for rank, k in enumerate(keys)
}


def _raw_tokens(t: Template) -> list[list[str]]:
    return [e.message.split("\n", 1)[0].split() for e in t.examples]


@dataclass
class _Slot:
    """A variable part of a token: where it is and what could name it."""

    token: int
    piece: int
    placeholder: str
    key: str | None
    column: str | None = None
    rank: int = 99


_KEY_PREFIX = re.compile(r"[^=\s<]*=")


def refined_tokens(t: Template) -> tuple[str, ...]:
    """The template's tokens, where a ``<*>`` whose values all start with one ``key=`` keeps
    that key (``code=<hex>`` and ``code=<n>`` merge into ``<*>``; this gives ``code=<*>``)."""
    out = list(t.tokens)
    split = [shape.split() for shape, _ in t.shapes]
    for i, tok in enumerate(t.tokens):
        if tok != WILDCARD:
            continue
        keys = {m.group(0) if (m := _KEY_PREFIX.match(sp[i])) else None for sp in split}
        if len(keys) == 1 and (key := keys.pop()) and _KEY_AT_END.search(key):
            out[i] = key + WILDCARD
    return tuple(out)


def _slots(t: Template) -> tuple[list[list[str]], list[_Slot]]:
    tokens = refined_tokens(t)
    pieces = [_PIECE.findall(tok) for tok in tokens]
    raws = _raw_tokens(t)
    slots: list[_Slot] = []
    for ti, parts in enumerate(pieces):
        for pi, p in enumerate(parts):
            if p not in PLACEHOLDER and p != WILDCARD:
                continue
            key = None
            if pi > 0:
                m = _KEY_AT_END.search(parts[pi - 1])
                key = m.group(1) if m else None
            elif p == WILDCARD and ti > 0 and tokens[ti - 1] != WILDCARD:
                prev = tokens[ti - 1].rstrip(":=")
                key = prev if _norm_key(prev) in _KEY_COLUMN else None
            s = _Slot(ti, pi, p, key)
            if key is not None and _norm_key(key) in _KEY_COLUMN:
                s.column, s.rank = _KEY_COLUMN[_norm_key(key)]
            elif key is None and p in _SHAPE_COLUMN:
                s.column, s.rank = _SHAPE_COLUMN[p], 50
            elif key is None and p == WILDCARD and pi == 0 and raws:
                values = [r[ti] for r in raws if ti < len(r)]
                if values and all(DEVICE_NAME.fullmatch(v) for v in values):
                    s.column, s.rank = "device", 50
            slots.append(s)
    # one group per column: the best-ranked slot keeps it
    best: dict[str, _Slot] = {}
    for s in slots:
        if s.column is None:
            continue
        cur = best.get(s.column)
        if cur is None or s.rank < cur.rank:
            best[s.column] = s
    for s in slots:
        if s.column is not None and best[s.column] is not s:
            s.column = None
    return pieces, slots


def event_regex(t: Template) -> tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The regex of a template (logdoctor's format dialect), the fields it names, and the keys
    of varying values it leaves unnamed."""
    pieces, slots = _slots(t)
    at = {(s.token, s.piece): s for s in slots}
    out_tokens: list[str] = []
    named: list[tuple[str, str]] = []
    unnamed: list[str] = []
    tokens = t.tokens[:-1] if t.cut and len(t.tokens) > 1 else t.tokens
    for ti in range(len(tokens)):
        parts = pieces[ti]
        buf: list[str] = []
        for pi, p in enumerate(parts):
            s = at.get((ti, pi))
            if s is None:
                buf.append(re.escape(p))
                continue
            body = r"\S+" if p == WILDCARD or pi == len(parts) - 1 else PLACEHOLDER[p].raw
            if s.column is not None:
                buf.append(f"(?P<{s.column}>{body})")
                named.append((s.column, s.key or p))
            else:
                buf.append(body if body == r"\S+" else f"(?:{body})")
                if s.key is not None and p in ("<v>", WILDCARD):
                    unnamed.append(s.key)
        out_tokens.append("".join(buf))
    sep = r"\s+" if t.loose_spacing else " "
    head = r"^\s*" if t.loose_spacing else "^"
    tail = "" if t.cut else r"(?:\n|$)"
    return head + sep.join(out_tokens) + tail, tuple(named), tuple(dict.fromkeys(unnamed))
