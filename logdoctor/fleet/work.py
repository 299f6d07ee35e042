"""What a worker does with one bundle: discover, parse, correlate, check, render.

Everything here is plain Python (no Dask): the Dask runner and the in-process runner call the
same three steps, so a fleet run and ``logdoctor check`` on one bundle share their code.

- :func:`prepare` discovers the bundle's files. A bundle whose logs total at most
  ``Options.split_bytes`` is then parsed, correlated and checked in the same call (one task
  per bundle) and a :class:`BundleResult` comes back. A bigger one comes back as a
  :class:`Plan`: contiguous runs of its files (:class:`Part`).
- :func:`parse_part` parses one part (any worker; the part names files, the worker opens them).
- :func:`finish` concatenates the parts' events in file order (the order ``check`` loads them
  in), then correlates and checks them.

Every step returns a result instead of raising: a bundle that cannot be read comes back as a
failed :class:`BundleResult` with its error, and never stops the other bundles.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import polars as pl

from logdoctor.fleet.bundles import Bundle
from logdoctor.fleet.document import cluster_document
from logdoctor.ingest.cache import default_cache
from logdoctor.ingest.detect import looks_like_log
from logdoctor.ingest.formats.catalog import formats_matcher, load_formats
from logdoctor.ingest.formats.types import Format
from logdoctor.ingest.inputs import InputError, Limits, LogFile
from logdoctor.ingest.load import Loader, LoadResult
from logdoctor.ingest.nodes import identify_events
from logdoctor.ingest.sources import discover
from logdoctor.model import Finding, Severity
from logdoctor.pipeline import run_check
from logdoctor.rules import select_rules
from logdoctor.table import CATEGORICAL_COLUMNS, ParseStats, empty_frame
from logdoctor.timestamps import ZoneBook, zone_book
from logdoctor.ucm.deployment import parse_deployment
from logdoctor.ucm.deploymodel import Deployment
from logdoctor.verdict import CheckReport

__all__ = [
    "BundleResult",
    "Options",
    "Parsed",
    "Part",
    "Plan",
    "failed",
    "finish",
    "parse_part",
    "prepare",
]

NO_LOGS = "no log file found (ssoApp.log, ssosp*.log, certMgmt*.log)"


@dataclass(frozen=True)
class Options:
    """How every bundle of a run is checked (the same for all of them)."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: str = "warning"
    correct_skew: bool = False
    formats_dir: tuple[str, ...] = ()
    """Extra format folders; workers load them, so they must see these paths."""
    tz: str | None = None
    jobs: int = 1
    """Files parsed at once inside one task (threads); 1 on a Dask worker with one thread."""
    split_bytes: int = 128 << 20
    """A bundle whose log files total more is parsed as several parts, across workers."""
    part_bytes: int = 64 << 20
    """Target size of one part."""
    report: str = "html"
    """Each cluster's report: ``html``, ``json`` (the check document) or ``none``."""
    cache: bool = False
    """Reuse and keep parsed files (:mod:`logdoctor.ingest.cache`), on the workers too."""


@dataclass(frozen=True)
class Part:
    """A contiguous run of a bundle's files (by display name, in discovery order)."""

    index: int
    files: tuple[str, ...]
    bytes: int


@dataclass(frozen=True)
class Plan:
    """A bundle too big for one task: its parts, and what discovery could not read."""

    bundle: Bundle
    parts: tuple[Part, ...]
    errors: tuple[InputError, ...]
    worker: str = ""
    seconds: float = 0.0
    """Time spent discovering and planning."""


@dataclass(frozen=True)
class Parsed:
    """The events of one part, with its per-file statistics."""

    part: int
    frame: pl.DataFrame
    stats: tuple[ParseStats, ...]
    errors: tuple[InputError, ...]
    worker: str = ""
    seconds: float = 0.0
    utc_assumed: tuple[str, ...] = ()
    """Nodes whose zone-less times were read as UTC (no zone declared, no ``--tz``)."""


