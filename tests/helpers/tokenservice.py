"""Helpers shared by the token-service tests (constants, a real HTTP server)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from logdoctor.tokenservice.clock import from_iso
from logdoctor.tokenservice.server import HttpLimits, LogFlush, bind, make_server
from logdoctor.tokenservice.service import AdminCredentials, Service, TokenResponse
from tests.helpers.lines import CLIENT

__all__ = ["ADMIN", "CLIENT", "REDIRECT", "START", "login", "running", "serving"]

START = from_iso("2026-11-20T08:00:00")
REDIRECT = "http://127.0.0.1:8123/jabber/callback"
ADMIN = AdminCredentials("admin", "axl-Secret-1")


@contextmanager
def serving(
    service: Service,
    node: str | None = None,
    limits: HttpLimits | None = None,
    direct: bool = True,
) -> Iterator[tuple[str, uvicorn.Server]]:
    """A real uvicorn server for ``service`` on 127.0.0.1 and an ephemeral port, its log lines
    written as ``serve`` writes them (:class:`LogFlush`: once a turn of the loop); ``direct``
    as :func:`make_server`'s. Its URL and the server (stopped on exit, if not before)."""
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    logs = LogFlush(service)
    server = make_server(
        service, node=node, logs=logs, direct=direct, **({"limits": limits} if limits else {})
    )

    def serve() -> None:
        logs.attach()
        try:
            server.run(sockets=[sock])
        finally:
            logs.detach()

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not th.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        th.join(10)
        sock.close()


@contextmanager
def running(
    service: Service,
    node: str | None = None,
    limits: HttpLimits | None = None,
    direct: bool = True,
) -> Iterator[str]:
    """:func:`serving`'s URL."""
    with serving(service, node, limits, direct) as (url, _):
        yield url


def login(
    svc: Service,
    user: str = "alice",
    password: str | None = None,
    via: str | None = None,
    **kw: str,
) -> TokenResponse:
    """A code login of ``user`` (password ``<user>-pw`` unless given) and its exchange, both
    relayed by ``via`` if given."""
    a = svc.authorize(
        response_type="code",
        client_id=CLIENT,
        redirect_uri=REDIRECT,
        state="st",
        username=user,
        password=password or f"{user}-pw",
        device=kw.pop("device", f"CSF{user.upper()}"),
        via=via,
        **kw,
    )
    assert a.code is not None and a.location().startswith(REDIRECT + "?code=")
    return svc.exchange_code(code=a.code, client_id=CLIENT, redirect_uri=REDIRECT, via=via)
