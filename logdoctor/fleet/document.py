"""The per-cluster report of a fleet run: one function, :func:`cluster_document`.

It runs on the worker that checked the bundle (where the events are) and returns the bytes of
the cluster's report, which the client writes to ``OUT/clusters/<cluster><suffix>`` and the
fleet summary page links to:

- ``html`` (the default): the HTML report of ``logdoctor report``, built from the same rule
  context the check used (:func:`logdoctor.report.diagnose.diagnosis_of`: the rules do not
  run twice);
- ``json``: what ``logdoctor check --format json`` writes;
- ``none``: no report (the fleet tables still have every finding).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import polars as pl

from logdoctor.outputs.findings import safe, write_json
from logdoctor.verdict import CheckReport

if TYPE_CHECKING:
    from logdoctor.fleet.bundles import Bundle
    from logdoctor.rules import Context

__all__ = ["REPORT_KINDS", "cluster_document"]

REPORT_KINDS = ("html", "json", "none")
"""What ``--cluster-reports`` may ask for."""


def cluster_document(
    report: CheckReport,
    ctx: Context,
    bundle: Bundle,
    kind: str = "html",
    frame: pl.DataFrame | None = None,
) -> tuple[bytes, str]:
    """The report of one cluster and its file suffix (``b""`` and ``""`` for ``none``).

    ``ctx`` (the rule context ``report`` was judged from) holds the cluster's statistics and
    correlation; ``frame`` is its event
    table as loaded (what ``logdoctor report`` builds from; default: the context's events);
    ``bundle`` names the cluster and its input.
    """
    if kind == "none":
        return b"", ""
    if kind == "json":
        buf = io.BytesIO()
        write_json(report, buf)
        return buf.getvalue(), ".json"
    if kind != "html":
        raise ValueError(f"--cluster-reports {kind!r}: allowed values are html, json, none")
    from logdoctor.outputs.html import render_html
    from logdoctor.report import build_report
    from logdoctor.report.diagnose import diagnosis_of

    model = build_report(
        ctx.raw.frame if frame is None else frame,
        ctx.stats,
        diagnosis_of(report, ctx),
        inputs=[bundle.path],
        title=bundle.cluster,
    )
    # safe(): a path that is not UTF-8 (lone surrogates) is shown as \udXXX text.
    return safe(render_html(model)).encode("utf-8"), ".html"
