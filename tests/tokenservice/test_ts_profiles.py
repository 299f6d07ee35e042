"""UCM version profiles and node time zones: the service writes, the parsers read back the same
fields and the same UTC time, for 12.5 and 14/15 and for nodes outside UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import polars as pl
import pytest
from click.testing import CliRunner

import logdoctor
from logdoctor.cli import main
from logdoctor.timestamps import ZoneBook, resolve_zone
from logdoctor.tokenservice.clock import VirtualClock
from logdoctor.tokenservice.errors import ServiceError
from logdoctor.tokenservice.logwriter import LogWriter
from logdoctor.tokenservice.service import Service
from logdoctor.ucm.versions import BASES, PROFILES, VERSIONS, profile
from tests.helpers.tokenservice import CLIENT, REDIRECT, running


def _stamp(t: float, zone: str) -> str:
    return datetime.fromtimestamp(t, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def _site(make_service: Any, version: str, pub_zone: str) -> Service:
    svc: Service = make_service()
    assert svc.set_ucm_version(version) == version
    svc.add_node("ucm-sub1", "subscriber")
    svc.set_zone("ucm-pub", pub_zone)
    svc.set_zone("ucm-sub1", "Europe/Berlin")
    svc.add_user("alice", "alice-pw")
    svc.set_param("refresh_login_flow", "on")
    return svc


@pytest.mark.parametrize("pub_zone", ["UTC", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("version", VERSIONS)
def test_each_version_and_zone_round_trips(
    make_service: Any, clock: VirtualClock, version: str, pub_zone: str
) -> None:
    svc = _site(make_service, version, pub_zone)
    p = profile(version)
    t0 = clock.time()
    with running(svc) as base, httpx.Client(base_url=base, timeout=10) as c:
        q = {"response_type": "token", "client_id": CLIENT, "redirect_uri": REDIRECT}
        r = c.get("/ssosp/oauth/authorize", params=q, auth=("alice", "alice-pw"))
        assert r.status_code == 302, r.text
    clock.advance(3600)
    svc.restart("callmanager")  # CiscoSyslog on both nodes: local time and UTC
    svc.regenerate_key("signing")  # certMgmt on the publisher
    svc.flush()
    logs = svc.data_dir / "logs"

    result = logdoctor.load([logs])
    assert not result.errors
    for st in result.stats:
        assert (st.unrecognized, st.malformed, st.bad_timestamps) == (0, 0, 0), st.path
    ssosp_files = sorted(logs.rglob("ssosp0*.log"))
    assert {f.parent for f in ssosp_files} == {
        p.ssosp_dir(logs, "ucm-pub"),
        p.ssosp_dir(logs, "ucm-sub1"),
    }
    frame = result.frame
    issued = frame.filter(pl.col("kind") == "token.access.issued").to_dicts()
    assert len(issued) == 1
    row = issued[0]
    assert row["node"] == "ucm-pub" and row["user"] == "alice" and row["client_id"] == CLIENT
    assert row["time"] == datetime.fromtimestamp(t0, UTC)
    assert row["thread"].startswith(p.thread_prefix)
    short = "oauth.TokenServlet"
    assert row["logger"] == (f"cpi.sso.{short}" if p.long_loggers else short)
    # the file holds the node's wall clock, without a zone, as UCM writes it
    raw = next(
        ln
        for ln in p.ssosp_dir(logs, "ucm-pub").joinpath("ssosp00001.log").read_text().splitlines()
        if "Access token issued" in ln
    )
    assert raw.startswith(_stamp(t0, pub_zone) + ",000 ")
    assert ("]  cpi.sso." in raw) is p.long_loggers
    # every node's restart alarms and every regeneration line: the UTC time of the action
    t1 = datetime.fromtimestamp(t0 + 3600, UTC)
    started = frame.filter(pl.col("kind") == "service.started")
    assert sorted(started["node"].to_list()) == ["ucm-pub", "ucm-sub1"]
    assert all(abs((t - t1).total_seconds()) < 0.01 for t in started["time"])
    loaded = frame.filter((pl.col("kind") == "key.loaded") & (pl.col("time") >= t1))
    assert loaded.height >= 2
    assert all(abs((t - t1).total_seconds()) < 0.01 for t in loaded["time"])
    regen = frame.filter((pl.col("kind") == "key.regenerated") & (pl.col("family") == "certmgmt"))
    assert regen.height == 1 and abs((regen["time"][0] - t1).total_seconds()) < 0.01
    assert set(frame.filter(pl.col("kind") == "key.loaded")["server"].drop_nulls()) >= {
        p.ssosp_service
    }
    # the two clocks of each node's CiscoSyslog state its zone
    stated = {st.node: st.utc_offset for st in result.stats if "CiscoSyslog" in st.path}
    off = datetime.fromtimestamp(t0 + 3600, ZoneInfo(pub_zone)).strftime("%z")
    assert stated["ucm-pub"] == f"{off[:3]}:{off[3:]}"
    assert stated["ucm-sub1"] == "+01:00"


def test_the_version_and_zones_are_kept_in_the_data_dir(
    make_service: Any, tmp_path: Path, clock: VirtualClock
) -> None:
    svc = _site(make_service, "15", "America/New_York")
    svc.close()
    again: Service = make_service(tmp_path / "data")
    info = again.info()
    assert info["ucm_version"] == "15"
    zones = {n["name"]: n["zone"] for n in info["nodes"]}
    assert zones == {"ucm-pub": "America/New_York", "ucm-sub1": "Europe/Berlin"}
    again.set_param("access_token_expiry_minutes", "30")
    again.flush()
    text = (
        again.data_dir / "logs/ucm-pub/tomcat/logs/ssosp-tomcat/log4j/ssosp00001.log"
    ).read_text()
    assert _stamp(clock.time(), "America/New_York") in text.splitlines()[-1]


def test_bad_versions_zones_and_services_are_refused(make_service: Any) -> None:
    svc: Service = make_service()
    with pytest.raises(ServiceError, match=r"known: 12\.5, 14, 15"):
        svc.set_ucm_version("11.5")
    with pytest.raises(ServiceError, match="not a time zone"):
        svc.set_zone("ucm-pub", "Mars/Olympus")
    with pytest.raises(ServiceError, match="UCM 14 and later"):
        svc.restart("ssosp-tomcat")
    svc.set_ucm_version("14")
    assert svc.restart("ssosp-tomcat") == ["ucm-pub"]
    svc.flush()
    syslog = (svc.data_dir / "logs/ucm-pub/syslog/CiscoSyslog").read_text()
    assert "[ServiceName=Cisco SSOSP Tomcat]" in syslog


def test_cli_sets_the_version_and_zones(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runner = CliRunner()
    r = runner.invoke(
        main,
        [
            "service",
            "--data-dir",
            str(data),
            "nodes",
            "add",
            "s1",
            "--role",
            "subscriber",
            "--zone",
            "Europe/Berlin",
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        main, ["service", "--data-dir", str(data), "nodes", "set", "s1", "--zone", "Nowhere/X"]
    )
    assert r.exit_code != 0 and "not a time zone" in r.output and "Traceback" not in r.output
    r = runner.invoke(main, ["service", "--data-dir", str(data), "nodes", "set", "s1"])
    assert r.exit_code != 0 and "--zone" in r.output
    r = runner.invoke(main, ["service", "--data-dir", str(data), "nodes"])
    assert "UCM 12.5" in r.output and "zone Europe/Berlin" in r.output


def test_a_daylight_saving_change_inside_a_log(tmp_path: Path) -> None:
    """The writer follows the zone database (the wall clock repeats 01:00-02:00 on the first
    Sunday of November in New York). Read in the declared IANA zone, every time outside the
    repeated hour is exact; a time inside it is read as its first occurrence (the limit)."""
    w = LogWriter(tmp_path)
    w.configure(profile("12.5"), {"ucm-pub": "America/New_York"})
    utc = [(4, 30), (5, 10), (6, 10), (7, 30)]  # 00:30 EDT, 01:10 EDT, 01:10 EST, 02:30 EST
    ts = [datetime(2026, 11, 1, h, m, tzinfo=UTC).timestamp() for h, m in utc]
    for t in ts:
        w.ssosp(
            "ucm-pub",
            t,
            "INFO",
            "Timer-3",
            "oauth.RefreshTokenCleaner",
            "Purged expired refresh tokens: count=1",
        )
    w.close()
    text = (tmp_path / "ucm-pub/tomcat/logs/ssosp/log4j/ssosp00001.log").read_text()
    assert [ln[11:16] for ln in text.splitlines()] == ["00:30", "01:10", "01:10", "02:30"]
    book = ZoneBook(None, {"ucm-pub": (resolve_zone("America/New_York"), "deployment.toml:1")})
    got = logdoctor.load([tmp_path], zones=book).frame.sort("line")["time"].to_list()
    want = [datetime.fromtimestamp(t, UTC) for t in ts]
    assert [got[0], got[1], got[3]] == [want[0], want[1], want[3]]
    assert got[2] == want[1]  # the repeated hour: read as the first 01:10


def test_every_profile_fact_has_a_basis_and_a_source() -> None:
    assert profile(None).version == "12.5"
    for p in PROFILES.values():
        assert set(p.facts) == {"thread_prefix", "long_loggers", "ssosp_folder", "ssosp_service"}
        for fact in p.facts.values():
            assert fact.basis in BASES and fact.source
    assert profile("12.5").logger("filter.SSOAuthAgentFilter") == "filter.SSOAuthAgentFilter"
    long = profile("15").logger("authentication.SAMLAuthenticator")
    assert long == " cpi.sso.saml.sp.security.authentication.SAMLAuthenticator"
    assert profile("14").thread(7) == "http-nio-81-exec-7"
    with pytest.raises(ValueError, match="known"):
        profile("16")


def test_serve_keeps_the_version_it_is_given_for_every_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logdoctor.tokenservice import server

    made: list[str] = []

    def fake_run_workers(make: Any, sock: Any, workers: int, **kw: Any) -> None:
        sock.close()
        svc = make()
        made.append(svc.logs.profile.thread(1))
        svc.close()

    monkeypatch.setattr(server, "run_workers", fake_run_workers)
    args = ["serve", "--data-dir", str(tmp_path / "d"), "--port", "0", "--admin-user", "a"]
    env = {"LOGDOCTOR_ADMIN_PASSWORD": "pw"}
    r = CliRunner().invoke(main, [*args, "--ucm-version", "15"], env=env)
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, args, env=env)  # the data dir keeps it
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, [*args, "--ucm-version", "13"], env=env)
    assert r.exit_code == 2 and "13" in r.output
    assert made == ["http-nio-81-exec-1", "http-nio-81-exec-1"]
