"""Line assembly without files: bytes fed in any pieces come out as the file's lines."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from logdoctor.tail.follow_events import FollowEvent, FollowStats, Line
from logdoctor.tail.lines import FP_LEN, MAX_LINE, TAIL_LEN, LineState


def state(pos: int = 0, lineno: int = 0, *, auto_ack: bool = False) -> LineState:
    return LineState(seq=7, pos=pos, lineno=lineno, head=b"", tail=b"", auto_ack=auto_ack)


def feed(s: LineState, *chunks: bytes) -> tuple[list[Line], FollowStats]:
    out: list[FollowEvent] = []
    stats = FollowStats()
    for c in chunks:
        s.feed(c, out, stats)
    assert all(isinstance(e, Line) for e in out)
    return [e for e in out if isinstance(e, Line)], stats


def test_a_line_split_across_reads_comes_out_once_whole_with_its_offsets() -> None:
    s = state()
    got, stats = feed(s, b"2026-11-20 first", b" half", b"\nsecond\nthi")
    assert [(x.lineno, x.start, x.end, x.text) for x in got] == [
        (1, 0, 22, "2026-11-20 first half"),
        (2, 22, 29, "second"),
    ]
    assert all(x.stream == 7 for x in got)
    assert (s.pending, s.pos, s.consumed, s.lineno) == (b"thi", 32, 29, 2)
    assert (stats.lines, stats.bytes) == (2, 32)


def test_offsets_and_numbers_continue_from_where_reading_started() -> None:
    s = state(pos=1000, lineno=40)  # resumed at a checkpoint, or started at a file's end
    got, _ = feed(s, b"a\nbb\n")
    assert [(x.lineno, x.start, x.end) for x in got] == [(41, 1000, 1002), (42, 1002, 1005)]


def test_the_partial_line_is_emitted_only_when_finished() -> None:
    s = state()
    got, stats = feed(s, b"whole\nno newline yet")
    assert [x.text for x in got] == ["whole"]
    out: list[FollowEvent] = []
    s.finish_line(out, stats)
    assert out == [Line(7, 2, 6, 20, "no newline yet")]
    assert (s.pending, s.consumed) == (b"", 20)
    s.finish_line(out, stats)  # nothing pending: nothing more
    assert len(out) == 1


def test_nul_runs_are_removed_and_a_nul_only_line_is_dropped_but_counted() -> None:
    s = state(auto_ack=True)
    got, stats = feed(s, b"\0\0\0\0\nab\0\0c\nnext\n")
    assert [(x.lineno, x.text) for x in got] == [(2, "abc"), (3, "next")]
    assert stats.nul_bytes == 6 and stats.lines == 2
    assert (s.acked_off, s.acked_line) == (s.pos, 3)


def test_auto_ack_covers_a_dropped_nul_line_and_nothing_else_without_it() -> None:
    s = state(auto_ack=True)
    feed(s, b"\0\0\n")
    assert (s.acked_off, s.acked_line) == (3, 1)
    manual = state()
    feed(manual, b"x\n\0\n")
    assert (manual.acked_off, manual.acked_line) == (0, 0)  # the consumer acknowledges


def test_a_byte_order_mark_at_the_start_is_not_text() -> None:
    # The parse engines drop a UTF-8 BOM before the first line: the tail must too, or a BOM
    # file's first record would be malformed live and recognized by `parse`.
    s = state()
    got, stats = feed(s, b"\xef\xbb", b"\xbf2026-11-20 first\n\xef\xbb\xbfsecond\n")
    assert [(x.lineno, x.start, x.end, x.text) for x in got] == [
        (1, 0, 20, "2026-11-20 first"),
        (2, 20, 30, "\ufeffsecond"),  # only the file's first bytes can be a byte-order mark
    ]
    assert stats.lines == 2


def test_a_file_of_only_a_byte_order_mark_has_no_line_and_a_bom_newline_one_empty_line() -> None:
    s = state()
    got, stats = feed(s, b"\xef\xbb\xbf")
    out: list[FollowEvent] = []
    s.finish_line(out, stats)
    assert (got, out, stats.lines, s.lineno, s.pending) == ([], [], 0, 0, b"")
    got, stats = feed(state(), b"\xef\xbb\xbf\n")
    assert [(x.lineno, x.start, x.end, x.text) for x in got] == [(1, 0, 4, "")]


def test_a_line_longer_than_max_line_is_emitted_in_pieces() -> None:
    s = state()
    got, stats = feed(s, b"x" * (MAX_LINE + 5), b"tail\n")
    assert [len(x.text) for x in got] == [MAX_LINE + 5, 4]
    assert [(x.start, x.end) for x in got] == [(0, MAX_LINE + 5), (MAX_LINE + 5, MAX_LINE + 10)]
    assert stats.split_lines == 1


def test_cr_is_kept_and_bad_utf8_is_replaced() -> None:
    got, _ = feed(state(), b"dos line\r\n\xff\xfeok\n")
    assert [x.text for x in got] == ["dos line\r", "\ufffd\ufffdok"]


def test_head_and_tail_fingerprint_the_content() -> None:
    s = state()
    data = bytes(range(256)).replace(b"\n", b"") * 8
    feed(s, data[:100], b"\n", data[100:] + b"\nrest")
    assert s.head == (data[:100] + b"\n" + data[100:])[:FP_LEN]
    # The tail ends at the last whole line, never in the partial one.
    whole = data[:100] + b"\n" + data[100:] + b"\n"
    assert s.tail == whole[-TAIL_LEN:]


def test_rewind_forgets_the_partial_line_and_keeps_the_head_within_the_position() -> None:
    s = state()
    feed(s, b"ab\npartial")
    s.rewind()
    assert (s.pos, s.pending, s.head) == (3, b"", b"ab\n")
    got, _ = feed(s, b"partial done\n")  # read again from the copy that holds it whole
    assert [(x.lineno, x.start, x.text) for x in got] == [(2, 3, "partial done")]


@given(
    data=st.lists(st.sampled_from([b"a", b"\n", b"\0", b"\xc3\xa9", b"xyz", b"\r\n"])).map(
        b"".join
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=12),
)
def test_any_chunking_gives_the_lines_of_the_whole(data: bytes, cuts: list[int]) -> None:
    edges = sorted({c for c in cuts if c < len(data)} | {0, len(data)})
    pieces = [data[a:b] for a, b in itertools.pairwise(edges)]
    got, _ = feed(state(), *pieces)
    want, off = [], 0
    for n, raw in enumerate(data.split(b"\n")[:-1], start=1):
        end = off + len(raw) + 1
        if raw.replace(b"\0", b"") or not raw:  # an empty line stays; a NUL-only one goes
            want.append(Line(7, n, off, end, raw.replace(b"\0", b"").decode("utf-8", "replace")))
        off = end
    assert got == want
