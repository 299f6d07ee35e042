"""The rule cases under tests/assets/rules/<case>/: healthy traffic plus one fault.

Each case is a folder laid out like an RTMT collection (one folder per node), with an
``expected.json`` in the simulator's format ({"expect", "forbid", "subjects"}) and, where the
case is about the declared configuration, a ``deployment.toml``.

Regenerate with ``python tests/rules/cases.py`` (from the repository root);
``test_cases_are_current`` fails when the committed files differ from what this writes.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from tests.helpers.lines import checksum
from tests.helpers.traffic import ENC1, ENC2, SIGN1, SIGN2, START, Client, Sim, staff

ROOT = Path(__file__).resolve().parent.parent / "assets" / "rules"
DAY = START.replace(hour=0)
DAY2 = DAY + timedelta(days=1)

Case = Callable[[Path], None]
CASES: dict[str, Case] = {}


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


def case(name: str) -> Callable[[Case], Case]:
    def reg(fn: Case) -> Case:
        CASES[name] = fn
        return fn

    return reg


def people() -> list[Client]:
    """Three users on premises and two over MRA (through expc1)."""
    return [
        *staff(3),
        Client("dave", "CSFDAVE", via="expc1"),
        Client("erin", "TCTERIN", agent="Jabber/14.1.0 (iPhone; push=on)", via="expc1"),
    ]


def healthy_sim(seed: int, **kw: object) -> Sim:
    s = Sim(seed=seed, **kw)  # type: ignore[arg-type]
    s.boot(START - timedelta(hours=1))
    return s


def deployment(
    *,
    refresh: str = "on",
    implicit: str = "on",
    access: int = 60,
    days: int = 60,
    exp_refresh: str | None = "on",
    exp_keys: str | None = None,
    unity_refresh: str | None = None,
    unity_keys: str | None = None,
    central_sign: str | None = None,
    sign: str = SIGN1,
    enc: str = ENC1,
    jabber: tuple[tuple[str, str, int, bool, bool | None], ...] = (
        ("Windows", "14.1.0", 3, False, None),
        ("Windows", "14.1.0", 1, True, None),
        ("iPhone", "14.1.0", 1, True, True),
    ),
) -> str:
    out = [
        "# Declared deployment (logdoctor check --config)",
        "[[cluster]]",
        'name = "ucm"',
        'publisher = "ucm-pub"',
        'subscribers = ["ucm-sub1"]',
        'imp = ["imp1"]',
        "",
        "[cluster.parameters]",
        f'refresh_login_flow = "{refresh}"',
        f"access_token_expiry_minutes = {access}",
        f"refresh_token_expiry_days = {days}",
        f'implicit_grant = "{implicit}"',
        "",
        "[cluster.keys]",
        f'signing = {{ version = 1, checksum = "{sign}" }}',
        f'encryption = {{ version = 1, checksum = "{enc}" }}',
        "",
    ]
    if central_sign is not None:
        out += [
            "[[cluster]]",
            'name = "imp-central"',
            'role = "imp_central"',
            'publisher = "central-pub"',
            'imp = ["imp-central1"]',
            'serves = "ucm"',
            "",
            "[cluster.keys]",
            f'signing = {{ version = 1, checksum = "{central_sign}" }}',
            "",
        ]
    if exp_refresh is not None:
        out += [
            "[[expressway]]",
            'name = "expc1"',
            'cluster = "ucm"',
            f'authorize_by_oauth_token_with_refresh = "{exp_refresh}"',
        ]
        if exp_keys is not None:
            out.append(f'keys = {{ signing = "{exp_keys}" }}')
        out.append("")
    if unity_refresh is not None:
        out += [
            "[[unity]]",
            'name = "cuc1"',
            'cluster = "ucm"',
            f'refresh_login_flow = "{unity_refresh}"',
        ]
        if unity_keys is not None:
            out.append(f'keys = {{ signing = "{unity_keys}" }}')
        out.append("")
    for platform, version, count, mra, push in jabber:
        out += [
            "[[jabber]]",
            f'platform = "{platform}"',
            f'version = "{version}"',
            f"count = {count}",
            f"mra = {'true' if mra else 'false'}",
        ]
        if push is not None:
            out.append(f"push = {'true' if push else 'false'}")
        out.append("")
    return "\n".join(out)


def write(root: Path, s: Sim) -> None:
    s.bundle.write(root)


def expect(
    root: Path,
    rule: str,
    bad: bool,
    subjects: list[str] | None = None,
    also: list[str] | None = None,
) -> None:
    name = f"{root.parent.name}/{root.name}"
    if bad:
        write_expected(root, name, [rule, *(also or [])], [], {rule: subjects} if subjects else {})
    else:
        write_expected(root, name, [], [rule])


# -- healthy ------------------------------------------------------------------------------------


@case("healthy/logs")
def healthy(root: Path) -> None:
    s = healthy_sim(1)
    clients = [*people(), Client("frank", "BOTFRANK", agent="Jabber/14.1.0 (Android)")]
    s.workday(clients, DAY, hours=8)
    s.workday(clients, DAY2, hours=8)
    s.bundle.purged("ucm-pub", DAY2.replace(hour=2), 0)
    write(root, s)
    (root / "deployment.toml").write_text(deployment(), encoding="utf-8")
    write_expected(root, "healthy/logs", [], [])


@case("healthy/config")
def healthy_config(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "deployment.toml").write_text(
        deployment(unity_refresh="on", unity_keys=SIGN1, exp_keys=SIGN1, central_sign=SIGN1),
        encoding="utf-8",
    )
    write_expected(root, "healthy/config", [], [])


# -- 1xx configuration --------------------------------------------------------------------------


@case("LD101/bad")
def ld101_bad(root: Path) -> None:
    s = healthy_sim(101, refresh_on=False)
    s.workday(people(), DAY, hours=4, every=timedelta(minutes=55))
    write(root, s)
    expect(root, "LD101", True, ["expc1"])


@case("LD101/good")
def ld101_good(root: Path) -> None:
    s = healthy_sim(101, refresh_on=False, exp_refresh_off=("expc1",))
    s.workday(people(), DAY, hours=4, every=timedelta(minutes=55))
    write(root, s)
    expect(root, "LD101", False)


@case("LD101/config")
def ld101_config(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "deployment.toml").write_text(deployment(refresh="off"), encoding="utf-8")
    expect(root, "LD101", True, ["expc1"])


@case("LD102/bad")
def ld102_bad(root: Path) -> None:
    s = healthy_sim(102, exp_refresh_off=("expc1",))
    s.workday(people(), DAY, hours=4, every=timedelta(minutes=55))
    write(root, s)
    expect(root, "LD102", True, ["expc1"])


@case("LD102/good")
def ld102_good(root: Path) -> None:
    s = healthy_sim(102)
    s.workday(people(), DAY, hours=4, every=timedelta(minutes=55))
    write(root, s)
    expect(root, "LD102", False)


@case("LD102/config")
def ld102_config(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "deployment.toml").write_text(deployment(exp_refresh="off"), encoding="utf-8")
    expect(root, "LD102", True, ["expc1"])


def _unity(seed: int, failing: bool) -> Sim:
    s = healthy_sim(seed)
    clients = people()
    s.workday(clients, DAY, hours=3)
    t = DAY.replace(hour=9, minute=30)
    if failing:
        # Unity Connection's own alarm (in its CiscoSyslog): UCM does not log its checks.
        s.bundle.unity_alarm("cuc1", t)
    else:
        # A healthy Unity Connection's syslog holds other alarms.
        s.bundle.restart("cuc1", t, "Cisco Tomcat", "cuc1")
    return s


@case("LD103/bad")
def ld103_bad(root: Path) -> None:
    write(root, _unity(103, True))
    expect(root, "LD103", True, ["cuc1"])


@case("LD103/good")
def ld103_good(root: Path) -> None:
    write(root, _unity(103, False))
    expect(root, "LD103", False)


@case("LD103/config")
def ld103_config(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "deployment.toml").write_text(
        deployment(unity_refresh="off", unity_keys=SIGN2), encoding="utf-8"
    )
    expect(root, "LD103", True, ["cuc1"])


@case("LD104/bad")
def ld104_bad(root: Path) -> None:
    s = healthy_sim(104)
    s.workday(people(), DAY, hours=3)
    write(root, s)
    (root / "deployment.toml").write_text(deployment(refresh="off", access=120), encoding="utf-8")
    # The file also says refresh off with Expressway refresh on: that is LD101's (from the
    # file alone), shown with the LD104 disagreement.
    expect(root, "LD104", True, ["ucm"], also=["LD101"])


@case("LD104/good")
def ld104_good(root: Path) -> None:
    s = healthy_sim(104)
    s.workday(people(), DAY, hours=3)
    write(root, s)
    (root / "deployment.toml").write_text(deployment(), encoding="utf-8")
    expect(root, "LD104", False)


@case("LD105/bad")
def ld105_bad(root: Path) -> None:
    s = healthy_sim(105)
    s.bundle.param_refused(
        "ucm-pub",
        DAY.replace(hour=7, minute=30),
        "access_token_expiry_minutes",
        "2000",
        "out_of_range 1-1440",
    )
    s.workday(people(), DAY, hours=3)
    write(root, s)
    expect(root, "LD105", True, ["access_token_expiry_minutes"])


@case("LD105/good")
def ld105_good(root: Path) -> None:
    s = healthy_sim(105, access_s=7200)
    s.bundle.param_changed(
        "ucm-pub", DAY.replace(hour=7, minute=30), "access_token_expiry_minutes", "60", "120"
    )
    s.workday(people(), DAY, hours=3, every=timedelta(minutes=90))
    write(root, s)
    expect(root, "LD105", False)


def _two_days(seed: int, refresh_s: int) -> Sim:
    s = healthy_sim(seed, refresh_s=refresh_s)
    clients = staff(4)
    s.workday(clients, DAY, hours=3)
    for c in clients:
        t = s.jitter(DAY2.replace(hour=8), 600)
        if refresh_s <= 86400:
            s.bundle.refused(
                "ucm-pub", t, "refresh_token", "expired", c.user, c.device, c.tid, None
            )
            c.tid = None
            s.login(c, t + timedelta(seconds=2))
        else:
            s.refresh(c, t, "ucm-pub")
    s.workday(clients, DAY2, hours=2)
    return s


@case("LD106/bad")
def ld106_bad(root: Path) -> None:
    s = _two_days(106, 86400)
    s.bundle.param_changed(
        "ucm-pub", START - timedelta(minutes=30), "refresh_token_expiry_days", "60", "1"
    )
    write(root, s)
    expect(root, "LD106", True, ["ucm-pub"], also=["LD107"])


@case("LD106/good")
def ld106_good(root: Path) -> None:
    write(root, _two_days(106, 60 * 86400))
    expect(root, "LD106", False)


@case("LD106/config")
def ld106_config(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "deployment.toml").write_text(deployment(days=1), encoding="utf-8")
    expect(root, "LD106", True, ["ucm"])


def _timer_change(seed: int, change: bool) -> Sim:
    s = healthy_sim(seed)
    clients = staff(4)
    s.workday(clients, DAY, hours=3)
    t = DAY.replace(hour=11, minute=20)
    if change:
        s.bundle.param_changed("ucm-pub", t, "refresh_token_expiry_days", "60", "30")
        for c in clients:
            s.bundle.revoked(
                "ucm-pub", t + timedelta(seconds=1), c.user, c.tid or "", "timer_change"
            )
            c.tid = None
        s.refresh_s = 30 * 86400
    for c in clients:
        s.login(c, s.jitter(t + timedelta(minutes=5), 300)) if change else s.refresh(
            c, s.jitter(t + timedelta(minutes=5), 300), "ucm-pub"
        )
    return s


@case("LD107/bad")
def ld107_bad(root: Path) -> None:
    write(root, _timer_change(107, True))
    expect(root, "LD107", True, ["ucm-pub"])


@case("LD107/good")
def ld107_good(root: Path) -> None:
    write(root, _timer_change(107, False))
    expect(root, "LD107", False)


def _implicit(seed: int, old: bool) -> Sim:
    s = healthy_sim(seed, implicit_on=False)
    clients = staff(3)
    if old:
        clients.append(Client("frank", "CSFFRANK", agent="Jabber/11.8.5 (Windows)"))
    s.workday(clients, DAY, hours=3)
    return s


@case("LD108/bad")
def ld108_bad(root: Path) -> None:
    write(root, _implicit(108, True))
    # A lab rule: it reads the refusals only with a deployment file declaring the switch.
    (root / "deployment.toml").write_text(
        deployment(implicit="off", jabber=(("Windows", "14.1.0", 3, False, None),)),
        encoding="utf-8",
    )
    # Jabber 11.8 while the refresh flow is on is also LD401's.
    expect(root, "LD108", True, ["ucm"], also=["LD401"])


@case("LD108/logs")
def ld108_logs(root: Path) -> None:
    # The same refusals without a deployment file: the lab rule never fires on logs alone.
    write(root, _implicit(108, True))
    write_expected(root, "LD108/logs", ["LD401"], ["LD108"])


@case("LD108/good")
def ld108_good(root: Path) -> None:
    write(root, _implicit(108, False))
    expect(root, "LD108", False)


@case("LD108/config")
def ld108_config(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "deployment.toml").write_text(
        deployment(implicit="off", jabber=(("Windows", "11.8.5", 20, False, None),)),
        encoding="utf-8",
    )
    # Jabber 11.8 with refresh on is also LD401's.
    expect(root, "LD108", True, ["ucm"], also=["LD401"])


def _not_reset(seed: int, reset: bool) -> Sim:
    s = healthy_sim(seed)
    clients = staff(4)
    s.workday(clients, DAY, hours=2)
    t = DAY.replace(hour=10, minute=30)
    s.bundle.param_changed("ucm-pub", t, "refresh_login_flow", "on", "off")
    s.refresh_on = False
    for c in clients:
        if reset:
            c.tid = None
            s.login(c, s.jitter(t + timedelta(minutes=2), 120))
        else:
            for k in range(3):
                when = s.jitter(t + timedelta(minutes=20 + 45 * k), 60)
                s.bundle.refused(
                    "ucm-pub",
                    when,
                    "refresh_token",
                    "refresh_disabled",
                    c.user,
                    c.device,
                    c.tid,
                    None,
                )
    return s


@case("LD109/bad")
def ld109_bad(root: Path) -> None:
    write(root, _not_reset(109, False))
    expect(root, "LD109", True, ["ucm-pub"])


@case("LD109/good")
def ld109_good(root: Path) -> None:
    write(root, _not_reset(109, True))
    expect(root, "LD109", False)


# -- 2xx keys -----------------------------------------------------------------------------------


def _regen(
    seed: int,
    *,
    restart_cm: tuple[str, ...] = ("ucm-pub", "ucm-sub1"),
    restart_xcp: tuple[str, ...] = ("imp1",),
    central_ok: bool | None = None,
    exp_ok: bool | None = None,
) -> Sim:
    """Morning traffic with key 1, regeneration at 10:00, restarts, afternoon with key 2."""
    s = healthy_sim(seed)
    clients = people()
    s.workday(clients, DAY.replace(hour=9), hours=0.8)
    b = s.bundle
    t = DAY.replace(hour=10)
    for use, new in (("signing", SIGN2), ("encryption", ENC2)):
        b.key_regen("ucm-pub", t, use, new, 2)
        for n in ("ucm-sub1", "imp1"):
            b.key_replicated(n, t + timedelta(seconds=1), use, new, 2, "ucm-pub")
        t += timedelta(minutes=1)
    for n in restart_cm:
        b.restart(n, t + timedelta(minutes=5), "Cisco CallManager", n)
    for n in restart_xcp:
        b.restart(n, t + timedelta(minutes=6), "Cisco XCP Authentication Service", n)
        for use, new in (("signing", SIGN2), ("encryption", ENC2)):
            b.key_loaded(
                n,
                t + timedelta(minutes=6, seconds=5),
                use,
                new,
                2,
                server="Cisco XCP Authentication Service",
            )
    old_sign = s.sign
    s.sign, s.enc = SIGN2, ENC2
    # Old tokens presented after the regeneration fail everywhere (expected), then users
    # sign in again with the new key.
    alarmed = False
    for i, c in enumerate(clients):
        when = t + timedelta(minutes=20 + i)
        b.validation_failed("imp1", when, "imp1", "signature", None, None, old_sign)
        b.refused(
            "ucm-pub",
            when + timedelta(seconds=1),
            "refresh_token",
            "signature",
            c.user,
            c.device,
            c.tid,
            c.via,
        )
        c.tid = None
        s.login(c, when + timedelta(seconds=5))
        jti = c.jti or ""
        after = when + timedelta(seconds=8)
        if "ucm-sub1" not in restart_cm:
            b.validation_failed("ucm-sub1", after, "ucm-sub1", "signature", None, None, SIGN2)
        if "imp1" not in restart_xcp:
            b.validation_failed(
                "imp1", after + timedelta(seconds=1), "imp1", "signature", None, None, SIGN2
            )
        if central_ok is not None:
            if central_ok:
                b.validated("ucm-pub", after, "imp-central1", c.user, jti, SIGN2)
            else:
                b.validation_failed(
                    "ucm-pub", after, "imp-central1", "signature", None, None, SIGN2
                )
        if exp_ok is not None and c.via:
            # The Expressway's own log: it relays the client's UDS request, or cannot decrypt
            # the new token (alarm 40054, then 401).
            if not exp_ok and not alarmed:
                alarmed = True
                b.exp_alarm("expc1", after, "40054", "Token decryption failure")
            b.uds("expc1", after, c.user, 200 if exp_ok else 401)
    s.workday(clients, DAY.replace(hour=10, minute=45), hours=0.8)
    return s


@case("LD201/bad")
def ld201_bad(root: Path) -> None:
    write(root, _regen(201, central_ok=False))
    expect(root, "LD201", True, ["imp-central1"], also=["LD204"])


@case("LD201/good")
def ld201_good(root: Path) -> None:
    write(root, _regen(201, central_ok=True))
    expect(root, "LD201", False)


@case("LD201/config")
def ld201_config(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "deployment.toml").write_text(deployment(central_sign=SIGN2), encoding="utf-8")
    expect(root, "LD201", True, ["imp-central"])


@case("LD202/bad")
def ld202_bad(root: Path) -> None:
    write(root, _regen(202, restart_cm=("ucm-pub",)))
    expect(root, "LD202", True, ["ucm-sub1"], also=["LD204"])


@case("LD202/good")
def ld202_good(root: Path) -> None:
    write(root, _regen(202))
    expect(root, "LD202", False)


@case("LD203/bad")
def ld203_bad(root: Path) -> None:
    write(root, _regen(203, restart_xcp=()))
    expect(root, "LD203", True, ["imp1"], also=["LD204"])


@case("LD203/good")
def ld203_good(root: Path) -> None:
    write(root, _regen(203))
    expect(root, "LD203", False)


@case("LD204/bad")
def ld204_bad(root: Path) -> None:
    write(root, _regen(204, central_ok=True, exp_ok=True))
    expect(root, "LD204", True, ["ucm-pub"])


@case("LD204/good")
def ld204_good(root: Path) -> None:
    s = healthy_sim(204)
    s.workday(people(), DAY, hours=5)
    write(root, s)
    expect(root, "LD204", False)


@case("LD205/bad")
def ld205_bad(root: Path) -> None:
    write(root, _regen(205, exp_ok=False))
    expect(root, "LD205", True, ["expc1"], also=["LD204"])


@case("LD205/good")
def ld205_good(root: Path) -> None:
    write(root, _regen(205, exp_ok=True))
    expect(root, "LD205", False)


@case("LD205/config")
def ld205_config(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "deployment.toml").write_text(deployment(exp_keys=SIGN2), encoding="utf-8")
    expect(root, "LD205", True, ["expc1"])


def _checksums(seed: int, differ: bool) -> Sim:
    s = Sim(seed=seed)
    s.boot(START - timedelta(hours=1), nodes=("ucm-pub",))
    other = checksum("signing-restored") if differ else s.sign
    s.bundle.key_loaded("ucm-sub1", START - timedelta(hours=1), "signing", other, 1)
    s.bundle.key_loaded("ucm-sub1", START - timedelta(hours=1), "encryption", s.enc, 1)
    s.workday(staff(3), DAY, hours=3)
    return s


@case("LD206/bad")
def ld206_bad(root: Path) -> None:
    write(root, _checksums(206, True))
    expect(root, "LD206", True, ["ucm-pub"])


@case("LD206/good")
def ld206_good(root: Path) -> None:
    write(root, _checksums(206, False))
    expect(root, "LD206", False)


SAML_OK = [
    ("DEBUG", "filter.SSOAuthAgentFilter", "servlet path :/showHome.do"),
    ("DEBUG", "fappend.SamlLogger", "SPSSOFederate: spEntityID is : ucm-pub.example.com"),
    ("DEBUG", "authentication.SAMLAuthenticator", "SAML Response is ::PHNhbWxwOlJlc3BvbnNl"),
    ("DEBUG", "authentication.SAMLAuthenticator", "Time Valid?:true"),
    ("DEBUG", "authentication.SAMLAuthenticator", "userid is ::alice"),
    ("INFO", "servlet.RelayToOriginalAppServlet", "relayUrl ::/ccmadmin/showHome.do::"),
]
SAML_BAD = {
    "LD211": (
        "ERROR",
        "authentication.SAMLAuthenticator",
        "Error while processing saml response The signing certificate does not match "
        "what's defined in the entity metadata.\n"
        "com.sun.identity.saml2.common.SAML2Exception: The signing certificate does not "
        "match what's defined in the entity metadata.",
    ),
    "LD212": (
        "ERROR",
        "authentication.SAMLAuthenticator",
        "Error while processing saml response Failed to decrypt the secret key.\n"
        "com.sun.identity.saml2.common.SAML2Exception: Failed to decrypt the secret key.",
    ),
    "LD213": ("DEBUG", "authentication.SAMLAuthenticator", "Time Valid?:false"),
    "LD214": (
        "ERROR",
        "authentication.SAMLAuthenticator",
        "Error while processing saml response Invalid Status code in Response. This may "
        "be caused by a configuration error in the IDP.",
    ),
}


def _saml(rule: str, root: Path, bad: bool) -> None:
    s = healthy_sim(int(rule[2:]))
    s.workday(staff(3), DAY, hours=2)
    t = DAY.replace(hour=9)
    for k in range(2):
        for i, (level, logger, msg) in enumerate(SAML_OK):
            if bad and "Time Valid" in msg and rule == "LD213":
                level, logger, msg = SAML_BAD[rule]
            s.bundle.log4j(
                "ucm-pub",
                t + timedelta(minutes=10 * k, milliseconds=40 * i),
                level,
                logger,
                msg,
                thread="http-bio-443-exec-83",
            )
        if bad and rule != "LD213":
            level, logger, msg = SAML_BAD[rule]
            s.bundle.log4j(
                "ucm-pub",
                t + timedelta(minutes=10 * k, seconds=1),
                level,
                logger,
                msg,
                thread="http-bio-443-exec-45",
            )
    write(root, s)
    expect(root, rule, bad, ["ucm-pub"] if bad else None)


for _rule in SAML_BAD:
    CASES[f"{_rule}/bad"] = lambda root, r=_rule: _saml(r, root, True)
    CASES[f"{_rule}/good"] = lambda root, r=_rule: _saml(r, root, False)


# -- 3xx users ----------------------------------------------------------------------------------


def _revoke(seed: int, keeps_trying: bool, user: str = "carol") -> Sim:
    s = healthy_sim(seed)
    clients = staff(4)
    s.workday(clients, DAY, hours=1.5)
    c = next(x for x in clients if x.user == user)
    t = DAY.replace(hour=10)
    s.bundle.revoke("ucm-pub", t, "admin", user, 1)
    s.bundle.revoked("ucm-pub", t + timedelta(milliseconds=2), user, c.tid or "", "revoke_api")
    for k in range(4 if keeps_trying else 1):
        s.bundle.refused(
            "ucm-pub",
            t + timedelta(minutes=15 + 10 * k),
            "refresh_token",
            "revoked",
            user,
            c.device,
            c.tid,
            None,
        )
    if not keeps_trying:
        c.tid = None
        s.login(c, t + timedelta(minutes=16))
    others = [x for x in clients if x.user != user]
    s.workday(others + ([] if keeps_trying else [c]), DAY.replace(hour=10, minute=30), hours=1.5)
    return s


@case("LD301/bad")
def ld301_bad(root: Path) -> None:
    write(root, _revoke(301, True))
    expect(root, "LD301", True, ["carol"], also=["LD302"])


@case("LD301/good")
def ld301_good(root: Path) -> None:
    write(root, _revoke(301, False))
    expect(root, "LD301", False)


@case("LD302/bad")
def ld302_bad(root: Path) -> None:
    write(root, _revoke(302, False, user="dave"))
    expect(root, "LD302", True, ["dave"])


@case("LD302/good")
def ld302_good(root: Path) -> None:
    s = healthy_sim(302)
    s.workday(staff(4), DAY, hours=3)
    write(root, s)
    expect(root, "LD302", False)


def _user_fault(seed: int, user: str, reason: str | None) -> Sim:
    s = healthy_sim(seed)
    clients = staff(4)
    s.workday(clients, DAY, hours=3)
    if reason is not None:
        c = Client(user, f"CSF{user.upper()}")
        t = DAY.replace(hour=9)
        for k in range(3):
            when = t + timedelta(minutes=20 * k)
            if reason == "inactive_user":
                s.bundle.authorize("ucm-pub", when, c.user, c.device, c.agent, "code", None)
                s.bundle.auth_fail(
                    "ucm-pub", when + timedelta(milliseconds=300), c.user, reason, None
                )
            else:
                s.login(c, when)
                s.bundle.validation_failed(
                    "imp1", when + timedelta(seconds=3), "imp1", reason, c.user, c.jti, s.sign
                )
    return s


@case("LD303/bad")
def ld303_bad(root: Path) -> None:
    write(root, _user_fault(303, "frank", "inactive_user"))
    expect(root, "LD303", True, ["frank"])


@case("LD303/good")
def ld303_good(root: Path) -> None:
    write(root, _user_fault(303, "frank", None))
    expect(root, "LD303", False)


@case("LD304/bad")
def ld304_bad(root: Path) -> None:
    write(root, _user_fault(304, "gina", "no_access"))
    expect(root, "LD304", True, ["gina"])


@case("LD304/good")
def ld304_good(root: Path) -> None:
    write(root, _user_fault(304, "gina", None))
    expect(root, "LD304", False)


def _expired(seed: int, burst: int) -> Sim:
    s = healthy_sim(seed)
    clients = people()
    s.workday(clients, DAY, hours=1)
    hank = Client("hank", "CSFHANK", via="expc1")
    s.login(hank, DAY.replace(hour=8, minute=5))
    # The laptop sleeps; at 13:00 it wakes with an access token four hours old.
    t = DAY.replace(hour=13)
    for k in range(burst):
        s.bundle.validation_failed(
            "ucm-pub",
            t + timedelta(seconds=40 * k),
            "expc1",
            "expired",
            hank.user,
            hank.jti,
            s.sign,
        )
    s.refresh(hank, t + timedelta(seconds=40 * burst + 5), "ucm-pub")
    return s


@case("LD305/bad")
def ld305_bad(root: Path) -> None:
    write(root, _expired(305, 7))
    expect(root, "LD305", True, ["hank"])


@case("LD305/good")
def ld305_good(root: Path) -> None:
    write(root, _expired(305, 2))
    expect(root, "LD305", False)


# -- 4xx clients --------------------------------------------------------------------------------


@case("LD401/bad")
def ld401_bad(root: Path) -> None:
    s = healthy_sim(401)
    s.workday(
        [*staff(3), Client("frank", "CSFFRANK", agent="Jabber/11.8.5 (Windows)")], DAY, hours=3
    )
    write(root, s)
    expect(root, "LD401", True, ["CSFFRANK"])


@case("LD401/good")
def ld401_good(root: Path) -> None:
    s = healthy_sim(401)
    s.workday(
        [*staff(3), Client("frank", "CSFFRANK", agent="Jabber/12.9.2 (Windows)")], DAY, hours=3
    )
    write(root, s)
    expect(root, "LD401", False)


@case("LD401/config")
def ld401_config(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "deployment.toml").write_text(
        deployment(jabber=(("Windows", "11.8.5", 12, False, None),)), encoding="utf-8"
    )
    expect(root, "LD401", True, ["Jabber 11.8.5 Windows"])


def _push(seed: int, push: str) -> Sim:
    s = healthy_sim(seed)
    s.workday(
        [
            *staff(3),
            Client("gina", "TCTGINA", agent=f"Jabber/14.1.0 (iPhone; push={push})", via="expc1"),
        ],
        DAY,
        hours=3,
    )
    return s


@case("LD402/bad")
def ld402_bad(root: Path) -> None:
    write(root, _push(402, "off"))
    expect(root, "LD402", True, ["TCTGINA"])


@case("LD402/good")
def ld402_good(root: Path) -> None:
    write(root, _push(402, "on"))
    expect(root, "LD402", False)


@case("LD402/config")
def ld402_config(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "deployment.toml").write_text(
        deployment(jabber=(("iPad", "14.1.0", 7, True, False),)), encoding="utf-8"
    )
    expect(root, "LD402", True, ["Jabber 14.1.0 iPad"])


def _twins(seed: int, together: bool) -> Sim:
    s = healthy_sim(seed)
    s.workday(staff(3), DAY, hours=3)
    office = Client("hank", "CSFHANK", via="expc1")
    home = Client("hank", "CSFHANK", agent="Jabber/14.1.0 (Mac)", via="expc1")
    t = DAY.replace(hour=8, minute=10)
    s.login(office, t)
    if together:
        s.login(home, t + timedelta(minutes=7))
        for k in range(4):
            s.refresh(office, t + timedelta(minutes=45 * (k + 1)), "ucm-pub")
            s.refresh(home, t + timedelta(minutes=45 * (k + 1) + 7), "ucm-sub1")
    else:
        s.refresh(office, t + timedelta(minutes=45), "ucm-pub")
        s.login(home, t + timedelta(hours=2))
        for k in range(3):
            s.refresh(home, t + timedelta(hours=2, minutes=45 * (k + 1)), "ucm-sub1")
    return s


@case("LD403/bad")
def ld403_bad(root: Path) -> None:
    write(root, _twins(403, True))
    expect(root, "LD403", True, ["CSFHANK"])


@case("LD403/good")
def ld403_good(root: Path) -> None:
    write(root, _twins(403, False))
    expect(root, "LD403", False)


def _client_failures(s: Sim, user: str, device: str, t: datetime, n: int) -> None:
    """``n`` refused refreshes in the user's PRT, each followed by a 401 and a UDS failure."""
    for k in range(n):
        at = t + timedelta(minutes=12 * k)
        s.bundle.jabber(user, device, at, "client.refresh.failed")
        at += timedelta(seconds=20)
        s.bundle.jabber(
            user,
            device,
            at,
            "client.http.401",
            "INFO",
            request=k + 1,
            server="ucm-pub",
            path=f"cucm-uds/user/{user}",
        )
        s.bundle.jabber(user, device, at, "client.auth.failed", "ERROR")


