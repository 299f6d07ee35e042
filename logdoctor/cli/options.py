"""Typed options the commands share, and what they resolve to.

- ``--format`` (:func:`format_option`): its choices are the rows of
  :data:`logdoctor.outputs.WRITERS` for what the command writes (:class:`FormatChoice`);
- ``-o/--output FILE`` (:func:`output_option`), ``--config FILE`` (:func:`config_option`);
- the inputs: ``--formats-dir``, ``--tz``, ``--set-node``, ``--jobs``, ``--no-cache``
  (:func:`input_options`, gathered into one :class:`InputSpec` argument ``inputs``), and
  ``--allow-partial``, ``--one-cluster`` (:func:`partial_options`);
- the rules: ``--select``, ``--ignore`` (:func:`rule_filter_options`), ``--fail-on``
  (:func:`fail_on_option`, its choices :data:`logdoctor.verdict.FAIL_ON`);
- ``--color auto|always|never`` (:func:`color_option`; see :mod:`logdoctor.cli.term`);
- ``--display-tz utc|local|ZONE`` (:func:`display_tz_option`): the zone times are shown in;
  by default the logs' zone when it is known (``--tz``, a deployment file's ``timezone``),
  else UTC. Machine formats (JSON, JSON lines, CSV) keep UTC with ``Z`` unless the option is
  given, and then carry the zone's offset;
- ``--config FILE`` for the zones only (:func:`zones_config_option`: timeline, parse);
- the event filters ``--kind``, ``--since``, ``--until``, ``--failures``
  (:func:`event_filter_options`, :class:`EventFilter`).

After a load, :func:`report_zones` prints the one-line warning that zone-less times were read
as UTC (when nothing said a zone), and :func:`shown_zone` picks the display zone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar

import click

from logdoctor.cli.errors import CliError, warn
from logdoctor.outputs.registry import formats_for
from logdoctor.timestamps import Zone, ZoneBook, display_zone, zone_book

if TYPE_CHECKING:
    import polars as pl

    from logdoctor.ucm.deploymodel import Deployment

__all__ = [
    "ColorMode",
    "EventFilter",
    "FormatChoice",
    "InputSpec",
    "color_option",
    "config_option",
    "display_tz_option",
    "event_filter",
    "event_filter_options",
    "fail_on_option",
    "format_option",
    "formats_dir_option",
    "input_options",
    "no_cache_option",
    "output_option",
    "partial_options",
    "report_zones",
    "rule_filter_options",
    "rule_ids",
    "set_node_option",
    "shown_zone",
    "tz_option",
    "zones",
    "zones_config_option",
]

F = TypeVar("F", bound=Callable[..., Any])
ColorMode = Literal["auto", "always", "never"]


# -- --format, -o, --config ----------------------------------------------------------------------


class FormatChoice(click.Choice):  # type: ignore[type-arg]
    """The ``--format`` values of one kind of document (``writes``), from ``WRITERS``."""

    def __init__(self, writes: str) -> None:
        super().__init__(list(formats_for(writes)))
        self.writes = writes


def format_option(
    writes: str, default: str, help: str | None = None, *, show_default: bool = True
) -> Callable[[F], F]:
    """``--format NAME``: one of the writers of ``writes`` (``out_format`` in the command)."""
    if default not in formats_for(writes):
        raise ValueError(f"--format default {default!r} is not a format of {writes}")
    return click.option(
        "--format",
        "out_format",
        type=FormatChoice(writes),
        default=default,
        show_default=show_default,
        help=help,
    )


def output_option(
    help: str, default: Path | None = None, *, show_default: bool = False
) -> Callable[[F], F]:
    """``-o/--output FILE`` (``-``: standard output where the command allows it)."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        default=default,
        show_default=show_default,
        help=help,
    )


