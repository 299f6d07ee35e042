"""Draft a format file from the records logdoctor does not recognize (``formats suggest``).

The records of one family that no event pattern knows are mined into templates
(:mod:`logdoctor.analysis.shapes`); each template seen at least ``min_count`` times becomes an
``[[event]]`` of kind ``draft.<n>`` (n is the template's rank in its family, 1 the most
frequent), whose regex is the template with its variable parts turned into fields: a
``key=value`` value is named after its key when the key is a known name of an event column
(:data:`COLUMN_KEYS`: ``userId=`` and ``user=`` give ``user``, ``jti=`` gives ``token_id``...),
and a value with no key is named after its shape (a ``C`` + 64 hex client id, a device name, a
uuid or JWT-looking token id). Two records of each template become its ``[[sample]]``s,
verbatim, with the kind and fields they parse to.

A format given with ``--formats-dir`` replaces the format of the same name (see
:func:`logdoctor.ingest.formats.catalog.load_formats`), so the draft is the family's format
file, copied verbatim, with the draft events added after the events it already has: lines it
recognized keep their kinds, and the draft patterns only see the lines that were left over. With
``include`` (kinds of generic detectors, such as ``oauth.error``), the records of those kinds
are mined too and the draft events go before the first event of those kinds, so that they get
the chance to claim those lines first.

The work is split in :mod:`.model` (the values and field names), :mod:`.regex` (a template as
an event regex), :mod:`.toml_text` (the draft's text) and :mod:`.samples` (records read back
verbatim).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from logdoctor.analysis.shapes import Template, mine
from logdoctor.analysis.suggest.model import (
    DEFAULT_MIN_COUNT,
    GENERIC_KINDS,
    Draft,
    DraftEvent,
    SuggestError,
)
from logdoctor.analysis.suggest.regex import event_regex
from logdoctor.analysis.suggest.samples import with_samples
from logdoctor.analysis.suggest.toml_text import draft_header, draft_text
from logdoctor.ingest.formats.spec import load_format
from logdoctor.ingest.formats.types import Format, FormatError
from logdoctor.ingest.inputs import LogFile
from logdoctor.ingest.regexes import to_rust
from logdoctor.model import EventKind

__all__ = [
    "GENERIC_KINDS",
    "Draft",
    "SuggestError",
    "draft_format",
    "suggest_command",
]


def _pool(records: pl.DataFrame, include: Sequence[str]) -> tuple[pl.DataFrame, list[str]]:
    """The records to mine (unrecognized and ``include`` kinds) and those kinds."""
    kinds = ["unrecognized", *include]
    for k in include:
        if k not in {e.value for e in EventKind} or k == "unrecognized":
            raise SuggestError(f"--include {k!r}: not an event kind (see logdoctor kinds)")
    return records.filter(pl.col("kind").cast(pl.String).is_in(kinds)), kinds


def _family(
    pool: pl.DataFrame, kinds: Sequence[str], formats: Sequence[Format], family: str | None
) -> tuple[str, Format]:
    """The family to draft (the only one with records when not given) and its format."""
    fams = (
        pool.group_by(pl.col("family").cast(pl.String))
        .len()
        .sort(["len", "family"], descending=[True, False])
    )
    counts = dict(zip(fams["family"].to_list(), fams["len"].to_list(), strict=True))
    if family is None:
        if not counts:
            raise SuggestError(f"no record of kind {' or '.join(kinds)}: nothing to draft")
        if len(counts) > 1:
            listed = ", ".join(f"{f}: {n}" for f, n in counts.items())
            raise SuggestError(
                f"records to draft in several families ({listed}): choose one with --family"
            )
        family = next(iter(counts))
    fmts = [f for f in formats if f.family == family]
    if not fmts:
        known = ", ".join(sorted({f.family for f in formats}))
        raise SuggestError(f"--family {family!r}: no such format family (known: {known})")
    if family not in counts:
        raise SuggestError(
            f"no record of kind {' or '.join(kinds)} in family {family}: nothing to draft"
        )
    return family, fmts[0]


def _events(
    templates: Sequence[Template], family: str, min_count: int
) -> tuple[list[DraftEvent], tuple[Template, ...]]:
    """A draft event per template seen ``min_count`` times (longer templates first: a
    shorter one ending in a wildcard could claim their lines), and the templates left out."""
    chosen = [t for t in templates if t.count >= min_count]
    left = tuple(t for t in templates if t.count < min_count)
    if not chosen:
        raise SuggestError(
            f"no template of family {family} is seen {min_count} times or more "
            f"({len(templates)} template(s)); lower --min-count"
        )
    chosen.sort(key=lambda t: (-len(t.tokens), t.rank))
    events = []
    for t in chosen:
        rx, named, unnamed = event_regex(t)
        events.append(DraftEvent(f"draft.{t.rank}", rx, t, named, unnamed))
    return events, left


def draft_format(
    records: pl.DataFrame,
    formats: Sequence[Format],
    files: Sequence[LogFile],
    *,
    family: str | None = None,
    min_count: int = DEFAULT_MIN_COUNT,
    include: Sequence[str] = GENERIC_KINDS,
) -> Draft:
    """Draft a format file from the event table ``records`` (what ``logdoctor.load`` gives)
    for one family; ``files`` are the inputs' files (samples are read from them verbatim).

    The records mined are the unrecognized ones and those of the ``include`` kinds (by
    default the :data:`GENERIC_KINDS`).

    Raises SuggestError when there is nothing to draft or the family is ambiguous or unknown.
    """
    if min_count < 1:
        raise SuggestError("--min-count must be at least 1")
    pool, kinds = _pool(records, include)
    family, fmt = _family(pool, kinds, formats, family)
    mine_from = pool.filter(pl.col("family").cast(pl.String) == family)
    events, left = _events(mine(mine_from), family, min_count)
    base_text = Path(fmt.path).read_text(encoding="utf-8")
    covered = _covered(mine_from, events)
    header = draft_header(fmt, family, len(events), mine_from.height, covered)
    with tempfile.TemporaryDirectory(prefix="logdoctor-draft-") as tmp:
        probe = Path(tmp) / "draft.toml"
        probe.write_text(draft_text(base_text, fmt, events, include, header), encoding="utf-8")
        sampled = with_samples(events, files, load_format(probe))
        text = draft_text(base_text, fmt, sampled, include, header)
        probe.write_text(text, encoding="utf-8")
        from logdoctor.ingest.formats.check import check_format

        try:
            check_format(load_format(probe))
        except FormatError as exc:  # a bug here, not the user's: say which draft failed
            raise SuggestError(f"the draft does not pass its own check: {exc.problem}") from None
    return Draft(
        family=family,
        format_name=fmt.name,
        base_path=fmt.path,
        text=text,
        events=tuple(sampled),
        records=mine_from.height,
        covered=covered,
        left_out=left,
    )


def _covered(records: pl.DataFrame, events: Sequence[DraftEvent]) -> int:
    """Records at least one draft event matches (first line and all, as the parser sees them)."""
    if records.height == 0 or not events:
        return 0
    msg = pl.col("message").fill_null("")
    hit = pl.any_horizontal([msg.str.contains(to_rust(e.regex)) for e in events])
    return int(records.select(hit.sum()).item())


def suggest_command(inputs: Sequence[str], family: str, count: int | None = None) -> str:
    """The ``logdoctor formats suggest`` command that drafts the templates of ``family`` (one
    seen ``count`` times among them: ``--min-count`` is lowered for it when needed)."""
    import shlex

    min_count = DEFAULT_MIN_COUNT if count is None else min(DEFAULT_MIN_COUNT, max(count, 1))
    args = ["logdoctor", "formats", "suggest", *inputs, "--family", family]
    if min_count != DEFAULT_MIN_COUNT:
        args += ["--min-count", str(min_count)]
    args += ["-o", f"{family}-draft.toml"]
    return shlex.join(args)
