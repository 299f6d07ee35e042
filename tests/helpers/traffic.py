"""Simulated Jabber traffic on a :class:`~tests.helpers.bundle.Bundle`: clients log in,
refresh every 45 minutes and use their tokens at IM and Presence, so that each rule case is
"healthy traffic + one fault". Everything is deterministic for a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tests.helpers.bundle import Bundle
from tests.helpers.lines import START, checksum

__all__ = ["ENC1", "ENC2", "SIGN1", "SIGN2", "START", "Client", "Sim", "staff"]


SIGN1, SIGN2 = checksum("signing-1"), checksum("signing-2")
ENC1, ENC2 = checksum("encryption-1"), checksum("encryption-2")


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
            self.access(c, node, t, "authorization_code")
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
            self.access(c, node, t, "implicit")
            c.tid = None
            c.code_flow = False
        self.use(c, t + timedelta(seconds=2))
        return t

    def access(self, c: Client, node: str, t: datetime, grant: str) -> None:
        """``node`` issues ``c``'s current access token (``c.jti``) by ``grant``."""
        assert c.jti is not None
        self.bundle.access(node, t, c.user, c.device, grant, c.jti, self.sign, self.access_s, c.via)

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
        self.access(c, node, t + timedelta(milliseconds=5), "refresh_token")
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