def config_option(help: str, *, exists: bool = False) -> Callable[[F], F]:
    """``--config FILE``: a deployment file (TOML)."""
    return click.option(
        "--config",
        "config",
        type=click.Path(exists=exists, dir_okay=False, path_type=Path),
        default=None,
        metavar="FILE",
        help=help,
    )


# -- rules ---------------------------------------------------------------------------------------


def rule_filter_options(fn: F) -> F:
    """``--select IDS`` and ``--ignore IDS`` (repeatable, comma-separated; see
    :func:`rule_ids`)."""
    fn = click.option(
        "--ignore", multiple=True, metavar="IDS", help="Do not run these rules (ids or prefixes)."
    )(fn)
    return click.option(
        "--select",
        multiple=True,
        metavar="IDS",
        help="Run only these rules (comma-separated ids or prefixes: LD101,LD2).",
    )(fn)


def rule_ids(values: Sequence[str]) -> list[str]:
    """`--select LD1,LD203 --select LD9` -> ["LD1", "LD203", "LD9"]."""
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


FAIL_ON = ("error", "warning", "info", "never")
"""``--fail-on``'s choices: :data:`logdoctor.verdict.FAIL_ON`, not imported from there (that
would load the pipeline with ``--help``); tests/test_writers.py checks that they agree."""


def fail_on_option(help: str) -> Callable[[F], F]:
    """``--fail-on error|warning|info|never`` (default warning)."""
    return click.option(
        "--fail-on",
        type=click.Choice(list(FAIL_ON)),
        default="warning",
        show_default=True,
        help=help,
    )


# -- inputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputSpec:
    """How to read the inputs: ``--formats-dir``, ``--tz``, ``--set-node``, ``--jobs``."""

    formats_dirs: tuple[Path, ...] = ()
    tz: str | None = None
    set_node: str | None = None
    jobs: int | None = None

    def keywords(self) -> ReadKeywords:
        """These options as the library's keywords (``logdoctor.check``, ``open_inputs``)."""
        return ReadKeywords(
            formats_dir=self.formats_dirs, node=self.set_node, tz=self.tz, jobs=self.jobs
        )


class ReadKeywords(TypedDict):
    """:class:`InputSpec` as keywords that both ``logdoctor.check`` and
    ``logdoctor.ingest.load.open_inputs`` take."""

    formats_dir: Sequence[str | Path]
    node: str | None
    tz: str | None
    jobs: int | None


