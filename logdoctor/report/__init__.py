"""The HTML diagnostic report: its model (typed data), how it is built from the event table,
and the seam to the check engine. Rendering lives in :mod:`logdoctor.outputs.html`."""

from logdoctor.report.build import build_report
from logdoctor.report.diagnose import diagnose
from logdoctor.report.model import ConfigFact, Correlation, Diagnosis, Limits, Report, Unchecked

__all__ = [
    "ConfigFact",
    "Correlation",
    "Diagnosis",
    "Limits",
    "Report",
    "Unchecked",
    "build_report",
    "diagnose",
]
