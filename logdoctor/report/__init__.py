"""The HTML diagnostic report: its model (typed data), how it is built from the event table,
and the seam to the check engine. Rendering lives in :mod:`logdoctor.outputs.html`."""

from logdoctor.report.build import build_report
from logdoctor.report.diagnose import diagnose
from logdoctor.report.model import ConfigFact, Diagnosis, Limits, Report

__all__ = ["ConfigFact", "Diagnosis", "Limits", "Report", "build_report", "diagnose"]
