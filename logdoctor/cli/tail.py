"""``tail``: follow growing and rotating logs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from logdoctor.cli._base import main
from logdoctor.cli.errors import console, handle_errors
from logdoctor.cli.options import (
    config_option,
    format_option,
    formats_dir_option,
    set_node_option,
    tz_option,
)

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from logdoctor.tail.follow_events import Notice
    from logdoctor.tail.tailer import Batch, Tailer
    from logdoctor.tail.window import Detector

# -- tail ----------------------------------------------------------------------------------------


@main.command("tail")
@click.argument("paths", nargs=-1, required=True)
@format_option(
    "tail",
    "live",
    "live: a screen that updates (events, counters, findings); jsonl: one JSON object per "
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
@config_option("Deployment file the rules compare the logs with (as for check).")
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
    from logdoctor.cli.tail_view import summary_line
    from logdoctor.outputs.registry import writer
    from logdoctor.tail.tailer import Tailer

    detector = None if no_rules else _detector(config)
    sink: _JsonlSink | _LiveSink = (
        _LiveSink(console()) if writer("tail", out_format).screen else _JsonlSink(sys.stdout)
    )
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
        sink=sink,
    )
    with _stop_signals() as stopping:
        try:
            sink.open(tailer.start())
            if isinstance(sink, _LiveSink):
                sink.run(tailer, stopping, rules=detector is not None)
            else:
                while not stopping():
                    tailer.step(0.5)
                tailer.close()
        except BaseException:
            tailer.abort()  # no checkpoint after a failure: it could cover lines not written
            raise
    sink.summary(summary_line(tailer.stats, state=tailer.state_path))


def _detector(config: Path | None) -> Detector:
    """The rules run on the recent events (imported only when they run)."""
    from logdoctor.tail.detector import rules_detector

    return rules_detector(config)


@contextlib.contextmanager
def _stop_signals() -> Iterator[Callable[[], bool]]:
    """SIGINT and SIGTERM ask for a clean stop, seen between two steps of the tailer.

    The handler only sets a flag: an exception raised in the middle of a step could leave the
    tailer's position ahead of its output. A second signal stops at once (KeyboardInterrupt,
    exit 130); the checkpoint then still covers only what was written.
    """
    asked = [0]

    def handler(signum: int, frame: object) -> None:
        asked[0] += 1
        if asked[0] > 1:
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: asked[0] > 0
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _JsonlSink:
    """``--format jsonl``: each batch is one write of whole JSON lines to stdout.

    A reader of the stream may find the last line torn (a SIGKILL in the middle of a write)
    and must skip it; when stdout is a regular file that already ends in such a line (the
    output of a killed run, appended to with ``>>``), a newline is written first, so the torn
    line never fuses with the first line of this run. Before each checkpoint the file is
    fsynced, so the checkpoint never covers lines a crash of the machine could lose.
    """

    def __init__(self, stream: IO[str]) -> None:
        from logdoctor.tail.jsonl import event_json, finding_record, notice_record

        self._event_json = event_json
        self._finding = finding_record
        self._notice = notice_record
        self._enc = json.JSONEncoder(ensure_ascii=False).encode  # one encoder for all lines
        self._stream = stream
        try:
            stream.flush()
            self._fd: int | None = stream.fileno()
        except (AttributeError, OSError, ValueError):
            self._fd = None  # not a real file (a test runner's capture)
        self._is_file = self._fd is not None and stat.S_ISREG(os.fstat(self._fd).st_mode)

    def open(self, notices: Sequence[Notice]) -> None:
        if self._is_file:
            self._end_torn_line()
        self._put([self._enc(self._notice(n)) for n in notices])

    def _end_torn_line(self) -> None:
        assert self._fd is not None
        fd = self._fd
        try:
            import fcntl  # POSIX; elsewhere the torn line is left as it is

            end = (
                os.fstat(fd).st_size
                if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND
                else os.lseek(fd, 0, os.SEEK_CUR)
            )
            if end <= 0:
                return
            rfd = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY)
            try:
                last = os.pread(rfd, 1, end - 1)
            finally:
                os.close(rfd)
        except (ImportError, OSError):
            return  # cannot look: nothing to do
        if last != b"\n":
            _write_all(fd, b"\n")

    def write(self, batch: Batch) -> None:
        lines = [self._event_json(r) for r in batch.events]
        lines += [self._enc(self._finding(f)) for f in batch.findings]
        lines += [self._enc(self._notice(n)) for n in batch.notices]
        self._put(lines)
        for n in batch.notices:
            if n.kind in _WARN:
                click.echo(f"logdoctor tail: {n.message}", err=True)

    def _put(self, lines: list[str]) -> None:
        if not lines:
            return
        text = "\n".join(lines) + "\n"
        if self._fd is None:
            self._stream.write(text)
            self._stream.flush()
        else:
            # A lone surrogate (a file name that is not UTF-8) becomes its JSON escape.
            _write_all(self._fd, text.encode("utf-8", "backslashreplace"))

    def sync(self) -> None:
        if self._is_file and self._fd is not None:
            os.fsync(self._fd)

    def summary(self, line: str) -> None:
        click.echo(line, err=True)


_WARN = frozenset({"format", "unrecognized", "lost"})
"""Notices that also go to stderr in jsonl mode: the stream's reader may not look at them."""


class _LiveSink:
    """``--format live``: batches go to the screen's state (nothing to make durable)."""

    def __init__(self, console: Console) -> None:
        from logdoctor.cli.tail_view import LiveState

        self.console = console
        self.view = LiveState()

    def open(self, notices: Sequence[Notice]) -> None:
        from logdoctor.tail.tailer import Batch

        self.view.add(Batch(notices=list(notices)))

    def write(self, batch: Batch) -> None:
        self.view.add(batch)

    def sync(self) -> None:
        return None

    def run(self, tailer: Tailer, stopping: Callable[[], bool], *, rules: bool) -> None:
        from rich.live import Live

        from logdoctor.cli.tail_view import render

        def screen() -> RenderableType:
            return render(
                self.view,
                tailer.stats,
                files=len(tailer.files()) or tailer.stats.files,
                observer=tailer.follower.observer_kind,
                rules=rules,
                height=self.console.size.height,
            )

        with Live(console=self.console, get_renderable=screen, refresh_per_second=4, screen=False):
            while not stopping():
                tailer.step(0.25)
            tailer.close()

    def summary(self, line: str) -> None:
        if not self.console.is_terminal:
            self.console.line()
        self.console.print(line, highlight=False)
