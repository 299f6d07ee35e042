"""The log families of real collections besides ssosp: CiscoSyslog, Jabber PRT, Expressway's
diagnostic log and the application audit log.

The published lines are in tests/assets/verbatim/ (test_verbatim.py); here, lines of the same
forms that no document publishes, written from the documented grammar (other services, other
alarm names, other parameter orders and subsets, spacing, the older form without brackets, cut
dates, Windows and iOS paths), must parse the same way in both engines; and a bundle laid out
as RTMT, a PRT and an Expressway diagnostic log lay them out gets each file its family.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import logdoctor
from logdoctor.cli import main
from logdoctor.ingest.clocks import offset_minutes, utc_offsets
from logdoctor.ingest.parse import LineParser, iter_lines, parse_bytes
from logdoctor.ingest.parse.line import zone_from_head
from tests.helpers.paths import ASSETS
from tests.test_parse import both

HDR = (
    "Nov 20 07:05:00 ucm-pub local7 {sev} : 301: ucm-pub.example.com: "
    "Nov 20 2026 12:05:00.120 UTC : "
)


def one(fmt, text: str) -> dict[str, object]:
    """The one record ``text`` parses to (both engines agree)."""
    frame, stats = both(fmt, text.encode())
    assert frame.height == 1 and stats.malformed == 0, (frame, stats)
    return frame.row(0, named=True)


# -- CiscoSyslog -------------------------------------------------------------------------------

SYSLOG_VARIANTS = [
    # Other service names, another parameter order (NodeID first), no ProcessID.
    (
        "%UC_GENERIC-6-ServiceStarted: %[NodeID=ucm-pub][AppID=Cisco Service Manager]"
        "[ServiceName=Cisco Tomcat][ClusterID=]: Service started.",
        "service.started",
        {"key": "ServiceStarted", "param": "Cisco Tomcat", "node": "ucm-pub", "level": "INFO"},
    ),
    # The catalog's full parameter set in its own order, spaces inside the brackets.
    (
        "%UC_GENERIC-6-ServiceStarted : %[ ProcessID=77 ][IPAddress=10.0.0.1][IPV6Address=]"
        "[Hostname=ucm-sub2][ ServiceName = Cisco XCP Authentication Service ][VersionInfo=15]"
        "[AppID=Cisco Service Manager][ClusterID=c1][ NodeID=ucm-sub2 ]: Service started.",
        "service.started",
        {"param": "Cisco XCP Authentication Service", "node": "ucm-sub2"},
    ),
    (
        "%UC_SERVICEMANAGER-5-ServiceDeactivated: %[ServiceName=Cisco SSOSP Tomcat]"
        "[AppID=Cisco Service Manager][ClusterID=][NodeID=ucm-pub]: Service Deactivated.",
        "service.stopped",
        {"key": "ServiceDeactivated", "param": "Cisco SSOSP Tomcat"},
    ),
    (
        "%UC_SERVICEMANAGER-2-ServiceRestartFailed: %[AppID=Cisco Service Manager]"
        "[Reason=Timed out][ServiceName=Cisco CallManager][ClusterID=][NodeID=ucm-sub1]: "
        "Failed to Restart service.",
        "service.failed",
        {"key": "ServiceRestartFailed", "reason": "Timed out", "node": "ucm-sub1"},
    ),
    (
        "%UC_SERVICEMANAGER-2-ServiceStopFailed: %[ServiceName=Cisco Tomcat][Reason=busy]"
        "[AppID=Cisco Service Manager][ClusterID=][NodeID=ucm-pub]: Failed to stop service.",
        "service.failed",
        {"key": "ServiceStopFailed", "param": "Cisco Tomcat", "level": "FATAL"},
    ),
    (
        "%UC_GENERIC-4-ServiceStartupFailed: %[ServiceName=Cisco UDS Tomcat]"
        "[AppID=Cisco Service Manager][ClusterID=][NodeID=ucm-pub]: Service startup failure.",
        "service.failed",
        {"key": "ServiceStartupFailed", "param": "Cisco UDS Tomcat"},
    ),
    (
        "%UC_SAMLSSO-3-SAMLSSODisableFailure: %[AppID=Cisco SSO][ErrorDetails=DB error]"
        "[ClusterID=][NodeID=ucm-pub]: SAML SSO disable operation failed.",
        "sso.disabled",
        {"key": "SAMLSSODisableFailure", "reason": "DB error", "level": "ERROR"},
    ),
    (
        "%UC_CERT-0-CertExpired: %[Message=Certificate tomcat has expired][AppID=Cisco "
        "Certificate Monitor][ClusterID=][NodeID=ucm-pub]: Certificate has Expired and needs to "
        "be changed at the earliest.",
        "cert.expiry",
        {"key": "CertExpired", "reason": "Certificate tomcat has expired", "level": "FATAL"},
    ),
    (
        "%UC_CERT-2-CertValidfor7days: %[Message=authz expires in 5 days][AppID=Cisco "
        "Certificate Monitor][ClusterID=][NodeID=ucm-pub]: Alarm to indicate that Certificate "
        "has Expired or Expires in less than seven days.",
        "cert.expiry",
        {"key": "CertValidfor7days"},
    ),
    (
        "%UC_IMS-4-authFail: %[Message=bad password][UserID=carol][AppID=Cisco Tomcat]"
        "[ClusterID=][NodeID=ucm-pub]: An attempt to authenticate this user with the given "
        "credentials failed..",
        "auth.failure",
        {"key": "authFail", "user": "carol", "reason": "bad password", "level": "WARN"},
    ),
    # Unity Connection, with no bracketed parameters at all.
    (
        "%CUC-4-EvtAuthzKeyRotation: Jabber login for user is failing due to improper Authz "
        "keys. Sync keys with the associated Authz Server.",
        "authz.keys.mismatch",
        {"key": "EvtAuthzKeyRotation", "node": "ucm-pub"},  # the header's host
    ),
    (
        "%UC_CALLMANAGER-2-DBChangeNotifyFailure: %[Reason=queue full][AppID=Cisco "
        "CallManager][ClusterID=][NodeID=ucm-sub1]: Database change notification failure.",
        "alarm",
        {"key": "DBChangeNotifyFailure", "reason": "queue full", "node": "ucm-sub1"},
    ),
    # The older form without brackets, its parameters in another order.
    (
        "%CCM_SERVICEMANAGER-SERVICEMANAGER-6-ServiceStopped: Service stopped. Node ID:ucm-sub1 "
        "Service Name:Cisco CallManager Process ID:4242 App ID:Cisco Service Manager",
        "service.stopped",
        {"key": "ServiceStopped", "param": "Cisco CallManager", "node": "ucm-sub1"},
    ),
    (
        "%CCM_SERVICEMANAGER-SERVICEMANAGER-2-ServiceStartFailed: Failed to start service. "
        "App ID:Cisco Service Manager Reason:HTTP 404 Error Service Name:Cisco RTMT Web Service",
        "service.failed",
        {"reason": "HTTP 404 Error", "param": "Cisco RTMT Web Service", "node": "ucm-pub"},
    ),
]


@pytest.mark.parametrize(
    ("alarm", "kind", "fields"), SYSLOG_VARIANTS, ids=[k for _, k, _ in SYSLOG_VARIANTS]
)
def test_syslog_alarms_in_any_order_subset_and_form(formats, alarm, kind, fields) -> None:
    sev = re.match(r"%(?:[A-Z_]+-){1,2}(\d)-", alarm).group(1)  # type: ignore[union-attr]
    row = one(formats["ciscosyslog"], HDR.format(sev=sev) + alarm)
    assert row["kind"] == kind
    for k, v in fields.items():
        assert row[k] == v, (k, row)
    assert row["time"] == datetime(2026, 11, 20, 12, 5, 0, 120000, tzinfo=UTC)


@pytest.mark.parametrize(
    "header",
    [
        # A cut local time (only its seconds left), no colon after the FQDN, no milliseconds.
        "00 ucm-pub local7 6 : 9: ucm-pub.example.com Nov 20 2026 12:05:00 UTC : ",
        # No local time at all (the CLI's console form), a two-digit fraction.
        "ucm-pub local7 6 : 9: ucm-pub.example.com: Nov 20 2026 12:05:00.12 UTC : ",
        # A one-digit day padded with a space, another facility.
        "Nov  2 07:05:00 ucm-pub local99 6 : 9: ucm-pub.example.com: "
        "Nov  2 2026 12:05:00.120 UTC :",
        # The UTC part alone, with a syslog priority (forwarded).
        "<190>Nov 20 2026 12:05:00.120 UTC : ",
    ],
)
def test_syslog_headers_with_missing_parts(formats, header) -> None:
    row = one(
        formats["ciscosyslog"],
        header + "%UC_GENERIC-6-ServiceStarted: %[ServiceName=Cisco Tomcat][NodeID=ucm-pub]: x",
    )
    assert (row["kind"], row["param"], row["node"]) == (
        "service.started",
        "Cisco Tomcat",
        "ucm-pub",
    )
    assert row["time"] is not None and row["time"].hour == 12 and row["time"].minute == 5


def test_syslog_time_is_the_utc_stamp_whatever_the_zone_given(formats) -> None:
    from logdoctor.timestamps import resolve_zone

    line = HDR.format(sev=6) + "%UC_GENERIC-6-ServiceStarted: %[ServiceName=A][NodeID=n]: x"
    frame, _ = both(formats["ciscosyslog"], line.encode(), zone=resolve_zone("Asia/Tokyo"))
    assert frame["time"][0] == datetime(2026, 11, 20, 12, 5, 0, 120000, tzinfo=UTC)


def test_a_record_split_at_its_second_clock_keeps_its_utc_part(formats) -> None:
    # As document 214607's page shows its first record: the first half is not dropped
    # silently (malformed at the start of a file, else part of the record before).
    text = (ASSETS / "verbatim" / "ciscosyslog-214607.log").read_text()
    frame, stats = both(formats["ciscosyslog"], text.encode())
    assert stats.malformed == 1 and stats.malformed_lines == [1]
    assert frame["key"].to_list()[0] == "ServiceStartFailed"
    before = "Jun 17 16:14:18 h local7 6 : 5: h.x: Jun 17 2019 14:14:18.000 UTC : %UC_X-6-A: %[]:\n"
    frame, stats = both(formats["ciscosyslog"], (before + text).encode())
    assert stats.malformed == 0 and "hcs862-hcm-f.XXXXXXXX.net:" in frame["message"][0]


def test_the_nodes_utc_offset_from_the_two_clocks(formats) -> None:
    text = (ASSETS / "verbatim" / "ciscosyslog-214607.log").read_text()
    _, stats = both(formats["ciscosyslog"], text.encode())
    lp = LineParser(formats["ciscosyslog"], file="f", node="n")
    for ln in iter_lines(text):
        lp.feed(ln)
    lp.flush()
    assert stats.utc_offsets == dict(lp.stats.utc_offsets) == {"+02:00": 3}
    assert stats.utc_offset == "+02:00" and stats.to_dict()["utc_offset"] == "+02:00"
    head = zone_from_head(formats["ciscosyslog"], text.splitlines())
    assert head.zone is not None and head.zone.offset == timedelta(hours=2)
    assert head.nodes == {"hcs862-hcm-f"}
    assert zone_from_head(formats["ssosp"], text.splitlines()).zone is None


def test_offsets_across_new_year_and_odd_zones() -> None:
    utc = datetime(2027, 1, 1, 3, 30, 0, 500000, tzinfo=UTC)
    assert offset_minutes("Dec 31 22:30:00", utc) == -300  # New York, the year before
    assert offset_minutes("Jan  1 09:00:01", utc) == 330  # India
    assert offset_minutes("Jan  1 09:15:00", utc) == 345  # Nepal
    assert offset_minutes("Jan  1 19:30:00", utc) is None  # 16 h: no zone is that far
    assert offset_minutes("Jan  1 05:40:00", utc) is None  # 2 h 10 min: not a quarter
    assert offset_minutes("Foo  1 05:30:00", utc) is None


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 12, 31)),
    st.integers(min_value=-14 * 4, max_value=14 * 4),
    st.integers(min_value=0, max_value=999_999),
)
def test_both_engines_read_the_same_offset(when: datetime, quarters: int, micro: int) -> None:
    utc = when.replace(microsecond=micro, tzinfo=UTC)
    local = (utc + timedelta(minutes=15 * quarters)).strftime("%b %e %H:%M:%S")
    assert offset_minutes(local, utc) == 15 * quarters
    series = pl.Series([utc], dtype=pl.Datetime("us", "UTC"))
    sign = "-" if quarters < 0 else "+"
    m = abs(quarters) * 15
    assert utc_offsets(pl.Series([local]), series) == {f"{sign}{m // 60:02d}:{m % 60:02d}": 1}


# -- Jabber ------------------------------------------------------------------------------------

JABBER_VARIANTS = [
    # macOS / iOS paths, another function of the same class.
    (
        "2026-11-20 09:00:00,001 WARN  [0x00007000] [/impl/system/SingleSignOn.cpp(1190)] "
        "[Single-Sign-On-Logger] [CSFUnified::SingleSignOn::Impl::handleRefreshTokenFailure] - "
        "Failed to get valid access token from refresh token.",
        "client.refresh.failed",
        {"param": "handleRefreshTokenFailure", "level": "WARN"},
    ),
    (
        "2026-11-20 09:00:02,000 INFO  [0x00001a2b] [ls\\src\\http\\BasicHttpClientImpl.cpp(675)] "
        "[csf.httpclient] [csf::http::performRequest] - *-----* HTTP response code 403 connect "
        "code 0 for request #9 to https://expe.example.com:8443/dXNlcg/authorize",
        "client.http",
        {"reason": "403", "server": "expe.example.com"},
    ),
    (
        "2026-11-20 09:00:03,000 ERROR [0x00001a2b] [impl\\ucm-config\\UdsProvider.cpp(996)] "
        "[csf.config] [csf::ucm90::UdsProvider::convertHomeUdsResult] - "
        "ucmConfigResult=[FAILED_TO_AUTHENTICATE_WITH_CALL_MANAGER]",
        "client.auth.failed",
        {"reason": "FAILED_TO_AUTHENTICATE_WITH_CALL_MANAGER"},
    ),
    (
        "2026-11-20 09:00:04,000 INFO  [0x00001a2b] [vices\\impl\\system\\SingleSignOn.cpp(800)] "
        "[Single-Sign-On-Logger] [CSFUnified::SingleSignOn::Impl::reAuthenticateCredentials] - "
        "Failed to call authorizeNext due to no suitable authorize url",
        "client.sso",
        {"param": "reAuthenticateCredentials"},
    ),
    # Time only (a source that cut the date): read, without a time.
    (
        "09:00:05,000 INFO  [0x00001a2b] [src\\LogController.cpp(10)] [LogController] [init] - "
        "***** Jabber launched, start logging *****",
        "client.trace",
        {"param": "init", "time": None},
    ),
]


@pytest.mark.parametrize(
    ("line", "kind", "fields"), JABBER_VARIANTS, ids=[k for _, k, _ in JABBER_VARIANTS]
)
def test_jabber_lines(formats, line, kind, fields) -> None:
    row = one(formats["jabber"], line)
    assert row["kind"] == kind and row["basis"] == "published"
    for k, v in fields.items():
        assert row[k] == v, (k, row)


# -- Expressway --------------------------------------------------------------------------------

EXPRESSWAY_VARIANTS = [
    # The keys in another order: Txn-id after Msg, TrackingID last.
    (
        '2026-11-20T09:00:00.000-05:00 expc1 traffic_server[7]: UTCTime="2026-11-20 '
        '14:00:00,000" Module="network.http.trafficserver" Level="INFO": Detail="Receive '
        'Request" Msg="POST http://vcs_control.example.com:8443/ZXhhbXBsZS5jb20/cucm-uds/users?'
        'name=bob HTTP/1.1" Src-ip="127.0.0.1" Txn-id="4711" TrackingID="abc"',
        "edge.request",
        {"key": "4711", "param": "POST", "value": "/ZXhhbXBsZS5jb20/cucm-uds/users"},
    ),
    (
        '2026-11-20T09:00:00.300-05:00 expc1 traffic_server[7]: UTCTime="2026-11-20 '
        '14:00:00,300" Module="network.http.trafficserver" Level="INFO": Detail="Receive '
        'Response" Msg="HTTP/1.1 401 Unauthorized" Txn-id="4711" Src-ip="10.0.0.10"',
        "edge.response",
        {"key": "4711", "reason": "401", "server": "10.0.0.10"},
    ),
    (
        '2026-11-20T09:01:00.000-05:00 expc1 alarm: Level="WARN" Event="Alarm Lowered" '
        'Detail="Token decryption failure" Id="40054" Severity="warning"',
        "edge.alarm",
        {"key": "40054", "value": "Lowered", "reason": "Token decryption failure"},
    ),
    (
        '2026-11-20T09:02:00.000-05:00 expe1 traffic_server[9]: Event="Request Denied" '
        'Username="dave" Method="GET" Reason="Not in allow list" '
        'Request="https://ucm-pub.example.com:8443/cucm-uds/user/dave"',
        "edge.access",
        {"key": "Denied", "user": "dave", "node": "expe1", "server": "ucm-pub.example.com"},
    ),
    (
        '2026-11-20T14:03:00Z expc1 tsh: Event="System Configuration Changed" User="admin" '
        'Detail="xconfiguration CollaborationEdge OauthSso: Off"',
        "edge.config.changed",
        {"user": "admin", "reason": "xconfiguration CollaborationEdge OauthSso: Off"},
    ),
]


@pytest.mark.parametrize(
    ("line", "kind", "fields"), EXPRESSWAY_VARIANTS, ids=[k for _, k, _ in EXPRESSWAY_VARIANTS]
)
def test_expressway_pairs_in_any_order(formats, line, kind, fields) -> None:
    row = one(formats["expressway"], line)
    assert row["kind"] == kind
    for k, v in fields.items():
        assert row[k] == v, (k, row)
    assert row["time"] is not None and row["time"].tzinfo is not None


# -- AuditApp ----------------------------------------------------------------------------------


def test_audit_events_in_either_parameter_form(formats) -> None:
    row = one(
        formats["auditapp"],
        "2026-11-20T12:00:00.000Z CCM_TOMCAT-GENERIC-3-AuditEventGenerated: Audit Event "
        "Generated Node ID:ucm-sub1 EventType:ServiceStatusUpdated UserID:admin "
        "ResourceAccessed: Cisco Tomcat Description: Cisco Tomcat Service status is restarted "
        "EventStatus:Successful",
    )
    assert (row["kind"], row["param"], row["user"], row["node"]) == (
        "audit.service",
        "Cisco Tomcat",
        "admin",
        "ucm-sub1",
    )
    assert row["reason"] == "Cisco Tomcat Service status is restarted"
    row = one(formats["auditapp"], "2026-11-20 12:00:00,000 INFO - EventType=UserLogging UserID=x")
    assert (row["kind"], row["key"], row["basis"]) == ("audit.event", "UserLogging", "documented")


# -- a collection as RTMT, a PRT and an Expressway diagnostic log lay it out --------------------

SSOSP_LOCAL = (
    "2019-06-17 16:20:00,000 DEBUG [http-bio-443-exec-1] filter.SSOAuthAgentFilter - "
    "servlet path :/showHome.do\n"
)


def _collection(root: Path) -> Path:
    v = ASSETS / "verbatim"
    b = root / "collection"
    pub = b / "hcs862-hcm-f"
    (pub / "syslog").mkdir(parents=True)
    (pub / "syslog" / "CiscoSyslog").write_bytes((v / "ciscosyslog-214607.log").read_bytes())
    (pub / "syslog" / "CiscoSyslog.1").write_bytes((v / "ciscosyslog-200410-cli.log").read_bytes())
    audit = pub / "audit" / "AuditApp"
    audit.mkdir(parents=True)
    (audit / "Audit00000001.log").write_bytes((v / "AuditApp-adminguide15.log").read_bytes())
    ssosp = pub / "tomcat" / "logs" / "ssosp" / "log4j"
    ssosp.mkdir(parents=True)
    (ssosp / "ssosp00001.log").write_text(SSOSP_LOCAL)
    # UCM 14+: the SSOSP container's logs, under another name.
    tc = b / "ucm-sub1" / "tomcat" / "logs" / "ssosp-tomcat" / "log4j"
    tc.mkdir(parents=True)
    (tc / "current").write_text(SSOSP_LOCAL)
    # A PRT: a zip with the client's logs.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("jabber.log", (v / "jabber-212794-215572.log").read_text())
        z.writestr("jabber.log.1", (v / "jabber-221845.log").read_text())
        z.writestr("csf-unified.log", (v / "jabber-223101-ios.log").read_text())
    (b / "PRT-alice-20240201.zip").write_bytes(buf.getvalue())
    # Expressway: diagnostic_log_<host>_<date>.tar.gz holding loggingsnapshot_<host>_<date>.txt.
    snap = b"".join(
        (v / n).read_bytes()
        for n in ("loggingsnapshot_vcsc_218018.txt", "loggingsnapshot_expc01_217230.txt")
    )
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w") as t:
        info = tarfile.TarInfo("loggingsnapshot_vcsc_2022-07-11_16 55 00.txt")
        info.size = len(snap)
        t.addfile(info, io.BytesIO(snap))
    (b / "diagnostic_log_vcsc_2022-07-11_16 55 00.tar.gz").write_bytes(
        gzip.compress(tbuf.getvalue(), mtime=0)
    )
    return b


def test_stats_on_a_collection_gives_every_file_its_family(runner, tmp_path: Path) -> None:
    b = _collection(tmp_path)
    res = runner.invoke(main, ["stats", "--format", "json", str(b)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    files = {Path(f["path"].split("!")[-1]).name: f for f in doc["files"]}
    assert doc["ignored"] == []
    families = {name: f["family"] for name, f in files.items()}
    assert families == {
        "CiscoSyslog": "ciscosyslog",
        "CiscoSyslog.1": "ciscosyslog",
        "Audit00000001.log": "auditapp",
        "ssosp00001.log": "ssosp",
        "current": "ssosp",
        "jabber.log": "jabber",
        "jabber.log.1": "jabber",
        "csf-unified.log": "jabber",
        "loggingsnapshot_vcsc_2022-07-11_16 55 00.txt": "expressway",
    }
    assert all(f["unrecognized"] == 0 for f in doc["files"])
    assert files["CiscoSyslog"]["kinds"] == {"service.failed": 2, "service.started": 2}
    assert files["CiscoSyslog.1"]["kinds"] == {"alarm": 2}
    assert files["Audit00000001.log"]["kinds"] == {"audit.service": 1}
    assert files["jabber.log"]["kinds"] == {"client.refresh.failed": 1, "client.trace": 1}
    assert files["jabber.log.1"]["kinds"] == {
        "client.auth.failed": 2,
        "client.http": 1,
        "client.trace": 1,
    }
    assert files["loggingsnapshot_vcsc_2022-07-11_16 55 00.txt"]["kinds"] == {
        "edge.access": 1,
        "edge.alarm": 1,
        "edge.request": 1,
        "edge.response": 1,
    }
    # The node's two clocks state its offset; its zone-less ssosp file is read in it.
    assert files["CiscoSyslog"]["utc_offset"] == "+02:00"
    ssosp = files["ssosp00001.log"]
    assert ssosp["zone_from"].endswith("CiscoSyslog")
    assert ssosp["first_time"] == "2019-06-17T14:20:00.000Z"
    assert "zone_from" not in files["current"]  # ucm-sub1 states no zone: UTC as before
    assert files["current"]["first_time"] == "2019-06-17T16:20:00.000Z"


def test_a_zone_a_node_states_outranks_tz_for_that_node_only(tmp_path: Path) -> None:
    b = _collection(tmp_path)
    r = logdoctor.load(b, tz="-05:00")
    st = {Path(s.path).name: s for s in r.stats}
    assert st["ssosp00001.log"].zone_from is not None
    assert st["ssosp00001.log"].first_time == datetime(2019, 6, 17, 14, 20, tzinfo=UTC)
    assert st["current"].first_time == datetime(2019, 6, 17, 21, 20, tzinfo=UTC)  # --tz
    # A loose CiscoSyslog of another node (it names hcs862-hcm-f) in a folder of files does
    # not give its zone to the folder's other files.
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "CiscoSyslog").write_bytes(
        (ASSETS / "verbatim" / "ciscosyslog-214607.log").read_bytes()
    )
    (loose / "ssosp00001.log").write_text(SSOSP_LOCAL)
    r = logdoctor.load(loose)
    st = {Path(s.path).name: s for s in r.stats}
    assert st["CiscoSyslog"].utc_offset == "+02:00" and st["ssosp00001.log"].zone_from is None
    assert st["ssosp00001.log"].first_time == datetime(2019, 6, 17, 16, 20, tzinfo=UTC)
    # One that names the folder's node does.
    named = tmp_path / "hcs862-hcm-f"
    loose.rename(named)
    r = logdoctor.load(named)
    st = {Path(s.path).name: s for s in r.stats}
    assert st["ssosp00001.log"].first_time == datetime(2019, 6, 17, 14, 20, tzinfo=UTC)
    r = logdoctor.load(b)
    rows = r.frame.filter(pl.col("family") == "ciscosyslog")
    # The node column is the node the alarm names (NodeID), for node identity to join.
    assert set(rows["node"].to_list()) == {"hcs862-hcm-f", "uc-ucm-01", "ipcbu-plat44"}
    edge = r.frame.filter(pl.col("family") == "expressway")
    assert set(edge["node"].to_list()) == {"vcsc", "expc01"}


def test_parse_engines_agree_on_the_collection(formats, tmp_path: Path) -> None:
    """Every published line of the new families, both engines, record by record."""
    for name, fam in (
        ("ciscosyslog-214607.log", "ciscosyslog"),
        ("ciscosyslog-200410-cli.log", "ciscosyslog"),
        ("jabber-221845.log", "jabber"),
        ("jabber-223101-ios.log", "jabber"),
        ("loggingsnapshot_exp-c_225746.txt", "expressway"),
        ("AuditApp-adminguide15.log", "auditapp"),
    ):
        data = (ASSETS / "verbatim" / name).read_bytes()
        frame, _ = parse_bytes(data, formats[fam], file=name, node="x")
        both(formats[fam], data)
        assert frame["kind"].null_count() == 0 and "unrecognized" not in frame["kind"].to_list()


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("ciscosyslog-214607.log", "ciscosyslog"),
        ("ciscosyslog-200410-cli.log", "ciscosyslog"),
        ("jabber-212794-215572.log", "jabber"),
        ("jabber-221845.log", "jabber"),
        ("jabber-223101-ios.log", "jabber"),
        ("loggingsnapshot_vcsc_218018.txt", "expressway"),
        ("loggingsnapshot_expc01_217230.txt", "expressway"),
        ("loggingsnapshot_exp-c_225746.txt", "expressway"),
        ("loggingsnapshot_rtp_211304.txt", "expressway"),
        ("AuditApp-adminguide15.log", "auditapp"),
    ],
)
def test_the_formats_samples_are_the_published_lines(formats, name, family) -> None:
    """A format's own samples hold every published line of its family, verbatim (so the
    loader's sample check runs on Cisco's lines, not on lookalikes)."""
    samples = [s.text for s in formats[family].samples]
    lines = (ASSETS / "verbatim" / name).read_text().splitlines()
    if name == "ciscosyslog-214607.log":
        lines = lines[1:]  # the first half of the record the page split: not a record
    for line in lines:
        assert any(line in s.split("\n") for s in samples), line
