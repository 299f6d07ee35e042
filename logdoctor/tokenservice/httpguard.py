"""HTTP/1.1 limits uvicorn does not enforce by itself: head size, request read time, and a
connection cap that evicts idle connections instead of refusing requests.

uvicorn (0.30 and later) runs the app over httptools, which accepts a request head of any size
(reading it in time quadratic in its size, on the event loop), never times out a connection that
sends nothing or half a head (its keep-alive timer starts only after a first response), and its
``limit_concurrency`` answers *every* new request 503 once that many connections are open, idle
ones included. h11 has a head-size limit (``h11_max_incomplete_event_size``) but no read
timeout either. So :func:`protocol_class` wraps uvicorn's httptools protocol:

* **Head size**: more than :attr:`HttpLimits.max_head_bytes` of request line and headers gets
  ``431 Request Header Fields Too Large`` and the connection is closed (at most one read
  buffer, 256 KiB, past the limit is ever parsed).
* **Read time**: a request (head and body) must arrive within
  :attr:`HttpLimits.request_timeout` seconds of its first byte, and a new connection must
  deliver its first request within as long; else ``408 Request Timeout`` (or, if it sent
  nothing, a plain close). Between requests uvicorn's keep-alive timeout
  (:attr:`HttpLimits.keep_alive`) applies.
* **Connections**: at most :attr:`HttpLimits.max_connections` are kept. A new connection over
  the cap closes the connection that has waited longest for a request (a fresh or idle one, or
  one still sending its head); connections whose request the app is serving are never closed.
  Slow or silent clients thus cannot keep a fast client out: its connection would have to wait
  longer than theirs to be chosen. Only when every connection is busy is the new one closed.

Besides, the writes one turn of the event loop makes to a connection leave together
(:class:`Coalesced`): uvicorn writes a response's head and body separately, which would cost
two system calls, two TCP segments and two wake-ups of the client per response.

The protocol is :class:`~logdoctor.tokenservice.direct.DirectProtocol`: it answers the busiest
requests itself (``direct``); the limits apply to those as to the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from logdoctor.tokenservice.direct import DirectHandler, DirectProtocol

__all__ = ["Coalesced", "HttpLimits", "protocol_class"]


@dataclass(frozen=True)
class HttpLimits:
    """Limits of the token service's HTTP server."""

    max_head_bytes: int = 64 * 1024
    """Request line and headers, in bytes."""
    request_timeout: float = 10.0
    """Seconds from a request's first byte (or a new connection) to its last byte."""
    keep_alive: int = 15
    """Seconds an idle connection is kept between requests (uvicorn's ``timeout_keep_alive``)."""
    max_connections: int = 1024
    """Open connections; a new one beyond evicts the one waiting longest for a request."""

    def __post_init__(self) -> None:
        if self.max_head_bytes < 1024 or self.request_timeout <= 0 or self.keep_alive < 1:
            raise ValueError("max_head_bytes >= 1024, request_timeout > 0, keep_alive >= 1")
        if self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")


def _response(status: int, reason: str) -> bytes:
    body = reason.encode("ascii")
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


_TOO_LARGE = _response(431, "Request Header Fields Too Large")
_TIMEOUT = _response(408, "Request Timeout")


