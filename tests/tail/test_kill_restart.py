"""``logdoctor tail --format jsonl --state`` SIGKILLed and restarted: no line is lost, order is
kept, and a restart emits again only what the killed run wrote after its last checkpoint.

The real CLI in its own process, a real writer process with rotations, real SIGKILLs. The
rate here is modest so that the test holds on a loaded 2-core machine; the 20,000 lines/s,
many-kill version is ``benchmarks/bench_tail_kill.py``.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_tail import line
from bench_tail_kill import (
    Instance,
    Plan,
    covered_by,
    parse_output,
    read_checkpoint,
    run,
    start_tailer,
)

pytestmark = pytest.mark.slow


def test_a_kill_right_after_the_first_checkpoint_loses_nothing(tmp_path: Path) -> None:
    """The reliability review's defect 2: with a backlog, the first checkpoint is saved while
    the first batch is large; a kill as soon as it appears must find that batch written."""
    folder = tmp_path / "T/ucm-pub/tomcat/logs/ssosp/log4j"
    folder.mkdir(parents=True)
    n = 30000
    with (folder / "ssosp00001.log").open("w", encoding="utf-8") as fh:
        fh.writelines(line(s, "2026-11-16 02:00:00") for s in range(1, n + 1))
    state = tmp_path / "state.json"
    first = start_tailer(tmp_path, 0, tmp_path / "T", state, [])
    deadline = time.monotonic() + 60
    while not state.exists():
        assert time.monotonic() < deadline, "no checkpoint within 60 s"
        time.sleep(0.0005)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    checkpoint, _ = read_checkpoint(state)
    covered = covered_by(checkpoint, folder)
    assert covered > 0
    second = start_tailer(tmp_path, 1, tmp_path / "T", state, [])
    try:
        wait_for_seq(second, n)
    finally:
        second.proc.send_signal(signal.SIGTERM)
        second.proc.wait(timeout=60)
    assert second.proc.returncode == 0
    parse_output(first)
    parse_output(second)
    # Everything the checkpoint covers was written before it was saved...
    assert set(range(1, covered + 1)) <= set(first.seqs)
    # ... and the restart starts right after it: nothing lost, in order.
    assert second.seqs == list(range(covered + 1, n + 1))
    assert first.bad == [] and second.bad == [] and second.torn == 0


def wait_for_seq(inst: Instance, seq: int, timeout: float = 120.0) -> None:
    needle = f'"user": "u{seq}"'.encode()
    deadline = time.monotonic() + timeout
    while needle not in inst.out.read_bytes()[-4096:]:
        assert inst.proc.poll() is None, "the tailer exited"
        assert time.monotonic() < deadline, f"u{seq} did not come out within {timeout} s"
        time.sleep(0.1)


@pytest.mark.parametrize("style", ["logrotate", "rename-up"])
def test_random_kills_during_fast_writes_with_rotations(tmp_path: Path, style: str) -> None:
    seed = int.from_bytes(os.urandom(2), "big")  # in the failure message, to replay it
    plan = Plan(
        rate=4000,
        seconds=8.0,
        rotate_every=1.5,
        style=style,
        kills=6,
        min_kills=3,
        min_up=0.1,
        max_up=0.8,
        max_down=0.5,
        seed=seed,
    )
    res = run(plan, work=tmp_path)
    keys = ("written", "rotations", "kills", "duplicates", "schedule")
    summary = {"seed": seed, **{k: res[k] for k in keys}}
    assert res["kills"] >= 3, summary  # the harness did its job
    assert res["rotations"] >= 3, summary
    assert res["lost"] == 0, (res["lost_sample"], summary)
    assert res["order_breaks"] == [], summary
    assert res["resume_errors"] == [], summary  # duplicates: only what followed a checkpoint
    assert res["garbage"] == [], summary  # a torn line only as a killed run's last line
    assert res["last_exit_code"] == 0, summary


def test_a_stop_while_a_write_is_blocked_saves_no_checkpoint_past_the_output(
    tmp_path: Path,
) -> None:
    """The reader of stdout stalls: the first batch's write blocks. A first SIGTERM only asks
    for a clean stop (the write is still under way); a second one stops at once (exit 130),
    and no checkpoint covers the batch that was not written."""
    folder = tmp_path / "T/ucm-pub/tomcat/logs/ssosp/log4j"
    folder.mkdir(parents=True)
    with (folder / "ssosp00001.log").open("w", encoding="utf-8") as fh:
        fh.writelines(line(s, "2026-11-16 02:00:00") for s in range(1, 20001))
    state = tmp_path / "state.json"
    cmd = [sys.executable, "-m", "logdoctor.cli", "tail", str(tmp_path / "T"), "--no-rules"]
    p = subprocess.Popen(
        [*cmd, "--format", "jsonl", "--from-start", "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert p.stdout is not None
        ready, _, _ = select.select([p.stdout], [], [], 60)  # it has begun to write
        assert ready, "no output within 60 s"
        time.sleep(0.5)  # the pipe (64 KiB) is full long before the first batch is written
        p.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert p.poll() is None  # still in the write: a first signal waits for it
        assert not state.exists()
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 130, err
    assert not state.exists()  # nothing was saved: the next run starts from the start again
    assert b"logdoctor: interrupted" in err
