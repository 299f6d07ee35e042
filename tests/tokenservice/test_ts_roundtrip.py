"""Round trip: every line the service writes parses as the intended event with its fields."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path
from typing import Any

import httpx
import polars as pl

import logdoctor
from logdoctor.tokenservice.clock import VirtualClock
from logdoctor.tokenservice.logwriter import enc
from logdoctor.tokenservice.service import Service
from logdoctor.tokenservice.tokens import fingerprint
from tests.helpers.tokenservice import ADMIN, CLIENT, REDIRECT, running

FORGED = (
    "\n2026-11-20 08:00:00,000 INFO  [x] oauth.TokenServlet - Access token issued: user=root "
    'client_id=C device=D grant=implicit jti=J kid=K expires_in=1 via=- "q" a=b %41'
)
EVIL = "evil" + FORGED.replace(":", ".")  # basic auth user names cannot hold a colon
AGENT = "Jabber/14.1.0 (Windows)"


def rows(frame: pl.DataFrame, kind: str, **eq: str) -> list[dict[str, Any]]:
    f = frame.filter(pl.col("kind") == kind)
    for k, v in eq.items():
        f = f.filter(pl.col(k) == v)
    return f.to_dicts()


def drive(svc: Service, clock: VirtualClock, base: str) -> dict[str, Any]:
    """Call every endpoint and every administrative action once or more; return what was made."""
    made: dict[str, Any] = {}
    svc.set_trace_level("debug", "ucm-pub")
    svc.set_trace_level("debug", "imp1")
    svc.set_param("refresh_login_flow", "on")
    with contextlib.suppress(ValueError):
        svc.set_param("access_token_expiry_minutes", "2000")
    hdr = {"User-Agent": AGENT, "Via": "1.1 expc1"}
    with httpx.Client(base_url=base, headers=hdr, timeout=10) as c:
        assert c.get("/health").json()["status"] == "ok"
        q = {"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT, "state": "s"}
        r = c.get(
            "/ssosp/oauth/authorize", params={**q, "device": "CSFALICE"}, auth=("alice", "alice-pw")
        )
        assert r.status_code == 302, r.text
        code = httpx.URL(r.headers["location"]).params["code"]
        made["code_fp"] = fingerprint(code)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": CLIENT,
            "redirect_uri": REDIRECT,
        }
        tok = c.post("/ssosp/oauth/token", data=form).json()
        made["first"] = tok
        assert c.get("/ssosp/oauth/authorize", params=q, auth=("alice", "bad")).status_code == 401
        assert c.get("/ssosp/oauth/authorize", params=q, auth=(EVIL, "x")).status_code == 401
        forged = {**q, "response_type": "token", "device": FORGED}
        assert (
            c.get("/ssosp/oauth/authorize", params=forged, auth=("bob", "bob-pw")).status_code
            == 302
        )
        clock.advance(2700)
        ref = c.post(
            "/ssosp/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": tok["refresh_token"],
                "client_id": CLIENT,
            },
        )
        made["refreshed"] = ref.json()
        v = c.post(
            "/ssosp/oauth/introspect", data={"token": ref.json()["access_token"], "server": "imp1"}
        )
        assert v.json()["active"] is True
        imp = c.get(
            "/ssosp/oauth/authorize",
            params={**q, "response_type": "token"},
            auth=("bob", "bob-pw"),
        )
        assert imp.status_code == 302 and "#access_token=" in imp.headers["location"]
        svc.set_param("implicit_grant", "off")
        assert (
            c.get(
                "/ssosp/oauth/authorize",
                params={**q, "response_type": "token"},
                auth=("bob", "bob-pw"),
            ).status_code
            == 400
        )
        svc.regenerate_key("signing")
        made["new_kid"] = svc.key_show("signing")[0]["checksum"]
        new = c.get("/ssosp/oauth/authorize", params=q, auth=("alice", "alice-pw"))
        code2 = httpx.URL(new.headers["location"]).params["code"]
        form2 = {**form, "code": code2}
        made["after_regen"] = c.post("/ssosp/oauth/token", data=form2).json()
        bad = c.post(
            "/ssosp/oauth/introspect",
            data={"token": made["after_regen"]["access_token"], "server": "expc1"},
        )
        assert bad.json() == {"active": False, "reason": "signature"}
        svc.restart("callmanager")
        svc.sync_keys("expc1")
        assert (
            c.get(
                "/ssosp/token/revoke", params={"user_id": "alice"}, auth=("mallory", "x")
            ).status_code
            == 401
        )
        rv = c.get(
            "/ssosp/token/revoke", params={"user_id": "alice"}, auth=(ADMIN.user, ADMIN.password)
        )
        made["revoked"] = rv.json()
        svc.set_param("refresh_login_flow", "off")
        off = c.post(
            "/ssosp/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": made["after_regen"]["refresh_token"],
                "client_id": CLIENT,
            },
        )
        assert off.status_code == 400 and off.json()["error"] == "invalid_grant"
    svc.set_sso(True)
    clock.advance(86400)
    svc.tick()
    return made


def test_every_line_parses_as_intended(make_service: Any, clock: VirtualClock) -> None:
    svc: Service = make_service(rng=random.Random(11))
    svc.add_node("imp1", "imp")
    svc.add_node("expc1", "expressway")
    svc.add_user("alice", "alice-pw")
    svc.add_user("bob", "bob-pw")
    with running(svc) as base:
        made = drive(svc, clock, base)
    svc.flush()
    logs = svc.data_dir / "logs"
    result = logdoctor.load(logs)
    assert not result.errors
    for st in result.stats:
        assert (st.malformed, st.unrecognized, st.bad_timestamps) == (0, 0, 0), st.path
    f = result.frame
    assert set(f["node"].unique()) == {"ucm-pub", "imp1", "expc1"}

    assert rows(f, "config.changed", param="refresh_login_flow", value="on")
    assert rows(
        f,
        "config.rejected",
        param="access_token_expiry_minutes",
        value="2000",
        reason="out_of_range 1-1440",
    )
    (req,) = rows(f, "authorize.request", user="alice", device="CSFALICE")[:1]
    assert (req["grant"], req["agent"], req["server"], req["client_id"]) == (
        "code",
        AGENT,
        "expc1",
        CLIENT,
    )
    assert rows(f, "auth.success", user="alice", param="password", server="expc1")
    assert rows(f, "auth.failure", user="alice", reason="bad_password")
    assert rows(
        f, "auth.failure", user=EVIL[:128], reason="unknown_user"
    )  # injected text stays one value
    assert not rows(f, "token.access.issued", user="root")
    assert rows(f, "token.access.issued", user="bob", device=FORGED[:64], grant="implicit")
    assert rows(f, "code.issued", user="alice", token_id=made["code_fp"])
    first = rows(f, "token.access.issued", grant="authorization_code", user="alice")[0]
    assert first["value"] == "3600" and first["device"] == "CSFALICE" and ":" in first["key"]
    assert rows(f, "token.refresh.issued", user="alice", value=str(60 * 86400))
    tid = rows(f, "token.refresh.issued", user="alice")[0]["token_id"]
    assert rows(f, "token.refreshed", user="alice", token_id=tid, server="expc1")
    refreshed = rows(f, "token.access.issued", grant="refresh_token")
    assert len(refreshed) == 1 and refreshed[0]["user"] == "alice"
    assert rows(
        f, "token.validated", server="imp1", user="alice", token_id=refreshed[0]["token_id"]
    )
    assert rows(f, "token.access.issued", grant="implicit", user="bob")
    assert rows(f, "authorize.rejected", reason="implicit_disabled", grant="token", user="bob")
    # expc1 is an Expressway: its side is its diagnostic log (no ssosp): the relayed requests
    # (Via), alarm 40054 and a 401 for the token it could not decrypt, Refresh servers.
    assert not (logs / "expc1" / "tomcat").exists()
    assert {r["family"] for r in f.filter(pl.col("node") == "expc1").iter_rows(named=True)} == {
        "expressway"
    }
    (alarm,) = rows(f, "edge.alarm", node="expc1", key="40054")
    assert alarm["basis"] == "documented"
    assert rows(f, "edge.response", node="expc1", reason="401")
    assert rows(f, "edge.request", node="expc1", param="POST")
    assert rows(f, "edge.config.changed", node="expc1", user="admin")
    assert rows(f, "token.rejected", grant="refresh_token", reason="refresh_disabled", user="alice")
    assert rows(f, "auth.failure", user="mallory", param="admin", reason="bad_credentials")
    n = len(made["revoked"]["revoked_tokens"]["clientID_tokens"])
    assert n == 2 and rows(
        f, "revoke.request", user="alice", param="admin", value="2", reason="success"
    )
    assert len(rows(f, "token.revoked", user="alice", reason="revoke_api")) == 2
    assert rows(f, "token.purged", value="0")
    (regen,) = rows(f, "key.regenerated", param="signing", value="2")
    assert regen["family"] == "certmgmt" and regen["key"] == made["new_kid"]
    assert rows(f, "cert.regenerated", param="authz")
    assert rows(f, "key.replicated", node="imp1", server="ucm-pub", key=made["new_kid"])
    assert rows(f, "key.loaded", node="ucm-pub", server="Cisco Tomcat", key=made["new_kid"])
    assert rows(f, "key.loaded", node="ucm-pub", server="Cisco CallManager", key=made["new_kid"])
    for kind in ("service.stopped", "service.started"):
        (alarm,) = rows(f, kind, param="Cisco CallManager", node="ucm-pub")
        assert alarm["family"] == "ciscosyslog" and alarm["basis"] in ("published", "documented")
    (audit,) = rows(f, "audit.service", param="Cisco CallManager", node="ucm-pub")
    assert audit["user"] == "admin" and audit["reason"] == "Service restarted"
    assert audit["value"] == "Successful"
    assert rows(f, "trace.level", node="imp1", value="DEBUG")
    (sso,) = rows(f, "sso.enabled", node="ucm-pub")
    assert sso["family"] == "ciscosyslog" and sso["key"] == "SAMLSSOEnableSuccess"
    assert rows(f, "sso.filter", value="/ssosp/oauth/token")
    ssosp = sorted(p.name for p in (logs / "ucm-pub/tomcat/logs/ssosp/log4j").iterdir())
    assert ssosp == ["ssosp00001.log", "ssosp00002.log"]  # SSO enabled: a new file
    assert [p.name for p in (logs / "ucm-pub/platform/log").glob("certMgmt*.log")] == [
        "certMgmt00001.log"
    ]
    # No whole token anywhere in the logs.
    text = "\n".join(p.read_text() for p in logs.rglob("*.log"))
    for tok in (made["first"], made["refreshed"], made["after_regen"]):
        for key in ("access_token", "refresh_token"):
            if key in tok:
                assert tok[key] not in text and tok[key][-40:] not in text


def test_size_based_rotation(make_service: Any, tmp_path: Path) -> None:
    svc: Service = make_service(ssosp_max_bytes=4096)
    svc.add_user("alice", "alice-pw")
    for _ in range(12):
        svc.authorize(
            response_type="token",
            client_id=CLIENT,
            redirect_uri=REDIRECT,
            username="alice",
            password="alice-pw",
        )
    svc.flush()
    folder = svc.data_dir / "logs/ucm-pub/tomcat/logs/ssosp/log4j"
    files = sorted(folder.iterdir())
    assert len(files) >= 3 and files[0].name == "ssosp00001.log"
    assert all(p.stat().st_size <= 4096 for p in files)
    result = logdoctor.load(folder.parent.parent.parent.parent.parent)
    assert len(rows(result.frame, "token.access.issued", user="alice")) == 12
    assert {st.malformed + st.unrecognized for st in result.stats} == {0}
    # A new process continues in the newest file.
    svc.close()
    again = Service(svc.data_dir, clock=svc.clock, ssosp_max_bytes=4096)
    again.set_param("implicit_grant", "off")
    again.close()
    assert "implicit_grant" in sorted(folder.iterdir())[-1].read_text()


def test_enc_keeps_values_one_token() -> None:
    from logdoctor.ingest.parse.common import pct_decode

    for v in [
        "alice",
        "-",
        "",
        "a b",
        "x=y",
        "50%",
        'q"',
        "line\nbreak",
        "tab\t",
        "é",
        "C:\\x",
        "/path",
    ]:
        e = enc(v)
        assert e and not any(ch in e for ch in ' "=\n\t\r') and e.isascii()
        assert (pct_decode(e) if e != "-" else "") == v
