"""`logdoctor report`: writes the page, prints its path, one-line errors with exit status 2."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from logdoctor.cli import main
from tests.helpers.report import normal_bundle


def test_report_writes_the_page_and_prints_its_path(runner: CliRunner, tmp_path: Path) -> None:
    root = normal_bundle(tmp_path / "b")
    out = tmp_path / "out" / "r.html"
    out.parent.mkdir()
    res = runner.invoke(
        main, ["report", str(root), "-o", str(out), "--title", "Site <A>", "--tz", "UTC"]
    )
    assert res.exit_code == 0, res.output
    assert res.stdout == f"{out}\n" and res.stderr == ""
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    # the tab says what and how bad: the title (here --title) and the verdict
    assert re.search(r"<title>Site &lt;A&gt;: \d+ problems? to fix · logdoctor</title>", html)
    assert "<h1>Site &lt;A&gt;</h1>" in html
    assert '<td class="name">bob</td>' in html and "2 h 15 min" in html
    assert '<section id="verdict" class="verdict level-' in html


def test_the_title_names_the_bundle_and_the_verdict(runner: CliRunner, tmp_path: Path) -> None:
    root = normal_bundle(tmp_path / "site-b")
    out = tmp_path / "r.html"
    assert runner.invoke(main, ["report", str(root), "-o", str(out)]).exit_code == 0
    html = out.read_text(encoding="utf-8")
    m = re.search(r"<title>site-b: (\d+) problems? to fix · logdoctor</title>", html)
    assert m is not None, html[:600]
    assert f'class="headline">{m.group(1)} problem' in html  # the verdict's own count
    assert "<h1>site-b</h1>" in html


def test_gap_option_is_gone_gaps_follow_ld902(runner: CliRunner, tmp_path: Path) -> None:
    root = normal_bundle(tmp_path / "b")
    res = runner.invoke(main, ["report", str(root), "-o", str(tmp_path / "r.html"), "--gap", "30"])
    assert res.exit_code == 2 and "No such option '--gap'" in res.stderr


def test_unreadable_input_still_gives_a_report_and_exit_2(
    runner: CliRunner, tmp_path: Path
) -> None:
    root = normal_bundle(tmp_path / "b")
    bad = root / "ucm-pub" / "platform" / "log" / "certMgmt00001.log"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"\x00\x00\x00\x01binary")
    out = tmp_path / "r.html"
    res = runner.invoke(main, ["report", str(root), "-o", str(out), "--tz", "UTC"])
    assert res.exit_code == 2
    assert res.stdout == f"{out}\n"
    (line,) = res.stderr.splitlines()
    assert line.startswith("logdoctor: error: ") and "certMgmt00001.log" in line
    html = out.read_text(encoding="utf-8")
    assert "could not be read: binary content" in html and '<td class="name">alice</td>' in html


def test_missing_input_is_one_line_and_no_file(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = runner.invoke(main, ["report", str(tmp_path / "nope"), "-o", str(out)])
    assert res.exit_code == 2 and not out.exists() and res.stdout == ""
    first, last = res.stderr.splitlines()
    assert first.startswith("logdoctor: error: ") and "nope" in first
    assert last == "logdoctor: error: no log was read: no report written"


def test_unwritable_output_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    root = normal_bundle(tmp_path / "b")
    res = runner.invoke(main, ["report", str(root), "-o", str(tmp_path / "no" / "dir" / "r.html")])
    assert res.exit_code == 2
    (line,) = res.stderr.splitlines()
    assert "cannot write" in line and "Traceback" not in res.output
    res = runner.invoke(main, ["report", str(root), "-o", "-"])
    assert res.exit_code == 2 and "--output" in res.stderr


def test_missing_config_file_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    root = normal_bundle(tmp_path / "b")
    res = runner.invoke(main, ["report", str(root), "--config", str(tmp_path / "none.toml")])
    assert res.exit_code == 2 and "none.toml" in res.stderr


def test_report_help_names_the_options(runner: CliRunner) -> None:
    res = runner.invoke(main, ["report", "--help"])
    assert res.exit_code == 0
    for opt in ("--output", "--config", "--title", "--tz", "--set-node", "--jobs"):
        assert opt in res.output
    assert "--gap" not in res.output
