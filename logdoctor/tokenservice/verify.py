"""Checking compact tokens: a token's ``kid``, signature (RS256), decryption (dir +
A128CBC-HS256, pinned) and every claim, against a :class:`~logdoctor.tokenservice.tokens.Keyring`,
with joserfc. Each refusal is a :class:`~logdoctor.tokenservice.tokens.TokenError`."""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections import OrderedDict
from typing import Any

from joserfc import jwe, jws
from joserfc.errors import BadSignatureError, JoseError

from logdoctor.tokenservice.tokens import (
    MAX_TOKEN_BYTES,
    SCOPE,
    AccessClaims,
    AccessToken,
    Keyring,
    Reason,
    RefreshClaims,
    TokenError,
)

__all__ = ["DEFAULT_LEEWAY", "TokenVerifier", "peek_kid"]

DEFAULT_LEEWAY = 30.0
"""Seconds of clock difference tolerated on ``iat``/``nbf`` and ``exp``."""

_JWS_ALGS = ["RS256"]
_JWE_ALGS = ["dir", "A128CBC-HS256"]
_B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _b64json(part: str, what: str, kid: str | None = None) -> dict[str, Any]:
    if not part or not _B64.issuperset(part.encode("ascii", "replace")):
        raise TokenError(Reason.MALFORMED, f"{what} is not base64url", kid=kid)
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        obj = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise TokenError(Reason.MALFORMED, f"{what} is not JSON", kid=kid) from exc
    if not isinstance(obj, dict):
        raise TokenError(Reason.MALFORMED, f"{what} is not a JSON object", kid=kid)
    return obj


def peek_kid(token: str) -> str | None:
    """The ``kid`` of a compact token's header, unverified (for logs), or None."""
    if len(token) > MAX_TOKEN_BYTES:
        return None
    head = token.split(".", 1)[0]
    try:
        kid = _b64json(head, "header").get("kid")
    except TokenError:
        return None
    return kid[:128] if isinstance(kid, str) else None


def _str(obj: dict[str, Any], name: str, kid: str | None) -> str:
    v = obj.get(name)
    if not isinstance(v, str) or not v or len(v) > 256:
        raise TokenError(Reason.MALFORMED, f"claim {name!r} missing or not a string", kid=kid)
    return v


def _int(obj: dict[str, Any], name: str, kid: str | None) -> int:
    v = obj.get(name)
    if not isinstance(v, int) or isinstance(v, bool):
        raise TokenError(Reason.MALFORMED, f"claim {name!r} missing or not an integer", kid=kid)
    return v


