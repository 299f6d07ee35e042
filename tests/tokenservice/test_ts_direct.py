"""Direct answers (:mod:`logdoctor.tokenservice.httpguard`): the protocol answers refresh
grants and validations itself, byte for byte as uvicorn and the app would, and hands every
other request (code exchanges, ``Expect: 100-continue``, long bodies, pipelined requests) to
them in order. Real servers on 127.0.0.1, raw sockets."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from logdoctor.tokenservice import server as server_module
from logdoctor.tokenservice.app import MAX_BODY
from logdoctor.tokenservice.direct import DirectHandler
from logdoctor.tokenservice.server import HttpLimits
from logdoctor.tokenservice.service import Service
from tests.helpers.tokenservice import CLIENT, login, running, serving

Response = tuple[int, list[tuple[bytes, bytes]], bytes]


def _request(path: str, body: bytes, *, extra: str = "", version: str = "1.1") -> bytes:
    head = (
        f"POST {path} HTTP/{version}\r\nHost: 127.0.0.1:8443\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


def _refresh_body(token: str) -> bytes:
    return urlencode(
        {"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT}
    ).encode()


class _Reader:
    """HTTP/1.1 responses read off a socket, one at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buf += chunk
        return bool(chunk)

    def response(self) -> Response:
        while b"\r\n\r\n" not in self.buf:
            assert self._fill(), f"closed before a response: {self.buf!r}"
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        headers = [tuple(line.split(b": ", 1)) for line in lines[1:]]
        length = int(dict(headers).get(b"content-length", b"0"))
        while len(self.buf) < length:
            assert self._fill(), "closed inside a body"
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body  # type: ignore[return-value]

    def closed(self) -> bool:
        """Whether the server closes the connection (after what was read)."""
        self.sock.settimeout(10)
        try:
            return not self._fill()
        except ConnectionResetError:
            return True


@contextmanager
def _connection(base: str) -> Iterator[tuple[socket.socket, _Reader]]:
    port = urlsplit(base).port
    assert port is not None
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        yield sock, _Reader(sock)


