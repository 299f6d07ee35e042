"""The writer table (``logdoctor.outputs.WRITERS``) and the command line agree.

Every ``--format`` of every command is a :class:`FormatChoice` whose choices are the rows of
what the command writes, every row is offered by a command, every row with a writer names a
function that exists, and each file format, run end to end through its command, writes its
own bytes (so a row that dispatched to another row's writer would fail).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import polars as pl
import pytest

from logdoctor.cli import main
from logdoctor.cli.options import FormatChoice
from logdoctor.outputs import WRITERS, formats_for, writer
from tests.helpers.paths import ASSETS

VERBATIM = str(ASSETS / "verbatim")


def _commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    for name, cmd in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        yield path, cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path + " ")


def _format_params() -> dict[str, click.Parameter]:
    return {
        path: p
        for path, cmd in _commands(main)
        for p in cmd.params
        if isinstance(p, click.Option) and "--format" in p.opts
    }


def test_every_format_option_takes_its_choices_from_the_writer_table() -> None:
    params = _format_params()
    assert len(params) == 12  # check parse timeline stats rules kinds formats fleet tail, 3 service
    for path, p in params.items():
        assert isinstance(p.type, FormatChoice), f"{path}: --format is not a FormatChoice"
        assert tuple(p.type.choices) == formats_for(p.type.writes), path
        assert p.default in p.type.choices, path
        for name in p.type.choices:
            w = writer(p.type.writes, name)  # a row for every choice
            assert w.screen or callable(w.load()), f"{path} --format {name}"


def test_every_row_is_offered_by_a_command_and_names_a_function() -> None:
    offered = {(p.type.writes, c) for p in _format_params().values() for c in p.type.choices}  # type: ignore[attr-defined]
    rows = {(w.writes, w.name) for w in WRITERS}
    assert len(rows) == len(WRITERS), "a (writes, name) pair is listed twice"
    assert rows == offered
    for w in WRITERS:
        if w.screen:
            with pytest.raises(LookupError):
                w.load()
        else:
            assert callable(w.load()), w


def test_the_library_formats_are_the_rows() -> None:
    from logdoctor.cli import options
    from logdoctor.fleet.table import TABLE_FORMATS
    from logdoctor.outputs.events import EVENT_FORMATS
    from logdoctor.verdict import FAIL_ON

    assert options.FAIL_ON == FAIL_ON

    assert formats_for("fleet") == TABLE_FORMATS
    assert tuple(w.name for w in WRITERS if w.writes == "events" and not w.screen) == (
        EVENT_FORMATS
    )
    with pytest.raises(KeyError, match="not a format of findings"):
        writer("findings", "xml")


def _run(runner, args: list[str], out: Path | None = None) -> bytes:
    res = runner.invoke(main, [*args, *(["-o", str(out)] if out else [])])
    assert res.exit_code in (0, 1), (args, res.output)
    data = out.read_bytes() if out is not None else res.stdout_bytes
    assert data, args
    return data


FILE_ROWS = [w for w in WRITERS if not w.screen and w.writes not in ("fleet", "tail")]


@pytest.mark.parametrize("writes", sorted({w.writes for w in FILE_ROWS}))
def test_each_file_format_is_written_by_its_own_writer(runner, tmp_path: Path, writes) -> None:
    outputs: dict[str, bytes] = {}
    for w in (w for w in FILE_ROWS if w.writes == writes):
        fmt = ["--format", w.name]
        out = tmp_path / f"out.{w.name}"
        if writes == "findings":
            data = _run(runner, ["check", VERBATIM, *fmt], out)
        elif writes == "events":
            data = _run(runner, ["parse", VERBATIM, *fmt], out)
        elif writes == "timeline":
            data = _run(runner, ["timeline", VERBATIM, "--since", "2000-01-01", *fmt], out)
        elif writes == "stats":
            data = _run(runner, ["stats", VERBATIM, *fmt])
        else:
            assert writes == "listing"
            data = _run(runner, ["kinds", *fmt])
        outputs[w.name] = data
    assert len(set(outputs.values())) == len(outputs), "two formats wrote the same bytes"
    for name, data in outputs.items():
        if name in ("json", "sarif"):
            assert isinstance(json.loads(data), (dict, list))
        elif name == "jsonl":
            assert all(json.loads(line) for line in data.splitlines())
        elif name == "junit":
            assert data.startswith(b"<?xml")
        elif name == "parquet":
            assert pl.read_parquet(data).height > 0
        elif name in ("csv", "tsv"):
            sep = b"," if name == "csv" else b"\t"
            assert sep in data.splitlines()[0]


PROMISED = {
    "check": "text concise json sarif junit",
    "parse": "table jsonl csv tsv parquet",
    "timeline": "text tsv csv jsonl",
    "stats": "table json tsv csv",
    "rules": "table json",
    "kinds": "table json",
    "formats": "table json",
    "service params": "table json",
    "service lockouts": "table json",
    "service key-show": "table json",
    "fleet": "json csv parquet",
    "tail": "live jsonl",
}
"""The formats the documentation promises (docs/reference/cli.md): a row that goes missing
from the table takes a format away from users."""


def test_no_promised_format_goes_missing() -> None:
    params = _format_params()
    assert set(params) == set(PROMISED)
    for path, p in params.items():
        assert list(p.type.choices) == PROMISED[path].split(), path  # type: ignore[attr-defined]
