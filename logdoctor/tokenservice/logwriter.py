"""The logs UCM writes, per node, in the layout of an RTMT collection.

```
<root>/<node>/tomcat/logs/ssosp/log4j/ssosp00001.log   log4j: ts LEVEL [thread] logger - msg
         (UCM 14/15: tomcat/logs/ssosp-tomcat/log4j/, see logdoctor.ucm.versions)
<root>/<node>/platform/log/ssoApp.log                  same layout
<root>/<node>/platform/log/certMgmt00001.log           ts LEVEL [thread] - msg (no logger)
<root>/<node>/syslog/CiscoSyslog             local host local7 sev : seq: fqdn: UTC : %alarm
<root>/<node>/audit/AuditApp/AuditApp00001.log         ts LEVEL [thread] - audit event
<root>/<exp>/loggingsnapshot_<exp>_<YYYY-MM-DD>.txt     Expressway-C diagnostic log (see below)
```

An Expressway keeps no ssosp: its lines go to the ``loggingsnapshot_<host>_<date>.txt`` that
a diagnostic-log download (``diagnostic_log_<host>_<date>.tar.gz``) holds, unpacked into the
Expressway's folder; ``<date>`` is the UTC day of the file's first line (:func:`snapshot_path`).

A new ssosp file starts each time SSO is enabled (:meth:`LogWriter.new_ssosp_file`) and when the
current one would pass ``ssosp_max_bytes`` (size-based rotation, like log4j's
RollingFileAppender); ssoApp.log rotates at the same size to ``ssoApp.log.1`` (the newest),
``ssoApp.log.2``, ...; a new certMgmt file is written for each key regeneration. With
``backups`` set, each rotation keeps that many older files of the log besides the current one
(log4j's MaxBackupIndex) and deletes the rest, oldest first: ssosp and certMgmt files by their
number, ssoApp.log.N beyond N = backups. Several processes may write the same logs: numbered
files are shared by name and size, and the rename of ssoApp.log happens under an exclusive
``flock`` of its folder, after which the other writers reopen the file by name. File names
(numbered ``ssosp00012.log``, suffixed ``ssoApp.log.1``) come from :mod:`logdoctor.ucm.naming`.

Timestamps are the node's local time without a zone, as UCM writes them (plus the node's
configured clock offset), with log4j's ``yyyy-MM-dd HH:mm:ss,SSS`` and ``%-5p`` level padding;
a CiscoSyslog line carries both the local time and UTC. A node's zone (an IANA name, set with
:meth:`LogWriter.configure`) is UTC unless set; daylight saving applies as the zone database
says, so a log that spans a change jumps an hour, as a real node's does. The UCM version
(:class:`~logdoctor.ucm.versions.UcmProfile`) decides the ssosp folder and how loggers are
written (short on 12.5, long after two spaces on 14/15); request threads are named by the caller
(:meth:`~logdoctor.ucm.versions.UcmProfile.thread` of :attr:`LogWriter.profile`).

Lines are put together by the families' encoders (:func:`logdoctor.ingest.formats.encoders.family`,
the
``[writer]`` tables of ``parsers/ssosp.toml``, ``ssoapp.toml`` and ``certmgmt.toml``). Every
value in a message goes through :func:`enc` (:func:`logdoctor.ingest.formats.templates.percent`):
percent-encoding keeps it one token (no space, quote, ``=``, ``%``, control character or newline
survives), so no value can forge a field or a line; ``-`` stands for empty. Lines are buffered
and written with one ``write`` per flush to files opened in append mode.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from logdoctor.ingest.formats.encoders import family
from logdoctor.ingest.formats.templates import percent as enc
from logdoctor.ucm.naming import numbered_name, rotated_number, suffix_number, suffixed_name
from logdoctor.ucm.versions import UcmProfile, profile

__all__ = [
    "LogWriter",
    "audit_path",
    "enc",
    "snapshot_path",
    "ssoapp_path",
    "ssosp_dir",
    "syslog_path",
]

_FLUSH_AT = 256 * 1024
_SSOSP = family("ssosp")
_SSOAPP = family("ssoapp")
_CERTMGMT = family("certmgmt")
_SYSLOG = family("ciscosyslog")
_AUDIT = family("auditapp")
_EXPRESSWAY = family("expressway")


def ssosp_dir(root: Path, node: str, version: UcmProfile | None = None) -> Path:
    """Folder of a node's ssosp log4j files (UCM 12.5's unless ``version`` says otherwise)."""
    return (version or profile(None)).ssosp_dir(root, node)


def ssoapp_path(root: Path, node: str) -> Path:
    """A node's ssoApp.log."""
    return root / node / "platform" / "log" / "ssoApp.log"


