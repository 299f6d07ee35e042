"""Token service speed: HTTP token issues at 32 concurrent clients vs raw joserfc, and the
in-process core rates a simulation can count on.

Everything runs on this machine: the server is `logdoctor serve` on 127.0.0.1 and an ephemeral
port, in its own process; the clients are 32 keep-alive HTTP/1.1 connections on one asyncio loop
(a thin client, so the server and not the client is measured). The run is bounded (a fixed
number of requests, and a time cap) and stops by itself.

    .venv/bin/python benchmarks/bench_tokenservice.py [--requests-per-client 150] [--json]
        [--workers 1 2] [--breakdown]

"Token issue" over HTTP is a refresh grant (POST /ssosp/oauth/token, grant_type=refresh_token):
the service verifies the refresh token, looks its hash up in SQLite, signs and encrypts a new
access token and writes its log lines. "Raw joserfc" mints the same access token (JWE dir /
A128CBC-HS256 inside a JWS RS256) with joserfc in a loop, measured before and after each HTTP
run: the reference of the goal (HTTP grants at 0.8x of it). The service makes the same bytes
without joserfc's layers (its own mint, also printed); server CPU is read from /proc.
``--breakdown`` measures the parts of a grant apart (in process: the signature alone, the
service's grant without its token, the route's direct handler; over HTTP: uvicorn with serve's
protocol and a constant direct answer) and prints what is left of the server's CPU per grant
besides them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

from joserfc import jwe, jws

from logdoctor.tokenservice.clock import VirtualClock, from_iso
from logdoctor.tokenservice.keys import (
    EncryptionKey,
    SigningKey,
    generate_encryption_key,
    generate_signing_key,
)
from logdoctor.tokenservice.service import Service
from logdoctor.tokenservice.tokens import SCOPE, AccessClaims, issue_access

CLIENT = "C" + "3b" * 32
REDIRECT = "http://127.0.0.1:8123/cb"
TIME_CAP = 120.0
Mint = Callable[[AccessClaims, SigningKey, EncryptionKey], str]


def joserfc_mint(c: AccessClaims, sig: SigningKey, enc: EncryptionKey) -> str:
    """The access token as joserfc makes it: the reference of the "bare mint loop" (the
    service mints the same bytes without joserfc's layers, see ``tokens._mint_access``)."""
    inner = jwe.encrypt_compact(
        {"alg": "dir", "enc": "A128CBC-HS256", "cty": "JWT", "kid": f"{c.iss}:{enc.checksum}"},
        json.dumps(c.to_json(), separators=(",", ":")).encode(),
        enc.jwk,
        algorithms=["dir", "A128CBC-HS256"],
    )
    return jws.serialize_compact(
        {"alg": "RS256", "typ": "JWT", "kid": f"{c.iss}:{sig.checksum}"},
        json.dumps({"private": inner}, separators=(",", ":")).encode(),
        sig.jwk,
        algorithms=["RS256"],
    )


def service_mint(c: AccessClaims, sig: SigningKey, enc: EncryptionKey) -> str:
    """The access token as the service mints it."""
    return issue_access(c, sig, enc).compact


def raw_mint_rate(seconds: float = 2.0, mint: Mint = joserfc_mint) -> float:
    """Access tokens minted per second by ``mint`` alone (one thread)."""
    sig, enc = generate_signing_key(1), generate_encryption_key(1)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        c = AccessClaims("iss", "alice", CLIENT, SCOPE, 1, 3601, f"jti-{n}", "c", "CSFALICE")
        mint(c, sig, enc)
        n += 1
    return n / (time.perf_counter() - t0)


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
        device="CSFALICE",
    )
    tok = svc.exchange_code(code=a.code, client_id=CLIENT, redirect_uri=REDIRECT)
    svc.close()
    assert tok.refresh_token is not None
    return tok.refresh_token


