"""Simulator benchmark: 30 days of a 5,000-user cluster through the in-process token service.

Runs ``logdoctor.simulate.simulate`` on the healthy scenario in this process and reports wall
time, CPU time, peak RSS, what the service did (refresh grants, sign-ins, validations, from the
logs' line counts) and what was written (files, lines, bytes). The bundle stays in
``benchmarks/out/sim-<scenario>-<users>x<days>/`` for the parse benchmark
(``benchmarks/run.py --simulated``). Prints a Markdown table and writes
``benchmarks/out/simulate.json``.

    .venv/bin/python benchmarks/bench_simulate.py [--users 5000] [--days 30] [--scenario healthy]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections import Counter
from pathlib import Path

from logdoctor.simulate import simulate

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

_MARKERS = {
    "refresh grants": b"Refresh grant accepted:",
    "sign-ins (code)": b"Authorization code issued:",
    "implicit grants": b"grant=implicit",
    "refresh tokens issued": b"Refresh token issued:",
    "access tokens issued": b"Access token issued:",
}


def count(tree: Path) -> tuple[int, int, Counter[str]]:
    """Files, lines and marker counts of the bundle's plain log files."""
    files = lines = 0
    marks: Counter[str] = Counter()
    for p in sorted(tree.rglob("*.log")):
        files += 1
        with p.open("rb") as fh:
            for line in fh:
                lines += 1
                for name, needle in _MARKERS.items():
                    if needle in line:
                        marks[name] += 1
    return files, lines, marks


def main() -> None:
    """Run the simulation once, measure, print and save."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenario", default="healthy")
    ap.add_argument("--users", type=int, default=5000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    dest = OUT / f"sim-{a.scenario}-{a.users}x{a.days}"
    wall0, cpu0 = time.perf_counter(), time.process_time()
    summary = simulate(a.scenario, out=dest, replace=True, seed=a.seed, users=a.users, days=a.days)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    files, lines, marks = count(dest)
    load = os.getloadavg()
    rows = [
        ("scenario", f"{a.scenario}, seed {a.seed}"),
        ("users / Jabber and RTMT clients", f"{summary.users:,} / {summary.clients:,}"),
        ("virtual time", f"{a.days} days"),
        ("wall time", f"{wall:.1f} s"),
        ("CPU time", f"{cpu:.1f} s"),
        ("peak RSS", f"{rss / 2**20:.0f} MiB"),
        ("written", f"{files} log files, {lines:,} lines, {summary.bytes / 1e6:.0f} MB"),
        *((name, f"{n:,}") for name, n in sorted(marks.items())),
        ("lines per wall second", f"{lines / wall:,.0f}"),
        ("load average at the end (1/5/15 min)", " / ".join(f"{x:.1f}" for x in load)),
        ("cores", str(os.cpu_count())),
    ]
    print("| measure | value |")
    print("|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    result = {
        "scenario": a.scenario,
        "seed": a.seed,
        "users": summary.users,
        "clients": summary.clients,
        "days": a.days,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss": rss,
        "files": files,
        "lines": lines,
        "bytes": summary.bytes,
        "counts": dict(marks),
        "loadavg": load,
        "bundle": str(dest),
    }
    (OUT / "simulate.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
