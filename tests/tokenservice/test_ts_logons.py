"""Password checks and failed logons over real HTTP: no stall of the event loop while scrypt
runs, the same cost for known and unknown names, and UCM's credential policy (lockout after
``failed_logon`` failures, per name and per client address, users and the administrator alike).

scrypt is observed (or held) by wrapping ``hashlib.scrypt``: the assertions are about what runs
and what answers, not about how long anything takes."""

from __future__ import annotations

import concurrent.futures
import hashlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from logdoctor.cli import main
from logdoctor.ingest.formats.catalog import load_formats
from logdoctor.ingest.parse import parse_bytes
from logdoctor.tokenservice.clock import VirtualClock
from logdoctor.tokenservice.service import Service
from tests.helpers.tokenservice import ADMIN, CLIENT, REDIRECT, running

AUTHZ = "/ssosp/oauth/authorize"
REVOKE = "/ssosp/token/revoke"
Q = {"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT, "state": "s"}
REAL_SCRYPT = hashlib.scrypt


def login(c: httpx.Client, user: str, pw: str) -> httpx.Response:
    return c.get(AUTHZ, params=Q, auth=(user, pw))


def refresh_token(c: httpx.Client) -> str:
    r = login(c, "alice", "alice-pw")
    assert r.status_code == 302, r.text
    code = httpx.URL(r.headers["location"]).params["code"]
    form = {"grant_type": "authorization_code", "code": code, "client_id": CLIENT}
    t = c.post("/ssosp/oauth/token", data={**form, "redirect_uri": REDIRECT})
    assert t.status_code == 200, t.text
    return str(t.json()["refresh_token"])


def ssosp_text(svc: Service) -> str:
    svc.flush()
    return (svc.data_dir / "logs/ucm-pub/tomcat/logs/ssosp/log4j/ssosp00001.log").read_text()


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[bytes, int]]]:
    """Every scrypt run from now on: (password, N)."""
    calls: list[tuple[bytes, int]] = []

    def counting(password: bytes, **kw: Any) -> bytes:
        calls.append((password, kw["n"]))
        return REAL_SCRYPT(password, **kw)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    yield calls


