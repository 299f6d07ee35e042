"""The scenario catalog: a healthy baseline and every fault the seed document describes.

A :class:`Scenario` is a deployment (:class:`~logdoctor.simulate.topology.Topology`), its
enterprise parameters, a population, a *plan* (the administrator's actions and the clients the
fault concerns, scheduled on the run's clock) and an *expectation*: the rule ids of
``logdoctor check`` that must fire (with their subjects) and those that must not. Rule ids are
the ones of ``logdoctor/rules`` (``LD`` + three digits).

Times in plans are on working days of the window (``sim.workday(0)`` is the first) or, before
the window, on its warm-up days (``sim.day(-1)``). Administrators act in the quiet hours
(05:30), as the seed recommends for key regeneration, unless the fault is a daytime change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from logdoctor.simulate.clients import Profile
from logdoctor.simulate.engine import Expectation, Sim
from logdoctor.simulate.population import Device, Mix, Platform
from logdoctor.simulate.topology import ExpresswaySpec, Topology, UnitySpec
from logdoctor.ucm.versions import DEFAULT_VERSION

__all__ = ["ALL_RULES", "SCENARIOS", "Scenario", "get"]

ALL_RULES: tuple[str, ...] = (
    *(f"LD10{i}" for i in range(1, 10)),
    *(f"LD20{i}" for i in range(1, 7)),
    *(f"LD21{i}" for i in range(1, 5)),
    *(f"LD30{i}" for i in range(1, 6)),
    *(f"LD40{i}" for i in range(1, 4)),
    *(f"LD90{i}" for i in range(1, 7)),
)
"""Every rule id of logdoctor's check (a scenario forbids those it does not expect)."""

DEFAULT_PARAMS: Mapping[str, str] = {"refresh_login_flow": "on"}
"""Refresh logins enabled: the configuration the seed's procedure leads to."""


def _nothing(sim: Sim) -> None:
    """No fault."""


@dataclass(frozen=True)
class Scenario:
    """One entry of the catalog."""

    name: str
    summary: str
    plan: Callable[[Sim], None] = _nothing
    expects: Callable[[Sim], Mapping[str, Iterable[str]]] = lambda sim: {}
    """rule id -> subjects every run must show."""
    topology: Topology = field(default_factory=Topology)
    params: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    mix: Mix = field(default_factory=Mix)
    users: int = 24
    min_users: int = 8
    days: int = 3
    warmup_days: int = 1
    warmup_logins: bool = True
    rtmt: bool = True
    ssosp_max_bytes: int = 10 * 1024 * 1024
    ucm_version: str = DEFAULT_VERSION
    """The UCM version the cluster runs (:mod:`logdoctor.ucm.versions`: 12.5, 14 or 15)."""

    def expect(self, sim: Sim) -> Expectation:
        """The expectation of a run (subjects depend on the seed's choices)."""
        subjects = {rule: tuple(sorted(set(s))) for rule, s in self.expects(sim).items()}
        expect = tuple(sorted(subjects))
        forbid = tuple(r for r in ALL_RULES if r not in subjects)
        return Expectation(
            expect=expect,
            forbid=forbid,
            subjects={r: s for r, s in subjects.items() if s},
        )


# -- helpers used by several plans ---------------------------------------------------------------


def _regenerate(
    sim: Sim,
    *,
    callmanager: str = "all",
    xcp: bool = True,
    expressway: bool = True,
    unity: bool = True,
    central: bool = True,
) -> None:
    """The seed's key regeneration on the first working day at 05:30, with the steps given:
    restart Cisco CallManager ("all", "publisher" or "none"), restart the XCP Authentication
    Service on IM and Presence, Refresh servers on the Expressways, Sync Keys on Unity, the
    same regeneration on the IM and Presence central cluster."""
    topo = sim.topo
    svc = sim.svc
    t = sim.hm(sim.workday(0), "05:30")
    sim.at(t, svc.regenerate_key, "signing")
    sim.at(t + 42, svc.regenerate_key, "encryption")
    t += 300
    if callmanager == "all":
        sim.at(t, svc.restart, "callmanager")
    elif callmanager == "publisher":
        sim.at(t, svc.restart, "callmanager", topo.publisher)
    t += 120
    if central:
        for name in topo.central:
            sim.at(t, svc.sync_keys, name)
            t += 30
    if xcp and (topo.imp or (central and topo.central)):
        for name in topo.imp + (topo.central if central else ()):
            sim.at(t, svc.restart, "xcp-auth", name)
            t += 20
    t += 60
    if expressway:
        for e in topo.expressways:
            sim.at(t, svc.sync_keys, e.name)
            t += 45
    if unity:
        for u in topo.unity:
            sim.at(t, svc.sync_keys, u.name)
            t += 45


