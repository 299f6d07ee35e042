"""The server writes the log lines of the operations its event loop runs once a turn of the
loop (:class:`LogFlush`), never after the response they belong to has left; and what another
connection changes in the database is seen by the next grant."""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from logdoctor.tokenservice.httpguard import Coalesced
from logdoctor.tokenservice.server import LogFlush
from logdoctor.tokenservice.service import Service
from tests.helpers.tokenservice import ADMIN, CLIENT, login, running

_LINE = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?:INFO |WARN |DEBUG|ERROR) \[[^\]]+\] \S+ - .+"
)


def _ssosp(svc: Service) -> Path:
    return svc.data_dir / "logs/ucm-pub/tomcat/logs/ssosp/log4j/ssosp00001.log"


def _issued(svc: Service) -> int:
    return _ssosp(svc).read_text().count("Access token issued")


class _Wire(asyncio.Transport):
    """A transport that notes how many access tokens the log showed when each send left."""

    def __init__(self, svc: Service) -> None:
        super().__init__()
        self.svc = svc
        self.sent: list[tuple[bytes, int]] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.sent.append((bytes(data), _issued(self.svc)))

    def close(self) -> None:
        pass

    def abort(self) -> None:
        self.sent.append((b"<aborted>", _issued(self.svc)))

    def is_closing(self) -> bool:
        return False