def test_refresh_health_and_introspection_answer_while_20_password_checks_are_in_flight(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc.set_param("refresh_login_flow", "on")
    release = threading.Event()
    started = threading.Semaphore(0)

    def held(password: bytes, **kw: Any) -> bytes:
        if password.startswith(b"storm-"):
            started.release()
            release.wait(60)
        return REAL_SCRYPT(password, **kw)

    with running(svc) as base, httpx.Client(base_url=base, timeout=30) as c:
        rt = refresh_token(c)
        login(c, "warm-up", "x")  # the unknown-name dummy hash exists before the storm
        monkeypatch.setattr(hashlib, "scrypt", held)

        def storm(i: int) -> int:
            with httpx.Client(base_url=base, timeout=120) as cc:
                return login(cc, f"nouser{i}", f"storm-{i}").status_code

        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            try:
                logins = [pool.submit(storm, i) for i in range(20)]
                assert started.acquire(timeout=60), "no password check started"
                # scrypt is held: 20 unauthenticated logins are in flight. Others are served.
                with httpx.Client(base_url=base, timeout=20) as other:
                    form = {"grant_type": "refresh_token", "refresh_token": rt}
                    r = other.post("/ssosp/oauth/token", data={**form, "client_id": CLIENT})
                    assert r.status_code == 200 and r.json()["access_token"]
                    tok = r.json()["access_token"]
                    assert other.get("/health").json()["status"] == "ok"
                    v = other.post("/ssosp/oauth/introspect", data={"token": tok})
                    assert v.json()["active"] is True
                assert not any(f.done() for f in logins)
            finally:
                release.set()
            # 401; or 429 for a login that arrived after its address was locked out (20 failures)
            assert {f.result() for f in logins} <= {401, 429}


def test_a_wrong_password_costs_one_scrypt_of_the_same_cost_known_or_unknown(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running(svc) as base, httpx.Client(base_url=base, timeout=30) as c:
        assert login(c, "alice", "alice-pw").status_code == 302  # alice logged in before
        login(c, "warm-up", "x")
        calls: list[int] = []

        def counting(password: bytes, **kw: Any) -> bytes:
            calls.append(kw["n"])
            return REAL_SCRYPT(password, **kw)

        monkeypatch.setattr(hashlib, "scrypt", counting)
        known = login(c, "alice", "wrong")
        known_calls, calls[:] = list(calls), []
        unknown = login(c, "nobody", "wrong")
        assert known.status_code == unknown.status_code == 401
        assert known.json() == unknown.json()
        assert known_calls == calls == [1 << 10]  # the users' cost, one scrypt each
        # A correct password may be cheaper (remembered), never a wrong one.
        calls[:] = []
        assert login(c, "alice", "alice-pw").status_code == 302
        assert calls == []


def test_the_sixth_wrong_password_gets_locked_out_and_the_lock_ends(
    svc: Service, clock: VirtualClock, scrypt_calls: list[tuple[bytes, int]]
) -> None:
    svc.set_param("failed_logon", "5")
    with running(svc) as base, httpx.Client(base_url=base, timeout=30) as c:
        for i in range(5):
            assert login(c, "alice", f"guess{i}").status_code == 401
        r = login(c, "alice", "alice-pw")  # even the right password, while locked
        assert r.status_code == 429 and r.json()["error"] == "access_denied"
        assert r.headers["retry-after"] == "1800" and "locked" in r.json()["error_description"]
        assert [p for p, _ in scrypt_calls if p != b"logdoctor-dummy"] == [
            f"guess{i}".encode() for i in range(5)
        ]  # the locked attempt spent no scrypt
        assert login(c, "bob", "bob-pw").status_code == 302  # another user is not affected
        clock.advance(30 * 60)
        assert login(c, "alice", "alice-pw").status_code == 302
    text = ssosp_text(svc)
    locked = [ln for ln in text.splitlines() if "Logon locked out" in ln]
    assert len(locked) == 1 and "user=alice scope=user address=127.0.0.1 failures=5" in locked[0]
    assert "lock_minutes=30" in locked[0] and "reason=locked_out" in text
    _, ev = parse_logs(text)
    assert ev == [("auth.locked", "alice", "user", "5")]


def parse_logs(text: str) -> tuple[Any, list[tuple[str, str, str, str]]]:
    ssosp = next(f for f in load_formats() if f.name == "ssosp")
    frame, _ = parse_bytes(text.encode(), ssosp, file="f", node="ucm-pub")
    assert frame.filter(frame["kind"] == "unrecognized").height == 0
    rows = frame.filter(frame["kind"] == "auth.locked").iter_rows(named=True)
    return frame, [(r["kind"], r["user"], r["param"], r["value"]) for r in rows]


def test_twenty_guesses_at_once_are_checked_one_at_a_time(
    svc: Service, scrypt_calls: list[tuple[bytes, int]]
) -> None:
    svc.set_param("failed_logon", "3")
    with running(svc) as base:

        def guess(i: int) -> int:
            with httpx.Client(base_url=base, timeout=60) as cc:
                return login(cc, "alice", f"guess{i}").status_code

        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(guess, range(20)))
    assert sorted(codes) == [401] * 3 + [429] * 17
    assert len([p for p, _ in scrypt_calls if p.startswith(b"guess")]) == 3


def test_the_failure_count_resets_after_quiet_minutes_and_on_success(
    svc: Service, clock: VirtualClock
) -> None:
    svc.set_param("failed_logon", "3")
    svc.set_param("reset_failed_logon_minutes", "10")
    with running(svc) as base, httpx.Client(base_url=base, timeout=30) as c:
        assert [login(c, "alice", "x").status_code for _ in range(2)] == [401, 401]
        clock.advance(10 * 60)
        assert [login(c, "alice", "x").status_code for _ in range(2)] == [401, 401]
        assert login(c, "alice", "alice-pw").status_code == 302  # clears alice's count
        assert [login(c, "alice", "x").status_code for _ in range(2)] == [401, 401]
        assert login(c, "alice", "alice-pw").status_code == 302
        assert login(c, "alice", "x").status_code == 401
        assert login(c, "alice", "x").status_code == 401
        assert login(c, "alice", "x").status_code == 401  # the third in a row locks
        assert login(c, "alice", "alice-pw").status_code == 429


def test_unknown_names_are_locked_like_known_ones(svc: Service) -> None:
    svc.set_param("failed_logon", "2")
    with running(svc) as base, httpx.Client(base_url=base, timeout=30) as c:
        known = [login(c, "alice", "x").status_code for _ in range(3)]
        unknown = [login(c, "ghost", "x").status_code for _ in range(3)]
    assert known == unknown == [401, 401, 429]


def test_the_admin_of_the_revoke_api_is_locked_out_too(svc: Service, clock: VirtualClock) -> None:
    svc.set_param("failed_logon", "3")
    with running(svc) as base, httpx.Client(base_url=base, timeout=30) as c:
        bad = [
            c.get(REVOKE, params={"user_id": "bob"}, auth=(ADMIN.user, f"guess{i}")).status_code
            for i in range(3)
        ]
        assert bad == [401, 401, 401]
        r = c.get(REVOKE, params={"user_id": "bob"}, auth=(ADMIN.user, ADMIN.password))
        assert r.status_code == 429 and r.headers["retry-after"] == "1800"
        assert svc.reset_lockouts("admin", ADMIN.user) == 1  # UCM's "Reset Hack Count"
        r = c.get(REVOKE, params={"user_id": "bob"}, auth=(ADMIN.user, ADMIN.password))
        assert r.status_code == 200
    text = ssosp_text(svc)
    assert "oauth.RevokeServlet - Logon locked out: user=admin scope=admin" in text
    assert text.count("Revoke request refused: admin=admin reason=bad_credentials") == 3
    assert text.count("Revoke request refused: admin=admin reason=locked_out") == 1


def test_one_client_address_is_locked_after_failures_over_many_names(svc: Service) -> None:
    svc.set_param("failed_logon", "0")  # no limit per name: only the address counts
    svc.set_param("failed_logon_per_address", "4")
    with running(svc) as base, httpx.Client(base_url=base, timeout=30) as c:
        assert [login(c, f"spray{i}", "Summer2026").status_code for i in range(4)] == [401] * 4
        r = login(c, "alice", "alice-pw")
        assert r.status_code == 429 and "client address" in r.json()["error_description"]
        r = c.get(REVOKE, params={"user_id": "bob"}, auth=(ADMIN.user, ADMIN.password))
        assert r.status_code == 429  # the address is locked for the admin API as well
    text = ssosp_text(svc)
    assert "Logon locked out: user=spray3 scope=address address=127.0.0.1 failures=4" in text
    assert "reason=address_locked_out" in text
    # In process (a simulation) there is no client address: only names are counted.
    assert svc.authorize(
        response_type="code",
        client_id=CLIENT,
        redirect_uri=REDIRECT,
        username="alice",
        password="alice-pw",
    ).code


def test_a_forwarding_header_does_not_change_the_client_address(svc: Service) -> None:
    # The service binds 127.0.0.1: were X-Forwarded-For trusted from there (uvicorn's default),
    # every local client could dodge the per-address lockout by naming another address.
    svc.set_param("failed_logon", "0")
    svc.set_param("failed_logon_per_address", "3")
    with running(svc) as base, httpx.Client(base_url=base, timeout=30) as c:
        codes = [
            c.get(
                AUTHZ,
                params=Q,
                auth=(f"spray{i}", "Summer2026"),
                headers={"X-Forwarded-For": f"198.51.100.{i}", "X-Real-IP": f"198.51.100.{i}"},
            ).status_code
            for i in range(4)
        ]
        assert codes == [401, 401, 401, 429]
    text = ssosp_text(svc)
    assert "scope=address address=127.0.0.1 failures=3" in text
    assert "198.51.100." not in text


def test_lockouts_are_shared_by_processes_and_reset_from_the_cli(
    svc: Service, make_service: Callable[..., Service], clock: VirtualClock
) -> None:
    svc.set_param("failed_logon", "3")
    svc.set_param("lockout_duration_minutes", "0")  # until an administrator resets it
    with running(svc) as base, httpx.Client(base_url=base, timeout=30) as c:
        for _ in range(3):
            login(c, "alice", "x")
        clock.advance(86400)
        assert login(c, "alice", "alice-pw").status_code == 429
        assert "retry-after" not in login(c, "alice", "alice-pw").headers
        other = make_service(svc.data_dir)  # a second worker on the same data dir
        with pytest.raises(Exception, match="locked after 3 failed logons"):
            other.authorize(
                response_type="code",
                client_id=CLIENT,
                redirect_uri=REDIRECT,
                username="alice",
                password="alice-pw",
            )
        out = lockouts_cli(svc.data_dir)
        assert "user:alice\t3 failure(s)" in out and "locked until reset" in out
        assert "address:127.0.0.1" not in out  # its 3 failures are a day old: forgotten
        assert lockouts_cli(svc.data_dir, "--reset", "user:alice") == (
            "user:alice: 1 count(s) cleared\n"
        )
        assert login(c, "alice", "alice-pw").status_code == 302


def lockouts_cli(data: Path, *args: str) -> str:
    r = CliRunner().invoke(main, ["service", "--data-dir", str(data), "lockouts", *args])
    assert r.exit_code == 0, r.output
    return r.stdout


def test_lockouts_cli_escapes_the_names_tried(svc: Service) -> None:
    svc.set_param("failed_logon", "1")
    svc.set_param("lockout_duration_minutes", "0")  # listed whatever the CLI's clock says
    with pytest.raises(Exception, match="authentication failed"):
        svc.authorize(
            response_type="code",
            client_id=CLIENT,
            redirect_uri=REDIRECT,
            username="\x1b[2Jmallory\u202e",
            password="x",
        )
    out = lockouts_cli(svc.data_dir)
    assert "user:\\x1b[2Jmallory\\u202e\t1 failure(s)" in out and "\x1b" not in out
    assert "\u202e" not in out
    js = lockouts_cli(svc.data_dir, "--format", "json")
    assert "\\u001b[2Jmallory" in js and "\x1b" not in js


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reset", "alice"], "write SCOPE:NAME"),
        (["--reset", "group:x"], "write SCOPE:NAME"),
    ],
)
def test_lockouts_cli_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    r = CliRunner().invoke(main, ["service", "--data-dir", str(tmp_path / "d"), "lockouts", *args])
    assert r.exit_code == 2 and message in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("failed_logon", "101", "0-100"),
        ("reset_failed_logon_minutes", "0", "1-120"),
        ("lockout_duration_minutes", "1441", "0-1440"),
        ("failed_logon_per_address", "-1", "0-10000"),
    ],
)
def test_credential_policy_ranges(svc: Service, name: str, value: str, allowed: str) -> None:
    with pytest.raises(ValueError, match=f"allowed {allowed}"):
        svc.set_param(name, value)