@case("LD404/bad")
def ld404_bad(root: Path) -> None:
    # Only the PRT was collected: nothing says what the servers did at that time.
    s = Sim(seed=404)
    _client_failures(s, "carol", "CSFCAROL", DAY.replace(hour=9), 4)
    write(root, s)
    expect(root, "LD404", True, ["carol"])


@case("LD404/good")
def ld404_good(root: Path) -> None:
    # The same PRT with the UCM logs of those hours: the server side is in the bundle.
    s = healthy_sim(404)
    s.workday(staff(4), DAY, hours=4)
    _client_failures(s, "carol", "CSFCAROL", DAY.replace(hour=9), 4)
    write(root, s)
    expect(root, "LD404", False)


# -- 9xx log health -----------------------------------------------------------------------------


@case("LD901/bad")
def ld901_bad(root: Path) -> None:
    s = healthy_sim(901)
    s.workday(staff(2), DAY, hours=2)
    for k in range(40):
        s.bundle.log4j(
            "ucm-sub1",
            DAY.replace(hour=9) + timedelta(seconds=17 * k),
            "INFO",
            "sso.FutureFeature",
            f"a message no format knows #{k}",
        )
    write(root, s)
    expect(root, "LD901", True, ["ucm-sub1:ssosp00001.log"])


