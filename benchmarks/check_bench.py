"""How long `logdoctor check` takes on about a million events.

Input: the healthy rule case (tests/assets/rules/healthy/logs: two days of a small cluster)
replicated N times side by side (users, devices and token ids renamed per copy, times shifted
by up to an hour), so the result looks like a cluster with N times as many users. The bundle
is written under benchmarks/out/ as RTMT-style files, then timed:

- parse: ``logdoctor.load`` of the bundle;
- rules: correlation, inference and all rules on the loaded table (``check_context``);
- end to end: ``logdoctor.pipeline.check`` (what `logdoctor check DIR` does).

Usage: ``python benchmarks/check_bench.py [--copies N]`` (default: enough for ~1 M events).
"""

from __future__ import annotations

import argparse
import platform
import shutil
import time
from pathlib import Path

import polars as pl

import logdoctor
from logdoctor.pipeline import check, check_context
from logdoctor.rules import Context

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests" / "assets" / "rules" / "healthy" / "logs"
OUT = ROOT / "benchmarks" / "out" / "check-1m"


def build(copies: int, out: Path = OUT) -> int:
    """Write the replicated bundle under ``out`` (replacing it); returns the number of records
    written."""
    base = logdoctor.load(str(SOURCE)).frame
    frames = []
    for i in range(copies):
        shift = (i * 7919) % 3600  # seconds, deterministic
        sfx = f"x{i}"
        f = base.with_columns(
            (pl.col("time") + pl.duration(seconds=shift)).alias("time"),
            pl.col("message")
            .str.replace_all(r"(user=|user_id=)([a-z]+)", f"${{1}}${{2}}{sfx}")
            .str.replace_all(r"(device=)([A-Z]+)", f"${{1}}${{2}}{sfx.upper()}")
            .str.replace_all(r"(jti=|tid=)([0-9a-f-]{36})", f"${{1}}${{2}}-{i}")
            .alias("message"),
        )
        if i:
            f = f.filter(pl.col("kind") != "key.loaded")  # one cluster boots once
        frames.append(f)
    big = pl.concat(frames).sort("time")
    if out.exists():
        shutil.rmtree(out)
    lines = big.select(
        "node",
        "family",
        (
            pl.col("time").dt.strftime("%Y-%m-%d %H:%M:%S,%3f")
            + " "
            + pl.col("level").str.pad_end(5)
            + " ["
            + pl.col("thread")
            + "] "
            + pl.col("logger")
            + " - "
            + pl.col("message")
        ).alias("text"),
    )
    rel = {
        "ssosp": "tomcat/logs/ssosp/log4j/ssosp00001.log",
        "ssoapp": "platform/log/ssoApp.log",
    }
    for (node, family), part in lines.partition_by(["node", "family"], as_dict=True).items():
        path = out / str(node) / rel[str(family)]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(part["text"].to_list()) + "\n", encoding="utf-8")
    return big.height


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--copies", type=int, default=2500)
    args = ap.parse_args()
    n = build(args.copies)
    size = sum(p.stat().st_size for p in OUT.rglob("*.log"))
    t0 = time.perf_counter()
    result = logdoctor.load(str(OUT))
    t1 = time.perf_counter()
    ctx = Context(result.frame, result.stats)
    report = check_context(ctx)
    t2 = time.perf_counter()
    full = check([str(OUT)])
    t3 = time.perf_counter()
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print(f"input: {n:,} records, {size / 1e6:.0f} MB, {args.copies} copies of the healthy case")
    print(f"parse (logdoctor.load):        {t1 - t0:6.2f} s")
    print(f"rules (correlate + 33 rules):  {t2 - t1:6.2f} s  ({result.frame.height:,} events)")
    print(f"end to end (check):            {t3 - t2:6.2f} s")
    print(f"findings: {len(report.findings)} (end to end: {len(full.findings)})")
    for f in report.findings[:5]:
        print(f"  {f.rule} {f.severity} {f.subjects} {f.message[:80]}")


if __name__ == "__main__":
    main()
