"""The tailer reads each file with the format its whole lines and its name give, wherever
reading starts (at the end, from the start, a new file, a resumed one), and says so when a
file fits no format or is mostly unrecognized."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from logdoctor.ingest.detect import detect, detect_format, sniff_lines
from logdoctor.ingest.formats.catalog import load_formats
from logdoctor.ingest.parse import LineParser
from logdoctor.tail.tailer import Batch, Tailer

from .conftest import append
from .test_tailer import Sink, debug, n_events, node_dir, run, start

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_logs/inactive-user/ucm-pub/tomcat/logs/ssosp/log4j/ssosp00001.log"
"""An ssosp log whose first 1 KiB ends in the middle of a line that only the tolerant ssoApp
header fits: read from such a head, every event of the file became ``unrecognized``."""

FORMATS = load_formats(())


def sample_lines() -> list[str]:
    return SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)


def expected_kinds(lines: list[str]) -> Counter[str]:
    """The kinds the ssosp format gives these lines (the line engine, one record per line)."""
    [ssosp] = [f for f in FORMATS if f.name == "ssosp"]
    p = LineParser(ssosp, file="x", node="n")
    recs = [r for ln in lines for r in p.feed(ln.rstrip("\n"))] + p.flush()
    return Counter(r.kind for r in recs)


def test_the_sample_is_the_hard_case() -> None:
    head = SAMPLE.read_bytes()[:1024]
    assert not head.endswith(b"\n")
    assert expected_kinds(sample_lines()[5:105])["unrecognized"] == 0
    [ssoapp] = [f for f in FORMATS if f.name == "ssoapp"]
    cut = head.decode().rsplit("\n", 1)[1]
    assert any(h.regex.py.match(cut) for h in ssoapp.headers)  # the cut line fits ssoApp


def test_detection_uses_whole_lines_only() -> None:
    head = SAMPLE.read_bytes()[:1024]
    lines = sniff_lines(head)
    assert len(lines) == head.count(b"\n")  # the cut last line is left out
    assert detect_format(FORMATS, "ssosp00001.log", "ucm-pub/x/ssosp00001.log", head).name == (
        "ssosp"
    )
    assert sniff_lines(b"one line, no newline") == ["one line, no newline"]
    assert sniff_lines(b"a\r\n\r\nb\nc") == ["a", "b"]


def test_no_fitting_header_falls_back_to_the_name_and_says_so() -> None:
    d = detect(FORMATS, "ssosp00001.log", "ssosp00001.log", ["hello", "world"])
    assert (d.format.name, d.lines, d.ratio) == ("ssosp", 2, 0.0)
    d = detect(FORMATS, "ssosp00001.log", "ssosp00001.log", [])
    assert (d.format.name, d.lines) == ("ssosp", 0)


def collect(t: Tailer, n: int, timeout: float = 10.0) -> Batch:
    return run(t, n_events(n), timeout=timeout)


@pytest.mark.parametrize("mode", ["at_end", "from_start", "new_file", "state_resume"])
def test_format_from_whole_lines_in_every_start_mode(
    tmp_path: Path, tailers: list[Tailer], mode: str
) -> None:
    lines = sample_lines()
    folder = node_dir(tmp_path / "logs", "ucm-pub")
    log = folder / "ssosp00001.log"
    state = tmp_path / "state.json"
    kw: dict[str, object] = {"idle_flush": 0.05}
    first, then = lines[:5], lines[5:105]
    if mode == "new_file":
        t = start(tailers, tmp_path / "logs", **kw)
        # The file appears with half a line: nothing to detect from until whole lines come.
        with log.open("w", encoding="utf-8") as fh:
            fh.write(then[0][:40])
            fh.flush()
            t.step(0.2)
            fh.write(then[0][40:] + "".join(then[1:]))
        got = collect(t, len(then))
    else:
        log.write_text("".join(first), encoding="utf-8")
        if mode == "state_resume":
            s = start(
                tailers,
                tmp_path / "logs",
                state=state,
                from_start=True,
                sink=Sink(state, log),
                **kw,
            )
            collect(s, len(first))
            s.close()
            kw.update(state=state, sink=Sink(state, log))
        t = start(tailers, tmp_path / "logs", from_start=mode == "from_start", **kw)
        append(log, "".join(then))
        got = collect(t, len(then) + (len(first) if mode == "from_start" else 0))
        if mode == "from_start":
            got.events[:] = got.events[len(first) :]
    assert {e.family for e in got.events} == {"ssosp"}
    assert Counter(e.kind for e in got.events) == expected_kinds(then)
    assert [n for n in got.notices if n.kind in ("format", "unrecognized")] == []


def test_a_file_no_format_fits_is_a_notice(tmp_path: Path, tailers: list[Tailer]) -> None:
    log = node_dir(tmp_path) / "ssosp00001.log"
    log.write_text("".join(f"line {i} of something else\n" for i in range(30)), encoding="utf-8")
    t = start(tailers, tmp_path, from_start=True, idle_flush=0.05)
    b = run(t, lambda b: any(n.kind == "format" for n in b.notices))
    [n] = [n for n in b.notices if n.kind == "format"]
    assert n.path == str(log)
    assert "none of its first 30 line(s) fits a known log format; read as ssosp" in n.message
    assert b.events == []
    t.close()
    assert t.stats.malformed == 30


def test_a_file_whose_records_are_mostly_unrecognized_is_a_notice(
    tmp_path: Path, tailers: list[Tailer]
) -> None:
    log = node_dir(tmp_path) / "ssosp00001.log"
    log.touch()
    t = start(tailers, tmp_path, idle_flush=0.05)
    append(log, "".join(debug(s, f"a message no pattern knows {s}") for s in range(19)))
    b = run(t, n_events(19))
    assert {e.kind for e in b.events} == {"unrecognized"}
    assert [n for n in b.notices if n.kind == "unrecognized"] == []  # under 20 records: quiet
    append(log, debug(20, "one more") + debug(21, "servlet path :/showHome.do"))
    b = run(t, lambda b: any(n.kind == "unrecognized" for n in b.notices))
    [n] = [n for n in b.notices if n.kind == "unrecognized"]
    assert n.message.startswith(f"{log}: 20 of its first 20 records match no event pattern")
    append(log, "".join(debug(s, f"still unknown {s}") for s in range(20)))
    more = run(t, n_events(20))
    assert [n for n in more.notices if n.kind == "unrecognized"] == []  # once per file


def test_a_misdetected_file_would_be_noticed(tmp_path: Path, tailers: list[Tailer]) -> None:
    """The safety net behind detection: ssosp lines read as ssoApp (a format given by name,
    as a user's --formats-dir could) are mostly unrecognized, and that is a notice."""
    lines = sample_lines()[:60]
    log = tmp_path / "ssoApp.log"
    log.write_text("".join(lines), encoding="utf-8")
    t = start(tailers, log, from_start=True, idle_flush=0.05)
    b = run(t, lambda b: any(n.kind == "unrecognized" for n in b.notices))
    assert {e.family for e in b.events} == {"ssoapp"}
    [n] = [n for n in b.notices if n.kind == "unrecognized"]
    assert os.path.basename(n.path) == "ssoApp.log"
