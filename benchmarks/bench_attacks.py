"""Token service under attack: refresh grants and /health next to each attack, side by side.

`logdoctor serve` runs on 127.0.0.1 (ephemeral port) in its own process, on a data dir with
users of the default scrypt cost (N=2^14, as `service users add` makes them) and the refresh
login flow on. In each phase (a few seconds, bounded) the same legitimate load runs: keep-alive
clients doing refresh grants back to back, and a prober (a process of its own) opening a new
connection for `GET /health` every 20 ms. Next to it, one attack at a time:

  normal            no attack
  login storm       20 clients, authorize with a new unknown user name each time
                    (credential policy off: every attempt costs a full scrypt)
  storm, policy     the same with the default credential policy (the address locks out)
  guessing          20 clients guessing alice's password (default policy: 3 failures)
  admin guessing    20 clients guessing the revoke API's administrator password
  slowloris         1,100 connections that send half a request head and wait (reopened
                    when the server closes them, a second later)
  big headers       4 clients sending requests with a 1 MB header in a loop

Lockouts are reset between phases. The plan runs ``--rounds`` times; in each round a normal
phase precedes every attack phase, and "vs normal" divides an attack phase's refresh rate by
that of the normal phase just before it (a shared, loaded machine drifts within a minute).
The table shows, per phase, the median over rounds. Every figure depends on this machine and
its load: the load average is printed with them.

    .venv/bin/python benchmarks/bench_attacks.py [--seconds 6] [--rounds 3] [--json]
    .venv/bin/python benchmarks/bench_attacks.py --server-path /path/to/other/checkout

`--server-path` runs the server from another checkout (PYTHONPATH), to compare with the code
before a change; attacks it has no defence against are then measured as they are.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from logdoctor.tokenservice.service import Service

CLIENT = "C" + "3b" * 32
REDIRECT = "http://127.0.0.1:8123/cb"
ADMIN_PASSWORD = "axl-bench-pw"
HOST = "127.0.0.1"
_CLEN = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")


# -- a thin HTTP/1.1 client ----------------------------------------------------------------------


class Conn:
    """One keep-alive HTTP/1.1 connection (asyncio streams)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.r: asyncio.StreamReader | None = None
        self.w: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
        """Send ``raw`` and read one response: (status, body); status 0 if closed."""
        return await asyncio.wait_for(self._request(raw), timeout)

    async def _request(self, raw: bytes) -> tuple[int, bytes]:
        if self.w is None:
            self.r, self.w = await asyncio.open_connection(HOST, self.port)
        assert self.r is not None
        try:
            self.w.write(raw)
            await self.w.drain()
            head = await self.r.readuntil(b"\r\n\r\n")
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            await self.close()
            return 0, b""
        m = _CLEN.search(head)
        body = await self.r.readexactly(int(m.group(1))) if m else b""
        if b"\r\nconnection: close" in head.lower():
            await self.close()
        return int(head.split()[1]), body

    async def close(self) -> None:
        if self.w is not None:
            self.w.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.w.wait_closed()
        self.r = self.w = None


def _get(path: str, auth: tuple[str, str] | None = None, close: bool = False) -> bytes:
    head = [f"GET {path} HTTP/1.1", f"Host: {HOST}"]
    if auth:
        head.append("Authorization: Basic " + base64.b64encode(":".join(auth).encode()).decode())
    if close:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode()


