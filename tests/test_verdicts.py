"""Honest verdicts: empty, missing and partly unreadable inputs in every command and format.

Nothing read is never "no problem": exit 2 and words that say what was not read, in text,
JSON, SARIF and JUnit, in the HTML report, and in stats / parse / timeline; the text says
"passed" exactly when the exit status is 0 and JSON's ``summary.passed`` is true.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from logdoctor.cli import main
from tests.helpers.paths import ASSETS, ROOT

SAMPLES = ROOT / "sample_logs"
SCHEMA = json.loads((ASSETS / "sarif" / "sarif-schema-2.1.0.json").read_text())


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def _empty(tmp: Path) -> tuple[list[Path], str]:
    (tmp / "empty").mkdir()
    return [tmp / "empty"], "no log file found in"


def _missing(tmp: Path) -> tuple[list[Path], str]:
    return [tmp / "nonexistent"], "no such file or folder"


def _corrupt(tmp: Path) -> tuple[list[Path], str]:
    (tmp / "corrupt.zip").write_bytes(b"PK\x03\x04" + b"\x00garbage" * 20)
    return [tmp / "corrupt.zip"], "corrupt.zip"


def _no_record(tmp: Path) -> tuple[list[Path], str]:
    f = tmp / "b" / "ucm-pub" / "tomcat" / "logs" / "ssosp" / "log4j" / "ssosp00001.log"
    f.parent.mkdir(parents=True)
    f.write_text("collected by hand\nnothing else here\n", encoding="utf-8")
    return [tmp / "b"], "no log record was read"


NOTHING: dict[str, Callable[[Path], tuple[list[Path], str]]] = {
    "empty folder": _empty,
    "missing path": _missing,
    "corrupt zip": _corrupt,
    "no record": _no_record,
}


def _truncated_zip(tmp: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted((SAMPLES / "healthy").rglob("*.log*")):
            zf.write(p, p.relative_to(SAMPLES).as_posix())
    data = buf.getvalue()
    (tmp / "truncated.zip").write_bytes(data[: len(data) // 2])
    return tmp / "truncated.zip"


def _partial(tmp: Path) -> list[Path]:
    """A good bundle next to a truncated zip (one cluster: the zip's logs never read)."""
    good = tmp / "healthy"
    shutil.copytree(SAMPLES / "healthy", good)
    return [good, _truncated_zip(tmp)]


def _outputs(inputs: list[Path], *extra: str) -> dict[str, Result]:
    return {fmt: run("check", *inputs, "--format", fmt, *extra) for fmt in FORMATS}


FORMATS = ("text", "json", "sarif", "junit")


def _junit_inputs_error(res: Result) -> str | None:
    root = ET.fromstring(res.stdout)
    case = root.find("./testsuite/testcase[@classname='logdoctor.inputs']")
    assert case is not None
    err = case.find("error")
    return None if err is None else err.get("message")


@pytest.mark.parametrize("case", list(NOTHING))
def test_check_on_nothing_read_says_so_in_every_format(case: str, tmp_path: Path) -> None:
    inputs, what = NOTHING[case](tmp_path)
    out = _outputs(inputs)
    for fmt, res in out.items():
        assert res.exit_code == 2, (fmt, res.output)
        assert "Traceback" not in res.output
        assert "passed" not in res.stdout.replace('"passed": false', "")
    assert "NOT CHECKED" in out["text"].stdout and what in " ".join(out["text"].output.split())
    doc = json.loads(out["json"].stdout)
    s = doc["summary"]
    assert (s["passed"], s["status"], s["complete"]) == (False, "not-checked", False)
    assert "no log" in s["not_read"] and what in json.dumps(doc)
    assert doc["errors"][-1]["type"] == "no-logs"
    sarif = json.loads(out["sarif"].stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(sarif)
    inv = sarif["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False and inv["exitCode"] == 2
    assert {n["descriptor"]["id"] for n in inv["toolExecutionNotifications"]} >= {"no-logs"}
    message = _junit_inputs_error(out["junit"])
    assert message is not None and "no log" in message
    assert ET.fromstring(out["junit"].stdout).get("errors") == "1"


def test_check_on_a_partly_unreadable_input_is_incomplete(tmp_path: Path) -> None:
    inputs = _partial(tmp_path)
    out = _outputs(inputs)
    for fmt, res in out.items():
        assert res.exit_code == 2, (fmt, res.output)
        assert "truncated.zip" in res.stdout.replace("\n", ""), fmt  # names what was not read
    text = " ".join(out["text"].stdout.split())
    assert "INCOMPLETE: 1 input(s) not read: " in text and "passed" not in text
    s = json.loads(out["json"].stdout)["summary"]
    assert (s["passed"], s["status"], s["complete"]) == (False, "incomplete", False)
    inv = json.loads(out["sarif"].stdout)["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    assert [n["descriptor"]["id"] for n in inv["toolExecutionNotifications"]] == ["input-not-read"]
    message = _junit_inputs_error(out["junit"])
    assert message is not None and "truncated.zip" in message


def test_allow_partial_judges_what_was_read_and_still_names_the_rest(tmp_path: Path) -> None:
    inputs = _partial(tmp_path)
    out = _outputs(inputs, "--allow-partial")
    for fmt, res in out.items():
        assert res.exit_code == 0, (fmt, res.output)
        assert "truncated.zip" in res.stdout.replace("\n", ""), fmt
    assert "; passed (nothing new at or above warning); INCOMPLETE" in " ".join(
        out["text"].stdout.split()
    )
    s = json.loads(out["json"].stdout)["summary"]
    assert (s["passed"], s["status"], s["complete"]) == (True, "passed", False)
    assert out["text"].stderr.startswith("logdoctor: warning: ")
    assert "truncated.zip: not read: " in out["text"].stderr


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--allow-partial",),
        ("--fail-on", "never"),
        ("--fail-on", "error"),
    ],
)
@pytest.mark.parametrize("case", ["good", "findings", "partial", "missing"])
def test_text_and_json_never_disagree_about_passing(
    case: str, args: tuple[str, ...], tmp_path: Path
) -> None:
    inputs = {
        "good": [SAMPLES / "healthy"],
        "findings": [SAMPLES / "expressway-refresh-ucm-off"],
        "partial": _partial(tmp_path),
        "missing": [tmp_path / "nope"],
    }[case]
    text = run("check", *inputs, *args)
    doc = run("check", *inputs, "--format", "json", *args)
    passed = json.loads(doc.stdout)["summary"]["passed"]
    assert text.exit_code == doc.exit_code
    assert passed == (doc.exit_code == 0)
    assert ("passed" in text.stdout) == passed, text.stdout


@pytest.mark.parametrize("case", list(NOTHING))
def test_report_writes_nothing_when_nothing_was_read(case: str, tmp_path: Path) -> None:
    inputs, what = NOTHING[case](tmp_path)
    out = tmp_path / "r.html"
    res = run("report", *inputs, "-o", out)
    assert res.exit_code == 2 and not out.exists()
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("logdoctor: error: no log") and last.endswith("no report written")
    assert what in res.stderr and "Traceback" not in res.output


def _headline(html: str) -> str:
    start = html.index('class="headline">') + len('class="headline">')
    return html[start : html.index("</p>", start)]


def test_report_on_a_partly_unreadable_input_is_incomplete(tmp_path: Path) -> None:
    inputs = _partial(tmp_path)
    out = tmp_path / "r.html"
    res = run("report", *inputs, "-o", out)
    assert res.exit_code == 2 and out.exists()
    html = out.read_text(encoding="utf-8")
    assert 'class="verdict level-incomplete"' in html
    head = _headline(html)
    assert head.startswith("Incomplete: 1 input(s) could not be read (") and "truncated.zip" in head
    assert "No problem found in what was read." in head
    assert "truncated.zip" in res.stderr
    res = run("report", *inputs, "-o", out, "--allow-partial")
    assert res.exit_code == 0
    assert _headline(out.read_text(encoding="utf-8")).startswith("Incomplete: ")
    res = run("report", SAMPLES / "healthy", "-o", out)
    assert res.exit_code == 0
    assert _headline(out.read_text(encoding="utf-8")) == "No problem found in these logs."


def _partly_read(tmp: Path) -> tuple[list[Path], Path]:
    """A good bundle in which one ssosp file is a gzip cut in half (its first part is read)."""
    good = tmp / "healthy"
    shutil.copytree(SAMPLES / "healthy", good)
    log = good / "ucm-pub" / "tomcat" / "logs" / "ssosp" / "log4j" / "ssosp00001.log"
    packed = gzip.compress(log.read_bytes())
    cut = log.with_name(log.name + ".gz")
    cut.write_bytes(packed[: len(packed) // 2])
    log.unlink()
    return [good], cut


def test_a_partly_read_input_makes_check_and_report_incomplete(tmp_path: Path) -> None:
    """harden-ingest's partly read files (a truncated gzip: what it holds is parsed) are not
    a complete read: incomplete, exit 2, named as partly read in every output."""
    inputs, cut = _partly_read(tmp_path)
    out = _outputs(inputs)
    for fmt, res in out.items():
        assert res.exit_code == 2, (fmt, res.output)
        assert "ssosp00001.log.gz" in res.stdout.replace("\n", ""), fmt
    text = " ".join(out["text"].stdout.split())
    assert "INCOMPLETE: 1 input(s) only partly read: " in text and "passed" not in text
    assert f"{cut}: partly read, " in out["text"].stderr
    doc = json.loads(out["json"].stdout)
    s = doc["summary"]
    assert (s["passed"], s["status"], s["complete"]) == (False, "incomplete", False)
    assert [(e["type"], e["path"], e["partial"]) for e in doc["errors"]] == [
        ("input", str(cut), True)
    ]
    inv = json.loads(out["sarif"].stdout)["runs"][0]["invocations"][0]
    ids = [n["descriptor"]["id"] for n in inv["toolExecutionNotifications"]]
    assert ids == ["input-partly-read"] and inv["executionSuccessful"] is False
    allowed = run("check", *inputs, "--allow-partial", "--format", "json")
    assert allowed.exit_code == 1, allowed.output  # judged: LD905 names the undecodable cut
    summary = json.loads(allowed.stdout)["summary"]
    assert (summary["status"], summary["by_rule"], summary["complete"]) == (
        "failed",
        {"LD905": 1},
        False,
    )
    assert f"logdoctor: warning: {cut}: partly read, " in allowed.stderr
    assert "not read" not in allowed.stderr
    page = tmp_path / "r.html"
    res = run("report", *inputs, "-o", page)
    assert res.exit_code == 2 and page.exists()
    html = page.read_text(encoding="utf-8")
    assert 'class="verdict level-warning"' in html  # LD905, worse than incomplete alone
    head = _headline(html)
    assert head.startswith("Incomplete: 1 input(s) were only partly read (") and cut.name in head
    assert "1 problem to fix. Worst: Malformed lines or undecodable bytes" in head
    assert '<div class="error">partly read, ' in html  # its coverage row says where it stopped


@pytest.mark.parametrize("case", ["empty folder", "missing path", "corrupt zip"])
@pytest.mark.parametrize(
    "command",
    [
        ("stats",),
        ("stats", "--format", "json"),
        ("parse",),
        ("parse", "--format", "jsonl"),
        ("parse", "--format", "csv"),
        ("parse", "--format", "parquet", "-o", "OUT"),
        ("timeline", "--user", "x"),
        ("timeline", "--node", "ucm-pub", "--format", "jsonl"),
    ],
)
def test_log_commands_on_inputs_without_a_log_file_exit_2_with_one_line(
    case: str, command: tuple[str, ...], tmp_path: Path
) -> None:
    inputs, what = NOTHING[case](tmp_path)
    out = tmp_path / "out.parquet"
    res = run(command[0], *inputs, *(str(out) if a == "OUT" else a for a in command[1:]))
    assert not out.exists()
    assert res.exit_code == 2, res.output
    assert res.stdout == ""  # no empty table, no header
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("logdoctor: error: no log file found in")
    assert what in lines[0] or case == "empty folder"


@pytest.mark.parametrize(
    "command",
    [("stats",), ("parse", "--format", "jsonl"), ("timeline", "--user", "pmeyer")],
)
def test_log_commands_on_partial_inputs_exit_2_and_name_what_was_not_read(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    inputs = _partial(tmp_path)
    res = run(command[0], *inputs, *command[1:])
    assert res.exit_code == 2
    assert "truncated.zip" in res.stderr and res.stdout  # the rest is still shown


@pytest.mark.parametrize(
    "command",
    [
        ("parse", "--format", "jsonl"),
        ("parse", "--format", "jsonl", "--order", "file"),
        ("timeline",),
    ],
)
def test_a_user_not_found_in_partial_inputs_is_exit_2_not_1(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    """Exit 1 says "not in the logs"; with an input not read, the user may be in it."""
    inputs = _partial(tmp_path)
    res = run(command[0], *inputs, *command[1:], "--user", "nobody-here")
    assert res.exit_code == 2, res.output
    assert "truncated.zip" in res.stderr and "no such user 'nobody-here'" in res.stderr
    good = run(command[0], inputs[0], *command[1:], "--user", "nobody-here")
    assert good.exit_code == 1, good.output


def test_fleet_fails_a_bundle_of_which_no_record_was_read(tmp_path: Path) -> None:
    inputs, _what = _no_record(tmp_path)
    res = run("fleet", *inputs, "--in-process", "-o", tmp_path / "out")
    assert res.exit_code == 2, res.output
    (c,) = json.loads((tmp_path / "out" / "clusters.json").read_text())
    assert c["status"] == "failed" and "no log record was read" in c["error"]