def syslog_path(root: Path, node: str) -> Path:
    """A node's CiscoSyslog (``file get activelog syslog/CiscoSyslog``)."""
    return root / node / "syslog" / "CiscoSyslog"


def audit_path(root: Path, node: str) -> Path:
    """A node's application audit log."""
    return root / node / "audit" / "AuditApp" / "AuditApp00001.log"


def snapshot_path(root: Path, node: str, t: float) -> Path:
    """An Expressway's diagnostic log started at POSIX time ``t`` (its UTC day names it)."""
    day = time.strftime("%Y-%m-%d", time.gmtime(t))
    return root / node / f"loggingsnapshot_{node}_{day}.txt"


def _platform_dir(root: Path, node: str) -> Path:
    return root / node / "platform" / "log"


def _number(name: str, stem: str) -> int | None:
    """``n`` when ``name`` is UCM's name of file ``n`` of the numbered log ``stem``."""
    got, n, _ = rotated_number(name)
    if got != stem or n is None or name != numbered_name(stem, n):
        return None
    return n


def _numbers(folder: Path, stem: str) -> list[int]:
    found = []
    if folder.is_dir():
        for name in os.listdir(folder):
            n = _number(name, stem)
            if n is not None:
                found.append(n)
    return sorted(found)


def _highest(folder: Path, stem: str) -> int:
    return max(_numbers(folder, stem), default=0)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _drop_numbered(folder: Path, stem: str, keep_from: int) -> None:
    """Delete ``<stem>NNNNN.log`` files numbered below ``keep_from``."""
    for n in _numbers(folder, stem):
        if n < keep_from:
            _unlink(folder / numbered_name(stem, n))


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive ``flock`` of a folder (Linux allows it on a directory's descriptor)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _shift(path: Path, backups: int | None) -> None:
    """Rotate ``path`` to ``path.1``, ``path.1`` to ``path.2``, ...; keep ``backups`` of them."""
    base = path.name
    found = (suffix_number(n, base) for n in os.listdir(path.parent))
    nums = sorted(i for i in found if i is not None)
    if backups is not None:
        for i in nums:
            if i >= backups:
                _unlink(path.with_name(suffixed_name(base, i)))
        nums = [i for i in nums if i < backups]
    for i in reversed(nums):
        os.replace(
            path.with_name(suffixed_name(base, i)), path.with_name(suffixed_name(base, i + 1))
        )
    if backups == 0:
        _unlink(path)
    else:
        os.replace(path, path.with_name(suffixed_name(base, 1)))


@dataclass
class _Sink:
    path: Path
    size: int
    fd: int | None = None
    buf: list[str] = field(default_factory=list)
    pending: int = 0

    def open(self) -> int:
        if self.fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        return self.fd

    def flush(self) -> None:
        if not self.buf:
            return
        data = "".join(self.buf).encode("utf-8")
        self.buf.clear()
        self.pending = 0
        fd = self.open()
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        # Other processes may append to the same file: the real size decides rotation.
        self.size = os.fstat(fd).st_size

    def close(self) -> None:
        self.flush()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def moved(self) -> bool:
        """Whether the open file is no longer the one at :attr:`path` (another process rotated
        it)."""
        if self.fd is None:
            return False
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return True
        return st.st_ino != os.fstat(self.fd).st_ino


class LogWriter:
    """Writes log lines for many nodes; call :meth:`flush` when an operation is complete."""

    def __init__(
        self,
        root: Path,
        *,
        ssosp_max_bytes: int = 10 * 1024 * 1024,
        backups: int | None = None,
    ) -> None:
        if ssosp_max_bytes < 1024:
            raise ValueError("ssosp_max_bytes must be at least 1024")
        if backups is not None and backups < 0:
            raise ValueError("backups must be 0 or more")
        self.root = root
        self.ssosp_max_bytes = ssosp_max_bytes
        self.backups = backups
        """Rotated files kept per log besides the current one (None: all)."""
        self._ssosp: dict[str, _Sink] = {}
        self._ssoapp: dict[str, _Sink] = {}
        self._plain: dict[Path, _Sink] = {}
        self._seq: dict[str, int] = {}
        self.profile: UcmProfile = profile(None)
        """The UCM version the nodes run (:meth:`configure`)."""
        self._zones: dict[str, tzinfo] = {}
        self._snapshot: dict[str, Path] = {}

    def configure(self, version: UcmProfile, zones: Mapping[str, str]) -> None:
        """Write as UCM ``version`` does, each node of ``zones`` in its zone (IANA name, or
        UTC); other nodes write UTC. A change of version starts the next lines in the new
        version's ssosp folder. ValueError for a zone the zone database does not know."""
        tzs: dict[str, tzinfo] = {}
        for node, name in zones.items():
            try:
                tzs[node] = UTC if name.upper() == "UTC" else ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"node {node!r}: {name!r} is not a time zone") from None
        if version != self.profile:
            for sink in self._ssosp.values():
                sink.close()
            self._ssosp.clear()
        self.profile = version
        self._zones = tzs

    def local(self, node: str, t: float) -> float:
        """The POSIX time ``t`` as ``node``'s wall clock shows it (a number to format as UTC)."""
        tz = self._zones.get(node)
        if tz is None:
            return t
        off = datetime.fromtimestamp(t, tz).utcoffset()
        return t + (off.total_seconds() if off is not None else 0.0)

    # -- ssosp -----------------------------------------------------------------------------------

    def _ssosp_sink(self, node: str) -> _Sink:
        sink = self._ssosp.get(node)
        if sink is None:
            folder = self.profile.ssosp_dir(self.root, node)
            n = max(1, _highest(folder, "ssosp"))
            path = folder / numbered_name("ssosp", n)
            sink = _Sink(path, path.stat().st_size if path.exists() else 0)
            self._ssosp[node] = sink
        return sink

    def _next_ssosp(self, node: str, *, new_file: bool = False) -> _Sink:
        old = self._ssosp.pop(node, None)
        if old is not None:
            old.close()
        folder = self.profile.ssosp_dir(self.root, node)
        high = _highest(folder, "ssosp")
        mine = 0
        if old is not None:
            mine = _number(old.path.name, "ssosp") or 0
        if not new_file and high > mine:
            # Another process rotated already: join its file while it has room.
            path = folder / numbered_name("ssosp", high)
            size = path.stat().st_size if path.exists() else 0
            if size < self.ssosp_max_bytes:
                sink = _Sink(path, size)
                self._ssosp[node] = sink
                return sink
        n = max(high, mine) + 1
        sink = _Sink(folder / numbered_name("ssosp", n), 0)
        sink.open()  # the file exists from now on, even before its first line
        self._ssosp[node] = sink
        if self.backups is not None:
            _drop_numbered(folder, "ssosp", n - self.backups)
        return sink

    def new_ssosp_file(self, node: str) -> Path:
        """Start a new ssospNNNNN.log for ``node`` (SSO enabled); its path."""
        return self._next_ssosp(node, new_file=True).path

    def ssosp(self, node: str, t: float, level: str, thread: str, logger: str, msg: str) -> None:
        """Append one ssosp line (log4j layout; ``logger`` short, as 12.5 writes it: the
        version decides the form written)."""
        line = (
            _SSOSP.line(
                msg,
                ts=self.local(node, t),
                level=level,
                thread=thread,
                logger=self.profile.logger(logger),
            )
            + "\n"
        )
        sink = self._ssosp_sink(node)
        n = len(line)  # ASCII: every value is percent-encoded
        if sink.size and sink.size + n > self.ssosp_max_bytes:
            sink = self._next_ssosp(node)
        self._append(sink, line, n)

    def ssosp_path(self, node: str) -> Path:
        """The ssosp file lines of ``node`` go to now."""
        return self._ssosp_sink(node).path

    # -- ssoApp ----------------------------------------------------------------------------------

    def ssoapp(self, node: str, t: float, level: str, thread: str, logger: str, msg: str) -> None:
        """Append one ssoApp.log line (log4j layout); rotate it first if it would pass the
        size limit."""
        sink = self._ssoapp.get(node)
        if sink is not None and sink.moved():
            sink.close()
            sink = None
        path = ssoapp_path(self.root, node)
        if sink is None:
            sink = _Sink(path, path.stat().st_size if path.exists() else 0)
            self._ssoapp[node] = sink
        line = (
            _SSOAPP.line(msg, ts=self.local(node, t), level=level, thread=thread, logger=logger)
            + "\n"
        )
        if sink.size and sink.size + len(line) > self.ssosp_max_bytes:
            sink.close()
            path.parent.mkdir(parents=True, exist_ok=True)
            with _folder_lock(path.parent):
                # Another process may have rotated it already: decide on the file's real size.
                size = path.stat().st_size if path.exists() else 0
                if size and size + len(line) > self.ssosp_max_bytes:
                    _shift(path, self.backups)
                    size = 0
            sink = _Sink(path, size)
            self._ssoapp[node] = sink
        self._append(sink, line, len(line))

    # -- CiscoSyslog and AuditApp ---------------------------------------------------------------

    def _plain_sink(self, path: Path) -> _Sink:
        sink = self._plain.get(path)
        if sink is None:
            sink = _Sink(path, path.stat().st_size if path.exists() else 0)
            self._plain[path] = sink
        return sink

    def syslog(self, node: str, t: float, zone_offset: float, severity: int, msg: str) -> None:
        """Append one CiscoSyslog alarm line: the node's local time and the UTC time ``t``, its
        sequence number, the alarm. The local time is in the node's zone (:meth:`configure`);
        for a node without one, ``t`` plus ``zone_offset`` seconds."""
        seq = self._seq.get(node, 0) + 1
        self._seq[node] = seq
        local = self.local(node, t) if node in self._zones else t + zone_offset
        line = _SYSLOG.line(
            msg,
            local=local,
            ts=t,
            host=node,
            level=str(severity),
            seq=str(seq),
            fqdn=f"{node}.example.com",
        )
        self._append(self._plain_sink(syslog_path(self.root, node)), line + "\n", len(line) + 1)

    def audit(self, node: str, t: float, msg: str, thread: str = "http-bio-443-exec-1") -> None:
        """Append one audit event (AuditApp) of ``node``."""
        line = _AUDIT.line(msg, ts=self.local(node, t), level="INFO", thread=thread) + "\n"
        self._append(self._plain_sink(audit_path(self.root, node)), line, len(line.encode()))

    def expressway(self, node: str, t: float, zone: str, proc: str, msg: str) -> None:
        """Append one line to Expressway ``node``'s diagnostic log: its local time ``t`` with
        the ``zone`` offset written after it (``+00:00``), the ``proc`` part
        (``traffic_server[2101]: ``, ``alarm: `` or empty) and the message."""
        path = self._snapshot.get(node)
        if path is None or not path.parent.is_dir():
            found = sorted((self.root / node).glob(f"loggingsnapshot_{node}_*.txt"))
            path = found[-1] if found else snapshot_path(self.root, node, t)
            self._snapshot[node] = path
        line = _EXPRESSWAY.line(msg, ts=t, tz=zone, host=node, proc=proc) + "\n"
        self._append(self._plain_sink(path), line, len(line.encode()))

    # -- certMgmt --------------------------------------------------------------------------------

    def certmgmt(self, node: str, lines: list[tuple[float, str, str]]) -> Path:
        """Write a new certMgmtNNNNN.log with ``(time, level, message)`` lines; its path."""
        folder = _platform_dir(self.root, node)
        n = _highest(folder, "certMgmt") + 1
        path = folder / numbered_name("certMgmt", n)
        sink = _Sink(path, 0)
        for t, level, msg in lines:
            stamp = self.local(node, t)
            sink.buf.append(_CERTMGMT.line(msg, ts=stamp, level=level, thread="main") + "\n")
        sink.close()
        if self.backups is not None:
            _drop_numbered(folder, "certMgmt", n - self.backups)
        return path

    # -- buffering -------------------------------------------------------------------------------

    def _append(self, sink: _Sink, line: str, n: int) -> None:
        sink.buf.append(line)
        sink.size += n
        sink.pending += n
        if sink.pending >= _FLUSH_AT:
            sink.flush()

    def flush(self) -> None:
        """Write every buffered line."""
        for sinks in (self._ssosp, self._ssoapp, self._plain):
            for sink in sinks.values():
                sink.flush()

    def rescan(self) -> None:
        """Forget open files (another process may have started new ones); flushes first."""
        self.close()

    def close(self) -> None:
        """Flush and close every file."""
        for sinks in (self._ssosp, self._ssoapp, self._plain):
            for sink in sinks.values():
                sink.close()
            sinks.clear()
        self._snapshot.clear()