def _regen_subjects(sim: Sim) -> tuple[str, ...]:
    return (sim.topo.cluster, "signing", "encryption")


def _old_devices(sim: Sim) -> list[str]:
    """Every Jabber device older than 11.9 (the marked victims and the mix's old clients)."""
    return sorted(
        {
            d.name
            for p in sim.people
            for d in p.devices
            if d.product == "Jabber" and not d.refresh_capable
        }
        | set(sim.marks["old"])
    )


def _old_labels(sim: Sim) -> list[str]:
    return sorted(
        {
            f"Jabber {d.version} {d.platform}"
            for p in sim.people
            for d in p.devices
            if d.product == "Jabber" and not d.refresh_capable
        }
    )


# -- the catalog -------------------------------------------------------------------------------


def _mismatch_plan(sim: Sim) -> None:
    for _ in range(3):
        c = sim.victim(mra=True, exp="expc1")
        sim.mark("refusing", c.device or c.user)
    sim.victim(mra=True, exp="expc2")
    # The refresh flow had been on (clients hold refresh tokens); UCM was set back to its
    # default before the collection window while the Expressways kept theirs.
    sim.at(sim.hm(sim.day(-1), "20:00"), sim.set_param, "refresh_login_flow", "off")


def _reverse_plan(sim: Sim) -> None:
    for _ in range(2):
        sim.victim(mra=True, exp="expc1")
    sim.victim(mra=True, exp="expc2")


def _old_keys_plan(sim: Sim) -> None:
    for _ in range(2):
        sim.victim(mra=True, exp="expc1")
    _regenerate(sim, expressway=False)


def _refreshed_late_plan(sim: Sim) -> None:
    for _ in range(3):
        sim.victim(mra=True, exp="expc1")
    _regenerate(sim, expressway=False)
    # Five hours of failures, then an administrator runs Refresh servers: fixed.
    sim.at(sim.hm(sim.workday(0), "10:30"), sim.svc.sync_keys, "expc1")


def _revoked_plan(sim: Sim) -> None:
    gone = sim.victim(alone=True, mra=False)
    gone.keeps_trying = True
    lost = sim.victim()
    sim.mark("keeps_trying", gone.user)
    sim.mark("revoked", gone.user, lost.user)
    day = sim.workday(1)
    sim.at(sim.hm(day, "10:30"), sim.revoke, gone.user)
    sim.at(sim.hm(day, "11:05"), sim.revoke, lost.user)


def _inactive_plan(sim: Sim) -> None:
    c = sim.victim(alone=True)
    sim.mark("inactive", c.user)
    sim.at(sim.hm(sim.workday(1), "09:40"), _set_user, sim, c.user, False)


def _set_user(sim: Sim, user: str, active: bool) -> None:
    sim.svc.set_user(user, active=active)


def _no_access_plan(sim: Sim) -> None:
    c = sim.victim(alone=True)
    sim.mark("no_access", c.user)
    # A new hire provisioned into an access control group without the end-user role.
    sim.svc.set_user(c.user, groups=("Standard CCM Read Only",))


def _old_jabber_plan(sim: Sim) -> None:
    for version in ("11.8.5", "11.8.3"):
        c = sim.victim(mra=False, version=version, platform=Platform.WINDOWS)
        sim.mark("old", c.device or c.user)


def _not_reset_plan(sim: Sim) -> None:
    for _ in range(3):
        sim.victim()
    sim.at(sim.hm(sim.workday(1), "12:00"), sim.set_param, "refresh_login_flow", "off")


def _implicit_off_plan(sim: Sim) -> None:
    _old_jabber_plan(sim)
    day = sim.workday(1)
    sim.at(sim.hm(day, "07:00"), sim.set_param, "implicit_grant", "off")
    # the administrator opens RTMT that morning to see what goes on
    assert sim.rtmt is not None
    sim.at(sim.hm(day, "10:20"), sim.rtmt.begin, sim.hm(day, "10:50"), True)


def _timer_range_plan(sim: Sim) -> None:
    day = sim.workday(0)
    sim.at(sim.hm(day, "14:10"), sim.set_param, "access_token_expiry_minutes", "2000")
    sim.at(sim.hm(day, "14:12"), sim.set_param, "access_token_expiry_minutes", "1500")


def _timer_short_plan(sim: Sim) -> None:
    for _ in range(2):
        sim.victim()
    sim.at(sim.hm(sim.workday(0), "06:30"), sim.set_param, "refresh_token_expiry_days", "1")


def _no_push_plan(sim: Sim) -> None:
    for _ in range(2):
        c = sim.victim(Profile.MOBILE, platform=Platform.IPHONE, push=False)
        c.fresh = True  # a new phone, signed in for the first time this week
        sim.mark("no_push", c.device or c.user)