@case("LD901/good")
def ld901_good(root: Path) -> None:
    s = healthy_sim(901)
    s.workday(staff(2), DAY, hours=2)
    for k in range(3):
        s.bundle.log4j(
            "ucm-sub1",
            DAY.replace(hour=9) + timedelta(minutes=k),
            "INFO",
            "sso.FutureFeature",
            f"a message no format knows #{k}",
        )
    write(root, s)
    expect(root, "LD901", False)


def _rotated(seed: int, missing: bool) -> Sim:
    s = healthy_sim(seed)
    clients = staff(6)
    for n, hour in ((1, 8), (2, 9), (3, 10)):
        s.bundle.rotate("ucm-pub", n)
        s.workday(clients, DAY.replace(hour=hour), hours=0.9, every=timedelta(minutes=15))
    if missing:
        del s.bundle.files[("ucm-pub", "tomcat/logs/ssosp/log4j/ssosp00002.log")]
    return s


@case("LD902/bad")
def ld902_bad(root: Path) -> None:
    write(root, _rotated(902, True))
    expect(root, "LD902", True, ["ucm-pub"])


@case("LD902/good")
def ld902_good(root: Path) -> None:
    write(root, _rotated(902, False))
    expect(root, "LD902", False)


@case("LD903/bad")
def ld903_bad(root: Path) -> None:
    s = healthy_sim(903)
    s.workday(people(), DAY, hours=3)
    # imp1's clock runs five minutes behind.
    shifted = {}
    for (node, rel), lines in s.bundle.files.items():
        if node == "imp1":
            lines = [
                (t - timedelta(minutes=5), q, _retime(text, t - timedelta(minutes=5)))
                for t, q, text in lines
            ]
        shifted[(node, rel)] = lines
    s.bundle.files = shifted
    write(root, s)
    expect(root, "LD903", True, ["imp1"])


