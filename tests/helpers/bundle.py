"""A small RTMT-style bundle built line by line: :class:`Bundle` collects lines per node and
file (through :mod:`tests.helpers.lines`) and writes them in time order as
``<node>/tomcat/logs/ssosp/log4j/ssosp00001.log``, ``<node>/platform/log/ssoApp.log``,
``<node>/platform/log/certMgmt00001.log``, ``<node>/syslog/CiscoSyslog`` and
``<node>/audit/AuditApp/AuditApp00001.log``. One method per event a rule case needs."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from tests.helpers.lines import (
    CLIENT,
    ENCODERS,
    JABBER,
    JABBER_HEADERS,
    PATHS,
    SSOSP,
    START,
    UDS_B64,
    audit_service_line,
    kid,
    service_line,
    ssosp_line,
)

__all__ = ["Bundle"]


class Bundle:
    """Log lines per (node, file), written in time order."""

    def __init__(self) -> None:
        self.files: dict[tuple[str, str], list[tuple[datetime, int, str]]] = {}
        self.seq = 0
        self.ssosp_file: dict[str, str] = {}
        """node -> relative path of the ssosp file lines go to now (rotation)."""

    def raw(self, node: str, rel: str, t: datetime, text: str) -> None:
        self.seq += 1
        self.files.setdefault((node, rel), []).append((t, self.seq, text))

    def log4j(
        self,
        node: str,
        t: datetime,
        level: str,
        logger: str,
        msg: str,
        *,
        family: str = "ssosp",
        thread: str = "http-bio-8443-exec-1",
    ) -> None:
        rel = self.ssosp_file.get(node, PATHS["ssosp"]) if family == "ssosp" else PATHS[family]
        line = ENCODERS[family].line(msg, ts=t, level=level, thread=thread, logger=logger)
        self.raw(node, rel, t, line)

    def event(self, node: str, t: datetime, kind: str, **fields: object) -> None:
        """One ssosp line of event ``kind`` (:func:`tests.helpers.lines.ssosp_line`)."""
        rel = self.ssosp_file.get(node, PATHS["ssosp"])
        self.raw(node, rel, t, ssosp_line(kind, t, **fields))

    def client_event(
        self,
        node: str,
        t: datetime,
        kind: str,
        user: str | None,
        device: str | None,
        token: str | None,
        via: str | None,
        **more: object,
    ) -> None:
        """An event about one Jabber client's token (or code): user, device, the Jabber
        client id, the token id and the Expressway it came through."""
        self.event(
            node,
            t,
            kind,
            user=user,
            client_id=CLIENT,
            device=device,
            token_id=token,
            server=via,
            **more,
        )

    # -- Expressway-C diagnostic log and Unity Connection syslog (the token service's forms,
    # logdoctor/tokenservice/edge.py) -----------------------------------------------------------

    def _edge(self, node: str, t: datetime, proc: str, msg: str) -> None:
        rel = f"loggingsnapshot_{node}_{START:%Y-%m-%d}.txt"
        line = ENCODERS["expressway"].line(msg, ts=t, tz="+00:00", host=node, proc=proc)
        self.raw(node, rel, t, line)

    def relay(self, node: str, t: datetime, method: str, path: str, status: int) -> None:
        """A traffic_server Receive Request / Receive Response pair of Expressway ``node``."""
        self.seq += 1
        txn = str(self.seq)
        enc = ENCODERS["expressway"]
        utc = f"{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d}"
        url = f"http://vcs_control.example.com:8443{path}"
        req = enc.message(
            "edge.request",
            utc=utc,
            key=txn,
            tracking=f"00000000-0000-4000-8000-{int(txn):012d}",
            port="40000",
            param=method,
            url=url,
        )
        self._edge(node, t, "traffic_server[2101]: ", req)
        done = t + timedelta(milliseconds=30)
        up = "ucm-pub" if status != 401 else "127.0.0.1"
        utc = f"{done:%Y-%m-%d %H:%M:%S},{done.microsecond // 1000:03d}"
        resp = enc.message("edge.response", utc=utc, key=txn, server=up, reason=str(status))
        self._edge(node, done, "traffic_server[2101]: ", resp)

    def uds(self, node: str, t: datetime, user: str, status: int) -> None:
        """A Jabber UDS request relayed (200) or refused (401) by Expressway ``node``."""
        self.relay(node, t, "GET", f"/{UDS_B64}/cucm-uds/user/{user}/devices", status)

    def exp_alarm(self, node: str, t: datetime, alarm: str, detail: str) -> None:
        """An alarm of Expressway ``node`` (40054 Token decryption failure, ...)."""
        msg = ENCODERS["expressway"].message(
            "edge.alarm",
            key=alarm,
            uuid="5b0c3f0e-8d0a-4a59-9f6c-0a1b2c3d4e5f",
            reason=detail,
            utc=f"{t:%Y-%m-%d %H:%M:%S},000",
        )
        self._edge(node, t, 'alarm: Level="WARN" ', msg)

    def unity_alarm(self, node: str, t: datetime) -> None:
        """Unity Connection's EvtAuthzKeyRotation in its CiscoSyslog."""
        syslog = ENCODERS["ciscosyslog"]
        msg = syslog.message("authz.keys.mismatch", cluster="StandAloneCluster", node=node)
        head = {"host": node, "level": "4", "fqdn": f"{node}.example.com"}
        line = syslog.line(msg, local=t, ts=t, seq=str(self.seq), **head)
        self.raw(node, PATHS["syslog"], t, line)

    def cert(self, node: str, t: datetime, msg: str, level: str = "INFO") -> None:
        line = ENCODERS["certmgmt"].line(msg, ts=t, level=level, thread="main")
        self.raw(node, PATHS["certmgmt"], t, line)

    def jabber(
        self, user: str, device: str, t: datetime, name: str, level: str = "WARN", **fields: object
    ) -> None:
        """A line of the user's Jabber PRT (``jabber-prt/<user>/<device>/jabber.log``), event
        ``name`` of parsers/jabber.toml, in the header of the published lines."""
        source, logger = JABBER_HEADERS[name]
        line = JABBER.render(
            name,
            {"ts": t, "level": level, "thread": "0x0000264c", "source": source, "logger": logger},
            **fields,
        )
        self.raw("jabber-prt", f"{user}/{device}/jabber.log", t, line)

    def rotate(self, node: str, number: int) -> None:
        """Send this node's next ssosp lines to ssosp000NN.log."""
        self.ssosp_file[node] = f"tomcat/logs/ssosp/log4j/ssosp{number:05d}.log"

    def write(self, root: Path) -> None:
        for (node, rel), lines in sorted(self.files.items()):
            p = root / node / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            lines.sort(key=lambda x: (x[0], x[1]))
            p.write_text("".join(text + "\n" for _t, _s, text in lines), encoding="utf-8")

    # -- OAuth lines (parsers/ssosp.toml) ------------------------------------------------------

    def authorize(
        self,
        node: str,
        t: datetime,
        user: str,
        device: str,
        agent: str,
        grant: str,
        via: str | None,
    ) -> None:
        self.event(
            node,
            t,
            "authorize.request",
            grant=grant,
            client_id=CLIENT,
            user=user,
            device=device,
            agent=agent,
            server=via,
        )

    def authorize_refused(
        self,
        node: str,
        t: datetime,
        reason: str,
        grant: str,
        user: str | None,
        via: str | None,
        error: str = "unsupported_response_type",
    ) -> None:
        self.event(
            node,
            t,
            "authorize.rejected",
            error=error,
            reason=reason,
            grant=grant,
            client_id=CLIENT,
            user=user,
            server=via,
        )

    def auth_ok(self, node: str, t: datetime, user: str, via: str | None) -> None:
        self.event(node, t, "auth.success", user=user, param="password", server=via)

    def auth_fail(self, node: str, t: datetime, user: str, reason: str, via: str | None) -> None:
        self.event(node, t, "auth.failure", user=user, param="password", reason=reason, server=via)

    def code(
        self, node: str, t: datetime, user: str, device: str, code: str, via: str | None
    ) -> None:
        self.client_event(node, t, "code.issued", user, device, code, via)

    def access(
        self,
        node: str,
        t: datetime,
        user: str,
        device: str,
        grant: str,
        jti: str,
        sign: str,
        seconds: int,
        via: str | None,
    ) -> None:
        self.client_event(
            node,
            t,
            "token.access.issued",
            user,
            device,
            jti,
            via,
            grant=grant,
            key=kid(sign),
            value=seconds,
        )

    def refresh_issued(
        self,
        node: str,
        t: datetime,
        user: str,
        device: str,
        tid: str,
        sign: str,
        seconds: int,
        via: str | None,
    ) -> None:
        self.client_event(
            node, t, "token.refresh.issued", user, device, tid, via, key=kid(sign), value=seconds
        )

    def refreshed(
        self, node: str, t: datetime, user: str, device: str, tid: str, via: str | None
    ) -> None:
        self.client_event(node, t, "token.refreshed", user, device, tid, via)

    def refused(
        self,
        node: str,
        t: datetime,
        grant: str,
        reason: str,
        user: str | None,
        device: str | None,
        tid: str | None,
        via: str | None,
        error: str = "invalid_grant",
    ) -> None:
        self.client_event(
            node,
            t,
            "token.rejected",
            user,
            device,
            tid,
            via,
            grant=grant,
            error=error,
            reason=reason,
        )

    def validated(
        self, node: str, t: datetime, server: str, user: str, jti: str, sign: str
    ) -> None:
        self.event(
            node,
            t,
            "token.validated",
            server=server,
            user=user,
            client_id=CLIENT,
            token_id=jti,
            key=kid(sign),
        )

    def validation_failed(
        self,
        node: str,
        t: datetime,
        server: str,
        check: str,
        user: str | None,
        jti: str | None,
        sign: str | None,
    ) -> None:
        known = check not in ("signature", "decrypt", "malformed")
        self.event(
            node,
            t,
            "validation.failed",
            server=server,
            reason=check,
            user=user if known else None,
            client_id=CLIENT if known else None,
            token_id=jti if known else None,
            key=kid(sign) if sign else None,
        )

    def revoke(self, node: str, t: datetime, admin: str, user: str, revoked: int) -> None:
        self.event(
            node,
            t,
            "revoke.request",
            param=admin,
            user=user,
            client_id=None,
            reason="success",
            value=revoked,
        )

    def revoked(self, node: str, t: datetime, user: str, tid: str, cause: str) -> None:
        self.event(
            node, t, "token.revoked", user=user, client_id=CLIENT, token_id=tid, reason=cause
        )

    def purged(self, node: str, t: datetime, count: int) -> None:
        self.event(node, t, "token.purged", value=count)

    def param_changed(self, node: str, t: datetime, name: str, old: str, new: str) -> None:
        self.event(node, t, "config.changed", param=name, old=old, value=new)

    def param_refused(self, node: str, t: datetime, name: str, value: str, reason: str) -> None:
        self.event(node, t, "config.rejected", param=name, value=value, reason=reason)

    def key_loaded(
        self,
        node: str,
        t: datetime,
        use: str,
        checksum_: str,
        version: int,
        server: str = "Cisco Tomcat",
    ) -> None:
        self.event(node, t, "key.loaded", param=use, key=checksum_, value=version, server=server)

    def key_regen(self, node: str, t: datetime, use: str, checksum_: str, version: int) -> None:
        self.event(node, t, "key.regenerated", param=use, key=checksum_, value=version)
        self.cert(node, t, "op:regenerate")
        self.cert(
            node, t, SSOSP.message("key.regenerated", param=use, key=checksum_, value=version)
        )

    def key_replicated(
        self, node: str, t: datetime, use: str, checksum_: str, version: int, publisher: str
    ) -> None:
        self.event(
            node,
            t,
            "key.replicated",
            param=use,
            key=checksum_,
            value=version,
            server=publisher,
        )

    # -- CiscoSyslog and AuditApp (parsers/ciscosyslog.toml, auditapp.toml) -----------------------

    def restart(self, node: str, t: datetime, service: str, target: str) -> None:
        """Cisco Service Manager's ServiceStopped and ServiceStarted alarms of ``target`` in
        its CiscoSyslog, and the administrator's ServiceStatusUpdated in its AuditApp."""
        for name, dt in (("service.stopped", t), ("service.started", t + timedelta(seconds=1))):
            line = service_line(name, dt, service, target, pid=4000 + self.seq, seq=self.seq)
            self.raw(node, PATHS["syslog"], dt, line)
        self.raw(node, PATHS["audit"], t, audit_service_line(t, service, target))

    # -- ssoApp.log (parsers/ssoapp.toml) -------------------------------------------------------

    def trace_level(self, node: str, t: datetime, value: str) -> None:
        self.log4j(
            node,
            t,
            "INFO",
            "sso.SSOApp",
            ENCODERS["ssoapp"].message("trace.level", value=value),
            family="ssoapp",
            thread="main",
        )
