"""Fleet benchmark: 50 bundles, one process (``fleet --in-process``) against ``fleet
--workers 2`` (a local Dask cluster of two worker processes) on the same machine.

Bundles come from ``logdoctor simulate SCENARIO --out DIR --seed N --users U --days D``
(``--source simulate``, the default when the command exists): bundle N is scenario N mod 22
(every scenario of ``simulate --list``, or ``--scenario``), and its deployment.toml goes to a
config folder given to ``fleet --config-dir``. ``--source rules`` builds them from the rule
cases under tests/assets/rules instead: bundle N is the ``bad`` case of rule
N mod 33 (the fault, once) plus the user traffic of its ``good`` case replicated side by side
(users, devices and token ids renamed per copy) until it holds about ``--mb`` MB of logs,
written as an RTMT folder: healthy traffic at scale plus one fault.

Each run is a child process: wall time (best of ``--repeat``), the child's peak RSS, and for
the Dask run the run time without start-up and every worker's peak RSS (from summary.json).
The runs' findings tables must be identical. Before each pair of runs, a probe measures how
many cores the machine really offers (the same pure-Python loop in one process, then in
``--workers`` processes at once): on a shared machine this is what bounds the speed-up.
Prints a Markdown table and writes benchmarks/out/fleet/result.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RULES = ROOT / "tests" / "assets" / "rules"
OUT = HERE / "out" / "fleet"
EXE = Path(sys.executable).parent / "logdoctor"
TRAFFIC = ("token.", "authorize.", "auth.", "code.")
"""Event kinds replicated per copy (keys, parameters and services stay one per cluster)."""


def _lines(frame: pl.DataFrame) -> pl.DataFrame:
    t = pl.col("time").dt.strftime("%Y-%m-%d %H:%M:%S,%3f")
    log4j = (
        t
        + " "
        + pl.col("level").str.pad_end(5)
        + " ["
        + pl.col("thread")
        + "] "
        + pl.col("logger")
        + " - "
        + pl.col("message")
    )
    cert = t + " " + pl.col("level") + " [" + pl.col("thread") + "] - " + pl.col("message")
    return frame.with_columns(
        pl.when(pl.col("family") == "certmgmt").then(cert).otherwise(log4j).alias("text")
    )


def rules_bundle(case: Path, target: Path, mb: float) -> int:
    """Write the replicated case under ``target``; returns the records written."""
    import logdoctor

    base = logdoctor.load(str(case)).frame.with_row_index("seq")
    good = case.parent / "good"
    healthy = logdoctor.load(str(good)).frame if any(good.rglob("*.log")) else base
    size = sum(p.stat().st_size for p in case.rglob("*.log"))
    copies = max(1, round(mb * 1e6 / size))
    traffic = healthy.filter(
        pl.any_horizontal(pl.col("kind").str.starts_with(k) for k in TRAFFIC)
        & pl.col("node").is_in(base["node"].unique().to_list())
    ).with_row_index("seq")
    # Healthy traffic goes to the bad case's files (same node and family).
    files = base.select("node", "family", "file").unique(subset=["node", "family"])
    traffic = traffic.drop("file").join(files, on=["node", "family"], how="inner")
    traffic = traffic.select(base.columns)
    frames = [base]
    for i in range(1, copies):
        sfx = f"x{i}"
        frames.append(
            traffic.with_columns(
                pl.col("message")
                .str.replace_all(r"(user=|user_id=)([A-Za-z0-9]+)", f"${{1}}${{2}}{sfx}")
                .str.replace_all(r"(device=)([A-Za-z0-9]+)", f"${{1}}${{2}}{sfx.upper()}")
                .str.replace_all(r"(jti=|tid=)([0-9a-f-]{36})", f"${{1}}${{2}}-{i}")
            )
        )
    big = _lines(pl.concat(frames).sort("time", "seq", maintain_order=True))
    root = str(case.resolve())
    for (file,), part in big.partition_by(["file"], as_dict=True).items():
        rel = str(file)[len(root) + 1 :]
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(part["text"].to_list()) + "\n", encoding="utf-8")
    return big.height


def _burn(n: int) -> float:
    t0 = time.perf_counter()
    x = 0
    for i in range(n):
        x += i * i
    return time.perf_counter() - t0


def free_cores(workers: int, n: int = 20_000_000) -> float:
    """How many cores the machine gives right now: the same pure-Python loop once in one
    process, then once in each of ``workers`` processes at the same time."""
    import multiprocessing

    one = _burn(n)
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pool.map(_burn, [1000] * workers)  # start-up is not measured
        t0 = time.perf_counter()
        pool.map(_burn, [n] * workers)
        many = time.perf_counter() - t0
    return workers * one / many


def has_simulate() -> bool:
    proc = subprocess.run([str(EXE), "simulate", "--help"], capture_output=True, timeout=120)
    return proc.returncode == 0


def scenarios_available() -> list[str]:
    """The simulator's scenario names (``logdoctor simulate --list``)."""
    proc = subprocess.run(
        [str(EXE), "simulate", "--list"], capture_output=True, text=True, timeout=120, check=True
    )
    return [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]


