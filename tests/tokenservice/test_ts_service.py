"""The core, in process, on a virtual clock: flows, parameters, keys, restarts, persistence."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest

from logdoctor.tokenservice.clock import VirtualClock
from logdoctor.tokenservice.core import uuid4_text
from logdoctor.tokenservice.errors import OAuthError, ServiceError
from logdoctor.tokenservice.service import Service
from logdoctor.ucm.params import ParamError
from tests.helpers.tokenservice import ADMIN, CLIENT, REDIRECT, START, login


def reason(svc: Service, token: object, server: str | None = None) -> str | None:
    r = svc.introspect(token, server=server)  # type: ignore[arg-type]
    return None if r.active else r.reason


def test_refresh_flow_off_by_default_no_refresh_token(svc: Service) -> None:
    resp = login(svc)
    assert resp.refresh_token is None and "refresh_token" not in resp.to_json()
    assert reason(svc, resp.access.compact) is None


def test_refresh_grant_refused_when_flow_disabled_after_enable(
    svc: Service, clock: VirtualClock
) -> None:
    svc.set_param("refresh_login_flow", "on")
    resp = login(svc)
    assert resp.refresh_token
    clock.advance(45 * 60)
    new = svc.refresh(refresh_token=resp.refresh_token, client_id=CLIENT)
    assert new.access.claims.sub == "alice" and new.refresh_token is None
    svc.set_param("refresh_login_flow", "off")
    with pytest.raises(OAuthError) as info:
        svc.refresh(refresh_token=resp.refresh_token, client_id=CLIENT, via="expc1")
    assert (info.value.status, info.value.error, info.value.reason) == (
        400,
        "invalid_grant",
        "refresh_disabled",
    )


def test_access_token_expires_with_the_timer(svc: Service, clock: VirtualClock) -> None:
    svc.set_param("access_token_expiry_minutes", "5")
    resp = login(svc)
    assert resp.expires_in == 300
    clock.advance(300 + 29)
    assert reason(svc, resp.access.compact) is None
    clock.advance(2)
    assert reason(svc, resp.access.compact) == "expired"
    assert reason(svc, resp.access) == "expired"


def test_parameter_ranges_are_enforced_with_the_range_in_the_message(svc: Service) -> None:
    with pytest.raises(ParamError, match=r"allowed 1-1440"):
        svc.set_param("access_token_expiry_minutes", "1441")
    with pytest.raises(ParamError, match=r"allowed 1-365"):
        svc.set_param("refresh_token_expiry_days", "0")
    with pytest.raises(ParamError, match="unknown parameter"):
        svc.set_param("nope", "1")
    with pytest.raises(ParamError, match="on or off"):
        svc.set_param("refresh_login_flow", "maybe")
    assert svc.set_param("access_token_expiry_minutes", "1440") == ("60", "1440")
    assert svc.params()["access_token_expiry_minutes"] == "1440"


def test_changing_the_refresh_timer_revokes_every_refresh_token(svc: Service) -> None:
    svc.set_param("refresh_login_flow", "on")
    a, b = login(svc), login(svc, "bob")
    svc.set_param("refresh_token_expiry_days", "30")
    for resp in (a, b):
        with pytest.raises(OAuthError) as info:
            svc.refresh(refresh_token=resp.refresh_token, client_id=CLIENT)
        assert info.value.reason == "revoked"
    assert login(svc).refresh_token  # a new login works


def test_refresh_token_expires_and_is_purged_at_two(svc: Service, clock: VirtualClock) -> None:
    svc.set_param("refresh_login_flow", "on")
    svc.set_param("refresh_token_expiry_days", "1")
    resp = login(svc)
    assert svc.store.refresh_count() == 1
    clock.advance(86400 + 31)
    with pytest.raises(OAuthError) as info:
        svc.refresh(refresh_token=resp.refresh_token, client_id=CLIENT)
    assert info.value.reason == "expired"
    assert svc.store.refresh_count() == 1  # 02:00 of 11-21 came before it expired
    clock.advance(86400)
    svc.tick()
    assert svc.store.refresh_count() == 0
    ssosp = (svc.data_dir / "logs/ucm-pub/tomcat/logs/ssosp/log4j/ssosp00001.log").read_text()
    purges = [ln for ln in ssosp.splitlines() if "Purged expired refresh tokens" in ln]
    assert [ln[:23] for ln in purges] == ["2026-11-21 02:00:00,000", "2026-11-22 02:00:00,000"]
    assert purges[1].endswith("count=1")


def test_inactive_user_and_user_without_access(svc: Service) -> None:
    resp = login(svc)
    svc.set_user("alice", active=False)
    assert reason(svc, resp.access.compact, "cuc1") == "inactive_user"
    with pytest.raises(OAuthError) as info:
        login(svc)
    assert (info.value.status, info.value.reason) == (403, "inactive_user")
    with pytest.raises(OAuthError) as info:
        login(svc, "carol")  # no role, no group
    assert (info.value.status, info.value.reason) == (403, "no_access")
    svc.set_user("bob", groups=("Standard CCM Super Users",), rank=5)  # rank too low for it
    assert not svc.has_access(svc.state.users["bob"])
    svc.set_user("bob", rank=1)
    bob = login(svc, "bob")
    svc.set_user("bob", groups=(), roles=("Standard CCM Admin Users",))
    assert reason(svc, bob.access, "imp1") == "no_access"


def test_authentication_failures(svc: Service) -> None:
    for user, pw, why in [
        ("alice", "wrong", "bad_password"),
        ("nobody", "x", "unknown_user"),
    ]:
        with pytest.raises(OAuthError) as info:
            login(svc, user, pw)
        assert (info.value.status, info.value.reason) == (401, why)
    with pytest.raises(OAuthError) as info:
        svc.authorize(response_type="code", client_id=CLIENT, redirect_uri=REDIRECT)
    assert info.value.reason == "no_credentials"


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"client_id": "C123"}, "bad_client_id"),
        ({"redirect_uri": "https://evil.example.com/cb"}, "redirect_uri_not_allowed"),
        ({"response_type": "id_token"}, "unsupported_response_type"),
        ({"scope": "admin"}, "invalid_scope"),
    ],
)
def test_bad_authorize_requests(svc: Service, kw: dict[str, str], why: str) -> None:
    args = {"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT}
    args.update(kw)
    with pytest.raises(OAuthError) as info:
        svc.authorize(**args, username="alice", password="alice-pw")  # type: ignore[arg-type]
    assert (info.value.status, info.value.reason) == (400, why)


@pytest.mark.parametrize(
    ("drop", "add", "match"),
    [
        ((), {"user": "alice"}, r"^authorize request: unexpected 'user'$"),  # for username
        (("client_id",), {}, r"^authorize request: missing 'client_id'$"),
    ],
)
def test_authorize_refuses_parameters_a_signature_would(
    svc: Service, drop: tuple[str, ...], add: dict[str, str], match: str
) -> None:
    args = {"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT, **add}
    for k in drop:
        del args[k]
    for call in (svc.authorize, svc.authorize_start):
        with pytest.raises(TypeError, match=match):
            call(**args, password="alice-pw")  # type: ignore[arg-type]
    svc.flush()
    log = svc.data_dir / "logs/ucm-pub/tomcat/logs/ssosp/log4j/ssosp00001.log"
    assert not log.exists() or "Authorize request" not in log.read_text()  # refused first


def test_third_party_redirect_uri_needs_the_parameter(svc: Service) -> None:
    uri = "https://app.example.com/cb"
    kw = {"response_type": "code", "client_id": CLIENT, "username": "alice", "password": "alice-pw"}
    with pytest.raises(OAuthError):
        svc.authorize(redirect_uri=uri, **kw)
    svc.set_param("redirect_uris", f"https://other.example.com/x, {uri}")
    assert svc.authorize(redirect_uri=uri, **kw).code


def test_implicit_grant_and_its_switch(svc: Service) -> None:
    kw = {
        "client_id": CLIENT,
        "redirect_uri": REDIRECT,
        "username": "alice",
        "password": "alice-pw",
    }
    a = svc.authorize(response_type="token", state="s1", **kw)
    assert a.token is not None and a.code is None
    loc = a.location()
    assert loc.startswith(REDIRECT + "#access_token=") and loc.endswith("&state=s1")
    assert reason(svc, a.token.access.compact) is None
    svc.set_param("implicit_grant", "off")
    with pytest.raises(OAuthError) as info:
        svc.authorize(response_type="token", **kw)
    assert info.value.reason == "implicit_disabled"


def test_code_is_single_use_short_lived_and_bound(svc: Service, clock: VirtualClock) -> None:
    kw = {
        "client_id": CLIENT,
        "redirect_uri": REDIRECT,
        "username": "alice",
        "password": "alice-pw",
    }
    code = svc.authorize(response_type="code", **kw).code
    other = "C" + "0" * 64
    with pytest.raises(OAuthError) as info:
        svc.exchange_code(code=code, client_id=other, redirect_uri=REDIRECT)
    assert info.value.reason == "client_mismatch"
    with pytest.raises(OAuthError) as info:
        svc.exchange_code(code=code, client_id=CLIENT, redirect_uri=REDIRECT)
    assert info.value.reason == "code_reused"
    code2 = svc.authorize(response_type="code", **kw).code
    clock.advance(121)
    with pytest.raises(OAuthError) as info:
        svc.exchange_code(code=code2, client_id=CLIENT, redirect_uri=REDIRECT)
    assert info.value.reason == "code_expired"
    with pytest.raises(OAuthError) as info:
        svc.exchange_code(code="nope", client_id=CLIENT, redirect_uri=REDIRECT)
    assert info.value.reason == "invalid_code"


def test_pkce_s256(svc: Service) -> None:
    import base64
    import hashlib

    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    kw = {
        "client_id": CLIENT,
        "redirect_uri": REDIRECT,
        "username": "alice",
        "password": "alice-pw",
    }
    a = svc.authorize(
        response_type="code", code_challenge=challenge.decode(), code_challenge_method="S256", **kw
    )
    with pytest.raises(OAuthError) as info:
        svc.exchange_code(
            code=a.code, client_id=CLIENT, redirect_uri=REDIRECT, code_verifier="w" * 50
        )
    assert info.value.reason == "pkce_failed"
    b = svc.authorize(
        response_type="code", code_challenge=challenge.decode(), code_challenge_method="S256", **kw
    )
    ok = svc.exchange_code(
        code=b.code, client_id=CLIENT, redirect_uri=REDIRECT, code_verifier=verifier
    )
    assert ok.access.claims.sub == "alice"


def test_refresh_checks_client_and_type(svc: Service) -> None:
    svc.set_param("refresh_login_flow", "on")
    resp = login(svc)
    with pytest.raises(OAuthError) as info:
        svc.refresh(refresh_token=resp.refresh_token, client_id="C" + "1" * 64)
    assert info.value.reason == "client_mismatch"
    with pytest.raises(OAuthError) as info:
        svc.refresh(refresh_token=resp.access.compact, client_id=CLIENT)
    assert info.value.reason == "wrong_type"
    assert reason(svc, resp.refresh_token) == "wrong_type"


def test_revoke_requires_admin_and_answers_ucms_json(svc: Service) -> None:
    svc.set_param("refresh_login_flow", "on")
    a1, a2, b = login(svc), login(svc, device="TCTALICE"), login(svc, "bob")
    for user, pw, why in [(None, None, "no_credentials"), ("admin", "nope", "bad_credentials")]:
        with pytest.raises(OAuthError) as info:
            svc.revoke(admin_user=user, admin_password=pw, user_id="alice")
        assert (info.value.status, info.value.reason) == (401, why)
    out = svc.revoke(
        admin_user=ADMIN.user, admin_password=ADMIN.password, user_id="alice"
    ).to_json()
    body = out["revoked_tokens"]
    assert body["status"] == "success" and body["user_id"] == "alice"
    idx = {t["refresh_token"] for t in body["clientID_tokens"]}
    assert len(idx) == 2 and all(len(i) == 64 and int(i, 16) >= 0 for i in idx)
    import hashlib

    assert idx == {hashlib.sha256(t.refresh_token.encode()).hexdigest() for t in (a1, a2)}  # type: ignore[union-attr]
    for resp in (a1, a2):
        with pytest.raises(OAuthError) as info:
            svc.refresh(refresh_token=resp.refresh_token, client_id=CLIENT)
        assert info.value.reason == "revoked"
    assert svc.refresh(refresh_token=b.refresh_token, client_id=CLIENT)
    assert reason(svc, a1.access.compact) is None  # access tokens live until they expire


def test_admin_check_compares_both_parts() -> None:
    assert ADMIN.check("admin", "axl-Secret-1")
    assert not ADMIN.check("admin", "axl-Secret-2")
    assert not ADMIN.check("Admin", "axl-Secret-1")
    assert not ADMIN.check("", "")


def test_signing_key_regeneration_replication_restarts_and_syncs(svc: Service) -> None:
    old = login(svc)
    svc.regenerate_key("signing")
    new = login(svc)
    assert new.access.kid != old.access.kid
    # Outside servers still hold the old key: the new token fails there, the old one works.
    for server in ("expc1", "cuc1", "impc1"):
        assert reason(svc, new.access.compact, server) == "signature"
        assert reason(svc, old.access.compact, server) is None
    # In the cluster the nodes store the new key, but CallManager / XCP keep the loaded one.
    for server in ("ucm-pub", "ucm-sub1", "imp1"):
        assert reason(svc, new.access.compact, server) == "signature"
    assert svc.restart("callmanager") == ["ucm-pub", "ucm-sub1"]
    assert svc.restart("xcp-auth", "imp1") == ["imp1"]
    for server in ("ucm-pub", "ucm-sub1", "imp1"):
        assert reason(svc, new.access.compact, server) is None
        assert reason(svc, old.access.compact, server) == "signature"
    svc.sync_keys("expc1")
    svc.sync_keys("cuc1")
    assert reason(svc, new.access, "expc1") is None and reason(svc, new.access, "cuc1") is None
    svc.sync_keys("impc1")  # the central cluster also needs its XCP restarted
    assert reason(svc, new.access.compact, "impc1") == "signature"
    svc.restart("xcp-auth", "impc1")
    assert reason(svc, new.access.compact, "impc1") is None
    checks = {r["node"]: r["checksum"] for r in svc.key_show("signing")}
    assert len(set(checks.values())) == 1 and checks["ucm-pub"] == new.access.signing_checksum


def test_encryption_key_regeneration_fails_old_tokens_as_decrypt(svc: Service) -> None:
    svc.set_param("refresh_login_flow", "on")
    old = login(svc)
    svc.regenerate_key("encryption")
    svc.restart("callmanager")
    assert reason(svc, old.access.compact, "ucm-pub") == "decrypt"
    # Refresh tokens are signed, not encrypted: they survive an encryption-key regeneration.
    new = svc.refresh(refresh_token=old.refresh_token, client_id=CLIENT)
    assert reason(svc, new.access.compact, "ucm-pub") is None
    assert reason(svc, new.access.compact, "cuc1") == "decrypt"


def test_clock_skew_of_a_validating_node(svc: Service) -> None:
    svc.set_clock_offset("imp1", -120)
    resp = login(svc)
    assert reason(svc, resp.access.compact, "imp1") == "not_yet_valid"
    assert reason(svc, resp.access, "imp1") == "not_yet_valid"
    assert reason(svc, resp.access.compact, "ucm-sub1") is None


def test_admin_errors(svc: Service) -> None:
    with pytest.raises(ServiceError, match="unknown node"):
        svc.introspect("x", server="nope")
    with pytest.raises(ServiceError, match="gets keys from the publisher"):
        svc.sync_keys("imp1")
    with pytest.raises(ServiceError, match="does not run"):
        svc.restart("callmanager", "imp1")
    with pytest.raises(ServiceError, match="exists already"):
        svc.add_node("imp1", "imp")
    with pytest.raises(ValueError, match="node name"):
        svc.add_node("../x", "imp")
    with pytest.raises(ServiceError, match="rank"):
        svc.add_user("dave", "pw", rank=11)


def test_state_survives_a_restart(svc: Service, make_service: object, tmp_path: Path) -> None:
    svc.set_param("refresh_login_flow", "on")
    resp = login(svc)
    svc.regenerate_key("encryption")
    svc.set_user("bob", active=False)
    svc.close()
    again = Service(tmp_path / "data", clock=svc.clock, admin=ADMIN)
    try:
        assert again.params()["refresh_login_flow"] == "on"
        assert [n["name"] for n in again.info()["nodes"]][:2] == ["ucm-pub", "ucm-sub1"]
        assert again.info()["encryption_version"] == 2
        assert not again.state.users["bob"].active
        assert again.refresh(refresh_token=resp.refresh_token, client_id=CLIENT).access
    finally:
        again.close()


def test_a_second_process_sees_changes(svc: Service, tmp_path: Path) -> None:
    resp = login(svc)
    other = Service(tmp_path / "data", clock=svc.clock)
    try:
        other.set_user("alice", active=False)
        other.set_param("access_token_expiry_minutes", "7")
    finally:
        other.close()
    assert reason(svc, resp.access.compact) == "inactive_user"
    svc.set_user("alice", active=True)
    assert login(svc).expires_in == 420


@pytest.mark.slow
def test_same_seeds_give_identical_logs(tmp_path: Path) -> None:
    def run(d: Path) -> dict[str, bytes]:
        clock = VirtualClock(START)
        s = Service(
            d,
            clock=clock,
            rng=random.Random(3),
            key_rng=random.Random(4),
            admin=ADMIN,
            password_cost=1 << 10,
        )
        s.add_node("imp1", "imp")
        s.add_user("alice", "alice-pw")
        s.set_param("refresh_login_flow", "on")
        r = login(s)
        clock.advance(2700)
        s.refresh(refresh_token=r.refresh_token, client_id=CLIENT)
        s.regenerate_key("signing")
        s.introspect(r.access, server="imp1")
        s.close()
        return {str(p.relative_to(d)): p.read_bytes() for p in sorted((d / "logs").rglob("*.log"))}

    a, b = run(tmp_path / "a"), run(tmp_path / "b")
    assert a == b and len(a) >= 3


def test_checks_run_in_the_seeds_order(svc: Service, clock: VirtualClock) -> None:
    """A token that fails several checks is refused for the first: signature, decrypt (and
    claims), user active, user has access."""
    svc.set_user("bob", roles=(), groups=())  # bob: active, no access
    tok = login(svc)  # alice
    svc.set_user("alice", active=False, roles=(), groups=())  # inactive and no access
    assert reason(svc, tok.access.compact) == "inactive_user"
    clock.advance(3600 + 31)
    assert reason(svc, tok.access.compact) == "expired"
    svc.regenerate_key("encryption")
    svc.restart("callmanager", "ucm-pub")
    assert reason(svc, tok.access.compact) == "decrypt"
    svc.regenerate_key("signing")
    svc.restart("callmanager", "ucm-pub")
    assert reason(svc, tok.access.compact) == "signature"
    assert reason(svc, tok.access) == "signature"


def test_uuid_text_is_uuid4s() -> None:
    rng = random.Random(7)
    for raw in [bytes(16), b"\xff" * 16, *(rng.randbytes(16) for _ in range(2000))]:
        assert uuid4_text(raw) == str(uuid.UUID(bytes=raw, version=4))
