"""The bulk engine's classification stage: the event kind of each record and its fields."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence

import polars as pl

from logdoctor.ingest.formats.types import EXTRACT_COLUMNS, EventPattern, FieldPattern, Format
from logdoctor.ingest.parse.common import pct_decode
from logdoctor.ingest.parse.header import nulls
from logdoctor.model import EventKind
from logdoctor.table import NODE_FIELD

__all__ = ["apply_links", "classify", "clean_values", "count_kinds", "fill_fields", "kept"]

_UNRECOGNIZED = EventKind.UNRECOGNIZED.value


def classify(records: pl.DataFrame, events: Sequence[EventPattern]) -> pl.DataFrame:
    """Add ``kind``, ``basis`` and the field columns (the node a pattern names as ``_node``):
    the first event pattern (in file order) that matches (see :func:`_takes`).

    Each pattern's rows become one small frame (row index, kind, basis, fields); the frames
    are put back in row order once, at the end (no full-length column is written per pattern).
    """
    n = records.height
    pieces: list[pl.DataFrame] = []
    for e, rows, msg, parts in _takes(records, events, fields=True):
        pieces.append(rows.alias(_ROW).to_frame() if e is None else _piece(e, rows, msg, parts))
    table = pl.concat(pieces, how="diagonal") if len(pieces) > 1 else pieces[0]
    table = table.sort(_ROW)
    assert table.height == n
    have = set(table.columns)
    cols = [
        (
            table["kind"].fill_null(_UNRECOGNIZED)
            if "kind" in have
            else pl.repeat(_UNRECOGNIZED, n, dtype=pl.String, eager=True).alias("kind")
        ),
        table["basis"] if "basis" in have else nulls("basis", n, pl.String()),
        *(
            table[_col(c)] if _col(c) in have else nulls(_col(c), n, pl.String())
            for c in EXTRACT_COLUMNS
        ),
    ]
    return records.with_columns(cols)


def count_kinds(records: pl.DataFrame, events: Sequence[EventPattern]) -> Counter[str]:
    """How many records :func:`classify` gives each kind, without taking their fields or
    putting them in row order."""
    out: Counter[str] = Counter()
    for e, rows, _, _ in _takes(records, events, fields=False):
        out[_UNRECOGNIZED if e is None else e.kind] += rows.len()
    return out


def kept(
    records: pl.DataFrame, keep: Sequence[str], events: Sequence[EventPattern]
) -> tuple[pl.DataFrame, Counter[str]]:
    """The records whose message holds one of the texts ``keep``, and the kinds
    (:func:`count_kinds`) of the others. A record's kind and fields do not depend on the
    other records (:func:`apply_links` aside), so classifying the two parts apart gives what
    classifying them together does."""
    if keep:
        holds = records["msg"].str.contains_any(list(keep)).fill_null(False)
    else:
        holds = pl.repeat(False, records.height, dtype=pl.Boolean, eager=True)
    others = records.filter(~holds)
    counts = count_kinds(others, events) if others.height else Counter[str]()
    return records.filter(holds), counts


_Take = tuple[EventPattern | None, pl.Series, pl.Series, pl.Series | None]
"""A pattern (None: no pattern), the rows it takes, their messages and, for a key=value
template, their tokens (see :func:`_template_matches`)."""


def _takes(
    records: pl.DataFrame, events: Sequence[EventPattern], *, fields: bool
) -> Iterator[_Take]:
    """The rows each event pattern takes (the first one, in file order, that matches), and
    last the rows none takes; ``fields``: with the template tokens of the rows taken.

    Same result as trying every pattern on every row in order, with far less work:
    - rows are grouped by the literal their message starts with; a pattern with a literal
      prefix is only tried in the groups that start with it (patterns without one: everywhere);
    - within a group, each pattern is tried only on the rows no earlier pattern took;
    - logger conditions are decided once per distinct logger of the block (a pattern whose
      logger condition no row meets is not tried at all);
    - fields of a ``key=value`` template are cut by splitting on spaces, not by capturing
      (see :func:`logdoctor.ingest.formats.types.split_plan`); other patterns capture with their
      regex.

    Long because the rules above interlock in one loop over the groups (rows taken by one
    pattern leave the next pattern's rows): it is the hot path of every parse.
    """
    n = records.height
    msg = records["msg"]
    literals = sorted({e.literal for e in events if e.literal}, key=len, reverse=True)
    if literals:
        alt = "|".join(re.escape(lit) for lit in literals)
        lit = msg.str.extract(f"^({alt})", 1).alias("lit")
        # Each literal's rows (in row order), in one pass: rows without one first, then by
        # literal (the order groups are tried in does not change which pattern takes a row).
        by_lit = (
            lit.to_frame()
            .with_row_index(_ROW)
            .group_by("lit")
            .agg(pl.col(_ROW))
            .sort("lit", nulls_last=False)
        )
        groups: list[tuple[str | None, pl.Series]] = list(
            zip(by_lit["lit"].to_list(), by_lit[_ROW], strict=True)
        )
        if not groups or groups[0][0] is not None:
            groups.insert(0, (None, pl.Series(_ROW, [], dtype=pl.UInt32)))
    else:
        groups = [(None, pl.int_range(n, dtype=pl.UInt32, eager=True))]
    by_logger = _logger_hits(events, records["logger"].fill_null(""))
    for value, rows in groups:
        if rows.len() == 0:
            continue
        cands = [
            e
            for e in events
            if (not e.literal or (value is not None and value.startswith(e.literal)))
            and (e.logger is None or by_logger[e.logger.rust] is not None)
        ]
        left = rows  # rows of the table still unclassified, aligned with left_msg
        left_msg = msg.gather(rows)
        for e in cands:
            if left.len() == 0:
                break
            hit, parts = _matches(e, left_msg, fields)
            if e.logger is not None:
                logger_hit = by_logger[e.logger.rust]
                assert logger_hit is not None
                hit = hit & logger_hit.gather(left)
            took = hit.arg_true()
            if took.len() == 0:
                continue
            everything = took.len() == left.len()
            taken_rows = left if everything else left.gather(took)
            taken_msg = left_msg if everything else left_msg.gather(took)
            if fields and e.regex.groups and parts is not None and not everything:
                parts = parts.gather(took)
            yield e, taken_rows, taken_msg, parts
            if everything:
                left = left.clear()
                break
            rest = (~hit).arg_true()
            left, left_msg = left.gather(rest), left_msg.gather(rest)
        if left.len():
            yield None, left, left_msg, None


_ROW = "_row"


def _piece(
    e: EventPattern, rows: pl.Series, msg: pl.Series, parts: pl.Series | None
) -> pl.DataFrame:
    """The rows ``e`` took: their row index, kind, basis and fields, as one small frame."""
    values: dict[str, pl.Series] = {}
    if e.regex.groups:
        values = _extract(e, msg, parts)
    out = pl.DataFrame([rows.alias(_ROW)]).with_columns(
        pl.lit(e.kind, dtype=pl.String).alias("kind"),
        pl.lit(e.basis, dtype=pl.String).alias("basis"),
        *(v.alias(_col(name)) for name, v in values.items() if name not in e.set),
        *(pl.lit(v, dtype=pl.String).alias(_col(c)) for c, v in e.set.items()),
    )
    return out


def _col(name: str) -> str:
    """The frame column of an extracted field: the node a line names is ``_node`` until it
    replaces the layout's node."""
    return "_node" if name == NODE_FIELD else name


def fill_fields(records: pl.DataFrame, extractors: Sequence[FieldPattern]) -> pl.DataFrame:
    """Fill empty field columns from the ``[[field]]`` extractors, in file order: on rows of
    their kinds (any recognized kind by default) where the column is still empty."""
    if not extractors or records.height == 0:
        return records
    kind = records["kind"]
    msg = records["msg"]
    cols = {x.column: records[_col(x.column)] for x in extractors}
    for x in extractors:
        target = cols[x.column]
        want = kind.is_in(list(x.kinds)) if x.kinds else kind != _UNRECOGNIZED
        rows = (want & target.is_null()).arg_true()
        if rows.len() == 0:
            continue
        got = msg.gather(rows).str.extract_groups(x.regex.rust).struct.field(x.column)
        got = clean_values(got)
        hit = got.is_not_null().arg_true()
        if hit.len():
            target = target.clone()
            target.scatter(rows.gather(hit), got.gather(hit))
            cols[x.column] = target
    return records.with_columns(*(v.alias(_col(c)) for c, v in cols.items()))


_OTHER_SPACE = r"[\t\n\x0b\x0c\r]"
"""ASCII whitespace other than the space: ``\\S`` stops there, a split on " " does not."""


def _matches(
    e: EventPattern, msg: pl.Series, fields: bool = True
) -> tuple[pl.Series, pl.Series | None]:
    """Rows whose message the event pattern matches (its logger condition aside), and for a
    key=value template the message's tokens (a struct; null where the regex had to judge).
    Without ``fields`` a template is judged by its regex alone (no tokens are cut)."""
    parts = None
    if e.regex.source == "^":
        hit = pl.repeat(True, msg.len(), dtype=pl.Boolean, eager=True)
    elif e.split is not None and fields:
        hit, parts = _template_matches(e, msg)
    else:
        hit = msg.str.contains(e.regex.rust).fill_null(False)
    return hit, parts


def _logger_hits(events: Sequence[EventPattern], logger: pl.Series) -> dict[str, pl.Series | None]:
    """Per logger regex of ``events``: the rows whose logger it matches, or None when no row's
    does. Decided once per distinct logger (a log has a few hundred loggers, not a million)."""
    out: dict[str, pl.Series | None] = {}
    names: pl.Series | None = None
    for e in events:
        if e.logger is None or e.logger.rust in out:
            continue
        if names is None:
            names = logger.unique()
        if names.len() * 4 > logger.len():
            hit = logger.str.contains(e.logger.rust).fill_null(False)
            out[e.logger.rust] = hit if hit.any() else None
            continue
        good = names.filter(names.str.contains(e.logger.rust).fill_null(False))
        out[e.logger.rust] = logger.is_in(good.implode()) if good.len() else None
    return out


def _template_matches(e: EventPattern, msg: pl.Series) -> tuple[pl.Series, pl.Series | None]:
    """The regex's verdict for a key=value template, decided on its space-separated tokens.

    Equivalent to the regex (``^tok tok key=\\S+ ...``) on rows without other ASCII
    whitespace: literal tokens must be equal (the last one need only start the token, as the
    regex is not anchored at the end) and field tokens must be their ``key=`` plus at least
    one character. The few rows with tabs or line breaks are judged by the regex itself.
    The tokens are compared in one ``select`` (one polars call, not one per comparison).
    """
    plan = e.split
    assert plan is not None
    parts = msg.str.split_exact(" ", plan.width)
    last = len(plan.tokens) - 1
    conds: list[pl.Expr] = []
    for pos, (text, is_field) in enumerate(plan.tokens):
        token = pl.col(f"field_{pos}")
        if is_field:
            cond = token.str.starts_with(text) & (token.str.len_bytes() > len(text.encode()))
        elif pos == last:
            cond = token.str.starts_with(text)
        else:
            cond = token == text
        conds.append(cond.fill_null(False))
    checks = parts.struct.unnest().select(
        pl.all_horizontal(conds).alias("ok"),
        pl.lit(msg).str.contains(_OTHER_SPACE).fill_null(False).alias("odd"),
    )
    ok, odd = checks["ok"], checks["odd"]
    odd_rows = odd.arg_true()
    if odd_rows.len() == 0:
        return ok, parts
    ok = ok & ~odd
    by_regex = msg.gather(odd_rows).str.contains(e.regex.rust).fill_null(False)
    ok.scatter(odd_rows, by_regex)
    return ok, None  # some rows need the regex: extraction will use it


def _extract(
    e: EventPattern, msg: pl.Series, parts: pl.Series | None = None
) -> dict[str, pl.Series]:
    """The named groups of ``e`` on rows it is known to match (``parts``: their tokens, when
    :func:`_template_matches` already cut them and no row has other whitespace)."""
    plan = e.split
    if plan is not None and parts is not None:
        return _cleaned(
            parts.struct.unnest(),
            {name: pl.col(f"field_{pos}").str.slice(skip) for pos, skip, name in plan.fields},
        )
    if plan is not None and msg.len():
        # Multi-line records: the last value ends at the line break; let the regex do those.
        multi = msg.str.contains("\n", literal=True)
        if not bool(multi.any()):
            exprs = {}
            for pos, skip, name in plan.fields:
                value = pl.col(f"field_{pos}").str.slice(skip)
                if plan.open_end and pos == plan.width:
                    # \S+ stops at any ASCII whitespace, a split only at a space.
                    value = value.str.replace(r"[\t\x0b\x0c\r].*", "")
                exprs[name] = value
            return _cleaned(msg.str.split_exact(" ", plan.width).struct.unnest(), exprs)
    groups = msg.str.extract_groups(e.regex.rust).struct.unnest()
    return _cleaned(groups, {g: pl.col(g) for g in e.regex.groups})


def _cleaned(frame: pl.DataFrame, exprs: dict[str, pl.Expr]) -> dict[str, pl.Series]:
    """The columns ``exprs`` compute on ``frame``, cleaned as :func:`clean_values` does, in
    one ``select`` (plus one per column holding a ``%``)."""
    dash = [pl.when(x == "-").then(None).otherwise(x).alias(name) for name, x in exprs.items()]
    out = frame.select(dash)
    has_pct = out.select(pl.all().str.contains("%", literal=True).any()).row(0)
    return {
        name: clean_values(out[name]) if pct else out[name]
        for name, pct in zip(out.columns, has_pct, strict=True)
    }


def apply_links(frame: pl.DataFrame, fmt: Format) -> pl.DataFrame:
    """Fill a field of target events from the next source event in the file (certMgmt unit)."""
    for link in fmt.links:
        src = pl.when(pl.col("kind") == link.source).then(pl.col(link.field))
        filled = src.backward_fill()
        frame = frame.with_columns(
            pl.when(pl.col("kind").is_in(list(link.targets)) & pl.col(link.field).is_null())
            .then(filled)
            .otherwise(pl.col(link.field))
            .alias(link.field)
        )
    return frame


def clean_values(values: pl.Series) -> pl.Series:
    """ "-" is empty; undo the percent-encoding writers use to keep a value one token.

    Decoding runs once per distinct encoded value (a cluster has few distinct agents or users),
    not once per row.
    """
    values = values.set(values == "-", None)
    pct = values.str.contains("%", literal=True).fill_null(False)  # memchr, not a regex
    if not bool(pct.any()):
        return values
    maybe = values.filter(pct)
    encoded = maybe.filter(maybe.str.contains("%[0-9A-Fa-f]{2}").fill_null(False)).unique()
    if encoded.len() == 0:
        return values
    mapping = {v: pct_decode(v) for v in encoded.to_list()}
    return values.replace(mapping)
