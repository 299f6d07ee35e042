"""The ``[[sample]]``s of a draft: records read back verbatim from their files, kept when the
draft parses them to their own event with the same message."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from logdoctor.analysis.suggest.model import DraftEvent, SuggestError
from logdoctor.ingest.formats.types import Format
from logdoctor.ingest.inputs import LogFile
from logdoctor.ingest.parse import iter_lines, parse_bytes
from logdoctor.table import FIELD_COLUMNS

__all__ = ["with_samples"]

_SURROGATES = re.compile("[\ud800-\udfff]")


def _record_texts(
    files: Sequence[LogFile], wanted: Mapping[str, set[tuple[int, int]]]
) -> dict[tuple[str, int], str]:
    """The verbatim text of records: (file display name, first line) -> text (its lines)."""
    from logdoctor.ingest.parse import decode

    out: dict[tuple[str, int], str] = {}
    by_name = {lf.display: lf for lf in files}
    for name, spans in wanted.items():
        lf = by_name.get(name)
        if lf is None:
            continue
        try:
            text, _ = decode(lf.read())
        except OSError:
            continue
        lines = [ln[:-1] if ln.endswith("\r") else ln for ln in iter_lines(text)]
        for first, n in spans:
            if 0 < first <= len(lines):
                out[(name, first)] = "\n".join(lines[first - 1 : first - 1 + n])
    return out


def _parse_one(fmt: Format, text: str) -> dict[str, object] | None:
    frame, stats = parse_bytes(text.encode("utf-8"), fmt, file="sample", node="sample-node")
    if frame.height != 1 or stats.malformed:
        return None
    return frame.row(0, named=True)


def _wanted(events: Sequence[DraftEvent]) -> dict[str, set[tuple[int, int]]]:
    """The records to read back: file -> (first line, number of lines) of each example."""
    wanted: dict[str, set[tuple[int, int]]] = {}
    for e in events:
        for ex in e.template.examples:
            wanted.setdefault(ex.file, set()).add((ex.line, ex.message.count("\n") + 1))
    return wanted


def with_samples(
    events: Sequence[DraftEvent], files: Sequence[LogFile], draft_fmt: Format
) -> list[DraftEvent]:
    """``events`` with their samples: the examples of each template read back verbatim from
    ``files`` that ``draft_fmt`` (the draft without samples) parses to that event.

    Raises SuggestError when an event keeps no sample."""
    texts = _record_texts(files, _wanted(events))
    out = []
    for e in events:
        samples = []
        for ex in e.template.examples:
            text = texts.get((ex.file, ex.line))
            if text is None or _SURROGATES.search(text):
                continue  # a TOML string cannot hold undecodable bytes verbatim
            row = _parse_one(draft_fmt, text)
            if row is None or row["kind"] != e.kind or row["message"] != ex.message:
                continue
            fields = {c: str(row[c]) for c in FIELD_COLUMNS if row[c] is not None}
            samples.append((text, fields))
        if not samples:
            raise SuggestError(
                f"{e.kind}: no record of template {e.template.text!r} could be read back "
                "verbatim from its file for a sample"
            )
        out.append(DraftEvent(e.kind, e.regex, e.template, e.fields, e.unnamed, tuple(samples)))
    return out