def build(
    n: int, source: str, mb: float, scenarios: list[str], users: int, days: int
) -> tuple[list[str], Path | None]:
    """Write ``n`` bundles (reused when present with the same parameters); returns their
    paths and, for simulated ones, the folder of their deployment files (``--config-dir``)."""
    bundles = OUT / "bundles"
    configs = OUT / "configs"
    stamp = OUT / "bundles.json"
    spec = {"n": n, "source": source, "mb": mb, "scenarios": scenarios, "users": users}
    spec["days"] = days
    if source == "simulate":
        names = [f"c{i:03d}-{scenarios[i % len(scenarios)]}" for i in range(n)]
    else:
        names = [f"cluster-{i:03d}" for i in range(n)]
    paths = [str(bundles / name) for name in names]
    config_dir = configs if source == "simulate" else None
    if stamp.exists() and json.loads(stamp.read_text()) == spec:
        return paths, config_dir
    for d in (bundles, configs):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    cases = sorted(p for p in RULES.glob("*/bad") if any(p.rglob("*.log")))
    for i, path in enumerate(paths):
        if source == "simulate":
            name = scenarios[i % len(scenarios)]
            cmd = [str(EXE), "simulate", name, "--out", path, "--seed", str(i)]
            cmd += ["--users", str(users), "--days", str(days)]
            subprocess.run(cmd, check=True, capture_output=True, timeout=1800)
            shutil.move(Path(path) / "deployment.toml", configs / f"{Path(path).name}.toml")
        else:
            rules_bundle(cases[i % len(cases)], Path(path), mb)
    stamp.write_text(json.dumps(spec))
    return paths, config_dir


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, int, int, float]:
    """Wall time, exit status, peak RSS (bytes) and CPU seconds of one child process (with
    the processes it waited for: the local cluster's workers)."""
    t0 = time.perf_counter()
    with (OUT / "stdout.txt").open("wb") as out, (OUT / "stderr.txt").open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n{(OUT / 'stderr.txt').read_text()}")
    return wall, code, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime


def fleet_once(paths: list[str], mode: list[str], name: str, env: dict[str, str]) -> Any:
    """One run of ``logdoctor fleet`` as a child process, with its summary and findings."""
    out = OUT / name
    if out.exists():
        shutil.rmtree(out)
    wall, code, peak, cpu = run([str(EXE), "fleet", *paths, *mode, "-o", str(out)], env)
    return {
        "wall": wall,
        "exit": code,
        "peak_rss": peak,
        "cpu": cpu,
        "load": os.getloadavg()[0],
        "summary": json.loads((out / "summary.json").read_text()),
        "findings": json.loads((out / "findings.json").read_text()),
    }


