"""``logdoctor tail`` under SIGKILL: a writer at a high rate with rotations, the tailer killed at
random moments and restarted with the same ``--state``; no line may be lost.

A writer process appends ssosp log4j lines (token issued events, each carrying a sequence
number: ``user=u<seq>``) at ``--rate`` lines/s in batches every 10 ms, and rotates the file
every ``--rotate-every`` seconds (``logrotate``: ``x.log.N`` becomes ``x.log.N+1`` and ``x.log``
becomes ``x.log.1``; ``rename-up``: ``x.log`` becomes ``x.log.<next N>``). ``logdoctor tail
--format jsonl --state S --from-start --no-rules`` runs as its own process, each instance
writing its stdout to its own file. Once an instance has written output, it is SIGKILLed after
a random delay, left down for a random time, and started again; the checkpoint on disk at each
kill is kept. After the writer stops, the last instance catches up and is stopped with SIGTERM.

Then, from the outputs alone:

* **lost**: sequence numbers written but in no output (must be 0);
* **order**: within each instance, sequence numbers strictly increase;
* **exact resume**: the first line an instance emits is the first line after what the checkpoint
  left by the kill before it covers, so its duplicates are exactly the lines the killed
  instance wrote after its last checkpoint (at most one checkpoint interval, 1 s);
* **torn**: a line that is not JSON may only be the last line of a killed instance's output.

Half of the kills (at random) come right after a checkpoint save, where a tailer that saved
its checkpoint before writing the batch lost that batch.

    python benchmarks/bench_tail_kill.py                       # 20,000 lines/s, 10 s, kills
    python benchmarks/bench_tail_kill.py --rate 5000 --seconds 6 --kills 5 --json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_tail import line

LOG = "ssosp00001.log"
SEQ = re.compile(rb'"user": "u(\d+)"')


# -- the writer (its own process) ---------------------------------------------------------------


def _rotate(folder: Path, style: str, n: int) -> None:
    log = folder / LOG
    if style == "rename-up":
        os.rename(log, folder / f"{LOG}.{n}")
        return
    for k in range(n - 1, 0, -1):  # logrotate: the oldest moves first
        os.rename(folder / f"{LOG}.{k}", folder / f"{LOG}.{k + 1}")
    os.rename(log, folder / f"{LOG}.1")


def writer(
    folder: Path, rate: int, seconds: float, rotate_every: float, style: str, stop: Path
) -> None:
    """Append numbered lines at ``rate`` lines/s, rotating, for ``seconds`` and then until the
    file ``stop`` exists (at most 4 x ``seconds``); print a summary."""
    log = folder / LOG
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    seq, owed, rotations, tick = 0, 0.0, 0, 0.01
    start = time.monotonic()
    next_rotate = start + rotate_every
    while (now := time.monotonic()) - start < seconds or (
        not stop.exists() and now - start < 4 * seconds
    ):
        owed += rate * tick
        n = int(owed)
        owed -= n
        if n:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
            data = memoryview("".join(line(seq + 1 + i, stamp) for i in range(n)).encode())
            while data:
                data = data[os.write(fd, data) :]
            seq += n
        if now >= next_rotate:
            os.close(fd)
            rotations += 1
            _rotate(folder, style, rotations)
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            next_rotate += rotate_every
        pause = start + (int((now - start) / tick) + 1) * tick - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    os.close(fd)
    elapsed = time.monotonic() - start
    print(json.dumps({"written": seq, "rotations": rotations, "elapsed": elapsed}), flush=True)


# -- the tailer instances -----------------------------------------------------------------------


@dataclass
class Instance:
    k: int
    proc: subprocess.Popen[bytes]
    out: Path
    killed: bool = False
    checkpoint: dict[str, Any] | None = None
    """The checkpoint on disk when this instance was killed."""
    checkpoint_age: float | None = None
    seqs: list[int] = field(default_factory=list)
    torn: int = 0
    bad: list[str] = field(default_factory=list)


def start_tailer(work: Path, k: int, root: Path, state: Path, extra: list[str]) -> Instance:
    out = work / f"out{k}.jsonl"
    cmd = [sys.executable, "-m", "logdoctor.cli", "tail", str(root), "--format", "jsonl"]
    cmd += ["--state", str(state), "--from-start", "--no-rules", *extra]
    with out.open("wb") as fh, (work / f"err{k}.txt").open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=err)
    return Instance(k, proc, out)


def _next_save(state: Path, w: subprocess.Popen[bytes]) -> None:
    """Return as soon as the checkpoint file is replaced (or the writer ends)."""
    try:
        before = state.stat().st_ino
    except OSError:
        before = -1
    while w.poll() is None:
        with contextlib.suppress(OSError):
            if state.stat().st_ino != before:  # saved by a rename over it: a new inode
                return
        time.sleep(0.0005)


def read_checkpoint(state: Path) -> tuple[dict[str, Any] | None, float | None]:
    try:
        doc = json.loads(state.read_bytes())
        return doc, time.time() - state.stat().st_mtime
    except (OSError, ValueError):
        return None, None


def parse_output(inst: Instance) -> None:
    raw = inst.out.read_bytes()
    rows = raw.split(b"\n")
    last = rows.pop()  # after the last newline: empty, or a line cut by the kill
    if last:
        inst.torn += 1
    for r in rows:
        try:
            doc = json.loads(r)
        except ValueError:
            inst.bad.append(r[:120].decode("utf-8", "replace"))
            continue
        if doc.get("type") == "event":
            m = SEQ.search(r)
            if m is not None:
                inst.seqs.append(int(m.group(1)))


def covered_by(checkpoint: dict[str, Any] | None, folder: Path) -> int:
    """The highest sequence number up to which a checkpoint covers every line (0: none)."""
    if not checkpoint or not checkpoint.get("files"):
        return 0
    by_inode: dict[int, Path] = {p.stat().st_ino: p for p in folder.iterdir()}
    unread: list[int] = []
    done: list[int] = []
    for e in checkpoint["files"]:
        path = by_inode.get(e["ino"])
        if path is None:
            raise AssertionError(f"checkpointed file {e['path']} not found")
        with path.open("rb") as fh:
            first_line = fh.readline()
            total = 1 + sum(1 for _ in fh) if first_line else 0
        m = re.search(rb"user=u(\d+)", first_line)
        if m is None:
            continue
        first = int(m.group(1))
        if e["line"] < total:
            unread.append(first + e["line"])
        else:
            done.append(first + e["line"] - 1)
    if unread:
        return min(unread) - 1
    return max(done, default=0)


@dataclass(frozen=True)
class Plan:
    """What one run does (the command line's options)."""

    rate: int = 20000
    seconds: float = 10.0
    """How long the writer writes (longer if ``min_kills`` are not done by then)."""
    rotate_every: float = 2.0
    style: str = "logrotate"
    kills: int = 10
    """At most this many SIGKILLs."""
    min_kills: int = 0
    """The writer goes on (up to 4 x ``seconds``) until this many kills are done: on a loaded
    machine a tailer can take seconds to start."""
    min_up: float = 0.2
    max_up: float = 1.2
    max_down: float = 0.8
    seed: int = 1
    extra: tuple[str, ...] = ()
    """More ``logdoctor tail`` options."""


def run(plan: Plan, work: Path | None = None) -> dict[str, Any]:
    """One run; the result holds the counts and the lists of what went wrong (empty if none)."""
    own = work is None
    work = Path(tempfile.mkdtemp(prefix="ld-tail-kill-")) if work is None else work
    try:
        return _run(plan, work)
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def _run(plan: Plan, work: Path) -> dict[str, Any]:
    rnd = random.Random(plan.seed)
    extra = list(plan.extra)
    root = work / "T"
    folder = root / "ucm-pub" / "tomcat" / "logs" / "ssosp" / "log4j"
    folder.mkdir(parents=True)
    state = work / "state.json"
    instances = [start_tailer(work, 0, root, state, extra)]
    # Let the first instance start before the writer (its first checkpoint says it has).
    deadline = time.monotonic() + 60
    while not state.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop = work / "writer.stop"
    if plan.min_kills <= 0:
        stop.touch()
    args = [str(folder), str(plan.rate), str(plan.seconds), str(plan.rotate_every), plan.style]
    w = subprocess.Popen(
        [sys.executable, __file__, "--writer", *args, str(stop)], stdout=subprocess.PIPE
    )
    t0 = time.monotonic()
    log: list[tuple[str, float]] = []
    kills = 0
    while w.poll() is None and kills < plan.kills:
        cur = instances[-1]
        # Kill only a working instance: wait for its first output, then a random while; every
        # other kill (at random) lands right after a checkpoint save, the moment where saving
        # before writing would lose the batch.
        while cur.out.stat().st_size == 0 and w.poll() is None:
            time.sleep(0.02)
        time.sleep(rnd.uniform(plan.min_up, plan.max_up))
        if rnd.random() < 0.5:
            _next_save(state, w)
        if w.poll() is not None:
            break
        cur.proc.send_signal(signal.SIGKILL)
        cur.proc.wait()
        cur.killed = True
        cur.checkpoint, cur.checkpoint_age = read_checkpoint(state)
        log.append(("kill", round(time.monotonic() - t0, 2)))
        kills += 1
        if kills >= plan.min_kills:
            stop.touch()
        time.sleep(rnd.uniform(0.0, plan.max_down))
        instances.append(start_tailer(work, len(instances), root, state, extra))
        log.append(("start", round(time.monotonic() - t0, 2)))
    stop.touch()
    out, _ = w.communicate(timeout=4 * plan.seconds + 120)
    written = json.loads(out)
    writer_done = time.monotonic()
    # The last instance catches up (its last line is the writer's last), then a clean stop.
    last = instances[-1]
    needle = f'"user": "u{written["written"]}"'.encode()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if last.proc.poll() is not None:
            break
        with contextlib.suppress(OSError):
            if needle in last.out.read_bytes()[-4096:]:
                break
        time.sleep(0.1)
    caught_up = time.monotonic() - writer_done
    last.proc.send_signal(signal.SIGTERM)
    try:
        last.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        last.proc.kill()
        last.proc.wait()
    res = _tally(instances, folder, written, log, caught_up, last.proc.returncode)
    return {"rate": plan.rate, "seed": plan.seed, **res}


def _tally(
    instances: list[Instance],
    folder: Path,
    written: dict[str, Any],
    log: list[tuple[str, float]],
    caught_up: float,
    last_rc: int,
) -> dict[str, Any]:
    total = int(written["written"])
    seen: set[int] = set()
    events = 0
    order_breaks: list[str] = []
    resume_errors: list[str] = []
    garbage: list[str] = []
    dups_per_restart: list[int] = []
    for i, inst in enumerate(instances):
        parse_output(inst)
        if inst.torn and not inst.killed:
            garbage.append(f"instance {i}: a torn last line without a kill")
        garbage += [f"instance {i}: not JSON: {b}" for b in inst.bad]
        breaks = sum(1 for a, b in zip(inst.seqs, inst.seqs[1:], strict=False) if b <= a)
        if breaks:
            order_breaks.append(f"instance {i}: {breaks} out of order")
        if i:
            before = instances[i - 1]
            covered = covered_by(before.checkpoint, folder)
            if inst.seqs and inst.seqs[0] != covered + 1:
                resume_errors.append(
                    f"instance {i} started at u{inst.seqs[0]}; the checkpoint at the kill "
                    f"covered up to u{covered}"
                )
            dups_per_restart.append(sum(1 for s in inst.seqs if s in seen))
        events += len(inst.seqs)
        seen.update(inst.seqs)
    lost = sorted(set(range(1, total + 1)) - seen)
    ages = [i.checkpoint_age for i in instances if i.checkpoint_age is not None]
    return {
        "written": total,
        "writer_s": round(written["elapsed"], 1),
        "rotations": written["rotations"],
        "writer_rate": round(total / written["elapsed"]),
        "kills": sum(1 for i in instances if i.killed),
        "schedule": log,
        "events_out": events,
        "lost": len(lost),
        "lost_sample": lost[:10],
        "duplicates": events - len(seen),
        "duplicates_per_restart": dups_per_restart,
        "max_checkpoint_age_at_kill_s": round(max(ages), 2) if ages else None,
        "order_breaks": order_breaks,
        "resume_errors": resume_errors,
        "torn_lines": sum(i.torn for i in instances),
        "garbage": garbage,
        "caught_up_s_after_writer": round(caught_up, 1),
        "last_exit_code": last_rc,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--writer":
        folder, rate, seconds, every, style, stop = sys.argv[2:8]
        writer(Path(folder), int(rate), float(seconds), float(every), style, Path(stop))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rotate-every", type=float, default=2.0)
    ap.add_argument("--style", choices=["logrotate", "rename-up"], default="logrotate")
    ap.add_argument("--kills", type=int, default=10, help="at most this many SIGKILLs")
    ap.add_argument(
        "--min-kills", type=int, default=0, help="write on (up to 4x --seconds) until this many"
    )
    ap.add_argument("--max-down", type=float, default=0.8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    a = ap.parse_args()
    res = run(
        Plan(
            rate=a.rate,
            seconds=a.seconds,
            rotate_every=a.rotate_every,
            style=a.style,
            kills=a.kills,
            min_kills=a.min_kills,
            max_down=a.max_down,
            seed=a.seed,
        )
    )
    res["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    if a.json:
        print(json.dumps(res, indent=1))
        return
    ok = not (res["lost"] or res["order_breaks"] or res["resume_errors"] or res["garbage"])
    print(
        f"{a.rate:,} lines/s for {res['writer_s']} s ({res['writer_rate']:,} achieved), "
        f"{res['rotations']} rotations ({a.style}), {res['kills']} SIGKILLs: "
        f"{res['written']:,} lines, lost {res['lost']}, duplicates {res['duplicates']:,} "
        f"(per restart {res['duplicates_per_restart']}), order breaks "
        f"{len(res['order_breaks'])}, inexact resumes {len(res['resume_errors'])}, torn lines "
        f"{res['torn_lines']} (last lines of killed runs), checkpoint age at kill <= "
        f"{res['max_checkpoint_age_at_kill_s']} s, caught up {res['caught_up_s_after_writer']} s "
        f"after the writer -> {'OK' if ok else 'FAIL'}"
    )
    for k in ("order_breaks", "resume_errors", "garbage"):
        for x in res[k][:5]:
            print(f"  {k}: {x}")


if __name__ == "__main__":
    main()
