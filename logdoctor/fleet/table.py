"""The fleet tables: every finding of every cluster, and one row per cluster.

``findings``: cluster, rule, severity, title, subjects, first_seen, last_seen,
evidence_total, failing, fingerprint, message (one row per finding, clusters in input order,
findings in each cluster's check order). ``clusters``: cluster, bundle, config, status, error,
events, files, input_errors, findings, error/warning/info counts, failing, first_time,
last_time, parts, workers, seconds, report.

Written as JSON (arrays of objects; times ISO 8601 UTC with a ``Z``), CSV (lists joined with
``"; "``; a text cell that a spreadsheet would run as a formula, one starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return, gets a leading ``'``) or Parquet (lists and
timestamps kept as such).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from logdoctor.baseline import finding_fingerprint
from logdoctor.fleet.runner import FleetResult
from logdoctor.fleet.work import BundleResult
from logdoctor.model import Severity
from logdoctor.outputs.events import csv_safe
from logdoctor.outputs.findings import safe
from logdoctor.table import iso

__all__ = [
    "CLUSTER_SCHEMA",
    "FINDING_SCHEMA",
    "TABLE_FORMATS",
    "clusters_frame",
    "findings_frame",
    "write_tables",
]

TABLE_FORMATS = ("json", "csv", "parquet")

_TIME = pl.Datetime("us", "UTC")

FINDING_SCHEMA: dict[str, Any] = {
    "cluster": pl.String,
    "rule": pl.String,
    "severity": pl.String,
    "title": pl.String,
    "subjects": pl.List(pl.String),
    "first_seen": _TIME,
    "last_seen": _TIME,
    "evidence_total": pl.Int64,
    "failing": pl.Boolean,
    "fingerprint": pl.String,
    "message": pl.String,
}

CLUSTER_SCHEMA: dict[str, Any] = {
    "cluster": pl.String,
    "bundle": pl.String,
    "config": pl.String,
    "status": pl.String,
    "error": pl.String,
    "events": pl.Int64,
    "files": pl.Int64,
    "input_errors": pl.Int64,
    "findings": pl.Int64,
    "errors": pl.Int64,
    "warnings": pl.Int64,
    "infos": pl.Int64,
    "failing": pl.Int64,
    "first_time": _TIME,
    "last_time": _TIME,
    "parts": pl.Int64,
    "workers": pl.List(pl.String),
    "seconds": pl.Float64,
    "report": pl.String,
}


def _utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def findings_frame(bundles: Sequence[BundleResult]) -> pl.DataFrame:
    """One row per finding of every bundle."""
    rows = [
        {
            "cluster": safe(b.cluster),
            "rule": f.rule,
            "severity": str(f.severity),
            "title": f.title,
            "subjects": [safe(s) for s in f.subjects],
            "first_seen": _utc(f.first_seen),
            "last_seen": _utc(f.last_seen),
            "evidence_total": f.evidence_total,
            "failing": fails,
            "fingerprint": finding_fingerprint(f),
            "message": safe(f.message),
        }
        for b in bundles
        for f, fails in zip(b.findings, b.failing, strict=True)
    ]
    return pl.DataFrame(rows, schema=FINDING_SCHEMA)


def clusters_frame(bundles: Sequence[BundleResult]) -> pl.DataFrame:
    """One row per bundle: its status, counts and report."""
    rows = [
        {
            "cluster": safe(b.cluster),
            "bundle": safe(b.path),
            "config": None if b.config is None else safe(b.config),
            "status": b.status,
            "error": None if b.error is None else safe(b.error),
            "events": b.events,
            "files": b.files,
            "input_errors": len(b.input_errors),
            "findings": len(b.findings),
            "errors": b.count(Severity.ERROR),
            "warnings": b.count(Severity.WARNING),
            "infos": b.count(Severity.INFO),
            "failing": b.failing_count,
            "first_time": _utc(b.first_time),
            "last_time": _utc(b.last_time),
            "parts": b.parts,
            "workers": list(b.workers),
            "seconds": round(b.seconds, 3),
            "report": None if b.report is None else safe(b.report),
        }
        for b in bundles
    ]
    return pl.DataFrame(rows, schema=CLUSTER_SCHEMA)


def _for_text(frame: pl.DataFrame, *, csv: bool) -> pl.DataFrame:
    """Times as ISO text; for CSV, lists joined and formula-like cells defused."""
    out = frame.with_columns(
        pl.col(c).map_elements(
            lambda t: iso(t, precision="ms") if isinstance(t, datetime) else None,
            return_dtype=pl.String,
        )
        for c, dt in frame.schema.items()
        if isinstance(dt, pl.Datetime)
    )
    if not csv:
        return out
    out = out.with_columns(
        pl.col(c).list.join("; ") for c, dt in out.schema.items() if isinstance(dt, pl.List)
    )
    return csv_safe(out)


def _write(frame: pl.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        frame.write_parquet(path)
    elif fmt == "csv":
        _for_text(frame, csv=True).write_csv(path)
    elif fmt == "json":
        rows = _for_text(frame, csv=False).to_dicts()
        text = json.dumps(rows, indent=2, ensure_ascii=False)
        path.write_text(text + "\n", encoding="utf-8")
    else:
        raise ValueError(f"--format {fmt!r}: allowed values are {', '.join(TABLE_FORMATS)}")


def write_tables(result: FleetResult, out: Path, fmt: str) -> list[Path]:
    """Write ``findings.<fmt>``, ``clusters.<fmt>`` and ``summary.json`` under ``out``."""
    if fmt not in TABLE_FORMATS:
        raise ValueError(f"--format {fmt!r}: allowed values are {', '.join(TABLE_FORMATS)}")
    written = []
    for name, frame in (
        ("findings", findings_frame(result.bundles)),
        ("clusters", clusters_frame(result.bundles)),
    ):
        path = out / f"{name}.{fmt}"
        _write(frame, path, fmt)
        written.append(path)
    summary = out / "summary.json"
    summary.write_text(json.dumps(result.summary(), indent=2) + "\n", encoding="utf-8")
    written.append(summary)
    return written
