"""The token service's fast HTTP paths: the hot routes answer exactly as through Starlette,
everything else still goes through it, and a response's writes leave as one."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import JSONResponse

from logdoctor.tokenservice.app import _NO_STORE, _Json, _Lean, _pairs, create_app
from logdoctor.tokenservice.httpguard import Coalesced
from logdoctor.tokenservice.service import Service
from tests.helpers.tokenservice import CLIENT, login

CID = CLIENT
FORM = b"application/x-www-form-urlencoded"


def _scope(method: str, path: str, body: bytes, ctype: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8443"),
            (b"content-type", ctype),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8443),
    }


def _call(
    app: Any,
    method: str,
    path: str,
    body: bytes = b"",
    ctype: bytes = FORM,
    chunks: list[dict[str, Any]] | None = None,
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """One request through an ASGI app (its body in one message, or as ``chunks``):
    status, headers, body."""
    scope = _scope(method, path, body, ctype)
    sent: list[dict[str, Any]] = []
    messages = list(chunks or [{"type": "http.request", "body": body, "more_body": False}])

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, rest = sent[0], sent[1:]
    return start["status"], list(start["headers"]), b"".join(m.get("body", b"") for m in rest)


def _refresh_token(svc: Service) -> str:
    svc.set_param("refresh_login_flow", "on")
    tok = login(svc)
    assert tok.refresh_token is not None
    return tok.refresh_token


def test_hot_routes_answer_as_starlette_does(svc: Service) -> None:
    app = create_app(svc)
    starlette = app.app  # type: ignore[attr-defined]
    rt = _refresh_token(svc)
    grant = urlencode({"grant_type": "refresh_token", "refresh_token": rt, "client_id": CID})
    refused = [
        ("/ssosp/oauth/token", b"grant_type=refresh_token", FORM),
        ("/ssosp/oauth/token", b"grant_type=password&client_id=x", FORM),
        ("/ssosp/oauth/token", b"grant_type=a&grant_type=b", FORM),
        ("/ssosp/oauth/token", grant.encode(), b"application/json"),
        ("/ssosp/oauth/token", b"\xff", FORM),
        ("/ssosp/oauth/introspect", b"", FORM),
        ("/ssosp/oauth/introspect", b"token=not.a.token&server=imp1", FORM),
    ]
    for path, body, ctype in refused:
        fast = _call(app, "POST", path, body, ctype)
        assert fast[0] in (400, 401, 200), fast
        assert fast == _call(starlette, "POST", path, body, ctype), (path, body)
    fast = _call(app, "POST", "/ssosp/oauth/token", grant.encode())
    slow = _call(starlette, "POST", "/ssosp/oauth/token", grant.encode())
    assert fast[0] == slow[0] == 200
    assert [h for h in fast[1] if h[0] != b"content-length"] == [
        h for h in slow[1] if h[0] != b"content-length"
    ]
    a, b = json.loads(fast[2]), json.loads(slow[2])
    assert a.keys() == b.keys() and a["access_token"] != b["access_token"]
    body = urlencode({"token": a["access_token"], "server": "imp1"}).encode()
    fast = _call(app, "POST", "/ssosp/oauth/introspect", body)
    assert fast == _call(starlette, "POST", "/ssosp/oauth/introspect", body)
    assert json.loads(fast[2])["active"] is True


def test_chunked_bodies_and_disconnects_as_through_starlette(svc: Service) -> None:
    app = create_app(svc)
    starlette = app.app  # type: ignore[attr-defined]
    parts = [b"grant_type=refresh_token", b"&client_id=", CID.encode(), b"&refresh_token=x.y.z"]
    chunks = [{"type": "http.request", "body": p, "more_body": True} for p in parts]
    chunks.append({"type": "http.request", "body": b"", "more_body": False})
    fast = _call(app, "POST", "/ssosp/oauth/token", chunks=list(chunks))
    assert fast == _call(starlette, "POST", "/ssosp/oauth/token", chunks=list(chunks))
    assert fast[0] == 400 and json.loads(fast[2])["error"] == "invalid_grant"
    gone = [chunks[0], {"type": "http.disconnect"}]
    fast = _call(app, "POST", "/ssosp/oauth/token", chunks=list(gone))
    assert fast == _call(starlette, "POST", "/ssosp/oauth/token", chunks=list(gone))
    assert fast[0] == 400 and fast[2] == b""


def test_lean_json_answer_is_jsonresponses() -> None:
    for content in (
        {"access_token": "a.b.c", "token_type": "Bearer", "expires_in": 3600},
        {"active": False, "error_description": 'caf\u00e9 \u2603 "quoted"'},
        {"nested": {"list": [1, 2.5, None, True]}},
    ):
        lean, full = _Json(content), JSONResponse(content, headers=_NO_STORE)
        assert (lean.status_code, lean.raw_headers, lean.body) == (
            full.status_code,
            full.raw_headers,
            full.body,
        )


def test_lean_request_reads_headers_as_starlette_does() -> None:
    scope = _scope("POST", "/ssosp/oauth/token", b"", FORM)
    scope["headers"] = [*scope["headers"], (b"via", b"1.1 expc1"), (b"via", b"1.1 other")]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    lean, full = _Lean(scope, receive), Request(scope, receive)
    for name in ("host", "via", "content-type", "content-length", "user-agent"):
        assert lean.headers.get(name) == full.headers.get(name), name


def test_other_methods_and_paths_go_through_starlette(svc: Service) -> None:
    app = create_app(svc)
    status, headers, _ = _call(app, "GET", "/ssosp/oauth/token")
    assert status == 405 and (b"allow", b"POST") in headers
    assert _call(app, "POST", "/ssosp/oauth/tokens")[0] == 404
    status, _, body = _call(app, "GET", "/health")
    assert status == 200 and json.loads(body)["status"] == "ok"


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def abort(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0


def test_writes_of_one_turn_leave_as_one_and_close_sends_first() -> None:
    async def main() -> tuple[list[bytes], list[bytes], list[bytes], int]:
        loop = asyncio.get_running_loop()
        t = _Transport()
        c = Coalesced(t, loop)
        c.write(b"HTTP/1.1 200 OK\r\n\r\n")
        c.write(b"")
        c.write(memoryview(b"body"))
        queued = c.get_write_buffer_size()
        before = list(t.writes)
        await asyncio.sleep(0)
        after_turn = list(t.writes)
        c.write(b"408")
        c.close()  # a close right after a write (the limits' answers) sends it first
        return before, after_turn, t.writes, queued

    before, after_turn, final, queued = asyncio.run(main())
    assert before == [] and queued == len("HTTP/1.1 200 OK\r\n\r\nbody")
    assert after_turn == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
    assert final == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"408"]


def test_abort_drops_what_is_queued() -> None:
    async def main() -> list[bytes]:
        t = _Transport()
        c = Coalesced(t, asyncio.get_running_loop())
        c.write(b"x")
        c.abort()
        await asyncio.sleep(0)
        return t.writes

    assert asyncio.run(main()) == []


@given(
    st.lists(
        st.tuples(
            st.text(alphabet="ab=&%+;2F0 \u00e9", max_size=6),
            st.sampled_from(["=", ""]),
            st.text(alphabet="ab=%+2F0 .\u00e9", max_size=8),
        ),
        max_size=5,
    ),
    st.sampled_from(["&", "&&", ";"]),
)
def test_form_pairs_are_parse_qsls(items: list[tuple[str, str, str]], sep: str) -> None:
    raw = sep.join(k + eq + v for k, eq, v in items)
    want = parse_qsl(raw, keep_blank_values=True, strict_parsing=False, max_num_fields=64)
    assert _pairs(raw) == want


def test_form_pairs_keep_parse_qsls_field_limit() -> None:
    assert len(_pairs("&".join(["a=1"] * 64))) == 64
    with pytest.raises(ValueError):
        parse_qsl("&".join(["a=1"] * 65), max_num_fields=64)
    with pytest.raises(ValueError):
        _pairs("&".join(["a=1"] * 65))
    with pytest.raises(ValueError):
        _pairs("&" * 64)
