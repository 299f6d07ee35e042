"""The simulated clients' jabber.log: every kind the simulator writes reads back with the fields
it wrote (round trip through parsers/jabber.toml), in the client's zone, under the PRT layout."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from logdoctor.ingest.load import load
from logdoctor.simulate.prt import PrtLog, write_prts

T = datetime(2026, 11, 16, 9, 30, 0, 250000, tzinfo=UTC).timestamp()


def _write(root: Path, zone: ZoneInfo | None = None) -> PrtLog:
    log = PrtLog("j_smith", "CSFJSMITH", since=T - 60, **({"zone": zone} if zone else {}))
    log.sign_in(T - 120)  # before the collection window: not written
    log.sign_in(T)
    log.token(T + 1, "authorization_code", 3600)
    log.refresh_failed(T + 2)
    log.refused(T + 3, "ucm-pub", "cucm-uds/user/j_smith", uds=True)
    log.refused(T + 4, "imp1", "presence", uds=False)
    write_prts(root, [log, PrtLog("nobody", "CSFNOBODY", since=T)])  # no lines: no file
    return log


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_every_kind_written_reads_back_with_its_fields(tmp_path: Path) -> None:
    log = _write(tmp_path)
    assert log.path == "jabber-prt/j_smith/CSFJSMITH/jabber.log"
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.log")] == [log.path]
    frame = load([str(tmp_path)]).frame.sort("line")
    assert frame["family"].unique().to_list() == ["jabber"]
    assert (frame["user"] == "j_smith").all() and (frame["device"] == "CSFJSMITH").all()
    assert (frame["node"] == "CSFJSMITH").all()  # the client, not a server node
    got = [
        (r["kind"], r["level"], r["param"], r["grant"], r["value"], r["reason"], r["server"])
        for r in frame.iter_rows(named=True)
    ]
    assert got == [
        ("client.sso", "DEBUG", "authorizeNext", None, None, None, None),
        ("client.sso", "INFO", "onAccessTokenReceived", "authorization_code", "3600", None, None),
        (
            "client.refresh.failed",
            "WARN",
            "handleRefreshTokenFailure",
            None,
            None,
            "Failed to get valid access token from refresh token, maybe server issue.",
            None,
        ),
        ("client.http", "INFO", "performRequest", None, None, "401", "ucm-pub"),
        (
            "client.auth.failed",
            "ERROR",
            "convertHomeUdsResult",
            None,
            None,
            "HOME_UDS_AUTHENTICATION_FAILED",
            None,
        ),
        ("client.http", "INFO", "performRequest", None, None, "401", "imp1"),
    ]
    # the modelled wording is marked so; the rest are published forms
    basis = dict(zip(frame["param"].to_list(), frame["basis"].to_list(), strict=True))
    assert basis["onAccessTokenReceived"] == "modelled"
    assert {basis[p] for p in ("authorizeNext", "handleRefreshTokenFailure", "performRequest")} == {
        "published"
    }
    times = frame["time"].to_list()
    assert times[0] == _utc(T) and times[-1] == _utc(T + 4)


def test_the_client_writes_its_own_local_time(tmp_path: Path) -> None:
    _write(tmp_path, ZoneInfo("America/New_York"))
    text = next(tmp_path.rglob("jabber.log")).read_text(encoding="utf-8")
    assert text.startswith("2026-11-16 04:30:00,250 DEBUG ")  # 09:30 UTC, EST wall clock
    read = load([str(tmp_path)], tz="America/New_York").frame
    assert read.filter(pl.col("kind") == "client.refresh.failed")["time"][0] == _utc(T + 2)