def formats_dir_option(fn: F) -> F:
    """``--formats-dir DIR`` (repeatable): add the format files of DIR."""
    return click.option(
        "--formats-dir",
        "formats_dirs",
        multiple=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Also load the *.toml format files of DIR (repeatable; a format with a built-in "
        "format's name replaces it).",
    )(fn)


def tz_option(fn: F) -> F:
    """``--tz ZONE``: the zone the logs' timestamps were written in."""
    return click.option(
        "--tz",
        metavar="ZONE",
        default=None,
        help="Zone the logs' timestamps were written in (they carry none): an IANA name "
        "such as America/New_York, or an offset such as -04:00. A deployment file's timezone "
        "wins for its nodes. Default: UTC, with a warning.",
    )(fn)


def set_node_option(fn: F) -> F:
    """``--set-node NAME``: one node name for every input."""
    return click.option(
        "--set-node",
        "set_node",
        metavar="NAME",
        default=None,
        help="Use NAME as the node of every input instead of the one the bundle layout gives.",
    )(fn)


def _no_cache(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        from logdoctor.ingest import cacheswitch

        cacheswitch.set_enabled(False)


def no_cache_option(fn: F) -> F:
    """``--no-cache``: parse every file, neither reading nor writing the parsed-file cache."""
    return click.option(
        "--no-cache",
        is_flag=True,
        expose_value=False,
        callback=_no_cache,
        help="Parse every file again: neither reuse nor keep parsed files (kept by default "
        "in $XDG_CACHE_HOME/logdoctor/parsed, or $LOGDOCTOR_CACHE_DIR).",
    )(fn)


def input_options(fn: F) -> F:
    """Options that say how to read inputs: --formats-dir, --tz, --set-node, --jobs,
    --no-cache; the command receives them as one :class:`InputSpec` argument ``inputs``."""

    @functools.wraps(fn)
    def gathered(
        *args: Any,
        formats_dirs: Sequence[Path],
        tz: str | None,
        set_node: str | None,
        jobs: int | None,
        **kwargs: Any,
    ) -> Any:
        return fn(*args, inputs=InputSpec(tuple(formats_dirs), tz, set_node, jobs), **kwargs)

    wrapped: F = no_cache_option(gathered)  # type: ignore[assignment]
    wrapped = click.option(
        "--jobs",
        "-j",
        type=click.IntRange(1, 256),
        default=None,
        help="Files parsed at once (default: the number of cores).",
    )(wrapped)
    return formats_dir_option(tz_option(set_node_option(wrapped)))


def partial_options(fn: F) -> F:
    """``--allow-partial`` and ``--one-cluster`` (``check`` and ``report``)."""
    fn = click.option(
        "--one-cluster",
        is_flag=True,
        help="Read all PATHS as one cluster even when they look like several bundles "
        "(folders or archives each with their own nodes or deployment file).",
    )(fn)
    return click.option(
        "--allow-partial",
        is_flag=True,
        help="Judge what could be read when some inputs cannot be (they are still named); "
        "without it the verdict is incomplete and the exit status 2.",
    )(fn)


# -- display ---------------------------------------------------------------------------------------


def color_option(fn: F) -> F:
    """``--color auto|always|never``."""
    return click.option(
        "--color",
        type=click.Choice(["auto", "always", "never"]),
        default="auto",
        show_default=True,
        help="Colour the output: auto (a terminal, unless NO_COLOR is set; FORCE_COLOR=1 "
        "colours a pipe), always, never.",
    )(fn)


def display_tz_option(fn: F) -> F:
    """``--display-tz utc|local|ZONE``."""
    return click.option(
        "--display-tz",
        "display_tz",
        metavar="utc|local|ZONE",
        default=None,
        help="Show times in this zone (utc, local: this machine's, or an IANA name or offset), "
        "with their offset. Default: the logs' zone when known (--tz or the deployment "
        "file's timezone), else UTC. JSON and CSV keep UTC unless this is given.",
    )(fn)


def zones_config_option(fn: F) -> F:
    """``--config FILE``: a deployment file, for its node time zones."""
    return click.option(
        "--config",
        "config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        metavar="FILE",
        help="Deployment file (TOML); its timezone keys give each node's zone.",
    )(fn)


def event_filter_options(fn: F) -> F:
    """``--kind``, ``--since``, ``--until``, ``--failures``."""
    fn = click.option(
        "--failures",
        is_flag=True,
        help="Only failures: refused tokens and grants, failed logins, OAuth errors.",
    )(fn)
    fn = click.option(
        "--until", metavar="TIME", help="Only events before TIME (ISO 8601; see --since)."
    )(fn)
    fn = click.option(
        "--since",
        metavar="TIME",
        help="Only events at or after TIME (ISO 8601; without an offset, in the zone times "
        "are shown in).",
    )(fn)
    return click.option(
        "--kind",
        "kinds",
        multiple=True,
        metavar="K",
        help="Only events of kind K (repeatable; a trailing * matches a prefix: token.*).",
    )(fn)


@dataclass(frozen=True)
class EventFilter:
    """Which events to keep (all conditions must hold)."""

    kinds: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    failures: bool = False

    def conditions(self) -> list[pl.Expr]:
        """The polars conditions."""
        import polars as pl

        conds: list[pl.Expr] = []
        if self.kinds:
            cond = pl.lit(False)
            for k in self.kinds:  # kind may be Categorical (a cached table's, as stored)
                cond = cond | (
                    pl.col("kind").cast(pl.String).str.starts_with(k[:-1])
                    if k.endswith("*")
                    else pl.col("kind") == k
                )
            conds.append(cond)
        if self.failures:
            from logdoctor.model import FAILURE_KINDS

            conds.append(pl.col("kind").is_in(list(FAILURE_KINDS)))
        if self.since is not None:
            conds.append(pl.col("time") >= self.since)
        if self.until is not None:
            conds.append(pl.col("time") < self.until)
        return conds


def _when(value: str | None, option: str, zone: Zone) -> datetime | None:
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"{option} {value!r}: not an ISO 8601 time (2026-11-20T08:00:00)") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=zone.tz)
    return t.astimezone(UTC)


