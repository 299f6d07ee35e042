"""`formats suggest` in detail: field names, hostile text, the draft's shape, bad input."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from logdoctor.cli import main
from logdoctor.ingest.formats.catalog import load_formats

CLIENT = "C" + "0f" * 32
HEAD = "2026-11-20 08:00:{s:02d},000 INFO  [http-nio-81-exec-{s}] com.cisco.NewServlet - "


def _lines(messages: list[str]) -> str:
    return "".join(HEAD.format(s=i % 60) + m + "\n" for i, m in enumerate(messages))


def _suggest(runner: CliRunner, *args: str) -> tuple[dict, str, str]:  # type: ignore[type-arg]
    res = runner.invoke(main, ["formats", "suggest", *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output + res.stderr
    return tomllib.loads(res.stdout), res.stdout, res.stderr


def _drafts(doc: dict) -> list[dict]:  # type: ignore[type-arg]
    return [e for e in doc["event"] if e["kind"].startswith("draft.")]


def test_fields_are_named_by_key_and_by_shape(
    write: Callable[..., Path], runner: CliRunner
) -> None:
    msgs = [
        f"Session opened for {u} on {d} client {CLIENT} userName={u} errorDescription=x{i} "
        f"code=abc{i} sessionRef=r{i}"
        for i, (u, d) in enumerate([("alice", "CSFALICE"), ("bob", "TCTBOB"), ("carol", "BOTC")])
    ]
    f = write("b/ucm/tomcat/logs/ssosp/log4j/ssosp00001.log", _lines(msgs))
    doc, text, err = _suggest(runner, str(f))
    (event,) = _drafts(doc)
    rx = event["regex"]
    assert "userName=(?P<user>\\S+)" in rx  # by its key (case and _ ignored)
    assert "errorDescription=(?P<reason>\\S+)" in rx
    assert "code=(?P<token_id>\\S+)" in rx  # abc0, abc1, abc2: <*> keeps its key
    assert f"client (?P<client_id>{'C[0-9a-fA-F]{64}'})" not in rx
    assert "(?P<client_id>" in rx and "(?P<device>" in rx  # no key: by their shape
    assert "sessionRef=\\S+" in rx  # varies, but no column name fits
    assert "sessionRef=" in text.split('[[event]]\nkind = "draft.1"')[0].splitlines()[-1]
    samples = [s for s in doc["sample"] if s["kind"] == "draft.1"]
    assert len(samples) == 2 and samples[0]["line"].endswith(msgs[0])
    assert samples[0]["fields"]["user"] == "alice" and samples[0]["fields"]["device"] == "CSFALICE"
    assert samples[1]["fields"]["user"] == "carol"  # the first and the last record
    assert "drafted 1 event(s) for the ssosp family from 3 record(s)" in err


def test_hostile_text_stays_inert_in_the_draft(
    write: Callable[..., Path], runner: CliRunner, tmp_path: Path
) -> None:
    evil = 'quote" back\\slash \x1b[31m bidi\u202e tab\there """ \' [[event]]'
    msgs = [f"Odd thing happened n={i} note {evil}" for i in range(3)]
    f = write("b/ucm/tomcat/logs/ssosp/log4j/ssosp00001.log", _lines(msgs))
    out = tmp_path / "d" / "ssosp.toml"
    out.parent.mkdir()
    res = runner.invoke(main, ["formats", "suggest", str(f), "-o", str(out)])
    assert res.exit_code == 0, res.output
    raw = out.read_text(encoding="utf-8")
    assert "\x1b" not in raw and "\u202e" not in raw  # escaped, in comments and strings alike
    doc = tomllib.loads(raw)
    (sample,) = {s["line"] for s in doc["sample"] if s["kind"] == "draft.1"} & {
        HEAD.format(s=0) + msgs[0]
    }
    assert evil in sample  # the sample is verbatim once read back
    assert [f.name for f in load_formats([out.parent], builtin=False)] == ["ssosp"]  # checked
    assert "\x1b" not in res.stdout  # the summary is neutralized too


