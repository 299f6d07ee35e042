"""HTTP over the core: a Starlette app with UCM's ssosp paths.

=======================================  =============================================
``GET|POST /ssosp/oauth/authorize``      code (refresh login flow) or implicit grant;
                                         the user's credentials by HTTP basic
``POST /ssosp/oauth/token``              authorization_code and refresh_token grants
``POST /ssosp/oauth/introspect``         validation by an emulated resource server
                                         (form ``token``, optional ``server``)
``GET /ssosp/token/revoke``              admin (AXL) basic credentials; UCM's JSON
``GET /health``                          liveness, cluster and node
=======================================  =============================================

The node that serves a request is the one the ``Host`` header names (a client that talks to
``ucm-sub1:8443`` reaches that subscriber), else the app's default node. The last hop of a
``Via`` header (``Via: 1.1 expc1``) names the Expressway that relayed it. Request bodies are
capped (64 KiB); a parameter given twice is refused, as RFC 6749 asks. Calls that wait for the
disk (authorize, code exchange, revoke) run in worker threads; refresh grants and introspection
run on the event loop. A password is checked by scrypt in the service's own low-priority
threads while neither the event loop nor the service lock waits for it, one attempt per user
name at a time; a name or client address locked out after failed logons gets 429 with
``Retry-After``, and a full password queue 503. More throughput comes from more processes
(``logdoctor serve --workers N``), not threads: the work is bound by the GIL (signing the access
token in a thread pool, where OpenSSL releases the GIL, was measured: more CPU per grant for
the hand-offs, no steady gain in grants/s on two shared cores). The two busiest routes (token,
introspect) skip Starlette's middleware and router (:class:`_HotPaths`); under ``serve`` they
are answered by the HTTP protocol itself, with the same handlers and the same bytes
(:func:`direct_routes`, :mod:`~logdoctor.tokenservice.direct`), without an ASGI cycle.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from logdoctor.tokenservice.direct import DirectHandler
from logdoctor.tokenservice.errors import OAuthError, ServiceError
from logdoctor.tokenservice.passwords import Busy
from logdoctor.tokenservice.service import MAX_NAME, LoginAttempt, Service

__all__ = ["MAX_BODY", "create_app", "direct_routes"]

MAX_BODY = 64 * 1024
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
T = TypeVar("T")
Q = TypeVar("Q")


class _BadRequest(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _pairs(raw: str) -> list[tuple[str, str]]:
    """``parse_qsl(raw, keep_blank_values=True, max_num_fields=64)``; a query with nothing to
    decode (no ``%`` or ``+``) is split here, with the same result, for a fraction of its time."""
    if "%" in raw or "+" in raw or raw.count("&") >= 64:
        return parse_qsl(raw, keep_blank_values=True, strict_parsing=False, max_num_fields=64)
    out = []
    for item in raw.split("&"):
        if item:
            name, _, value = item.partition("=")
            out.append((name, value))
    return out


def _params(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        pairs = _pairs(raw)
    except ValueError as exc:
        raise _BadRequest(400, f"malformed parameters: {exc}") from None
    for k, v in pairs:
        if k in out:
            raise _BadRequest(400, f"parameter {k!r} given more than once")
        out[k] = v
    return out


class _Http(Protocol):
    """What the hot handlers read of a request (a Starlette ``Request`` has it, and so has
    the leaner :class:`_Lean`)."""

    @property
    def headers(self) -> Mapping[str, str]:
        """Header values by lower-case name (the first of a repeated header)."""
        ...

    def stream(self) -> AsyncIterator[bytes]:
        """The body, chunk by chunk (``ClientDisconnect`` if the client goes)."""
        ...


def _header_map(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Header values by lower-case name from an ASGI header list (the first of a repeated
    header wins, as in Starlette; ASGI names are lower case)."""
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(raw)}


