"""End to end over real HTTP: uvicorn on 127.0.0.1, an ephemeral port, the service on a virtual
clock (so expiry can be tested without waiting)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from logdoctor.tokenservice.clock import VirtualClock
from logdoctor.tokenservice.service import Service
from tests.helpers.tokenservice import ADMIN, CLIENT, REDIRECT, running

Q = {"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT, "state": "xyz"}


@pytest.fixture
def http(svc: Service) -> Iterator[httpx.Client]:
    with running(svc) as base, httpx.Client(base_url=base, timeout=10) as c:
        yield c


def code_login(c: httpx.Client, user: str = "alice", pw: str | None = None) -> dict[str, Any]:
    r = c.get("/ssosp/oauth/authorize", params=Q, auth=(user, pw or f"{user}-pw"))
    assert r.status_code == 302, r.text
    loc = httpx.URL(r.headers["location"])
    assert str(loc).startswith(REDIRECT) and loc.params["state"] == "xyz"
    form = {
        "grant_type": "authorization_code",
        "code": loc.params["code"],
        "client_id": CLIENT,
        "redirect_uri": REDIRECT,
    }
    t = c.post("/ssosp/oauth/token", data=form)
    assert t.status_code == 200, t.text
    assert t.headers["cache-control"] == "no-store"
    body: dict[str, Any] = t.json()
    return body


def check(c: httpx.Client, token: str, server: str | None = None) -> dict[str, Any]:
    data = {"token": token} if server is None else {"token": token, "server": server}
    r = c.post("/ssosp/oauth/introspect", data=data)
    assert r.status_code == 200
    out: dict[str, Any] = r.json()
    return out


def test_health(http: httpx.Client) -> None:
    assert http.get("/health").json() == {
        "status": "ok",
        "cluster": "StandAloneCluster",
        "node": "ucm-pub",
    }


def test_code_flow_refresh_and_disable(
    http: httpx.Client, svc: Service, clock: VirtualClock
) -> None:
    tok = code_login(http)
    assert set(tok) == {"access_token", "token_type", "expires_in", "scope"}  # refresh flow off
    assert check(http, tok["access_token"])["sub"] == "alice"
    svc.set_param("refresh_login_flow", "on")
    tok = code_login(http)
    assert tok["token_type"] == "Bearer" and tok["expires_in"] == 3600 and tok["refresh_token"]
    clock.advance(2700)
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tok["refresh_token"],
        "client_id": CLIENT,
    }
    r = http.post("/ssosp/oauth/token", data=form)
    assert r.status_code == 200 and "refresh_token" not in r.json()
    assert check(http, r.json()["access_token"], "imp1")["active"] is True
    svc.set_param("refresh_login_flow", "off")
    r = http.post("/ssosp/oauth/token", data=form)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant" and "disabled" in r.json()["error_description"]


def test_implicit_flow(http: httpx.Client) -> None:
    r = http.get(
        "/ssosp/oauth/authorize", params={**Q, "response_type": "token"}, auth=("bob", "bob-pw")
    )
    assert r.status_code == 302
    frag = httpx.QueryParams(httpx.URL(r.headers["location"]).fragment)
    assert frag["token_type"] == "Bearer" and frag["state"] == "xyz"
    assert check(http, frag["access_token"], "cuc1")["sub"] == "bob"


def test_expiry(http: httpx.Client, svc: Service, clock: VirtualClock) -> None:
    svc.set_param("access_token_expiry_minutes", "1")
    tok = code_login(http)
    clock.advance(60 + 31)
    assert check(http, tok["access_token"]) == {"active": False, "reason": "expired"}


def test_revoke_with_and_without_admin_credentials(http: httpx.Client, svc: Service) -> None:
    svc.set_param("refresh_login_flow", "on")
    tok = code_login(http)
    url = "/ssosp/token/revoke"
    r = http.get(url, params={"user_id": "alice"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    assert http.get(url, params={"user_id": "alice"}, auth=("admin", "wrong")).status_code == 401
    assert (
        http.get(url, params={"user_id": "alice"}, auth=("admin2", ADMIN.password)).status_code
        == 401
    )
    r = http.get(
        url, params={"user_id": "alice", "client_id": CLIENT}, auth=(ADMIN.user, ADMIN.password)
    )
    assert r.status_code == 200
    body = r.json()["revoked_tokens"]
    assert body["status"] == "success" and len(body["clientID_tokens"]) == 1
    assert body["clientID_tokens"][0]["client_id"] == CLIENT
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tok["refresh_token"],
        "client_id": CLIENT,
    }
    assert http.post("/ssosp/oauth/token", data=form).json()["error"] == "invalid_grant"


def test_key_regeneration_over_http(http: httpx.Client, svc: Service) -> None:
    old = code_login(http)["access_token"]
    svc.regenerate_key("signing")
    svc.restart("callmanager")
    svc.restart("xcp-auth", "imp1")
    new = code_login(http)["access_token"]
    assert check(http, old) == {"active": False, "reason": "signature"}
    assert check(http, new)["active"] is True
    assert check(http, new, "imp1")["active"] is True
    # The IM&P central cluster and Expressway fail until their own action.
    assert check(http, new, "impc1") == {"active": False, "reason": "signature"}
    assert check(http, new, "expc1") == {"active": False, "reason": "signature"}
    svc.sync_keys("expc1")
    svc.sync_keys("impc1")
    svc.restart("xcp-auth", "impc1")
    assert check(http, new, "impc1")["active"] is True and check(http, new, "expc1")["active"]


def test_inactive_user_and_user_without_role(http: httpx.Client, svc: Service) -> None:
    tok = code_login(http)
    svc.set_user("alice", active=False)
    assert check(http, tok["access_token"], "cuc1") == {"active": False, "reason": "inactive_user"}
    r = http.get("/ssosp/oauth/authorize", params=Q, auth=("alice", "alice-pw"))
    assert r.status_code == 403 and r.json()["error"] == "access_denied"
    r = http.get("/ssosp/oauth/authorize", params=Q, auth=("carol", "carol-pw"))
    assert r.status_code == 403


def test_authorize_errors_are_json_and_never_redirect(http: httpx.Client) -> None:
    r = http.get("/ssosp/oauth/authorize", params={**Q, "redirect_uri": "https://evil.example/"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert "location" not in r.headers
    r = http.get("/ssosp/oauth/authorize", params=Q)
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Basic realm="ssosp"'


def test_request_hygiene(http: httpx.Client) -> None:
    twice = "grant_type=refresh_token&grant_type=authorization_code"
    r = http.post(
        "/ssosp/oauth/token",
        content=twice,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 400 and "more than once" in r.json()["error_description"]
    r = http.post("/ssosp/oauth/token", json={"grant_type": "refresh_token"})
    assert r.status_code == 400 and "x-www-form-urlencoded" in r.json()["error_description"]
    r = http.post("/ssosp/oauth/introspect", data={"token": "a" * 70_000})
    assert r.status_code == 413
    r = http.post("/ssosp/oauth/introspect", data={"token": "a" * 9000})
    assert r.json() == {"active": False, "reason": "oversized"}
    r = http.post("/ssosp/oauth/token", data={"grant_type": "password"})
    assert r.json()["error"] == "unsupported_grant_type"
    r = http.post("/ssosp/oauth/introspect", data={"token": "x.y.z", "server": "nowhere"})
    assert r.status_code == 400 and "unknown node" in r.json()["error_description"]


def test_host_header_picks_the_serving_node(http: httpx.Client, svc: Service) -> None:
    r = http.get(
        "/ssosp/oauth/authorize",
        params={**Q, "response_type": "token"},
        auth=("bob", "bob-pw"),
        headers={"Host": "ucm-sub1:8443", "Via": "1.1 expc1, 1.1 expe1"},
    )
    assert r.status_code == 302
    svc.flush()
    sub = svc.data_dir / "logs/ucm-sub1/tomcat/logs/ssosp/log4j/ssosp00001.log"
    line = [ln for ln in sub.read_text().splitlines() if "Access token issued" in ln]
    assert len(line) == 1 and "user=bob" in line[0] and line[0].endswith("via=expe1")


def test_concurrent_issues_are_all_logged(svc: Service) -> None:
    import concurrent.futures

    svc.set_param("refresh_login_flow", "on")
    with running(svc) as base, httpx.Client(base_url=base, timeout=20) as c:
        tok = code_login(c)
        form = {
            "grant_type": "refresh_token",
            "refresh_token": tok["refresh_token"],
            "client_id": CLIENT,
        }

        def one(_: int) -> str:
            with httpx.Client(base_url=base, timeout=20) as cc:
                r = cc.post("/ssosp/oauth/token", data=form)
                assert r.status_code == 200
                return str(r.json()["access_token"])

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            tokens = list(pool.map(one, range(40)))
    assert len(set(tokens)) == 40
    svc.flush()
    text = (svc.data_dir / "logs/ucm-pub/tomcat/logs/ssosp/log4j/ssosp00001.log").read_text()
    assert text.count("grant=refresh_token") == 40 and text.count("Refresh grant accepted") == 40
    assert all(ln.startswith("2026-11-20 08:00:00,000 ") for ln in text.splitlines())


def test_deterministic_service_over_http(make_service: Any) -> None:
    s = make_service(rng=random.Random(1))
    s.add_user("alice", "alice-pw")
    with running(s) as base, httpx.Client(base_url=base) as c:
        assert check(c, code_login(c)["access_token"])["active"] is True
