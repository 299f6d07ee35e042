"""Real log bundles for the report tests, written in the layout RTMT collects.

Lines are rendered by the shared line builder (:mod:`tests.helpers.lines`: the templates and
``[writer]`` layouts of parsers/ssosp.toml and parsers/ciscosyslog.toml, values
percent-encoded, "-" for empty), so the whole path runs: files -> load -> report -> browser.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from logdoctor.ingest.load import LoadResult
from logdoctor.model import Evidence, Finding, RuleId, Severity
from tests.helpers.lines import SSOSP, SYSLOG, service_line, ssoapp_path, ssosp_line, ssosp_path

__all__ = [
    "CLIENT_A",
    "CLIENT_B",
    "HOSTILE_FLAG",
    "HOSTILE_MESSAGES",
    "HOSTILE_NODE",
    "HOSTILE_USERS",
    "KID",
    "LONG_LINE",
    "MONDAY",
    "SSOSP",
    "SYSLOG",
    "T0",
    "THREAD",
    "Ssosp",
    "busy_bundle",
    "evidence_from",
    "findings",
    "hostile_bundle",
    "normal_bundle",
    "ssoapp_path",
    "ssosp_path",
    "stray_bundle",
]

KID = "8d0d5324-f4f0-4b0b-811e-4a59fdb6b722:c2770c97bda9d34fd05a7ea1aed3e54ca80bdd7ee35d9703b6"
CLIENT_A = "C" + "a1" * 32
CLIENT_B = "C" + "b2" * 32
T0 = datetime(2026, 11, 20, 8, 0, 0)
THREAD = "http-bio-8443-exec-7"
"""Every line of these bundles is written by one thread."""


class Ssosp:
    """Collects ssosp lines; each method appends one line at time ``t``."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, t: datetime, level: str, logger: str, msg: str) -> None:
        line = SSOSP.line(msg, ts=t, level=level, thread=THREAD, logger=logger)
        self.lines.append(line)

    def event(self, t: datetime, level: str, logger: str, name: str, **fields: object) -> None:
        """One line of templated event ``name`` written by ``logger`` at ``level``."""
        self.add(t, level, logger, SSOSP.message(name, **fields))

    def of(self, t: datetime, name: str, **fields: object) -> None:
        """One line of event ``name`` by the code that writes it
        (:func:`tests.helpers.lines.ssosp_line`)."""
        self.lines.append(ssosp_line(name, t, thread=THREAD, **fields))

    def client_event(
        self,
        t: datetime,
        name: str,
        user: str,
        client: str,
        token: str,
        server: str | None,
        **more: object,
    ) -> None:
        """An event about ``user``'s token on their Jabber (device ``CSF<USER>``)."""
        device = f"CSF{user.upper()}"
        self.of(
            t,
            name,
            user=user,
            client_id=client,
            device=device,
            token_id=token,
            server=server,
            **more,
        )

    def login(self, t: datetime, user: str) -> None:
        self.of(t, "auth.success", user=user, param="password", server=None)

    def login_failed(self, t: datetime, user: str, reason: str) -> None:
        self.of(t, "auth.failure", user=user, param="password", reason=reason, server=None)

    def access(self, t: datetime, user: str, client: str, jti: str, grant: str) -> None:
        self.client_event(
            t, "token.access.issued", user, client, jti, None, grant=grant, key=KID, value=3600
        )

    def refresh_issued(self, t: datetime, user: str, client: str, tid: str) -> None:
        self.client_event(
            t, "token.refresh.issued", user, client, tid, None, key=KID, value=5184000
        )

    def refreshed(self, t: datetime, user: str, client: str, tid: str) -> None:
        self.client_event(t, "token.refreshed", user, client, tid, "expc1")

    def refresh_refused(self, t: datetime, user: str, client: str, tid: str, reason: str) -> None:
        self.of(
            t,
            "token.rejected",
            grant="refresh_token",
            error="invalid_grant",
            reason=reason,
            user=user,
            client_id=client,
            device=None,
            token_id=tid,
            server="expc1",
        )

    def validated(self, t: datetime, user: str, client: str, jti: str) -> None:
        self.of(
            t,
            "token.validated",
            server="imp1",
            user=user,
            client_id=client,
            token_id=jti,
            key=KID,
        )

    def validation_failed(self, t: datetime, jti: str, check: str) -> None:
        self.of(
            t,
            "validation.failed",
            server="imp1",
            reason=check,
            user=None,
            client_id=None,
            token_id=jti,
            key=KID,
        )

    def revoke(self, t: datetime, user: str, client: str, tid: str) -> None:
        self.of(
            t,
            "revoke.request",
            param="admin",
            user=user,
            client_id=None,
            reason="success",
            value=1,
        )
        self.of(t, "token.revoked", user=user, client_id=client, token_id=tid, reason="revoke_api")

    def config(self, t: datetime, name: str, old: str, new: str) -> None:
        self.of(t, "config.changed", param=name, old=old, value=new)

    def key_regen(self, t: datetime, use: str, checksum: str) -> None:
        self.of(t, "key.regenerated", param=use, key=checksum, value=2)

    def raw(self, t: datetime, message: str, level: str = "INFO") -> None:
        self.add(t, level, "misc.Unknown", message)

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        ordered = sorted(self.lines, key=lambda line: line[:23])  # a log is in time order
        path.write_text("\n".join(ordered) + "\n", encoding="utf-8")
        return path


