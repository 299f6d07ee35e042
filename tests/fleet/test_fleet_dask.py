"""The fleet on a real Dask cluster: a ``distributed.LocalCluster`` of two worker processes
(one per module), ten bundles, and ``check`` on each bundle alone as the reference."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from distributed import Client, LocalCluster

from logdoctor.baseline import finding_fingerprint
from logdoctor.cli import main
from logdoctor.fleet import BundleResult, FleetOutput, FleetResult, Options, find_bundles
from logdoctor.fleet.dask_runner import Connection, connect, run_dask
from logdoctor.model import Severity
from logdoctor.outputs.findings import findings_document
from logdoctor.verdict import CheckReport
from tests.helpers.fleet import (
    TEN,
    Case,
    browse,
    corrupt_zip,
    expected,
    log_bytes,
    write_bundle,
    write_fleet,
    write_simulated,
)

pytestmark = pytest.mark.slow

SPLIT = 30_000
"""Bundles (folders, zips) with more log bytes than this are parsed in parts."""


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # loopback, any free port
    ) as c:
        yield c


@pytest.fixture(scope="module")
def conn(cluster: LocalCluster) -> Iterator[Connection]:
    client = Client(cluster)
    try:
        yield Connection(client, "the test cluster", 0.0)
    finally:
        client.close()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    return write_fleet(tmp_path_factory.mktemp("fleet"))


@pytest.fixture(scope="module")
def references(fleet: tuple[list[str], Path]) -> list[CheckReport]:
    """``check`` on each of the ten bundles alone (with its deployment file, if any)."""
    paths, configs = fleet
    return [expected(p, configs) for p in paths]


class Recorder:
    """An observer that keeps what it is told, in order."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []

    def begin(self, total: int, where: str) -> None:
        self.log.append(("begin", f"{total} {where}"))

    def running(self, cluster: str) -> None:
        self.log.append(("running", cluster))

    def done(self, result: BundleResult) -> None:
        self.log.append(("done", result.cluster))