def _post(path: str, form: dict[str, str]) -> bytes:
    body = urlencode(form).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _authorize(user: str, password: str) -> bytes:
    q = urlencode({"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT})
    return _get(f"/ssosp/oauth/authorize?{q}", auth=(user, password))


# -- one phase -----------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return 1000 * s[min(len(s) - 1, int(q * len(s)))]


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    seconds: float
    refresh: list[float] = field(default_factory=list)
    refresh_errors: Counter[int] = field(default_factory=Counter)
    health: list[float] = field(default_factory=list)
    health_errors: Counter[str] = field(default_factory=Counter)
    attack: Counter[str] = field(default_factory=Counter)
    first_refusal_s: float | None = None
    """Seconds into the attack of its first 429 (a lockout)."""
    note: str = ""

    @property
    def rate(self) -> float:
        return len(self.refresh) / self.seconds

    def row(self, normal_rate: float | None) -> dict[str, Any]:
        rate = self.rate
        return {
            "phase": self.name,
            "refresh_per_s": round(rate, 1),
            "vs_normal": round(rate / normal_rate, 3) if normal_rate else None,
            "refresh_p50_ms": round(_pct(self.refresh, 0.5), 1),
            "refresh_p99_ms": round(_pct(self.refresh, 0.99), 1),
            "refresh_errors": dict(self.refresh_errors),
            "health_n": len(self.health),
            "health_p50_ms": round(_pct(self.health, 0.5), 1),
            "health_p99_ms": round(_pct(self.health, 0.99), 1),
            "health_max_ms": round(_pct(self.health, 1.0), 1),
            "health_errors": dict(self.health_errors),
            "attack": dict(self.attack),
            "first_429_after_s": self.first_refusal_s,
            "note": self.note,
        }


async def _refresher(port: int, rt: str, ph: Phase, stop: float) -> None:
    raw = _post(
        "/ssosp/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": rt, "client_id": CLIENT},
    )
    c = Conn(port)
    while time.monotonic() < stop:
        t0 = time.perf_counter()
        try:
            status, _ = await c.request(raw)
        except (TimeoutError, OSError):
            status = -1
            await c.close()
        if status == 200:
            ph.refresh.append(time.perf_counter() - t0)
        else:
            ph.refresh_errors[status] += 1
    await c.close()


def probe(port: int, seconds: float) -> dict[str, Any]:
    """``GET /health`` on a new connection every 20 ms for ``seconds`` (blocking sockets, in a
    process of its own, so the load clients' event loop does not delay its clock)."""
    lat: list[float] = []
    errors: Counter[str] = Counter()
    raw = _get("/health", close=True)
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        t0 = time.perf_counter()
        try:
            with socket.create_connection((HOST, port), timeout=10) as s:
                s.sendall(raw)
                data = s.recv(64)
            if data.startswith(b"HTTP/1.1 200"):
                lat.append(time.perf_counter() - t0)
            else:
                errors[data[9:12].decode(errors="replace") or "closed"] += 1
        except OSError as exc:
            errors[type(exc).__name__] += 1
        time.sleep(0.02)
    return {"latencies": lat, "errors": dict(errors)}


async def _prober(port: int, ph: Phase, seconds: float) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--probe",
        str(port),
        str(seconds),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    got = json.loads(out)
    ph.health.extend(got["latencies"])
    ph.health_errors.update(got["errors"])


Attack = Callable[[int, Phase, float], Awaitable[None]]


async def _no_attack(port: int, ph: Phase, stop: float) -> None:
    return


def _login_storm(port: int, ph: Phase, stop: float) -> Awaitable[None]:
    async def one(i: int) -> None:
        c = Conn(port)
        k = 0
        while time.monotonic() < stop:
            k += 1
            try:
                status, _ = await c.request(_authorize(f"storm{i}-{k}", "x"), timeout=60)
            except (TimeoutError, OSError):
                status = -1
                await c.close()
            ph.attack[str(status)] += 1
        await c.close()

    return _gather(one(i) for i in range(20))


def _guessing(port: int, ph: Phase, stop: float, admin: bool) -> Awaitable[None]:
    t0 = time.monotonic()

    async def one(i: int) -> None:
        c = Conn(port)
        k = 0
        while time.monotonic() < stop:
            k += 1
            if admin:
                raw = _get("/ssosp/token/revoke?user_id=nobody", auth=("admin", f"g{i}-{k}"))
            else:
                raw = _authorize("alice", f"guess{i}-{k}")
            try:
                status, _ = await c.request(raw, timeout=60)
            except (TimeoutError, OSError):
                status = -1
                await c.close()
            ph.attack[str(status)] += 1
            if status == 429 and ph.first_refusal_s is None:
                ph.first_refusal_s = round(time.monotonic() - t0, 2)
        await c.close()

    return _gather(one(i) for i in range(20))


async def _slowloris(port: int, ph: Phase, stop: float) -> None:
    async def one() -> None:
        while time.monotonic() < stop:
            try:
                r, w = await asyncio.open_connection(HOST, port)
            except OSError:
                ph.attack["connect_failed"] += 1
                await asyncio.sleep(1)
                continue
            ph.attack["opened"] += 1
            w.write(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            try:
                await asyncio.wait_for(r.read(1), max(0.01, stop - time.monotonic()))
                ph.attack["closed_by_server"] += 1
            except (TimeoutError, OSError):
                pass
            w.close()
            await asyncio.sleep(1)

    await _gather(one() for _ in range(1100))


async def _big_headers(port: int, ph: Phase, stop: float) -> None:
    blob = b"A" * (1 << 20)

    async def one() -> None:
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                r, w = await asyncio.open_connection(HOST, port)
                w.write(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + blob + b"\r\n\r\n")
                await w.drain()
                line = await asyncio.wait_for(r.readline(), 60)
                w.close()
                key = line.split()[1].decode() if line.startswith(b"HTTP/") else "closed"
            except (ConnectionError, OSError):
                key = "closed"
            except TimeoutError:
                key = "timeout"
            ph.attack[key] += 1
            ph.attack["ms_total"] += round(1000 * (time.perf_counter() - t0))

    await _gather(one() for _ in range(4))


async def _gather(coros: Any) -> None:
    await asyncio.gather(*coros)


async def _phase(name: str, port: int, rt: str, seconds: float, attack: Attack) -> Phase:
    ph = Phase(name, seconds)
    # Warm-up: the legitimate clients' connections exist before the attack starts.
    warm = Phase("warm-up", 1.0)
    await asyncio.gather(*(_refresher(port, rt, warm, time.monotonic() + 0.5) for _ in range(10)))
    att_stop = time.monotonic() + seconds + 1.0
    att = asyncio.ensure_future(attack(port, ph, att_stop))
    await asyncio.sleep(1.0)  # let the attack build up before measuring
    stop = time.monotonic() + seconds
    await asyncio.gather(
        *(_refresher(port, rt, ph, stop) for _ in range(10)), _prober(port, ph, seconds)
    )
    try:
        await asyncio.wait_for(att, 90)
    except TimeoutError:
        ph.note = "attack did not stop within 90 s"
    return ph


# -- the server and the phases -------------------------------------------------------------------


def _setup(data: Path) -> str:
    svc = Service(data)
    svc.add_user("alice", "alice-pw")
    svc.set_param("refresh_login_flow", "on")
    a = svc.authorize(
        response_type="code",
        client_id=CLIENT,
        redirect_uri=REDIRECT,
        username="alice",
        password="alice-pw",
    )
    assert a.code is not None
    tok = svc.exchange_code(code=a.code, client_id=CLIENT, redirect_uri=REDIRECT)
    svc.close()
    assert tok.refresh_token is not None
    return tok.refresh_token


def _policy(data: Path, **values: str) -> None:
    """Set parameters and clear every failed-logon count (in this process, on the data dir)."""
    svc = Service(data)
    try:
        for k, v in values.items():
            svc.set_param(k, v)
        for scope in ("user", "admin", "address"):
            svc.reset_lockouts(scope)
    finally:
        svc.close()


DEFAULT_POLICY = {"failed_logon": "3", "failed_logon_per_address": "20"}
NO_POLICY = {"failed_logon": "0", "failed_logon_per_address": "0"}


PLAN: list[tuple[str, dict[str, str], Attack]] = [
    ("login storm, policy off", NO_POLICY, _login_storm),
    ("login storm, default policy", DEFAULT_POLICY, _login_storm),
    ("password guessing", DEFAULT_POLICY, lambda p, ph, s: _guessing(p, ph, s, False)),
    ("admin guessing", DEFAULT_POLICY, lambda p, ph, s: _guessing(p, ph, s, True)),
    ("slowloris (1,100 conns)", DEFAULT_POLICY, _slowloris),
    ("big headers (1 MB)", DEFAULT_POLICY, _big_headers),
]


def run(seconds: float, rounds: int, server_path: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ld-attacks-") as tmp:
        data = Path(tmp) / "data"
        rt = _setup(data)
        env = {**os.environ, "LOGDOCTOR_ADMIN_PASSWORD": ADMIN_PASSWORD}
        if server_path:
            env["PYTHONPATH"] = server_path
        cmd = [sys.executable, "-m", "logdoctor.cli", "serve", "--data-dir", str(data)]
        cmd += ["--port", "0", "--admin-user", "admin"]
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=server_path or None,
        )
        rows: list[dict[str, Any]] = []
        loads = [os.getloadavg()]
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()
            m = re.match(r"http://127\.0\.0\.1:(\d+)$", url)
            if not m:
                raise SystemExit(f"server did not start: {url!r}")
            port = int(m.group(1))
            for rnd in range(rounds):
                for name, policy, attack in PLAN:
                    _policy(data, **DEFAULT_POLICY)
                    normal = asyncio.run(_phase("normal", port, rt, seconds, _no_attack))
                    rows.append({**normal.row(normal.rate), "round": rnd})
                    _policy(data, **policy)
                    ph = asyncio.run(_phase(name, port, rt, seconds, attack))
                    rows.append({**ph.row(normal.rate), "round": rnd})
                    loads.append(os.getloadavg())
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    return {
        "cpus": os.cpu_count(),
        "server": server_path or "this checkout",
        "seconds_per_phase": seconds,
        "rounds": rounds,
        "load_average_1_5_15_at_start_and_after_each_pair": [
            [round(x, 2) for x in la] for la in loads
        ],
        "runs": rows,
        "phases": _medians(rows),
    }


def _medians(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per phase name (in first-seen order): the median of each figure over its runs."""
    out = []
    for name in dict.fromkeys(r["phase"] for r in rows):
        runs = [r for r in rows if r["phase"] == name]
        med: dict[str, Any] = {"phase": name, "runs": len(runs)}
        for key in (
            "refresh_per_s",
            "vs_normal",
            "refresh_p50_ms",
            "refresh_p99_ms",
            "health_p50_ms",
            "health_p99_ms",
            "health_max_ms",
            "first_429_after_s",
        ):
            values = [r[key] for r in runs if r[key] is not None]
            med[key] = statistics.median(values) if values else None
        for key in ("refresh_errors", "health_errors", "attack"):
            total: Counter[str] = Counter()
            for r in runs:
                total.update({str(k): v for k, v in r[key].items()})
            med[key] = dict(total)
        med["note"] = "; ".join(r["note"] for r in runs if r["note"])
        out.append(med)
    return out


def _print(result: dict[str, Any]) -> None:
    print(
        f"server: {result['server']}; {result['cpus']} CPUs; {result['seconds_per_phase']} s "
        f"per phase, {result['rounds']} round(s), medians; 10 refresh clients (keep-alive) + "
        "/health every 20 ms (new connection); attack answers summed over rounds"
    )
    hdr = (
        f"{'phase':30} {'refresh/s':>9} {'vs nrm':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'health p50':>10} {'p99':>7} {'max':>7}  errors; attack answers"
    )
    print(hdr)
    print("-" * len(hdr))
    for r in result["phases"]:
        vs = f"{100 * r['vs_normal']:.0f}%" if r["vs_normal"] is not None else "-"
        errs = {**{f"refresh {k}": v for k, v in r["refresh_errors"].items()}}
        errs.update({f"health {k}": v for k, v in r["health_errors"].items()})
        print(
            f"{r['phase']:30} {r['refresh_per_s']:9.1f} {vs:>7} {r['refresh_p50_ms']:7.1f} "
            f"{r['refresh_p99_ms']:7.1f} {r['health_p50_ms']:10.1f} {r['health_p99_ms']:7.1f} "
            f"{r['health_max_ms']:7.1f}  {errs or '-'}; {r['attack'] or '-'} {r['note']}"
            + (f" first 429 after {r['first_429_after_s']} s" if r["first_429_after_s"] else "")
        )
    loads = result["load_average_1_5_15_at_start_and_after_each_pair"]
    print("load average (1 min) at the start and after each normal+attack pair:", end=" ")
    print([la[0] for la in loads])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=6.0, help="measured seconds per phase")
    ap.add_argument("--rounds", type=int, default=3, help="times the plan runs")
    ap.add_argument("--server-path", default=None, help="run the server from this checkout")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--probe", nargs=2, metavar=("PORT", "SECONDS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe:
        print(json.dumps(probe(int(args.probe[0]), float(args.probe[1]))))
        return
    if not 1 <= args.seconds <= 60 or not 1 <= args.rounds <= 10:
        raise SystemExit("bounded benchmark: --seconds 1-60, --rounds 1-10")
    result = run(args.seconds, args.rounds, args.server_path)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print(result)


if __name__ == "__main__":
    main()
