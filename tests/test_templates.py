"""Event templates: parsing, derived regexes, the format check, the one encoder, and that the
writers render through it (no writer types a templated message by hand)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from logdoctor.ingest.formats.catalog import load_formats
from logdoctor.ingest.formats.encoders import family
from logdoctor.ingest.formats.templates import (
    Stamp,
    TemplateError,
    encoder,
    parse_template,
    percent,
    template_regex,
)
from logdoctor.ingest.formats.types import Format, FormatError
from logdoctor.ingest.parse import LineParser, iter_lines
from tests.test_formats import MINIMAL as BASE

ROOT = Path(__file__).resolve().parent.parent

MINIMAL = (
    BASE.replace(
        "regex = '^login ok user=(?P<user>\\S+)'",
        "template = 'login ok user={user} from={_address}'",
    )
    .replace("INFO login ok user=alice", "INFO login ok user=alice from=10.0.0.1")
    .replace(
        "[[event]]",
        '[writer]\nlayout = "{ts} {level} {msg}"\nstamps = { ts = "%Y-%m-%d %H:%M:%S" }\n'
        'probe = { level = "INFO" }\n\n[[event]]',
    )
)


def _load(tmp_path: Path, text: str) -> list[Format]:
    d = tmp_path / "fmts"
    d.mkdir(exist_ok=True)
    (d / "mylog.toml").write_text(text)
    return load_formats([d])


# -- templates -------------------------------------------------------------------------------------


def test_a_template_derives_the_regex_split_plan_reads() -> None:
    t = parse_template("Access token issued: user={user} error={_error} kid={key}")
    assert t.columns == ("user", "key")
    assert t.keys == ("user", "error", "key")
    assert (
        template_regex(t) == r"^Access token issued: user=(?P<user>\S+) error=\S+ kid=(?P<key>\S+)"
    )
    assert template_regex(parse_template("a.b (c) {value}")) == r"^a\.b \(c\) (?P<value>\S+)"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("user={usr}", "not an event column"),
        ("a={user} b={user}", "appears twice"),
        ("{user}{device}", "nothing between them"),
        ("a={user} }", "unbalanced"),
        ("a={User}", "a column name or _word"),
        ("a={error} b={_error}", "not an event column"),
        ("", "non-empty"),
    ],
)
def test_bad_templates_are_refused(source: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=problem):
        parse_template(source)


def test_render_wants_exactly_its_fields() -> None:
    enc = family("ssosp")
    with pytest.raises(TemplateError, match="missing server"):
        enc.message("auth.success", user="a", param="password")
    with pytest.raises(TemplateError, match="no placeholder for usr"):
        enc.message("auth.success", user="a", param="password", server=None, usr="x")
    with pytest.raises(TemplateError, match="no templated event 'nope'"):
        enc.message("nope")


def test_percent_keeps_a_value_one_token() -> None:
    assert percent(None) == "-" and percent("") == "-" and percent("-") == "%2D"
    assert percent("alice@example.com") == "alice@example.com"
    assert percent("a b=c\nd%") == "a%20b%3Dc%0Ad%25"


def test_stamps_of_datetimes_and_posix_times_agree() -> None:
    s = Stamp("%Y-%m-%d %H:%M:%S,%3f")
    when = datetime(2026, 11, 20, 8, 0, 1, 234567)
    assert s.format(when) == "2026-11-20 08:00:01,234"
    posix = (when - datetime(1970, 1, 1)).total_seconds()
    assert s.format(posix) == "2026-11-20 08:00:01,234"
    assert s.format(posix + 1) == "2026-11-20 08:00:02,234"  # the cached second moves on
    assert Stamp("%b %d %Y %H:%M:%S.%3f UTC").format(when) == "Nov 20 2026 08:00:01.234 UTC"


# -- the format check ------------------------------------------------------------------------------


def test_a_user_format_with_a_template_loads_and_renders(tmp_path: Path) -> None:
    fmt = next(f for f in _load(tmp_path, MINIMAL) if f.name == "mylog")
    (event,) = fmt.events
    assert event.regex.source == r"^login ok user=(?P<user>\S+) from=\S+"
    assert fmt.render("auth.success", user="bo b", address="::1") == "login ok user=bo%20b from=::1"
    line = encoder(fmt).line("x", ts=datetime(2026, 1, 2, 3, 4, 5), level="WARN")
    assert line == "2026-01-02 03:04:05 WARN x"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # a regex the template does not fit
        (
            "template = 'login ok user={user} from={_address}'",
            "template = 'login ok user={user} from={_address}'\n"
            "regex = '^login ok user=(?P<user>\\S+) from=10\\.'",
            r"event\[0\] \(auth.success\): template and regex disagree",
        ),
        # a layout the header cannot read back
        ('layout = "{ts} {level} {msg}"', 'layout = "{ts} [{level}] {msg}"', "writer"),
        ('layout = "{ts} {level} {msg}"', 'layout = "{ts} {level}"', "writer"),
        ('probe = { level = "INFO" }', "probe = { level = 1 }", "probe must be a table"),
        ("template = 'login ok user={user} from={_address}'", "template = 'login {usr}'", "usr"),
        (
            "template = 'login ok user={user} from={_address}'",
            "name = 'x'\nregex = '^login ok user=(?P<user>\\S+)'",
            "on a templated",
        ),
    ],
)
def test_templates_that_disagree_are_refused(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in MINIMAL
    with pytest.raises(FormatError, match=message):
        _load(tmp_path, MINIMAL.replace(old, new))


def test_a_regex_reading_another_column_than_the_template_is_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "template = 'login ok user={user} from={_address}'",
        "template = 'login ok user={user} from={_address}'\n"
        "regex = '^login ok user=(?P<device>\\S+)'",
    ).replace('fields = { user = "alice",', 'fields = { device = "alice",')
    with pytest.raises(FormatError, match=r"\{user\} written 'xuser' reads back None"):
        _load(tmp_path, text)


def test_a_template_an_earlier_event_reads_is_refused(tmp_path: Path) -> None:
    earlier = """[[event]]
