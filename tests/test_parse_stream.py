"""A file parsed as it arrives piece by piece (a compressed file decompressed on a thread)
gives exactly the chunks, rows and statistics of the same bytes parsed at once."""

from __future__ import annotations

import dataclasses
import gzip
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

import logdoctor
from logdoctor.ingest import inflate
from logdoctor.ingest.formats.catalog import load_formats
from logdoctor.ingest.inflate import Inflated
from logdoctor.ingest.inputs import Limits, SourceError
from logdoctor.ingest.parse import MAX_RECORD_BYTES, iter_chunks
from logdoctor.ingest.parse.window import Window

_SSOSP = next(f for f in load_formats(check=False) if f.name == "ssosp")


def _log(records: int, seed: int = 7) -> bytes:
    """ssosp lines with stack traces, a few NUL runs and a runaway trace past the record cap."""
    rnd = random.Random(seed)
    out: list[str] = ["orphan line before any header"]
    for i in range(records):
        out.append(
            f"2026-11-02 07:{i // 6000 % 60:02d}:{i // 100 % 60:02d},{i % 1000:03d} INFO  "
            f"[exec-{i % 7}] oauth.TokenValidator - Token validated: server=imp1 user=u{i} "
            f"client_id=C1 jti=j{i} kid=k1"
        )
        if rnd.random() < 0.05:
            out.extend(f"\tat com.example.Foo.bar(Foo.java:{k})" for k in range(3))
        if i == records // 2:
            out.extend("\tat runaway" + "x" * 1000 for _ in range(MAX_RECORD_BYTES // 250))
    text = "\n".join(out) + "\n"
    data = text.encode()
    return data.replace(b"exec-3]", b"exec-3]\x00\x00", 5)


@dataclasses.dataclass
class _Pieces:
    data: bytes
    sizes: tuple[int, ...]

    def pieces(self) -> Iterator[bytes]:
        pos, k = 0, 0
        while pos < len(self.data):
            size = self.sizes[k % len(self.sizes)]
            yield self.data[pos : pos + size]
            pos, k = pos + size, k + 1


def _chunks(data: object, chunk_bytes: int, workers: int = 1) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    chunks = iter_chunks(
        data,  # type: ignore[arg-type]
        _SSOSP,
        file="f",
        node="n",
        workers=workers,
        chunk_bytes=chunk_bytes,
    )
    for c in chunks:
        st = dataclasses.asdict(c.stats)
        out.append((c.start, c.end, c.lines, c.continues, c.frame.to_dicts(), st))
    return out


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_pieces_give_the_chunks_of_the_whole(bom: bytes, workers: int) -> None:
    """Chunks parsed one after another or side by side (``workers``), in order."""
    data = bom + _log(40_000)
    assert len(data) > 3 * (1 << 20) + 2 * MAX_RECORD_BYTES  # several rounds of held bytes
    whole = _chunks(data, 1 << 20)
    assert len(whole) > 4 and any(c[3] for c in whole)  # a forced cut is among them
    for sizes in ((1 << 20,), (7, 65_536, 3_000_001), (len(data),)):
        assert _chunks(_Pieces(data, sizes), 1 << 20, workers) == whole


@pytest.mark.parametrize("workers", [1, 2])
def test_pieces_opened_late_give_the_chunks_of_the_whole(workers: int) -> None:
    """Megabytes of lines before the first header, then three header lines and a runaway
    trace past the record cap: chunks without records, forced cuts with and without a record
    open, parsed side by side as one after another, give the chunks of the whole."""
    orphans = b"".join(b"orphan %d " % i + b"y" * 200 + b"\n" for i in range(15_000))
    head = (
        b"2026-11-02 07:00:00,000 INFO  [exec-1] oauth.TokenValidator - Token validated: "
        b"server=imp1 user=u client_id=C1 jti=j kid=k1\n"
    ) * 3
    runaway = b"\tat runaway" + b"x" * 1000 + b"\n"
    data = orphans + head + runaway * (3 * MAX_RECORD_BYTES // 1000) + _log(3_000)
    whole = _chunks(data, 1 << 20)
    records = [c[5]["records"] for c in whole]
    assert records[0] == 0 and records.count(0) >= 2  # chunks without a record
    assert any(c[3] for c in whole)  # a chunk continues a record
    for sizes in ((1 << 20,), (65_536, 3_000_001)):
        assert _chunks(_Pieces(data, sizes), 1 << 20, workers) == whole


@pytest.mark.parametrize("workers", [1, 2])
def test_empty_and_bom_only_pieces(workers: int) -> None:
    for data in (b"", b"\xef\xbb\xbf"):
        assert _chunks(_Pieces(data, (1,)), 1 << 20, workers) == _chunks(data, 1 << 20)


def test_a_gzip_file_loads_as_the_plain_file(tmp_path: Path) -> None:
    data = _log(5_000)
    plain = tmp_path / "ssosp00001.log"
    plain.write_bytes(data)
    packed = tmp_path / "ssosp00002.log.gz"
    packed.write_bytes(gzip.compress(data))
    a, b = logdoctor.load(plain), logdoctor.load(packed)
    assert a.frame.drop("file").equals(b.frame.drop("file"))
    sa, sb = a.stats[0], b.stats[0]
    assert (sa.lines, sa.records, sa.malformed, sa.bytes) == (
        sb.lines,
        sb.records,
        sb.malformed,
        sb.bytes,
    )
    assert sb.partial is None and b.errors == []


def test_a_truncated_stream_keeps_every_byte_before_the_cut(tmp_path: Path) -> None:
    data = _log(20_000)
    packed = gzip.compress(data)
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(packed[: len(packed) * 2 // 3])
    inflated = Inflated(cut, Limits())
    got = inflated.read_all()
    assert got and data.startswith(got)  # nothing before the cut is lost
    assert inflated.partial is not None and inflated.partial.startswith("partly read")
    assert inflated.decode_errors == 1 and inflated.size == len(got)


def test_a_stream_that_does_not_decompress_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.log.gz"
    bad.write_bytes(b"\x1f\x8b" + b"\xff" * 100)
    with pytest.raises(SourceError, match="corrupt or truncated compressed data"):
        Inflated(bad, Limits())


def test_a_stream_past_the_ratio_cap_stops_there(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.log.gz"
    bomb.write_bytes(gzip.compress(b"2026-11-02 07:00:00,000 INFO  [t] a.B - x\n" * 200_000))
    limits = Limits(max_ratio=20, ratio_floor=1 << 20)
    inflated = Inflated(bomb, limits)
    got = inflated.read_all()
    assert len(got) < 8 << 20
    assert inflated.partial is not None and "expands more than 20:1" in inflated.partial


def test_stopping_early_ends_the_thread(tmp_path: Path) -> None:
    f = tmp_path / "x.log.gz"
    f.write_bytes(gzip.compress(_log(20_000)))
    inflated = Inflated(f, Limits())
    assert inflated.mentions([b"Token validated"])
    assert not Inflated(f, Limits()).mentions([b"no such text"])


def test_stopping_at_the_head_closes_the_file(tmp_path: Path) -> None:
    """A reader that stops at the first piece (``mentions`` finding its text in the first
    64 KiB) closes the file then, not when the object is collected."""
    f = tmp_path / "x.log.gz"
    f.write_bytes(gzip.compress(_log(20_000)))
    inflated = Inflated(f, Limits())
    held = len(os.listdir("/proc/self/fd"))
    assert inflated.mentions([b"orphan line before"])  # the file's first line
    assert len(os.listdir("/proc/self/fd")) == held - 1


def _inflate(path: Path) -> tuple[bytes, str | None, int, int]:
    inflated = Inflated(path, Limits())
    got = inflated.read_all()
    return got, inflated.partial, inflated.decode_errors, inflated.size


def _damaged(data: bytes) -> dict[str, bytes]:
    packed = gzip.compress(data)
    mid = len(packed) // 2
    return {
        "truncated": packed[: len(packed) * 2 // 3],
        "corrupt block": packed[:mid] + b"\x00" * 64 + packed[mid + 64 :],
        "bad crc": packed[:-8] + b"\x00\x00\x00\x00" + packed[-4:],
        "trailing garbage": packed + b"garbage after the member",
        "second member truncated": packed + packed[:mid],
    }


@pytest.mark.skipif(not inflate.HAVE_ISAL, reason="isal is not installed")
def test_isal_reads_a_damaged_gzip_exactly_as_zlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ISA-L and zlib stop at different points of a damaged stream, with different messages:
    the stream is handed to zlib there, so what is read is zlib's, byte for byte."""
    data = _log(20_000)
    for name, packed in _damaged(data).items():
        f = tmp_path / f"{name.replace(' ', '-')}.log.gz"
        f.write_bytes(packed)
        with monkeypatch.context() as m:
            m.setattr(inflate, "HAVE_ISAL", False)
            by_zlib = _inflate(f)
        assert by_zlib[1] is not None and by_zlib[0], name  # damaged, with bytes before it
        assert _inflate(f) == by_zlib, name


@pytest.mark.skipif(not inflate.HAVE_ISAL, reason="isal is not installed")
def test_an_intact_gzip_is_read_by_isal_to_its_end(tmp_path: Path) -> None:
    data = _log(20_000)
    f = tmp_path / "ok.log.gz"
    f.write_bytes(gzip.compress(data) + gzip.compress(b"second member\n"))
    inflated = Inflated(f, Limits())
    assert inflated.read_all() == data + b"second member\n"
    assert inflated._fast and inflated.partial is None  # never handed to zlib


def test_pieces_from_reused_buffers_give_the_chunks_of_the_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread decompresses into a few buffers over and over (a piece is valid until the
    next is asked for): with pieces far smaller than the file, every buffer is reused many
    times and the parser's window is moved down round after round, and the chunks are still
    those of the plain bytes; ``read_all`` keeps every piece (it copies each)."""
    monkeypatch.setattr(inflate, "PIECE_BYTES", 100_003)
    data = _log(40_000)
    f = tmp_path / "x.log.gz"
    f.write_bytes(gzip.compress(data, 1))
    assert len(data) > 20 * inflate.PIECE_BYTES * (inflate._AHEAD + 1)
    assert _chunks(Inflated(f, Limits()), 1 << 20) == _chunks(data, 1 << 20)
    assert _chunks(Inflated(f, Limits()), 1 << 20, workers=2) == _chunks(data, 1 << 20)
    assert Inflated(f, Limits()).read_all() == data


def test_the_window_moves_what_is_left_down_and_grows_for_a_big_piece() -> None:
    w = Window(8)
    w.add(b"abcdef")
    w.drop(4)
    assert (w.buf[: w.size], w.base) == (b"ef", 4)
    w.add(memoryview(b"0123456789"))  # past the buffer's end: it grows, what it held is kept
    assert (w.buf[: w.size], w.base) == (b"ef0123456789", 4)
    w.drop(w.size)
    assert (w.size, w.base) == (0, 16)
    w.close()
