"""`make bench`: one table of ratios, every command timed side by side with lnav in the same run.

Inputs (made once under benchmarks/out/):
- ``P``: ``gen_ssosp.py``'s 1 M-line ssosp file (every record recognized, key=value fields);
- ``U``: ``gen_unknown.py``'s 1 M-line file of mostly unrecognized records (78 %);
- ``check-1m`` / ``check-3m``: ``check_bench.build`` bundles (the healthy rule case replicated;
  about 1 M and 3 M events).

Each command runs as a child process paired with lnav (lnav, command, lnav, command, ...):
the ratio is taken pair by pair (so both saw the same machine load), then the median. CPU is
user + system time of the child (``wait4``), the stable figure on a shared machine; wall time
moves with the load. ``cold`` rows run with ``--no-cache``; ``first run`` rows with the cache
on and emptied before each run (what a first run on a bundle costs by default; the compiled
formats are kept, as after any earlier run); ``cache`` rows after one run that filled the
cache (a private folder under benchmarks/out/). The check/report rows give peak
RSS against the bundle's log bytes. logdoctor's modules are compiled to bytecode first, as an
installed package has them (with ``PYTHONDONTWRITEBYTECODE`` set, an editable checkout would
compile some 60 modules from source in every run: ~0.1 CPU-s a command). Prints a Markdown
table and writes benchmarks/out/speed.json.

Usage: ``python benchmarks/bench_speed.py [--pairs N] [--lines N] [--no-3m] [--bundles-only]
[--parse-only] [--files P,U]``; ``--parse-only`` times the parse and stats rows only (no
check/report bundles, a few minutes instead of about 20); ``--bundles-only`` the check/report
rows only.
"""

from __future__ import annotations

import argparse
import compileall
import gzip
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_ssosp import generate as gen_p  # noqa: E402
from gen_unknown import generate as gen_u  # noqa: E402

OUT = HERE / "out"
CACHE = OUT / "speed-cache"
BIN = Path(sys.executable).parent


