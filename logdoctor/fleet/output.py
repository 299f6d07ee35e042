"""The output folder of a fleet run.

::

    OUT/index.html             the fleet summary page (links to every cluster's report)
    OUT/findings.<fmt>         every finding of every cluster (json, csv or parquet)
    OUT/clusters.<fmt>         one row per cluster: status, error, counts, report
    OUT/summary.json           counts, verdict, exit code, workers and their peak memory
    OUT/clusters/<cluster>.json  each cluster's report (written as its result arrives)
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from logdoctor.fleet.runner import FleetResult
from logdoctor.fleet.summary import write_summary
from logdoctor.fleet.table import TABLE_FORMATS, write_tables
from logdoctor.fleet.work import BundleResult

__all__ = ["FleetOutput"]


class FleetOutput:
    """Writes cluster reports as results arrive, then the tables and the summary page."""

    def __init__(self, out: str | Path, fmt: str = "json") -> None:
        if fmt not in TABLE_FORMATS:
            raise ValueError(f"--format {fmt!r}: allowed values are {', '.join(TABLE_FORMATS)}")
        self.out = Path(out)
        self.fmt = fmt
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(f"--out {self.out}: not a folder")
        self.clusters = self.out / "clusters"
        self.clusters.mkdir(parents=True, exist_ok=True)
        self.reports = 0

    def document(self, result: BundleResult) -> BundleResult:
        """Write the cluster's report (if it has one) and drop its bytes from the result."""
        if result.document is None:
            return result
        name = f"{result.cluster}{result.document_suffix}"
        (self.clusters / name).write_bytes(result.document)
        self.reports += 1
        return replace(result, document=None, report=f"clusters/{name}")

    def finish(self, result: FleetResult, *, title: str | None = None) -> list[Path]:
        """Write the tables, ``summary.json`` and ``index.html``; returns the paths."""
        written = write_tables(result, self.out, self.fmt)
        page = self.out / "index.html"
        write_summary(result, page, title=title)
        return [page, *written]