kind = "auth.failure"
basis = "modelled"
regex = '^login ok user=x'

[[sample]]
line = "2026-01-01 10:00:00 INFO login ok user=xavier"
kind = "auth.failure"

"""
    text = MINIMAL.replace("[[event]]", earlier + "[[event]]", 1)
    with pytest.raises(FormatError, match=r"read by event\[0\] \(auth.failure\)"):
        _load(tmp_path, text)


# -- round trip: every templated event of every built-in family ------------------------------------

HOSTILE = ("a b", "x=y via=evil", "100%", "line\nbreak", "é\u202e", "-", "", None, "[x]", '"q"')


def _templated() -> list[tuple[str, str]]:
    out = []
    for f in load_formats():
        if f.writer is None:
            continue
        for name in encoder(f).templates:
            out.append((f.name, name))
    return out


@pytest.mark.parametrize(("fmt_name", "event"), _templated())
def test_every_template_reads_back_what_it_writes(fmt_name: str, event: str) -> None:
    fmt = next(f for f in load_formats() if f.name == fmt_name)
    enc = encoder(fmt)
    t = enc.template(event)
    pattern = next(e for e in fmt.events if (e.name or e.kind) == event and e.template)
    for i, hostile in enumerate(HOSTILE):
        values: dict[str, object] = {k: f"v{i}{k}" for k in t.keys}
        free = [
            n
            for n in t.names
            if not n.startswith("_") and pattern.regex.source.count(f"(?P<{n}>\\S+)")
        ]
        for n in t.columns:
            if n not in free:  # a regex that accepts certain words: a sample's word
                values[n] = next(s.fields[n] for s in fmt.samples if s.fields.get(n))
        for n in free:
            values[n] = hostile
        msg = enc.message(event, **values)
        assert "\n" not in msg
        stamps = {k: datetime(2026, 11, 20, 8, 0, 1, 5000) for k in enc.stamps}
        line = enc.line(msg, **stamps, **enc.probe)
        lp = LineParser(fmt, file="f", node="n")
        recs = [r for ln in iter_lines(line) for r in lp.feed(ln)] + lp.flush()
        assert len(recs) == 1
        row = recs[0].as_row()
        assert row["kind"] == pattern.kind
        for n in free:
            want = None if hostile in ("", None) else hostile
            if enc.values is percent:
                assert row[n] == want, (n, hostile, line)


# -- the writers render through the encoder -------------------------------------------------------

WRITERS = (
    "logdoctor/tokenservice/messages.py",
    "logdoctor/tokenservice/logwriter.py",
    "tests/rules/cases.py",
    "tests/helpers/bundle.py",
    "tests/helpers/lines.py",
    "tests/helpers/report.py",
    "benchmarks/gen_ssosp.py",
    "benchmarks/report.py",
    "benchmarks/bench_tail.py",
)


@pytest.mark.parametrize("path", WRITERS)
def test_no_writer_types_a_templated_message(path: str) -> None:
    """A writer that re-typed a template's text (the W2 finding) fails here."""
    source = (ROOT / path).read_text(encoding="utf-8")
    for f in load_formats():
        for e in f.events:
            if e.template is None:
                continue
            head = parse_template(e.template).literals[0]
            if "=" in head or len(head) > 12:
                assert head not in source, f"{path} types {head!r} of {f.name}'s {e.kind}"
    assert not re.search(r"\{level:<5\} \[", source), f"{path} builds a log4j line by hand"


