"""The per-cluster report of a fleet run: one function, :func:`cluster_document`.

It runs on the worker that checked the bundle (where the events are) and returns the bytes of
the cluster's report, which the client writes to ``OUT/clusters/<cluster><suffix>`` and the
fleet summary page links to. Until the HTML report (``logdoctor report``) is part of this
build, the report is the cluster's check document: what ``logdoctor check --format json``
writes. Rendering the HTML report instead means replacing the body of this function only.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from logdoctor.check import CheckReport
from logdoctor.outputs.findings import write_json

if TYPE_CHECKING:
    from logdoctor.fleet.bundles import Bundle

__all__ = ["cluster_document"]


def cluster_document(report: CheckReport, bundle: Bundle) -> tuple[bytes, str]:
    """The report of one cluster and its file suffix (``.json`` now, ``.html`` later).

    ``report.context`` holds the cluster's events, statistics and correlation, which an HTML
    report needs; ``bundle`` names the cluster and its inputs.
    """
    del bundle  # the JSON document does not name the bundle; the HTML report will
    buf = io.BytesIO()
    write_json(report, buf)
    return buf.getvalue(), ".json"