def normal_bundle(root: Path) -> Path:
    """Two nodes, three users, a rotated ssosp pair with a 3-hour silence between the files.

    alice: 2 logins, 1 refresh token refreshed 3 times, 4 access tokens, validated.
    bob: 3 failed logins (2 inactive_user, 1 bad_password), one refresh refused (expired),
         one access token rejected by IM&P (signature, the line names only the jti).
    carol: 1 login, her refresh token revoked by the admin.
    Plus a configuration change, a key regeneration, a service restart, and 4 unrecognized
    lines of 2 shapes (ids differ).
    """
    pub = Ssosp()
    t = T0
    pub.config(t, "refresh_login_flow", "off", "on")
    pub.login(t + timedelta(minutes=1), "alice")
    pub.refresh_issued(t + timedelta(minutes=1, seconds=1), "alice", CLIENT_A, "tid-alice-1")
    pub.access(
        t + timedelta(minutes=1, seconds=1), "alice", CLIENT_A, "jti-a1", "authorization_code"
    )
    pub.validated(t + timedelta(minutes=2), "alice", CLIENT_A, "jti-a1")
    for i in range(3):
        tt = t + timedelta(minutes=45 * (i + 1))
        pub.refreshed(tt, "alice", CLIENT_A, "tid-alice-1")
        pub.access(tt, "alice", CLIENT_A, f"jti-a{i + 2}", "refresh_token")
    pub.login_failed(t + timedelta(minutes=5), "bob", "inactive_user")
    pub.login_failed(t + timedelta(minutes=6), "bob", "inactive_user")
    pub.login_failed(t + timedelta(minutes=7), "bob", "bad_password")
    pub.access(t + timedelta(minutes=8), "bob", CLIENT_B, "jti-b1", "authorization_code")
    pub.validation_failed(t + timedelta(minutes=9), "jti-b1", "signature")
    pub.refresh_refused(t + timedelta(minutes=10), "bob", CLIENT_B, "tid-bob-1", "expired")
    pub.login(t + timedelta(minutes=11), "carol")
    pub.refresh_issued(t + timedelta(minutes=11), "carol", CLIENT_B, "tid-carol-1")
    pub.revoke(t + timedelta(minutes=30), "carol", CLIENT_B, "tid-carol-1")
    pub.key_regen(t + timedelta(minutes=100), "signing", "ab" * 32)
    pub.raw(t + timedelta(minutes=101), "Cache refresh took 1200 ms for id 4f3a9c1e")
    pub.raw(t + timedelta(minutes=102), "Cache refresh took 87 ms for id 0b77aa10")
    pub.raw(t + timedelta(minutes=103), "Cache refresh took 5 ms for id 77ee01ff")
    pub.raw(t + timedelta(minutes=104), "Heartbeat from 10.0.0.12 port 8443", "ERROR")
    pub.write(ssosp_path(root, "ucm-pub", 1))
    later = Ssosp()
    t2 = t + timedelta(hours=6)  # the first file ends at 08:45 x 3 = 10:15; 3 h+ of silence
    later.login(t2, "alice")
    later.validated(t2 + timedelta(seconds=5), "alice", CLIENT_A, "jti-a4")
    later.write(ssosp_path(root, "ucm-pub", 2))
    sub = Ssosp()
    sub.validated(t + timedelta(minutes=50), "alice", CLIENT_A, "jti-a2")
    sub.write(ssosp_path(root, "ucm-sub1", 1))
    app = root / "ucm-pub" / "syslog" / "CiscoSyslog"
    app.parent.mkdir(parents=True, exist_ok=True)
    when = t + timedelta(minutes=101)
    restart = service_line("service.started", when, "Cisco Tomcat", "ucm-pub", pid=5150, seq=1)
    app.write_text(restart + "\n", encoding="utf-8")
    return root


HOSTILE_FLAG = "__pwned"
HOSTILE_USERS = (
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=2">',
    "</script><script>window.__pwned=3</script>",
    "evil\u202etxt.exe",
    "ctl\x1b[31mred\x07\x00bell",
    "zero\u200bwidth\ufeffbom",
)
HOSTILE_MESSAGES = (
    "<script>window.__pwned=4;alert(4)</script>",
    '"><img src=x onerror=window.__pwned=5> </script> </style> <!-- x',
    "\x1b[2J\x1b[31mterminal \u202eoverride\u202c \u2066isolate\u2069 end",
    "<svg onload=window.__pwned=6><a href=javascript:window.__pwned=7>click</a>",
)
HOSTILE_NODE = '"><svg onload=window.__pwned=8>'
LONG_LINE = "A" * 100_000


