"""The fleet summary page: one static HTML file linking one report per cluster.

The HTML report's template folder, Jinja2 environment and safety rules: autoescape on,
strict undefined names; no script at all; the one stylesheet is inlined and allowed by its
sha256 in a Content-Security-Policy whose ``default-src 'none'`` forbids any network load;
invisible and bidi control characters are printed as ``\\uXXXX`` text, lone surrogates (from
undecodable file names) as ``\\udXXX``; log text (cluster names come from file names,
subjects and messages from logs) only ever reaches the page escaped, the template has no
``|safe`` (the report's audit covers it). Links to cluster reports are relative and
percent-encoded.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from logdoctor import __version__
from logdoctor.fleet.runner import FleetResult
from logdoctor.fleet.work import BundleResult
from logdoctor.model import Severity
from logdoctor.outputs.findings import safe
from logdoctor.outputs.html import builtin_reports_dir
from logdoctor.outputs.html import environment as report_environment

__all__ = [
    "FINDINGS_SHOWN",
    "TEMPLATE",
    "cluster_order",
    "render_summary",
    "reports_dir",
    "write_summary",
]

TEMPLATE = "fleet.html.j2"
STYLESHEET = "fleet.css"
FINDINGS_SHOWN = 5000
"""Findings listed on the page; the findings table file has them all."""


def reports_dir() -> Path:
    """The folder of the page templates: the HTML report's (in the wheel, or a checkout)."""
    return builtin_reports_dir()


def _when(t: datetime | None) -> str:
    if t is None:
        return ""
    t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return t.strftime("%Y-%m-%d %H:%M:%S")


def environment(folder: Path | None = None) -> jinja2.Environment:
    """The HTML report's environment (autoescape, strict undefined names, invisible and bidi
    characters printed as ``\\uXXXX``) with a ``when`` filter for times."""
    env = report_environment(folder)
    env.filters["when"] = _when
    return env


def _stylesheet(folder: Path) -> str:
    path = folder / STYLESHEET
    text = path.read_text(encoding="utf-8")
    if "</style" in text.lower() or "<!--" in text:
        raise ValueError(f"{path}: contains a sequence that would end the inline style early")
    return text


def csp(css: str) -> str:
    """No network, no script; the inline stylesheet allowed by its hash only."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; script-src 'none'; "
        f"style-src 'sha256-{digest}'; "
        "img-src 'none'; font-src 'none'; connect-src 'none'; media-src 'none'; "
        "object-src 'none'; frame-src 'none'; worker-src 'none'; manifest-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


@dataclass(frozen=True)
class RuleRow:
    """One rule across the fleet."""

    rule: str
    severity: str
    title: str
    clusters: tuple[str, ...]
    findings: int
    failing: int


def _href(b: BundleResult) -> str | None:
    if b.report is None:
        return None
    # os.fsencode: a file name that is not UTF-8 links to its real bytes (%FF...).
    return "/".join(quote(os.fsencode(part), safe="") for part in b.report.split("/"))


def cluster_order(b: BundleResult) -> tuple[int, int, int, int, str]:
    """Worst first: unreadable, partial, then by failing, error and warning findings."""
    status = {"failed": 0, "partial": 1}.get(b.status, 2)
    return (
        status,
        -b.failing_count,
        -b.count(Severity.ERROR),
        -b.count(Severity.WARNING),
        b.cluster,
    )


def _rules(bundles: Sequence[BundleResult]) -> list[RuleRow]:
    acc: dict[str, dict[str, Any]] = {}
    for b in bundles:
        for f, fails in zip(b.findings, b.failing, strict=True):
            row = acc.setdefault(
                f.rule,
                {"severity": str(f.severity), "title": f.title, "clusters": {}, "n": 0, "fail": 0},
            )
            if Severity(str(f.severity)).rank > Severity(row["severity"]).rank:
                row["severity"] = str(f.severity)
            row["clusters"][b.cluster] = None
            row["n"] += 1
            row["fail"] += int(fails)
    rows = [
        RuleRow(rule, r["severity"], r["title"], tuple(r["clusters"]), r["n"], r["fail"])
        for rule, r in acc.items()
    ]
    rows.sort(key=lambda r: (-Severity(r.severity).rank, -len(r.clusters), r.rule))
    return rows


def render_summary(
    result: FleetResult,
    *,
    title: str | None = None,
    generated: datetime | None = None,
    folder: Path | None = None,
) -> str:
    """The summary page as one HTML document."""
    base = folder or reports_dir()
    css = _stylesheet(base)
    bundles = sorted(result.bundles, key=cluster_order)
    findings = [
        (b, f, fails) for b in bundles for f, fails in zip(b.findings, b.failing, strict=True)
    ]
    findings.sort(key=lambda x: (-Severity(str(x[1].severity)).rank, x[0].cluster, x[1].rule))
    template = environment(base).get_template(TEMPLATE)
    return safe(
        template.render(
            title=title or "logdoctor fleet",
            css=Markup(css),  # the stylesheet is ours, checked above; never log text
            csp=csp(css),
            summary=result.summary(),
            clusters=[(b, _href(b)) for b in bundles],
            rules=_rules(result.bundles),
            findings=findings[:FINDINGS_SHOWN],
            findings_total=len(findings),
            generated=(generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S UTC"),
            version=__version__,
            severity=Severity,
        )
    )


def write_summary(result: FleetResult, path: Path, **kw: Any) -> int:
    """Write the summary page to ``path``; returns the number of bytes written."""
    data = render_summary(result, **kw).encode("utf-8")
    path.write_bytes(data)
    return len(data)