@dataclass(frozen=True)
class BundleResult:
    """What comes back from a bundle: small (findings and counts, never the events)."""

    cluster: str
    path: str
    status: str
    """``ok``; ``partial`` (some inputs unreadable, the rest checked); ``failed``."""
    error: str | None = None
    """Why it failed, or the unreadable inputs of a partial bundle (one line)."""
    config: str | None = None
    findings: tuple[Finding, ...] = ()
    failing: tuple[bool, ...] = ()
    """Per finding: at or above ``--fail-on``."""
    events: int = 0
    files: int = 0
    input_errors: tuple[InputError, ...] = ()
    first_time: datetime | None = None
    last_time: datetime | None = None
    document: bytes | None = None
    """The per-cluster report (see :func:`logdoctor.fleet.document.cluster_document`)."""
    document_suffix: str = ""
    report: str | None = None
    """Where the per-cluster report was written, relative to the output folder."""
    parts: int = 1
    workers: tuple[str, ...] = ()
    """Workers that parsed (or checked) this bundle."""
    seconds: float = 0.0
    """Time spent on it by workers (the sum over its tasks)."""
    utc_assumed: tuple[str, ...] = ()
    """Nodes whose zone-less times were read as UTC (no zone declared, no ``--tz``)."""

    @property
    def ok(self) -> bool:
        """True when the bundle was read in full and checked."""
        return self.status == "ok"

    @property
    def failing_count(self) -> int:
        """Findings at or above ``--fail-on``."""
        return sum(self.failing)

    def count(self, severity: Severity) -> int:
        """Findings of one severity."""
        return sum(1 for f in self.findings if str(f.severity) == severity.value)

    @property
    def verdict(self) -> str:
        """What a badge says: ``failed`` (not checked), else the worst severity found
        (``error``, ``warning``, ``info``), else ``clean``; a partial read is in ``status``."""
        if self.status == "failed":
            return "failed"
        for sev in (Severity.ERROR, Severity.WARNING, Severity.INFO):
            if self.count(sev):
                return sev.value
        return "clean"


