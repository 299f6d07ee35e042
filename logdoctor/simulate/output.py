"""Writing a run: the RTMT-style folder, ``deployment.toml``, ``expected.json``, the zip.

The folder holds one sub-folder per node laid out as an RTMT collection lays it out
(``<node>/tomcat/logs/ssosp/log4j/ssosp00001.log``, ``<node>/platform/log/ssoApp.log``,
``<node>/platform/log/certMgmt00001.log``), next to the declared deployment and the expected
verdicts. Files larger than ``gzip_over`` bytes are gzipped (``ssosp00001.log.gz``), as RTMT
hands over rotated files. Everything is byte-for-byte reproducible: gzip headers carry no time
or name, zip entries a fixed time, and the order of entries is sorted.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from logdoctor.simulate.engine import Expectation

__all__ = ["OutputError", "Written", "expected_json", "prepare_dir", "write_tree", "write_zip"]

_CHUNK = 1 << 20


class OutputError(ValueError):
    """The output cannot be written where asked."""


@dataclass(frozen=True)
class Written:
    """What was written: relative paths and their sizes."""

    files: tuple[tuple[str, int], ...]

    @property
    def bytes(self) -> int:
        """Total size."""
        return sum(n for _, n in self.files)


def expected_json(name: str, seed: int, exp: Expectation) -> str:
    """The ``expected.json`` text (the form the rules' precision/recall walker reads)."""
    doc = {
        "scenario": name,
        "seed": seed,
        "expect": list(exp.expect),
        "forbid": list(exp.forbid),
        "subjects": {rule: list(s) for rule, s in sorted(exp.subjects.items())},
        "noise": exp.noise,
    }
    return json.dumps(doc, indent=2) + "\n"


def prepare_dir(out: Path, *, replace: bool) -> None:
    """Make ``out`` an empty folder. An existing non-empty one is replaced only when asked and
    when it holds a previous simulation (an ``expected.json``); anything else is refused."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not replace:
            raise OutputError(f"{out}: exists and is not empty (--force replaces a simulation)")
        if not (out / "expected.json").is_file():
            raise OutputError(
                f"{out}: not replaced: it does not hold a simulation (no expected.json)"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _gzip_file(src: Path, dst: Path) -> None:
    with (
        src.open("rb") as fin,
        dst.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz,
    ):
        shutil.copyfileobj(fin, gz, _CHUNK)


def write_tree(
    logs: Path,
    out: Path,
    extra: dict[str, str],
    *,
    gzip_over: int | None = None,
    move: bool = False,
) -> Written:
    """Copy (or ``move``) the node folders of ``logs`` into ``out`` (gzipping files over
    ``gzip_over`` bytes) and write the ``extra`` text files (name -> text) next to them."""
    files: list[tuple[str, int]] = []
    if logs.is_dir():
        for src in sorted(p for p in logs.rglob("*") if p.is_file()):
            rel = src.relative_to(logs).as_posix()
            dst = out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if gzip_over is not None and src.stat().st_size > gzip_over:
                dst = dst.with_name(dst.name + ".gz")
                rel += ".gz"
                _gzip_file(src, dst)
            elif move:
                shutil.move(src, dst)  # a rename on the same file system
            else:
                shutil.copyfile(src, dst)
            files.append((rel, dst.stat().st_size))
    for name, text in extra.items():
        data = text.encode("utf-8")
        (out / name).write_bytes(data)
        files.append((name, len(data)))
    return Written(tuple(sorted(files)))


def write_zip(tree: Path, dest: Path, when: float) -> int:
    """Zip the folder ``tree`` into ``dest`` (entries sorted, dated ``when``); its size."""
    stamp = datetime.fromtimestamp(max(when, 315532800.0), UTC)
    date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    with zipfile.ZipFile(tmp, "w") as zf:
        for src in sorted(p for p in tree.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(src.relative_to(tree).as_posix(), date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            big = src.stat().st_size > (1 << 31)
            with src.open("rb") as fin, zf.open(info, "w", force_zip64=big) as fout:
                shutil.copyfileobj(fin, fout, _CHUNK)
    os.replace(tmp, dest)
    return dest.stat().st_size
