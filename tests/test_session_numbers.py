"""Login numbering of :func:`logdoctor.analysis.sessions.sessions` across several users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from logdoctor.analysis.sessions import sessions

_T0 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


def _lines(*rows: tuple[str, str, str, str | None]) -> pl.DataFrame:
    """Session lines (user, device, kind, grant), one second apart, in time order."""
    return pl.DataFrame(
        {
            "time": [_T0 + timedelta(seconds=i) for i in range(len(rows))],
            "user": [r[0] for r in rows],
            "device": [r[1] for r in rows],
            "client_id": ["C1"] * len(rows),
            "kind": [r[2] for r in rows],
            "grant": [r[3] for r in rows],
            "server": [None] * len(rows),
            "token_id": [f"t{i}" for i in range(len(rows))],
            "reason": [None] * len(rows),
        },
        schema_overrides={
            "time": pl.Datetime("us", "UTC"),
            "server": pl.String,
            "reason": pl.String,
        },
    )


def test_each_user_and_device_counts_its_own_logins() -> None:
    # Lines of two users interleave; an access token without a grant cannot tell whether it
    # started a login: it gets no number and the count of the other user is not carried over.
    lines = _lines(
        ("alice", "CSFALICE", "authorize.request", "code"),
        ("bob", "CSFBOB", "token.access.issued", None),
        ("bob", "CSFBOB", "authorize.request", "code"),
        ("alice", "CSFALICE", "token.access.issued", "authorization_code"),
        ("alice", "CSFALICE", "token.access.issued", "implicit"),
        ("bob", "CSFBOB", "token.refreshed", "refresh_token"),
    )
    got = sessions(lines).select("user", "session", "access_tokens", "refreshes", "ended_by")
    assert got.rows() == [
        ("alice", 1, 1, 0, "relogin"),  # the authorize request and the code's access token
        ("bob", None, 1, 0, "relogin"),
        ("bob", 1, 0, 1, "open"),
        ("alice", 2, 1, 0, "open"),  # an implicit grant not after a request: a new login
    ]


def test_no_session_line_numbers_nothing() -> None:
    """The numbering of no line is an empty column (it raised building a column of -1 rows)."""
    from logdoctor.analysis.sessions import _number_sessions, _session_lines

    none = _session_lines(_lines().head(0))
    numbered = _number_sessions(none)
    assert numbered.height == 0 and numbered.schema["session"] == pl.Int64
