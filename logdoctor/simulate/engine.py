"""The simulation: a virtual clock, a queue of timed actions, the token service, the clients.

A run has two phases. The *warm-up* (before ``start``) builds the deployment, provisions the
users, sets the enterprise parameters, runs the scenario's earlier actions and signs every
client in once, the way a real cluster has been running for a while before anyone collects its
logs. At ``start`` the ssosp files written so far are dropped (they rotated away before the
collection; ssoApp.log and certMgmt files, which keep their history, stay), and the *window*
runs day by day until ``start + days``. What the service wrote in the window, plus the kept
history, is the bundle.

Everything random comes from generators seeded by the seed, and actions run in time order
(ties in the order they were scheduled), so a seed gives the same bytes every time.
"""

from __future__ import annotations

import heapq
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from logdoctor.progress import NULL_PROGRESS, Progress
from logdoctor.simulate import activity
from logdoctor.simulate.clients import Client, Mode, Profile
from logdoctor.simulate.population import (
    DEVICE_PREFIX,
    JABBER_CLIENT_ID,
    RTMT_CLIENT_ID,
    Device,
    Person,
    Platform,
    make_people,
)
from logdoctor.simulate.prt import PrtLog, write_prts
from logdoctor.tokenservice.clock import VirtualClock
from logdoctor.tokenservice.errors import OAuthError
from logdoctor.tokenservice.service import AdminCredentials, Service
from logdoctor.ucm.params import ParamError

if TYPE_CHECKING:
    from logdoctor.simulate.scenarios import Scenario

__all__ = ["DAY", "Expectation", "Sim", "SimulationError"]

DAY = 86400.0
ADMIN_USER = "axladmin"
RTMT_USER = "ucadmin"


class SimulationError(ValueError):
    """A simulation that cannot run as asked (window too short, bad option value)."""


@dataclass(frozen=True)
class Expectation:
    """What the rules must say about a scenario's bundle (``expected.json``)."""

    expect: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    subjects: dict[str, tuple[str, ...]] = field(default_factory=dict)
    noise: bool = False


