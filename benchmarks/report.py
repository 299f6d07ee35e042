"""Report benchmark: `logdoctor report` on a two-node bundle of about 1 M events.

The bundle is gen_ssosp's seeded OAuth / SAML mix (5,000 users), split over two nodes, with an
unrecognized line (ids varying) every 400 lines and a configuration change and a key
regeneration every 100,000 lines. Measures, best of N:
- the whole command as a child process (wall time, peak RSS), and the report's size;
- in process: load (parse), build (aggregate the event table into the report model) and
  render (Jinja2 to HTML), so that the report's own cost is visible apart from parsing.
Prints a Markdown table and writes benchmarks/out/report.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_ssosp import SSOSP, generate  # noqa: E402
from run import run  # noqa: E402

OUT = HERE / "out"
NODES = ("ucm-pub", "ucm-sub1")


def make_bundle(root: Path, lines: int, seed: int = 7) -> Path:
    """Write the bundle under ``root`` (once; reused when it is there)."""
    root.mkdir(parents=True, exist_ok=True)
    done = root / ".complete"
    if done.exists():
        return root
    rnd = random.Random(seed)
    for i, node in enumerate(NODES):
        raw = root / f"{node}.raw"
        generate(raw, lines // len(NODES), seed=seed + i)
        dest = root / node / "tomcat" / "logs" / "ssosp" / "log4j" / "ssosp00001.log"
        dest.parent.mkdir(parents=True, exist_ok=True)
        with raw.open(encoding="utf-8") as src, dest.open("w", encoding="utf-8") as out:
            for n, line in enumerate(src, 1):
                out.write(line)
                if not line[:4].isdigit():
                    continue
                ts = line[:23]
                if n % 400 == 0:
                    out.write(
                        f"{ts} INFO  [Timer-{rnd.randint(1, 9)}] cache.Refresher - Cache refresh "
                        f"took {rnd.randint(1, 5000)} ms for id {rnd.getrandbits(32):08x}\n"
                    )
                if n % 100_000 == 0:
                    msg = SSOSP.message(
                        "config.changed",
                        param="access_token_expiry_minutes",
                        old=60,
                        value=rnd.choice((30, 60, 90)),
                    )
                    head = {"ts": ts, "level": "INFO"}
                    thread = "http-bio-8443-exec-1"
                    out.write(
                        SSOSP.line(msg, **head, thread=thread, logger="oauth.OAuthConfigManager")
                        + "\n"
                    )
                    msg = SSOSP.message(
                        "key.regenerated",
                        param="signing",
                        key=f"{rnd.getrandbits(256):064x}",
                        value=2,
                    )
                    out.write(
                        SSOSP.line(msg, **head, thread="main", logger="oauth.AuthzKeyManager")
                        + "\n"
                    )
        raw.unlink()
    done.touch()
    return root


def main() -> None:
    """Build the bundle if needed, time the command and its phases, print and save."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=1_020_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    bundle = make_bundle(OUT / f"bundle-{a.lines}", a.lines)
    report = OUT / "report.html"
    logdoctor = str(Path(sys.executable).parent / "logdoctor")
    wall, rss = run([logdoctor, "report", str(bundle), "-o", str(report)], a.repeat)
    size = report.stat().st_size

    import logdoctor as ld
    from logdoctor.outputs.html import render_html
    from logdoctor.report import build_report

    phases: dict[str, float] = {"load": float("inf"), "build": float("inf"), "render": 1e9}
    events = 0
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        res = ld.load(bundle)
        t1 = time.perf_counter()
        model = build_report(res.frame, res.stats, inputs=[str(bundle)])
        t2 = time.perf_counter()
        html = render_html(model)
        t3 = time.perf_counter()
        events = res.frame.height
        for k, v in (("load", t1 - t0), ("build", t2 - t1), ("render", t3 - t2)):
            phases[k] = min(phases[k], v)
    doc = {
        "events": events,
        "users": model.users_total,
        "report_bytes": size,
        "in_process_bytes": len(html.encode("utf-8")),
        "command_seconds": round(wall, 3),
        "command_peak_rss_bytes": rss,
        **{f"{k}_seconds": round(v, 3) for k, v in phases.items()},
        "report_seconds": round(phases["build"] + phases["render"], 3),
    }
    (OUT / "report.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"{events:,} events, {model.users_total:,} users, 2 nodes\n")
    print("| step | seconds |")
    print("|---|---:|")
    print(f"| `logdoctor report` (whole command, peak RSS {rss / 2**20:,.0f} MiB) | {wall:.2f} |")
    print(f"| load (parse the bundle) | {phases['load']:.2f} |")
    print(f"| build the report model (aggregate) | {phases['build']:.2f} |")
    print(f"| render HTML (Jinja2) | {phases['render']:.2f} |")
    print(f"\nreport size: {size:,} bytes ({size / 2**20:.2f} MiB)")


if __name__ == "__main__":
    main()