def hostile_bundle(root: Path) -> Path:
    """Users, messages and a node name crafted to break out of HTML, JSON and the layout."""
    s = Ssosp()
    t = T0
    for i, user in enumerate(HOSTILE_USERS):
        tt = t + timedelta(minutes=i)
        s.login(tt, user)
        s.login_failed(tt + timedelta(seconds=1), user, "<b>bad</b>\u202e")
        s.access(tt + timedelta(seconds=2), user, CLIENT_A, f"jti-h{i}", "authorization_code")
        s.refresh_issued(tt + timedelta(seconds=2), user, CLIENT_A, f"tid-h{i}")
    s.login(t + timedelta(minutes=10), "long" + LONG_LINE)
    for i, msg in enumerate(HOSTILE_MESSAGES):
        s.raw(t + timedelta(minutes=11 + i), msg, "ERROR")
    s.raw(t + timedelta(minutes=20), LONG_LINE)
    s.raw(t + timedelta(minutes=21), "word " * 20_000)
    s.config(t + timedelta(minutes=22), "<i>param</i>", "off", "</script>")
    s.write(ssosp_path(root, HOSTILE_NODE, 1))
    return root


MONDAY = datetime(2026, 11, 16)


def busy_bundle(
    root: Path, *, days: int = 3, silence_day: int | None = None, skip_file: bool = False
) -> Path:
    """ucm-pub busy every weekday from 08:00 to 18:00 (a login every 2 minutes), quiet every
    night; one ssosp file per day.

    ``silence_day``: that day is silent from 11:00 to 14:00 (busy hours on the other days: a
    gap for LD902). ``skip_file``: the second day's file is missing from the bundle (rotation
    numbers 1, 3, 4...).
    """
    for d in range(days):
        day = Ssosp()
        start = MONDAY + timedelta(days=d, hours=8)
        for i in range(300):
            t = start + timedelta(minutes=2 * i)
            if d == silence_day and 11 <= t.hour < 14:
                continue
            day.login(t, f"user{i % 7}")
        if skip_file and d == 1:
            continue
        day.write(ssosp_path(root, "ucm-pub", d + 1))
    return root


def stray_bundle(root: Path) -> Path:
    """The normal bundle, and ucm-sub1 writing one line dated 2014 (a stray clock or an old
    rotated file) among its lines of 2026."""
    normal_bundle(root)
    sub = Ssosp()
    sub.validated(T0 + timedelta(minutes=50), "alice", CLIENT_A, "jti-a2")
    sub.refresh_refused(datetime(2014, 8, 2, 23, 36, 40), "dave", CLIENT_B, "tid-old", "expired")
    sub.write(ssosp_path(root, "ucm-sub1", 1))
    return root


# -- findings on the normal bundle ---------------------------------------------------------------


def evidence_from(loaded: LoadResult, kind: str | None = None) -> tuple[Evidence, ...]:
    """Every line of ``kind`` (of every kind: None) in ``loaded`` as finding evidence."""
    rows = loaded.frame if kind is None else loaded.frame.filter(loaded.frame["kind"] == kind)
    return tuple(
        Evidence(
            node=r["node"],
            file=r["file"],
            line=r["line"],
            time=r["time"],
            kind=r["kind"],
            excerpt=r["message"],
        )
        for r in rows.iter_rows(named=True)
    )


def findings(loaded: LoadResult) -> tuple[Finding, ...]:
    """Three findings on :func:`normal_bundle` (LD901 info, LD301 warning, LD201 error), as
    the check engine would give them, for tests of the findings sections."""
    failures = evidence_from(loaded, "auth.failure")
    rejected = evidence_from(loaded, "token.rejected")
    return (
        Finding(
            rule=RuleId("LD901"),
            severity=Severity.INFO,
            title="Unrecognized lines",
            message="4 lines no pattern knows.",
            evidence=evidence_from(loaded, "unrecognized"),
            evidence_total=4,
        ),
        Finding(
            rule=RuleId("LD301"),
            severity=Severity.WARNING,
            title="Inactive user keeps trying",
            message="bob is inactive in UCM.",
            evidence=failures,
            evidence_total=3,
            subjects=("bob",),
            fix=("Re-activate bob or remove his Jabber.",),
        ),
        Finding(
            rule=RuleId("LD201"),
            severity=Severity.ERROR,
            title="IM&P holds an old signing key",
            message="imp1 rejects tokens: signature.",
            evidence=rejected,
            evidence_total=40,
            subjects=("imp1",),
            first_seen=rejected[0].time,
            last_seen=rejected[-1].time,
            fix=("Run `set key regen authz signing` on the publisher.", "Restart Cisco Tomcat."),
        ),
    )
