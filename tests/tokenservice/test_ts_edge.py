"""Expressway-C and Unity Connection emulation: the token service writes their logs (the
Expressway's loggingsnapshot, Unity's CiscoSyslog alarm), never an ssosp log, and logdoctor's
formats read back the same fields (emulator writes, parser reads)."""

from __future__ import annotations

from pathlib import Path

import pytest

from logdoctor.ingest.formats.encoders import family_format
from logdoctor.ingest.parse import LineParser, iter_lines
from logdoctor.tokenservice.edge import mra_path
from logdoctor.tokenservice.errors import OAuthError
from logdoctor.tokenservice.service import Service, TokenResponse
from tests.helpers.tokenservice import CLIENT, login


def _read(family: str, path: Path) -> list[dict[str, object]]:
    lp = LineParser(family_format(family), file=path.name, node=path.parent.name)
    recs = []
    for line in iter_lines(path.read_text(encoding="utf-8")):
        recs.extend(lp.feed(line))
    recs.extend(lp.flush())
    return [r.as_row() for r in recs]


def _snapshot(svc: Service) -> Path:
    svc.flush()
    found = sorted((svc.data_dir / "logs" / "expc1").glob("loggingsnapshot_expc1_*.txt"))
    assert len(found) == 1, found
    return found[0]


def _login(svc: Service, user: str) -> TokenResponse:
    return login(svc, user, via="expc1")


def test_expressway_writes_request_response_pairs_and_no_ssosp(svc: Service) -> None:
    resp = _login(svc, "alice")
    assert svc.introspect(resp.access, server="expc1").active  # type: ignore[attr-defined]
    with pytest.raises(OAuthError):
        svc.refresh(refresh_token="not-a-token", client_id=CLIENT, via="expc1")
    rows = _read("expressway", _snapshot(svc))
    assert not (svc.data_dir / "logs" / "expc1" / "tomcat").exists()
    assert not (svc.data_dir / "logs" / "cuc1" / "tomcat").exists()
    assert {r["kind"] for r in rows} == {"edge.request", "edge.response"}
    assert all(r["node"] == "expc1" for r in rows)
    requests = [r for r in rows if r["kind"] == "edge.request"]
    responses = {r["key"]: r for r in rows if r["kind"] == "edge.response"}
    # Every request has its response (same Txn-id).
    assert [r["key"] for r in requests] == sorted(responses, key=int)
    got = [(r["param"], r["value"], r["grant"], responses[r["key"]]["reason"]) for r in requests]
    token = mra_path("ucm-pub", "/ssosp/oauth/token")
    assert got == [
        ("GET", mra_path(None, "/authorize"), "code", "302"),
        ("POST", token, None, "200"),
        ("GET", mra_path("ucm-pub", "/cucm-uds/user/alice/devices"), None, "200"),
        ("POST", token, None, "400"),
    ]
    bases = {r["value"]: r["basis"] for r in requests}
    assert bases[token] == "modelled"
    assert bases[mra_path(None, "/authorize")] == "documented"


def test_old_keys_raise_40054_once_and_refresh_servers_is_a_config_change(svc: Service) -> None:
    svc.regenerate_key("signing")
    resp = _login(svc, "bob")
    for _ in range(3):
        assert not svc.introspect(resp.access, server="expc1").active  # type: ignore[attr-defined]
    svc.sync_keys("expc1")
    assert svc.introspect(resp.access, server="expc1").active  # type: ignore[attr-defined]
    rows = _read("expressway", _snapshot(svc))
    alarms = [r for r in rows if r["kind"] == "edge.alarm"]
    assert [(a["key"], a["value"], a["basis"]) for a in alarms] == [
        ("40054", "Raised", "documented")
    ]
    assert str(alarms[0]["reason"]).startswith("Token decryption failure")
    uds = [r["reason"] for r in rows if r["kind"] == "edge.response"][-4:]
    assert uds == ["401", "401", "401", "200"]
    (change,) = [r for r in rows if r["kind"] == "edge.config.changed"]
    assert change["basis"] == "modelled" and str(change["reason"]).startswith("Refresh servers")
    assert change["user"] == "admin"


def test_unity_out_of_step_raises_evtauthzkeyrotation_in_its_syslog(svc: Service) -> None:
    svc.regenerate_key("encryption")
    resp = _login(svc, "alice")
    for _ in range(2):
        assert not svc.introspect(resp.access, server="cuc1").active  # type: ignore[attr-defined]
    svc.flush()
    path = svc.data_dir / "logs" / "cuc1" / "syslog" / "CiscoSyslog"
    rows = [r for r in _read("ciscosyslog", path) if r["kind"] == "authz.keys.mismatch"]
    assert [(r["key"], r["node"]) for r in rows] == [("EvtAuthzKeyRotation", "cuc1")]
    assert not (svc.data_dir / "logs" / "cuc1" / "tomcat").exists()