async def _client(
    host: str, port: int, body: bytes, n: int, lat: list[float], errors: list[str]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        f"POST /ssosp/oauth/token HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    req = head + body
    clen = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            writer.write(req)
            hdr = await reader.readuntil(b"\r\n\r\n")
            m = clen.search(hdr)
            payload = await reader.readexactly(int(m.group(1))) if m else b""
            lat.append(time.perf_counter() - t0)
            if not hdr.startswith(b"HTTP/1.1 200") or b'"access_token"' not in payload:
                errors.append(hdr.split(b"\r\n", 1)[0].decode(errors="replace"))
    finally:
        writer.close()


def _cpu_split(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of process ``pid`` and its children (the serve workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            user += int(fields[11]) / tick
            system += int(fields[12]) / tick
    return user, system


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its children (the serve workers)."""
    return sum(_cpu_split(pid))


def mint_cpu_seconds(n: int = 1000, mint: Mint = joserfc_mint) -> float:
    """CPU seconds per access token minted by ``mint`` alone (the loop's own process)."""
    sig, enc = generate_signing_key(1), generate_encryption_key(1)
    t0 = time.process_time()
    for i in range(n):
        c = AccessClaims("iss", "alice", CLIENT, SCOPE, 1, 3601, f"jti-{i}", "c", "CSFALICE")
        mint(c, sig, enc)
    return (time.process_time() - t0) / n


async def _load(
    host: str, port: int, body: bytes, clients: int, each: int, server_pid: int
) -> dict[str, Any]:
    lat: list[float] = []
    errors: list[str] = []
    # Warm-up: connections, caches, thread pool.
    await asyncio.gather(*(_client(host, port, body, 5, [], errors) for _ in range(clients)))
    errors.clear()
    user0, sys0 = _cpu_split(server_pid)
    t0 = time.perf_counter()
    await asyncio.wait_for(
        asyncio.gather(*(_client(host, port, body, each, lat, errors) for _ in range(clients))),
        TIME_CAP,
    )
    wall = time.perf_counter() - t0
    user1, sys1 = _cpu_split(server_pid)
    cpu = user1 - user0 + sys1 - sys0
    lat.sort()
    return {
        "requests": len(lat),
        "errors": len(errors),
        "seconds": wall,
        "rate": len(lat) / wall,
        "p50_ms": 1000 * lat[len(lat) // 2],
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "server_cpu_us": 1e6 * cpu / max(1, len(lat)),
        "server_sys_us": 1e6 * (sys1 - sys0) / max(1, len(lat)),
    }


def http_run(clients: int, each: int, workers: int = 1) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ld-bench-") as tmp:
        data = Path(tmp) / "data"
        refresh = _setup(data)
        env = {**os.environ, "LOGDOCTOR_ADMIN_PASSWORD": "bench"}
        cmd = [sys.executable, "-m", "logdoctor.cli", "serve", "--data-dir", str(data)]
        cmd += ["--port", "0", "--admin-user", "admin", "--workers", str(workers)]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()
            m = re.match(r"http://([\d.]+):(\d+)$", url)
            if not m:
                raise SystemExit(f"server did not start: {url!r}")
            body = urlencode(
                {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": CLIENT}
            ).encode()
            out = asyncio.run(_load(m.group(1), int(m.group(2)), body, clients, each, proc.pid))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        log = data / "logs/ucm-pub/tomcat/logs/ssosp/log4j"
        out["log_lines"] = sum(p.read_text().count("\n") for p in log.glob("ssosp*.log"))
        return out


_ANSWER = json.dumps(
    {"access_token": "x" * 760, "token_type": "Bearer", "expires_in": 3600, "scope": SCOPE},
    separators=(",", ":"),
).encode()


async def _constant_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app that reads the request and answers a grant-sized JSON at once."""
    await receive()
    head = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(_ANSWER))]
    await send({"type": "http.response.start", "status": 200, "headers": head})
    await send({"type": "http.response.body", "body": _ANSWER})


class _Constant:
    """A grant-sized JSON answer, as a direct handler gives it."""

    status_code = 200
    raw_headers: ClassVar[list[tuple[bytes, bytes]]] = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(_ANSWER)),
    ]
    body = _ANSWER


def http_floor(clients: int, each: int) -> float:
    """Server CPU per request of uvicorn with serve's protocol (limits, coalesced writes, the
    token path answered directly) and a constant answer, under the same clients: what HTTP
    costs without the service."""
    import multiprocessing

    import uvicorn

    from logdoctor.tokenservice.httpguard import HttpLimits, protocol_class
    from logdoctor.tokenservice.server import bind

    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(
        _constant_app,
        http=protocol_class(HttpLimits(), direct={b"/ssosp/oauth/token": lambda h, b: _Constant()}),
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
    )
    server = uvicorn.Server(config)
    proc = multiprocessing.get_context("fork").Process(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True
    )
    proc.start()
    try:
        deadline = time.monotonic() + 20
        while proc.pid is None or not Path(f"/proc/{proc.pid}").exists():
            if time.monotonic() > deadline:
                raise SystemExit("the floor server did not start")
            time.sleep(0.05)
        time.sleep(1.0)  # uvicorn's start-up, before its CPU is counted
        body = urlencode({"grant_type": "refresh_token", "refresh_token": "r" * 600}).encode()
        port = sock.getsockname()[1]
        out = asyncio.run(_load("127.0.0.1", port, body, clients, each, proc.pid or 0))
    finally:
        proc.terminate()
        proc.join(10)
        sock.close()
    return float(out["server_cpu_us"])


def _cpu_per_call(fn: Callable[[], object], n: int) -> float:
    """CPU microseconds per call of ``fn`` (the least of three runs of ``n``)."""
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, (time.process_time() - t0) / n)
    return 1e6 * best


def grant_parts(n: int = 1000) -> dict[str, float]:
    """CPU microseconds of each part of a refresh grant, in process: the RSA signature alone,
    the service's grant as ``serve`` runs it (real clock, durable store, its log lines written)
    without serializing the access token, and the HTTP handler around a service that answers
    at once (ASGI app, form, JSON answer)."""
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.hashes import SHA256

    from logdoctor.tokenservice.app import direct_routes

    sig = generate_signing_key(1)
    signing_input = b"h" * 900
    out = {"sign": _cpu_per_call(lambda: sig.private.sign(signing_input, PKCS1v15(), SHA256()), n)}
    with tempfile.TemporaryDirectory(prefix="ld-parts-") as tmp:
        data = Path(tmp) / "data"
        form = {"grant_type": "refresh_token", "refresh_token": _setup(data), "client_id": CLIENT}
        svc = Service(data)
        try:
            out["core"] = _cpu_per_call(lambda: svc.token_request(form), n)
            answer = svc.token_request(form).to_json()

            class _Answered:
                def to_json(self) -> dict[str, Any]:
                    return answer

            def answered(form: Any, via: Any = None, node: Any = None) -> Any:
                return _Answered()

            setattr(svc, "token_request", answered)  # noqa: B010 (the service answers at once)
            # The route's direct handler, as serve's protocol calls it (see httpguard).
            handler = direct_routes(svc)[b"/ssosp/oauth/token"]
            body = urlencode(form).encode()
            headers = [
                (b"host", b"127.0.0.1:8443"),
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"content-length", b"%d" % len(body)),
            ]
            out["handler"] = _cpu_per_call(lambda: handler(headers, body), n)
        finally:
            svc.close()
    return out


def core_rates(users: int = 1000, rounds: int = 3) -> dict[str, float]:
    """In-process rates on a virtual clock, as a simulation drives the core."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="ld-core-") as tmp:
        clock = VirtualClock(from_iso("2026-11-20T08:00:00"))
        svc = Service(
            Path(tmp),
            clock=clock,
            rng=random.Random(1),
            key_rng=random.Random(2),
            durable=False,
            autoflush=False,
            password_cost=1 << 10,
        )
        svc.add_node("imp1", "imp")
        svc.set_param("refresh_login_flow", "on")
        names = [f"user{i:05d}" for i in range(users)]
        for u in names:
            svc.add_user(u, "pw")
        t0 = time.perf_counter()
        grants = {}
        for u in names:
            a = svc.authorize(
                response_type="code",
                client_id=CLIENT,
                redirect_uri=REDIRECT,
                username=u,
                password="pw",
                device=f"CSF{u}",
            )
            grants[u] = svc.exchange_code(code=a.code, client_id=CLIENT, redirect_uri=REDIRECT)
        out["login (code + refresh token signed), /s"] = users / (time.perf_counter() - t0)
        n = users * rounds
        t0 = time.perf_counter()
        last = {}
        for _ in range(rounds):
            clock.advance(60)
            for u in names:
                last[u] = svc.refresh(refresh_token=grants[u].refresh_token, client_id=CLIENT)
        out["refresh grant, access token not serialized, /s"] = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for u in names:
            last[u].access.compact  # noqa: B018
        out["access token serialization (RSA sign + JWE), /s"] = users / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for _ in range(rounds):
            for u in names:
                svc.introspect(last[u].access, server="imp1")
        out["validation of an in-process handle, /s"] = n / (time.perf_counter() - t0)
        svc.verifier = type(svc.verifier)()  # cold cache
        t0 = time.perf_counter()
        for u in names:
            svc.introspect(last[u].access.compact, server="imp1")
        out["validation of a compact token, first time, /s"] = users / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for _ in range(rounds):
            for u in names:
                svc.introspect(last[u].access.compact, server="imp1")
        out["validation of a compact token, cached, /s"] = n / (time.perf_counter() - t0)
        svc.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--requests-per-client", type=int, default=150)
    ap.add_argument("--core-users", type=int, default=1000)
    ap.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="serve --workers values to run"
    )
    ap.add_argument(
        "--breakdown",
        action="store_true",
        help="also measure where a grant's CPU goes (in process, and HTTP with a constant app)",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not 1 <= args.clients <= 256 or not 1 <= args.requests_per_client <= 10_000:
        raise SystemExit("bounded benchmark: 1-256 clients, 1-10000 requests each")
    if not all(1 <= n <= 16 for n in args.workers):
        raise SystemExit("--workers: 1-16")
    # The bare loops run before and after each HTTP run (the box's load drifts); means.
    raws, cpus, own = [raw_mint_rate()], [mint_cpu_seconds()], [mint_cpu_seconds(mint=service_mint)]
    http = {}
    for workers in args.workers:
        http[workers] = http_run(args.clients, args.requests_per_client, workers)
        raws.append(raw_mint_rate())
        cpus.append(mint_cpu_seconds())
        own.append(mint_cpu_seconds(mint=service_mint))
    raw, mint_cpu, own_cpu = (statistics.mean(x) for x in (raws, cpus, own))
    core = core_rates(args.core_users)
    parts: dict[str, float] = {}
    if args.breakdown:
        parts = grant_parts()
        parts["own_mint"] = 1e6 * own_cpu
        parts["http"] = http_floor(args.clients, args.requests_per_client)
    result = {
        "cpus": os.cpu_count(),
        "raw_joserfc_mints_per_s": raw,
        "mint_cpu_us": 1e6 * mint_cpu,
        "service_mint_cpu_us": 1e6 * own_cpu,
        "http": {
            str(w): {
                **h,
                "vs_raw": h["rate"] / raw,
                "cpu_vs_mint": h["server_cpu_us"] / (1e6 * mint_cpu),
                "loop_cpu_ratio": 1e6 * mint_cpu / h["server_cpu_us"],
            }
            for w, h in http.items()
        },
        "core": core,
        "breakdown_us": parts,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    w = 62
    print(f"{'measure':{w}} {'value':>14}")
    print(f"{'-' * w} {'-' * 14}")
    print(f"{'raw joserfc access-token mints/s (1 thread, mean of runs)':{w}} {raw:14,.0f}")
    print(f"{'raw joserfc CPU per mint, us':{w}} {1e6 * mint_cpu:14,.0f}")
    print(f"{'the service own mint (same bytes), CPU per mint, us':{w}} {1e6 * own_cpu:14,.0f}")
    for workers, h in http.items():
        label = f"HTTP refresh grants/s, {args.clients} clients, serve --workers {workers}"
        print(f"{label:{w}} {h['rate']:14,.0f}")
        print(f"{'  vs raw':{w}} {100 * h['rate'] / raw:13.0f}%")
        print(f"{'  requests (errors)':{w}} {h['requests']:>8,} ({h['errors']})")
        print(f"{'  latency p50 / p99, ms':{w}} {h['p50_ms']:6.1f} / {h['p99_ms']:5.1f}")
        label = "  server CPU per grant, us (x one mint's CPU)"
        ratio = h["server_cpu_us"] / (1e6 * mint_cpu)
        print(f"{label:{w}} {h['server_cpu_us']:7.0f} ({ratio:.2f}x)")
        print(f"{'    of which system (kernel) CPU, us':{w}} {h['server_sys_us']:14.0f}")
        label = "  CPU ratio: bare loop's per mint / server's per grant"
        print(f"{label:{w}} {1 / ratio:14.2f}")
    for k, v in core.items():
        print(f"{'core: ' + k:{w}} {v:14,.0f}")
    if parts:
        _print_breakdown(parts, http, w)


def _print_breakdown(parts: dict[str, float], http: dict[int, dict[str, Any]], w: int) -> None:
    """Where a grant's CPU goes: the parts measured apart, and what is left of the server's."""
    rows = [
        ("RSA-2048 signature alone (cryptography)", parts["sign"]),
        ("the service's mint besides the signature", parts["own_mint"] - parts["sign"]),
        ("the service's grant, its token not serialized (as serve)", parts["core"]),
        ("the HTTP handler (direct: form, JSON answer)", parts["handler"]),
        ("serve's protocol + sockets, constant direct answer", parts["http"]),
    ]
    print(f"{'breakdown, CPU us per grant':{w}}")
    for label, value in rows:
        print(f"{'  ' + label:{w}} {value:14.0f}")
    total = sum(v for _, v in rows)
    print(f"{'  sum of the parts':{w}} {total:14.0f}")
    for workers, h in http.items():
        label = f"  server per grant minus the parts, serve --workers {workers}"
        print(f"{label:{w}} {h['server_cpu_us'] - total:14.0f}")


if __name__ == "__main__":
    main()