@pytest.fixture(scope="module")
def run(
    conn: Connection, fleet: tuple[list[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[FleetResult, Path, Recorder]:
    paths, configs = fleet
    out = tmp_path_factory.mktemp("out")
    output = FleetOutput(out, "parquet")
    recorder = Recorder()
    result = run_dask(
        find_bundles(paths, configs),
        Options(split_bytes=SPLIT, part_bytes=SPLIT // 3, report="json"),
        conn,
        observer=recorder,
        on_result=output.document,
    )
    output.finish(result)
    return result, out, recorder


def utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def reference_rows(references: list[CheckReport]) -> list[tuple[Any, ...]]:
    rows = []
    for report, case in zip(references, TEN, strict=True):
        for f in report.findings:
            rows.append(
                (
                    case.cluster,
                    f.rule,
                    str(f.severity),
                    list(f.subjects),
                    utc(f.first_seen),
                    utc(f.last_seen),
                    f.evidence_total,
                    finding_fingerprint(f),
                )
            )
    return rows


def test_fleet_table_equals_check_on_each_bundle_alone(
    run: tuple[FleetResult, Path, Recorder], references: list[CheckReport]
) -> None:
    result, out, _ = run
    assert [b.status for b in result.bundles] == ["ok"] * len(TEN)
    table = pl.read_parquet(out / "findings.parquet")
    got = [
        (
            r["cluster"],
            r["rule"],
            r["severity"],
            r["subjects"],
            utc(r["first_seen"]),
            utc(r["last_seen"]),
            r["evidence_total"],
            r["fingerprint"],
        )
        for r in table.iter_rows(named=True)
    ]
    want = reference_rows(references)
    assert len(want) >= 15  # the cases do find things: the comparison is not of two empties
    assert got == want


def test_each_cluster_report_is_the_check_document_of_its_bundle(
    run: tuple[FleetResult, Path, Recorder], references: list[CheckReport]
) -> None:
    result, out, _ = run
    for ref, b in zip(references, result.bundles, strict=True):
        assert b.report == f"clusters/{b.cluster}.json"
        doc = json.loads((out / b.report).read_text(encoding="utf-8"))
        reference = json.loads(json.dumps(findings_document(ref)))
        assert doc == reference, b.cluster


def test_config_dir_gives_each_cluster_its_deployment_file(
    run: tuple[FleetResult, Path, Recorder],
    fleet: tuple[list[str], Path],
    references: list[CheckReport],
) -> None:
    result, _, _ = run
    paths, configs = fleet
    by = {b.cluster: b for b in result.bundles}
    north = by["north-ld104"]
    assert north.config == str(configs / "north-ld104.toml")
    assert north.findings == references[2].findings
    # Without its deployment file this bundle has no finding: the file was used.
    assert expected(paths[2]).findings == ()
    assert "LD104" in {f.rule for f in north.findings}
    assert by["east-ld101"].config is None


def test_big_bundles_are_parsed_in_parts_across_both_workers(
    run: tuple[FleetResult, Path, Recorder], fleet: tuple[list[str], Path], conn: Connection
) -> None:
    result, _, _ = run
    paths, _ = fleet
    for path, case, b in zip(paths, TEN, result.bundles, strict=True):
        splittable = case.form in ("dir", "zip")
        should_split = splittable and log_bytes(path) > SPLIT
        assert (b.parts > 1) == should_split, (b.cluster, b.parts, log_bytes(path))
    split = [b for b in result.bundles if b.parts > 1]
    assert len(split) >= 3
    used = {w for b in split for w in b.workers}
    assert used == set(conn.client.nthreads())


def test_progress_observer_sees_every_bundle_start_and_finish(
    run: tuple[FleetResult, Path, Recorder],
) -> None:
    _, _, recorder = run
    assert recorder.log[0] == ("begin", f"{len(TEN)} the test cluster")
    done = [c for kind, c in recorder.log if kind == "done"]
    assert sorted(done) == sorted(c.cluster for c in TEN)
    running = [c for kind, c in recorder.log if kind == "running"]
    assert running, "no worker announced a bundle"
    for i, (kind, c) in enumerate(recorder.log):
        if kind == "running":
            assert ("done", c) not in recorder.log[:i], f"{c} reported running after done"


def test_workers_report_their_peak_memory(run: tuple[FleetResult, Path, Recorder]) -> None:
    result, out, _ = run
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(summary["workers"]) == 2
    for w in summary["workers"]:
        assert w["address"].startswith("tcp://127.0.0.1:")
        assert w["peak_rss_bytes"] > 50 << 20  # a worker with polars loaded
        assert w["bundles"] >= 1
    assert sum(w.bundles for w in result.workers) >= len(TEN)


def test_ten_simulated_clusters_give_what_check_gives_on_each(
    conn: Connection, tmp_path: Path
) -> None:
    paths, configs = write_simulated(tmp_path)
    out = tmp_path / "out"
    output = FleetOutput(out, "parquet")
    result = run_dask(
        find_bundles(paths, configs),
        # Samples are not gzipped: 510-930 kB of logs each with their clients' PRTs; a few
        # of the 10 under 580 kB.
        Options(split_bytes=580_000, part_bytes=200_000),
        conn,
        on_result=output.document,
    )
    output.finish(result)
    assert [b.status for b in result.bundles] == ["ok"] * len(paths)
    parts = [b.parts for b in result.bundles]
    assert sum(p > 1 for p in parts) >= 3 and sum(p == 1 for p in parts) >= 3, parts
    refs = [expected(p, configs) for p in paths]
    want = [
        (
            Path(path).name.removesuffix(".zip"),
            f.rule,
            str(f.severity),
            list(f.subjects),
            utc(f.first_seen),
            utc(f.last_seen),
            f.evidence_total,
            finding_fingerprint(f),
        )
        for path, ref in zip(paths, refs, strict=True)
        for f in ref.findings
    ]
    table = pl.read_parquet(out / "findings.parquet")
    got = [
        (
            r["cluster"],
            r["rule"],
            r["severity"],
            r["subjects"],
            utc(r["first_seen"]),
            utc(r["last_seen"]),
            r["evidence_total"],
            r["fingerprint"],
        )
        for r in table.iter_rows(named=True)
    ]
    assert len(want) >= 20
    assert got == want
    for b, ref in zip(result.bundles, refs, strict=True):
        assert b.findings == ref.findings
        assert (b.events, b.files) == (ref.events, ref.files)
        assert b.report == f"clusters/{b.cluster}.html"


def test_failed_bundles_are_reported_and_the_others_finish(
    conn: Connection, tmp_path: Path
) -> None:
    good = (TEN[0], TEN[1], TEN[6])
    paths, configs = write_fleet(tmp_path, good)
    broken = corrupt_zip(tmp_path / "bundles")
    missing = tmp_path / "bundles" / "gone-cluster"
    empty = tmp_path / "bundles" / "empty-cluster"
    empty.mkdir()
    badconf = write_bundle(Case("badconf", "LD302/bad", "dir"), tmp_path / "bundles")
    (configs / "badconf.toml").write_text("[[cluster]]\nname = 3\n", encoding="utf-8")
    partial = write_bundle(Case("partial", "LD101/bad", "dir"), tmp_path / "bundles")
    junk = partial / "ucm-pub" / "platform" / "log" / "ssoApp.log"
    junk.parent.mkdir(parents=True, exist_ok=True)
    junk.write_bytes(b"\x00\x01\x02 binary" * 100)
    order = [paths[0], str(broken), paths[1], str(missing), str(empty), str(badconf)]
    order += [paths[2], str(partial)]
    result = run_dask(find_bundles(order, configs), Options(), conn)
    by = {b.cluster: b for b in result.bundles}
    assert [b.cluster for b in result.bundles] == [
        "east-ld101",
        "broken-zip",
        "west-ld102",
        "gone-cluster",
        "empty-cluster",
        "badconf",
        "lab-ld302",
        "partial",
    ]
    assert by["broken-zip"].status == "failed"
    assert str(broken) in (by["broken-zip"].error or "")
    assert "zip" in (by["broken-zip"].error or "")
    assert by["gone-cluster"].status == "failed"
    assert by["gone-cluster"].error == f"{missing}: no such file or folder"
    assert by["empty-cluster"].status == "failed"
    assert "no log file found" in (by["empty-cluster"].error or "")
    assert by["badconf"].status == "failed"
    assert "badconf.toml" in (by["badconf"].error or "")
    assert "cluster[0].name" in (by["badconf"].error or "")
    # A bundle with one unreadable file: checked from the rest, and marked partial.
    assert by["partial"].status == "partial"
    assert str(junk) in (by["partial"].error or "")
    ref = expected(str(partial))
    assert ref.errors and by["partial"].findings == ref.findings
    assert by["partial"].input_errors == ref.errors
    for path, case in zip(paths, good, strict=True):
        b = by[case.cluster]
        assert b.status == "ok"
        assert b.findings == expected(path, configs).findings
    assert result.exit_code == 2


def _exit_code(reports: list[Any], fail_on: str) -> int:
    if fail_on == "never":
        return 0
    rank = Severity(fail_on).rank
    return int(any(Severity(f.severity).rank >= rank for r in reports for f in r.findings))


@pytest.mark.parametrize(
    ("cases", "fail_on"),
    [
        ((TEN[6], TEN[1]), "error"),  # info + warning
        ((TEN[6], TEN[1]), "warning"),
        ((TEN[6],), "warning"),  # info only
        ((TEN[6],), "info"),
        ((TEN[0], TEN[6]), "error"),  # an error
        ((TEN[0], TEN[6]), "never"),
    ],
)
def test_cli_on_a_scheduler_exits_as_fail_on_says(
    cluster: LocalCluster, tmp_path: Path, cases: tuple[Case, ...], fail_on: str
) -> None:
    paths, configs = write_fleet(tmp_path, cases)
    want = _exit_code([expected(p, configs) for p in paths], fail_on)
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        [
            "fleet",
            *paths,
            "--scheduler",
            cluster.scheduler_address,
            "-o",
            str(out),
            "--fail-on",
            fail_on,
            "--format",
            "csv",
            "--config-dir",
            str(configs),
        ],
    )
    assert res.exit_code == want, res.output
    assert f"scheduler {cluster.scheduler_address}, 2 worker(s)" in res.output
    clusters = pl.read_csv(out / "clusters.csv")
    assert clusters["status"].to_list() == ["ok"] * len(cases)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["exit_code"] == want


def test_cli_a_failed_bundle_exits_2_and_is_named_on_stderr(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    paths, _ = write_fleet(tmp_path, (TEN[6],))
    broken = corrupt_zip(tmp_path)
    res = CliRunner().invoke(
        main,
        [
            "fleet",
            paths[0],
            str(broken),
            "--scheduler",
            cluster.scheduler_address,
            "-o",
            str(tmp_path / "out"),
            "--fail-on",
            "never",
        ],
    )
    assert res.exit_code == 2
    assert f"logdoctor: error: broken-zip: failed: {broken}: " in res.stderr
    assert "1 checked, 0 partial, 1 failed" in res.stdout
    assert (tmp_path / "out" / "clusters" / "lab-ld302.html").exists()


def test_cluster_html_reports_show_each_bundles_findings(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    paths, configs = write_fleet(tmp_path, (TEN[0], TEN[2], TEN[4]))
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        [
            "fleet",
            *paths,
            "--scheduler",
            cluster.scheduler_address,
            "-o",
            str(out),
            "--config-dir",
            str(configs),
            "--fail-on",
            "never",
        ],
    )
    assert res.exit_code == 0, res.output
    index = (out / "index.html").read_text(encoding="utf-8")
    for path in paths:
        ref = expected(path, configs)
        name = Path(path).name
        page = out / "clusters" / f"{name}.html"
        html = page.read_text(encoding="utf-8")
        assert f'href="clusters/{name}.html"' in index
        assert re.search(f"<title>{re.escape(name)}: [^<]+ · logdoctor</title>", html)
        # one anchored element per finding (identical findings share a card)
        assert html.count(" data-finding=") == len(ref.findings) >= 1
        for f in ref.findings:
            assert f' id="{f.rule}' in html
        dom, console = browse(page)
        assert console == [], console
        assert dom.count(" data-finding=") == len(ref.findings)


def test_cli_unreachable_scheduler_is_a_one_line_error(tmp_path: Path) -> None:
    paths, _ = write_fleet(tmp_path, (TEN[6],))
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = CliRunner().invoke(
        main,
        [
            "fleet",
            *paths,
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
            "-o",
            str(tmp_path / "o"),
            "--connect-timeout",
            "2",
        ],
    )
    assert res.exit_code == 2
    assert res.stderr.startswith(f"logdoctor: error: --scheduler tcp://127.0.0.1:{port}: ")
    assert "cannot connect" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_cli_workers_starts_a_local_cluster_of_that_size(tmp_path: Path) -> None:
    paths, _ = write_fleet(tmp_path, (TEN[0], TEN[6]))
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["fleet", *paths, "--workers", "2", "-o", str(out)])
    assert res.exit_code == 1, res.output
    assert "on local cluster, 2 worker process(es)" in res.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(summary["workers"]) == 2
    assert summary["where"] == "local cluster, 2 worker process(es)"


def test_connect_to_a_scheduler_address(cluster: LocalCluster) -> None:
    with connect(cluster.scheduler_address) as c:
        assert len(c.client.nthreads()) == 2
        assert c.where == f"scheduler {cluster.scheduler_address}, 2 worker(s)"
    # Closing our client leaves the cluster running for others.
    with Client(cluster) as again:
        assert len(again.nthreads()) == 2
