"""The report's per-user drill-down shows the three sides of a user's sign-ins in real headless
Chromium: the client (the user's Jabber PRT), the edge (Expressway, joined to the user by
Txn-id) and the server (UCM's ssosp).

The Expressway lines are written in the published loggingsnapshot form of
parsers/expressway.toml's samples (the family has no templates on main yet).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import logdoctor
from logdoctor.ingest.formats.encoders import family
from logdoctor.outputs.html import write_html
from logdoctor.report import Diagnosis, build_report
from tests.helpers.report import CLIENT_A, T0, Ssosp, ssosp_path
from tests.report.test_report_model import findings

pytestmark = pytest.mark.slow

JABBER = family("jabber")


def _utc(t: datetime) -> tuple[str, str]:
    ms = f"{t.microsecond // 1000:03d}"
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + ms + "+00:00", t.strftime("%Y-%m-%d %H:%M:%S,") + ms


def _edge(t: datetime, detail: str, txn: int, msg: str) -> str:
    iso, utc = _utc(t)
    return (
        f'{iso} expc1 traffic_server[2101]: UTCTime="{utc}" Module="network.http.trafficserver"'
        f' Level="INFO": Detail="{detail}" Txn-id="{txn}" TrackingID="" Src-ip="127.0.0.1"'
        f' Src-port="40000" Msg="{msg}"'
    )


def sides_bundle(root: Path) -> Path:
    """dave over MRA: UCM refreshes his token via expc1, the Expressway relays a UDS request
    for him (request names him, the response only its Txn-id), and his Jabber logs a refused
    refresh a little later."""
    pub = Ssosp()
    pub.login(T0, "dave")
    pub.refresh_issued(T0 + timedelta(seconds=1), "dave", CLIENT_A, "tid-dave-1")
    pub.refreshed(T0 + timedelta(minutes=45), "dave", CLIENT_A, "tid-dave-1")
    pub.refresh_refused(T0 + timedelta(minutes=90), "dave", CLIENT_A, "tid-dave-1", "expired")
    pub.write(ssosp_path(root, "ucm-pub"))
    t = T0 + timedelta(minutes=46)
    edge = root / "expc1" / "loggingsnapshot_expc1_20261120.txt"
    edge.parent.mkdir(parents=True, exist_ok=True)
    request = (
        "GET http://vcs_control.example.com:8443/ZXhhbXBsZS5jb20/https/ucm-pub/8443"
        "/cucm-uds/user/dave/devices HTTP/1.1"
    )
    edge.write_text(
        _edge(t, "Receive Request", 301, request)
        + "\n"
        + _edge(t + timedelta(milliseconds=30), "Receive Response", 301, "HTTP/1.1 200 ")
        + "\n",
        encoding="utf-8",
    )
    prt = root / "jabber-prt" / "dave" / "CSFDAVE" / "jabber.log"
    prt.parent.mkdir(parents=True, exist_ok=True)
    header = {
        "ts": T0 + timedelta(minutes=90, seconds=1),
        "level": "WARN",
        "thread": "0x0000264c",
        "source": "vices\\impl\\system\\SingleSignOn.cpp(1186)",
        "logger": "Single-Sign-On-Logger",
    }
    prt.write_text(JABBER.render("client.refresh.failed", header) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("sides")
    res = logdoctor.load(sides_bundle(tmp / "bundle"))
    model = build_report(
        res.frame, res.stats, Diagnosis(findings=findings(res), rules_ran=True), inputs=["bundle"]
    )
    out = tmp / "report.html"
    write_html(model, out)
    return out


def test_drill_down_shows_client_edge_and_server(open_report: Any, sides: Path) -> None:
    o = open_report(sides)
    page = o.page
    dave = page.locator("tr.user-row", has=page.locator("td.name", has_text="dave"))
    dave.locator("button.drill").click()
    drill = page.locator("tr.drill-row")
    assert drill.count() == 1
    events = drill.locator("table").first
    heads = events.locator("thead th").all_inner_texts()
    assert heads[:3] == ["Time", "Side", "Node"]
    rows = events.locator("tbody tr")
    by_side: dict[str, list[str]] = {}
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td").all_inner_texts()
        by_side.setdefault(cells[1], []).append(cells[3])
    assert set(by_side) == {"client", "edge", "server"}
    assert by_side["client"] == ["client.refresh.failed"]
    # the request names dave; the response is his through its Txn-id
    assert sorted(by_side["edge"]) == ["edge.request", "edge.response"]
    assert "token.refreshed" in by_side["server"]
    o.assert_clean()