def event_filter(
    kinds: Sequence[str],
    since: str | None,
    until: str | None,
    failures: bool,
    zone: Zone,
) -> EventFilter:
    """Check the filter options (an unknown kind, a bad time: one-line errors); times
    without an offset are read in ``zone``."""
    from logdoctor.model import is_event_kind

    for k in kinds:
        if not k.endswith("*") and not is_event_kind(k):
            raise CliError(f"--kind {k!r}: not an event kind (see `logdoctor kinds`)")
    return EventFilter(
        tuple(kinds), _when(since, "--since", zone), _when(until, "--until", zone), failures
    )


def zones(tz: str | None, config: Path | None) -> ZoneBook:
    """The zone of each node: the deployment file's ``timezone`` keys, else ``--tz``."""
    return zone_book(tz, None if config is None else _deployment(config).node_zones())


def _deployment(config: Path) -> Deployment:
    """The deployment file, or one line and exit 2."""
    from logdoctor.ucm.deployment import load_deployment
    from logdoctor.ucm.deploymodel import DeploymentError

    try:
        return load_deployment(config)
    except DeploymentError as exc:
        raise CliError(str(exc)) from None


def node_aliases(config: Path | None) -> dict[str, tuple[str, ...]] | None:
    """The deployment file's node names and the addresses listed for them (so that a node
    whose folder is named by IP address takes the declared name, and its declared zone)."""
    if config is None:
        return None
    aliases: dict[str, tuple[str, ...]] = _deployment(config).aliases
    return aliases


def entry_zone(display_tz: str | None, book: ZoneBook) -> Zone:
    """The zone of times typed on the command line without an offset: the zone times are
    shown in (before anything is read: ``--display-tz``, else the one zone ``--tz`` and the
    deployment file agree on, else UTC)."""
    return display_zone(display_tz, book.expected_zone())


def shown_zone(
    display_tz: str | None, book: ZoneBook | None, nodes: Iterable[str] | None = None
) -> Zone:
    """The zone times are shown in: ``--display-tz``, else the logs' zone when known (the one
    zone of ``nodes``, or of every node read), else UTC."""
    return display_zone(display_tz, None if book is None else book.logs_zone(nodes))


def machine_zone(display_tz: str | None, book: ZoneBook | None) -> Zone | None:
    """The zone of times in JSON, JSON lines and CSV: None (UTC with ``Z``) unless
    ``--display-tz`` is given."""
    return None if display_tz is None else shown_zone(display_tz, book)


def report_zones(book: ZoneBook | None) -> None:
    """Warn (one line each) that zone-less times were read as UTC, and where the deployment
    file's zone overrode ``--tz``."""
    if book is None:
        return
    assumed = book.assumed()
    if assumed:
        files = sum(len(f) for f in assumed.values())
        nodes = ", ".join(assumed)
        warn(
            f"times without a zone were read as UTC ({nodes}: {files} file(s)); if the nodes "
            "write local time, give --tz ZONE or a deployment file's timezone"
        )
    for node, nz in book.conflicts():
        assert book.default is not None
        warn(f"{node}: times read in {nz.zone.name} ({nz.where}), not --tz {book.default.name}")