class Coalesced(asyncio.Transport):
    """A transport whose writes of one turn of the event loop are sent as one, at the end of
    the turn (or before a close or EOF); everything else is the wrapped transport's.
    ``before_send`` runs before any queued bytes are handed to the transport (the server
    writes the log lines of the requests answered first); if it raises, the bytes are dropped
    and the connection aborted."""

    def __init__(
        self,
        transport: asyncio.Transport,
        loop: asyncio.AbstractEventLoop,
        before_send: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self._t = transport
        self._loop = loop
        self._before_send = before_send
        self._pending: list[bytes] = []
        # Asked several times per request: the wrapped transport's own method, not a call
        # through this one's.
        self.is_closing = transport.is_closing  # type: ignore[method-assign]

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue ``data``; the first write of a turn schedules the send."""
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        """Queue each of ``list_of_data``."""
        for data in list_of_data:
            self.write(data)

    def _flush(self) -> None:
        if self._pending:
            if self._before_send is not None:
                try:
                    self._before_send()
                except Exception as exc:  # reported to the loop; the answer is dropped
                    self._pending.clear()
                    self._t.abort()
                    message = "answer dropped: what must precede it failed"
                    self._loop.call_exception_handler({"message": message, "exception": exc})
                    return
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._t.is_closing():
                self._t.write(data)

    def close(self) -> None:
        """Send what is queued, then close."""
        self._flush()
        self._t.close()

    def write_eof(self) -> None:
        """Send what is queued, then EOF."""
        self._flush()
        self._t.write_eof()

    def abort(self) -> None:
        """Close at once; what is queued is dropped, as the transport drops its buffer."""
        self._pending.clear()
        self._t.abort()

    def can_write_eof(self) -> bool:
        """As the wrapped transport."""
        return self._t.can_write_eof()

    def is_closing(self) -> bool:
        """As the wrapped transport."""
        return self._t.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """As the wrapped transport."""
        return self._t.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        """As the wrapped transport."""
        self._t.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        """As the wrapped transport."""
        return self._t.get_protocol()

    def is_reading(self) -> bool:
        """As the wrapped transport."""
        return self._t.is_reading()

    def pause_reading(self) -> None:
        """As the wrapped transport."""
        self._t.pause_reading()

    def resume_reading(self) -> None:
        """As the wrapped transport."""
        self._t.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """As the wrapped transport."""
        self._t.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        """The wrapped transport's buffer and what is queued here."""
        return self._t.get_write_buffer_size() + sum(len(d) for d in self._pending)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        """As the wrapped transport."""
        return self._t.get_write_buffer_limits()


class _Waiting:
    """The connections of one server that wait for a request, longest-waiting first."""

    def __init__(self) -> None:
        self.order: dict[Any, None] = {}
        self.closing: set[Any] = set()

    def wait(self, conn: Any) -> None:
        self.order.pop(conn, None)
        self.order[conn] = None

    def busy(self, conn: Any) -> None:
        self.order.pop(conn, None)

    def forget(self, conn: Any) -> None:
        self.order.pop(conn, None)
        self.closing.discard(conn)

    def oldest(self, but: Any) -> Any | None:
        for conn in self.order:
            if conn is not but and conn not in self.closing:
                return conn
        return None


class _GuardedProtocol(DirectProtocol):
    """uvicorn's httptools protocol with the limits of :class:`HttpLimits` (subclassed per
    server by :func:`protocol_class`, which sets both class attributes)."""

    _limits: ClassVar[HttpLimits]
    _waiting: ClassVar[_Waiting]
    _before_send: ClassVar[tuple[Callable[[], None], ...]]
    """The server's hook for :class:`Coalesced` (none, or one; a tuple so that it is never
    bound as a method)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._in_request = False
        self._completed = False
        self._deadline: asyncio.TimerHandle | None = None

    # -- timers and eviction -------------------------------------------------------------------

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self._limits.request_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self._in_request or self._head_bytes:
            self.transport.write(_TIMEOUT)
        self._drop()

    def _drop(self) -> None:
        self._waiting.closing.add(self)
        self._waiting.busy(self)
        self.transport.close()

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Count the connection; over the cap, close the one waiting longest for a request."""
        hook = self._before_send[0] if self._before_send else None
        super().connection_made(Coalesced(transport, self.loop, hook))
        self._waiting.wait(self)
        self._arm()
        if len(self.connections) - len(self._waiting.closing) > self._limits.max_connections:
            victim = self._waiting.oldest(but=self)
            (victim if victim is not None else self)._drop()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection."""
        self._disarm()
        self._waiting.forget(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse ``data``, counting the bytes of the head being read against its limit."""
        if self.transport.is_closing():
            return
        self._completed = False
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self._completed:
            # A request ended in this chunk: what follows it (a pipelined head) is not
            # counted, which undercounts that head by less than one read.
            self._head_bytes = 0
        elif self._in_head:
            self._head_bytes += len(data)
            if self._head_bytes > self._limits.max_head_bytes:
                self.transport.write(_TOO_LARGE)
                self._drop()
                return
        if self._in_request:
            self._arm()

    # -- httptools callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        """A request starts: its read time runs."""
        super().on_message_begin()
        self._in_request = True

    def on_headers_complete(self) -> None:
        """The head is read: the connection is busy until its response is sent."""
        self._in_head = False
        self._head_bytes = 0
        self._waiting.busy(self)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The request is read: its read time stops (before a direct answer is sent)."""
        self._in_request = False
        self._in_head = True
        self._completed = True
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        """The response is sent: without a pipelined request, the connection waits again."""
        super().on_response_complete()
        idle = self.cycle is None or self.cycle.response_complete  # no pipelined request
        if idle and not self.transport.is_closing():
            self._waiting.wait(self)


def protocol_class(
    limits: HttpLimits,
    before_send: Callable[[], None] | None = None,
    direct: dict[bytes, DirectHandler] | None = None,
) -> type[asyncio.Protocol]:
    """An httptools protocol class for ``uvicorn.Config(http=...)`` that enforces ``limits``
    (one class per server: the connection cap counts that server's connections); every
    connection runs ``before_send`` before its queued bytes leave (:class:`Coalesced`), and
    answers the requests of the ``direct`` paths itself (see the module's text)."""

    class GuardedHttpToolsProtocol(_GuardedProtocol):
        """uvicorn's httptools protocol with the limits of :class:`HttpLimits`."""

        _limits = limits
        _waiting = _Waiting()
        _before_send = (before_send,) if before_send is not None else ()
        _direct_paths: ClassVar[dict[bytes, DirectHandler]] = dict(direct or {})

    return GuardedHttpToolsProtocol