class Sim:
    """One simulation run of a scenario."""

    def __init__(
        self,
        scenario: Scenario,
        workdir: Path,
        *,
        seed: int,
        start: float,
        days: int,
        users: int | None = None,
        password_cost: int = 1 << 10,
    ) -> None:
        users = self._check_size(scenario, days, users)
        self.scenario = scenario
        self.seed = seed
        self.start = float(start)
        self.days = days
        self.end = self.start + days * DAY
        self.topo = scenario.topology
        self.rng = random.Random(f"logdoctor-simulate:{seed}:behaviour")
        self.prng = random.Random(f"logdoctor-simulate:{seed}:{scenario.name}:plan")
        self.people: list[Person] = make_people(
            random.Random(f"logdoctor-simulate:{seed}:people"), users, scenario.mix
        )
        self.marks: dict[str, list[str]] = {}
        """What the scenario's plan chose (victims' users, devices), for its expectations."""
        self._heap: list[tuple[float, int, Callable[..., object], tuple[Any, ...]]] = []
        self._seq = 0
        self.setup_time = _midnight(self.start - scenario.warmup_days * DAY) + 6 * 3600
        self.clock = VirtualClock(self.setup_time)
        self.admin = AdminCredentials(ADMIN_USER, f"axl-{seed}-secret")
        self.svc = self._make_service(workdir, password_cost)
        self.logs_root = workdir / "service" / "logs"
        self.flow_on = False
        self._configure()
        self.exp_refresh = {e.name: e.refresh for e in self.topo.expressways}
        self._nodes = self._node_weights()
        self.clients: list[Client] = []
        self._make_clients()
        for p in self.people:
            self.svc.add_user(p.user, p.password)
        self.rtmt: Client | None = None
        """The administrator's RTMT (an implicit-grant client), if the scenario has one."""
        if scenario.rtmt:
            self._add_rtmt()
        self._refresh_params()

    # -- construction --------------------------------------------------------------------------

    @staticmethod
    def _check_size(scenario: Scenario, days: int, users: int | None) -> int:
        """The number of users (``users`` or the scenario's), once ``days`` and it are valid."""
        if days < 1:
            raise SimulationError(f"--days {days}: must be at least 1")
        users = scenario.users if users is None else users
        if users < scenario.min_users:
            raise SimulationError(
                f"scenario {scenario.name} needs at least {scenario.min_users} users (--users)"
            )
        return users

    def _make_service(self, workdir: Path, password_cost: int) -> Service:
        """The token service the run drives, on the virtual clock, seeded from the run's seed."""
        seed = self.seed
        return Service(
            workdir / "service",
            clock=self.clock,
            rng=random.Random(f"logdoctor-simulate:{seed}:service"),
            key_rng=random.Random(f"logdoctor-simulate:{seed}:keys"),
            durable=False,
            autoflush=False,
            ssosp_max_bytes=self.scenario.ssosp_max_bytes,
            admin=self.admin,
            cluster=self.topo.cluster,
            publisher=self.topo.publisher,
            password_cost=password_cost,
        )

    def _configure(self) -> None:
        """Set the service's UCM version, build the topology and apply the scenario's
        parameters."""
        self.svc.set_ucm_version(self.scenario.ucm_version)
        self.topo.build(self.svc)
        for name, value in self.scenario.params.items():
            self.set_param(name, value)

    def _node_weights(self) -> list[str]:
        """OAuth requests go to any UCM node (DNS SRV), subscribers twice as often."""
        nodes = [self.topo.publisher]
        for s in self.topo.subscribers:
            nodes += [s, s]
        return nodes

    def _make_clients(self) -> None:
        topo = self.topo
        rng = self.prng
        exps = [e.name for e in topo.expressways]
        cms = list(topo.ucm_nodes)
        presence = list(topo.presence)
        cuc = topo.unity[0].name if topo.unity else None
        for p in self.people:
            for d in p.devices:
                if not exps:
                    d.mra = False
                exp = rng.choice(exps) if d.mra else None
                self.clients.append(
                    Client(
                        self,
                        p,
                        d,
                        client_id=JABBER_CLIENT_ID,
                        profile=Profile.DESKTOP if d.platform.desktop else Profile.MOBILE,
                        exp=exp,
                        cm=rng.choice(cms),
                        imp=rng.choice(presence) if presence else None,
                        cuc=cuc,
                    )
                )

    def _add_rtmt(self) -> None:
        password = f"{self.prng.getrandbits(64):016x}"
        person = Person(RTMT_USER, password)
        dev = Device("", Platform.WINDOWS, "14.0.1", False, None, product="RTMT")
        person.devices.append(dev)
        self.svc.add_user(RTMT_USER, password, groups=("Standard CCM Super Users",), rank=1)
        self.rtmt = Client(
            self,
            person,
            dev,
            client_id=RTMT_CLIENT_ID,
            profile=Profile.RTMT,
            exp=None,
            cm=self.topo.publisher,
            imp=None,
            cuc=None,
        )
        self.clients.append(self.rtmt)

    # -- scheduling ----------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The virtual time."""
        return self.clock.time()

    def at(self, t: float, fn: Callable[..., object], *args: Any) -> None:
        """Run ``fn(*args)`` at virtual time ``t`` (not before now)."""
        self._seq += 1
        now = self.clock.time()
        heapq.heappush(self._heap, (t if t > now else now, self._seq, fn, args))

    def day(self, n: int) -> float:
        """Midnight of the window's day ``n`` (0 = the first; negative: the warm-up)."""
        return _midnight(self.start) + n * DAY

    def workday(self, n: int) -> float:
        """Midnight of the window's ``n``-th working day (0 = the first Monday-to-Friday)."""
        t = _midnight(self.start)
        if t < self.start:
            t += DAY
        seen = -1
        while t < self.end:
            if _weekday(t) < 5:
                seen += 1
                if seen == n:
                    return t
            t += DAY
        raise SimulationError(
            f"scenario {self.scenario.name} needs {n + 1} working day(s) in the window "
            f"(from {_iso(self.start)}, {self.days} day(s)): use a longer --days"
        )

    @staticmethod
    def hm(day: float, text: str) -> float:
        """``day`` (midnight) plus ``HH:MM``."""
        hh, mm = text.split(":")
        return day + int(hh) * 3600 + int(mm) * 60

    # -- what clients ask the simulation -----------------------------------------------------

    def pick_node(self) -> str:
        """The UCM node an OAuth request reaches."""
        return self.rng.choice(self._nodes)

    def mode_for(self, client: Client) -> Mode:
        """The flow a client learns at its configuration fetch."""
        if not client.dev.refresh_capable:
            return Mode.IMPLICIT
        if client.exp is not None:
            return Mode.REFRESH if self.exp_refresh[client.exp] else Mode.IMPLICIT
        return Mode.REFRESH if self.flow_on else Mode.IMPLICIT

    # -- administrator actions (all through the service) ---------------------------------------

    def _refresh_params(self) -> None:
        params = self.svc.params()
        self.flow_on = params["refresh_login_flow"] == "on"

    def set_param(self, name: str, value: str) -> bool:
        """Set an enterprise parameter; False when UCM refuses the value (it logs why)."""
        try:
            self.svc.set_param(name, value)
        except ParamError:
            return False
        finally:
            self._refresh_params()
        return True

    def revoke(self, user: str) -> None:
        """The revoke API for every refresh token of ``user``."""
        try:
            self.svc.revoke(
                admin_user=self.admin.user,
                admin_password=self.admin.password,
                user_id=user,
                node=self.topo.publisher,
            )
        except OAuthError as exc:  # pragma: no cover - the simulator's own credentials
            raise SimulationError(f"revoke refused: {exc}") from None

    def mark(self, key: str, *values: str) -> None:
        """Remember what the plan chose (users, devices) under ``key``."""
        self.marks.setdefault(key, []).extend(values)

    def victim(
        self,
        profile: Profile = Profile.DESKTOP,
        *,
        alone: bool = False,
        mra: bool | None = None,
        exp: str | None = None,
        version: str | None = None,
        push: bool | None = None,
        platform: Platform | None = None,
    ) -> Client:
        """Choose a client for the scenario's fault (seeded), present every working day, and
        give it the attributes the fault needs."""
        pool = [c for c in self.clients if c.profile is profile and not c.forced]
        if platform is not None:
            pool = [c for c in pool if c.dev.platform is platform] or pool
        if alone:
            pool = [c for c in pool if len(c.person.devices) == 1] or pool
        if not pool:
            raise SimulationError(f"scenario {self.scenario.name}: too few users (--users)")
        c = self.prng.choice(pool)
        if alone:
            others = [d for d in c.person.devices if d is not c.dev]
            c.person.devices[:] = [c.dev]
            self.clients = [x for x in self.clients if x.dev not in others]
        if platform is not None and c.dev.platform is not platform:
            c.dev.platform = platform
            c.dev.name = DEVICE_PREFIX[platform] + c.dev.name[3:]
            c.device = c.dev.name
        if mra is not None:
            c.dev.mra = mra
            if mra:
                c.exp = exp or (c.exp if c.exp is not None else self.topo.expressways[0].name)
            else:
                c.exp = None
        elif exp is not None:
            c.dev.mra = True
            c.exp = exp
        if version is not None:
            c.dev.version = version
        if push is not None:
            c.dev.push = push
        c.agent = c.dev.agent
        c.forced = True
        return c

    # -- running -------------------------------------------------------------------------------

    def run(self, progress: Progress = NULL_PROGRESS) -> None:
        """Run the warm-up and the window (``progress`` hears of each simulated day)."""
        sc = self.scenario
        sc.plan(self)
        for c in self.clients:  # after the plan: it may rename a victim's device
            if c.device is not None:
                c.prt = PrtLog(c.user, c.device, since=self.start)
        self._schedule_warmup()
        self.at(self.start, self._open_window)
        t = _midnight(self.start)
        while t < self.end:
            self.at(max(t, self.start), self._plan_day, t)
            t += DAY
        heap = self._heap
        pop = heapq.heappop
        clock = self.clock
        end = self.end
        progress.stage("simulating", self.days, "days")
        day_end = self.start + DAY
        while heap and heap[0][0] < end:
            t, _seq, fn, args = pop(heap)
            if t >= day_end:  # a cheap test per event; the report is once a simulated day
                done = int((t - day_end) // DAY) + 1
                progress.advance(done, _iso(t)[:10])
                day_end += done * DAY
            clock.set(t)
            fn(*args)
        progress.advance(max(0, self.days - int((day_end - self.start) // DAY) + 1))
        clock.set(max(clock.time(), end))
        self.svc.tick()
        self.svc.flush()
        write_prts(self.logs_root, [c.prt for c in self.clients if c.prt is not None])

    def _schedule_warmup(self) -> None:
        if not self.scenario.warmup_logins:
            return
        day = self.day(-1)
        for c in self.clients:
            if c.fresh or c.profile is Profile.RTMT:
                continue
            s = day + self.rng.uniform(8 * 3600, 18 * 3600)
            self.at(s, c.begin, s + self.rng.uniform(300, 1200), True)

    def _open_window(self) -> None:
        """The collection window starts: earlier ssosp files have rotated away, and the
        Expressways' diagnostic logs start now (their key alarms are raised again)."""
        self.svc.flush()
        self.svc.logs.close()
        self.svc.forget_alarms()
        if self.logs_root.is_dir():
            for node in sorted(self.logs_root.iterdir()):
                shutil.rmtree(node / "tomcat", ignore_errors=True)
                for snap in sorted(node.glob("loggingsnapshot_*.txt")):
                    snap.unlink()

    def _plan_day(self, day: float) -> None:
        rng = self.rng
        wd = _weekday(day)
        at = self.at
        lo = self.start
        for c in self.clients:
            if c.profile is Profile.DESKTOP:
                sessions = activity.desktop_day(rng, day, wd, forced=c.forced)
            elif c.profile is Profile.MOBILE:
                sessions = activity.mobile_day(rng, day, wd, forced=c.forced)
            else:
                sessions = activity.rtmt_day(rng, day, wd)
            for s, e, refetch in sessions:
                if s >= lo:
                    at(s, c.begin, e, refetch)

    # -- results -------------------------------------------------------------------------------

    def expectation(self) -> Expectation:
        """The scenario's verdicts for this run."""
        return self.scenario.expect(self)

    def close(self) -> None:
        """Close the service (its files stay in the work dir)."""
        self.svc.close()


def _midnight(t: float) -> float:
    return float(int(t // DAY) * DAY)


def _weekday(t: float) -> int:
    return datetime.fromtimestamp(t, UTC).weekday()


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
