"""Authz keys: the RSA signing key and the 256-bit encryption key, with versions and checksums.

UCM's ``show key authz signing|encryption`` prints a checksum of each key, never the key; a
token's ``kid`` is ``<cluster uuid>:<checksum>`` of the key that signed (JWS) or encrypted (JWE)
it. Here the checksum is SHA-256 over the key material: the PKCS#8 DER of the RSA private key,
or the 32 raw bytes of the symmetric key.

Keys come from the operating system's randomness by default. A simulation that must write the
same bytes on every run passes a seeded :class:`random.Random`; the RSA primes are then found by
a deterministic search (Miller-Rabin with 40 rounds). Such keys are as strong as their seed is
secret: fine for a lab and for sample logs, never for anything real.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.algorithms import AES
from cryptography.hazmat.primitives.hmac import HMAC
from joserfc.jwk import OctKey, RSAKey

from logdoctor.ucm.topology import KeyUse

__all__ = [
    "EncryptionKey",
    "KeyUse",
    "SigningKey",
    "checksum",
    "generate_encryption_key",
    "generate_signing_key",
    "load_encryption_key",
    "load_signing_key",
]

RSA_BITS = 2048
ENC_BYTES = 32
_E = 65537


def checksum(material: bytes) -> str:
    """The 64-hex SHA-256 checksum of key material (what ``key-show`` prints)."""
    return hashlib.sha256(material).hexdigest()


@dataclass(frozen=True)
class SigningKey:
    """An RSA signing key of one version; ``jwk`` is parsed once and reused for every token."""

    version: int
    material: bytes = field(repr=False)
    """PKCS#8 DER of the private key."""
    checksum: str
    jwk: RSAKey = field(repr=False, compare=False)
    private: rsa.RSAPrivateKey = field(repr=False, compare=False)
    """The parsed private key (what signs; ``jwk`` wraps the same object)."""


@dataclass(frozen=True)
class EncryptionKey:
    """A 256-bit symmetric key (A128CBC-HS256 uses 128 bits for AES and 128 for HMAC)."""

    version: int
    material: bytes = field(repr=False)
    checksum: str
    jwk: OctKey = field(repr=False, compare=False)
    aes: AES = field(repr=False, compare=False)
    """The AES-128 key of A128CBC-HS256: the second half of the material (the first half is
    the HMAC-SHA-256 key, RFC 7518 5.2.2.1)."""
    mac: HMAC = field(repr=False, compare=False)
    """HMAC-SHA-256 keyed with the first half of the material, never updated: a tag is made
    with a copy of it (the key schedule made once, not per token)."""


def load_signing_key(version: int, material: bytes) -> SigningKey:
    """Build a :class:`SigningKey` from stored PKCS#8 DER."""
    private = serialization.load_der_private_key(material, password=None)
    if not isinstance(private, rsa.RSAPrivateKey) or private.key_size < RSA_BITS:
        raise ValueError(f"signing key version {version}: not an RSA key of {RSA_BITS}+ bits")
    return SigningKey(version, material, checksum(material), RSAKey.import_key(private), private)


def load_encryption_key(version: int, material: bytes) -> EncryptionKey:
    """Build an :class:`EncryptionKey` from its 32 stored bytes."""
    if len(material) != ENC_BYTES:
        raise ValueError(f"encryption key version {version}: {len(material)} bytes, not 32")
    jwk = OctKey.import_key(material)
    mac = HMAC(material[:16], hashes.SHA256())
    return EncryptionKey(version, material, checksum(material), jwk, AES(material[16:]), mac)


def generate_signing_key(version: int, rng: random.Random | None = None) -> SigningKey:
    """A new RSA-2048 signing key (OS randomness, or a deterministic search from ``rng``)."""
    if rng is None:
        private = rsa.generate_private_key(public_exponent=_E, key_size=RSA_BITS)
    else:
        private = _deterministic_rsa(rng, RSA_BITS)
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return load_signing_key(version, der)


def generate_encryption_key(version: int, rng: random.Random | None = None) -> EncryptionKey:
    """A new 256-bit encryption key."""
    material = secrets.token_bytes(ENC_BYTES) if rng is None else rng.randbytes(ENC_BYTES)
    return load_encryption_key(version, material)


# -- deterministic RSA (labs and sample logs only) -------------------------------------------------

_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))]


def _probable_prime(n: int, rng: random.Random, rounds: int = 40) -> bool:
    for p in _SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        a = rng.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(rng: random.Random, bits: int) -> int:
    while True:
        # Top two bits set so that p*q has exactly 2*bits bits; odd.
        n = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if (n - 1) % _E != 0 and _probable_prime(n, rng):
            return n


def _deterministic_rsa(rng: random.Random, bits: int) -> rsa.RSAPrivateKey:
    while True:
        p = _prime(rng, bits // 2)
        q = _prime(rng, bits // 2)
        if p != q and abs(p - q).bit_length() > bits // 2 - 100:
            break
    if p < q:
        p, q = q, p
    phi = (p - 1) * (q - 1)
    d = pow(_E, -1, phi)
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(_E, p * q),
    )
    return numbers.private_key()