def _no_push_labels(sim: Sim) -> list[str]:
    return sorted(
        {
            f"Jabber {d.version} {d.platform}"
            for p in sim.people
            for d in p.devices
            if d.platform.ios and d.push is False
        }
    )


def _duplicate_plan(sim: Sim) -> None:
    office = sim.victim(mra=True, exp="expc1", platform=Platform.WINDOWS)
    home_dev = Device(office.dev.name, Platform.WINDOWS, office.dev.version, True)
    office.person.devices.append(home_dev)
    home = type(office)(
        sim,
        office.person,
        home_dev,
        client_id=office.client_id,
        profile=Profile.DESKTOP,
        exp="expc1",
        cm=office.cm,
        imp=office.imp,
        cuc=office.cuc,
    )
    home.forced = True
    sim.clients.append(home)
    sim.mark("duplicate", office.dev.name)


def _debug_plan(sim: Sim) -> None:
    t = sim.hm(sim.day(-21), "09:00")
    for node in (sim.topo.publisher, sim.topo.subscribers[0]):
        sim.at(t, sim.svc.set_trace_level, "debug", node)
        t += 600


def _storm_plan(sim: Sim) -> None:
    for version in ("12.9.5", "14.0.2"):
        c = sim.victim(mra=True, version=version, platform=Platform.WINDOWS)
        c.storm = True
        sim.mark("storm", c.user)


