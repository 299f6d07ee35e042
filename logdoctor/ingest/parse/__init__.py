"""The parse engines: bulk (:mod:`.bulk`, polars, one file at a time) and line-at-a-time
(:mod:`.line`, Python ``re``); what both share is in :mod:`.common`.

Both read the same compiled format (:mod:`logdoctor.ingest.formats.spec`) and give the same
rows; the format loader checks that on every sample. Line semantics are fixed once: a line ends at
``\\n``, one trailing ``\\r`` is dropped, and a final line without ``\\n`` still counts. A line
that matches a header pattern starts a record; the lines after it that match none are its
continuation (a Java stack trace, an XML block, a certMgmt info dump) and are folded into its
message. Lines before the first header are *malformed*: counted, their numbers kept, never
dropped silently. Invariant (tested): ``lines == record_lines + malformed`` for every file.

Damaged content, as the live tail handles it: NUL bytes (the hole a writer without O_APPEND
leaves after a copy-truncate) are removed from lines and counted in ``nul_bytes``, and a line
that was nothing but NULs is dropped (line numbers still count it), so a header written after a
hole still starts its record. Memory per line is bounded: a line keeps at most
:data:`MAX_RECORD_BYTES` bytes and a record at most as many bytes of continuation lines; a
record cut so is counted in ``truncated`` (it still counts as a line and a record). A UTF-8
byte order mark is skipped.
"""

from logdoctor.ingest.parse.bulk import Chunk, iter_chunks, merge_stats, parse_bytes
from logdoctor.ingest.parse.common import MAX_RECORD_BYTES, decode, iter_lines
from logdoctor.ingest.parse.line import (
    LineParser,
    Record,
    classify_message,
    match_event,
)

__all__ = [
    "MAX_RECORD_BYTES",
    "Chunk",
    "LineParser",
    "Record",
    "classify_message",
    "decode",
    "iter_chunks",
    "iter_lines",
    "match_event",
    "merge_stats",
    "parse_bytes",
]
