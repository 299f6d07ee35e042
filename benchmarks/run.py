"""Parse benchmark: logdoctor against grep -c and lnav on the same 1 M-line ssosp file.

Runs each command as a child process (whole-process wall time, best of N, and the child's peak
RSS), prints a Markdown table and writes benchmarks/out/parse.json. Needs Debian's lnav for the
lnav row (skipped, and said so, when it is missing).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_ssosp import generate  # noqa: E402

OUT = HERE / "out"


def run(cmd: list[str], repeat: int, ok: tuple[int, ...] = (0,)) -> tuple[float, int]:
    """Best wall time over ``repeat`` runs and the largest peak RSS (bytes) of the child."""
    best = float("inf")
    peak = 0
    for _ in range(repeat):
        # Not /dev/null: GNU grep stops at the first match when it sees its output discarded.
        with (OUT / "stdout.tmp").open("wb") as sink:
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in ok:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"benchmark command failed ({proc.returncode}): {cmd}\n{err}")
        best = min(best, elapsed)
        peak = max(peak, usage.ru_maxrss * 1024)
    return best, peak


def simulated_input() -> Path:
    """One node's ssosp files of the simulated bundle, as one file (made once)."""
    bundle = OUT / "sim-healthy-5000x30"
    parts = sorted(bundle.glob("ucm-sub1/tomcat/logs/ssosp/log4j/ssosp*.log"))
    if not parts:
        raise SystemExit(f"{bundle}: run benchmarks/bench_simulate.py first")
    dest = OUT / "sim-ucm-sub1-ssosp.log"
    if not dest.exists():
        with dest.open("wb") as out:
            for p in parts:
                with p.open("rb") as fin:
                    shutil.copyfileobj(fin, out, 1 << 20)
    return dest


def main() -> None:
    """Generate the input if needed, time every tool, print and save the table."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--input", type=Path, default=None, help="use this file instead")
    ap.add_argument(
        "--simulated",
        action="store_true",
        help="use ucm-sub1's ssosp logs of the 5,000-user, 30-day simulation "
        "(benchmarks/bench_simulate.py writes it), concatenated in rotation order",
    )
    a = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    src = a.input or OUT / f"ssosp-{a.lines}.log"
    if a.simulated:
        src = simulated_input()
    elif a.input is None and not src.exists():
        generate(src, a.lines)
    size = src.stat().st_size
    with src.open("rb") as fh:
        nlines = sum(1 for _ in fh)
    logdoctor = str(Path(sys.executable).parent / "logdoctor")
    rows: list[tuple[str, str, float, int]] = []
    rows.append(
        (
            "grep -c",
            "count lines with ERROR",
            # grep exits 1 when nothing matches (a healthy simulated log has no ERROR line)
            *run(["grep", "-c", "ERROR", str(src)], a.repeat, ok=(0, 1)),
        )
    )
    if shutil.which("lnav"):
        q = ";SELECT log_level, count(*) FROM all_logs GROUP BY log_level"
        rows.append(
            ("lnav", "GROUP BY log_level", *run(["lnav", "-n", "-c", q, str(src)], a.repeat))
        )
    else:
        print("lnav not installed (apt-get install lnav): its row is missing", file=sys.stderr)
    jsonl = OUT / "events.jsonl"
    rows.append(
        (
            "logdoctor parse",
            "read, fold, extract, classify, write every event as JSONL",
            *run([logdoctor, "parse", str(src), "--format", "jsonl", "-o", str(jsonl)], a.repeat),
        )
    )
    rows.append(
        (
            "logdoctor stats",
            "parse and count per kind",
            *run([logdoctor, "stats", str(src), "--format", "json"], a.repeat),
        )
    )
    lnav_time = next((r[2] for r in rows if r[0] == "lnav"), None)
    print(
        f"\nInput: {src.name}, {nlines:,} lines, {size / 1e6:.0f} MB; best of {a.repeat}; "
        f"{os.cpu_count()} cores\n"
    )
    print("| tool | work | wall time | lines/s | peak RSS | vs lnav |")
    print("|---|---|---|---|---|---|")
    result = []
    for name, work, secs, rss in rows:
        ratio = f"{secs / lnav_time:.2f}x" if lnav_time else "n/a"
        print(
            f"| {name} | {work} | {secs:.3f} s | {nlines / secs / 1e6:.2f} M | "
            f"{rss / 2**20:.0f} MiB | {ratio} |"
        )
        result.append(
            {
                "tool": name,
                "work": work,
                "seconds": secs,
                "peak_rss": rss,
                "lines": nlines,
                "bytes": size,
            }
        )
    (OUT / "parse.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
