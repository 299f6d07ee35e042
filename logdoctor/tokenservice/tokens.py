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
then the signature, then decrypts, then checks every claim (type, issuer, times)
(:mod:`.verify`). Each refusal is a :class:`TokenError` with one :class:`Reason`.

Access tokens are made lazily: :func:`issue_access` returns an :class:`AccessToken` whose claims,
``jti`` and ``kid`` are fixed at once (the logs need only those) and whose compact form is signed
and encrypted the first time :attr:`AccessToken.compact` is read, with the keys of the moment it
was issued. A simulation that never hands a token to anyone never pays for the RSA signature;
anything that leaves the process (an HTTP answer) reads ``compact`` and gets a real token.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers.modes import CBC
from cryptography.hazmat.primitives.hashes import SHA256

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
    "digest_hex",
    "fingerprint",
    "issue_access",
    "issue_refresh",
]

MAX_TOKEN_BYTES = 8192
"""Tokens longer than this are refused before any parsing (UCM's are about 1.3 KB)."""
SCOPE = "UnifiedCommunications:readwrite"


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
    mac = key.mac.copy()
    mac.update(aad + iv + ct + al)
    tag = mac.finalize()[:16]
    inner = b".".join((aad, b"", _b64(iv), _b64(ct), _b64(tag)))
    return _jws(kid, b'{"private":"' + inner + b'"}', tok._signing)


def _jws(kid: str, payload: bytes, key: SigningKey) -> str:
    """The compact JWS (RS256, header ``alg``, ``typ``, ``kid``) of ``payload``."""
    signing_input = _jws_head(kid) + b"." + _b64(payload)
    signature = key.private.sign(signing_input, PKCS1v15(), SHA256())
    return (signing_input + b"." + _b64(signature)).decode("ascii")


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64(data: bytes) -> bytes:
    """Base64url without padding (``base64.urlsafe_b64encode`` minus its two Python calls)."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")


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


_COMPACT = json.JSONEncoder(separators=(",", ":"))
"""What ``json.dumps(obj, separators=(",", ":"))`` uses, made once (not per call)."""


def _dumps(obj: dict[str, Any]) -> bytes:
    return _COMPACT.encode(obj).encode()
