"""The tail's detector: the same rules as ``logdoctor check``, run on the recent-event window.

Rules about whole files (unrecognized ratio, gaps, malformed lines) judge a file, not a
window of its events, so the tail leaves them to ``check``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from logdoctor.model import Finding
from logdoctor.pipeline import check_context
from logdoctor.rules import Context
from logdoctor.tail.window import Detector
from logdoctor.ucm.deployment import load_deployment
from logdoctor.ucm.deploymodel import Deployment

__all__ = ["WINDOW_IGNORED", "rules_detector"]

WINDOW_IGNORED = ("LD901", "LD902", "LD905")
"""Rules that need whole files and their statistics; a window of events cannot judge them."""


def rules_detector(config: str | Path | None = None, *, ignore: Sequence[str] = ()) -> Detector:
    """A detector running every rule (but WINDOW_IGNORED and ``ignore``) on a window of events.

    ``config`` is a deployment file, loaded once (raises on a bad file, naming it).
    """
    declared: Deployment | None = None if config is None else load_deployment(config)
    skip = [*WINDOW_IGNORED, *ignore]

    def detect(frame: pl.DataFrame) -> list[Finding]:
        report = check_context(Context(frame, (), declared), ignore=skip, fail_on="never")
        return list(report.findings)

    return detect
