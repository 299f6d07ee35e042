"""``parse FILE -o OUT`` of one file whose lines name its node parses the file once (its rows
held until the names are known) and writes what the two-pass stream writes; ``--order file``,
``--node`` and a file over the hold limit keep the first pass for the names. A streamed
parse has polars' allocator keep the pages it frees."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from logdoctor.cli import allocator, main, parserun
from logdoctor.ingest import load as load_module
from tests.helpers.paths import ROOT

SAMPLE = ROOT / "sample_logs" / "callmanager-not-restarted" / "ucm-pub" / "syslog" / "CiscoSyslog"


@pytest.fixture
def syslog(tmp_path: Path) -> Path:
    """A node's CiscoSyslog under a folder named by its address: only its lines (NodeID) say
    the node is ucm-pub."""
    dst = tmp_path / "10.48.36.11" / "syslog" / "CiscoSyslog"
    dst.parent.mkdir(parents=True)
    shutil.copy(SAMPLE, dst)
    return dst


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every parse of a file's bytes, as its ``keep`` argument (None: a full parse)."""
    calls: list[Any] = []
    real: Callable[..., Any] = load_module.parse_bytes

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("keep"))
        return real(*args, **kwargs)

    monkeypatch.setattr(load_module, "parse_bytes", counted)
    return calls


def _parse(path: Path, out: Path, *extra: str) -> list[dict[str, Any]]:
    res = CliRunner().invoke(
        main, ["parse", str(path), "--format", "jsonl", "-o", str(out), *extra]
    )
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n")[:-1]]


def test_one_file_naming_its_node_is_parsed_once(
    tmp_path: Path, syslog: Path, parses: list[Any]
) -> None:
    once = _parse(syslog, tmp_path / "once.jsonl")
    assert parses == [None]  # one full parse, no first pass for the names
    assert once and {row["node"] for row in once} == {"ucm-pub"}
    parses.clear()
    twice = _parse(syslog, tmp_path / "twice.jsonl", "--order", "file")
    assert len(parses) == 2 and parses[-1] is None  # names first, then the rows
    assert (tmp_path / "once.jsonl").read_bytes() == (tmp_path / "twice.jsonl").read_bytes()
    assert twice == once


def test_node_filter_and_big_files_keep_the_first_pass(
    tmp_path: Path, syslog: Path, parses: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    want = _parse(syslog, tmp_path / "all.jsonl")
    parses.clear()
    assert _parse(syslog, tmp_path / "n.jsonl", "--node", "10.48.36.11") == want
    assert len(parses) == 2
    parses.clear()
    monkeypatch.setattr(parserun, "HOLD_BYTES", 16)  # the file is over the hold limit
    assert _parse(syslog, tmp_path / "big.jsonl") == want
    assert len(parses) == 2


def _allocator_conf_after(*args: str) -> str:
    """What a ``logdoctor`` process run with ``args`` leaves in the allocator's variable."""
    code = (
        "import os, sys\n"
        "from logdoctor.cli import main\n"
        f"sys.argv = ['logdoctor', *{list(args)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'polars' in sys.modules\n"
        f"print(os.environ.get({allocator.VARIABLE!r}, '-'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != allocator.VARIABLE}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_a_streamed_parse_keeps_freed_pages_before_polars_loads(tmp_path: Path) -> None:
    out = str(tmp_path / "out.jsonl")
    # polars appends a setting it finds to its own (dirty_decay_ms:500,...): ours is last.
    kept = _allocator_conf_after("parse", str(SAMPLE), "--format", "jsonl", "-o", out)
    assert kept.endswith(allocator.settings(os.cpu_count(), keep_freed=True))
    bundle = str(SAMPLE.parent.parent.parent)  # a folder of files, merged in memory
    merged = _allocator_conf_after("parse", bundle, "--format", "jsonl", "-o", out)
    assert "decay_ms:-1" not in merged
    assert merged.endswith(allocator.settings(os.cpu_count()))  # every command's setting


def test_keep_freed_pages_never_overrides_nor_comes_too_late(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(allocator.VARIABLE, raising=False)
    allocator.keep_freed_pages()  # polars is loaded in this process: too late
    assert allocator.VARIABLE not in os.environ
    monkeypatch.delitem(sys.modules, "polars")
    monkeypatch.setenv(allocator.VARIABLE, "narenas:1")
    allocator.keep_freed_pages()
    assert os.environ[allocator.VARIABLE] == "narenas:1"  # the user's
    ours: dict[str, str] = {}
    allocator.configure(ours)
    allocator.keep_freed_pages(ours)  # over the commands' own setting it switches
    assert ours == {allocator.VARIABLE: allocator.settings(os.cpu_count(), keep_freed=True)}
