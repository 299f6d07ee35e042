"""Baselines: known findings that must not fail a build again.

A finding's identity is its rule and its subjects (what it is about: a server, a node, a
user), never line numbers or times, so the same problem seen in tomorrow's logs matches
today's baseline. :func:`fingerprint` is that identity as a hex digest; SARIF's
``partialFingerprints`` carries it too.

File format (JSON, sorted, stable under re-writing)::

    {"logdoctor_baseline": 1,
     "findings": [{"fingerprint": "...", "rule": "LD101", "subjects": ["expc1"],
                   "title": "..."}]}
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from logdoctor.model import Finding

__all__ = [
    "BASELINE_VERSION",
    "Baseline",
    "BaselineEntry",
    "BaselineError",
    "dump_baseline",
    "fingerprint",
    "load_baseline",
]

BASELINE_VERSION = 1


class BaselineError(ValueError):
    """A baseline file that cannot be read."""


def fingerprint(rule: str, subjects: Sequence[str]) -> str:
    """The stable identity of a finding: sha256 of its rule and subjects (32 hex digits)."""
    text = "\x1f".join(["logdoctor/v1", rule, *subjects])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def finding_fingerprint(f: Finding) -> str:
    """:func:`fingerprint` of a finding."""
    return fingerprint(f.rule, f.subjects)


@dataclass(frozen=True)
class BaselineEntry:
    """One known finding."""

    fingerprint: str
    rule: str
    subjects: tuple[str, ...]
    title: str = ""


@dataclass(frozen=True)
class Baseline:
    """A set of known findings."""

    entries: tuple[BaselineEntry, ...] = ()
    path: str = ""

    def __contains__(self, fp: object) -> bool:
        return any(e.fingerprint == fp for e in self.entries)

    def state(self, f: Finding) -> str:
        """``unchanged`` when the finding is known, else ``new`` (SARIF baselineState)."""
        return "unchanged" if finding_fingerprint(f) in self else "new"

    def absent(self, findings: Iterable[Finding]) -> tuple[BaselineEntry, ...]:
        """Known findings that no longer occur."""
        now = {finding_fingerprint(f) for f in findings}
        return tuple(e for e in self.entries if e.fingerprint not in now)


def dump_baseline(findings: Iterable[Finding]) -> str:
    """The baseline document of ``findings`` (sorted, one entry per fingerprint)."""
    entries = {
        finding_fingerprint(f): {
            "fingerprint": finding_fingerprint(f),
            "rule": f.rule,
            "subjects": list(f.subjects),
            "title": f.title,
        }
        for f in findings
    }
    doc = {
        "logdoctor_baseline": BASELINE_VERSION,
        "findings": sorted(entries.values(), key=lambda e: (e["rule"], e["subjects"])),
    }
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"


def load_baseline(path: str | Path) -> Baseline:
    """Read a baseline file; BaselineError names the file and what is wrong."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{p}: cannot read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{p}: not a JSON baseline ({exc})") from None
    if not isinstance(doc, dict) or doc.get("logdoctor_baseline") != BASELINE_VERSION:
        raise BaselineError(
            f'{p}: not a logdoctor baseline (expected "logdoctor_baseline": {BASELINE_VERSION};'
            " write one with --write-baseline)"
        )
    items = doc.get("findings")
    if not isinstance(items, list):
        raise BaselineError(f'{p}: "findings" must be a list')
    entries = []
    for i, item in enumerate(items):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("rule"), str)
            or not isinstance(item.get("subjects"), list)
            or not all(isinstance(s, str) for s in item["subjects"])
        ):
            raise BaselineError(f'{p}: findings[{i}] needs "rule" and "subjects" (strings)')
        fp = fingerprint(item["rule"], item["subjects"])
        entries.append(
            BaselineEntry(
                fingerprint=fp,
                rule=item["rule"],
                subjects=tuple(item["subjects"]),
                title=str(item.get("title", "")),
            )
        )
    return Baseline(entries=tuple(entries), path=str(path))
