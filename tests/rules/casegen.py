"""Build small RTMT-style log bundles for rule tests: the rule cases' names for the shared
builders of :mod:`tests.helpers` (:class:`~tests.helpers.bundle.Bundle`, whose lines
:mod:`tests.helpers.lines` renders through the built-in formats' templates, and the traffic of
:mod:`tests.helpers.traffic`), plus :func:`write_expected`. Kept here because ``cases.py``
imports it as ``casegen``.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.bundle import Bundle
from tests.helpers.lines import CLIENT, CLUSTER, ENCODERS, PATHS, SSOSP, checksum, kid
from tests.helpers.traffic import ENC1, ENC2, SIGN1, SIGN2, START, Client, Sim, staff

__all__ = [
    "CLIENT",
    "CLUSTER",
    "ENC1",
    "ENC2",
    "ENCODERS",
    "PATHS",
    "SIGN1",
    "SIGN2",
    "SSOSP",
    "START",
    "Bundle",
    "Client",
    "Sim",
    "checksum",
    "kid",
    "staff",
    "write_expected",
]


def write_expected(
    root: Path,
    name: str,
    expect: list[str],
    forbid: list[str],
    subjects: dict[str, list[str]] | None = None,
) -> None:
    doc = {
        "scenario": name,
        "seed": 1,
        "expect": expect,
        "forbid": forbid,
        "subjects": subjects or {},
        "noise": False,
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "expected.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
