"""The client's side of a failure: a PRT's lines join the findings about its user, and never
change a verdict; without the servers' logs LD404 speaks for the client alone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
from cases import DAY, _revoke

from logdoctor.analysis.clientside import (
    client_failures,
    uncovered_client_failures,
    with_client_side,
)
from logdoctor.ingest.load import load
from logdoctor.model import Finding
from logdoctor.rules import Context, run


def _findings(folder: Path) -> dict[str, Finding]:
    result = load([str(p) for p in folder.iterdir()])
    return {
        f"{f.rule}:{','.join(f.subjects)}": f
        for f in run(Context(result.frame, result.stats), evidence_cap=None)
    }


def _ld301_bundle(root: Path, *, prt: bool) -> Path:
    s = _revoke(301, True)
    if prt:
        # carol's Jabber: each refused refresh (10:15, 10:25, 10:35, 10:45), a few seconds later.
        for k in range(4):
            t = DAY.replace(hour=10, minute=15 + 10 * k, second=1)
            s.bundle.jabber("carol", "CSFCAROL", t, "client.refresh.failed")
        # another user's failure at the same time: not carol's side
        s.bundle.jabber("dave", "CSFDAVE", DAY.replace(hour=10, minute=15), "client.refresh.failed")
        # carol's failure of the day before: outside the finding's time
        s.bundle.jabber(
            "carol", "CSFCAROL", DAY - timedelta(days=1, hours=-10), "client.refresh.failed"
        )
    s.bundle.write(root)
    return root


def test_findings_about_a_user_carry_the_client_lines_and_keep_their_verdict(
    tmp_path: Path,
) -> None:
    without = _findings(_ld301_bundle(tmp_path / "servers", prt=False))
    with_prt = _findings(_ld301_bundle(tmp_path / "with-prt", prt=True))
    assert set(with_prt) == set(without)  # the same rules about the same subjects
    f, g = with_prt["LD301:carol"], without["LD301:carol"]
    client = [e for e in f.evidence if e.kind == "client.refresh.failed"]
    assert len(client) == 4  # carol's four, not dave's, not the day before's
    assert {e.node for e in client} == {"CSFCAROL"}
    assert all(e.basis == "published" for e in client)
    assert f.evidence_total == g.evidence_total + 4
    assert f.basis == g.basis and f.severity == g.severity


def test_client_lines_join_by_device_when_the_server_rows_name_no_user(tmp_path: Path) -> None:
    folder = _ld301_bundle(tmp_path / "b", prt=True)
    frame = load([str(p) for p in folder.iterdir()]).frame
    client = client_failures(frame)
    assert client.height == 6
    rows = frame.filter(
        (pl.col("kind") == "token.rejected") & (pl.col("device") == "CSFCAROL")
    ).with_columns(pl.lit(None, dtype=pl.String).alias("user"))
    joined = with_client_side(frame, rows)
    added = joined.filter(pl.col("family") == "jabber")
    assert added.height == 4 and set(added["device"].to_list()) == {"CSFCAROL"}
    # no client line of that device in the rows' time: the rows come back as they were
    early = rows.with_columns(pl.col("time") - timedelta(hours=5))
    assert with_client_side(frame, early).height == early.height


def test_uncovered_failures_are_those_outside_every_server_file(tmp_path: Path) -> None:
    folder = _ld301_bundle(tmp_path / "b", prt=True)
    result = load([str(p) for p in folder.iterdir()])
    # the server logs cover DAY 06:00 onwards; the failure of the day before is not covered
    out = uncovered_client_failures(result.frame, result.stats)
    assert out.height == 1 and out["time"][0].day == (DAY - timedelta(days=1)).day
    # without the server files' statistics nothing is covered
    assert uncovered_client_failures(result.frame, []).height == 6