@dataclass
class Timing:
    """One command's runs: wall and CPU seconds, peak RSS, and the paired lnav runs."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss: int = 0
    lnav_wall: list[float] = field(default_factory=list)
    lnav_cpu: list[float] = field(default_factory=list)


def _run(cmd: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float, int]:
    env = {**os.environ, "LOGDOCTOR_CACHE_DIR": str(CACHE)}
    env.pop("LOGDOCTOR_NO_CACHE", None)
    # polars, imported here by the generators, writes its allocator defaults into this
    # process's environment; a command started from a shell does not inherit them (the CLI
    # sets its own over them: logdoctor/cli/allocator.py, but the run is kept as a shell's)
    env.pop("_RJEM_MALLOC_CONF", None)
    with (OUT / "stdout.tmp").open("wb") as sink:  # not /dev/null: grep would stop early
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"benchmark command failed ({code}): {' '.join(cmd)}\n{err}")
    if proc.stderr:
        proc.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def paired(
    cmd: list[str], lnav: list[str] | None, pairs: int, before: Callable[[], None] | None = None
) -> Timing:
    """``pairs`` rounds of (lnav, cmd) after one unmeasured warm-up of each."""
    t = Timing()
    ok = (0, 1)  # check exits 1 on findings, grep when nothing matches
    if before:
        before()
    _run(cmd, ok)
    if lnav:
        _run(lnav)
    for _ in range(pairs):
        if lnav:
            w, c, _ = _run(lnav)
            t.lnav_wall.append(w)
            t.lnav_cpu.append(c)
        if before:
            before()
        w, c, r = _run(cmd, ok)
        t.wall.append(w)
        t.cpu.append(c)
        t.rss = max(t.rss, r)
    return t


def _ratio(a: list[float], b: list[float]) -> str:
    if not b:
        return "n/a"
    return f"{statistics.median(x / y for x, y in zip(a, b, strict=True)):.2f}x"


def _clear_cache() -> None:
    shutil.rmtree(CACHE, ignore_errors=True)


def _bundle(copies: int, name: str) -> tuple[Path, int]:
    """The ``copies``-copy bundle and its record count, built in a child process (this one
    stays small: a child's peak RSS counts the memory it was forked with).

    Built beside its final folder and renamed only when whole, with a ``.complete`` marker
    naming the copies and records; a folder without a marker that matches (a leftover of
    another size, or of an interrupted build) is built again, never reused.
    """
    dest = OUT / name
    marker = dest / ".complete"
    want = f"copies={copies}\n"
    if marker.exists() and marker.read_text().startswith(want):
        return dest, int(marker.read_text().split("records=")[1])
    tmp = OUT / f"{name}.building"
    code = (
        "import sys,pathlib,check_bench;"
        "print(check_bench.build(int(sys.argv[1]),pathlib.Path(sys.argv[2])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(copies), str(tmp)],
        check=True,
        cwd=HERE,
        capture_output=True,
        text=True,
    )
    records = int(done.stdout.split()[-1])
    (tmp / ".complete").write_text(f"{want}records={records}\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest, records


def _log_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    """Make the inputs, time everything, print one table, save the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--copies", type=int, default=2500, help="check bundle: ~400 events each")
    ap.add_argument("--no-3m", action="store_true", help="skip the 3 M-event bundle")
    ap.add_argument("--bundles-only", action="store_true", help="only the check/report rows")
    ap.add_argument(
        "--parse-only", action="store_true", help="only the parse/stats rows (no bundles)"
    )
    ap.add_argument("--files", default="P,U", help="which 1 M-line files: P, U or P,U")
    a = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    compileall.compile_dir(HERE.parent / "logdoctor", quiet=1)
    ld = str(BIN / "logdoctor")
    py = sys.executable
    lnav_q = ";SELECT log_level, count(*) FROM all_logs GROUP BY log_level"
    have_lnav = shutil.which("lnav") is not None
    if not have_lnav:
        print("lnav not installed (make sysdeps): ratios to lnav are missing", file=sys.stderr)
    rows: list[tuple[str, str, Timing, int]] = []
    files = [] if a.bundles_only else [x.strip() for x in a.files.split(",")]
    for label, gen in (("P", gen_p), ("U", gen_u)):
        if label not in files:
            continue
        src = OUT / f"speed-{label}-{a.lines}.log"
        if not src.exists():
            gen(src, a.lines)
        gz = src.with_suffix(".log.gz")
        if not gz.exists():
            with src.open("rb") as fin, gzip.open(gz, "wb", compresslevel=6) as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)
        lnav = ["lnav", "-n", "-c", lnav_q, str(src)] if have_lnav else None
        size = src.stat().st_size
        floor = (
            "import polars as pl,sys;"
            "print(pl.scan_lines(sys.argv[1]).select(pl.col('lines').str.extract("
            "r'^\\S+ \\S+ (\\w+)',1).alias('l')).group_by('l').len().collect())"
            if hasattr(__import__("polars"), "scan_lines")
            else "import polars as pl,sys;"
            "print(pl.read_csv(sys.argv[1],has_header=False,separator='\\x1f',quote_char=None,"
            "new_columns=['lines']).select(pl.col('lines').str.extract("
            "r'^\\S+ \\S+ (\\w+)',1).alias('l')).group_by('l').len())"
        )
        jsonl = ["parse", str(src), "--format", "jsonl", "-o", str(OUT / "events.jsonl")]
        jsonl_gz = ["parse", str(gz), "--format", "jsonl", "-o", str(OUT / "events.jsonl")]
        cmds: list[tuple[str, list[str], Callable[[], None] | None]] = [
            ("lnav GROUP BY log_level", lnav or ["true"], None),
            ("grep -c ERROR", ["grep", "-c", "ERROR", str(src)], None),
            ("polars floor (read, 1 regex, group by)", [py, "-c", floor, str(src)], None),
            ("logdoctor stats (cold)", [ld, "stats", str(src), "--no-cache"], None),
            ("logdoctor parse --format jsonl (cold)", [ld, *jsonl, "--no-cache"], None),
            ("logdoctor stats (first run, fills the cache)", [ld, "stats", str(src)], _clear_cache),
            ("logdoctor stats (cache)", [ld, "stats", str(src)], None),
            ("logdoctor parse --format jsonl (cache)", [ld, *jsonl], None),
            ("logdoctor stats FILE.gz (cold)", [ld, "stats", str(gz), "--no-cache"], None),
            ("logdoctor parse FILE.gz --format jsonl (cold)", [ld, *jsonl_gz, "--no-cache"], None),
        ]
        for name, cmd, before in cmds:
            print(f"{label}: {name}", file=sys.stderr)
            rows.append((f"{label}: {name}", label, paired(cmd, lnav, a.pairs, before), size))
    bundles = [("check-1m", a.copies)] + ([] if a.no_3m else [("check-3m", a.copies * 3)])
    if a.parse_only:
        bundles = []
    big: list[tuple[str, Timing, int, int]] = []
    for name, copies in bundles:
        path, records = _bundle(copies, f"speed-{name}-{copies}")
        size = _log_bytes(path)
        html = str(OUT / "speed-report.html")
        check = [ld, "check", str(path), "--format", "json"]
        report = [ld, "report", str(path), "-o", html]
        for what, cmd, before in (
            ("check (cold)", [*check, "--no-cache"], None),
            ("check (first run, fills the cache)", check, _clear_cache),
            ("check (cache)", check, None),
            ("report (cold)", [*report, "--no-cache"], None),
            ("report (first run, fills the cache)", report, _clear_cache),
            ("report (cache)", report, None),
        ):
            print(f"{name}: {what}", file=sys.stderr)
            t = paired(cmd, None, max(1, a.pairs - 1), before)
            big.append((f"{name}: {what}", t, size, records))
    head = (
        f"{date.today()}, {platform.node()}: {os.cpu_count()} cores, "
        f"{platform.processor() or platform.machine()}, load average "
        f"{os.getloadavg()[0]:.1f}; {a.pairs} pairs; P = all recognized "
        f"({a.lines:,} lines), U = 78 % unrecognized"
    )
    print(f"\n{head}\n")
    print(
        "| command | wall median (s) | CPU median (s) | peak RSS MiB | vs lnav wall | vs lnav CPU |"
    )
    print("|---|---|---|---|---|---|")
    doc = []
    for name, _, t, size in rows:
        print(
            f"| {name} | {statistics.median(t.wall):.2f} | {statistics.median(t.cpu):.2f} | "
            f"{t.rss / 2**20:.0f} | {_ratio(t.wall, t.lnav_wall)} | {_ratio(t.cpu, t.lnav_cpu)} |"
        )
        doc.append(
            {
                "name": name,
                "wall": t.wall,
                "cpu": t.cpu,
                "rss": t.rss,
                "bytes": size,
                "lnav_wall": t.lnav_wall,
                "lnav_cpu": t.lnav_cpu,
            }
        )
    if big:
        print(
            "\n| bundle: command | events | wall median (s) | CPU median (s) | peak RSS MiB "
            "| RSS / log bytes |"
        )
        print("|---|---|---|---|---|---|")
    for name, t, size, records in big:
        print(
            f"| {name} | {records:,} | {statistics.median(t.wall):.2f} | "
            f"{statistics.median(t.cpu):.2f} | {t.rss / 2**20:.0f} | "
            f"{t.rss / size:.2f}x of {size / 1e6:.0f} MB |"
        )
        doc.append(
            {
                "name": name,
                "events": records,
                "wall": t.wall,
                "cpu": t.cpu,
                "rss": t.rss,
                "bytes": size,
            }
        )
    name = "speed-parse.json" if a.parse_only else "speed.json"
    (OUT / name).write_text(json.dumps({"machine": head, "rows": doc}, indent=2))


if __name__ == "__main__":
    main()
