"""Build small RTMT-style log bundles for rule tests, rendered through the templates and
``[writer]`` layouts of parsers/ssosp.toml, ssoapp.toml and certmgmt.toml (the contract the token
service writes to; :mod:`logdoctor.ingest.formats.templates`).

A :class:`Bundle` collects lines per node and file and writes them as
``<node>/tomcat/logs/ssosp/log4j/ssosp00001.log``, ``<node>/platform/log/ssoApp.log``,
``<node>/platform/log/certMgmt00001.log``, ``<node>/syslog/CiscoSyslog`` and
``<node>/audit/AuditApp/AuditApp00001.log``, and a user's Jabber PRT as
``jabber-prt/<user>/<device>/jabber.log`` (parsers/jabber.toml). :class:`Sim` drives
simulated Jabber clients on top of it (log in, refresh every 45 minutes, use the token at
IM and Presence), so that each rule case is "healthy traffic + one fault". Everything is
deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from logdoctor.ingest.formats.encoders import family

CLIENT = "C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a"
CLUSTER = "8d0d5324-f4f0-4b0b-811e-4a59fdb6b722"
START = datetime(2026, 11, 16, 7, 0, 0)  # a Monday; written without a zone (UTC)


def checksum(label: str) -> str:
    """A key checksum (64 hex) derived from a label."""
    return hashlib.sha256(label.encode()).hexdigest()


SIGN1, SIGN2 = checksum("signing-1"), checksum("signing-2")
ENC1, ENC2 = checksum("encryption-1"), checksum("encryption-2")


def kid(sign: str) -> str:
    return f"{CLUSTER}:{sign}"


SSOSP = family("ssosp")
ENCODERS = {
    name: family(name) for name in ("ssosp", "ssoapp", "certmgmt", "ciscosyslog", "auditapp")
}


JABBER = family("jabber")
JABBER_HEADERS = {
    "client.refresh.failed": (
        "vices\\impl\\system\\SingleSignOn.cpp(1186)",
        "Single-Sign-On-Logger",
    ),
    "client.sso.request": ("vices\\impl\\system\\SingleSignOn.cpp(1186)", "Single-Sign-On-Logger"),
    "client.http.401": ("ls\\src\\http\\BasicHttpClientImpl.cpp(675)", "csf.httpclient"),
    "client.auth.failed": ("ces\\impl\\ucm-config\\UdsProvider.cpp(996)", "csf.config"),
}
"""Source path and logger of the published Jabber lines (TN-212794, TN-221845)."""


PATHS = {
    "ssosp": "tomcat/logs/ssosp/log4j/ssosp00001.log",
    "ssoapp": "platform/log/ssoApp.log",
    "certmgmt": "platform/log/certMgmt00001.log",
    "syslog": "syslog/CiscoSyslog",
    "audit": "audit/AuditApp/AuditApp00001.log",
}


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
        self.log4j(
            node,
            t,
            "INFO",
            "oauth.AuthorizeServlet",
            SSOSP.message(
                "authorize.request",
                grant=grant,
                client_id=CLIENT,
                user=user,
                device=device,
                agent=agent,
                server=via,
            ),
            thread="http-bio-8443-exec-12",
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
        self.log4j(
            node,
            t,
            "WARN",
            "oauth.AuthorizeServlet",
            SSOSP.message(
                "authorize.rejected",
                error=error,
                reason=reason,
                grant=grant,
                client_id=CLIENT,
                user=user,
                server=via,
            ),
            thread="http-bio-8443-exec-12",
        )

    def auth_ok(self, node: str, t: datetime, user: str, via: str | None) -> None:
        self.log4j(
            node,
            t,
            "INFO",
            "oauth.AuthorizeServlet",
            SSOSP.message("auth.success", user=user, param="password", server=via),
            thread="http-bio-8443-exec-12",
        )

    def auth_fail(self, node: str, t: datetime, user: str, reason: str, via: str | None) -> None:
        self.log4j(
            node,
            t,
            "WARN",
            "oauth.AuthorizeServlet",
            SSOSP.message("auth.failure", user=user, param="password", reason=reason, server=via),
            thread="http-bio-8443-exec-12",
        )

    def code(
        self, node: str, t: datetime, user: str, device: str, code: str, via: str | None
    ) -> None:
        self.log4j(
            node,
            t,
            "INFO",
            "oauth.AuthorizeServlet",
            SSOSP.message(
                "code.issued",
                user=user,
                client_id=CLIENT,
                device=device,
                token_id=code,
                server=via,
            ),
            thread="http-bio-8443-exec-12",
        )

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
        self.log4j(
            node,
            t,
            "INFO",
            "oauth.TokenServlet",
            SSOSP.message(
                "token.access.issued",
                user=user,
                client_id=CLIENT,
                device=device,
                grant=grant,
                token_id=jti,
                key=kid(sign),
                value=seconds,
                server=via,
            ),
            thread="http-bio-8443-exec-14",
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
        self.log4j(
            node,
            t,
            "INFO",
            "oauth.TokenServlet",
            SSOSP.message(
                "token.refresh.issued",
                user=user,
                client_id=CLIENT,
                device=device,
                token_id=tid,
                key=kid(sign),
                value=seconds,
                server=via,
            ),
            thread="http-bio-8443-exec-14",
        )

    def refreshed(
        self, node: str, t: datetime, user: str, device: str, tid: str, via: str | None
    ) -> None:
        self.log4j(
            node,
            t,
            "INFO",
            "oauth.TokenServlet",
            SSOSP.message(
                "token.refreshed",
                user=user,
                client_id=CLIENT,
                device=device,
                token_id=tid,
                server=via,
            ),
            thread="http-bio-8443-exec-2",
        )

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
        self.log4j(
            node,
            t,
            "WARN",
            "oauth.TokenServlet",
            SSOSP.message(
                "token.rejected",
                grant=grant,
                error=error,
                reason=reason,
                user=user,
                client_id=CLIENT,
                device=device,
                token_id=tid,
                server=via,
            ),
            thread="http-bio-8443-exec-2",
        )

    def validated(
        self, node: str, t: datetime, server: str, user: str, jti: str, sign: str
    ) -> None:
        self.log4j(
            node,
            t,
            "DEBUG",
            "oauth.TokenValidator",
            SSOSP.message(
                "token.validated",
                server=server,
                user=user,
                client_id=CLIENT,
                token_id=jti,
                key=kid(sign),
            ),
            thread="http-bio-8443-exec-9",
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
        self.log4j(
            node,
            t,
            "WARN",
            "oauth.TokenValidator",
            SSOSP.message(
                "validation.failed",
                server=server,
                reason=check,
                user=user if known else None,
                client_id=CLIENT if known else None,
                token_id=jti if known else None,
                key=kid(sign) if sign else None,
            ),
            thread="http-bio-8443-exec-9",
        )

    def revoke(self, node: str, t: datetime, admin: str, user: str, revoked: int) -> None:
        self.log4j(
            node,
            t,
            "INFO",
            "oauth.RevokeServlet",
            SSOSP.message(
                "revoke.request",
                param=admin,
                user=user,
                client_id=None,
                reason="success",
                value=revoked,
            ),
            thread="http-bio-8443-exec-4",
        )

    def revoked(self, node: str, t: datetime, user: str, tid: str, cause: str) -> None:
        self.log4j(
            node,
            t,
            "INFO",
            "oauth.RevokeServlet",
            SSOSP.message("token.revoked", user=user, client_id=CLIENT, token_id=tid, reason=cause),
            thread="http-bio-8443-exec-4",
        )

    def purged(self, node: str, t: datetime, count: int) -> None:
        self.log4j(
            node,
            t,
            "INFO",
            "oauth.RefreshTokenCleaner",
            SSOSP.message("token.purged", value=count),
            thread="Timer-3",
        )

    def param_changed(self, node: str, t: datetime, name: str, old: str, new: str) -> None:
        self.log4j(
            node,
            t,
            "INFO",
            "oauth.OAuthConfigManager",
            SSOSP.message("config.changed", param=name, old=old, value=new),
        )

    def param_refused(self, node: str, t: datetime, name: str, value: str, reason: str) -> None:
        self.log4j(
            node,
            t,
            "WARN",
            "oauth.OAuthConfigManager",
            SSOSP.message("config.rejected", param=name, value=value, reason=reason),
        )

    def key_loaded(
        self,
        node: str,
        t: datetime,
        use: str,
        checksum_: str,
        version: int,
        server: str = "Cisco Tomcat",
    ) -> None:
        self.log4j(
            node,
            t,
            "INFO",
            "oauth.AuthzKeyManager",
            SSOSP.message("key.loaded", param=use, key=checksum_, value=version, server=server),
            thread="main",
        )

    def key_regen(self, node: str, t: datetime, use: str, checksum_: str, version: int) -> None:
        msg = SSOSP.message("key.regenerated", param=use, key=checksum_, value=version)
        self.log4j(node, t, "INFO", "oauth.AuthzKeyManager", msg, thread="main")
        self.cert(node, t, "op:regenerate")
        self.cert(node, t, msg)

    def key_replicated(
        self, node: str, t: datetime, use: str, checksum_: str, version: int, publisher: str
    ) -> None:
        self.log4j(
            node,
            t,
            "INFO",
            "oauth.AuthzKeyManager",
            SSOSP.message(
                "key.replicated", param=use, key=checksum_, value=version, server=publisher
            ),
            thread="main",
        )

    # -- CiscoSyslog and AuditApp (parsers/ciscosyslog.toml, auditapp.toml) -----------------------

    def restart(self, node: str, t: datetime, service: str, target: str) -> None:
        """Cisco Service Manager's ServiceStopped and ServiceStarted alarms of ``target`` in
        its CiscoSyslog, and the administrator's ServiceStatusUpdated in its AuditApp."""
        syslog = ENCODERS["ciscosyslog"]
        for name, dt in (("service.stopped", t), ("service.started", t + timedelta(seconds=1))):
            msg = syslog.message(
                name, param=service, pid=4000 + self.seq, cluster="StandAloneCluster", node=target
            )
            head = {"host": target, "level": "6", "fqdn": f"{target}.example.com"}
            line = syslog.line(msg, local=dt, ts=dt, seq=str(self.seq), **head)
            self.raw(node, PATHS["syslog"], dt, line)
        audit = ENCODERS["auditapp"]
        msg = audit.message(
            "audit.service",
            user="admin",
            address="10.0.0.5",
            param=service,
            value="Successful",
            reason="Service restarted",
            cluster="StandAloneCluster",
            node=target,
        )
        line = audit.line(msg, ts=t, level="INFO", thread="http-bio-443-exec-1")
        self.raw(node, PATHS["audit"], t, line)

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