def mib(n: int | None) -> str:
    return "?" if n is None else f"{n / 2**20:.0f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bundles", type=int, default=50)
    ap.add_argument("--source", choices=["auto", "rules", "simulate"], default="auto")
    ap.add_argument(
        "--scenario", action="append", default=[], help="simulate scenario(s) (default: all)"
    )
    ap.add_argument("--users", type=int, default=300, help="users per simulated cluster")
    ap.add_argument("--days", type=int, default=3, help="days per simulated cluster")
    ap.add_argument("--mb", type=float, default=8.0, help="MB of logs per bundle (rules)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--polars-threads",
        type=int,
        default=None,
        help="POLARS_MAX_THREADS for both runs (default: polars' own, one per core)",
    )
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    source = a.source
    if source == "auto":
        source = "simulate" if has_simulate() else "rules"
    scenarios = a.scenario or (scenarios_available() if source == "simulate" else [])
    t0 = time.perf_counter()
    paths, config_dir = build(a.bundles, source, a.mb, scenarios, a.users, a.days)
    made = time.perf_counter() - t0
    size = sum(p.stat().st_size for b in paths for p in Path(b).rglob("*") if p.is_file())
    env = dict(os.environ)
    if a.polars_threads:
        env["POLARS_MAX_THREADS"] = str(a.polars_threads)
    common = [] if config_dir is None else ["--config-dir", str(config_dir)]
    modes = {
        "in-process": ["--in-process", *common],
        "dask": ["--workers", str(a.workers), *common],
    }
    runs: dict[str, list[Any]] = {name: [] for name in modes}
    cores: list[float] = []
    for _ in range(a.repeat):  # interleaved, so that other load on the machine hits both
        cores.append(free_cores(a.workers))
        for name, mode in modes.items():
            runs[name].append(fleet_once(paths, mode, name, env))
    one = min(runs["in-process"], key=lambda r: r["wall"])
    many = min(runs["dask"], key=lambda r: r["wall"])
    same = all(r["findings"] == one["findings"] for rs in runs.values() for r in rs)
    s1, s2 = one["summary"], many["summary"]
    workers = s2["workers"]
    result = {
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, "
        f"python {platform.python_version()}",
        "source": source,
        "bundles": len(paths),
        "bytes": size,
        "events": s1["events"],
        "findings": s1["findings"],
        "identical_findings": same,
        "polars_threads": a.polars_threads,
        "free_cores": cores,
        "runs": {
            name: [
                {k: r[k] for k in ("wall", "cpu", "peak_rss", "load")}
                | {"run": r["summary"]["seconds"], "startup": r["summary"]["startup_seconds"]}
                for r in rs
            ]
            for name, rs in runs.items()
        },
        "worker_peak_rss": [w["peak_rss_bytes"] for w in workers],
        "ratio_wall": one["wall"] / many["wall"],
        "ratio_run": s1["seconds"] / s2["seconds"],
    }
    (OUT / "result.json").write_text(json.dumps(result, indent=2))
    print(f"machine: {result['machine']}")
    print(
        f"input: {len(paths)} bundles ({source}), {size / 1e6:.0f} MB of logs, "
        f"{s1['events']:,} events, {s1['findings']} findings (built in {made:.0f} s)"
    )
    print(f"identical findings tables in every run: {'yes' if same else 'NO'}")
    print()
    head = "| wall time | run time (no start-up) | CPU time | peak memory |"
    print(f"| run (best of {a.repeat}) {head}")
    print("|---|---|---|---|---|")
    print(
        f"| `fleet --in-process` (one process) | {one['wall']:.1f} s | {s1['seconds']:.1f} s "
        f"| {one['cpu']:.1f} s | {mib(one['peak_rss'])} |"
    )
    per = ", ".join(mib(w) for w in result["worker_peak_rss"])
    print(
        f"| `fleet --workers {a.workers}` (Dask) | {many['wall']:.1f} s | {s2['seconds']:.1f} s "
        f"(+{s2['startup_seconds']:.1f} s start-up) | {many['cpu']:.1f} s "
        f"| per worker: {per} |"
    )
    print()
    print(
        f"speed-up: {result['ratio_wall']:.2f}x wall time, {result['ratio_run']:.2f}x "
        "without start-up"
    )
    print(
        f"cores free for {a.workers} processes before each pair of runs: "
        + ", ".join(f"{c:.2f}" for c in cores)
    )
    for name, rs in runs.items():
        walls = ", ".join(f"{r['wall']:.1f} s (load {r['load']:.1f})" for r in rs)
        print(f"{name}: {walls}")
    if not same:
        raise SystemExit("the runs' findings differ")


if __name__ == "__main__":
    main()