def _read_line(fmt_name: str, line: str) -> dict[str, object]:
    fmt = next(f for f in load_formats() if f.name == fmt_name)
    lp = LineParser(fmt, file="f", node="folder-node")
    (rec,) = [r for ln in iter_lines(line) for r in lp.feed(ln)] + lp.flush()
    return rec.as_row()


def test_syslog_alarms_round_trip_and_a_value_cannot_forge_a_parameter() -> None:
    syslog = family("ciscosyslog")
    when = datetime(2026, 11, 16, 5, 35, 0, 250000)
    head = {"host": "imp1", "level": "6", "seq": "7", "fqdn": "imp1.example.com"}
    for name, kind in (
        ("service.started", "service.started"),
        ("service.stopped", "service.stopped"),
    ):
        msg = syslog.message(
            name,
            param="Cisco XCP Authentication Service",
            pid=4242,
            cluster="StandAloneCluster",
            node="imp1",
        )
        row = _read_line("ciscosyslog", syslog.line(msg, local=when, ts=when, **head))
        assert (row["kind"], row["param"], row["node"]) == (
            kind,
            "Cisco XCP Authentication Service",
            "imp1",
        )
        assert row["basis"] in ("published", "documented")
        assert str(row["time"]).startswith("2026-11-16 05:35:00.250")
    evil = syslog.message(
        "service.failed", param="x][NodeID=evil", reason="a]\n[b", cluster="c", node="imp1"
    )
    row = _read_line("ciscosyslog", syslog.line(evil, local=when, ts=when, **head))
    assert row["kind"] == "service.failed" and row["node"] == "imp1"
    assert row["param"] == "x)(NodeID=evil" and row["reason"] == "a) (b"
    for name in ("sso.enabled", "sso.disabled", "authz.keys.mismatch", "cert.expiry"):
        fields = {"reason": "expires soon"} if name == "cert.expiry" else {}
        msg = syslog.message(name, cluster="c", node="cuc1", **fields)
        row = _read_line("ciscosyslog", syslog.line(msg, local=when, ts=when, **head))
        assert (row["kind"], row["node"]) == (name, "cuc1")


def test_an_audit_event_round_trips() -> None:
    audit = family("auditapp")
    msg = audit.message(
        "audit.service",
        user="admin",
        address="10.0.0.5",
        param="Cisco CallManager",
        value="Successful",
        reason="Service restarted",
        cluster="StandAloneCluster",
        node="ucm-sub1",
    )
    line = audit.line(msg, ts=datetime(2026, 11, 16, 5, 35), level="INFO", thread="main")
    row = _read_line("auditapp", line)
    assert (row["kind"], row["user"], row["param"], row["value"], row["reason"], row["node"]) == (
        "audit.service",
        "admin",
        "Cisco CallManager",
        "Successful",
        "Service restarted",
        "ucm-sub1",
    )
