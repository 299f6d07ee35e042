"""Run the app under uvicorn on a socket bound before start (so ``--port 0`` works)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import uvicorn

from logdoctor.tokenservice.app import create_app, direct_routes
from logdoctor.tokenservice.httpguard import HttpLimits, protocol_class
from logdoctor.tokenservice.service import Service

__all__ = ["HttpLimits", "LogFlush", "bind", "make_server", "run", "run_workers"]

TICK_SECONDS = 30.0


def bind(host: str, port: int, *, listen: bool = True, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: an ephemeral one), listening unless told
    not to; ``reuse_port`` lets worker processes bind the same port (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
        if listen:
            sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


class LogFlush:
    """The log lines of the operations the event loop runs (refresh grants, introspection),
    written once per turn of the loop instead of once per operation, and always before a
    response leaves: :class:`~logdoctor.tokenservice.httpguard.Coalesced` calls :meth:`now`
    before it sends, and the turn's end calls it anyway. Operations in other threads (code
    exchanges, the timer) still write their lines at once."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self._thread: int | None = None
        self._due = False
        self._lost: Exception | None = None

    def attach(self) -> None:
        """Defer the lines of the operations this thread runs (the thread that runs the
        loop, before it starts it)."""
        self._thread = threading.get_ident()
        self._service.defer_flush = self.defer

    def detach(self) -> None:
        """Write every operation's lines at once again (the loop has stopped)."""
        self._service.defer_flush = None
        self._thread = None
        self._due = False
        self._service.flush()

    def defer(self) -> bool:
        """Take the operation just done over (``Core.defer_flush``) if it ran on the loop."""
        if threading.get_ident() != self._thread:
            return False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False  # the loop's thread before the loop runs
        if not self._due:
            self._due = True
            loop.call_soon(self.now)
        return True

    def now(self) -> None:
        """Write the deferred lines (a no-op when none are). When they cannot be written, it
        raises for every answer of this turn (:class:`Coalesced` drops it and aborts its
        connection): no answer leaves without its lines, as an operation that writes its own
        lines fails when it cannot."""
        if self._lost is not None:
            raise self._lost
        if self._due:
            self._due = False
            try:
                self._service.flush()
            except Exception as exc:  # a full disk, most likely; raised again below
                self._lost = exc
                # The answers of this turn are queued before this: they all see the loss.
                asyncio.get_running_loop().call_soon(self._recover)
                raise

    def _recover(self) -> None:
        self._lost = None


def make_server(
    service: Service,
    *,
    node: str | None = None,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    limits: HttpLimits | None = None,
    logs: LogFlush | None = None,
    direct: bool = True,
) -> uvicorn.Server:
    """A uvicorn server for ``service`` (quiet: the service writes UCM's logs, not access logs;
    no ``X-Forwarded-For`` trusted)
    with the head-size, read-time and connection limits of ``limits`` (see
    :mod:`~logdoctor.tokenservice.httpguard`; uvicorn's own ``limit_concurrency`` is off: it
    would answer every request 503 while idle connections fill it); with ``logs``, the
    lines of the loop's operations are written once a turn, before the responses leave; with
    ``direct`` (the default) the protocol answers refresh grants and validations itself
    (:func:`~logdoctor.tokenservice.app.direct_routes`), else every request goes through
    uvicorn and the app."""
    limits = limits or HttpLimits()
    service.passwords.dummy(service.state.pw_cost)  # made now, not by the first unknown name
    config = uvicorn.Config(
        create_app(service, default_node=node),
        http=protocol_class(
            limits,
            logs.now if logs is not None else None,
            direct_routes(service, default_node=node) if direct else None,
        ),
        log_level="warning",
        access_log=False,
        lifespan="off",
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        server_header=False,
        # No forwarding header is trusted: the client address is the socket's (lockouts count
        # per address, and every client of a 127.0.0.1 service would be a trusted proxy).
        proxy_headers=False,
        limit_concurrency=None,
        timeout_keep_alive=limits.keep_alive,
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
    logs = LogFlush(service)
    server = make_server(service, node=node, tls_cert=tls_cert, tls_key=tls_key, logs=logs)
    stop = threading.Event()

    def ticker() -> None:
        while not stop.wait(TICK_SECONDS):
            service.tick()

    t = threading.Thread(target=ticker, name="Timer-3", daemon=True)
    t.start()
    # What start-up made (modules, the app, the state) lives as long as the server: out of
    # the cyclic collector's sight, its full passes no longer walk it on every grant's dime.
    gc.collect()
    gc.freeze()
    if on_ready is not None:
        on_ready()
    logs.attach()
    try:
        server.run(sockets=[sock])
    finally:
        stop.set()
        logs.detach()
        service.close()


def run_workers(
    make_service: Callable[[], Service],
    sock: socket.socket,
    workers: int,
    *,
    node: str | None = None,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve with ``workers`` processes. With one, ``sock`` listens. With more, ``sock`` must be
    bound with ``reuse_port`` and not listening (it holds the port): each worker binds its own
    listening socket to the same port and the kernel spreads connections among them. Each
    process opens the data dir itself after the fork: SQLite (WAL) and the log files (append
    mode, size checked with fstat) are shared safely; a change one process makes is seen by the
    others at their next request."""
    if workers <= 1:
        run(make_service(), sock, node=node, tls_cert=tls_cert, tls_key=tls_key, on_ready=on_ready)
        return
    host, port = sock.getsockname()[:2]
    # Every worker's socket listens before any worker starts: once ``on_ready`` runs, a
    # connection is queued by the kernel, never refused.
    socks = [bind(host, port, reuse_port=True) for _ in range(workers)]
    children: list[int] = []
    for own in socks:
        pid = os.fork()
        if pid == 0:  # pragma: no cover (a child; its work is seen through HTTP)
            code = 0
            try:
                for other in socks:
                    if other is not own:
                        other.close()
                run(make_service(), own, node=node, tls_cert=tls_cert, tls_key=tls_key)
            except BaseException:
                code = 1
            os._exit(code)
        children.append(pid)
    for own in socks:
        own.close()

    def forward(signum: int, _frame: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    if on_ready is not None:
        on_ready()
    for pid in children:
        os.waitpid(pid, 0)
