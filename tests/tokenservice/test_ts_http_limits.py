"""HTTP limits of the token service over raw sockets: head size (431), read timeouts (408 or a
close) and the connection cap that evicts waiting connections instead of refusing requests.

Each test asserts what the server answers or whether it closed a connection; waits are bounded
generously (seconds) so a loaded machine does not make them flaky."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from logdoctor.tokenservice.server import HttpLimits
from logdoctor.tokenservice.service import Service
from tests.helpers.tokenservice import running

HEALTH = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"


def port_of(base: str) -> int:
    port = urlsplit(base).port
    assert port is not None
    return port


def connect(port: int, timeout: float = 30) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def status_of(sock: socket.socket) -> int:
    """The status of the next response on ``sock`` (0 if the server closed it first)."""
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split()[1]) if data.startswith(b"HTTP/1.1 ") else 0


def closed_within(sock: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing ``sock`` within ``seconds``; None if still open."""
    sock.settimeout(0.2)
    got = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return got
        if not chunk:
            return got
        got += chunk
    return None


@pytest.fixture
def base(svc: Service) -> Iterator[str]:
    with running(svc) as url:
        yield url


def test_a_1_mb_header_is_refused_and_the_server_stays_healthy(base: str) -> None:
    port = port_of(base)
    with connect(port) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for _ in range(16):
                s.sendall(b"A" * (64 * 1024))
            s.sendall(b"\r\n\r\n")
        assert status_of(s) in (431, 0)  # 431, or closed: never an answer to the request
    with connect(port) as s:
        s.sendall(HEALTH)
        assert status_of(s) == 200


def test_a_1_mb_query_string_is_refused(base: str) -> None:
    with connect(port_of(base)) as s:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(b"GET /health?" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status_of(s) in (400, 431, 0)


def test_heads_and_bodies_under_the_limits_pass(base: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as c:
        # a 30 KB header, then a 60 KB form body sent with its head in one write
        assert c.get("/health", headers={"X-Pad": "p" * 30_000}).status_code == 200
        r = c.post("/ssosp/oauth/introspect", data={"token": "x" * 60_000})
        assert r.json() == {"active": False, "reason": "oversized"}
        # many requests on one keep-alive connection, then pipelined ones
        assert all(c.get("/health").status_code == 200 for _ in range(20))
    with connect(port_of(base)) as s:
        s.sendall(HEALTH * 3)
        assert statuses(s, 3) == [200, 200, 200]


def statuses(sock: socket.socket, n: int) -> list[int]:
    """The statuses of the next ``n`` responses on ``sock`` (bodies read by Content-Length)."""
    out = []
    with sock.makefile("rb") as f:
        for _ in range(n):
            status = int(f.readline().split()[1])
            length = 0
            while (line := f.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            f.read(length)
            out.append(status)
    return out


@pytest.mark.slow
def test_1100_half_sent_connections_do_not_make_requests_503(svc: Service) -> None:
    # The default cap (1024), and a read timeout too long to close anything during the test.
    with running(svc, limits=HttpLimits(request_timeout=120)) as url:
        hold_1100_half_sent_connections(port_of(url))


def hold_1100_half_sent_connections(port: int) -> None:
    slow = []
    try:
        for _ in range(1100):
            s = connect(port)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow.append(s)
        time.sleep(0.5)
        for _ in range(3):
            with connect(port) as s:
                s.sendall(HEALTH)
                assert status_of(s) == 200
        # The longest-waiting slow connections made room; the newest are still open.
        assert closed_within(slow[0], 10) is not None
        assert closed_within(slow[-1], 0.5) is None
    finally:
        for s in slow:
            s.close()


def test_silent_and_half_sent_connections_and_slow_bodies_time_out(svc: Service) -> None:
    limits = HttpLimits(request_timeout=0.5)
    with running(svc, limits=limits) as url:
        port = port_of(url)
        with connect(port) as silent, connect(port) as half, connect(port) as body:
            half.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            body.sendall(
                b"POST /ssosp/oauth/introspect HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
                b"token=abc"
            )
            assert closed_within(silent, 20) == b""
            assert (closed_within(half, 20) or b"").startswith(b"HTTP/1.1 408 ")
            assert (closed_within(body, 20) or b"").startswith(b"HTTP/1.1 408 ")
        # A keep-alive client that pauses between its requests (no request in progress) is not
        # cut by the request timeout, only by the keep-alive timeout.
        with connect(port) as s:
            s.sendall(HEALTH)
            assert status_of(s) == 200
            time.sleep(1.0)
            s.sendall(HEALTH)
            assert status_of(s) == 200


def test_at_the_connection_cap_the_longest_waiting_connection_is_evicted(svc: Service) -> None:
    with running(svc, limits=HttpLimits(max_connections=10, request_timeout=120)) as url:
        port = port_of(url)
        waiting = [connect(port) for _ in range(10)]
        try:
            for s in waiting:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
                time.sleep(0.01)
            with connect(port) as s:
                s.sendall(HEALTH)
                assert status_of(s) == 200
            assert closed_within(waiting[0], 10) == b""
            assert closed_within(waiting[1], 0.3) is None
            waiting[1].sendall(b"\r\n")
            assert status_of(waiting[1]) == 200  # still served
        finally:
            for s in waiting:
                s.close()


@pytest.mark.parametrize(
    "kwargs",
    [{"max_head_bytes": 10}, {"request_timeout": 0}, {"keep_alive": 0}, {"max_connections": 0}],
)
def test_limits_are_checked(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        HttpLimits(**kwargs)  # type: ignore[arg-type]
