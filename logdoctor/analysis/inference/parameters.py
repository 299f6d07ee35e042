"""The enterprise parameters as the logs show them: one small function per parameter, in
:data:`PARAMETERS`.

Each looks at what happened after the parameter's last change (when the logs hold one): tokens
issued or grants refused say what the parameter is; the change itself is the fallback.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import polars as pl

from logdoctor.analysis.events import Events
from logdoctor.analysis.inference.fact import Fact, after, last_change, make_fact, on_off

__all__ = ["PARAMETERS", "parameters"]

_CHANGED = "the enterprise parameter was changed to this value"


def _changed_to(param: str, change: pl.DataFrame) -> Fact | None:
    """The value of the last change of an on/off parameter, when it reads as one."""
    if change.height and on_off(change["value"][0]) is not None:
        return make_fact(f"parameters.{param}", "", on_off(change["value"][0]), _CHANGED, change)
    return None


def _seen(param: str, value: bool, reason: str, *rows: pl.DataFrame) -> Fact:
    """A parameter's value shown by log lines (the last change, when it has one, first)."""
    return make_fact(f"parameters.{param}", "", value, reason, pl.concat(rows, how="vertical"))


def _refresh_login_flow(ev: Events) -> Fact | None:
    """On when refresh tokens were issued; else the change; off when refresh grants were
    refused as disabled."""
    change = last_change(ev, "refresh_login_flow")
    t_change = change["time"][0] if change.height else None
    issued = after(ev.of("token.refresh.issued"), t_change)
    disabled = after(ev.grant_refusals.filter(pl.col("reason") == "refresh_disabled"), t_change)
    if issued.height:
        after_change = " after the last change" if t_change else ""
        return _seen(
            "refresh_login_flow", True, "refresh tokens were issued" + after_change, change, issued
        )
    fact = _changed_to("refresh_login_flow", change)
    if fact is None and disabled.height:
        why = "refresh grants were refused because the refresh login flow is disabled"
        return _seen("refresh_login_flow", False, why, disabled)
    return fact


def _implicit_grant(ev: Events) -> Fact | None:
    """On when the last implicit-grant token comes after the last refusal; off when requests
    were refused as disabled; else the change."""
    change = last_change(ev, "implicit_grant")
    t_change = change["time"][0] if change.height else None
    implicit = after(ev.where(["token.access.issued"], pl.col("grant") == "implicit"), t_change)
    refused = after(
        ev.where(["authorize.rejected"], pl.col("reason") == "implicit_disabled"), t_change
    )
    t_imp = implicit["time"].max() if implicit.height else None
    t_ref = refused["time"].max() if refused.height else None
    if implicit.height and (t_ref is None or (t_imp is not None and t_imp >= t_ref)):  # type: ignore[operator]
        why = "access tokens were issued by the implicit grant"
        return _seen("implicit_grant", True, why, change, implicit)
    if refused.height:
        why = "implicit-grant requests were refused because the grant is disabled"
        return _seen("implicit_grant", False, why, change, refused)
    return _changed_to("implicit_grant", change)


def _timer(param: str, kind: str, unit: int, label: str) -> Callable[[Events], Fact | None]:
    """A token lifetime: the most common ``expires_in`` of the last 500 tokens of ``kind``
    (in ``unit`` seconds), else the value of the last change."""

    def infer(ev: Events) -> Fact | None:
        change = last_change(ev, param)
        t_change = change["time"][0] if change.height else None
        known = pl.col("value").is_not_null()
        if t_change is not None:
            known = known & (pl.col("time") >= t_change)
        tokens = ev.where([kind], known, last=500)
        seconds = tokens["value"].cast(pl.String).cast(pl.Int64, strict=False).drop_nulls()
        if seconds.len():
            common = Counter(seconds.to_list()).most_common(1)[0][0]
            rows = tokens.filter(
                pl.col("value").cast(pl.String).cast(pl.Int64, strict=False) == common
            )
            return make_fact(
                f"parameters.{param}",
                "",
                max(1, round(common / unit)),
                f"{label} were issued with expires_in={common} s"
                + (" after the last change" if t_change else ""),
                pl.concat([change, rows], how="vertical"),
            )
        if change.height:
            v = change["value"].cast(pl.String).cast(pl.Int64, strict=False)[0]
            if v is not None:
                return make_fact(f"parameters.{param}", "", int(v), _CHANGED, change)
        return None

    return infer


PARAMETERS: tuple[Callable[[Events], Fact | None], ...] = (
    _refresh_login_flow,
    _implicit_grant,
    _timer("access_token_expiry_minutes", "token.access.issued", 60, "access tokens"),
    _timer("refresh_token_expiry_days", "token.refresh.issued", 86400, "refresh tokens"),
)
"""One function per parameter, in the order their facts are listed."""


def parameters(ev: Events) -> list[Fact]:
    """The facts about the enterprise parameters the logs show."""
    return [f for f in (infer(ev) for infer in PARAMETERS) if f is not None]