_CATALOG: tuple[Scenario, ...] = (
    Scenario(
        "healthy",
        "Refresh logins on across UCM, IM&P, Expressway and Unity: nothing to report",
    ),
    Scenario(
        "expressway-refresh-ucm-off",
        "UCM's refresh login flow off while expc1 authorizes by OAuth token with refresh: MRA "
        "refresh grants refused (the seed's mismatch)",
        plan=_mismatch_plan,
        expects=lambda sim: {"LD101": ["expc1"]},
        topology=Topology(expressways=(ExpresswaySpec("expc1"), ExpresswaySpec("expc2", False))),
    ),
    Scenario(
        "ucm-refresh-expressway-off",
        "UCM's refresh login flow on, expc1's refresh setting off: remote Jabber stays on the "
        "implicit grant (the reverse mismatch)",
        plan=_reverse_plan,
        expects=lambda sim: {"LD102": ["expc1"]},
        topology=Topology(expressways=(ExpresswaySpec("expc1", False), ExpresswaySpec("expc2"))),
    ),
    Scenario(
        "unity-mismatch",
        "Keys regenerated but Unity Connection not synchronized (its refresh flow left off): "
        "voicemail validations fail",
        plan=lambda sim: _regenerate(sim, unity=False),
        expects=lambda sim: {"LD103": ["cuc1"], "LD204": _regen_subjects(sim)},
        topology=Topology(unity=(UnitySpec("cuc1", refresh_flow=False),)),
    ),
    Scenario(
        "imp-central-keys",
        "Keys regenerated on the telephony cluster, the IM&P central cluster not given them",
        plan=lambda sim: _regenerate(sim, central=False),
        expects=lambda sim: {"LD201": ["imp-central"], "LD204": _regen_subjects(sim)},
        topology=Topology(imp=(), central=("impc1", "impc2")),
    ),
    Scenario(
        "callmanager-not-restarted",
        "Keys regenerated, Cisco CallManager restarted on the publisher only",
        plan=lambda sim: _regenerate(sim, callmanager="publisher"),
        expects=lambda sim: {
            "LD202": list(sim.topo.subscribers),
            "LD204": _regen_subjects(sim),
        },
    ),
    Scenario(
        "xcp-not-restarted",
        "Keys regenerated, the Cisco XCP Authentication Service not restarted on IM&P",
        plan=lambda sim: _regenerate(sim, xcp=False),
        expects=lambda sim: {"LD203": list(sim.topo.imp), "LD204": _regen_subjects(sim)},
    ),
    Scenario(
        "expressway-old-keys",
        "Keys regenerated, Refresh servers not done on the Expressway-C",
        plan=_old_keys_plan,
        expects=lambda sim: {"LD205": ["expc1"], "LD204": _regen_subjects(sim)},
        topology=Topology(expressways=(ExpresswaySpec("expc1"),)),
    ),
    Scenario(
        "expressway-refreshed-late",
        "Keys regenerated, Refresh servers done on the Expressway-C five hours late: "
        "failures, then recovery",
        plan=_refreshed_late_plan,
        expects=lambda sim: {"LD204": _regen_subjects(sim)},
        # Nodes in two zones (their logs in local time, CiscoSyslog with both clocks): the
        # verdicts are those of a cluster in UTC, no clock-skew finding and no gap.
        topology=Topology(
            expressways=(ExpresswaySpec("expc1"),),
            zones={
                "ucm-pub": "America/New_York",
                "imp1": "America/New_York",
                "ucm-sub1": "Europe/Berlin",
                "ucm-sub2": "Europe/Berlin",
                "imp2": "Europe/Berlin",
            },
        ),
        ucm_version="14",
    ),
    Scenario(
        "key-regen-compromised",
        "A compromised key regenerated by the book: mass re-login, then healthy",
        plan=_regenerate,
        expects=lambda sim: {"LD204": _regen_subjects(sim)},
        ucm_version="15",
    ),
    Scenario(
        "revoked-user",
        "Two users' refresh tokens revoked; one departed user's laptop keeps trying",
        plan=_revoked_plan,
        expects=lambda sim: {
            "LD301": sim.marks["keeps_trying"],
            "LD302": sim.marks["revoked"],
        },
        min_users=6,
    ),
    Scenario(
        "inactive-user",
        "A user removed from LDAP (inactive in UCM) keeps trying to sign in",
        plan=_inactive_plan,
        expects=lambda sim: {"LD303": sim.marks["inactive"]},
    ),
    Scenario(
        "no-access-user",
        "A user without the role / access control group Jabber needs: authenticated, refused",
        plan=_no_access_plan,
        expects=lambda sim: {"LD304": sim.marks["no_access"]},
    ),
    Scenario(
        "old-jabber-implicit",
        "Refresh logins on, Jabber older than 11.9 still on the implicit grant",
        plan=_old_jabber_plan,
        expects=lambda sim: {"LD401": [*_old_devices(sim), *_old_labels(sim)]},
        mix=Mix(old_jabber=0.15),
    ),
    Scenario(
        "refresh-off-clients-not-reset",
        "Refresh login flow turned off at noon (implicit grant needed again), clients not "
        "reset: they keep presenting refresh tokens",
        plan=_not_reset_plan,
        expects=lambda sim: {"LD109": [sim.topo.cluster]},
        topology=Topology(expressways=()),
        warmup_logins=False,
    ),
    Scenario(
        "implicit-grant-disabled",
        "The implicit grant disabled while Jabber 11.8 and RTMT still need it",
        plan=_implicit_off_plan,
        expects=lambda sim: {
            "LD108": [sim.topo.cluster],
            "LD401": [*_old_devices(sim), *_old_labels(sim)],
        },
        mix=Mix(old_jabber=0.1),
    ),
    Scenario(
        "access-timer-out-of-range",
        "An access-token expiry of 2000 then 1500 minutes attempted (range 1-1440): refused",
        plan=_timer_range_plan,
        expects=lambda sim: {"LD105": ["access_token_expiry_minutes"]},
    ),
    Scenario(
        "refresh-timer-short",
        "Refresh-token expiry set to 1 day: every token revoked, then users sign in daily",
        plan=_timer_short_plan,
        expects=lambda sim: {
            "LD106": [sim.topo.cluster],
            "LD107": [sim.topo.cluster, "refresh_token_expiry_days"],
        },
    ),
    Scenario(
        "ios-no-push",
        "iPhones signing in without push notifications",
        plan=_no_push_plan,
        expects=lambda sim: {"LD402": [*sim.marks["no_push"], *_no_push_labels(sim)]},
        mix=Mix(push_off=0.4),
    ),
    Scenario(
        "duplicate-device-mra",
        "Two MRA laptops with one device name: their refresh chains alternate (flapping)",
        plan=_duplicate_plan,
        expects=lambda sim: {"LD403": sim.marks["duplicate"]},
    ),
    Scenario(
        "samltrace-debug",
        "samltrace DEBUG set on the publisher and a subscriber three weeks ago and left on",
        plan=_debug_plan,
        expects=lambda sim: {"LD904": [sim.topo.publisher, sim.topo.subscribers[0]]},
        warmup_days=21,
        ucm_version="15",
    ),
    Scenario(
        "clock-skew",
        "ucm-sub2's clock 95 s ahead: its tokens are not yet valid elsewhere",
        expects=lambda sim: {"LD903": ["ucm-sub2", sim.topo.publisher]},
        topology=Topology(clock_offsets={"ucm-sub2": 95.0}),
    ),
    Scenario(
        "mra-expired-token-storm",
        "MRA laptops waking from sleep present expired access tokens 6-8 times (Expressway-E "
        "blocks them)",
        plan=_storm_plan,
        expects=lambda sim: {"LD305": sim.marks["storm"]},
    ),
)

SCENARIOS: dict[str, Scenario] = {s.name: s for s in _CATALOG}
"""The catalog by name, in catalog order."""


def get(name: str) -> Scenario:
    """The scenario called ``name`` (ValueError naming the known ones otherwise)."""
    sc = SCENARIOS.get(name)
    if sc is None:
        raise ValueError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})")
    return sc
