"""The rule context's shared analyses, and what a rule needs to be evaluated."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import logdoctor
from logdoctor.pipeline import check
from logdoctor.rules import Context, get_rule
from logdoctor.rules.registry import Needs, rule
from tests.helpers.report import T0, Ssosp, ssosp_path


def test_a_key_regeneration_without_any_key_failure(tmp_path: Path) -> None:
    """LD202 on logs that regenerate the keys and then run on without a restart and without
    a single signature failure (it used to fail: the empty failure table lacked a column)."""
    s = Ssosp()
    s.key_regen(T0, "signing", "ab" * 32)
    for i in range(1, 50):
        s.login(T0 + timedelta(minutes=i), "alice")
    s.write(ssosp_path(tmp_path, "ucm-pub", 1))
    ctx = Context(logdoctor.load(tmp_path).frame)
    assert set(ctx.key_failures.columns) >= {"_cur", "_stale"}
    ld202 = [f for f in check([tmp_path]).findings if f.rule == "LD202"]
    assert [f.subjects for f in ld202] == [("ucm-pub",)]


def test_needs_say_which_logs_a_rule_reads() -> None:
    assert get_rule("LD203").needs.logs_text() == "logs of an IM and Presence node"
    assert get_rule("LD101").needs.logs_text() == "ssosp logs of a UCM node"
    assert Needs(nodes=2).logs_text() == "logs of 2 nodes or more"
    assert Needs(roles=("unity",)).logs_text() == "logs of a Unity Connection node"


def test_needs_config_must_be_a_known_value() -> None:
    with pytest.raises(ValueError, match=r"LD999: needs.config must be one of"):
        rule("LD999", get_rule("LD101").severity, "t", Needs(config="maybe"))