@dataclass
class Client:
    """A Jabber installation."""

    user: str
    device: str
    agent: str = "Jabber/14.1.0 (Windows)"
    via: str | None = None
    tid: str | None = None
    jti: str | None = None
    login_node: str = "ucm-pub"
    code_flow: bool = False


@dataclass
class Sim:
    """Simulated Jabber traffic against one UCM cluster."""

    bundle: Bundle = field(default_factory=Bundle)
    seed: int = 1
    nodes: tuple[str, ...] = ("ucm-pub", "ucm-sub1")
    imp: str = "imp1"
    refresh_on: bool = True
    implicit_on: bool = True
    sign: str = SIGN1
    enc: str = ENC1
    access_s: int = 3600
    refresh_s: int = 60 * 86400
    exp_refresh_off: tuple[str, ...] = ()
    """Expressways whose "Authorize by OAuth token with refresh" is off."""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def uid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def jitter(self, t: datetime, seconds: int) -> datetime:
        return t + timedelta(
            seconds=self.rng.randint(0, seconds), milliseconds=self.rng.randint(0, 999)
        )

    def boot(self, t: datetime, nodes: tuple[str, ...] | None = None) -> None:
        """Every node (and the IM and Presence node) loads the cluster's keys."""
        for n in nodes or self.nodes:
            self.bundle.key_loaded(n, t, "signing", self.sign, 1)
            self.bundle.key_loaded(n, t, "encryption", self.enc, 1)
        if self.imp:
            for use, c in (("signing", self.sign), ("encryption", self.enc)):
                self.bundle.key_loaded(
                    self.imp, t, use, c, 1, server="Cisco XCP Authentication Service"
                )

    def login(self, c: Client, t: datetime, node: str | None = None) -> datetime:
        """Sign in: code flow when refresh logins apply to this client, else implicit."""
        b = self.bundle
        node = node or c.login_node
        capable = not c.agent.startswith("Jabber/11.")
        if c.via is None:
            flow_code = self.refresh_on and capable
        else:
            flow_code = capable and c.via not in self.exp_refresh_off
        grant = "code" if flow_code else "token"
        b.authorize(node, t, c.user, c.device, c.agent, grant, c.via)
        t += timedelta(milliseconds=300)
        if grant == "token" and not self.implicit_on:
            b.authorize_refused(node, t, "implicit_disabled", "token", c.user, c.via)
            return t
        b.auth_ok(node, t, c.user, c.via)
        t += timedelta(milliseconds=200)
        c.jti = self.uid()
        if flow_code:
            b.code(node, t, c.user, c.device, f"{self.rng.getrandbits(32):08x}", c.via)
            t += timedelta(milliseconds=400)
            b.access(
                node,
                t,
                c.user,
                c.device,
                "authorization_code",
                c.jti,
                self.sign,
                self.access_s,
                c.via,
            )
            c.tid = None
            if self.refresh_on:
                c.tid = self.uid()
                b.refresh_issued(
                    node,
                    t + timedelta(milliseconds=1),
                    c.user,
                    c.device,
                    c.tid,
                    self.sign,
                    self.refresh_s,
                    c.via,
                )
            c.code_flow = True
        else:
            b.access(node, t, c.user, c.device, "implicit", c.jti, self.sign, self.access_s, c.via)
            c.tid = None
            c.code_flow = False
        self.use(c, t + timedelta(seconds=2))
        return t

    def use(self, c: Client, t: datetime) -> None:
        """The client uses its access token at IM and Presence (and UCM)."""
        if self.imp and c.jti:
            self.bundle.validated(self.imp, t, self.imp, c.user, c.jti, self.sign)

    def refresh(self, c: Client, t: datetime, node: str) -> None:
        b = self.bundle
        if c.tid is None:
            if c.code_flow and c.via is not None:
                # An Expressway with refresh on steers the client into a refresh grant
                # without a refresh token; UCM refuses it, the user signs in again.
                b.refused(node, t, "refresh_token", "refresh_disabled", None, None, None, c.via)
                t += timedelta(seconds=1)
            self.login(c, t, node)
            return
        b.refreshed(node, t, c.user, c.device, c.tid, c.via)
        c.jti = self.uid()
        b.access(
            node,
            t + timedelta(milliseconds=5),
            c.user,
            c.device,
            "refresh_token",
            c.jti,
            self.sign,
            self.access_s,
            c.via,
        )
        self.use(c, t + timedelta(seconds=3))

    def workday(
        self,
        clients: list[Client],
        day: datetime,
        hours: float = 4.0,
        every: timedelta = timedelta(minutes=45),
    ) -> None:
        """Each client signs in around 08:00 (or at ``day``'s time when it has one) and
        refreshes every ``every`` for ``hours``."""
        begin = day if (day.hour or day.minute) else day.replace(hour=8)
        for c in clients:
            t = self.jitter(begin, 600)
            if c.tid is None:
                t = self.login(c, t)
            end = t + timedelta(hours=hours)
            i = 0
            while True:
                t += every + timedelta(seconds=self.rng.randint(0, 30))
                if t > end:
                    break
                self.refresh(c, t, self.nodes[i % len(self.nodes)])
                i += 1


def staff(
    n: int, via: str | None = None, agent: str = "Jabber/14.1.0 (Windows)", prefix: str = ""
) -> list[Client]:
    names = ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivy", "jack"]
    out = []
    for name in names[:n]:
        user = prefix + name
        out.append(Client(user=user, device=f"CSF{user.upper()}", agent=agent, via=via))
    return out


def write_expected(
    root: Path,
    name: str,
    expect: list[str],
    forbid: list[str],
    subjects: dict[str, list[str]] | None = None,
) -> None:
    doc = {
        "scenario": name,
        "seed": 1,
        "expect": expect,
        "forbid": forbid,
        "subjects": subjects or {},
        "noise": False,
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "expected.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