class TokenVerifier:
    """Checks compact tokens against a :class:`Keyring`.

    Successful signature checks and decryptions are remembered (bounded LRU) per token string
    and key pair: the same bytes checked with the same key give the same answer, so a resource
    server that sees a token a hundred times verifies it once. Time and type checks run every
    time.
    """

    def __init__(self, *, leeway: float = DEFAULT_LEEWAY, cache_size: int = 65536) -> None:
        self.leeway = leeway
        self._cache: OrderedDict[tuple[str, str, str], tuple[dict[str, Any], str]] = OrderedDict()
        """(token, signing checksum, encryption checksum or "") -> (verified JWS payload or
        decrypted JWE claims, and the kid they were checked against)."""
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # -- the JWS layer ---------------------------------------------------------------------------

    def _verified_payload(self, token: str, ring: Keyring) -> tuple[dict[str, Any], str]:
        """The payload of a JWS that verifies with the ring's signing key, and its kid."""
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenError(Reason.OVERSIZED, f"{len(token)} bytes > {MAX_TOKEN_BYTES}")
        ck = (token, ring.signing.checksum, "")
        with self._lock:
            hit = self._cache.get(ck)
            if hit is not None:
                self._cache.move_to_end(ck)
        # A hit passed every check below with this key: its header (bytes of the token) gives
        # the same answers, but the issuer in the holder's kid is compared again.
        if hit is not None and hit[1] == ring.signing_kid:
            return hit
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError(Reason.MALFORMED, "not a compact JWS (three parts)")
        header = _b64json(parts[0], "JWS header")
        kid_raw = header.get("kid")
        kid = kid_raw[:128] if isinstance(kid_raw, str) else None
        if header.get("alg") != "RS256":
            raise TokenError(Reason.SIGNATURE, f"alg {header.get('alg')!r} is not RS256", kid=kid)
        if kid != ring.signing_kid:
            raise TokenError(Reason.SIGNATURE, "kid names a key this holder does not have", kid=kid)
        try:
            obj = jws.deserialize_compact(token, ring.signing.jwk, algorithms=_JWS_ALGS)
        except BadSignatureError as exc:
            raise TokenError(Reason.SIGNATURE, "signature does not verify", kid=kid) from exc
        except (JoseError, ValueError, TypeError) as exc:
            raise TokenError(Reason.MALFORMED, f"JWS: {type(exc).__name__}", kid=kid) from exc
        try:
            payload = json.loads(obj.payload)
        except ValueError as exc:
            raise TokenError(Reason.MALFORMED, "payload is not JSON", kid=kid) from exc
        if not isinstance(payload, dict):
            raise TokenError(Reason.MALFORMED, "payload is not a JSON object", kid=kid)
        self._remember(ck, (payload, ring.signing_kid))
        return payload, ring.signing_kid

    def _remember(self, key: tuple[str, str, str], value: tuple[dict[str, Any], str]) -> None:
        with self._lock:
            self._cache[key] = value
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    # -- access tokens ---------------------------------------------------------------------------

    def verify_access(self, token: str, ring: Keyring, now: float) -> AccessClaims:
        """Check an access token fully; return its claims or raise :class:`TokenError`."""
        payload, kid = self._verified_payload(token, ring)
        private = payload.get("private")
        if not isinstance(private, str):
            if payload.get("ctyp") == "refresh":
                raise TokenError(
                    Reason.WRONG_TYPE, "a refresh token is not an access token", kid=kid
                )
            raise TokenError(Reason.MALFORMED, "no 'private' claim", kid=kid)
        ck = (token, ring.signing.checksum, ring.encryption.checksum)
        with self._lock:
            hit = self._cache.get(ck)
        if hit is not None and hit[1] == ring.encryption_kid:
            raw = hit[0]
        else:
            raw = self._decrypt(private, ring, kid)
            self._remember(ck, (raw, ring.encryption_kid))
        claims = self._access_claims(raw, kid)
        self._check_access(claims, ring, now, kid)
        return claims

    def _decrypt(self, private: str, ring: Keyring, kid: str | None) -> dict[str, Any]:
        parts = private.split(".")
        if len(parts) != 5:
            raise TokenError(Reason.DECRYPT, "'private' is not a compact JWE", kid=kid)
        try:
            header = _b64json(parts[0], "JWE header", kid)
        except TokenError as exc:
            raise TokenError(Reason.DECRYPT, exc.detail, kid=kid) from exc
        if header.get("alg") != "dir" or header.get("enc") != "A128CBC-HS256":
            raise TokenError(Reason.DECRYPT, "JWE is not dir / A128CBC-HS256", kid=kid)
        if header.get("kid") != ring.encryption_kid:
            raise TokenError(
                Reason.DECRYPT, "JWE kid names a key this holder does not have", kid=kid
            )
        try:
            obj = jwe.decrypt_compact(private, ring.encryption.jwk, algorithms=_JWE_ALGS)
        except (JoseError, ValueError, TypeError) as exc:
            raise TokenError(Reason.DECRYPT, f"JWE: {type(exc).__name__}", kid=kid) from exc
        try:
            raw = json.loads(obj.plaintext or b"")
        except ValueError as exc:
            raise TokenError(Reason.MALFORMED, "JWE plaintext is not JSON", kid=kid) from exc
        if not isinstance(raw, dict):
            raise TokenError(Reason.MALFORMED, "JWE plaintext is not a JSON object", kid=kid)
        return raw

    @staticmethod
    def _access_claims(raw: dict[str, Any], kid: str | None) -> AccessClaims:
        if raw.get("ctyp") != "access":
            raise TokenError(Reason.WRONG_TYPE, "inner claims are not an access token's", kid=kid)
        device = raw.get("device", "")
        return AccessClaims(
            iss=_str(raw, "iss", kid),
            sub=_str(raw, "sub", kid),
            client_id=_str(raw, "client_id", kid),
            scope=_str(raw, "scope", kid),
            iat=_int(raw, "iat", kid),
            exp=_int(raw, "exp", kid),
            jti=_str(raw, "jti", kid),
            cluster=_str(raw, "cluster", kid),
            device=device if isinstance(device, str) else "",
        )

    def _check_access(self, c: AccessClaims, ring: Keyring, now: float, kid: str | None) -> None:
        if c.iss != ring.issuer:
            raise TokenError(Reason.ISSUER, "iss is not this cluster", kid=kid, claims=c)
        if c.scope != SCOPE:
            raise TokenError(Reason.MALFORMED, "unexpected scope", kid=kid, claims=c)
        if now + self.leeway < c.iat:
            raise TokenError(Reason.NOT_YET_VALID, "issued in the future", kid=kid, claims=c)
        if now >= c.exp + self.leeway:
            raise TokenError(Reason.EXPIRED, "access token expired", kid=kid, claims=c)

    def check_handle(self, tok: AccessToken, ring: Keyring, now: float) -> AccessClaims:
        """Check an in-process :class:`AccessToken` without its bytes.

        Gives the answer :meth:`verify_access` gives for ``tok.compact``: the signature verifies
        iff the holder has the key the token was signed with (keys are named by the checksum of
        their material), likewise for decryption; then the same claim checks. Only for handles
        this process issued; anything that arrives as text goes through :meth:`verify_access`.
        """
        if tok.kid != ring.signing_kid:
            raise TokenError(
                Reason.SIGNATURE, "signed with a key this holder does not have", kid=tok.kid
            )
        if tok.encryption_kid != ring.encryption_kid:
            raise TokenError(
                Reason.DECRYPT, "encrypted with a key this holder does not have", kid=tok.kid
            )
        self._check_access(tok.claims, ring, now, tok.kid)
        return tok.claims

    # -- refresh tokens --------------------------------------------------------------------------

    def verify_refresh(self, token: str, ring: Keyring, now: float) -> RefreshClaims:
        """Check a refresh token's signature and claims (the store then checks its state)."""
        payload, kid = self._verified_payload(token, ring)
        if "private" in payload or payload.get("ctyp") != "refresh":
            if "private" in payload:
                raise TokenError(
                    Reason.WRONG_TYPE, "an access token is not a refresh token", kid=kid
                )
            raise TokenError(Reason.MALFORMED, "ctyp is not refresh", kid=kid)
        if payload.get("typ") != "user":
            raise TokenError(Reason.MALFORMED, "typ is not user", kid=kid)
        claims = RefreshClaims(
            exp=_int(payload, "exp", kid),
            iss=_str(payload, "iss", kid),
            tid=_str(payload, "tid", kid),
            ccid=_str(payload, "ccid", kid),
        )
        if claims.iss != ring.issuer:
            raise TokenError(Reason.ISSUER, "iss is not this cluster", kid=kid, claims=claims)
        if now >= claims.exp + self.leeway:
            raise TokenError(Reason.EXPIRED, "refresh token expired", kid=kid, claims=claims)
        return claims
