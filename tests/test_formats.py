"""Format files: the built-ins load and check; a bad user format is refused, by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from logdoctor.ingest.formats.catalog import builtin_formats_dir, load_formats
from logdoctor.ingest.formats.lnav import lnav_format, lnav_reads_alike
from logdoctor.ingest.formats.types import FormatError

MINIMAL = r"""
name = "mylog"
family = "mylog"
title = "My log"
description = "test"
file_patterns = ["my*.log"]

[[header]]
regex = '^(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?P<level>[A-Z]+) (?P<msg>.*)$'
timestamp = ["%Y-%m-%d %H:%M:%S"]

[[event]]
kind = "auth.success"
basis = "modelled"
regex = '^login ok user=(?P<user>\S+)'

[[sample]]
line = "2026-01-01 10:00:00 INFO login ok user=alice"
kind = "auth.success"
fields = { user = "alice", level = "INFO", time = "2026-01-01T10:00:00.000" }
"""


def _write(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "fmts"
    d.mkdir(exist_ok=True)
    (d / "mylog.toml").write_text(text)
    return d


def test_builtin_formats_load_and_are_ordered_specific_first() -> None:
    names = [f.name for f in load_formats()]
    assert set(names) == {
        "ssosp",
        "ssoapp",
        "certmgmt",
        "ciscosyslog",
        "jabber",
        "expressway",
        "auditapp",
    }
    # The tolerant headers of ssoApp and AuditApp (layouts nobody has published) match the
    # others' samples: they are the most generic, after every format with a known layout.
    assert set(names[-2:]) == {"ssoapp", "auditapp"}
    assert names.index("ssosp") < names.index("ssoapp")
    assert {p.stem for p in builtin_formats_dir().glob("*.toml")} == set(names)


def test_a_valid_user_format_is_added(tmp_path: Path) -> None:
    fmts = load_formats([_write(tmp_path, MINIMAL)])
    assert "mylog" in [f.name for f in fmts]


def test_user_format_replaces_a_builtin_of_the_same_name(tmp_path: Path) -> None:
    text = MINIMAL.replace('name = "mylog"', 'name = "ssoapp"')
    fmts = {f.name: f for f in load_formats([_write(tmp_path, text)])}
    assert not fmts["ssoapp"].builtin and fmts["ssoapp"].title == "My log"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('name = "mylog"\n', "", r"mylog\.toml: name: required string is missing"),
        ('user = "alice", level', 'user = "alice", level', None),  # unchanged: control case
        (
            'fields = { user = "alice"',
            'fields = { user = "bob"',
            r"sample\[0\] \(auth.success\): field user: expected 'bob', parsed 'alice'",
        ),
        (
            'alice"\nkind = "auth.success"',
            'alice"\nkind = "auth.failure"',
            r"sample\[0\] \(auth.failure\): field kind: expected 'auth.failure', parsed "
            r"'auth.success'",
        ),
        (
            'kind = "auth.success"\nbasis',
            'kind = "no.such"\nbasis',
            r"event\[0\]: kind 'no.such' is not an event kind",
        ),
        (
            r"(?P<user>\S+)'",
            r"(?P<username>\S+)'",
            r"event\[0\] \(auth.success\): regex group 'username' is not an event column",
        ),
        (
            r"'^login ok",
            r"'(?<=x)^login ok",
            r"event\[0\] \(auth.success\): regex uses syntax the bulk engine does not support",
        ),
        (r"'^login ok", r"'^login (ok", r"event\[0\] \(auth.success\): regex is not a valid regex"),
        (
            'timestamp = ["%Y-%m-%d %H:%M:%S"]',
            'timestamp = ["%Y-%m-%d %H:%M:%Q"]',
            r"header\[0\]: timestamp: unsupported timestamp directive '%Q'",
        ),
        ("regex = '^(?P<ts>", "regex = '(?P<ts>", r"header\[0\]: regex must be anchored"),
        (r"(?P<msg>.*)$'", r"(?P<rest>.*)$'", r"header\[0\]: regex group 'rest' is not a header"),
        (
            'line = "2026-01-01 10:00:00 INFO login ok user=alice"',
            'line = "garbage line"',
            r"sample\[0\] \(auth.success\): must parse to exactly one record",
        ),
        (
            'time = "2026-01-01T10:00:00.000"',
            'time = "2026-01-01T10:00:01.000"',
            r"field time: expected '2026-01-01T10:00:01.000'",
        ),
        (
            "[[sample]]",
            '[[event]]\nkind = "auth.failure"\nbasis = "modelled"\nregex = \'^never\'\n\n'
            "[[sample]]",
            r"event\[1\] \(auth.failure\): no \[\[sample\]\] exercises this pattern",
        ),
        ('title = "My log"', "title = [", r"mylog\.toml: file: not valid TOML"),
        (
            'basis = "modelled"\n',
            "",
            r"mylog\.toml: event\[0\] \(auth.success\): basis None: every \[\[event\]\] must "
            r'say basis = "published"',
        ),
        (
            'basis = "modelled"',
            'basis = "real"',
            r"mylog\.toml: event\[0\] \(auth.success\): basis 'real': every \[\[event\]\]",
        ),
        (
            "[[sample]]",
            "[[field]]\nregex = '(?P<user>a)(?P<device>b)'\n\n[[sample]]",
            r"field\[0\]: regex must have exactly one named group, the column it fills",
        ),
        (
            "[[sample]]",
            "[[field]]\nregex = 'x(?P<agent>never)'\n\n[[sample]]",
            r"field\[0\] \(agent\): no \[\[sample\]\] gets its column from this extractor",
        ),
        (
            "[[sample]]",
            "[[field]]\nregex = 'ok (?P<device>\\S+)'\nkinds = [\"no.such\"]\n\n[[sample]]",
            r"field\[0\]: kinds: 'no.such' is not a recognized event kind",
        ),
        (
            'timestamp = ["%Y-%m-%d %H:%M:%S"]',
            'timestamp = ["%Y-%m-%d %H:%M:%S"]\nzone = "Mars/Olympus"',
            r"header\[0\]: zone: .*unknown time zone",
        ),
        (
            'timestamp = ["%Y-%m-%d %H:%M:%S"]',
            'timestamp = ["%Y-%m-%d %H:%M:%S"]\nuntimed = true',
            r"header\[0\]: untimed = true needs an empty \(\?P<ts>\) group",
        ),
        (
            'timestamp = ["%Y-%m-%d %H:%M:%S"]',
            'timestamp = ["%Y-%m-%d %H:%M:%S"]\nuntimed = "yes"',
            r"header\[0\]: untimed must be true or false",
        ),
        (
            "[[event]]",
            "[[header]]\nregex = '^(?P<ts>)-- (?P<msg>.*)$'\n"
            'timestamp = ["%Y-%m-%d %H:%M:%S"]\n\n[[event]]',
            r"header\[1\]: an empty \(\?P<ts>\) group reads no time: declare untimed = true",
        ),
    ],
)
def test_bad_formats_are_refused_naming_file_entry_field(
    tmp_path: Path, old: str, new: str, message: str | None
) -> None:
    assert old in MINIMAL
    d = _write(tmp_path, MINIMAL.replace(old, new))
    if message is None:
        load_formats([d])
        return
    with pytest.raises(FormatError, match=message):
        load_formats([d])


def test_formats_dir_must_hold_toml_files(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"no \*\.toml format file"):
        load_formats([tmp_path])
    with pytest.raises(FormatError, match="not a folder"):
        load_formats([tmp_path / "missing"])


def test_an_untimed_header_is_declared_and_left_out_of_the_lnav_export(tmp_path: Path) -> None:
    untimed = (
        "[[header]]\nregex = '^(?P<ts>)-- (?P<msg>.*)$'\n"
        'timestamp = ["%Y-%m-%d %H:%M:%S"]\nuntimed = true\n\n'
    )
    extra = (
        '[[sample]]\nline = "-- login ok user=bob"\nkind = "auth.success"\n'
        'fields = { time = "" }\n\n'
    )
    text = MINIMAL.replace("[[event]]", untimed + "[[event]]").replace(
        "[[sample]]", extra + "[[sample]]"
    )
    fmt = next(f for f in load_formats([_write(tmp_path, text)]) if f.name == "mylog")
    assert [h.untimed for h in fmt.headers] == [False, True]
    regexes = lnav_format(fmt)["regex"]
    assert sorted(regexes) == ["auth.success#0.0", "unrecognized#0"]
    assert not lnav_reads_alike(fmt, "-- login ok user=bob")
    assert lnav_reads_alike(fmt, "2026-01-01 10:00:00 INFO login ok user=alice")
