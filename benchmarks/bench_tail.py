"""Benchmark ``logdoctor tail``: write-to-output latency and the highest sustained write rate.

A writer appends ssosp log4j lines (token issued events, each carrying a sequence number) to a
file at a fixed rate, in batches every 10 ms, and renames the file away (rotation) every
``--rotate-every`` seconds. ``logdoctor tail --format jsonl`` runs as a separate process, as a
user runs it; a thread reads its output. For every line the benchmark records when the writer's
write returned and when its event came out of the tailer (CLOCK_MONOTONIC is shared by the
processes of one machine), and checks that every line came out exactly once, in order.

A rate is *sustained* when no line is lost or duplicated and the 99th percentile latency stays
within the target (250 ms): the tailer keeps up instead of falling behind.

    python benchmarks/bench_tail.py                      # default ladder of rates
    python benchmarks/bench_tail.py --rates 1000,20000 --seconds 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from logdoctor.ingest.formats.encoders import family

SSOSP = family("ssosp")
LOGGER = "oauth.TokenServlet"
CID = "C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a"
TARGET_P99 = 0.250


def line(seq: int, stamp: str | None = None) -> str:
    """One access-token line (parsers/ssosp.toml's template), numbered ``seq``."""
    stamp = stamp or time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    msg = SSOSP.message(
        "token.access.issued",
        user=f"u{seq}",
        client_id=CID,
        device="CSFU",
        grant="refresh_token",
        token_id=f"j{seq}",
        key="k",
        value=3600,
        server=None,
    )
    ts = f"{stamp},{seq % 1000:03d}"
    return (
        SSOSP.line(msg, ts=ts, level="INFO", thread="http-bio-8443-exec-14", logger=LOGGER) + "\n"
    )


def quantile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def run_rate(rate: int, seconds: float, rotate_every: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="ld-bench-tail-") as tmp:
        folder = Path(tmp) / "cucm-pub" / "tomcat" / "logs" / "ssosp" / "log4j"
        folder.mkdir(parents=True)
        log = folder / "ssosp00001.log"
        log.touch()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "logdoctor.cli",
                "tail",
                "--format",
                "jsonl",
                "--from-start",
                str(tmp),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1 << 16,
        )
        got: queue.Queue[tuple[float, int]] = queue.Queue()

        def reader() -> None:
            assert proc.stdout is not None
            # Cheap on purpose (no json.loads): this thread shares the writer's process.
            for raw in proc.stdout:
                now = time.monotonic()
                i = raw.find('"user": "u')
                # A line cut by a killed tailer (no closing brace) is skipped, as any reader must.
                if i >= 0 and raw.startswith('{"type": "event"') and raw.endswith("}\n"):
                    j = raw.index('"', i + 10)
                    got.put((now, int(raw[i + 10 : j])))

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        # Wait until the tailer is up: its first event is the probe line.
        written: list[float] = []
        fh = log.open("a", encoding="utf-8")
        fh.write(line(0))
        fh.flush()
        written.append(time.monotonic())
        seq = 1
        t_ready = time.monotonic()
        while got.empty():
            if time.monotonic() - t_ready > 30:
                raise SystemExit("the tailer did not start")
            fh.write(line(seq))
            fh.flush()
            written.append(time.monotonic())
            seq += 1
            time.sleep(0.05)
        tick = 0.01
        per_tick = rate * tick
        start = time.monotonic()
        next_rotate = start + rotate_every
        owed = 0.0
        rotations = 0
        while (now := time.monotonic()) - start < seconds:
            owed += per_tick
            n = int(owed)
            owed -= n
            if n:
                stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
                data = "".join([line(seq + i, stamp) for i in range(n)])
                t = time.monotonic()  # taken before the write: latencies are upper bounds
                fh.write(data)
                fh.flush()
                written.extend([t] * n)
                seq += n
            if now >= next_rotate:
                fh.close()
                os.rename(log, folder / f"ssosp00001.log.{rotations + 1}")
                rotations += 1
                fh = log.open("a", encoding="utf-8")
                next_rotate += rotate_every
            sleep = start + (int((now - start) / tick) + 1) * tick - time.monotonic()
            if sleep > 0:
                time.sleep(sleep)
        elapsed = time.monotonic() - start
        fh.close()
        total = seq
        arrivals: dict[int, float] = {}
        order_ok = True
        dups = 0
        last = -1
        deadline = time.monotonic() + 20
        while len(arrivals) < total and time.monotonic() < deadline:
            try:
                t, s = got.get(timeout=0.2)
            except queue.Empty:
                continue
            if s in arrivals:
                dups += 1
            arrivals[s] = t
            order_ok = order_ok and s > last
            last = max(last, s)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        steady = [arrivals[s] - written[s] for s in arrivals if s >= seq - int(rate * seconds)]
        lost = total - len(arrivals)
        p99 = quantile(steady, 0.99)
        return {
            "rate": rate,
            "achieved_rate": round(int(rate * seconds) / elapsed),
            "lines": total,
            "rotations": rotations,
            "lost": lost,
            "duplicates": dups,
            "in_order": order_ok,
            "p50_ms": round(quantile(steady, 0.50) * 1000, 1),
            "p99_ms": round(p99 * 1000, 1),
            "max_ms": round(max(steady) * 1000, 1) if steady else None,
            "mean_ms": round(statistics.fmean(steady) * 1000, 1) if steady else None,
            "sustained": lost == 0 and dups == 0 and order_ok and p99 <= TARGET_P99,
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rates", default="1000,5000,10000,20000,30000,40000")
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--rotate-every", type=float, default=2.0)
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    results = []
    for r in [int(x) for x in args.rates.split(",")]:
        res = run_rate(r, args.seconds, args.rotate_every)
        results.append(res)
        if not args.json:
            print(
                f"{r:>7,} lines/s: achieved {res['achieved_rate']:>7,}, lost {res['lost']}, "
                f"dup {res['duplicates']}, order {'ok' if res['in_order'] else 'BROKEN'}, "
                f"p50 {res['p50_ms']} ms, p99 {res['p99_ms']} ms, max {res['max_ms']} ms, "
                f"{res['rotations']} rotations -> {'sustained' if res['sustained'] else 'no'}",
                flush=True,
            )
    best = max((int(str(r["rate"])) for r in results if r["sustained"]), default=0)
    summary = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "results": results,
        "highest_sustained_rate": best,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"highest sustained rate (zero loss, p99 <= 250 ms): {best:,} lines/s")


if __name__ == "__main__":
    main()
