"""Reword a simulated bundle's OAuth lines, as if another UCM release wrote them.

The simulator writes ssosp OAuth lines in the wording of logdoctor's built-in format (itself
modelled: no public ssosp OAuth line exists). A real UCM release may say the same things
otherwise. :func:`reword_bundle` rewrites every OAuth message of every ssosp file of a bundle
into another wording (other sentences, other key names, another order, brackets and commas),
keeping each value as written, and leaves every other line alone. It returns the original kind
of each rewritten line, so a test can check what a draft recovers.
"""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Callable
from pathlib import Path

_KV = dict[str, str]


def _authorize(v: _KV) -> str:
    return (
        f"OAuthAuthorizeHandler received request [responseType={v['response_type']}, "
        f"clientId={v['client_id']}, userId={v['user']}, deviceName={v['device']}, "
        f"proxy={v['via']}] userAgent={v['agent']}"
    )


def _authorize_refused(v: _KV) -> str:
    return (
        f"OAuthAuthorizeHandler denied request [responseType={v['response_type']}, "
        f"clientId={v['client_id']}, userId={v['user']}, proxy={v['via']}] "
        f"errorCode={v['error']} cause={v['reason']}"
    )


_WORDING: dict[str, tuple[str, Callable[[_KV], str]]] = {
    "Authorize request": ("authorize.request", _authorize),
    "Authorize request refused": ("authorize.rejected", _authorize_refused),
    "User authenticated": (
        "auth.success",
        lambda v: f"Login OK for userId={v['user']} authMethod={v['method']} proxy={v['via']}",
    ),
    "Authentication failed": (
        "auth.failure",
        lambda v: (
            f"Login FAILED for userId={v['user']} authMethod={v['method']} proxy={v['via']} "
            f"cause={v['reason']}"
        ),
    ),
    "Authorization code issued": (
        "code.issued",
        lambda v: (
            f"Issued authorization code code={v['code']} to clientId={v['client_id']} for "
            f"userId={v['user']} on deviceName={v['device']} proxy={v['via']}"
        ),
    ),
    "Access token issued": (
        "token.access.issued",
        lambda v: (
            f"Issued access token jti={v['jti']} kid={v['kid']} ttl={v['expires_in']} "
            f"grantType={v['grant']} userId={v['user']} clientId={v['client_id']} "
            f"deviceName={v['device']} proxy={v['via']}"
        ),
    ),
    "Refresh token issued": (
        "token.refresh.issued",
        lambda v: (
            f"Issued refresh token refreshTokenId={v['tid']} kid={v['kid']} "
            f"ttl={v['expires_in']} userId={v['user']} clientId={v['client_id']} "
            f"deviceName={v['device']} proxy={v['via']}"
        ),
    ),
    "Refresh grant accepted": (
        "token.refreshed",
        lambda v: (
            f"Refresh grant OK refreshTokenId={v['tid']} userId={v['user']} "
            f"clientId={v['client_id']} deviceName={v['device']} proxy={v['via']}"
        ),
    ),
    "Token request refused": (
        "token.rejected",
        lambda v: (
            f"Token grant DENIED grantType={v['grant']} errorCode={v['error']} "
            f"cause={v['reason']} userId={v['user']} clientId={v['client_id']} "
            f"deviceName={v['device']} refreshTokenId={v['tid']} proxy={v['via']}"
        ),
    ),
    "Token validated": (
        "token.validated",
        lambda v: (
            f"Access token check passed validator={v['server']} userId={v['user']} "
            f"clientId={v['client_id']} jti={v['jti']} kid={v['kid']}"
        ),
    ),
    "Token validation failed": (
        "token.rejected",
        lambda v: (
            f"Access token check FAILED validator={v['server']} check={v['check']} "
            f"userId={v['user']} clientId={v['client_id']} jti={v['jti']} kid={v['kid']}"
        ),
    ),
    "Revoke request": (
        "revoke.request",
        lambda v: (
            f"Revocation requested by administrator admin={v['admin']} for "
            f"userId={v['user_id']} clientId={v['client_id']} outcome={v['result']} "
            f"tokensRevoked={v['revoked']}"
        ),
    ),
    "Revoke request refused": (
        "auth.failure",
        lambda v: f"Revocation refused for administrator admin={v['admin']} cause={v['reason']}",
    ),
    "Refresh token revoked": (
        "token.revoked",
        lambda v: (
            f"Revoked refresh token refreshTokenId={v['tid']} of userId={v['user']} "
            f"clientId={v['client_id']} cause={v['cause']}"
        ),
    ),
    "Purged expired refresh tokens": (
        "token.purged",
        lambda v: f"Expired refresh tokens purged count={v['count']}",
    ),
    "Enterprise parameter changed": (
        "config.changed",
        lambda v: (
            f"Enterprise parameter updated parameter={v['name']} oldValue={v['old']} "
            f"newValue={v['new']}"
        ),
    ),
    "Enterprise parameter change refused": (
        "config.rejected",
        lambda v: (
            f"Enterprise parameter update rejected parameter={v['name']} value={v['value']} "
            f"cause={v['reason']}"
        ),
    ),
    "Authz key loaded": (
        "key.loaded",
        lambda v: (
            f"Loaded authz key keyUse={v['use']} checksum={v['checksum']} "
            f"keyVersion={v['version']} node={v['server']}"
        ),
    ),
    "Authz key regenerated": (
        "key.regenerated",
        lambda v: (
            f"Regenerated authz key keyUse={v['use']} checksum={v['checksum']} "
            f"keyVersion={v['version']}"
        ),
    ),
    "Authz key received from publisher": (
        "key.replicated",
        lambda v: (
            f"Authz key replicated from publisher={v['publisher']} keyUse={v['use']} "
            f"checksum={v['checksum']} keyVersion={v['version']}"
        ),
    ),
}
"""Built-in message prefix -> (the kind it gives, the new wording)."""

OAUTH_KINDS = frozenset(kind for kind, _ in _WORDING.values())
"""The kinds whose every line is reworded (all the token service's ssosp OAuth kinds)."""


def reword_line(line: str) -> tuple[str, str | None]:
    """The line in the new wording and the kind it had, or the line unchanged and None."""
    head, sep, msg = line.partition(" - ")
    if not sep or ": " not in msg:
        return line, None
    prefix, rest = msg.split(": ", 1)
    entry = _WORDING.get(prefix)
    if entry is None:
        return line, None
    kind, wording = entry
    values = dict(tok.split("=", 1) for tok in rest.split() if "=" in tok)
    return f"{head} - {wording(values)}", kind


def _read(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8")


def _write(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)


def reword_bundle(root: Path) -> Counter[str]:
    """Reword every ssosp OAuth line under ``root`` in place; returns the count per old kind."""
    changed: Counter[str] = Counter()
    for path in sorted(root.rglob("ssosp*.log*")):
        out = []
        for line in _read(path).split("\n"):
            new, kind = reword_line(line)
            out.append(new)
            if kind is not None:
                changed[kind] += 1
        _write(path, "\n".join(out))
    return changed