def _retime(text: str, t: datetime) -> str:
    from tests.helpers.lines import SSOSP

    return SSOSP.stamps["ts"].format(t) + text[23:]


@case("LD903/good")
def ld903_good(root: Path) -> None:
    s = healthy_sim(903)
    s.workday(people(), DAY, hours=3)
    write(root, s)
    expect(root, "LD903", False)


def _debug(seed: int, left_on: bool) -> Sim:
    s = healthy_sim(seed)
    s.bundle.trace_level("ucm-pub", DAY.replace(hour=6), "DEBUG")
    if not left_on:
        s.bundle.trace_level("ucm-pub", DAY.replace(hour=12), "INFO")
    clients = staff(3)
    s.workday(clients, DAY, hours=3)
    s.workday(clients, DAY2, hours=3)
    return s


@case("LD904/bad")
def ld904_bad(root: Path) -> None:
    write(root, _debug(904, True))
    expect(root, "LD904", True, ["ucm-pub"])


@case("LD904/good")
def ld904_good(root: Path) -> None:
    write(root, _debug(904, False))
    expect(root, "LD904", False)


def _damaged(root: Path, seed: int, damaged: bool) -> None:
    s = healthy_sim(seed)
    s.workday(staff(3), DAY, hours=2)
    write(root, s)
    p = root / "ucm-sub1" / "tomcat/logs/ssosp/log4j/ssosp00001.log"
    data = p.read_bytes()
    if damaged:
        head = b"".join(
            b"\tat com.cisco.ssosp.Truncated.frame(Unknown Source)\n" for _ in range(15)
        )
        data = head + data.replace(
            b"oauth.TokenServlet - Refresh grant", b"oauth.TokenServlet - Refresh \xff\xfe grant", 1
        )
    else:
        head = b"\tat com.cisco.ssosp.Truncated.frame(Unknown Source)\n" * 2
        data = head + data
    p.write_bytes(data)


