"""Reading what UCM 14/15 and nodes outside UTC write: the ssosp-tomcat folder (plain and
gzipped), and the parsed-file cache keyed by the zone a node's own CiscoSyslog states."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from logdoctor.ingest.load import open_inputs
from logdoctor.tokenservice.logwriter import LogWriter
from logdoctor.ucm.versions import profile

T0 = datetime(2026, 11, 20, 13, 0, tzinfo=UTC).timestamp()
MSG = "Purged expired refresh tokens: count=3"


def _write(root: Path, version: str, zone: str) -> Path:
    """One ssosp line and one CiscoSyslog alarm of ucm-pub at T0; its ssosp file."""
    w = LogWriter(root)
    w.configure(profile(version), {"ucm-pub": zone})
    w.ssosp("ucm-pub", T0, "INFO", "Timer-3", "oauth.RefreshTokenCleaner", MSG)
    w.syslog("ucm-pub", T0, 0.0, 6, syslog_line_message())
    path = w.ssosp_path("ucm-pub")
    w.close()
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_the_ssosp_tomcat_folder_is_read_plain_or_gzipped(tmp_path: Path, gz: bool) -> None:
    path = _write(tmp_path, "15", "Europe/Berlin")
    assert path.parent == tmp_path / "ucm-pub/tomcat/logs/ssosp-tomcat/log4j"
    if gz:
        data = path.read_bytes()
        path.unlink()
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    result = open_inputs([tmp_path]).result()
    [st] = [s for s in result.stats if "ssosp-tomcat" in s.path]
    assert st.family == "ssosp" and st.node == "ucm-pub" and st.unrecognized == 0
    row = result.frame.filter(result.frame["family"] == "ssosp").to_dicts()[0]
    assert row["kind"] == "token.purged"
    assert row["logger"] == "cpi.sso.oauth.RefreshTokenCleaner"
    assert row["time"] == datetime.fromtimestamp(T0, UTC)


def test_the_cache_follows_the_zone_a_node_states(tmp_path: Path, cached: Path) -> None:
    """The ssosp file stays byte for byte the same while the node's CiscoSyslog states
    another zone: a cache miss, and the times move with the zone."""
    root = tmp_path / "b"
    ssosp = _write(root, "12.5", "Europe/Berlin")
    first = open_inputs([root], cache=True).result()
    again = open_inputs([root], cache=True)
    assert again.result().frame.equals(first.frame) and again.cache is not None
    assert again.cache.counts.hits == 2
    kept = ssosp.read_bytes()
    syslog = root / "ucm-pub/syslog/CiscoSyslog"
    syslog.unlink()
    w = LogWriter(root)
    w.configure(profile("12.5"), {"ucm-pub": "America/New_York"})
    w.syslog("ucm-pub", T0, 0.0, 6, syslog_line_message())
    w.close()
    assert ssosp.read_bytes() == kept
    moved = open_inputs([root], cache=True)
    result = moved.result()
    assert moved.cache is not None and moved.cache.counts.hits == 0
    times = result.frame.filter(result.frame["family"] == "ssosp")["time"].to_list()
    # 14:00 in Berlin read as New York: six hours later than the true time
    assert times == [datetime.fromtimestamp(T0 + 6 * 3600, UTC)]


def syslog_line_message() -> str:
    return (
        "%UC_GENERIC-6-ServiceStarted: %[ServiceName=Cisco Tomcat][ProcessID=1]"
        "[AppID=Cisco Service Manager][ClusterID=][NodeID=ucm-pub]: Service started."
    )