@contextmanager
def _counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[bytes, int]]:
    """The direct handlers' calls by path, for the servers started meanwhile."""
    calls: dict[bytes, int] = {}
    made = server_module.direct_routes

    def spied(*args: Any, **kwargs: Any) -> dict[bytes, DirectHandler]:
        def spy(path: bytes, fn: DirectHandler) -> DirectHandler:
            def handler(headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
                calls[path] = calls.get(path, 0) + 1
                return fn(headers, body)

            return handler

        return {p: spy(p, fn) for p, fn in made(*args, **kwargs).items()}

    monkeypatch.setattr(server_module, "direct_routes", spied)
    yield calls


def _comparable(r: Response) -> tuple[int, list[tuple[bytes, bytes]], Any]:
    """A response without its date header, and its JSON body without the token itself (a new
    one each time)."""
    status, headers, body = r
    kept = [(k, v) for k, v in headers if k != b"date"]
    doc = json.loads(body) if body else None
    if isinstance(doc, dict) and "access_token" in doc:
        doc["access_token"] = len(doc["access_token"]) > 100
    # The length of a new token's answer varies by a digit or so: compare it apart.
    kept = [(k, v if k != b"content-length" or status != 200 else b"n") for k, v in kept]
    return status, kept, doc


def _exchanges(token: str, access: str) -> list[bytes]:
    """Requests of the hot paths, good and bad, each answered with a new connection."""
    good = _refresh_body(token)
    return [
        _request("/ssosp/oauth/token", good),
        _request("/ssosp/oauth/token", good, extra="Via: 1.1 expc1\r\n"),
        _request("/ssosp/oauth/token", b"grant_type=refresh_token&client_id=" + CLIENT.encode()),
        _request("/ssosp/oauth/token", b"grant_type=password&client_id=x"),
        _request("/ssosp/oauth/token", _refresh_body(token[:-4] + "AAAA")),
        _request("/ssosp/oauth/token", good + b"&grant_type=refresh_token"),
        _request("/ssosp/oauth/token", b"\xff\xfe=1"),
        _request("/ssosp/oauth/token", b"a=1", version="1.0"),
        b"POST /ssosp/oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
        b"Content-Length: 3\r\n\r\na=1",
        _request("/ssosp/oauth/introspect", b"token=" + access.encode()),
        _request("/ssosp/oauth/introspect", b"token=nonsense&server=ucm-sub1"),
        _request("/ssosp/oauth/introspect", b"server=ucm-pub"),
    ]


def _answers(base: str, requests: list[bytes]) -> list[Response]:
    out = []
    for req in requests:
        with _connection(base) as (sock, reader):
            sock.sendall(req)
            out.append(reader.response())
    return out


def _refresh_token(svc: Service) -> str:
    return _tokens(svc)[0]


def _tokens(svc: Service) -> tuple[str, str]:
    """A refresh token and an access token of a new login."""
    svc.set_param("refresh_login_flow", "on")
    tok = login(svc)
    assert tok.refresh_token is not None
    return tok.refresh_token, tok.access.compact


def test_direct_answers_are_the_apps_byte_for_byte(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests = _exchanges(*_tokens(svc))
    with _counted(monkeypatch) as calls, running(svc) as base:
        direct = _answers(base, requests)
    with running(svc, direct=False) as base:
        through_app = _answers(base, requests)
    # Every request went to a direct handler (none was handed over), and they answered as
    # uvicorn and the app do.
    assert sum(calls.values()) == len(requests)
    assert calls[b"/ssosp/oauth/introspect"] == 3
    assert [_comparable(r) for r in direct] == [_comparable(r) for r in through_app]
    statuses = [r[0] for r in direct]
    assert statuses == [200, 200, 400, 400, 400, 400, 400, 400, 400, 200, 200, 400]
    assert json.loads(direct[9][2])["active"] is True
    # HTTP/1.0: the answer says it closes (and it did: the reader saw the whole answer).
    assert (b"connection", b"close") in direct[7][1]


def test_pipelined_requests_are_answered_in_order(svc: Service) -> None:
    """A refresh grant (direct), a code exchange (handed to the app: it waits for the disk),
    then two more refresh grants and a validation, all in one write: the answers come in the
    order of the requests."""
    token = _refresh_token(svc)
    good = _refresh_body(token)
    exchange = urlencode(
        {
            "grant_type": "authorization_code",
            "code": "no-such-code",
            "client_id": CLIENT,
            "redirect_uri": "http://127.0.0.1:8123/cb",
        }
    ).encode()
    reqs = [
        _request("/ssosp/oauth/token", good),
        _request("/ssosp/oauth/token", exchange),
        _request("/ssosp/oauth/token", good),
        _request("/ssosp/oauth/token", good),
        _request("/ssosp/oauth/introspect", b"token=nonsense&server=ucm-pub"),
    ]
    with running(svc) as base, _connection(base) as (sock, reader):
        sock.sendall(b"".join(reqs))
        got = [reader.response() for _ in reqs]
        # The connection stays open and serves the next request.
        sock.sendall(reqs[0])
        last = reader.response()
    docs = [json.loads(b) for _, _, b in got]
    assert [s for s, _, _ in got] == [200, 400, 200, 200, 200]
    assert "access_token" in docs[0] and "access_token" in docs[2] and "access_token" in docs[3]
    assert docs[1]["error"] == "invalid_grant"
    assert docs[4] == {"active": False, "reason": "malformed"}
    assert last[0] == 200


def test_long_and_chunked_bodies_and_expect_continue(svc: Service) -> None:
    token = _refresh_token(svc)
    good = _refresh_body(token)
    long = good + b"&pad=" + b"x" * (MAX_BODY + 10)
    chunked_head = (
        b"POST /ssosp/oauth/token HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    half = len(good) // 2
    chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (
        half,
        good[:half],
        len(good) - half,
        good[half:],
    )
    with running(svc) as base:
        with _connection(base) as (sock, reader):
            # Longer than the cap: the app refuses it (413), and the connection goes on.
            sock.sendall(_request("/ssosp/oauth/token", long))
            assert reader.response()[0] == 413
        with _connection(base) as (sock, reader):
            sock.sendall(chunked_head)
            sock.sendall(chunks)
            status, _, body = reader.response()
            assert status == 200 and "access_token" in json.loads(body)
        with _connection(base) as (sock, reader):
            head = _request("/ssosp/oauth/token", good, extra="Expect: 100-continue\r\n")
            sock.sendall(head[: -len(good)])
            assert reader.response()[0] == 100
            sock.sendall(good)
            status, _, body = reader.response()
            assert status == 200 and "access_token" in json.loads(body)


def test_a_failing_handler_gets_500_and_its_connection_closed(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = _refresh_token(svc)
    original: Callable[..., Any] = svc.token_request
    fail = {"on": True}

    def token_request(*args: Any, **kwargs: Any) -> Any:
        if fail["on"]:
            raise RuntimeError("boom")
        return original(*args, **kwargs)

    monkeypatch.setattr(svc, "token_request", token_request)
    with running(svc) as base:
        with _connection(base) as (sock, reader):
            sock.sendall(_request("/ssosp/oauth/token", _refresh_body(token)))
            status, headers, body = reader.response()
            assert (status, body) == (500, b"Internal Server Error")
            assert (b"connection", b"close") in headers
            assert reader.closed()
        fail["on"] = False
        with _connection(base) as (sock, reader):
            sock.sendall(_request("/ssosp/oauth/token", _refresh_body(token)))
            assert reader.response()[0] == 200


def test_one_direct_answer_per_read(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fifty validations in one write: the first is answered directly, the rest queue behind
    it through uvicorn (a pipelining client does not hold the loop for all of them)."""
    with _counted(monkeypatch) as calls, running(svc) as base, _connection(base) as (sock, r):
        req = _request("/ssosp/oauth/introspect", b"token=nonsense&server=ucm-pub")
        sock.sendall(req * 50)
        answers = [r.response() for _ in range(50)]
    refused = {"active": False, "reason": "malformed"}
    assert all(a[0] == 200 and json.loads(a[2]) == refused for a in answers)
    assert 1 <= calls[b"/ssosp/oauth/introspect"] < 50


def _exchange_body(code: str = "no-such-code") -> bytes:
    return urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": CLIENT,
            "redirect_uri": "http://127.0.0.1:8123/cb",
        }
    ).encode()


def _slow_exchanges(
    svc: Service, monkeypatch: pytest.MonkeyPatch, seconds: float
) -> dict[str, int]:
    """Code exchanges (through the app, in a worker thread) take ``seconds``; the grants the
    service is asked for, by type."""
    asked: dict[str, int] = {}
    original: Callable[..., Any] = svc.token_request

    def token_request(form: Any, **kwargs: Any) -> Any:
        grant = str(form.get("grant_type"))
        asked[grant] = asked.get(grant, 0) + 1
        if grant == "authorization_code":
            time.sleep(seconds)
        return original(form, **kwargs)

    monkeypatch.setattr(svc, "token_request", token_request)
    return asked


def test_a_request_after_a_direct_answer_is_not_cut_by_the_keep_alive_timer(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A direct answer starts uvicorn's keep-alive timer (1 s here); the code exchange read
    right after it in the same read takes 2.5 s and is still answered."""
    token = _refresh_token(svc)
    asked = _slow_exchanges(svc, monkeypatch, 2.5)
    reqs = [
        _request("/ssosp/oauth/token", _refresh_body(token)),
        _request("/ssosp/oauth/token", _exchange_body()),
    ]
    with running(svc, limits=HttpLimits(keep_alive=1)) as base, _connection(base) as (sock, r):
        sock.sendall(b"".join(reqs))
        first, second = r.response(), r.response()
    assert first[0] == 200 and "access_token" in json.loads(first[2])
    assert second[0] == 400 and json.loads(second[2])["error"] == "invalid_grant"
    assert asked == {"refresh_token": 1, "authorization_code": 1}


def test_requests_after_a_direct_answer_that_closed_are_not_run(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a direct answer that closes the connection (a failing handler's 500; HTTP/1.0
    even with ``Connection: keep-alive``), the requests that followed it in the same read are
    not run: nobody would get their answers (a code would be used up for nothing)."""
    token = _refresh_token(svc)
    asked = _slow_exchanges(svc, monkeypatch, 0.0)
    original = svc.introspect

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(svc, "introspect", failing)
    boom = _request("/ssosp/oauth/introspect", b"token=x")
    refresh = _request("/ssosp/oauth/token", _refresh_body(token))
    exchange = _request("/ssosp/oauth/token", _exchange_body())
    old = _request(
        "/ssosp/oauth/token",
        _refresh_body(token),
        extra="Connection: keep-alive\r\n",
        version="1.0",
    )
    with running(svc) as base:
        with _connection(base) as (sock, r):
            sock.sendall(boom + boom + refresh + exchange)
            assert r.response()[0] == 500
            assert r.closed()
        with _connection(base) as (sock, r):
            sock.sendall(old + refresh + exchange)
            status, headers, _ = r.response()
            assert status == 200 and (b"connection", b"close") in headers
            assert r.closed()
        monkeypatch.setattr(svc, "introspect", original)
        time.sleep(0.5)  # what a wrongly started task would do, it would have done by now
    assert asked == {"refresh_token": 1}


def test_a_direct_request_being_read_when_the_server_stops_is_answered(svc: Service) -> None:
    """uvicorn's graceful shutdown lets a request it is serving finish; so does a direct
    request whose body is still arriving: it is answered, then the connection closed."""
    token = _refresh_token(svc)
    req = _request("/ssosp/oauth/token", _refresh_body(token))
    with serving(svc) as (base, server), _connection(base) as (client, reader):
        client.sendall(req[:-20])
        time.sleep(0.3)
        server.should_exit = True
        time.sleep(0.5)  # uvicorn asks every connection to shut down
        client.sendall(req[-20:])
        status, headers, body = reader.response()
        assert status == 200 and "access_token" in json.loads(body)
        assert (b"connection", b"close") in headers
        assert reader.closed()
