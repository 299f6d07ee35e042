"""One timeline per user across client (Jabber PRT), edge (Expressway) and server (UCM).

The edge lines are written in the published loggingsnapshot forms of parsers/expressway.toml's
samples (``Receive Request`` / ``Receive Response`` with a Txn-id, an alarm line): that family
has no templates on main yet, so they are formatted here, field for field as its samples.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
from cases import DAY

from logdoctor.analysis.events import Events
from logdoctor.analysis.lineage import enrich, lineage
from logdoctor.analysis.usertimeline import user_timeline, with_edge_users
from logdoctor.ingest.load import load
from tests.helpers.traffic import Client, Sim

EDGE = "expc1/loggingsnapshot_expc1_20261116.txt"


def _stamp(t: datetime) -> tuple[str, str]:
    return (
        t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+00:00",
        t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}",
    )


def _request(t: datetime, txn: int, path: str, tracking: str = "") -> str:
    iso, utc = _stamp(t)
    return (
        f'{iso} expc1 traffic_server[2101]: UTCTime="{utc}" Module="network.http.trafficserver"'
        f' Level="INFO": Detail="Receive Request" Txn-id="{txn}" TrackingID="{tracking}"'
        f' Src-ip="127.0.0.1" Src-port="40000" Msg="GET http://vcs_control.example.com:8443'
        f'/ZXhhbXBsZS5jb20/https/ucm-pub/8443{path} HTTP/1.1"'
    )


def _response(t: datetime, txn: int, status: int, tracking: str = "") -> str:
    iso, utc = _stamp(t)
    return (
        f'{iso} expc1 traffic_server[2101]: UTCTime="{utc}" Module="network.http.trafficserver"'
        f' Level="INFO": Detail="Receive Response" Txn-id="{txn}" TrackingID="{tracking}"'
        f' Src-ip="10.0.0.10" Src-port="8443" Msg="HTTP/1.1 {status} "'
    )


def _alarm(t: datetime, uuid: str) -> str:
    iso, utc = _stamp(t)
    return (
        f'{iso} expc1 alarm: Level="WARN" Event="Alarm Raised" Id="40054" UUID="{uuid}"'
        ' Severity="warning" Detail="Token decryption failure: The Expressway-C failed to'
        f' decrypt or decode an OAuth token issued by Unified CM." UTCTime="{utc}"'
    )


def _bundle(root: Path) -> tuple[Path, datetime]:
    s = Sim(seed=77)
    s.boot(DAY.replace(hour=6))
    dave = Client("dave", "CSFDAVE", via="expc1")
    erin = Client("erin", "TCTERIN", agent="Jabber/14.1.0 (iPhone; push=on)", via="expc1")
    t_dave = s.login(dave, DAY.replace(hour=9))  # its lines name via=expc1
    s.login(erin, DAY.replace(hour=11))
    # Client side: dave's PRT.
    s.bundle.jabber("dave", "CSFDAVE", DAY.replace(hour=9, minute=30), "client.refresh.failed")
    # Edge side: dave's request (names him) and its response (Txn-id only), erin's pair,
    # a response that only its TrackingID joins to dave's request, and an alarm without a
    # user a second after dave's sign-in (the time join) and one at noon (nobody's).
    t = DAY.replace(hour=9, minute=30, second=5)
    for line, when in (
        (_request(t, 501, "/cucm-uds/user/dave/devices", "aaaa-1111"), t),
        (_response(t + timedelta(milliseconds=40), 501, 401), t + timedelta(milliseconds=40)),
        (_request(t + timedelta(hours=2), 502, "/cucm-uds/user/erin/devices"), t),
        (_response(t + timedelta(hours=2, seconds=1), 502, 200), t),
        (_response(t + timedelta(seconds=9), 612, 401, "aaaa-1111"), t),
        (_alarm(t_dave + timedelta(seconds=1), "0f96695e-d954-4f6f-85c1-2ef1eae6f764"), t),
        (_alarm(DAY.replace(hour=12), "1f96695e-d954-4f6f-85c1-2ef1eae6f764"), t),
        # a request that names no user, only dave's device (his configuration file)
        (_request(DAY.replace(hour=13), 733, "/CSFDAVE.cnf.xml"), t),
    ):
        s.bundle.raw("expc1", EDGE.split("/", 1)[1], when, line)
    s.bundle.write(root)
    return root, t_dave


def _enriched(root: Path) -> pl.DataFrame:
    ev = Events(load([str(root)]).frame)
    return enrich(ev, lineage(ev))


def test_the_timeline_joins_client_edge_and_server(tmp_path: Path) -> None:
    root, t_dave = _bundle(tmp_path / "b")
    tl = user_timeline(_enriched(root), "DAVE")
    assert tl.columns[0] == "side"
    assert set(tl["side"].to_list()) == {"client", "edge", "server"}
    client = tl.filter(pl.col("side") == "client")
    assert client["kind"].to_list() == ["client.refresh.failed"]
    edge = tl.filter(pl.col("side") == "edge")
    # the request naming dave, its response by Txn-id, the response by TrackingID, the alarm
    # a second after his sign-in, the request naming his device; not erin's pair, not the
    # noon alarm
    assert sorted(edge["kind"].to_list()) == [
        "edge.alarm",
        "edge.request",
        "edge.request",
        "edge.response",
        "edge.response",
    ]
    assert any(str(v).endswith("/CSFDAVE.cnf.xml") for v in edge["value"].to_list())
    assert set(edge.filter(pl.col("kind") == "edge.response")["reason"].to_list()) == {"401"}
    alarm = edge.filter(pl.col("kind") == "edge.alarm")
    assert abs((alarm["time"][0].replace(tzinfo=None) - t_dave).total_seconds() - 1) < 0.01
    server = tl.filter(pl.col("side") == "server")
    assert server.height and set(server["user"].to_list()) == {"dave"}
    assert tl["time"].is_sorted()
    erin = user_timeline(_enriched(root), "erin")
    erin_edge = erin.filter(pl.col("side") == "edge")
    assert erin_edge["kind"].to_list() == ["edge.request", "edge.response"]
    assert erin_edge["reason"].to_list() == [None, "200"]


def test_edge_rows_are_given_no_user_when_two_users_are_as_close(tmp_path: Path) -> None:
    root, _ = _bundle(tmp_path / "b")
    frame = _enriched(root)
    # erin signs in through expc1 within the window of the first alarm too: no guess
    t = frame.filter(pl.col("kind") == "edge.alarm")["time"].min()
    crowd = frame.filter(pl.col("user") == "erin").head(1).with_columns(pl.lit(t).alias("time"))
    crowd = crowd.with_columns(pl.lit("expc1").alias("server"), pl.lit("x").alias("file"))
    both = with_edge_users(pl.concat([frame, crowd], how="vertical"))
    alarms = both.filter(pl.col("kind") == "edge.alarm")
    assert alarms["user"].null_count() == 2
    assert both.height == frame.height + 1


def test_timeline_command_shows_the_side_column(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from logdoctor.cli import main

    root, _ = _bundle(tmp_path / "b")
    out = CliRunner().invoke(main, ["timeline", str(root), "--user", "dave", "--format", "tsv"])
    assert out.exit_code == 0, out.output
    lines = [line.split("\t") for line in out.output.splitlines() if "\t" in line]
    assert lines[0][0] == "side"
    assert {row[0] for row in lines[1:]} == {"client", "edge", "server"}
    text = CliRunner().invoke(main, ["timeline", str(root), "--user", "dave", "--color", "never"])
    assert text.exit_code == 0, text.output
    header = next(line for line in text.output.splitlines() if line.startswith("time"))
    assert header.split()[:3] == ["time", "side", "node"]
