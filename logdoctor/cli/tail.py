"""``tail``: follow growing and rotating logs."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from logdoctor.cli._base import (
    _console,
    formats_dir_option,
    handle_errors,
    main,
    set_node_option,
    tz_option,
)

# -- tail ----------------------------------------------------------------------------------------


@main.command("tail")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["live", "jsonl"]),
    default="live",
    show_default=True,
    help="live: a screen that updates (events, counters, findings); jsonl: one JSON object per "
    'line (events, findings and notices, each with a "type"), flushed as they come.',
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Checkpoint file: where each file was left is saved there (atomically) and a restart "
    "resumes exactly after the last line handled.",
)
@click.option(
    "--from-start",
    is_flag=True,
    help="Read files that have no checkpoint from their start (default: from their end). A "
    "checkpoint always wins.",
)
@click.option(
    "--poll",
    is_flag=True,
    help="Poll the folders instead of using file-system events (network file systems).",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(0.05, 3600),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="How often the folders are re-read when no event came (the safety net).",
)
@click.option(
    "--rotate-grace",
    type=click.FloatRange(0, 600),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="How long a rotated file is still read for late writes before its partial last line "
    "is emitted.",
)
@click.option(
    "--idle-flush",
    type=click.FloatRange(0.01, 600),
    default=0.2,
    show_default=True,
    metavar="SECONDS",
    help="Emit a file's last record after this long without a new line.",
)
@click.option(
    "--window",
    type=click.IntRange(1),
    default=5000,
    show_default=True,
    help="Recent events the rules look at.",
)
@tz_option
@set_node_option
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Deployment file the rules compare the logs with (as for check).",
)
@click.option("--no-rules", is_flag=True, help="Show events only; run no rules.")
@formats_dir_option
@handle_errors
def tail_cmd(
    paths: Sequence[str],
    out_format: str,
    state: Path | None,
    from_start: bool,
    poll: bool,
    poll_interval: float,
    rotate_grace: float,
    idle_flush: float,
    window: int,
    tz: str | None,
    set_node: str | None,
    config: Path | None,
    no_rules: bool,
    formats_dirs: Sequence[Path],
) -> None:
    """Follow logs as they grow and rotate; show events and findings as they happen.

    PATHS are folders (followed recursively: ssoApp.log, ssosp*.log, certMgmt*.log appearing in
    them are picked up) or single files. Ctrl-C stops with a summary (and the checkpoint saved).
    """
    import signal

    from logdoctor.tail.tailer import Tailer

    detector = None
    if not no_rules:
        from logdoctor.tail.rules import rules_detector

        detector = rules_detector(config)
    tailer = Tailer(
        paths,
        formats_dirs=formats_dirs,
        tz=tz,
        node=set_node,
        state=state,
        from_start=from_start,
        poll=poll,
        poll_interval=poll_interval,
        rotate_grace=rotate_grace,
        idle_flush=idle_flush,
        window=window,
        detector=detector,
    )

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        notices = tailer.start()
        if out_format == "jsonl":
            _tail_jsonl(tailer, notices)
        else:
            _tail_live(tailer, notices, rules=detector is not None)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _tail_jsonl(tailer: Any, notices: Sequence[Any]) -> None:
    from logdoctor.tail.jsonl import event_json, finding_record, notice_record
    from logdoctor.tail.view import summary_line

    out = sys.stdout
    enc = json.JSONEncoder(ensure_ascii=False).encode  # one encoder, not one per line

    def write(batch: Any, extra: Sequence[Any] = ()) -> None:
        lines = [enc(notice_record(n)) for n in extra]
        lines += [event_json(r) for r in batch.events]
        lines += [enc(finding_record(f)) for f in batch.findings]
        lines += [enc(notice_record(n)) for n in batch.notices]
        if lines:
            out.write("\n".join(lines) + "\n")
            out.flush()

    closed = False
    try:
        first = list(notices)
        while True:
            write(tailer.step(0.5), first)
            first = []
    except KeyboardInterrupt:
        write(tailer.close())
        closed = True
    finally:
        if not closed:
            tailer.close()
    click.echo(summary_line(tailer.stats, state=tailer.state_path), err=True)


def _tail_live(tailer: Any, notices: Sequence[Any], *, rules: bool) -> None:
    from rich.live import Live

    from logdoctor.tail.tailer import Batch
    from logdoctor.tail.view import LiveState, render, summary_line

    console = _console()
    view = LiveState()
    view.add(Batch(notices=list(notices)))

    def screen() -> Any:
        return render(
            view,
            tailer.stats,
            files=len(tailer.files()) or tailer.stats.files,
            observer=tailer.follower.observer_kind,
            rules=rules,
            height=console.size.height,
        )

    closed = False
    try:
        with Live(console=console, get_renderable=screen, refresh_per_second=4, screen=False):
            try:
                while True:
                    view.add(tailer.step(0.25))
            except KeyboardInterrupt:
                view.add(tailer.close())
                closed = True
    finally:
        if not closed:
            tailer.close()
    if not console.is_terminal:
        console.line()
    console.print(summary_line(tailer.stats, state=tailer.state_path), highlight=False)
