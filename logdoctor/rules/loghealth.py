"""9xx: the health of the logs themselves (coverage, parsing, clocks, trace level)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import PurePosixPath

import polars as pl

from logdoctor.model import Evidence, Severity
from logdoctor.rules.context import Context, Hit, when
from logdoctor.rules.registry import ANY_KIND, INFERRED, Needs, rule

UNRECOGNIZED_RATIO = 0.2
"""A file whose share of unrecognized records exceeds this..."""
UNRECOGNIZED_MIN_RECORDS = 20
"""...and that has at least this many records is reported."""
MALFORMED_MAX = 10
"""More malformed lines than this in one file are reported (a rotated file may start with
the tail of a stack trace: a few are normal)."""
DEBUG_TOO_LONG = timedelta(hours=24)
"""samltrace DEBUG on for longer than this is reported."""
DEBUG_SPAN_NO_MARKER = timedelta(days=7)
"""Without a trace-level line, SAML debug records spanning this long are reported."""
_DEBUG = ("DEBUG", "TRACE", "BEBUG", "FINE", "FINER", "FINEST")
_SAML_DEBUG_LOGGERS = r"(?:SAMLAuthenticator|SamlLogger|SSOAuthAgentFilter)$"


def _short(node: str | None, path: str) -> str:
    name = PurePosixPath(path.split("!")[-1].replace("\\", "/")).name
    return f"{node}:{name}" if node else name


@rule(
    "LD901",
    Severity.WARNING,
    "Many records of a file are not recognized",
    needs=Needs(kinds=("unrecognized",)),
)
def unrecognized_ratio(ctx: Context) -> Iterator[Hit]:
    """What:
    More than 20 % of a log file's records (at least 20 records) match no event pattern.

    Why:
    Rules see only the records logdoctor recognizes: a file it mostly does not understand (a
    new UCM release writing other messages, a file of another product given by mistake) can
    hide the very lines that show a fault. No public document shows an ssosp OAuth line, so
    the OAuth wording logdoctor knows is modelled: on a real bundle those lines may well be
    the unrecognized ones.

    Detection:
    Per file, the parse statistics' ``unrecognized`` / ``records``. The unrecognized records
    are mined into message templates (ids, numbers and ``key=value`` values masked, then
    Drain); the message names the most frequent ones and the evidence shows one record of
    each. Subject: the node and the file name.

    Example:
        2026-11-20 08:00:00,000 INFO  [http-bio-8443-exec-1] sso.SomethingNew - a message no format knows

    Fix:
    1. Look at the templates: the report's "Unrecognized messages" section lists them all
       with counts, nodes, first and last time and two examples
       (`logdoctor parse FILE --kind unrecognized` shows every record).
    2. If they matter, draft a format for them: `logdoctor formats suggest BUNDLE --family
       FAMILY -o DIR/FAMILY.toml` writes the family's format file with one `[[event]]` of
       kind `draft.<n>` per frequent template (fields named after their keys: `userId=` gives
       `user`, `jti=` gives `token_id`...) and two verbatim samples each; it also mines the
       lines only a generic detector caught (`oauth.error`, `oauth.request`).
    3. Rename each `draft.<n>` to the kind it is (`logdoctor kinds`), in its event and its
       samples, and check the field names; then `logdoctor formats --check DIR`.
    4. Run again with `--formats-dir DIR` (the draft replaces the built-in format of the same
       name); report the new wording so that logdoctor's formats learn it.

    References:
    - logdoctor README, "Formats are data" and "Drafting a format from unrecognized lines"
    """  # noqa: E501
    from logdoctor.analysis.shapes import mine
    from logdoctor.analysis.suggest import suggest_command

    unrec = ctx.raw.of("unrecognized")
    for st in ctx.stats:
        if st.error is not None or st.records < UNRECOGNIZED_MIN_RECORDS:
            continue
        ratio = st.unrecognized / st.records
        if ratio <= UNRECOGNIZED_RATIO:
            continue
        mine_rows = unrec.filter(pl.col("file") == st.path)
        templates = sorted(mine(mine_rows), key=lambda t: (-t.count, t.text))
        top = "; ".join(f"{t.text[:120]!r} ({t.count})" for t in templates[:3])
        more = f" and {len(templates) - 3} more" if len(templates) > 3 else ""
        command = suggest_command([st.path.split("!")[0]], st.family or "")
        shown = {(t.examples[0].file, t.examples[0].line) for t in templates[:_TEMPLATES_SHOWN]}
        yield Hit(
            subjects=(_short(st.node, st.path),),
            message=(
                f"{st.unrecognized} of {st.records} records ({ratio:.0%}) of {st.path} match no"
                f" event pattern: findings may miss what they say. {len(templates)} message"
                f" template(s): {top}{more}. Draft a format for them: {command}"
            ),
            rows=mine_rows.filter(
                pl.struct(pl.col("file").cast(pl.String), "line").is_in(
                    [{"file": f, "line": n} for f, n in shown]
                )
            ),
        )


_TEMPLATES_SHOWN = 10
"""LD901 shows one record of each of this many templates (the most frequent)."""


@rule("LD902", Severity.WARNING, "A node's logs have a gap", needs=Needs(kinds=(ANY_KIND,)))
def log_gap(ctx: Context) -> Iterator[Hit]:
    """What:
    Part of a node's log is missing from the bundle: a rotated ssosp file between two that
    are present, or a silence in hours that are busy on the other days the logs cover.

    Why:
    Findings are only as complete as the logs: a fault that happened in the gap is invisible,
    and counts (sign-ins, failures) are too low.

    Detection:
    Per node and family: missing rotation numbers between ssosp files present
    (``ssosp00002.log``, ``ssosp00004.log``), and silences of an hour or more where the same
    hours of another day of the same kind (weekday with weekday, weekend with weekend; up to
    a week away, within the logs) held at least 50 records and the hour before and the hour
    after the silence held at least 20 each (so a night or weekend that is quiet every time
    is no gap).
    Subject: the node and the log family.

    Example:
        2026-11-20 10:00:00,000 INFO  [http-bio-8443-exec-5] oauth.TokenServlet - Refresh grant accepted: user=alice client_id=C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a device=CSFALICE tid=b991221f-f42e-4e52-8871-c876e635dd5b via=-

    Fix:
    1. Collect the logs again with RTMT (Trace & Log Central > Collect Files, services Cisco
       SSO and IPT Platform CertMgr Logs) for the whole period, or with `file get activelog
       tomcat/logs/ssosp/log4j/*.log` on the node.
    2. If the node rotates its logs faster than you collect them, collect more often or raise
       the number of kept files.

    References:
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/unified-communications-manager-callmanager/211351-Collect-Communication-Manager-Logs-via-t.html
    """  # noqa: E501
    for cov in ctx.coverage:
        if not cov.gaps:
            continue
        parts = []
        extra: list[Evidence] = []
        for g in cov.gaps:
            if g.kind == "missing file":
                names = ", ".join(g.missing[:5])
                more = f" and {len(g.missing) - 5} more" if len(g.missing) > 5 else ""
                parts.append(f"missing {names}{more}")
            else:
                parts.append(
                    f"silent for {g.seconds / 3600:.1f} h from {g.start:%Y-%m-%d %H:%M} UTC"
                    f" ({g.expected} records in the same hours of another day)"
                )
            extra += [e for e in (g.before, g.after) if e is not None]
        yield Hit(
            subjects=(cov.node, cov.family),
            message=f"{cov.node} ({cov.family}): {len(cov.gaps)} gap(s): {'; '.join(parts)}.",
            extra=tuple(extra),
        )


@rule(
    "LD903", Severity.WARNING, "Clocks of two nodes disagree", needs=Needs(kinds=INFERRED, nodes=2)
)
def clock_skew(ctx: Context) -> Iterator[Hit]:
    """What:
    One node's clock is off against another's: a token used on one node appears in its log
    before the other node's log says it was issued.

    Why:
    Token expiry and SAML validity checks depend on time; a node whose clock is off refuses
    valid tokens or accepts expired ones, and timelines merged from several nodes are out of
    order (use ``--correct-skew`` to shift them).

    Detection:
    Cross-node links (a token issued on node A and refreshed, validated, rejected or revoked
    on node B; a key regenerated on the publisher and received by a node) bound each pair's
    offset; offsets against the reference node (the publisher, or the best-linked node)
    larger than 2 seconds are reported. Subject: the skewed node and the reference node.

    Example:
        2026-11-20 08:40:00,500 INFO  [http-bio-8443-exec-2] oauth.TokenServlet - Refresh grant accepted: user=ivy client_id=C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a device=CSFIVY tid=b991221f-f42e-4e52-8871-c876e635dd5b via=-

    Fix:
    1. On each node run `utils ntp status`; the publisher must synchronize with a reachable
       NTP server and the subscribers with the publisher.
    2. Fix the NTP configuration (`utils ntp server add`, or the network path to the NTP
       server) and restart NTP.

    References:
    - Cisco Unified Communications Manager Command Line Interface Reference Guide (utils ntp)
    """  # noqa: E501
    report = ctx.skew
    ref = report.reference
    for node, offset in report.skewed():
        pair = next(
            (p for p in report.pairs if {p.a, p.b} == {node, ref} and p.estimate), None
        ) or next((p for p in report.pairs if node in (p.a, p.b) and p.estimate), None)
        ahead = "ahead of" if offset > 0 else "behind"
        yield Hit(
            subjects=(node, str(ref)),
            message=(
                f"{node}'s clock is about {abs(offset):.1f} s {ahead} {ref}'s"
                f" ({'from ' + str(pair.links) + ' cross-node link(s)' if pair else 'derived'}):"
                " lines that must come after others appear before them."
                + (" Times were corrected (--correct-skew)." if ctx.skew_corrected else "")
            ),
            extra=pair.worst if pair else (),
        )


@rule(
    "LD904",
    Severity.WARNING,
    "samltrace debug level left on",
    needs=Needs(kinds=(ANY_KIND,), families=("ssosp",)),
)
def debug_left_on(ctx: Context) -> Iterator[Hit]:
    """What:
    A node's ssosp trace level was set to DEBUG (`set samltrace level debug`) and left there
    for more than a day.

    Why:
    Debug tracing is for a troubleshooting session: left on, it fills the ssosp files so fast
    that the log rotates away the history you will need next time, and it costs disk and CPU.

    Detection:
    A ``trace.level`` line setting DEBUG with no later level change on that node for more
    than 24 hours of logs; without such a line, DEBUG records of the SAML loggers
    (SAMLAuthenticator, SamlLogger, SSOAuthAgentFilter) spanning more than 7 days. Subject:
    the node.

    Example:
        2026-11-20 06:00:00,000 INFO  [main] sso.SSOApp - samltrace level set to DEBUG

    Fix:
    1. On the node run `set samltrace level info` (the command is per node, not
       cluster-wide).
    2. Check with `show samltrace level`.

    References:
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/unified-communications-manager-callmanager/217268-configure-and-troubleshoot-sso-on-cisco.html
    """
    levels = ctx.raw.of("trace.level")
    last_time = ctx.raw.frame.group_by("node").agg(pl.col("time").max().alias("_end"))
    ends = dict(last_time.iter_rows())
    marked = set(levels["node"].to_list())
    for node in sorted(marked):
        rows = levels.filter(pl.col("node") == node)
        last = rows.tail(1)
        if str(last["value"][0] or "").upper() not in _DEBUG:
            continue
        since, end = when(last["time"][0]), when(ends.get(node))
        if since is None or end is None or end - since <= DEBUG_TOO_LONG:
            continue
        days = (end - since).total_seconds() / 86400
        yield Hit(
            subjects=(node,),
            message=(
                f"{node}'s samltrace level has been DEBUG since {since:%Y-%m-%d %H:%M} UTC"
                f" ({days:.1f} days of logs)."
            ),
            rows=last,
        )
    # The logger pattern is matched on the ssosp DEBUG rows only (not on every row).
    frame = ctx.raw.frame
    cheap = pl.arg_where((pl.col("family") == "ssosp") & pl.col("level").is_in(list(_DEBUG)))
    at = frame.select(cheap.cast(pl.UInt32).alias("_at")).to_series()
    keep = (
        frame.select(pl.col("logger").gather(at), at)
        .filter(pl.col("logger").cast(pl.String).str.contains(_SAML_DEBUG_LOGGERS))
        .get_column("_at")
    )
    debug = frame.select(pl.all().gather(keep))
    for node in sorted(set(debug["node"].unique().to_list()) - marked):
        rows = debug.filter(pl.col("node") == node)
        lo, hi = when(rows["time"].min()), when(rows["time"].max())
        if lo is None or hi is None or hi - lo <= DEBUG_SPAN_NO_MARKER:
            continue
        span = hi - lo
        yield Hit(
            subjects=(node,),
            message=(
                f"{node} wrote SAML DEBUG records over {span.days} days: the samltrace level"
                " was left at DEBUG."
            ),
            rows=pl.concat([rows.head(3), rows.tail(3)], how="vertical"),
        )


@rule(
    "LD905",
    Severity.WARNING,
    "Malformed lines or undecodable bytes in a log file",
    needs=Needs(kinds=(ANY_KIND,)),
)
def malformed_lines(ctx: Context) -> Iterator[Hit]:
    """What:
    A log file has more than 10 lines outside any record (before its first timestamped line),
    bytes that are not UTF-8, or records whose timestamp could not be read.

    Why:
    It is a sign of a damaged or truncated file, a file of another format, or a wrong
    ``--tz``: what those lines say is not seen by the rules, and times may be wrong.

    Detection:
    The parse statistics of each file: ``malformed`` above 10, ``decode_errors`` or
    ``bad_timestamps`` above 0. Subject: the node and the file name.

    Example:
        (the first lines of a file, before any timestamped line)
            at com.cisco.ssosp.Truncated.frame(Unknown Source)
            at com.cisco.ssosp.Truncated.frame(Unknown Source)

    Fix:
    1. Collect the file again from the node (RTMT or `file get activelog`), uncompressed
       transfers in binary mode.
    2. Check that the file is the log family logdoctor took it for (`logdoctor stats`).

    References:
    - logdoctor README, "The event table" (malformed lines and counts)
    """
    bad_time = ctx.raw.frame.filter(pl.col("time").is_null())
    for st in ctx.stats:
        if st.error is not None:
            continue
        if st.malformed <= MALFORMED_MAX and not st.decode_errors and not st.bad_timestamps:
            continue
        parts = []
        if st.malformed > MALFORMED_MAX:
            parts.append(f"{st.malformed} line(s) outside any record")
        if st.decode_errors:
            parts.append(f"{st.decode_errors} undecodable byte(s)")
        if st.bad_timestamps:
            parts.append(f"{st.bad_timestamps} record(s) with an unreadable timestamp")
        extra = tuple(
            Evidence(
                node=st.node or "",
                file=st.path,
                line=n,
                time=None,
                kind="malformed",
                excerpt="(a line before the file's first record)",
            )
            for n in st.malformed_lines[:5]
        )
        yield Hit(
            subjects=(_short(st.node, st.path),),
            message=f"{st.path}: {', '.join(parts)}.",
            extra=extra,
            rows=bad_time.filter(pl.col("file") == st.path),
        )


@rule(
    "LD906",
    Severity.INFO,
    "Push-notification token traffic is not Jabber OAuth",
    needs=Needs(kinds=("push.token",)),
)
def push_tokens(ctx: Context) -> Iterator[Hit]:
    """What:
    The logs hold push-notification and cloud-onboarding token traffic (XCPConfigMgr,
    CCMPNServer): lines that say ``refresh_token`` and ``invalid_grant`` but concern UCM's own
    cloud account, not Jabber's OAuth.

    Why:
    These lines are a classic false trail: an error there (table ``machineaccountdetails``,
    CSCvi01660) does not explain a Jabber sign-in problem, and a Jabber problem does not show
    there.

    Detection:
    Records of kind ``push.token``, per node. Subject: the node.

    Example:
        2024-07-16 17:21:43,464 DEBUG [Timer-1382] xmlframework.XCPConfigMgr - FetchAndStoreAccessToken: Calling createAccessToken() with granttype:refresh_token, refreshToken:MTc2YzFh, accessTokenURL proxyUsernamenull

    Fix:
    1. Leave these lines out of a Jabber OAuth investigation.
    2. If push notifications fail, troubleshoot the cloud onboarding instead (Cisco TAC
       222556, APNS 400 Bad Request).

    References:
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/unified-communications-manager-im-presence-service/222556-troubleshoot-apns-400-bad-request-err.html
    """  # noqa: E501
    rows = ctx.raw.of("push.token")
    for node in sorted(rows["node"].unique().to_list()):
        mine = rows.filter(pl.col("node") == node)
        errors = mine.filter(pl.col("level").is_in(["ERROR", "FATAL"])).height
        yield Hit(
            subjects=(node,),
            message=(
                f"{node}: {mine.height} push-notification token record(s)"
                f" ({errors} error(s)); they concern UCM's cloud account, not Jabber OAuth."
            ),
            rows=mine,
        )
