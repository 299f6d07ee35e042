"""Output formats: the writers of a check's findings (text, concise, JSON, SARIF, JUnit), the
HTML report, event exports (JSON lines, CSV, TSV, Parquet), timelines, statistics and the
terminal views. Writers take values (a check report, a frame, a report model) and an open
binary stream or a path; none prints, none runs the pipeline. :data:`WRITERS`
(:mod:`logdoctor.outputs.registry`) lists every ``--format`` and its writer."""

from logdoctor.outputs.registry import WRITERS, Writer, formats_for, writer

__all__ = ["WRITERS", "Writer", "formats_for", "writer"]