def _refresh_form(svc: Service) -> dict[str, str]:
    """The refresh grant's form for a user who just logged in (refresh logins on)."""
    svc.set_param("refresh_login_flow", "on")
    token = login(svc).refresh_token
    assert token is not None
    return {"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT}


def test_lines_of_the_loop_are_written_before_the_answer_leaves(svc: Service) -> None:
    svc.set_param("refresh_login_flow", "on")
    token = login(svc).refresh_token
    assert token is not None
    logs = LogFlush(svc)

    def grant() -> None:
        svc.refresh(refresh_token=token, client_id=CLIENT)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        logs.attach()
        start = _issued(svc)
        grant()
        grant()
        assert _issued(svc) == start  # both deferred: one write for the turn
        wire = _Wire(svc)
        answer = Coalesced(wire, loop, logs.now)
        answer.write(b"HTTP/1.1 200 OK\r\n\r\n")
        answer.write(b"{}")
        await asyncio.sleep(0)
        assert wire.sent == [(b"HTTP/1.1 200 OK\r\n\r\n{}", start + 2)]
        # Sent before the turn ends (a close right after the write): still written first.
        grant()
        closing = Coalesced(wire, loop, logs.now)
        closing.write(b"bye")
        closing.close()
        assert wire.sent[-1] == (b"bye", start + 3)
        # No answer at all: the turn's end writes them.
        grant()
        await asyncio.sleep(0)
        assert _issued(svc) == start + 4
        # Another thread (a code exchange's worker) writes its own lines at once.
        await loop.run_in_executor(None, grant)
        assert _issued(svc) == start + 5

    start = _issued(svc)
    try:
        asyncio.run(main())
    finally:
        logs.detach()
    grant()  # detached: written at once
    assert _issued(svc) == start + 6


def test_answers_whose_lines_cannot_be_written_never_leave(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc.set_param("refresh_login_flow", "on")
    token = login(svc).refresh_token
    assert token is not None
    logs = LogFlush(svc)
    reported: list[dict[str, Any]] = []
    write = svc.logs.flush

    def full() -> None:
        svc.logs._ssosp["ucm-pub"].buf.clear()  # what a failed write loses
        raise OSError(28, "No space left on device")

    def grant() -> None:
        svc.refresh(refresh_token=token, client_id=CLIENT)

    async def main() -> tuple[_Wire, _Wire, _Wire]:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: reported.append(context))
        logs.attach()
        first, second, later = _Wire(svc), _Wire(svc), _Wire(svc)
        grant()
        Coalesced(first, loop, logs.now).write(b"one")
        grant()
        Coalesced(second, loop, logs.now).write(b"two")
        monkeypatch.setattr(svc.logs, "flush", full)
        await asyncio.sleep(0)  # the turn: the write fails, both answers are dropped
        monkeypatch.setattr(svc.logs, "flush", write)
        await asyncio.sleep(0)
        grant()
        Coalesced(later, loop, logs.now).write(b"three")
        await asyncio.sleep(0)
        return first, second, later

    start = _issued(svc)
    try:
        first, second, later = asyncio.run(main())
    finally:
        logs.detach()
    assert first.sent == [(b"<aborted>", start)] and second.sent == [(b"<aborted>", start)]
    assert later.sent == [(b"three", start + 1)]  # the next turn writes and answers again
    assert any(isinstance(c.get("exception"), OSError) for c in reported)


def test_a_burst_over_http_logs_every_grant_whole_in_order_before_its_answer(
    svc: Service,
) -> None:
    form = _refresh_form(svc)
    start = _issued(svc)
    lock = threading.Lock()
    answered = 0
    behind: list[tuple[int, int]] = []

    def client(base: str) -> None:
        nonlocal answered
        with httpx.Client(base_url=base, timeout=30) as c:
            for _ in range(25):
                r = c.post("/ssosp/oauth/token", data=form)
                assert r.status_code == 200, r.text
                with lock:
                    answered += 1
                    logged = _issued(svc) - start
                    if logged < answered:
                        behind.append((logged, answered))

    with running(svc) as base, concurrent.futures.ThreadPoolExecutor(12) as pool:
        for f in [pool.submit(client, base) for _ in range(12)]:
            f.result()
    assert answered == 300 and behind == []
    text = _ssosp(svc).read_text()
    assert text.endswith("\n")
    lines = text.splitlines()
    assert all(_LINE.fullmatch(ln) for ln in lines), [ln for ln in lines if not _LINE.fullmatch(ln)]
    grants = [ln for ln in lines if "oauth.TokenServlet" in ln][-600:]
    # Each grant's two lines, in order, next to each other (same request thread).
    for accepted, issued in zip(grants[::2], grants[1::2], strict=True):
        assert "Refresh grant accepted" in accepted and "Access token issued" in issued
        assert accepted.split("[")[1].split("]")[0] == issued.split("[")[1].split("]")[0]
    assert text.count("Access token issued") - start == 300


def test_a_revoke_by_another_connection_is_seen_by_the_next_grant(
    svc: Service, tmp_path: Path
) -> None:
    form = _refresh_form(svc)
    with running(svc) as base, httpx.Client(base_url=base, timeout=10) as c:
        for _ in range(3):
            assert c.post("/ssosp/oauth/token", data=form).status_code == 200
        other = Service(tmp_path / "data", clock=svc.clock, admin=ADMIN)
        try:
            gone = other.revoke(
                admin_user=ADMIN.user, admin_password=ADMIN.password, user_id="alice"
            )
            assert gone.to_json()
        finally:
            other.close()
        r = c.post("/ssosp/oauth/token", data=form)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert "reason=revoked" in _ssosp(svc).read_text().splitlines()[-1]


def test_a_key_regenerated_by_another_connection_signs_the_next_grant(
    svc: Service, tmp_path: Path
) -> None:
    form = _refresh_form(svc)
    with running(svc) as base, httpx.Client(base_url=base, timeout=10) as c:
        first = c.post("/ssosp/oauth/token", data=form).json()["access_token"]
        other = Service(tmp_path / "data", clock=svc.clock, admin=ADMIN)
        try:
            other.regenerate_key("encryption")
            other.restart("callmanager")  # the publisher's validator loads the new key
        finally:
            other.close()
        r = c.post("/ssosp/oauth/token", data=form)
        old = c.post("/ssosp/oauth/introspect", data={"token": first}).json()
        new = c.post("/ssosp/oauth/introspect", data={"token": r.json()["access_token"]}).json()
    # The refresh token outlives an encryption key's regeneration; the old access token not,
    # and the next grant's token is made with the new key.
    assert r.status_code == 200 and old["active"] is False and new["active"] is True
    assert svc.info()["encryption_version"] == 2