@case("LD905/bad")
def ld905_bad(root: Path) -> None:
    _damaged(root, 905, True)
    expect(root, "LD905", True, ["ucm-sub1:ssosp00001.log"])


@case("LD905/good")
def ld905_good(root: Path) -> None:
    _damaged(root, 905, False)
    expect(root, "LD905", False)


@case("LD906/bad")
def ld906_bad(root: Path) -> None:
    s = healthy_sim(906)
    s.workday(staff(3), DAY, hours=2)
    t = DAY.replace(hour=9)
    s.bundle.log4j(
        "ucm-pub",
        t,
        "DEBUG",
        "xmlframework.XCPConfigMgr",
        "FetchAndStoreAccessToken: Calling createAccessToken() with "
        "granttype:refresh_token, refreshToken:MTc2YzFh, accessTokenURL "
        "proxyUsernamenull",
        thread="Timer-1382",
    )
    s.bundle.log4j(
        "ucm-pub",
        t + timedelta(milliseconds=494),
        "ERROR",
        "xmlframework.XCPConfigMgr",
        "400 Bad Request: invalid_request, unsupported_grant_type, invalid_client, "
        "invalid_refresh_token, tokenlimit_reached",
        thread="Timer-1382",
    )
    write(root, s)
    expect(root, "LD906", True, ["ucm-pub"])


@case("LD906/good")
def ld906_good(root: Path) -> None:
    s = healthy_sim(906)
    s.workday(staff(3), DAY, hours=2)
    write(root, s)
    expect(root, "LD906", False)


def generate(root: Path = ROOT, names: list[str] | None = None) -> list[str]:
    """Write the cases (all, or ``names``) under ``root``; returns the names written."""
    done = []
    for name in sorted(names or CASES):
        target = root / name
        if target.exists():
            shutil.rmtree(target)
        CASES[name](target)
        done.append(name)
    return done


if __name__ == "__main__":
    for n in generate(names=sys.argv[1:] or None):
        print(n)