def failed(bundle: Bundle, error: str, **kw: object) -> BundleResult:
    """A bundle that could not be checked, with the reason on one line."""
    return BundleResult(
        cluster=bundle.cluster,
        path=bundle.path,
        status="failed",
        error=" ".join(error.split()),
        config=bundle.config,
        **kw,  # type: ignore[arg-type]
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "out of memory while checking this bundle"
    if isinstance(exc, (ValueError, OSError, LookupError)) and str(exc):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


@lru_cache(maxsize=8)
def _formats(dirs: tuple[str, ...]) -> list[Format]:
    """Formats are loaded (and their samples checked) once per worker process."""
    return load_formats(dirs)


def _deployment(bundle: Bundle) -> Deployment | None:
    if bundle.config_error is not None:
        raise ValueError(bundle.config_error)
    if bundle.config_text is None:
        return None
    return parse_deployment(bundle.config_text, bundle.config or "deployment.toml")


def _zones(opts: Options, deployment: Deployment | None) -> ZoneBook:
    """Each node's zone: the deployment file's ``timezone``, else ``--tz``."""
    return zone_book(opts.tz, None if deployment is None else deployment.node_zones())


def _loader(bundle: Bundle, opts: Options, deployment: Deployment | None) -> Loader:
    """``logdoctor.ingest.load.open_inputs`` of one bundle, with the formats loaded once a
    process."""
    formats = _formats(opts.formats_dir)

    def sniff(head: bytes) -> bool:
        return looks_like_log(formats, head)

    limits = Limits()
    files, errors, ignored = discover(
        [bundle.path], formats_match=formats_matcher(formats), sniff=sniff, limits=limits
    )
    return Loader(
        files,
        formats,
        _zones(opts, deployment),
        opts.jobs,
        limits,
        errors,
        ignored,
        aliases={} if deployment is None else deployment.aliases,
        cache=default_cache(formats, opts.cache),
    )


def _sizes(path: str, files: Sequence[LogFile]) -> list[int] | None:
    """Each file's size on disk (or in the zip), when the bundle can be read file by file:
    a folder of files, or one zip archive. None for tar archives and nested archives, whose
    members cannot be read without reading the whole stream (they are parsed by one task)."""
    root = Path(path)
    sizes = []
    if root.is_dir():
        for lf in files:
            p = Path(lf.display)
            if not p.is_file():
                return None
            sizes.append(p.stat().st_size)
        return sizes
    if not zipfile.is_zipfile(root):
        return None
    with zipfile.ZipFile(root) as zf:
        members = {f"{root}!{i.filename}": i.file_size for i in zf.infolist()}
    for lf in files:
        if lf.display not in members:
            return None
        sizes.append(members[lf.display])
    return sizes


def _partition(files: Sequence[LogFile], sizes: Sequence[int], target: int) -> tuple[Part, ...]:
    parts: list[Part] = []
    run: list[str] = []
    acc = 0
    for lf, size in zip(files, sizes, strict=True):
        run.append(lf.display)
        acc += size
        if acc >= target:
            parts.append(Part(len(parts), tuple(run), acc))
            run, acc = [], 0
    if run:
        parts.append(Part(len(parts), tuple(run), acc))
    return tuple(parts)


def _plan(bundle: Bundle, loader: Loader, opts: Options) -> Plan | None:
    if len(loader.files) < 2:
        return None
    sizes = _sizes(bundle.path, loader.files)
    if sizes is None or sum(sizes) <= opts.split_bytes:
        return None
    parts = _partition(loader.files, sizes, max(1, opts.part_bytes))
    if len(parts) < 2:
        return None
    return Plan(bundle, parts, tuple(loader.errors))


def prepare(bundle: Bundle, opts: Options) -> BundleResult | Plan:
    """Discover a bundle; check it whole when it is small, else plan its parts."""
    t0 = time.perf_counter()
    try:
        deployment = _deployment(bundle)
        select_rules(opts.select, opts.ignore)
        loader = _loader(bundle, opts, deployment)
        plan = _plan(bundle, loader, opts)
        if plan is not None:
            return replace(plan, seconds=time.perf_counter() - t0)
        loaded = loader.result(CATEGORICAL_COLUMNS)  # as check loads it (the cache's as stored)
        checked = _check(bundle, opts, deployment, loaded, loader.zones, parts=1)
        checked = replace(checked, utc_assumed=tuple(loader.zones.assumed()))
    except Exception as exc:
        checked = failed(bundle, _describe(exc))
    return replace(checked, seconds=time.perf_counter() - t0)


def parse_part(bundle: Bundle, opts: Options, part: Part) -> Parsed:
    """Parse the files of one part (the worker discovers the bundle again to open them)."""
    t0 = time.perf_counter()
    stats: list[ParseStats] = []
    errors: list[InputError] = []
    assumed: tuple[str, ...] = ()
    try:
        loader = _loader(bundle, opts, _deployment(bundle))
        by_name = {lf.display: lf for lf in loader.files}
        files = [by_name[d] for d in part.files if d in by_name]
        # Layout names: the nodes are identified on the whole bundle, in finish().
        part_loader = Loader(
            files, loader.formats, loader.zones, opts.jobs, loader.limits, aliases=loader.aliases
        )
        part_loader.resolve = False
        result = part_loader.result()
        assumed = tuple(loader.zones.assumed())
        frame = result.frame
        stats += result.stats
        errors += result.errors
        gone = [d for d in part.files if d not in by_name]
    except Exception as exc:  # every file of the part is reported with the reason
        frame = empty_frame()
        stats, errors, gone = [], [], list(part.files)
        reason = _describe(exc)
    else:
        reason = "no longer in the bundle (changed during the run)"
    for d in gone:
        stats.append(ParseStats(path=d, error=reason))
        errors.append(InputError(d, reason))
    return Parsed(
        part.index,
        frame,
        tuple(stats),
        tuple(errors),
        seconds=time.perf_counter() - t0,
        utc_assumed=assumed,
    )


def finish(bundle: Bundle, opts: Options, plan: Plan, parsed: Sequence[Parsed]) -> BundleResult:
    """Join the parts of a split bundle in file order, then correlate and check it."""
    t0 = time.perf_counter()
    ordered = sorted(parsed, key=lambda p: p.part)
    spent = plan.seconds + sum(p.seconds for p in ordered)
    workers = tuple(dict.fromkeys(w for w in (plan.worker, *(p.worker for p in ordered)) if w))
    try:
        deployment = _deployment(bundle)
        frames = [p.frame for p in ordered if p.frame.height]
        frame = pl.concat(frames, how="vertical") if frames else empty_frame()
        # The same order as Loader: file stats in file order, then discovery errors.
        stats = [st for p in ordered for st in p.stats]
        errors = list(plan.errors)
        for e in (e for p in ordered for e in p.errors):
            if not any(x.path == e.path for x in errors):
                errors.append(e)
        for e in plan.errors:
            if not any(s.path == e.path for s in stats):
                stats.append(ParseStats(path=e.path, error=e.message))
        # The parts kept their layout names: the nodes are identified on the whole here.
        loaded = LoadResult(frame, stats, errors, nodes=identify_events(frame, stats))
        zones = _zones(opts, deployment)
        result = _check(bundle, opts, deployment, loaded, zones, parts=len(ordered))
        assumed = sorted({n for p in ordered for n in p.utc_assumed})
        result = replace(result, utc_assumed=tuple(assumed))
    except Exception as exc:
        result = failed(bundle, _describe(exc), parts=len(ordered))
    return replace(result, workers=workers, seconds=spent + time.perf_counter() - t0)


def _check(
    bundle: Bundle,
    opts: Options,
    deployment: Deployment | None,
    loaded: LoadResult,
    zones: ZoneBook,
    *,
    parts: int,
) -> BundleResult:
    """Check loaded events with :func:`logdoctor.pipeline.run_check`, as ``logdoctor check``
    does; a bundle of which not one file or record could be read fails instead."""
    read = [s for s in loaded.stats if s.error is None]
    errors = loaded.errors
    if not read:
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            first = errors[0]
            message = f"{first.path}: {first.message}{more}"
        else:
            message = f"{bundle.path}: {NO_LOGS}"
        return failed(bundle, message, input_errors=tuple(errors), parts=parts)
    if loaded.frame.height == 0:  # files read, not one record: nothing was checked
        return failed(
            bundle,
            f"{bundle.path}: no log record was read ({len(read)} file(s) read, none holds a "
            "record of the known formats)",
            input_errors=tuple(errors),
            parts=parts,
        )
    checked = run_check(
        loaded=loaded,
        deployment=deployment,
        zones=zones,
        select=opts.select,
        ignore=opts.ignore,
        fail_on=opts.fail_on,
        correct_skew=opts.correct_skew,
    )
    document, suffix = cluster_document(checked.report, checked.context, bundle, opts.report)
    return _result(bundle, checked.report, document, suffix, parts=parts)


def _result(
    bundle: Bundle, report: CheckReport, document: bytes, suffix: str, *, parts: int
) -> BundleResult:
    errors = report.errors
    error = None
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        error = " ".join(f"{errors[0].path}: {errors[0].message}{more}".split())
    elif report.rule_errors:  # a rule's internal error: the other rules' findings are kept
        error = "; ".join(f.message for f in report.rule_errors)
    return BundleResult(
        cluster=bundle.cluster,
        path=bundle.path,
        status="partial" if errors or report.rule_errors else "ok",
        error=error,
        config=bundle.config,
        findings=report.findings,
        failing=tuple(report.fails(f) for f in report.findings),
        events=report.events,
        files=report.files,
        input_errors=errors,
        first_time=report.first_time,
        last_time=report.last_time,
        document=document or None,
        document_suffix=suffix,
        parts=parts,
    )
