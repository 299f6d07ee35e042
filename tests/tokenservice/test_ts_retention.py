"""Log retention of the service's own logs, and the revocation of what a reused authorization
code was exchanged for (RFC 6749 4.1.2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

import logdoctor
from logdoctor.cli import main
from logdoctor.tokenservice.clock import VirtualClock
from logdoctor.tokenservice.errors import OAuthError
from logdoctor.tokenservice.service import Service
from tests.helpers.tokenservice import CLIENT, REDIRECT, running


def implicit_logins(svc: Service, n: int) -> None:
    for _ in range(n):
        svc.authorize(
            response_type="token",
            client_id=CLIENT,
            redirect_uri=REDIRECT,
            username="alice",
            password="alice-pw",
        )


def test_rotated_ssosp_files_beyond_the_backups_are_deleted(make_service: Any) -> None:
    svc: Service = make_service(ssosp_max_bytes=2048, log_backups=2)
    svc.add_user("alice", "alice-pw")
    implicit_logins(svc, 30)  # about 12 files' worth
    svc.flush()
    folder = svc.data_dir / "logs/ucm-pub/tomcat/logs/ssosp/log4j"
    names = sorted(p.name for p in folder.iterdir())
    high = int(names[-1][5:10])
    assert high >= 6
    assert names == [f"ssosp{n:05d}.log" for n in (high - 2, high - 1, high)]
    result = logdoctor.load(folder)
    assert {st.malformed + st.unrecognized for st in result.stats} == {0}
    # SSO enable starts a file: the same retention.
    svc.set_sso(True)
    assert len(list(folder.iterdir())) == 3


def test_ssoapp_log_rotates_and_keeps_its_backups(make_service: Any, clock: VirtualClock) -> None:
    svc: Service = make_service(ssosp_max_bytes=1024, log_backups=2)
    for i in range(60):
        clock.advance(1)
        svc.set_trace_level("debug" if i % 2 else "info")  # one ssoApp.log line each
    svc.flush()
    folder = svc.data_dir / "logs/ucm-pub/platform/log"
    names = sorted(p.name for p in folder.glob("ssoApp*"))
    assert names == ["ssoApp.log", "ssoApp.log.1", "ssoApp.log.2"]
    assert all(p.stat().st_size <= 1024 for p in folder.glob("ssoApp*"))
    # .2 is older than .1, which is older than the current file; together the newest lines.
    texts = [(folder / n).read_text() for n in ("ssoApp.log.2", "ssoApp.log.1", "ssoApp.log")]
    stamps = [ln[:23] for t in texts for ln in t.splitlines()]
    assert stamps == sorted(stamps) and stamps[-1].endswith(":01:00,000")
    result = logdoctor.load(folder)
    assert result.frame.height == len(stamps) and {st.unrecognized for st in result.stats} == {0}


def test_a_second_process_rotating_ssoapp_loses_no_line(
    make_service: Any, clock: VirtualClock
) -> None:
    one: Service = make_service(ssosp_max_bytes=1024, log_backups=None)
    two: Service = make_service(one.data_dir, ssosp_max_bytes=1024, log_backups=None)
    for i in range(40):
        clock.advance(1)
        (one if i % 2 else two).set_trace_level("debug" if i % 3 else "info")
    one.flush()
    two.flush()
    folder = one.data_dir / "logs/ucm-pub/platform/log"
    lines = [ln for p in folder.glob("ssoApp*") for ln in p.read_text().splitlines()]
    assert len(lines) == 40 and len({ln[:23] for ln in lines}) == 40


def test_certmgmt_files_beyond_the_backups_are_deleted(make_service: Any) -> None:
    svc: Service = make_service(log_backups=1)
    for _ in range(4):
        svc.regenerate_key("encryption")
    folder = svc.data_dir / "logs/ucm-pub/platform/log"
    assert sorted(p.name for p in folder.glob("certMgmt*")) == [
        "certMgmt00003.log",
        "certMgmt00004.log",
    ]


def test_serve_passes_log_backups_to_every_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logdoctor.tokenservice import server

    made: list[Service] = []

    def fake_run_workers(make: Any, sock: Any, workers: int, **kw: Any) -> None:
        sock.close()
        svc = make()
        made.append(svc)
        svc.close()

    monkeypatch.setattr(server, "run_workers", fake_run_workers)
    args = ["serve", "--data-dir", str(tmp_path / "d"), "--port", "0", "--admin-user", "a"]
    env = {"LOGDOCTOR_ADMIN_PASSWORD": "pw"}
    r = CliRunner().invoke(main, [*args, "--log-backups", "3"], env=env)
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, args, env=env)
    assert r.exit_code == 0, r.output
    assert [s.logs.backups for s in made] == [3, 10]


def test_a_reused_code_revokes_the_refresh_token_it_gave(svc: Service) -> None:
    svc.set_param("refresh_login_flow", "on")
    with running(svc) as base, httpx.Client(base_url=base, timeout=30) as c:
        q = {"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT}
        r = c.get("/ssosp/oauth/authorize", params=q, auth=("alice", "alice-pw"))
        code = httpx.URL(r.headers["location"]).params["code"]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": CLIENT,
            "redirect_uri": REDIRECT,
        }
        first = c.post("/ssosp/oauth/token", data=form)
        assert first.status_code == 200
        again = c.post("/ssosp/oauth/token", data=form)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        grant = {
            "grant_type": "refresh_token",
            "refresh_token": first.json()["refresh_token"],
            "client_id": CLIENT,
        }
        r = c.post("/ssosp/oauth/token", data=grant)
        assert r.status_code == 400 and "revoked" in r.json()["error_description"]
    svc.flush()
    text = (svc.data_dir / "logs/ucm-pub/tomcat/logs/ssosp/log4j/ssosp00001.log").read_text()
    assert "reason=code_reused" in text
    revoked = [ln for ln in text.splitlines() if "Refresh token revoked" in ln]
    assert len(revoked) == 1 and revoked[0].endswith("cause=code_reused")
    assert svc.store.refresh_count("revoked") == 1 and svc.store.refresh_count("active") == 0


def test_a_reuse_in_another_process_during_the_exchange_revokes_its_token(
    svc: Service, make_service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker A takes the code; before it stores the refresh token, worker B sees the code used
    again. A's token must still end up revoked."""
    svc.set_param("refresh_login_flow", "on")
    other: Service = make_service(svc.data_dir)
    code = svc.authorize(
        response_type="code",
        client_id=CLIENT,
        redirect_uri=REDIRECT,
        username="alice",
        password="alice-pw",
    ).code
    assert code is not None
    kw = {"code": code, "client_id": CLIENT, "redirect_uri": REDIRECT}
    real = svc._user_refusal
    seen: list[str] = []

    def reuse_meanwhile(r: Any) -> Any:
        with pytest.raises(OAuthError) as exc:
            other.exchange_code(**kw)
        seen.append(exc.value.reason)
        return real(r)

    monkeypatch.setattr(svc, "_user_refusal", reuse_meanwhile)
    grant = svc.exchange_code(**kw)
    assert seen == ["code_reused"] and grant.refresh_token
    with pytest.raises(OAuthError, match="revoked"):
        other.refresh(refresh_token=grant.refresh_token, client_id=CLIENT)
    svc.flush()
    text = (svc.data_dir / "logs/ucm-pub/tomcat/logs/ssosp/log4j/ssosp00001.log").read_text()
    assert text.count("cause=code_reused") == 1
