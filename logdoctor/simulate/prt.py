"""The simulated Jabber clients' own logs: one ``jabber.log`` per client, as its PRT holds it.

Each Jabber client of a run (not RTMT) writes the client side of what it does to
``jabber-prt/<user>/<device>/jabber.log`` beside the node folders (the layout of
:mod:`logdoctor.ucm.prt`: a TAC engineer files each problem report under its user and
device; two folders, since user ids may hold underscores). Lines go through the jabber
family's templates (``parsers/jabber.toml``, :func:`logdoctor.ingest.formats.encoders.family`):

- a sign-in starts with the published ``authorizeNext`` line (document 223101);
- a new access token (sign-in or refresh) is a ``client.sso`` line whose wording is
  **modelled** (no public Jabber line says so; the format marks it ``basis = "modelled"``);
- a refused refresh grant is the published ``handleRefreshTokenFailure`` line (TN-212794);
- a token a server refuses is the published ``HTTP response code 401`` line (TN-221845), and
  at UCM (UDS) or a refused sign-in also the published ``HOME_UDS_AUTHENTICATION_FAILED`` line.

Jabber writes its local time without a zone; each writer is given the client's zone (the
simulated site runs on UTC, as its nodes' logs do) and writes its wall clock in it. Only what
happens from the collection window's start is written (a PRT is collected with the bundle).
The source paths and loggers of the header are the published lines' own; the thread is a
fixed number per client. Nothing here draws from the simulation's random generators, so a
run's server logs and verdicts do not depend on the PRTs.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from logdoctor.ingest.formats.encoders import family
from logdoctor.ucm.prt import prt_log_path

__all__ = ["PrtLog", "write_prts"]

_JABBER = family("jabber")

_SSO = ("vices\\impl\\system\\SingleSignOn.cpp(1186)", "Single-Sign-On-Logger")
_HTTP = ("ls\\src\\http\\BasicHttpClientImpl.cpp(675)", "csf.httpclient")
_UDS = ("ces\\impl\\ucm-config\\UdsProvider.cpp(996)", "csf.config")
"""Source path and logger of each published line (TN-212794, TN-221845)."""


class PrtLog:
    """One client's ``jabber.log``, kept in memory until :func:`write_prts`."""

    __slots__ = ("device", "lines", "requests", "since", "thread", "user", "zone")

    def __init__(self, user: str, device: str, *, since: float, zone: tzinfo = UTC) -> None:
        self.user = user
        self.device = device
        self.since = since
        """Nothing before this time is written (the collection window's start)."""
        self.zone = zone
        digest = hashlib.sha256(f"{user}/{device}".encode()).digest()
        self.thread = f"0x{int.from_bytes(digest[:2], 'big') + 0x1000:08x}"
        self.requests = 0
        self.lines: list[str] = []

    @property
    def path(self) -> str:
        """The log's path inside the bundle."""
        return prt_log_path(self.user, self.device).as_posix()

    def _write(
        self, t: float, level: str, where: tuple[str, str], name: str, **fields: object
    ) -> None:
        if t < self.since:
            return
        stamp = datetime.fromtimestamp(t, self.zone).replace(tzinfo=None)
        source, logger = where
        self.lines.append(
            _JABBER.render(
                name,
                {
                    "ts": stamp,
                    "level": level,
                    "thread": self.thread,
                    "source": source,
                    "logger": logger,
                },
                **fields,
            )
        )

    def _request(self) -> int:
        self.requests += 1
        return self.requests

    def sign_in(self, t: float) -> None:
        """An SSO sign-in starts (the embedded browser opens the authorize URL)."""
        self._write(t, "DEBUG", _SSO, "client.sso.request", request=self._request())

    def token(self, t: float, grant: str, expires_in: int) -> None:
        """A new access token arrived (modelled wording)."""
        self._write(t, "INFO", _SSO, "client.sso.token", grant=grant, value=expires_in)

    def refresh_failed(self, t: float) -> None:
        """UCM refused the refresh grant."""
        self._write(t, "WARN", _SSO, "client.refresh.failed")

    def refused(self, t: float, server: str, path: str, *, uds: bool) -> None:
        """``server`` answered 401 to a request carrying the token (``uds``: a UDS request,
        which Jabber also reports as a UDS authentication failure)."""
        self._write(
            t,
            "INFO",
            _HTTP,
            "client.http.401",
            request=self._request(),
            server=server,
            path=path,
        )
        if uds:
            self._write(t, "ERROR", _UDS, "client.auth.failed")


def write_prts(root: Path, logs: list[PrtLog]) -> None:
    """Write every PRT log that has lines under ``root`` (the run's log folder)."""
    for log in logs:
        if not log.lines:
            continue
        dest = root / log.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text("\n".join(log.lines) + "\n", encoding="utf-8")
