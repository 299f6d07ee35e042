"""The fleet without Dask: bundle naming, config mapping, the split / merge path in process,
the tables, the exit code, and the ``fleet --in-process`` command."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from logdoctor.cli import main
from logdoctor.fleet import (
    BundleResult,
    FleetOutput,
    FleetResult,
    Options,
    cluster_name,
    find_bundles,
    run_in_process,
    unmatched_configs,
)
from logdoctor.fleet.table import clusters_frame, findings_frame, write_tables
from logdoctor.fleet.work import Plan, finish, parse_part, prepare
from logdoctor.model import Finding, Severity
from logdoctor.outputs.findings import findings_document
from tests.helpers.fleet import TEN, Case, expected, write_bundle, write_fleet

EVERY_FILE = Options(split_bytes=1, part_bytes=1, report="json")
"""Split every bundle of two or more files into one part per file."""


# -- bundles and clusters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "cluster"),
    [
        ("nightly/acme-east.zip", "acme-east"),
        ("nightly/acme-east.ZIP", "acme-east"),
        ("acme-west.tar.gz", "acme-west"),
        ("acme.v2.tgz", "acme.v2"),
        ("x/acme-north/", "acme-north"),
        ("acme-south.tar.xz", "acme-south"),
        ("logs.2026-11-20", "logs.2026-11-20"),
    ],
)
def test_cluster_is_the_bundle_name_without_its_archive_suffix(path: str, cluster: str) -> None:
    assert cluster_name(path) == cluster


@pytest.mark.parametrize("path", ["/", "x/.zip", "x/.tar.gz"])
def test_a_path_that_names_no_cluster_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match="cannot name a cluster"):
        cluster_name(path)


def test_two_bundles_of_one_cluster_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"b/East: cluster 'East' is already given by a/east\.zip"):
        find_bundles(["a/east.zip", "b/East"])


def test_bundle_paths_are_absolute_and_configs_are_read_on_the_client(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "east.toml").write_text("# east\n", encoding="utf-8")
    (tmp_path / "cfg" / "eats.toml").write_text("# a typo\n", encoding="utf-8")
    (tmp_path / "cfg" / "west.toml").write_bytes(b"\xff\xfe not utf-8")
    bundles = find_bundles(
        [str(tmp_path / "b" / "east.zip"), str(tmp_path / "b" / "west"), str(tmp_path / "n")],
        tmp_path / "cfg",
    )
    east, west, north = bundles
    assert east.path == str(tmp_path / "b" / "east.zip")
    assert east.config == str(tmp_path / "cfg" / "east.toml")
    assert east.config_text == "# east\n"
    assert west.config_text is None
    assert west.config_error == f"{tmp_path / 'cfg' / 'west.toml'}: not UTF-8 text (byte 0)"
    assert north.config is None and north.config_error is None
    assert unmatched_configs(tmp_path / "cfg", bundles) == [str(tmp_path / "cfg" / "eats.toml")]
    with pytest.raises(ValueError, match="not a folder"):
        find_bundles(["x"], tmp_path / "cfg" / "east.toml")


# -- split and merge, in this process ------------------------------------------------------------


def log_files(path: str) -> int:
    if Path(path).is_dir():
        return len(list(Path(path).rglob("*.log")))
    with zipfile.ZipFile(path) as zf:
        return len(zf.infolist())


def test_a_bundle_parsed_file_by_file_gives_what_check_gives(tmp_path: Path) -> None:
    paths, configs = write_fleet(tmp_path, (TEN[4], TEN[5], TEN[9]))  # dir, zip, dir+config
    partial = write_bundle(Case("partial", "LD201/bad", "dir"), tmp_path / "bundles")
    bad = partial / "imp1" / "platform" / "log" / "ssoApp.log"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"\x00\x00 binary\x01" * 50)  # unreadable when parsed
    nested = partial / "ucm-pub" / "more-logs.zip"
    nested.write_bytes(b"not an archive")  # unreadable when discovered
    paths.append(str(partial))
    result = run_in_process(find_bundles(paths, configs), EVERY_FILE)
    for path, b in zip(paths, result.bundles, strict=True):
        ref = expected(path, configs)
        assert b.parts == log_files(path) >= 3, b.cluster  # one part per file
        assert b.findings == ref.findings, b.cluster
        assert (b.events, b.files, b.input_errors) == (ref.events, ref.files, ref.errors)
        assert (b.first_time, b.last_time) == (ref.first_time, ref.last_time)
        assert json.loads(b.document or b"") == json.loads(json.dumps(findings_document(ref))), (
            b.cluster
        )
    assert [b.status for b in result.bundles] == ["ok", "ok", "ok", "partial"]
    assert result.bundles[3].error is not None
    assert result.bundles[3].error.startswith(f"{nested}: not a zip archive")
    assert [e.path for e in result.bundles[3].input_errors] == [str(nested), str(bad)]


def test_tar_bundles_and_small_bundles_are_one_task(tmp_path: Path) -> None:
    paths, _ = write_fleet(tmp_path, (TEN[3], TEN[0]))  # tar.gz, folder of 3 files
    tar, folder = find_bundles(paths)
    assert not isinstance(prepare(tar, EVERY_FILE), Plan)  # a gzip stream is read by one task
    assert isinstance(prepare(folder, EVERY_FILE), Plan)
    assert not isinstance(prepare(folder, Options(split_bytes=10**9)), Plan)


def test_zip_parts_name_their_members(tmp_path: Path) -> None:
    paths, _ = write_fleet(tmp_path, (TEN[5],))
    (bundle,) = find_bundles(paths)
    plan = prepare(bundle, Options(split_bytes=1, part_bytes=30_000))
    assert isinstance(plan, Plan)
    with zipfile.ZipFile(paths[0]) as zf:
        members = [f"{paths[0]}!{i.filename}" for i in zf.infolist()]
        sizes = {f"{paths[0]}!{i.filename}": i.file_size for i in zf.infolist()}
    assert [f for p in plan.parts for f in p.files] == members
    assert len(plan.parts) >= 2
    for part in plan.parts:
        assert part.bytes == sum(sizes[f] for f in part.files)
        assert part.bytes >= 30_000 or part is plan.parts[-1]


def test_a_file_gone_between_plan_and_parse_is_an_input_error(tmp_path: Path) -> None:
    paths, _ = write_fleet(tmp_path, (TEN[4],))
    (bundle,) = find_bundles(paths)
    plan = prepare(bundle, EVERY_FILE)
    assert isinstance(plan, Plan)
    gone = plan.parts[1].files[0]
    Path(gone).unlink()
    result = finish(
        bundle, EVERY_FILE, plan, [parse_part(bundle, EVERY_FILE, p) for p in plan.parts]
    )
    assert result.status == "partial"
    assert result.error == f"{gone}: no longer in the bundle (changed during the run)"
    assert result.files == len(plan.parts) - 1


def test_a_bad_deployment_file_fails_its_cluster_only(tmp_path: Path) -> None:
    paths, configs = write_fleet(tmp_path, (TEN[0], TEN[6]))
    (configs / "lab-ld302.toml").write_text("[[cluster]]\nname = 3\n", encoding="utf-8")
    east, lab = run_in_process(find_bundles(paths, configs), Options()).bundles
    assert east.status == "ok" and east.findings == expected(paths[0]).findings
    assert lab.status == "failed"
    assert (
        lab.error
        == f"{configs / 'lab-ld302.toml'}:2: cluster[0].name: 3 must be a non-empty string"
    )


# -- tables --------------------------------------------------------------------------------------

HOSTILE = Finding(
    rule="LD301",
    severity=Severity.WARNING,
    title="A title",
    message="-2+3 then =cmd|' /C calc'!A0",
    subjects=('=HYPERLINK("http://x.invalid")', "@SUM(1)", "ok"),
    first_seen=datetime(2026, 11, 20, 8, 0, 0, 123000, tzinfo=UTC),
    last_seen=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
    evidence_total=4,
)


def _result(*bundles: BundleResult, fail_on: str = "warning") -> FleetResult:
    return FleetResult(list(bundles), fail_on)


def _bundle(
    cluster: str, *findings: Finding, status: str = "ok", fails: bool = True
) -> BundleResult:
    return BundleResult(
        cluster=cluster,
        path=f"/b/{cluster}",
        status=status,
        findings=findings,
        failing=tuple(fails for _ in findings),
        events=10,
        files=1,
    )


def test_csv_defuses_formulas_and_json_and_parquet_keep_the_text(tmp_path: Path) -> None:
    result = _result(_bundle("=east", HOSTILE))
    for fmt in ("csv", "json", "parquet"):
        (tmp_path / fmt).mkdir()
        write_tables(result, tmp_path / fmt, fmt)
    csv = pl.read_csv(tmp_path / "csv" / "findings.csv")
    row = csv.row(0, named=True)
    assert row["cluster"] == "'=east"
    assert row["subjects"] == '\'=HYPERLINK("http://x.invalid"); @SUM(1); ok'
    assert row["message"] == "'-2+3 then =cmd|' /C calc'!A0"
    assert row["first_seen"] == "2026-11-20T08:00:00.123Z"
    doc = json.loads((tmp_path / "json" / "findings.json").read_text(encoding="utf-8"))
    assert doc[0]["subjects"] == list(HOSTILE.subjects)
    assert doc[0]["cluster"] == "=east"
    assert doc[0]["first_seen"] == "2026-11-20T08:00:00.123Z"
    pq = pl.read_parquet(tmp_path / "parquet" / "findings.parquet").row(0, named=True)
    assert pq["subjects"] == list(HOSTILE.subjects)
    assert pq["first_seen"] == HOSTILE.first_seen
    assert pq["message"] == HOSTILE.message


def test_tables_have_their_schema_even_when_empty() -> None:
    empty = _result()
    assert findings_frame(empty.bundles).columns[:7] == [
        "cluster",
        "rule",
        "severity",
        "title",
        "subjects",
        "first_seen",
        "last_seen",
    ]
    assert clusters_frame(empty.bundles).height == 0


@pytest.mark.parametrize(
    ("bundles", "code"),
    [
        ((_bundle("a"), _bundle("b")), 0),
        ((_bundle("a", HOSTILE, fails=False),), 0),
        ((_bundle("a", HOSTILE), _bundle("b")), 1),
        ((_bundle("a", HOSTILE), _bundle("b", status="partial")), 2),
        ((_bundle("a"), _bundle("b", status="failed")), 2),
    ],
)
def test_exit_code_as_check(bundles: tuple[BundleResult, ...], code: int) -> None:
    assert _result(*bundles).exit_code == code


# -- the command ---------------------------------------------------------------------------------


def test_fleet_in_process_writes_the_output_folder(tmp_path: Path) -> None:
    paths, configs = write_fleet(tmp_path, (TEN[0], TEN[1], TEN[2]))
    (configs / "typo-cluster.toml").write_text("", encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        [
            "fleet",
            *paths,
            "--in-process",
            "--config-dir",
            str(configs),
            "-o",
            str(out),
            "--format",
            "parquet",
            "--fail-on",
            "error",
            "--cluster-reports",
            "json",
        ],
    )
    assert res.exit_code == 1, res.output  # east-ld101 has an error
    assert f"logdoctor: warning: {configs / 'typo-cluster.toml'}: no bundle" in res.stderr
    assert "3 cluster(s) on this process (no Dask)" in res.stdout
    assert sorted(p.name for p in (out / "clusters").iterdir()) == [
        "east-ld101.json",
        "north-ld104.json",
        "west-ld102.json",
    ]
    clusters = pl.read_parquet(out / "clusters.parquet")
    assert clusters["cluster"].to_list() == ["east-ld101", "west-ld102", "north-ld104"]
    assert clusters["config"].to_list() == [None, None, str(configs / "north-ld104.toml")]
    assert clusters["report"].to_list() == [f"clusters/{c}.json" for c in clusters["cluster"]]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["fail_on"] == "error"
    assert summary["exit_code"] == 1
    assert summary["failing_clusters"] == 2  # east-ld101, north-ld104 (LD101 error)
    assert (out / "index.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--in-process", "--workers", "2"], "--in-process runs without Dask"),
        (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "--workers sizes a local"),
        (["--config-dir", "nowhere"], "--config-dir nowhere: not a folder"),
        (["--select", "LD999"], "LD999"),
        (["--tz", "Mars/Olympus"], "Mars/Olympus"),
    ],
)
def test_fleet_usage_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    paths, _ = write_fleet(tmp_path, (TEN[0],))
    res = CliRunner().invoke(main, ["fleet", *paths, "-o", str(tmp_path / "o"), *args])
    assert res.exit_code == 2
    assert res.stderr.startswith("logdoctor: error: ")
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()  # nothing was run


def test_fleet_out_must_be_a_folder(tmp_path: Path) -> None:
    paths, _ = write_fleet(tmp_path, (TEN[0],))
    (tmp_path / "file").write_text("x", encoding="utf-8")
    res = CliRunner().invoke(main, ["fleet", *paths, "--in-process", "-o", str(tmp_path / "file")])
    assert res.exit_code == 2
    assert "is a file" in res.stderr
    with pytest.raises(ValueError, match=r"--out .*file: not a folder"):
        FleetOutput(tmp_path / "file")


def test_fleet_output_writer_drops_document_bytes(tmp_path: Path) -> None:
    out = FleetOutput(tmp_path / "o", "json")
    b = _bundle("east", HOSTILE)
    from dataclasses import replace

    kept = out.document(replace(b, document=b"{}\n", document_suffix=".json"))
    assert kept.document is None and kept.report == "clusters/east.json"
    assert (tmp_path / "o" / "clusters" / "east.json").read_bytes() == b"{}\n"
    assert out.document(b).report is None  # a failed bundle has no report


def test_fleet_shows_progress_on_a_terminal(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    paths, _ = write_fleet(tmp_path, (TEN[0], TEN[6]))
    missing = str(tmp_path / "bundles" / "gone")
    master, slave = pty.openpty()
    exe = Path(sys.executable).parent / "logdoctor"
    proc = subprocess.Popen(
        [str(exe), "fleet", *paths, missing, "--in-process", "-o", str(tmp_path / "out")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 2
    os.close(master)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    assert "checking" in screen
    assert "3/3 done" in screen
    assert "1 failed" in screen
    assert "0 running" in screen
    assert "logdoctor: error: gone: failed:" in screen


def test_cluster_reports_none_writes_the_tables_only(tmp_path: Path) -> None:
    paths, _ = write_fleet(tmp_path, (TEN[0],))
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main, ["fleet", *paths, "--in-process", "-o", str(out), "--cluster-reports", "none"]
    )
    assert res.exit_code == 1
    assert list((out / "clusters").iterdir()) == []
    assert pl.read_json(out / "clusters.json")["report"].to_list() == [None]
    assert pl.read_json(out / "findings.json")["rule"].to_list() == ["LD101"]
    assert "href=" not in (out / "index.html").read_text(encoding="utf-8")


def test_a_cluster_whose_name_is_not_utf8_is_reported_as_text(tmp_path: Path) -> None:
    import os

    from logdoctor.fleet.summary import render_summary

    paths, _ = write_fleet(tmp_path, (TEN[0], TEN[6]))
    raw = os.fsencode(tmp_path / "bundles") + b"/east-\xff"
    os.rename(paths[0], raw)
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main, ["fleet", os.fsdecode(raw), paths[1], "--in-process", "-o", str(out)]
    )
    # The bundle is read under its real bytes and named as text: both clusters are checked.
    assert res.exit_code == 1, res.output  # findings (LD101), no failure
    assert "Traceback" not in res.stderr
    clusters = pl.read_json(out / "clusters.json")
    assert clusters["cluster"].to_list() == ["east-\\udcff", "lab-ld302"]
    assert clusters["status"].to_list() == ["ok", "ok"]
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "east-\\udcff" in page and 'href="clusters/lab-ld302.html"' in page
    # A report under such a name is linked by its real bytes.
    east = BundleResult("east-\udcff", "/b/east", "ok", report="clusters/east-\udcff.html")
    assert 'href="clusters/east-%FF.html"' in render_summary(_result(east))
