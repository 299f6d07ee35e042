"""A simulated Jabber (or RTMT) client: what it asks the token service, and when.

Each client holds what a real one holds (a refresh token, the current access token and its
expiry) and believes what its last configuration fetch told it: use the refresh login flow, or
the implicit grant. Jabber older than 11.9 and RTMT only know the implicit grant; Jabber 11.9
and later use the refresh flow when UCM's parameter is on (on premises) or when the Expressway
it signs in through authorizes by OAuth token with refresh (over MRA, whatever UCM says: the
seed's mismatch).

In a session the client signs in (authorize, then the code exchange a moment later) or refreshes,
asks for a new access token at 75 % of the old one's life, and presents each new token to the
servers it uses: the Expressway-C that relays it (MRA), the Cisco CallManager it registers to,
and at the start of a session IM and Presence and Unity Connection. Refusals are handled as
Jabber handles them: a refused refresh grant prompts the user to sign in again (after a human
delay); a refused sign-in is retried a few times; a server that refuses a token is retried with
a backoff; a token "not yet valid" (clock skew) is presented again after a few seconds.

Every action goes through the :class:`~logdoctor.tokenservice.service.Service`: the servers'
log lines are the service's, never the simulator's. A Jabber client also keeps its own log
(``prt``, :mod:`logdoctor.simulate.prt`): its sign-ins, new tokens, refused refreshes and the
401s servers answer, as the client sees them.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from logdoctor.simulate.population import Device, Person
from logdoctor.simulate.prt import PrtLog
from logdoctor.tokenservice.errors import OAuthError
from logdoctor.tokenservice.service import AuthorizeResult, TokenResponse
from logdoctor.tokenservice.tokens import SCOPE, AccessToken

if TYPE_CHECKING:
    from logdoctor.simulate.engine import Sim

__all__ = ["REDIRECT_URI", "Client", "Mode", "Profile"]

REDIRECT_URI = "http://127.0.0.1:8089/jabber/oauth/callback"
"""Where Jabber receives the code or the implicit token (a loopback URI)."""

MAX_LOGIN_TRIES = 3
"""Sign-in attempts per session after a refusal (then the user gives up until next time)."""
SERVER_RETRIES = 3
"""Times a server that refused a token is tried again (2, 4, 8 minutes later)."""
SKEW_RETRIES = 6
"""Times a token refused as not yet valid is presented again (15-40 s apart)."""


class Mode(Enum):
    """How the client obtains access tokens."""

    REFRESH = "refresh"
    IMPLICIT = "implicit"


class Profile(Enum):
    """How the client is used during a day (see :mod:`logdoctor.simulate.activity`)."""

    DESKTOP = "desktop"
    MOBILE = "mobile"
    RTMT = "rtmt"


class Client:
    """One installation and its state."""

    __slots__ = (
        "access",
        "access_exp",
        "active",
        "agent",
        "client_id",
        "cm",
        "cuc",
        "dev",
        "device",
        "exp",
        "forced",
        "fresh",
        "gen",
        "imp",
        "keeps_trying",
        "login_tries",
        "mode",
        "password",
        "person",
        "profile",
        "prt",
        "refresh_at",
        "refresh_token",
        "session_end",
        "sim",
        "storm",
        "user",
        "via",
    )

    def __init__(
        self,
        sim: Sim,
        person: Person,
        dev: Device,
        *,
        client_id: str,
        profile: Profile,
        exp: str | None,
        cm: str,
        imp: str | None,
        cuc: str | None,
    ) -> None:
        self.sim = sim
        self.person = person
        self.dev = dev
        self.user = person.user
        self.password = person.password
        self.device: str | None = dev.name if dev.product == "Jabber" else None
        self.agent = dev.agent
        self.client_id = client_id
        self.profile = profile
        self.exp = exp
        """The Expressway-C this client signs in through (None: on premises)."""
        self.cm = cm
        self.imp = imp
        self.cuc = cuc
        self.mode = Mode.IMPLICIT
        self.refresh_token: str | None = None
        self.access: AccessToken | None = None
        self.access_exp = 0.0
        self.refresh_at = 0.0
        self.gen = 0
        self.active = False
        self.session_end = 0.0
        self.via: str | None = None
        self.login_tries = 0
        self.forced = False
        """Present on every working day (a scenario's subject must be seen)."""
        self.fresh = False
        """Signs in for the first time in the window (no sign-in before it)."""
        self.keeps_trying = False
        """Unattended: after a refused refresh grant it retries instead of prompting."""
        self.storm = False
        """After sleep, presents its expired access token several times before refreshing."""
        self.prt: PrtLog | None = None
        """The client's own jabber.log (Jabber clients; set when the run starts)."""

    # -- sessions ------------------------------------------------------------------------------

    def begin(self, end: float, refetch: bool) -> None:
        """A session starts now and ends at ``end``."""
        sim = self.sim
        if self.active:
            if end > self.session_end:
                self.session_end = end
                sim.at(end, self.finish, self.gen)
            return
        self.active = True
        self.gen += 1
        self.session_end = end
        self.login_tries = 0
        self.via = self.exp
        sim.at(end, self.finish, self.gen)
        if refetch:
            self.refetch()
        self.connect(refetch)

    def finish(self, gen: int) -> None:
        """The session ends (laptop closed, app in the background)."""
        if gen == self.gen and self.active and self.sim.now >= self.session_end:
            self.active = False
            self.gen += 1

    def refetch(self) -> None:
        """Configuration fetch: learn which flow to use (Jabber signs out and in on a change)."""
        mode = self.sim.mode_for(self)
        if mode is not self.mode:
            self.mode = mode
            if mode is Mode.IMPLICIT:
                self.refresh_token = None

    def connect(self, full: bool) -> None:
        """Get a usable access token, then present it: to every server after a fresh start
        (``full``), to the first one after a resume (from sleep, or to the foreground)."""
        now = self.sim.now
        if self.access is not None and now < self.refresh_at:
            self.sim.at(now + self.sim.rng.uniform(0.2, 1.5), self.use, self.gen, full)
            self._schedule_refresh()
            return
        stale = self.access is not None and now > self.access_exp
        if self.storm and stale and self.via is not None:
            self._storm()
            return
        self.renew(full)

    def _schedule_refresh(self) -> None:
        if self.refresh_at < self.session_end:
            self.sim.at(self.refresh_at, self.due, self.gen)

    def due(self, gen: int) -> None:
        """75 % of the access token's life has passed."""
        if gen == self.gen and self.active:
            self.renew(False)

    def renew(self, full: bool) -> None:
        """A new access token: by refresh grant if the client has a refresh token to use."""
        if self.mode is Mode.REFRESH and self.refresh_token is not None:
            self.refresh(full)
        else:
            self.login(full)

    # -- token endpoint ------------------------------------------------------------------------

    def refresh(self, full: bool) -> None:
        """``grant_type=refresh_token``."""
        sim = self.sim
        try:
            resp = sim.svc.refresh(
                refresh_token=self.refresh_token,
                client_id=self.client_id,
                via=self.via,
                node=sim.pick_node(),
            )
        except OAuthError as exc:
            if self.prt is not None:
                self.prt.refresh_failed(sim.now)
            self.refresh_refused(exc.reason, full)
            return
        self.granted(resp, full, "refresh_token")

    def refresh_refused(self, reason: str, full: bool) -> None:
        """What Jabber does when UCM refuses its refresh token."""
        sim = self.sim
        now = sim.now
        if self.keeps_trying and reason == "revoked":
            if now + 600 < self.session_end:
                sim.at(now + sim.rng.uniform(600, 1500), self.retry_refresh, self.gen, full)
            return
        if reason != "refresh_disabled":
            # The token is dead; a client that believes in refresh logins (steered by its
            # Expressway, or not reset after the change) keeps presenting it.
            self.refresh_token = None
        sim.at(now + self.reaction(), self.relogin, self.gen, full)

    def retry_refresh(self, gen: int, full: bool) -> None:
        """An unattended client tries its refresh token again."""
        if gen == self.gen and self.active and self.refresh_token is not None:
            self.refresh(full)

    def reaction(self) -> float:
        """Seconds until the user has typed their credentials again."""
        return self.sim.rng.uniform(8, 90)

    def relogin(self, gen: int, full: bool) -> None:
        """The user signs in again (prompted)."""
        if gen == self.gen and self.active:
            self.login(full)

    def login(self, full: bool) -> None:
        """Authorize: a code (refresh flow) or an access token (implicit grant)."""
        sim = self.sim
        node = sim.pick_node()
        implicit = self.mode is Mode.IMPLICIT
        if self.prt is not None:
            self.prt.sign_in(sim.now)
        try:
            res: AuthorizeResult = sim.svc.authorize(
                response_type="token" if implicit else "code",
                client_id=self.client_id,
                redirect_uri=REDIRECT_URI,
                state=f"{sim.rng.getrandbits(32):08x}",
                scope=SCOPE,
                username=self.user,
                password=self.password,
                device=self.device,
                agent=self.agent,
                via=self.via,
                node=node,
            )
        except OAuthError:
            self.login_refused(node)
            return
        if res.token is not None:
            self.granted(res.token, full, "implicit")
            return
        assert res.code is not None
        sim.at(sim.now + sim.rng.uniform(0.15, 0.9), self.exchange, self.gen, res.code, node, full)

    def exchange(self, gen: int, code: str, node: str, full: bool) -> None:
        """``grant_type=authorization_code`` right after the redirect."""
        if gen != self.gen:
            return
        try:
            resp = self.sim.svc.exchange_code(
                code=code,
                client_id=self.client_id,
                redirect_uri=REDIRECT_URI,
                via=self.via,
                node=node,
            )
        except OAuthError:
            self.login_refused(node)
            return
        self.granted(resp, full, "authorization_code")

    def login_refused(self, node: str) -> None:
        """The sign-in at UCM node ``node`` failed: the user tries again later, a few times."""
        self.login_tries += 1
        sim = self.sim
        if self.prt is not None:
            self.prt.refused(sim.now, self.via or node, self._path(self.cm), uds=True)
        if self.login_tries < MAX_LOGIN_TRIES:
            sim.at(sim.now + sim.rng.uniform(600, 2400), self.relogin, self.gen, True)

    def granted(self, resp: TokenResponse, full: bool, grant: str) -> None:
        """A new access token (and maybe a refresh token), obtained by ``grant``: use it, plan
        its refresh."""
        sim = self.sim
        now = sim.now
        if self.prt is not None:
            self.prt.token(now, grant, resp.expires_in)
        self.access = resp.access
        life = float(resp.expires_in)
        self.access_exp = now + life
        self.refresh_at = now + 0.75 * life + sim.rng.uniform(-20.0, 20.0)
        if resp.refresh_token is not None:
            self.refresh_token = resp.refresh_token
        self.login_tries = 0
        sim.at(now + sim.rng.uniform(0.2, 1.5), self.use, self.gen, full)
        self._schedule_refresh()

    # -- resource servers ----------------------------------------------------------------------

    def use(self, gen: int, full: bool) -> None:
        """Present the access token: after a fresh start to every server (the Expressway-C
        that relays the client, its CallManager, IM and Presence, Unity Connection); after a
        refresh or a resume over MRA to the Expressway-C, which checks every request it
        relays. (On premises the new token reaches the same servers silently: successful
        validations are logged only at DEBUG, and a server that refuses tokens is found at
        the next fresh start and retried.)"""
        if gen != self.gen or self.access is None:
            return
        if self.via is not None:
            self.check(self.via, 0)
        if full:
            self.check(self.cm, 0)
            if self.imp is not None:
                self.check(self.imp, 0)
            if self.cuc is not None:
                self.check(self.cuc, 0)

    def check(self, server: str, attempt: int) -> None:
        """One validation at ``server``; refusals are retried as Jabber retries them."""
        sim = self.sim
        assert self.access is not None
        result = sim.svc.introspect(self.access, server=server)
        if result.active:
            return
        self._refused(server)
        reason = result.reason
        if reason == "not_yet_valid" and attempt < SKEW_RETRIES:
            delay = sim.rng.uniform(15, 40)
        elif reason in ("signature", "decrypt") and attempt < SERVER_RETRIES:
            delay = 120.0 * 2**attempt * sim.rng.uniform(0.8, 1.2)
        elif reason == "expired" and attempt == 0:
            self.renew(False)
            return
        else:
            return
        sim.at(sim.now + delay, self.recheck, self.gen, server, attempt + 1)

    def recheck(self, gen: int, server: str, attempt: int) -> None:
        """Present the (current) access token to ``server`` again."""
        if gen == self.gen and self.active and self.access is not None:
            self.check(server, attempt)

    def _storm(self) -> None:
        """Wake from sleep: Jabber's modules present the expired token to the Expressway
        several times (the Expressway-E blocks the address after more than 5), then refresh."""
        sim = self.sim
        t = sim.now
        stale = self.access
        assert stale is not None and self.via is not None
        for _ in range(sim.rng.randint(6, 8)):
            t += sim.rng.uniform(2.0, 9.0)
            sim.at(t, self.present, stale, self.via)
        sim.at(t + sim.rng.uniform(5.0, 20.0), self.relogin_or_refresh, self.gen)

    def present(self, token: AccessToken, server: str) -> None:
        """Present a given (stale) token once."""
        if not self.sim.svc.introspect(token, server=server).active:
            self._refused(server)

    def _path(self, server: str) -> str:
        """The path of the request that carries the token to ``server`` (UDS at UCM and
        through the Expressway, presence at IM and Presence, the voicemail API at Unity)."""
        if server == self.imp:
            return "presence"
        if server == self.cuc:
            return "vmrest/user"
        return f"cucm-uds/user/{self.user}"

    def _refused(self, server: str) -> None:
        """``server`` answered 401 to the token: the client's log says so."""
        if self.prt is not None:
            uds = server in (self.cm, self.via)
            self.prt.refused(self.sim.now, server, self._path(server), uds=uds)

    def relogin_or_refresh(self, gen: int) -> None:
        """After the wake-up burst: a new token the usual way."""
        if gen == self.gen and self.active:
            self.renew(True)
