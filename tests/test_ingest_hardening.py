"""Hostile and damaged inputs (issue 12, the parse half; ../shared/reviews/reliability-repro/).

One test (or more) per reproduction: r1 threads sharing a tar stream, r6 FIFOs, r7 unreadable
folders, r8/r9 tar bombs, r10 devices, r13 NUL runs, r15 long lines; and the lower items:
truncated gzip, UTF-16, CSV formula injection, readable archive errors. Bombs are small: the
caps are scaled down through :class:`Limits`.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import polars as pl
import pytest

import logdoctor
from logdoctor.cli import main
from logdoctor.ingest.inputs import Limits
from logdoctor.ingest.load import open_inputs
from logdoctor.ingest.parse import MAX_RECORD_BYTES, LineParser, iter_lines, parse_bytes
from tests.helpers.paths import ROOT, asset

SSOSP = asset("verbatim/ssosp-ucm125.log").read_bytes()
SSOSP_REL = "tomcat/logs/ssosp/log4j/ssosp00001.log"
HEALTHY = ROOT / "sample_logs" / "healthy"
HEALTHY_SSOSP = HEALTHY / "ucm-pub" / SSOSP_REL
HEADER = b"2026-11-16 02:00:00,000 INFO  [main] oauth.TokenServlet - "
CID = "C" + "3b" * 32


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real command in its own process (a hang or a runaway read cannot take the suite)."""
    return subprocess.run(
        [sys.executable, "-m", "logdoctor.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _node_log(i: int, lines: int) -> bytes:
    """An ssosp log whose every user names its node (``f03u17`` is on node 03)."""
    return "".join(
        f"2026-11-16 02:00:{n % 60:02d},{n % 1000:03d} INFO  [http-bio-8443-exec-14] "
        f"oauth.TokenServlet - Access token issued: user=f{i:02d}u{n} client_id={CID} "
        f"device=CSFU grant=refresh_token jti=j{n} kid=k expires_in=3600 via=-\n"
        for n in range(lines)
    ).encode()


def _targz(members: dict[str, bytes], level: int = 6) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=level) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


# -- r1: a tar.gz inside a zip, parsed on many threads ---------------------------------------------


def test_nested_archives_on_eight_threads_equal_one_thread_byte_for_byte(tmp_path: Path) -> None:
    nodes = {f"node{i:02d}/{SSOSP_REL}": _node_log(i, 6000) for i in range(8)}
    inner_zip = _zip({f"nodez/{SSOSP_REL}": _node_log(90, 3000)})
    bundle = tmp_path / "zip_of_targz.zip"
    bundle.write_bytes(
        _zip({"collect/bundle.tar.gz": _targz(nodes), "collect/more/inner.zip": inner_zip})
    )
    one = tmp_path / "j1.jsonl"
    res = _cli("parse", str(bundle), "--format", "jsonl", "-j", "1", "-o", str(one))
    assert res.returncode == 0, res.stderr
    expected = one.read_bytes()
    events = [json.loads(line) for line in expected.splitlines()]
    assert len(events) == 8 * 6000 + 3000
    for ev in events:  # every event is in the file of its node
        node = ev["file"].split("!")[-1].split("/")[0].removeprefix("node")
        assert ev["user"].startswith(f"f{node}u") or (node == "z" and ev["user"][:3] == "f90")
    out = tmp_path / "j8.jsonl"
    res = _cli("parse", str(bundle), "--format", "jsonl", "-j", "8", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert out.read_bytes() == expected
    # The library too, on the event table as a whole: the race showed up in most runs, three
    # more make it near certain.
    single = logdoctor.load(bundle, jobs=1).frame
    for _ in range(3):
        assert logdoctor.load(bundle, jobs=8).frame.equals(single)


# -- r6 / r10: FIFOs, devices, links to devices --------------------------------------------------


def test_a_fifo_in_a_folder_is_ignored_by_name_and_never_opened(tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    shutil.copytree(HEALTHY, bundle)
    fifo = bundle / "ucm-pub" / "tomcat/logs/ssosp/log4j/ssosp00002.log"
    os.mkfifo(fifo)
    res = _cli("stats", str(bundle), "--format", "json", timeout=60)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["totals"]["lines"] == 2861 and doc["totals"]["errors"] == 0
    assert {"path": str(fifo), "reason": "not a regular file (named pipe)"} in doc["ignored"]


@pytest.mark.timeout(120)
def test_a_fifo_or_device_matched_by_a_glob_is_ignored_named_it_is_an_error(
    tmp_path: Path,
) -> None:
    d = tmp_path / "b"
    d.mkdir()
    shutil.copy(HEALTHY_SSOSP, d / "ssosp00001.log")
    os.mkfifo(d / "ssosp00002.log")
    (d / "ssosp00003.log").symlink_to("/dev/zero")
    res = _cli("stats", str(d / "*.log"), "--format", "json", timeout=60)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["totals"]["lines"] == 280
    assert {(Path(i["path"]).name, i["reason"]) for i in doc["ignored"]} == {
        ("ssosp00002.log", "not a regular file (named pipe)"),
        ("ssosp00003.log", "not a regular file (character device)"),
    }
    # Named: an error, still never opened (small caps: a regression could not eat the host).
    for name, kind in (("ssosp00002.log", "named pipe"), ("ssosp00003.log", "character device")):
        r = logdoctor.load(d / name, limits=Limits(max_file_bytes=1 << 20))
        assert [(e.path, e.message) for e in r.errors] == [
            (str(d / name), f"not a regular file ({kind})")
        ]
    # In a folder walk, the link is not followed.
    r = logdoctor.load(d)
    assert {(Path(i.path).name, i.reason) for i in r.ignored} == {
        ("ssosp00002.log", "not a regular file (named pipe)"),
        ("ssosp00003.log", "symbolic link (not followed)"),
    }


@pytest.mark.timeout(60)
def test_a_file_swapped_for_a_fifo_after_discovery_is_refused_not_waited_on(
    tmp_path: Path,
) -> None:
    p = tmp_path / "ssosp00001.log"
    p.write_bytes(SSOSP)
    loader = open_inputs(p)
    p.unlink()
    os.mkfifo(p)  # no writer: opening it for reading would block forever
    r = loader.result()
    assert [(e.path, e.message) for e in r.errors] == [(str(p), "not a regular file (named pipe)")]


# -- r7: a folder that cannot be listed ----------------------------------------------------------


def test_an_unreadable_folder_is_an_error_by_name_and_exit_2(
    runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "b"
    shutil.copytree(HEALTHY, bundle)
    locked = bundle / "ucm-sub9"
    (locked / "tomcat/logs/ssosp/log4j").mkdir(parents=True)
    shutil.copy(HEALTHY_SSOSP, locked / SSOSP_REL)
    real = os.scandir

    def scandir(path):  # the failure a chmod 000 folder gives a non-root user
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    r = logdoctor.load(bundle)
    assert [(e.path, e.message) for e in r.errors] == [
        (str(locked), "cannot read folder (Permission denied)")
    ]
    assert sum(s.lines for s in r.stats) == 2861  # the rest is read
    res = runner.invoke(main, ["stats", str(bundle)])
    assert res.exit_code == 2
    assert f"{locked}: cannot read folder (Permission denied)" in res.stderr


def test_an_unreadable_folder_for_real(tmp_path: Path) -> None:
    """chmod 000, read without the capability that lets root read anyway (as r7 does)."""
    bundle = tmp_path / "b"
    shutil.copytree(HEALTHY, bundle)
    locked = bundle / "ucm-sub9"
    (locked / "tomcat/logs/ssosp/log4j").mkdir(parents=True)
    shutil.copy(HEALTHY_SSOSP, locked / SSOSP_REL)
    cmd = [sys.executable, "-m", "logdoctor.cli", "stats", str(bundle), "--format", "json"]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: a chmod 000 folder stays readable")
        cmd = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--", *cmd]
    locked.chmod(0)
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        locked.chmod(0o755)
    assert res.returncode == 2, res.stderr
    assert f"{locked}: cannot read folder (Permission denied)" in res.stderr
    doc = json.loads(res.stdout)
    assert doc["totals"]["lines"] == 2861 and doc["totals"]["errors"] == 1


# -- r8 / r9: caps on every decompression layer --------------------------------------------------

SMALL = Limits(ratio_floor=64 << 10, max_ratio=20)
"""Caps scaled down 1,000 times, so a bomb is a few MiB of zeros."""
FILLER = random.Random(12).randbytes(100_000)
"""A file that does not compress (ignored, not a log): a compressed archive may expand to 20
times its size as a whole, so with it the archive has room to skip a 1 MiB bomb."""


def test_a_tar_member_bomb_inside_a_zip_is_refused_alone(tmp_path: Path) -> None:
    inner = _targz(
        {
            "ucm-a/platform/log/core.bin": FILLER,
            f"ucm-a/{SSOSP_REL}": SSOSP,
            "ucm-b/tomcat/logs/ssosp/log4j/ssosp00002.log": b"\0" * (1 << 20),
            f"ucm-c/{SSOSP_REL}": SSOSP,
        },
        level=9,
    )
    bundle = tmp_path / "outer.zip"
    bundle.write_bytes(_zip({"inner/bomb.tar.gz": inner}))
    r = logdoctor.load(bundle, limits=SMALL)
    assert [(e.path.split("!", 1)[1], e.message) for e in r.errors] == [
        (
            "inner/bomb.tar.gz!ucm-b/tomcat/logs/ssosp/log4j/ssosp00002.log",
            "refused, expands more than 20:1 (decompression bomb?)",
        )
    ]
    assert [(s.node, s.records) for s in r.stats if s.error is None] == [
        ("ucm-a", 21),
        ("ucm-c", 21),
    ]


def test_a_bomb_member_of_a_top_level_tar_gz_is_refused_alone(tmp_path: Path) -> None:
    logs = {p.relative_to(HEALTHY).as_posix(): p.read_bytes() for p in HEALTHY.rglob("*.log*")}
    first, *rest = sorted(logs)
    members = {first: logs[first], "ucm-pub/platform/log/ssoApp.log": b"\0" * (1 << 20)}
    members.update({name: logs[name] for name in rest})
    members["ucm-pub/platform/log/core.bin"] = FILLER
    arch = tmp_path / "bomb.tar.gz"
    arch.write_bytes(_targz(members, level=9))
    r = logdoctor.load(arch, limits=SMALL)
    assert [(e.path, e.message) for e in r.errors] == [
        (
            f"{arch}!ucm-pub/platform/log/ssoApp.log",
            "refused, expands more than 20:1 (decompression bomb?)",
        )
    ]
    # The good members, before and after the bomb, are all read (the ssosp files and the
    # clients' Jabber PRTs), every line of them.
    good = [s for s in r.stats if s.error is None]
    assert len(good) == len(logs) and len(logs) > 3
    assert sum(s.lines for s in good) == sum(data.count(b"\n") for data in logs.values())


def test_a_tar_gz_that_expands_too_much_as_a_whole_stops_there(tmp_path: Path) -> None:
    """Skipping a refused member costs decompression: the archive's own ratio bounds it."""
    members = {
        f"ucm-a/{SSOSP_REL}": SSOSP,
        "ucm-b/tomcat/logs/ssosp/log4j/ssosp00002.log": b"\0" * (16 << 20),
        f"ucm-c/{SSOSP_REL}": SSOSP,
    }
    arch = tmp_path / "bombs.tgz"
    arch.write_bytes(_targz(members, level=9))
    r = logdoctor.load(arch, limits=SMALL)
    assert [(e.path, e.message) for e in r.errors] == [
        (
            str(arch),
            "refused from member ucm-b/tomcat/logs/ssosp/log4j/ssosp00002.log on: the archive "
            "expands beyond 20:1 of its size (decompression bomb?)",
        )
    ]
    # Only ucm-a's file was read (its lines name its node 1cucm1251: the path says which).
    assert [s.path for s in r.stats if s.error is None] == [f"{arch}!ucm-a/{SSOSP_REL}"]


def test_a_tar_member_larger_than_the_cap_is_refused_without_reading_it(tmp_path: Path) -> None:
    arch = tmp_path / "b.tar"
    members = {f"ucm-a/{SSOSP_REL}": SSOSP, f"ucm-b/{SSOSP_REL}": SSOSP + b"x" * (2 << 20)}
    with tarfile.open(arch, "w") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    r = logdoctor.load(arch, limits=Limits(max_file_bytes=1 << 20))
    assert [(e.path, e.message) for e in r.errors] == [
        (f"{arch}!ucm-b/{SSOSP_REL}", "refused, size exceeds the cap (decompression bomb?)")
    ]
    assert [s.path for s in r.stats if s.error is None] == [f"{arch}!ucm-a/{SSOSP_REL}"]


# -- r13: NUL runs ---------------------------------------------------------------------------------


def test_a_header_after_a_nul_run_starts_its_record(runner, tmp_path: Path) -> None:
    lines = HEALTHY_SSOSP.read_bytes().splitlines(keepends=True)
    spliced = tmp_path / "ssosp00001.log"
    spliced.write_bytes(b"".join(lines[:99]) + b"\0" * 100 + b"".join(lines[99:]))
    res = runner.invoke(main, ["stats", str(spliced), "--format", "json"])
    assert res.exit_code == 0, res.output
    st = json.loads(res.stdout)["files"][0]
    assert (st["lines"], st["records"], st["malformed"], st["nul_bytes"]) == (280, 280, 0, 100)
    clean = logdoctor.load(HEALTHY_SSOSP).frame.drop("file", "node")
    assert logdoctor.load(spliced).frame.drop("file", "node").equals(clean)


def test_a_file_that_starts_with_a_hole_is_read_and_one_of_nuls_is_refused(
    tmp_path: Path,
) -> None:
    # A writer without O_APPEND after a copy-truncate leaves NULs where the old content was.
    hole = tmp_path / "ssosp00001.log"
    hole.write_bytes(b"\0" * 20000 + b"\n\0\0\0\n" + SSOSP)
    r = logdoctor.load(hole)
    assert not r.errors
    st = r.stats[0]
    assert (st.records, st.malformed, st.nul_bytes) == (21, 0, 20003)
    assert st.lines == st.record_lines + st.malformed == SSOSP.count(b"\n")
    assert r.frame["line"][0] == 3  # numbering counts the dropped lines of nothing but NULs
    nuls = tmp_path / "ssosp00002.log"
    nuls.write_bytes(b"\0" * 100000)
    r = logdoctor.load(nuls)
    assert [e.message for e in r.errors] == [
        "binary content (NUL or control bytes), not a text log"
    ]


# -- r15: bounded memory per line ----------------------------------------------------------------


def test_a_line_longer_than_the_cap_is_cut_and_counted(formats) -> None:
    big = HEADER + "é".encode() * (MAX_RECORD_BYTES // 2 + 10) + b"\n" + HEADER + b"next\n"
    frame, st = parse_bytes(big, formats["ssosp"], file="f", node="n")
    assert (st.lines, st.records, st.malformed, st.truncated) == (2, 2, 0, 1)
    first = frame["message"][0]
    assert len(HEADER) + len(first.encode()) <= MAX_RECORD_BYTES
    assert len(HEADER) + len(first.encode()) > MAX_RECORD_BYTES - 2  # cut at a character
    assert set(first) == {"é"} and frame["message"][1] == "next"
    lp = LineParser(formats["ssosp"], file="f", node="n")
    recs = [r for ln in iter_lines(big.decode()) for r in lp.feed(ln)] + lp.flush()
    assert [r.as_row() for r in recs] == frame.to_dicts()
    assert lp.stats.truncated == 1


def test_a_runaway_record_keeps_a_bounded_message_and_is_cut_into_bounded_chunks(
    formats,
) -> None:
    fmt = formats["ssosp"]
    trace = b"\tat com.example.Foo(Foo.java:1)" + b" " * 968 + b"\n"
    data = (
        b"junk before\n" * 3
        + HEADER
        + b"start\n"
        + trace * 10_000  # about 10 MB of continuation lines, no header
        + HEADER
        + b"next\n"
        + b"\0\0\n"
        + HEADER
        + b"end"
    )
    whole, ws = parse_bytes(data, fmt, file="f", node="n", chunk_bytes=1 << 30)
    assert (ws.lines, ws.records, ws.malformed, ws.truncated, ws.nul_bytes) == (
        10_006,
        3,
        3,
        1,
        2,
    )
    assert ws.lines == ws.record_lines + ws.malformed
    assert len(whole["message"][0].encode()) <= len("start\n") + MAX_RECORD_BYTES
    assert whole["line"].to_list() == [4, 10_005, 10_007]
    # Chunks of 1 MiB: the cut is forced inside the trace; nothing changes.
    parts, ps = parse_bytes(data, fmt, file="f", node="n", chunk_bytes=1 << 20, workers=2)
    assert parts.equals(whole)
    for attr in ("lines", "records", "record_lines", "malformed", "truncated", "nul_bytes"):
        assert getattr(ps, attr) == getattr(ws, attr), attr
    lp = LineParser(fmt, file="f", node="n")
    recs = [r for ln in iter_lines(data.decode()) for r in lp.feed(ln)] + lp.flush()
    assert [r.as_row() for r in recs] == whole.to_dicts()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_a_64_mib_line_costs_little_memory(tmp_path: Path) -> None:
    """Peak RSS of a whole `stats` process (13.6x the line before: about 900 MiB)."""
    p = tmp_path / "ssosp00001.log"
    with p.open("wb") as fh:
        fh.write(HEADER)
        for _ in range(64):
            fh.write(b"x" * (1 << 20))
    # VmHWM is this process's own peak (ru_maxrss would include the parent's, from the fork).
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from logdoctor.cli import main\n"
        "try:\n"
        "    main(['stats', sys.argv[1], '--format', 'json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "status = Path('/proc/self/status').read_text().splitlines()\n"
        "print(next(ln.split()[1] for ln in status if ln.startswith('VmHWM')), file=sys.stderr)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=120
    )
    peak_mib = int(res.stderr.strip().splitlines()[-1]) / 1024
    assert peak_mib < 450, peak_mib  # interpreter and polars ~100 MiB, the mapped file 64 MiB
    doc = json.loads(res.stdout)
    assert (doc["totals"]["lines"], doc["totals"]["truncated"]) == (1, 1)


# -- truncated gzip, UTF-16 ----------------------------------------------------------------------


def test_a_truncated_gzip_keeps_what_it_holds_and_says_so(runner, tmp_path: Path) -> None:
    whole = HEALTHY_SSOSP.read_bytes()
    packed = gzip.compress(whole)
    cut = tmp_path / "ssosp00001.log.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    r = logdoctor.load(cut)
    st = r.stats[0]
    assert 0 < st.records < 280 and st.error is None
    assert st.decode_errors == 1 and st.partial is not None
    assert [e.path for e in r.errors] == [str(cut)]
    assert r.errors[0].message.startswith("partly read, corrupt or truncated compressed data")
    kept = logdoctor.load(HEALTHY_SSOSP).frame.head(st.records - 1).drop("file", "node")
    assert r.frame.head(st.records - 1).drop("file", "node").equals(kept)  # the last may be cut
    res = runner.invoke(main, ["stats", str(cut), "--format", "json"])
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert doc["files"][0]["partial"].startswith("partly read")
    assert doc["totals"]["errors"] == 1 and doc["totals"]["records"] == st.records
    assert f"{cut}: partly read" in res.stderr
    # The same inside a zip.
    bundle = tmp_path / "b.zip"
    bundle.write_bytes(_zip({f"ucm-pub/{SSOSP_REL}.gz": packed[: len(packed) // 2]}))
    r = logdoctor.load(bundle)
    assert r.stats[0].records == st.records and r.stats[0].partial is not None
    assert [e.path for e in r.errors] == [f"{bundle}!ucm-pub/{SSOSP_REL}.gz"]


@pytest.mark.parametrize("mode", ["w:gz", "w"])
def test_a_truncated_tar_keeps_the_members_before_the_cut_and_part_of_the_cut_one(
    tmp_path: Path, mode: str
) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for i in range(3):
            data = _node_log(i, 2000)
            info = tarfile.TarInfo(f"node{i}/{SSOSP_REL}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    packed = buf.getvalue()
    arch = tmp_path / ("b.tar.gz" if mode == "w:gz" else "b.tar")
    arch.write_bytes(packed[: len(packed) * 5 // 6])
    r = logdoctor.load(arch)
    assert [s.records for s in r.stats[:2]] == [2000, 2000]
    assert [s.partial for s in r.stats[:2]] == [None, None]
    cut = r.stats[2]
    assert 500 < cut.records < 2000 and cut.decode_errors == 1
    assert cut.partial is not None and cut.partial.startswith("partly read")
    users = r.frame.filter(pl.col("node") == "node2")["user"].to_list()
    assert users[:-1] == [f"f02u{n}" for n in range(cut.records - 1)]  # the last may be cut
    assert [e.path for e in r.errors] == [str(arch), f"{arch}!node2/{SSOSP_REL}"]
    assert r.errors[0].message.startswith(
        f"truncated or corrupt archive in or after member node2/{SSOSP_REL}"
    )


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-8-sig"])
def test_utf16_and_byte_order_marks_are_decoded(tmp_path: Path, codec: str) -> None:
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-8-sig": b""}[codec]
    text = SSOSP.decode("utf-8").replace("\n", "\r\n")
    p = tmp_path / "b" / "ucm-pub" / "logs" / "weird-name.log"  # found by content, not name
    p.parent.mkdir(parents=True)
    p.write_bytes(bom + text.encode(codec))
    r = logdoctor.load(tmp_path / "b")
    assert not r.errors and len(r.stats) == 1
    st = r.stats[0]
    assert (st.family, st.records, st.malformed, st.decode_errors) == ("ssosp", 21, 0, 0)
    expected = logdoctor.load(asset("verbatim/ssosp-ucm125.log")).frame
    assert r.frame.drop("file", "node").equals(expected.drop("file", "node"))


def test_utf16_with_a_bad_code_unit_counts_it(tmp_path: Path) -> None:
    p = tmp_path / "ssosp00001.log"
    body = SSOSP.decode().encode("utf-16-le")
    p.write_bytes(b"\xff\xfe" + body[:200] + b"\x00\xdc" + body[200:])  # a lone low surrogate
    st = logdoctor.load(p).stats[0]
    assert (st.records, st.decode_errors) == (21, 1)


# -- CSV formula injection -----------------------------------------------------------------------


def test_csv_cells_that_could_start_a_formula_are_neutralised(runner, tmp_path: Path) -> None:
    hostile = (
        "2026-11-20 08:00:01,120 INFO  [x] oauth.TokenServlet - Access token issued: "
        'user==HYPERLINK("http://evil") client_id=+1 device=-2 grant=@SUM(1) jti=j kid=k '
        "expires_in=3600 via=-\n"
        "2026-11-20 08:00:02,000 INFO  [=cmd|' /C calc'!A0] x.Y - =1+1\n"
    )
    p = tmp_path / "ssosp00001.log"
    p.write_text(hostile)
    out = tmp_path / "ev.csv"
    res = runner.invoke(main, ["parse", str(p), "--format", "csv", "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = pl.read_csv(out, infer_schema=False).to_dicts()
    assert rows[0]["user"] == '\'=HYPERLINK("http://evil")'
    assert (rows[0]["client_id"], rows[0]["device"]) == ("'+1", "'-2")
    assert rows[1]["thread"] == "'=cmd|' /C calc'!A0"
    assert rows[1]["message"] == "'=1+1"
    assert rows[0]["time"] == "2026-11-20T08:00:01.120Z" and rows[0]["line"] == "1"
    for row in rows:  # no cell a spreadsheet would evaluate
        assert not any(v and v[0] in "=+-@\t\r" for v in row.values())
    # JSON lines keep the text as it is.
    res = runner.invoke(main, ["parse", str(p), "--format", "jsonl"])
    assert json.loads(res.stdout.splitlines()[1])["message"] == "=1+1"


# -- readable archive errors (ux review item 18) -------------------------------------------------


def test_corrupt_and_truncated_archives_say_so_plainly(tmp_path: Path) -> None:
    not_zip = tmp_path / "corrupt.zip"
    not_zip.write_bytes(b"this was never a zip file" * 10)
    good = _zip({f"ucm-pub/{SSOSP_REL}": SSOSP})
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(good[: len(good) // 2])
    not_tar = tmp_path / "corrupt.tar.gz"
    not_tar.write_bytes(gzip.compress(b"not a tar archive at all" * 100))
    r = logdoctor.load([not_zip, truncated, not_tar])
    msgs = {Path(e.path).name: e.message for e in r.errors}
    assert msgs == {
        "corrupt.zip": "not a zip archive (it does not start with a zip signature)",
        "truncated.zip": "truncated or corrupt zip (no central directory)",
        "corrupt.tar.gz": "not a compressed tar archive (invalid header)",
    }