def test_draft_is_the_family_format_plus_events_placed_before_generic_detectors(
    write: Callable[..., Path], runner: CliRunner
) -> None:
    msgs = [f"Grant refused for userId=u{i} error=invalid_grant" for i in range(4)]
    msgs += [f"Something else happened id={i}" for i in range(4)]
    f = write("b/ucm/tomcat/logs/ssosp/log4j/ssosp00001.log", _lines(msgs))
    doc, text, _ = _suggest(runner, str(f))
    builtin = {f.name: f for f in load_formats()}["ssosp"]
    assert doc["name"] == "ssosp" and doc["header"][0]["regex"] == builtin.headers[0].regex.source
    kinds = [e["kind"] for e in doc["event"]]
    assert kinds[: len(builtin.events) - 2] == [e.kind for e in builtin.events[:-2]]
    first_draft = min(i for i, k in enumerate(kinds) if k.startswith("draft."))
    assert kinds.index("oauth.error") > first_draft  # the oauth.error lines were mined too
    assert len(_drafts(doc)) == 2
    assert text.startswith("# DRAFT made by `logdoctor formats suggest`")


def test_min_count_leaves_one_offs_out(write: Callable[..., Path], runner: CliRunner) -> None:
    msgs = ["Rare event"] + [f"Common event {i}" for i in range(5)]
    f = write("b/ucm/tomcat/logs/ssosp/log4j/ssosp00001.log", _lines(msgs))
    doc, _, err = _suggest(runner, str(f))
    assert len(_drafts(doc)) == 1 and "left out: 1 template(s)" in err
    doc, _, _ = _suggest(runner, str(f), "--min-count", "1")
    assert len(_drafts(doc)) == 2


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({}, [], "nothing to draft"),
        ({"ssoApp.log": "odd"}, [], "several families (ssoapp: 2, ssosp: 2)"),
        ({}, ["--family", "nope"], "--family 'nope': no such format family"),
        ({}, ["--family", "certmgmt"], "in family certmgmt: nothing to draft"),
        ({"x": "strange"}, ["--min-count", "5"], "seen 5 times or more"),
        ({}, ["--include", "bogus"], "--include 'bogus': not an event kind"),
    ],
)
def test_bad_requests_end_in_one_line(
    write: Callable[..., Path],
    runner: CliRunner,
    files: dict[str, str],
    args: list[str],
    message: str,
) -> None:
    root = write("b/ucm/tomcat/logs/ssosp/log4j/ssosp00001.log", _lines(["Time Valid?:true"]))
    root = root.parents[4]
    for name, what in files.items():
        if name == "ssoApp.log":
            write("b/ucm/platform/log/ssoApp.log", _lines([f"{what} {i}" for i in range(2)]))
            write("b/ucm/tomcat/logs/ssosp/log4j/ssosp00002.log", _lines(["odd 1", "odd 2"]))
        else:
            write("b/ucm/tomcat/logs/ssosp/log4j/ssosp00003.log", _lines([what, what]))
    res = runner.invoke(main, ["formats", "suggest", str(root), *args])
    assert res.exit_code == 2, res.output
    assert message in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr


def test_formats_listing_and_check_still_work(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["formats", "--format", "json"])
    assert res.exit_code == 0 and '"name": "ssosp"' in res.stdout
    res = runner.invoke(main, ["formats", "--check", str(tmp_path)])
    assert res.exit_code == 2 and "no *.toml format file" in res.stderr


def test_ld901_names_the_templates_and_the_command(
    write: Callable[..., Path], runner: CliRunner
) -> None:
    msgs = [f"Session opened for userId=u{i}" for i in range(30)] + ["Time Valid?:true"] * 5
    msgs += [f"Cache flushed in {i} ms" for i in range(10)]
    f = write("my b/ucm/tomcat/logs/ssosp/log4j/ssosp00001.log", _lines(msgs))
    res = runner.invoke(main, ["check", "--format", "json", "--select", "LD901", str(f)])
    assert res.exit_code == 1, res.output
    (finding,) = json.loads(res.stdout)["findings"]
    msg = finding["message"]
    assert "40 of 45 records" in msg and "2 message template(s)" in msg
    assert "'Session opened for userId=<v>' (30); 'Cache flushed in <n> ms' (10)" in msg
    assert f"logdoctor formats suggest '{f}' --family ssosp -o ssosp-draft.toml" in msg
    # one record of each template as evidence, not the first 50 records
    shown = [e["excerpt"] for e in finding["evidence"]]
    assert shown == ["Session opened for userId=u0", "Cache flushed in 0 ms"]
