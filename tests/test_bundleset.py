"""Several bundles in one input are recognized: check and report refuse to merge them."""

from __future__ import annotations

import io
import json
import shlex
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from logdoctor.cli import main
from logdoctor.ingest.bundleset import SeveralBundles, find_bundles_in
from logdoctor.ingest.load import open_inputs
from logdoctor.pipeline import check
from tests.helpers.paths import ROOT

SAMPLES = ROOT / "sample_logs"


def cli(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def bundles(*paths: Path) -> list[str]:
    loader = open_inputs([str(p) for p in paths])
    return find_bundles_in(loader.files, loader.ignored)


def _zip_tree(src: Path, dest: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(src.rglob("*")):
            if p.is_file():
                zf.write(p, prefix + p.relative_to(src).as_posix())
    return dest


def test_sample_logs_holds_one_bundle_per_scenario() -> None:
    found = bundles(SAMPLES)
    assert found == [str(p) for p in sorted(SAMPLES.iterdir())]


def test_one_bundle_in_any_of_its_layouts_is_one(tmp_path: Path) -> None:
    src = SAMPLES / "callmanager-not-restarted"
    assert bundles(src) == [str(src)]
    # <ip>/<download time>/..., wrapped in RTMT_out/, next to its deployment file
    wrapped = tmp_path / "coll" / "RTMT_out"
    for i, node in enumerate(sorted(p for p in src.iterdir() if p.is_dir())):
        shutil.copytree(node, wrapped / f"10.0.0.{i}" / "2024-05-01_10-12-33")
    shutil.copy(src / "deployment.toml", tmp_path / "coll" / "deployment.toml")
    assert len(bundles(tmp_path / "coll")) == 1
    # one zip per node in a folder: one cluster
    per_node = tmp_path / "per-node"
    per_node.mkdir()
    for node in sorted(p for p in src.iterdir() if p.is_dir()):
        _zip_tree(node, per_node / f"{node.name}.zip", f"{node.name}/")
    assert len(bundles(per_node)) == 1
    assert check([str(per_node)]).status in ("passed", "failed")
    # the whole bundle zipped, inside a zip
    inner = _zip_tree(src, tmp_path / "inner.zip", "cnr/")
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.write(inner, "nested/inner.zip")
    assert len(bundles(outer)) == 1


def test_two_cluster_archives_are_two_bundles(tmp_path: Path) -> None:
    folder = tmp_path / "nightly"
    folder.mkdir()
    _zip_tree(SAMPLES / "healthy", folder / "east.zip")
    _zip_tree(SAMPLES / "clock-skew", folder / "west.zip")
    assert bundles(folder) == [str(folder / "east.zip"), str(folder / "west.zip")]
    with pytest.raises(SeveralBundles, match=r"holds 2 bundles \(east.zip, west.zip\)"):
        check([str(folder)])


def test_check_and_report_refuse_with_the_exact_fleet_command(tmp_path: Path) -> None:
    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("expressway-refresh-ucm-off", "healthy"):
        shutil.copytree(SAMPLES / name, folder / name)
    for command in ("check", "report"):
        res = cli(command, folder)
        assert res.exit_code == 2 and res.stdout == ""
        (line,) = res.stderr.strip().splitlines()
        assert "holds 2 bundles (expressway-refresh-ucm-off, healthy)" in line
        assert f"`logdoctor fleet {folder}/* -o fleet-report`" in line
        assert "--one-cluster" in line
    # The command it gives works, and checks each bundle on its own.
    fleet = line.split("`logdoctor fleet ", 1)[1].split("`", 1)[0]
    argv = ["fleet", *sorted(str(p) for p in folder.iterdir())]
    assert shlex.split(fleet)[0] == f"{folder}/*"
    res = cli(*argv, "--in-process", "-o", tmp_path / "fleet")
    assert res.exit_code == 1, res.output
    rows = json.loads((tmp_path / "fleet" / "findings.json").read_text())
    alone = check([str(SAMPLES / "expressway-refresh-ucm-off")]).findings
    assert {(r["cluster"], r["rule"]) for r in rows} == {
        ("expressway-refresh-ucm-off", f.rule) for f in alone
    }
    # --one-cluster reads them together anyway (the user's choice)
    res = cli("check", folder, "--one-cluster", "--format", "json")
    assert res.exit_code in (0, 1) and json.loads(res.stdout)["summary"]["files"] >= 6


def test_bundles_inside_one_archive_are_named_with_how_to_check_them(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in ("healthy", "clock-skew"):
            for p in sorted((SAMPLES / name).rglob("*")):
                if p.is_file():
                    zf.write(p, f"samples/{name}/{p.relative_to(SAMPLES / name).as_posix()}")
    (tmp_path / "samples.zip").write_bytes(buf.getvalue())
    res = cli("check", tmp_path / "samples.zip")
    assert res.exit_code == 2
    assert "holds 2 bundles (clock-skew, healthy)" in res.stderr
    assert f"extract {tmp_path / 'samples.zip'}" in res.stderr
