"""Run the app under uvicorn on a socket bound before start (so ``--port 0`` works)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path

import uvicorn

from logdoctor.tokenservice.app import create_app
from logdoctor.tokenservice.service import Service

__all__ = ["bind", "make_server", "run"]

TICK_SECONDS = 30.0


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: an ephemeral one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def make_server(
    service: Service,
    *,
    node: str | None = None,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
) -> uvicorn.Server:
    """A uvicorn server for ``service`` (quiet: the service writes UCM's logs, not access logs)."""
    config = uvicorn.Config(
        create_app(service, default_node=node),
        log_level="warning",
        access_log=False,
        lifespan="off",
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        server_header=False,
        limit_concurrency=1024,
        timeout_keep_alive=30,
    )
    return uvicorn.Server(config)


def run(
    service: Service,
    sock: socket.socket,
    *,
    node: str | None = None,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve until interrupted; a timer thread runs due jobs (the 02:00 purge) when idle."""
    server = make_server(service, node=node, tls_cert=tls_cert, tls_key=tls_key)
    stop = threading.Event()

    def ticker() -> None:
        while not stop.wait(TICK_SECONDS):
            service.tick()

    t = threading.Thread(target=ticker, name="Timer-3", daemon=True)
    t.start()
    if on_ready is not None:
        on_ready()
    try:
        server.run(sockets=[sock])
    finally:
        stop.set()
        service.close()
