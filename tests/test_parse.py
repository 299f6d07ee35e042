"""The parse engines on real and awkward inputs: folding, encodings, zones, links, fields."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from logdoctor.ingest.parse import LineParser, iter_lines, parse_bytes
from logdoctor.table import FIELD_COLUMNS
from logdoctor.timestamps import resolve_zone
from tests.helpers.paths import asset


def both(fmt, data: bytes, **kw):
    """Parse with both engines; assert they agree; return the bulk frame and stats."""
    frame, stats = parse_bytes(data, fmt, file="f", node="n", **kw)
    lp = LineParser(fmt, file="f", node="n", **kw)
    text = data.decode("utf-8", errors="replace")
    recs = [r for ln in iter_lines(text) for r in lp.feed(ln)] + lp.flush()
    # Links (certMgmt: an operation's unit comes from a later line) are a bulk post-pass.
    linked = {lk.field for lk in fmt.links}
    rows = [{k: v for k, v in r.as_row().items() if k not in linked} for r in recs]
    assert rows == [{k: v for k, v in d.items() if k not in linked} for d in frame.to_dicts()]
    assert (lp.stats.lines, lp.stats.records, lp.stats.malformed) == (
        stats.lines,
        stats.records,
        stats.malformed,
    )
    return frame, stats


UCM125_KINDS = [
    "sso.filter",
    "sso.filter",
    "saml.detail",
    "saml.detail",
    "saml.detail",
    "saml.detail",
    "saml.detail",
    "saml.detail",
    "saml.request",
    "saml.response",
    "saml.detail",
    "saml.detail",
    "saml.assertion",
    "saml.time.valid",
    "saml.detail",
    "saml.assertion",
    "saml.user",
    "saml.detail",
    "saml.detail",
    "saml.relay",
    "saml.relay",
]


def test_ucm125_saml_trace(formats) -> None:
    frame, stats = both(formats["ssosp"], asset("verbatim/ssosp-ucm125.log").read_bytes())
    assert frame["kind"].to_list() == UCM125_KINDS
    assert stats.unrecognized == stats.malformed == 0
    row = frame.row(16, named=True)
    assert (row["user"], row["thread"], row["logger"], row["level"]) == (
        "admin",
        "http-bio-8443-exec-85",
        "authentication.SAMLAuthenticator",
        "DEBUG",
    )
    assert row["time"] == datetime(2021, 4, 30, 9, 1, 4, 90000, tzinfo=UTC)


def test_ucm15_stack_trace_is_folded_into_one_record(formats) -> None:
    data = asset("verbatim/ssosp-ucm15.log").read_bytes()
    frame, stats = both(formats["ssosp"], data)
    assert (stats.lines, stats.records, stats.record_lines, stats.malformed) == (5, 1, 5, 0)
    row = frame.row(0, named=True)
    assert row["kind"] == "saml.decrypt.failed"
    assert row["logger"] == "cpi.sso.saml.sp.security.authentication.SAMLAuthenticator"
    assert row["message"].count("\n") == 4 and row["message"].endswith("~[?:?]")


def test_push_notification_tokens_are_not_oauth(formats) -> None:
    frame, _ = both(formats["ssosp"], asset("verbatim/ssosp-push.log").read_bytes())
    # The second line says invalid_request/invalid_client: still push traffic, not oauth.error.
    assert frame["kind"].to_list() == ["push.token"] * 3


def test_certmgmt_operation_gets_its_unit(formats) -> None:
    frame, stats = both(formats["certmgmt"], asset("verbatim/certMgmt00001.log").read_bytes())
    assert stats.unrecognized == 0
    op = frame.filter(pl.col("kind") == "cert.regenerated").row(0, named=True)
    assert (op["value"], op["param"], op["line"]) == ("regenerate", "tomcat", 4)


def test_certmgmt_info_block_without_timestamps(formats) -> None:
    data = (
        b"2014-08-02 23:40:12,090 INFO [main] - op:import\n"
        b"2014-08-02 23:40:12,100 INFO [main] - IN -- CertMgr.java - doOp(info) -\n"
        b"unit:  tomcat-trust\n"
        b"type:  trust-certs\n"
        b"2014-08-02 23:40:13,000 INFO [main] - OUT -- CertMgr.java - doOp - done\n"
    )
    frame, stats = both(formats["certmgmt"], data)
    assert frame["kind"].to_list() == ["cert.imported", "cert.unit", "cert.trace"]
    assert frame["param"][0] == "tomcat-trust"
    assert stats.record_lines == 5


def test_crlf_and_missing_final_newline(formats) -> None:
    data = (
        b"2021-04-30 09:00:53,156 DEBUG [t] filter.SSOAuthAgentFilter - servlet path :/a\r\n"
        b"  continuation\r\n"
        b"2021-04-30 09:00:54,000 INFO  [t] x.Y - hello"
    )
    frame, stats = both(formats["ssosp"], data)
    assert stats.lines == 3 and stats.records == 2
    assert frame["message"].to_list() == [
        ":/a\n  continuation".replace(":/a", "servlet path :/a"),
        "hello",
    ]
    assert not any("\r" in m for m in frame["message"].to_list())


def test_invalid_utf8_is_replaced_and_counted(formats) -> None:
    data = b"2021-04-30 09:00:53,156 INFO  [t] x.Y - caf\xe9 \xff\xfe ok\n"
    frame, stats = both(formats["ssosp"], data)
    assert stats.decode_errors == 3  # \xe9, \xff and \xfe each become one U+FFFD
    assert frame["message"][0] == "caf\ufffd \ufffd\ufffd ok"


def test_empty_file(formats) -> None:
    frame, stats = parse_bytes(b"", formats["ssosp"], file="f", node="n")
    assert frame.height == 0 and stats.lines == 0 and stats.records == 0


def test_lines_before_the_first_header_are_malformed_and_numbered(formats) -> None:
    data = b"garbage\n\nmore garbage\n2021-04-30 09:00:53,156 INFO  [t] x.Y - first\ntail\n"
    frame, stats = both(formats["ssosp"], data)
    assert (stats.malformed, stats.malformed_lines) == (3, [1, 2, 3])
    assert stats.records == 1 and frame["line"][0] == 4 and frame["message"][0] == "first\ntail"
    assert stats.lines == stats.record_lines + stats.malformed


def test_a_one_megabyte_line(formats) -> None:
    big = "x" * (1 << 20)
    data = f"2021-04-30 09:00:53,156 INFO  [t] x.Y - {big}\n".encode()
    frame, stats = both(formats["ssosp"], data)
    assert stats.records == 1 and len(frame["message"][0]) == 1 << 20
    assert frame["kind"][0] == "unrecognized"


def test_bad_timestamp_keeps_the_record(formats) -> None:
    data = b"2021-13-45 09:00:53,156 INFO  [t] x.Y - impossible date\n"
    frame, stats = both(formats["ssosp"], data)
    assert stats.records == 1 and stats.bad_timestamps == 1 and frame["time"][0] is None


def test_timezones_convert_to_utc(formats) -> None:
    data = b"2021-04-30 09:00:53,156 INFO  [t] x.Y - m\n2021-11-07 01:30:00,000 INFO  [t] x.Y - m\n"
    ny, _ = both(formats["ssosp"], data, zone=resolve_zone("America/New_York"))
    assert ny["time"].to_list() == [
        datetime(2021, 4, 30, 13, 0, 53, 156000, tzinfo=UTC),
        datetime(2021, 11, 7, 5, 30, tzinfo=UTC),
    ]  # ambiguous: EDT
    fixed, _ = both(formats["ssosp"], data, zone=resolve_zone("+02:00"))
    assert fixed["time"][0] == datetime(2021, 4, 30, 7, 0, 53, 156000, tzinfo=UTC)


def test_values_are_percent_decoded_and_dash_means_empty(formats) -> None:
    line = (
        "2026-11-20 08:00:00,001 INFO  [http-bio-8443-exec-12] oauth.AuthorizeServlet - "
        "Authorize request: response_type=code client_id=C1 user=%3Cscript%3E%20x "
        "device=- agent=Jabber%2F14.1 via=-\n"
    )
    frame, _ = both(formats["ssosp"], line.encode())
    row = frame.row(0, named=True)
    assert row["user"] == "<script> x" and row["device"] is None and row["agent"] == "Jabber/14.1"
    assert row["server"] is None


def test_ssoapp_is_tolerant_of_three_layouts(formats) -> None:
    data = (
        b"2026-11-20 06:00:00,000 INFO  [main] sso.SSOApp - SAML SSO enable operation successful\n"
        b"2026-11-20 06:00:01,000 INFO [main] - samltrace level set to DEBUG\n"
        b"2026-11-20T06:00:02.250-05:00 SAML SSO disable operation successful\n"
        b"no timestamp: continues the record above\n"
    )
    frame, stats = both(formats["ssoapp"], data)
    assert frame["kind"].to_list() == ["sso.enabled", "trace.level", "sso.disabled"]
    assert frame["logger"].to_list() == ["sso.SSOApp", None, None]
    assert frame["time"][2] == datetime(2026, 11, 20, 11, 0, 2, 250000, tzinfo=UTC)
    assert stats.record_lines == 4


def test_every_field_column_is_string_or_null(formats) -> None:
    frame, _ = both(formats["ssosp"], asset("verbatim/ssosp-ucm125.log").read_bytes())
    for c in FIELD_COLUMNS:
        assert frame[c].dtype == pl.String


@pytest.mark.parametrize("family", ["ssosp", "certmgmt", "ssoapp"])
def test_binary_garbage_never_crashes(formats, family) -> None:
    data = bytes(range(256)) * 64 + b"\n\x00\x00\n"
    _, stats = both(formats[family], data)
    assert stats.lines == stats.record_lines + stats.malformed


@pytest.mark.parametrize("start", [b"\x1f\x8b", b"x^", b"x\x01", b"x\x9c", b"(\xb5/\xfd"])
def test_content_that_looks_compressed_is_read_as_text(formats, start: bytes) -> None:
    # polars' line reader would try to decompress these; the engine must not.
    data = start + b" junk\n2021-04-30 09:00:53,156 INFO  [t] x.Y - hello\n"
    frame, stats = both(formats["ssosp"], data)
    assert stats.lines == 2 and stats.malformed == 1 and frame["message"].to_list() == ["hello"]
