"""Typed options the output commands share, and what they resolve to.

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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from logdoctor.cli.errors import CliError, warn
from logdoctor.timestamps import Zone, ZoneBook, display_zone, zone_book

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "ColorMode",
    "EventFilter",
    "color_option",
    "display_tz_option",
    "event_filter",
    "event_filter_options",
    "report_zones",
    "shown_zone",
    "zones",
    "zones_config_option",
]

F = TypeVar("F", bound=Callable[..., Any])
ColorMode = Literal["auto", "always", "never"]


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
            for k in self.kinds:
                cond = cond | (
                    pl.col("kind").str.starts_with(k[:-1])
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


def _deployment(config: Path) -> Any:
    """The deployment file, or one line and exit 2."""
    from logdoctor.ucm.deployment import DeploymentError, load_deployment

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
