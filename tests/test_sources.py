"""Inputs: folders, globs, compressed files, archives, hostile archives, node names, detection."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

import logdoctor
from logdoctor.ingest.inputs import Limits
from logdoctor.ingest.nodenames import node_from_path
from tests.helpers.paths import asset

SSOSP = asset("verbatim/ssosp-ucm125.log").read_bytes()
CERT = asset("verbatim/certMgmt00001.log").read_bytes()
SSOSP_REL = "tomcat/logs/ssosp/log4j/ssosp00001.log"
CERT_REL = "platform/log/certMgmt00001.log"


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _tar(path: Path, members: dict[str, bytes], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize(
    ("rel", "node"),
    [
        ("cucm-pub/platform/log/ssoApp.log", "cucm-pub"),
        ("collection/cucm-sub1/tomcat/logs/ssosp/log4j/ssosp00001.log", "cucm-sub1"),
        ("platform/log/ssoApp.log", "fallback"),
        ("ucm-a/ssosp00001.log", "ucm-a"),
        ("ssosp00001.log", "fallback"),
    ],
)
def test_node_from_layout(rel: str, node: str) -> None:
    assert node_from_path(rel, "fallback") == node


def test_folder_bundle_nodes_and_ignored_files(tmp_path: Path, write) -> None:
    write(f"bundle/cucm-pub/{SSOSP_REL}", SSOSP)
    write(f"bundle/cucm-pub/{CERT_REL}", CERT)
    write("bundle/cucm-sub1/tomcat/logs/ssosp/log4j/ssosp00002.log.gz", gzip.compress(SSOSP))
    write("bundle/cucm-pub/platform/log/notes.xml", b"<x/>")
    r = logdoctor.load(tmp_path / "bundle")
    assert not r.errors
    assert sorted({(s.node, s.family) for s in r.stats}) == [
        ("cucm-pub", "certmgmt"),
        ("cucm-pub", "ssosp"),
        ("cucm-sub1", "ssosp"),
    ]
    assert [i.path.endswith("notes.xml") for i in r.ignored] == [True]
    assert r.frame.height == 2 * 21 + 17


def test_set_node_overrides_the_layout(tmp_path: Path, write) -> None:
    write(f"b/cucm-pub/{SSOSP_REL}", SSOSP)
    r = logdoctor.load(tmp_path / "b", node="lab1")
    assert set(r.frame["node"].to_list()) == {"lab1"}


def test_glob(tmp_path: Path, write) -> None:
    write("x/ssosp00001.log", SSOSP)
    write("x/ssosp00002.log", SSOSP)
    r = logdoctor.load(str(tmp_path / "x" / "ssosp*.log"))
    assert len(r.stats) == 2 and not r.errors


def test_misnamed_file_gets_the_right_parser(tmp_path: Path, write) -> None:
    p = write("renamed.txt", CERT)
    r = logdoctor.load(p)
    assert r.stats[0].family == "certmgmt" and r.stats[0].unrecognized == 0
    q = write("ssoApp.log", SSOSP)  # log4j lines in ssoApp.log: the name breaks the tie
    assert logdoctor.load(q).stats[0].family == "ssoapp"


def test_misnamed_log_inside_a_folder_is_sniffed(tmp_path: Path, write) -> None:
    write("f/node1/weird-name.log", SSOSP)
    write("f/node1/readme.txt", b"just some text\nnothing here\n")
    r = logdoctor.load(tmp_path / "f")
    assert [s.family for s in r.stats] == ["ssosp"]
    assert len(r.ignored) == 1


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz", ".tar", ".tgz"])
def test_archives_are_read_in_memory(tmp_path: Path, suffix: str) -> None:
    members = {f"cucm-pub/{SSOSP_REL}": SSOSP, f"cucm-pub/{CERT_REL}.gz": gzip.compress(CERT)}
    if suffix == ".zip":
        arch = _zip(tmp_path / "b.zip", members)
    else:
        mode = "w" if suffix == ".tar" else "w:gz"
        arch = _tar(tmp_path / f"b{suffix}", members, mode)
    before = set(tmp_path.rglob("*"))
    r = logdoctor.load(arch)
    assert set(tmp_path.rglob("*")) == before  # nothing extracted
    assert not r.errors
    assert sorted(s.family for s in r.stats) == ["certmgmt", "ssosp"]
    # The folder names the node; the ssosp file's SAML trace states its host name, which wins.
    assert [(n.name, n.folders) for n in r.nodes.nodes] == [("1cucm1251", ("cucm-pub",))]
    assert {s.node for s in r.stats} == {"1cucm1251"}
    assert any(s.path.endswith("!cucm-pub/" + SSOSP_REL) for s in r.stats)


def test_nested_archive(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr(f"ucm-b/{SSOSP_REL}", SSOSP)
    outer = _zip(tmp_path / "outer.zip", {"bundles/inner.zip": inner.getvalue()})
    r = logdoctor.load(outer)
    assert not r.errors and r.stats[0].records == 21
    assert r.nodes.node("ucm-b") is not None and r.nodes.node("ucm-b").folders == ("ucm-b",)


def test_zip_slip_and_absolute_members_are_refused_by_name(tmp_path: Path) -> None:
    arch = _zip(
        tmp_path / "evil.zip",
        {
            f"cucm-pub/{SSOSP_REL}": SSOSP,
            "../../etc/ssosp00001.log": SSOSP,
            "/abs/ssosp00002.log": SSOSP,
        },
    )
    r = logdoctor.load(arch)
    msgs = {e.path.split("!", 1)[1]: e.message for e in r.errors}
    assert set(msgs) == {"../../etc/ssosp00001.log", "/abs/ssosp00002.log"}
    assert all("leaves the archive" in m for m in msgs.values())
    assert [s.records for s in r.stats if s.error is None] == [21]  # the good member is read
    assert not (tmp_path.parent / "etc").exists()


def test_tar_links_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "links.tar"
    with tarfile.open(path, "w") as tf:
        info = tarfile.TarInfo(f"n/{SSOSP_REL}")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tf.addfile(info)
    r = logdoctor.load(path)
    assert len(r.errors) == 1 and "link" in r.errors[0].message


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    bomb = gzip.compress(b"\n" * (8 << 20))
    p = tmp_path / "ssosp00001.log.gz"
    p.write_bytes(bomb)
    limits = Limits(max_file_bytes=1 << 20)
    r = logdoctor.load(p, limits=limits)
    assert len(r.errors) == 1 and "decompression bomb" in r.errors[0].message
    ratio = Limits(ratio_floor=1 << 20, max_ratio=50)
    r = logdoctor.load(p, limits=ratio)
    assert "50:1" in r.errors[0].message


def test_corrupt_inputs_are_errors_not_crashes(tmp_path: Path, write) -> None:
    bad_zip = write("bad.zip", b"PK\x03\x04 this is not really a zip")
    bad_gz = write("ssosp00001.log.gz", b"\x1f\x8b\x08\x00garbage")
    binary = write("ssosp00003.log", bytes(range(256)) * 10)
    r = logdoctor.load([bad_zip, bad_gz, binary, tmp_path / "missing.log"])
    by_path = {Path(e.path.split("!")[0]).name: e.message for e in r.errors}
    assert set(by_path) == {"bad.zip", "ssosp00001.log.gz", "ssosp00003.log", "missing.log"}
    assert "zip" in by_path["bad.zip"]
    assert "compressed" in by_path["ssosp00001.log.gz"]
    assert "binary" in by_path["ssosp00003.log"]
    assert "no such file" in by_path["missing.log"]
    assert all(s.error for s in r.stats)  # each is listed, none skipped


def test_a_file_name_that_is_not_utf8_is_read_and_shown(tmp_path: Path) -> None:
    # "n\udcffode" is how Python names the byte 0xff that is not UTF-8 in a file name.
    folder = tmp_path / "b" / "n\udcffode" / "tomcat" / "logs" / "ssosp" / "log4j"
    assert b"n\xffode" in bytes(folder)
    folder.mkdir(parents=True)
    (folder / "ssosp00001.log").write_bytes(SSOSP)
    r = logdoctor.load(tmp_path / "b")
    assert not r.errors and r.stats[0].records == 21
    (node,) = r.nodes.nodes  # its host name (SAML trace) names it; the folder is an alias
    assert node.folders == ("n\ufffdode",) and "n\ufffdode" in node.aliases
    assert r.stats[0].node == node.name and r.frame["node"][0] == node.name
    r.stats[0].path.encode("utf-8")  # printable