class _Lean:
    """A request as the hot routes need it, read straight from the ASGI scope (what a
    Starlette ``Request`` gives, without building one)."""

    __slots__ = ("_receive", "headers")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.headers = _header_map(scope["headers"])
        self._receive = receive

    async def stream(self) -> AsyncIterator[bytes]:
        """The body as the ASGI server hands it over."""
        while True:
            message = await self._receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                if body:
                    yield body
                if not message.get("more_body", False):
                    return
            elif message["type"] == "http.disconnect":
                raise ClientDisconnect()


_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
"""Starlette's ``JSONResponse.render`` encoder, made once."""
_NO_STORE_RAW = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in _NO_STORE.items()]


class _Json(Response):
    """A 200 JSON answer with ``Cache-Control: no-store``: what ``JSONResponse(content,
    headers=_NO_STORE)`` sends (same bytes, tested), made without its header handling."""

    media_type = "application/json"

    def __init__(self, content: Any) -> None:  # no super().__init__: every field is set here
        self.status_code = 200
        self.background = None
        self.body = _JSON.encode(content).encode("utf-8")
        self.raw_headers = [
            *_NO_STORE_RAW,
            (b"content-length", str(len(self.body)).encode("latin-1")),
            (b"content-type", b"application/json"),
        ]


def _form_head(headers: Mapping[str, str]) -> None:
    """Refuse a form request by its head: not a form, or a body declared too large."""
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise _BadRequest(400, "the body must be application/x-www-form-urlencoded")
    length = headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise _BadRequest(413, f"the body is larger than {MAX_BODY} bytes")


