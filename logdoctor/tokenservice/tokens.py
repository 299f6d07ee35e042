"""Tokens shaped as UCM shapes them, checked with joserfc and made with ``cryptography``'s
primitives directly (the bytes joserfc makes, tested against it, without its Python layers: a
refresh grant's CPU is mostly its access token).

* Access token: a JWS (RS256, header ``{"alg","typ":"JWT","kid":"<uuid>:<signing checksum>"}``)
  whose payload is ``{"private": <JWE>}``; the JWE (``dir`` / ``A128CBC-HS256``, ``cty: JWT``,
  ``kid: <uuid>:<encryption checksum>``) holds the claims. Signed outside, encrypted inside.
* Refresh token: a JWS (RS256, same ``kid`` form) with the readable payload
  ``{"exp","iss","typ":"user","tid","ctyp":"refresh","ccid"}``.

Verification pins the algorithms (RS256; dir + A128CBC-HS256), refuses a token longer than
:data:`MAX_TOKEN_BYTES` before parsing it, checks the ``kid`` against the key the verifier holds,
then the signature, then decrypts, then checks every claim (type, issuer, times). Each refusal
is a :class:`TokenError` with one :class:`Reason`.

Access tokens are made lazily: :func:`issue_access` returns an :class:`AccessToken` whose claims,
``jti`` and ``kid`` are fixed at once (the logs need only those) and whose compact form is signed
and encrypted the first time :attr:`AccessToken.compact` is read, with the keys of the moment it
was issued. A simulation that never hands a token to anyone never pays for the RSA signature;
anything that leaves the process (an HTTP answer) reads ``compact`` and gets a real token.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers.modes import CBC
from cryptography.hazmat.primitives.hashes import SHA256
from joserfc import jwe, jws
from joserfc.errors import BadSignatureError, JoseError

from logdoctor.tokenservice.keys import EncryptionKey, SigningKey

__all__ = [
    "MAX_TOKEN_BYTES",
    "SCOPE",
    "AccessClaims",
    "AccessToken",
    "Keyring",
    "Reason",
    "RefreshClaims",
    "TokenError",
    "TokenVerifier",
    "digest_hex",
    "fingerprint",
    "issue_access",
    "issue_refresh",
    "peek_kid",
]

MAX_TOKEN_BYTES = 8192
"""Tokens longer than this are refused before any parsing (UCM's are about 1.3 KB)."""
SCOPE = "UnifiedCommunications:readwrite"
DEFAULT_LEEWAY = 30.0
"""Seconds of clock difference tolerated on ``iat``/``nbf`` and ``exp``."""

_JWS_ALGS = ["RS256"]
_JWE_ALGS = ["dir", "A128CBC-HS256"]
_B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class Reason(StrEnum):
    """Why a token or a grant was refused (the ``reason`` of logs and introspection)."""

    MALFORMED = "malformed"
    OVERSIZED = "oversized"
    SIGNATURE = "signature"
    DECRYPT = "decrypt"
    ISSUER = "issuer"
    WRONG_TYPE = "wrong_type"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    REVOKED = "revoked"
    INACTIVE_USER = "inactive_user"
    NO_ACCESS = "no_access"
    CLIENT_MISMATCH = "client_mismatch"


class TokenError(Exception):
    """A refused token: ``reason`` says which check failed; ``kid`` is the header's, if read."""

    def __init__(
        self,
        reason: Reason,
        detail: str,
        *,
        kid: str | None = None,
        claims: AccessClaims | RefreshClaims | None = None,
    ) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
        self.kid = kid
        self.claims = claims


@dataclass(frozen=True)
class Keyring:
    """The keys one holder (a node, a service, a resource server) validates or issues with."""

    issuer: str
    """The issuing cluster's uuid (``iss``, and the first half of every ``kid``)."""
    signing: SigningKey
    encryption: EncryptionKey

    @property
    def signing_kid(self) -> str:
        """``kid`` of JWSs made with this signing key."""
        return f"{self.issuer}:{self.signing.checksum}"

    @property
    def encryption_kid(self) -> str:
        """``kid`` of JWEs made with this encryption key."""
        return f"{self.issuer}:{self.encryption.checksum}"


@dataclass(frozen=True)
class AccessClaims:
    """The claims inside an access token's JWE."""

    iss: str
    sub: str
    client_id: str
    scope: str
    iat: int
    exp: int
    jti: str
    cluster: str
    device: str

    def to_json(self) -> dict[str, Any]:
        """The claims as they are encrypted (``nbf`` = ``iat``; ``ctyp`` marks the type)."""
        return {
            "iss": self.iss,
            "sub": self.sub,
            "client_id": self.client_id,
            "scope": self.scope,
            "iat": self.iat,
            "nbf": self.iat,
            "exp": self.exp,
            "jti": self.jti,
            "cluster": self.cluster,
            "device": self.device,
            "typ": "user",
            "ctyp": "access",
        }


@dataclass(frozen=True)
class RefreshClaims:
    """The readable payload of a refresh token."""

    exp: int
    iss: str
    tid: str
    ccid: str


_mint_lock = threading.Lock()


class AccessToken:
    """An issued access token: claims and kids now, the signed compact form on first use."""

    __slots__ = ("_compact", "_encryption", "_signing", "claims", "encryption_kid", "kid")

    def __init__(self, claims: AccessClaims, signing: SigningKey, encryption: EncryptionKey):
        self.claims = claims
        self.kid = f"{claims.iss}:{signing.checksum}"
        self.encryption_kid = f"{claims.iss}:{encryption.checksum}"
        self._signing = signing
        self._encryption = encryption
        self._compact: str | None = None

    @property
    def compact(self) -> str:
        """The token as a client gets it (made once, then the same string every time)."""
        if self._compact is None:
            value = _mint_access(self.claims, self.kid, self.encryption_kid, self)
            with _mint_lock:
                if self._compact is None:
                    self._compact = value
        return self._compact

    @property
    def signing_checksum(self) -> str:
        """Checksum of the signing key it was (or will be) signed with."""
        return self._signing.checksum

    @property
    def encryption_checksum(self) -> str:
        """Checksum of the encryption key its claims are encrypted with."""
        return self._encryption.checksum

    def __repr__(self) -> str:  # never the token itself
        return f"AccessToken(jti={self.claims.jti!r}, sub={self.claims.sub!r})"


def _mint_access(
    claims: AccessClaims, kid: str, enc_kid: str, tok: AccessToken, iv: bytes | None = None
) -> str:
    """The compact access token: the claims encrypted (JWE ``dir`` / ``A128CBC-HS256``,
    RFC 7516/7518 5.2.2) inside a JWS (RS256, RFC 7515), with the same bytes joserfc's
    ``encrypt_compact`` and ``serialize_compact`` make (tested against them) for a fraction of
    their Python time; ``iv`` is for those tests only (else 16 random bytes)."""
    key = tok._encryption
    aad = _jwe_head(enc_kid)
    iv = secrets.token_bytes(16) if iv is None else iv
    plain = _dumps(claims.to_json())
    pad = 16 - len(plain) % 16
    encryptor = Cipher(key.aes, CBC(iv)).encryptor()
    ct = encryptor.update(plain + bytes((pad,)) * pad) + encryptor.finalize()
    al = (len(aad) * 8).to_bytes(8, "big")
    tag = hmac.digest(key.material[:16], aad + iv + ct + al, "sha256")[:16]
    inner = b".".join((aad, b"", _b64(iv), _b64(ct), _b64(tag)))
    return _jws(kid, b'{"private":"' + inner + b'"}', tok._signing)


def _jws(kid: str, payload: bytes, key: SigningKey) -> str:
    """The compact JWS (RS256, header ``alg``, ``typ``, ``kid``) of ``payload``."""
    signing_input = _jws_head(kid) + b"." + _b64(payload)
    signature = key.private.sign(signing_input, PKCS1v15(), SHA256())
    return (signing_input + b"." + _b64(signature)).decode("ascii")


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@functools.lru_cache(maxsize=64)
def _jws_head(kid: str) -> bytes:
    """The encoded protected header of an access token's JWS signed with key ``kid``."""
    return _b64(_dumps({"alg": "RS256", "typ": "JWT", "kid": kid}))


@functools.lru_cache(maxsize=64)
def _jwe_head(enc_kid: str) -> bytes:
    """The encoded protected header of an access token's JWE (also its AAD)."""
    return _b64(_dumps({"alg": "dir", "enc": "A128CBC-HS256", "cty": "JWT", "kid": enc_kid}))


def issue_access(
    claims: AccessClaims, signing: SigningKey, encryption: EncryptionKey
) -> AccessToken:
    """Issue an access token (the RSA signature is made when ``compact`` is first read)."""
    return AccessToken(claims, signing, encryption)


def issue_refresh(claims: RefreshClaims, signing: SigningKey) -> str:
    """Issue a refresh token (signed now: its hash is what the store keeps)."""
    payload = {
        "exp": claims.exp,
        "iss": claims.iss,
        "typ": "user",
        "tid": claims.tid,
        "ctyp": "refresh",
        "ccid": claims.ccid,
    }
    return _jws(f"{claims.iss}:{signing.checksum}", _dumps(payload), signing)


def digest_hex(text: str) -> str:
    """SHA-256 of ``text`` (lone surrogates too) in hex: how the service stores codes and
    refresh tokens (never themselves), and compares secrets in constant time."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def fingerprint(token: str) -> str:
    """A short, non-reversible label of a token or code for logs (12 hex of its SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def _dumps(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=False).encode()


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
