"""The live view of ``logdoctor tail``: rich renderables built from the tailer's state.

Nothing here prints; the CLI hands the renderable to ``rich.live.Live``. Log text is shown
through :class:`rich.text.Text` (never parsed as markup) after
:func:`logdoctor.outputs.terminal.clean` (control characters escaped).
"""

from __future__ import annotations

from collections import deque

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from logdoctor.ingest.parse import Record
from logdoctor.model import Finding, Severity
from logdoctor.outputs.terminal import clean
from logdoctor.tail.follow_events import Notice
from logdoctor.tail.tailer import Batch, TailStats

__all__ = ["LiveState", "is_failure", "render", "summary_line", "top_kinds"]

_LEVEL_STYLE = {"ERROR": "bold red", "FATAL": "bold red", "WARN": "yellow", "DEBUG": "dim"}
_BAD_WORDS = ("rejected", "failure", "invalid", "mismatch", "failed", "error")
_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def is_failure(kind: str) -> bool:
    """A kind that says something failed or was refused (shown in red, never left out)."""
    return any(w in kind for w in _BAD_WORDS)


def event_style(r: Record) -> str:
    """The style of an event row: its level, or red for a failure kind at any level."""
    if is_failure(r.kind):
        return "bold red"
    return _LEVEL_STYLE.get(r.level or "", "")


def top_kinds(counts: dict[str, int], limit: int) -> tuple[list[tuple[str, int]], int]:
    """The kinds to show: the ``limit`` most frequent, then every failure kind and
    ``unrecognized`` left out by the cut; and how many kinds are not shown.

    Ties are broken by name, so the same counts always give the same list.
    """
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ranked[:limit]
    shown += [kv for kv in ranked[limit:] if is_failure(kv[0]) or kv[0] == "unrecognized"]
    return shown, len(ranked) - len(shown)


_WARNINGS = frozenset({"format", "unrecognized", "lost", "detector"})
"""Notices that stay on the screen (the others scroll away as new ones come)."""


class LiveState:
    """What the live view shows: the latest events, findings and notices.

    Warnings (a file no format fits, a file mostly unrecognized, lines lost while the tailer
    was down, a detector failure) are kept apart from the passing notices (rotations), so that
    a rotation every second cannot push them off the screen.
    """

    def __init__(self, keep: int = 500) -> None:
        self.events: deque[Record] = deque(maxlen=keep)
        self.notices: deque[Notice] = deque(maxlen=4)
        self.warnings: deque[Notice] = deque(maxlen=4)
        self.findings: list[Finding] = []

    def add(self, batch: Batch) -> None:
        """Take what one step produced."""
        self.events.extend(batch.events)
        for n in batch.notices:
            (self.warnings if n.kind in _WARNINGS else self.notices).append(n)
        self.findings.extend(batch.findings)


def _events_table(events: list[Record]) -> Table:
    t = Table(show_header=True, header_style="bold", expand=True, box=None, pad_edge=False)
    t.add_column("time", no_wrap=True)
    t.add_column("node", no_wrap=True, max_width=16)
    t.add_column("level", no_wrap=True)
    t.add_column("kind", no_wrap=True, max_width=22)
    t.add_column("user", no_wrap=True, max_width=16)
    t.add_column("message", no_wrap=True, ratio=1)
    for r in events:
        style = event_style(r)
        time = r.time.strftime("%H:%M:%S.%f")[:-3] if r.time else "?"
        t.add_row(
            Text(time),
            Text(clean(r.node, 16)),
            Text(clean(r.level or "", 5), style=_LEVEL_STYLE.get(r.level or "", "")),
            Text(clean(r.kind, 22), style=style),
            Text(clean(r.fields.get("user"), 16)),
            Text(clean(r.message, 400), style=style if style == "bold red" else ""),
        )
    return t


def _counts(title: str, counts: dict[str, int], limit: int, *, kinds: bool = False) -> Table:
    t = Table(
        title=title,
        show_header=False,
        box=None,
        title_justify="left",
        pad_edge=False,
        min_width=len(title),  # short names must not wrap the title ("events by / node")
    )
    t.add_column(no_wrap=True, max_width=26)
    t.add_column(justify="right")
    if kinds:
        top, more = top_kinds(counts, limit)
    else:
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        top, more = ranked[:limit], max(0, len(ranked) - limit)
    for k, v in top:
        style = "bold red" if kinds and is_failure(k) else ""
        t.add_row(Text(clean(k, 26), style=style), f"{v:,}")
    if more:
        t.add_row(Text(f"… {more} more", style="dim"), "")
    return t


def _findings(findings: list[Finding], rules: bool, limit: int) -> RenderableType:
    if not findings:
        msg = "no findings yet" if rules else "no rules loaded: events only"
        return Text(msg, style="dim")
    lines = []
    for f in sorted(findings, key=lambda f: -f.severity.rank)[:limit]:
        line = Text()
        line.append(f"{f.severity.value.upper():7} ", style=_SEVERITY_STYLE[f.severity])
        line.append(f"{f.rule} ", style="bold")
        line.append(clean(f.title, 80))
        if f.subjects:
            line.append("  " + clean(", ".join(f.subjects), 60), style="dim")
        lines.append(line)
    if len(findings) > limit:
        lines.append(Text(f"… {len(findings) - limit} more", style="dim"))
    return Group(*lines)


def render(
    state: LiveState,
    stats: TailStats,
    *,
    files: int,
    observer: str,
    rules: bool,
    height: int,
) -> RenderableType:
    """The whole screen: a status line, the event stream, counters, findings and notices."""
    status = Text()
    status.append("logdoctor tail ", style="bold")
    status.append(
        f"{files} file(s) · {stats.lines:,} lines · {stats.events:,} events · "
        f"{stats.findings} finding(s) · {observer} · Ctrl-C to stop",
        style="dim",
    )
    n_find = min(6, max(1, len(state.findings)))
    counters_h = 8
    rows = max(3, height - counters_h - n_find - 8)
    recent = list(state.events)[-rows:]
    counters = Table.grid(expand=True, padding=(0, 3))
    counters.add_column()
    counters.add_column()
    counters.add_row(
        _counts("events by kind", dict(stats.kinds), counters_h - 2, kinds=True),
        _counts("events by node", dict(stats.nodes), counters_h - 2),
    )
    parts: list[RenderableType] = [
        status,
        Panel(_events_table(recent), title="events", title_align="left", height=rows + 3),
        counters,
        Panel(_findings(state.findings, rules, 6), title="findings", title_align="left"),
    ]
    for n in state.warnings:
        parts.append(Text("! " + clean(n.message, 300), style="bold yellow"))
    for n in state.notices:
        parts.append(Text(clean(n.message, 200), style="dim yellow"))
    return Group(*parts)


def summary_line(stats: TailStats, *, state: str | None) -> str:
    """One line for the end of a session: the top kinds, and every failure kind."""
    shown, _ = top_kinds(dict(stats.kinds), 4)
    top = ", ".join(f"{k} {v:,}" for k, v in shown)
    out = (
        f"logdoctor tail: {stats.files} file(s), {stats.lines:,} lines, {stats.events:,} events"
        f"{' (' + top + ')' if top else ''}, {stats.findings} finding(s)"
    )
    if state:
        out += f"; checkpoint saved to {state}"
    return out
