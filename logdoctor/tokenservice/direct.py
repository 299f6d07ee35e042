"""Direct answers: uvicorn's httptools protocol answering the busiest requests itself.

The busiest requests (refresh grants, validations) are answered by the protocol itself, as soon
as the request is read, by a handler of its path (``_direct_paths``: the app's
:func:`~logdoctor.tokenservice.app.direct_routes`) that gives the same answer as the app. That
skips what uvicorn does per request around the app (an asyncio task, the ASGI scope and
messages, the response's headers checked one by one): some 30 of a grant's ~470 us of CPU.

The rest goes through uvicorn and the app as before. A handler may hand its request over
(``None``: a code exchange, which waits for the disk), and so is every request that:

* is not a ``POST`` of a direct path without a query;
* expects ``100 Continue``, or has a body over :data:`MAX_DIRECT_BODY`;
* arrives while an earlier request of its connection is still being served (pipelining keeps
  its order), or while the connection's writes are paused (a client that does not read its
  answers is held back by uvicorn's flow control);
* follows another direct answer in the same read (a client that pipelines many requests does
  not hold the loop for all of them at once).

As with uvicorn: a request read after an answer that closed the connection (``connection:
close``, a 500) is not run; a server that stops still answers a direct request whose body is
arriving, then closes; and uvicorn's keep-alive timer never runs while a request is served.
:mod:`~logdoctor.tokenservice.httpguard` adds its limits on top of this protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

__all__ = ["MAX_DIRECT_BODY", "Answer", "DirectHandler", "DirectProtocol"]

MAX_DIRECT_BODY = 64 * 1024
"""A request body longer than this goes through the app (which refuses it: its own cap)."""


class Answer(Protocol):
    """A complete response (a Starlette ``Response`` is one): status, headers (lower-case
    names, ``content-length`` among them) and body."""

    @property
    def status_code(self) -> int:
        """The status code."""
        ...

    @property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers."""
        ...

    @property
    def body(self) -> bytes | memoryview:
        """The body."""
        ...


DirectHandler = Callable[[list[tuple[bytes, bytes]], bytes], Answer | None]
"""A direct path's handler: the request's headers (ASGI's list) and whole body to its answer,
or ``None`` to hand the request to the app."""


class _Direct:
    """A request being read for a direct answer."""

    __slots__ = ("body", "handler", "keep_alive", "size")

    def __init__(self, handler: DirectHandler, keep_alive: bool) -> None:
        self.handler = handler
        self.keep_alive = keep_alive
        self.body: list[bytes] = []
        self.size = 0


_SERVER_ERROR = (
    500,
    [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"21"),
        (b"connection", b"close"),
    ],
    b"Internal Server Error",
)
"""uvicorn's answer when the app fails."""


class DirectProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that answers the requests of ``_direct_paths`` itself
    (see the module's text; a subclass per server sets the paths)."""

    _direct_paths: ClassVar[dict[bytes, DirectHandler]] = {}
    """The direct paths' handlers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._direct: _Direct | None = None
        self._answered = False  # a direct answer was given in this read
        self._discard = False  # the connection closed in this read: the rest is not served
        self._shutting = False  # the server stops: the request being read is the last

    def data_received(self, data: bytes) -> None:
        """Parse ``data`` (a new read: one direct answer again)."""
        self._answered = False
        super().data_received(data)

    def on_message_begin(self) -> None:
        """A request starts: uvicorn's keep-alive timer, which a direct answer earlier in the
        same read started, stops (a request is being served)."""
        self._unset_keepalive_if_required()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        """The head is read: answer directly, or hand it to uvicorn as usual."""
        if self.transport.is_closing():
            # A direct answer closed the connection earlier in this read: nobody would get
            # the answers of the requests after it (uvicorn leaves them in its pipeline).
            self._discard = True
            return
        handler = None if self._answered else self._direct_paths.get(self.url)
        if handler is not None and self._may_answer():
            version = self.parser.get_http_version()
            self._direct = _Direct(handler, version != "1.0" and self.parser.should_keep_alive())
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        """A piece of the body: kept for a direct answer, else the app's."""
        if self._discard:
            return
        d = self._direct
        if d is None:
            super().on_body(body)
            return
        d.body.append(body)
        d.size += len(body)
        if d.size > MAX_DIRECT_BODY:
            self._hand_over(d)

    def on_message_complete(self) -> None:
        """The request is read: a direct path answers it now."""
        if self._discard:
            return
        d = self._direct
        if d is None:
            super().on_message_complete()
            return
        self._direct = None
        self._answer(d)

    def shutdown(self) -> None:
        """The server stops: a request being read for a direct answer is still answered (and
        the connection then closed), as uvicorn does for a request it is serving."""
        d = self._direct
        if d is None:
            super().shutdown()
            return
        d.keep_alive = False
        self._shutting = True

    def _may_answer(self) -> bool:
        """Whether the request whose head was just read may be answered directly."""
        return (
            self.parser.get_method() == b"POST"
            and not self.root_path
            and not self.expect_100_continue
            and not self.parser.should_upgrade()
            and (self.cycle is None or self.cycle.response_complete)
            and not self.pipeline
            and not self.flow.write_paused
        )

    def _hand_over(self, d: _Direct) -> None:
        """The request goes to uvicorn and the app after all, with what was read of its body
        (uvicorn's own callbacks, as it would have had them)."""
        self._direct = None
        super().on_headers_complete()
        if self._shutting and self.cycle is not None:
            self.cycle.keep_alive = False
        body = b"".join(d.body)
        if body:
            super().on_body(body)

    def _answer(self, d: _Direct) -> None:
        body = b"".join(d.body)
        try:
            answer = d.handler(self.headers, body)
        except Exception as exc:  # as uvicorn: logged, 500, the connection closed
            self.logger.error("Exception in ASGI application\n", exc_info=exc)
            self._answered = True
            self._send(d.keep_alive, *_SERVER_ERROR)
            return
        if answer is None:
            self._hand_over(d)
            super().on_message_complete()
            return
        self._answered = True
        self._send(d.keep_alive, answer.status_code, answer.raw_headers, answer.body)

    def _send(
        self,
        keep_alive: bool,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes | memoryview,
    ) -> None:
        """Write a response as uvicorn would (its default headers first, ``connection:
        close`` unless kept alive), then finish it as uvicorn does."""
        out: list[bytes | memoryview] = [STATUS_LINE[status]]
        closing = False
        for name, value in (*self.server_state.default_headers, *headers):
            if name == b"connection" and b"close" in [t.strip().lower() for t in value.split(b",")]:
                keep_alive, closing = False, True
            out += (name, b": ", value, b"\r\n")
        if not keep_alive and not closing:
            out.append(b"connection: close\r\n")
        out += (b"\r\n", body)
        self.transport.write(b"".join(out))
        if not keep_alive:
            self.transport.close()
        self.on_response_complete()