def _form_body(body: bytes) -> dict[str, str]:
    """The parameters of a whole form body (at most ``MAX_BODY`` bytes, UTF-8)."""
    if len(body) > MAX_BODY:
        raise _BadRequest(413, f"the body is larger than {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadRequest(400, "the body is not UTF-8") from None
    return _params(text)


async def _form(request: _Http) -> dict[str, str]:
    _form_head(request.headers)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _BadRequest(413, f"the body is larger than {MAX_BODY} bytes")
        chunks.append(chunk)
    return _form_body(b"".join(chunks))


def _basic(request: Request) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization")
    if not header:
        return None, None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else (None, None)


def _via(headers: Mapping[str, str]) -> str | None:
    header = headers.get("via")
    if not header:
        return None
    hop = header.split(",")[-1].strip().split()
    return hop[1] if len(hop) >= 2 else (hop[0] if hop else None)


def _error(exc: OAuthError) -> JSONResponse:
    headers = dict(_NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="ssosp"'
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(exc.to_json(), status_code=exc.status, headers=headers)


def _address(request: Request) -> str | None:
    """The client's address as the socket sees it (no forwarding header is trusted)."""
    return request.client.host if request.client else None


def _guarded(
    handler: Callable[[Q], Awaitable[Response]],
) -> Callable[[Q], Awaitable[Response]]:
    """``handler`` with the service's refusals turned into their answers."""

    async def wrapper(request: Q) -> Response:
        try:
            return await handler(request)
        except _REFUSALS as exc:
            return _refusal(exc)

    return wrapper


_REFUSALS = (OAuthError, _BadRequest, ServiceError, ClientDisconnect, Busy)
"""What a handler raises to refuse a request (:func:`_refusal` answers it)."""


def _refusal(exc: Exception) -> Response:
    """The answer to a refusal of :data:`_REFUSALS`."""
    if isinstance(exc, OAuthError):
        return _error(exc)
    if isinstance(exc, _BadRequest):
        body = {"error": "invalid_request", "error_description": exc.description}
        return JSONResponse(body, status_code=exc.status, headers=_NO_STORE)
    if isinstance(exc, ServiceError):
        body = {"error": "invalid_request", "error_description": str(exc)}
        return JSONResponse(body, status_code=400, headers=_NO_STORE)
    if isinstance(exc, ClientDisconnect):
        return Response(status_code=400)  # nobody to answer (read timed out, or gone)
    assert isinstance(exc, Busy)
    body = {
        "error": "temporarily_unavailable",
        "error_description": "too many logons in progress; retry shortly",
    }
    return JSONResponse(body, status_code=503, headers={**_NO_STORE, "Retry-After": "1"})


async def _call(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a worker thread (it waits for the disk or the service lock)."""
    return await run_in_threadpool(fn)


def _on_loop(form: Mapping[str, str]) -> bool:
    """Whether a token request runs on the event loop: a refresh grant only reads the
    database (a thread hop costs more than it saves, the GIL being the limit); a code
    exchange commits, so it waits for the disk in a worker thread."""
    return form.get("grant_type") == "refresh_token"


class _Endpoints:
    """The request handlers over one service."""

    def __init__(self, service: Service, default_node: str | None) -> None:
        self.service = service
        self.default_node = default_node

    def node_of(self, headers: Mapping[str, str]) -> str | None:
        """The node the ``Host`` header names, else the default node."""
        host = (headers.get("host") or "").rsplit(":", 1)[0].strip("[]")
        return self.service.issuing_node_for_host(host) or self.default_node

    def gate(self, name: str) -> AbstractAsyncContextManager[None]:
        """One logon attempt per user name at a time."""
        if not name:
            return contextlib.nullcontext()
        return self.service.one_at_a_time.hold_async(name)

    async def health(self, request: Request) -> Response:
        """``GET /health``."""
        # On the event loop, like refresh grants: its answer time is the loop's.
        info = self.service.info()
        node = self.node_of(request.headers) or info["publisher"]
        return JSONResponse({"status": "ok", "cluster": info["cluster"], "node": node})

    async def authorize(self, request: Request) -> Response:
        """``GET|POST /ssosp/oauth/authorize``."""
        service = self.service
        params = _params(request.url.query)
        if request.method == "POST":
            for k, v in (await _form(request)).items():
                if k in params:
                    raise _BadRequest(400, f"parameter {k!r} given more than once")
                params[k] = v
        user, password = _basic(request)
        node = self.node_of(request.headers)

        def start() -> LoginAttempt:
            return service.authorize_start(
                response_type=params.get("response_type"),
                client_id=params.get("client_id"),
                redirect_uri=params.get("redirect_uri"),
                state=params.get("state"),
                scope=params.get("scope"),
                username=user,
                password=password,
                device=params.get("device"),
                agent=request.headers.get("user-agent"),
                via=_via(request.headers),
                node=node,
                code_challenge=params.get("code_challenge"),
                code_challenge_method=params.get("code_challenge_method"),
                address=_address(request),
            )

        # Start (request checks, lockouts), password (scrypt, awaited), finish (count the
        # failure, or issue): the service lock is held in the first and last steps only.
        name = (user or "")[:MAX_NAME]
        async with self.gate(name):
            attempt = await _call(start)
            ok = await service.passwords.check_async(attempt.check)
            location = await _call(lambda: service.authorize_finish(attempt, ok).location())
        return RedirectResponse(location, status_code=302, headers=_NO_STORE)

    async def token(self, request: _Http) -> Response:
        """``POST /ssosp/oauth/token``."""
        form = await _form(request)
        if _on_loop(form):
            return self.token_now(form, request.headers)
        node, via = self.node_of(request.headers), _via(request.headers)

        def run() -> dict[str, Any]:
            return self.service.token_request(form, via=via, node=node).to_json()

        return _Json(await _call(run))

    def token_now(self, form: Mapping[str, str], headers: Mapping[str, str]) -> Response:
        """A token request run here, on the event loop (see :func:`_on_loop`)."""
        node, via = self.node_of(headers), _via(headers)
        return _Json(self.service.token_request(form, via=via, node=node).to_json())

    async def introspect(self, request: _Http) -> Response:
        """``POST /ssosp/oauth/introspect``."""
        return self.introspect_now(await _form(request), request.headers)

    def introspect_now(self, form: Mapping[str, str], headers: Mapping[str, str]) -> Response:
        """A validation (it runs on the event loop)."""
        tok = form.get("token")
        if not tok:
            raise _BadRequest(400, "token is required")
        server = form.get("server") or self.node_of(headers)
        return _Json(self.service.introspect(tok, server=server).to_json())

    def direct(self) -> dict[bytes, DirectHandler]:
        """The handlers of the hot routes for :mod:`~logdoctor.tokenservice.direct`'s
        direct answers: each takes the request's head and whole body and answers as its
        route's handler would, or gives ``None`` to hand the request to the app (a code
        exchange: it waits for the disk in a worker thread)."""

        def token(raw: list[tuple[bytes, bytes]], body: bytes) -> Response | None:
            headers = _header_map(raw)
            try:
                _form_head(headers)
                form = _form_body(body)
                return self.token_now(form, headers) if _on_loop(form) else None
            except _REFUSALS as exc:
                return _refusal(exc)

        def introspect(raw: list[tuple[bytes, bytes]], body: bytes) -> Response:
            headers = _header_map(raw)
            try:
                _form_head(headers)
                return self.introspect_now(_form_body(body), headers)
            except _REFUSALS as exc:
                return _refusal(exc)

        return {b"/ssosp/oauth/token": token, b"/ssosp/oauth/introspect": introspect}

    async def revoke(self, request: Request) -> Response:
        """``GET /ssosp/token/revoke``."""
        params = _params(request.url.query)
        user, password = _basic(request)
        node = self.node_of(request.headers)

        def run() -> dict[str, Any]:
            return self.service.revoke(
                admin_user=user,
                admin_password=password,
                user_id=params.get("user_id"),
                client_id=params.get("client_id"),
                node=node,
                address=_address(request),
            ).to_json()

        return JSONResponse(await _call(run), headers=_NO_STORE)


class _HotPaths:
    """An ASGI app that serves the busiest routes (refresh grants, validations) directly and
    hands every other request to ``app``.

    A hot route gets the same handler as through Starlette, with the request read straight
    from the scope (:class:`_Lean`) and without Starlette's middleware and router (together
    about a tenth of a grant's CPU). Nothing is lost: an exception the handler does not answer
    reaches uvicorn, which answers 500 as Starlette's error middleware would; any other method
    or path, or a ``root_path``, goes to ``app``.
    """

    def __init__(
        self, app: ASGIApp, hot: dict[tuple[str, str], Callable[[_Http], Awaitable[Response]]]
    ) -> None:
        self.app = app
        self.hot = hot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            handler = self.hot.get((scope["method"], scope["path"]))
            if handler is not None:
                response = await handler(_Lean(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def direct_routes(
    service: Service, *, default_node: str | None = None
) -> dict[bytes, DirectHandler]:
    """The hot routes' direct handlers (:meth:`_Endpoints.direct`) of the app that
    :func:`create_app` makes with the same arguments."""
    return _Endpoints(service, default_node).direct()


def create_app(service: Service, *, default_node: str | None = None) -> ASGIApp:
    """The ASGI app of one service; ``default_node`` serves requests no ``Host`` names."""
    e = _Endpoints(service, default_node)
    token, introspect = _guarded(e.token), _guarded(e.introspect)
    routes = [
        Route("/health", _guarded(e.health), methods=["GET"]),
        Route("/ssosp/oauth/authorize", _guarded(e.authorize), methods=["GET", "POST"]),
        Route("/ssosp/oauth/token", token, methods=["POST"]),
        Route("/ssosp/oauth/introspect", introspect, methods=["POST"]),
        Route("/ssosp/token/revoke", _guarded(e.revoke), methods=["GET"]),
    ]
    hot = {("POST", "/ssosp/oauth/token"): token, ("POST", "/ssosp/oauth/introspect"): introspect}
    return _HotPaths(Starlette(routes=routes), hot)
