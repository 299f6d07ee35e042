"""The follower on real files: appends, rotations, truncations, restarts, checkpoints."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from logdoctor.tail import CheckpointError, Follower, FollowError, Notice
from logdoctor.tail.identity import FP_MIN

from .conftest import append, pump, texts, until_lines

Make = Callable[..., Follower]


def lines(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:04d} some text long enough to be a real log line" for i in range(n)]


def block(ls: list[str]) -> str:
    return "".join(x + "\n" for x in ls)


def test_files_present_start_at_their_end_new_lines_follow(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "ssoApp.log"
    log.write_text(block(lines("old", 3)) + "partial-then-", encoding="utf-8")
    f = follow()
    new = lines("new", 2)
    append(log, "completed\n" + block(new))
    got = texts(pump(f, until_lines(3)))
    # The line that was being written at start is emitted whole, once its newline arrives.
    assert got == ["partial-then-completed", *new]
    assert f.files()[0].lines == 6  # line numbers count the lines before the start


def test_from_start_reads_existing_lines(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "ssoApp.log"
    old = lines("old", 3)
    log.write_text(block(old), encoding="utf-8")
    f = follow(from_start=True)
    assert texts(pump(f, until_lines(3))) == old


def test_checkpoint_wins_over_from_start_and_keeps_lines_written_while_down(
    tmp_path: Path, follow: Make
) -> None:
    log = tmp_path / "ssoApp.log"
    state = tmp_path / "state.json"
    first = lines("a", 3)
    log.write_text(block(first), encoding="utf-8")
    f = follow(from_start=True, state=state)
    assert texts(pump(f, until_lines(3))) == first
    f.save()
    f.stop()
    down = lines("b", 4)
    append(log, block(down))
    g = follow(from_start=True, state=state)
    got = texts(pump(g, until_lines(4)))
    got += texts(g.wind_down())
    assert got == down  # no line of `first` again, none of `down` lost


def test_partial_line_waits_for_its_newline(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "ssoApp.log"
    log.touch()
    f = follow()
    append(log, "first half of a line")
    deadline = time.monotonic() + 0.5
    seen = []
    while time.monotonic() < deadline:
        seen += texts(f.read(0.05))
    assert seen == []
    assert f.has_partial(f.files()[0].stream)
    append(log, " and its second half\n")
    assert texts(pump(f, until_lines(1))) == ["first half of a line and its second half"]


def test_rename_rotation_drains_old_file_then_reads_new_one(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "ssoApp.log"
    log.touch()
    f = follow(rotate_grace=0.3)
    writer = log.open("a", encoding="utf-8")  # the application keeps its descriptor
    held = lines("held", 1)
    writer.write(block(held))
    writer.flush()
    assert texts(pump(f, until_lines(1))) == held
    before = lines("old", 3)
    writer.write(block(before))
    writer.flush()
    os.rename(log, tmp_path / "ssoApp.log.1")
    late = lines("late", 1)  # written to the old file after the rename, before the reopen
    writer.write(block(late))
    writer.close()
    after = lines("new", 2)
    log.write_text(block(after), encoding="utf-8")
    events = pump(f, until_lines(6))
    assert texts(events) == before + late + after
    assert any(isinstance(e, Notice) and e.kind == "rotated" for e in events)


def test_rotated_partial_line_is_emitted_after_grace_before_new_lines(
    tmp_path: Path, follow: Make
) -> None:
    log = tmp_path / "ssoApp.log"
    log.touch()
    f = follow(rotate_grace=0.2)
    append(log, block(lines("old", 1)) + "cut short")
    pump(f, until_lines(1))
    t0 = time.monotonic()
    os.rename(log, tmp_path / "ssoApp.log.1")
    log.write_text(block(lines("new", 1)), encoding="utf-8")
    got = texts(pump(f, until_lines(2)))
    assert got == ["cut short", lines("new", 1)[0]]
    assert time.monotonic() - t0 >= 0.2  # the partial line waited for the grace period


def test_copytruncate_refilled_past_the_offset_is_detected_by_fingerprint(
    tmp_path: Path, follow: Make
) -> None:
    """The race that loses lines with a size-only check: the file is truncated and written
    again past the old read position before the next read."""
    log = tmp_path / "ssoApp.log"
    log.touch()
    f = follow()
    first = lines("a", 2)
    append(log, block(first))
    assert texts(pump(f, until_lines(2))) == first
    unread = lines("b", 2)  # written, then copied away before the follower read them
    append(log, block(unread))
    shutil.copyfile(log, tmp_path / "ssoApp.log.1")
    os.truncate(log, 0)
    refill = lines("c", 10)  # longer than what the follower had read
    append(log, block(refill))
    assert os.path.getsize(log) > len(block(first))
    events = pump(f, until_lines(12))
    assert texts(events + f.wind_down()) == unread + refill
    assert any(isinstance(e, Notice) and e.kind == "copy" for e in events)


def test_truncation_without_copy_is_reported_and_new_content_read(
    tmp_path: Path, follow: Make
) -> None:
    log = tmp_path / "ssoApp.log"
    log.touch()
    f = follow()
    append(log, block(lines("a", 2)))
    pump(f, until_lines(2))
    os.truncate(log, 0)
    append(log, block(lines("b", 1)))
    events = pump(f, until_lines(1))
    assert texts(events) == lines("b", 1)
    notes = [e for e in events if isinstance(e, Notice)]
    assert [n.kind for n in notes] == ["truncated"]
    assert str(log) in notes[0].message


def test_copytruncate_of_unread_content(tmp_path: Path, follow: Make) -> None:
    """The documented limit: content written and copy-truncated before the follower read any
    of it. From the follower's side the file only grew; the copy is a new file read after it.
    Every line still arrives exactly once."""
    log = tmp_path / "ssoApp.log"
    log.touch()
    state = tmp_path / "state.json"
    f = follow(state=state)
    f.read(0)
    f.save()
    f.stop()  # the follower holds the empty file and has read nothing of it
    unseen = lines("u", 3)
    append(log, block(unseen))
    shutil.copyfile(log, tmp_path / "ssoApp.log.1")
    os.truncate(log, 0)
    after = lines("n", 2)
    append(log, block(after))
    g = follow(state=state)
    got = texts(pump(g, until_lines(5)) + g.wind_down())
    assert sorted(got) == sorted(unseen + after)
    assert len(got) == len(set(got)) == 5


def test_delete_and_recreate_reads_deleted_file_to_its_end(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "ssoApp.log"
    log.touch()
    f = follow()
    a = lines("a", 2)
    append(log, block(a))
    pump(f, until_lines(2))
    b = lines("b", 3)  # not read yet when the file is deleted
    append(log, block(b))
    log.unlink()
    c = lines("c", 2)
    log.write_text(block(c), encoding="utf-8")
    assert texts(pump(f, until_lines(5))) == b + c


def test_inode_reused_after_restart_is_a_new_file(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "ssoApp.log"
    state = tmp_path / "state.json"
    log.write_text(block(lines("a", 3)), encoding="utf-8")
    f = follow(from_start=True, state=state)
    pump(f, until_lines(3))
    f.save()
    f.stop()
    old_ino = log.stat().st_ino
    log.unlink()
    fresh = lines("z", 8)  # longer than the old offset: resuming there would lose lines
    log.write_text(block(fresh), encoding="utf-8")
    g = follow(state=state)
    events = pump(g, until_lines(8))
    assert texts(events) == fresh
    lost = [e for e in events if isinstance(e, Notice) and e.kind == "lost"]
    assert len(lost) == 1 and str(log) in lost[0].message
    # ext4 usually hands the freed inode to the new file: that is the case this test is for.
    print("inode reused:", log.stat().st_ino == old_ino)


def test_nul_runs_are_removed(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "ssoApp.log"
    log.touch()
    f = follow()
    with log.open("r+b") as fh:  # a writer without O_APPEND writing past a truncation
        fh.seek(100)
        fh.write(b"after the hole\n\x00\x00\x00\nnext line\n")
    events = pump(f, until_lines(2))
    assert texts(events) == ["after the hole", "next line"]
    assert f.stats.nul_bytes == 103


def test_new_files_in_new_subfolders_are_read_from_their_start(
    tmp_path: Path, follow: Make
) -> None:
    f = follow()
    f.read(0)
    node = tmp_path / "cucm-sub1" / "platform" / "log"
    node.mkdir(parents=True)
    (node / "ssoApp.log").write_text(block(lines("s", 2)), encoding="utf-8")
    (node / "other.log").write_text("not followed\n", encoding="utf-8")
    events = pump(f, until_lines(2))
    assert texts(events) == lines("s", 2)
    assert [Path(x.path).name for x in f.files()] == ["ssoApp.log"]


def test_file_system_events_wake_the_follower_before_the_poll(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "ssoApp.log"
    log.touch()
    f = follow(poll_interval=30.0)
    f.read(0)
    append(log, block(lines("x", 1)))
    t0 = time.monotonic()
    assert texts(pump(f, until_lines(1), timeout=2.0)) == lines("x", 1)
    assert time.monotonic() - t0 < 2.0
    assert f.observer_kind != "polling"


def test_polling_observer(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "ssoApp.log"
    log.touch()
    f = follow(poll=True, poll_interval=0.1)
    assert f.observer_kind == "polling"
    f.read(0)
    append(log, block(lines("p", 2)))
    assert texts(pump(f, until_lines(2))) == lines("p", 2)


def test_checkpoint_is_written_atomically(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "ssoApp.log"
    state = tmp_path / "state.json"
    log.write_text(block(lines("a", 2)), encoding="utf-8")
    f = follow(from_start=True, state=state)
    pump(f, until_lines(2))
    f.save()
    doc = json.loads(state.read_text())
    [entry] = doc["files"]
    assert entry["offset"] == log.stat().st_size and entry["line"] == 2
    assert entry["ino"] == log.stat().st_ino and entry["head_len"] >= FP_MIN
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ssoApp.log", "state.json"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "bad JSON"),
        ('{"logdoctor_tail": 99}', "version 1 expected"),
        ('{"logdoctor_tail": 1, "roots": [], "files": [{"path": "x"}]}', r"files\[0\]\.dev"),
    ],
)
def test_bad_checkpoint_is_refused_naming_the_file(
    tmp_path: Path, content: str, problem: str
) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)
    f = Follower([tmp_path], match=lambda n, r: True, state=state)
    with pytest.raises(CheckpointError, match=rf"state\.json: .*{problem}"):
        f.start()
    f.stop()


def test_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FollowError, match="nope/deeper: no such file or folder"):
        Follower([tmp_path / "nope" / "deeper"], match=lambda n, r: True)


def test_rotated_file_is_drained_whole_however_far_behind(tmp_path: Path, follow: Make) -> None:
    """A file renamed away with megabytes unread when its grace period ends: all of it is
    read before its end is declared (a pass reads at most 1 MiB of a file otherwise)."""
    log = tmp_path / "ssoApp.log"
    log.touch()
    f = follow(rotate_grace=0.0)
    append(log, block(lines("h", 1)))
    pump(f, until_lines(1))
    many = lines("m", 60_000)  # about 3 MiB
    append(log, block(many))
    os.rename(log, tmp_path / "moved-away.txt")  # not a followed name: dropped once drained
    log.write_text(block(lines("n", 1)), encoding="utf-8")
    got = texts(pump(f, until_lines(60_001), timeout=20))
    assert got == many + lines("n", 1)
