"""A big file is parsed from a read mapping: the pages of the chunks already parsed leave the
process's resident memory as it goes (else the whole file stays resident until its end)."""

from __future__ import annotations

import re
from pathlib import Path

from logdoctor.ingest.parse import iter_chunks
from tests.test_parse_stream import _SSOSP, _chunks

_MAPPING = re.compile(r"^[0-9a-f]+-[0-9a-f]+ ")


def _resident_kib(path: Path) -> int:
    """Resident KiB of this process's mappings of ``path`` (``/proc/self/smaps``)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if _MAPPING.match(line):
            inside = line.rstrip().endswith(str(path))
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total


def _plain_log(records: int) -> bytes:
    """ssosp lines of one record each (no long trace: cutting chunks reads only their ends)."""
    return "".join(
        f"2026-11-02 07:{i // 6000 % 60:02d}:{i // 100 % 60:02d},{i % 1000:03d} INFO  "
        f"[exec-{i % 7}] oauth.TokenValidator - Token validated: server=imp1 user=u{i} "
        f"client_id=C1 jti=j{i} kid=k1\n"
        for i in range(records)
    ).encode()


def test_parsed_chunks_of_a_mapped_file_leave_resident_memory(tmp_path: Path) -> None:
    path = tmp_path / "ssosp00001.log"
    data = _plain_log(60_000)
    path.write_bytes(data)
    chunk = 1 << 20
    assert len(data) > 6 * chunk
    resident = [
        (c.end, _resident_kib(path))
        for c in iter_chunks(path, _SSOSP, file="f", node="n", workers=1, chunk_bytes=chunk)
    ]
    assert len(resident) >= 6
    # The mapping is resident while it is parsed (the kernel maps ahead of the reads, so the
    # first chunks may show much of the file); by the last chunk, no more than about that
    # chunk is: without the release, the whole file is.
    assert resident[0][1] > 0
    assert resident[-1][1] * 1024 <= 2 * chunk + (256 << 10)
    # The same chunks as parsing the bytes themselves.
    assert _chunks(path, chunk) == _chunks(data, chunk)
