"""Tokens: shape, and every refusal with its own reason (the security tests of issue 3)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random

import pytest
from cryptography.hazmat.primitives import serialization
from joserfc import jwe, jws

from logdoctor.tokenservice.keys import (
    generate_encryption_key,
    generate_signing_key,
    load_signing_key,
)
from logdoctor.tokenservice.tokens import (
    MAX_TOKEN_BYTES,
    SCOPE,
    AccessClaims,
    Keyring,
    Reason,
    RefreshClaims,
    TokenError,
    issue_access,
    issue_refresh,
)
from logdoctor.tokenservice.verify import TokenVerifier

ISS = "8d0d5324-f4f0-4b0b-811e-4a59fdb6b722"
NOW = 1_795_161_600
CID = "C" + "ab" * 32


@pytest.fixture(scope="module")
def ring() -> Keyring:
    return Keyring(ISS, generate_signing_key(1), generate_encryption_key(1))


@pytest.fixture(scope="module")
def other_ring() -> Keyring:
    return Keyring(ISS, generate_signing_key(2), generate_encryption_key(2))


def claims(iat: int = NOW, life: int = 3600, sub: str = "alice") -> AccessClaims:
    return AccessClaims(ISS, sub, CID, SCOPE, iat, iat + life, "jti-1", "StandAloneCluster", "CSF1")


def b64(obj: object) -> str:
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(part: str) -> dict[str, object]:
    out = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    assert isinstance(out, dict)
    return out


def refuse(token: str, ring: Keyring, now: float = NOW, *, refresh: bool = False) -> TokenError:
    v = TokenVerifier()
    with pytest.raises(TokenError) as info:
        if refresh:
            v.verify_refresh(token, ring, now)
        else:
            v.verify_access(token, ring, now)
    return info.value


# -- shape -----------------------------------------------------------------------------------------


def test_access_token_is_jws_over_private_jwe_as_ucm_makes_it(ring: Keyring) -> None:
    tok = issue_access(claims(), ring.signing, ring.encryption).compact
    h, p, _ = tok.split(".")
    assert unb64(h) == {"alg": "RS256", "typ": "JWT", "kid": f"{ISS}:{ring.signing.checksum}"}
    payload = unb64(p)
    assert list(payload) == ["private"]
    inner = str(payload["private"])
    assert len(inner.split(".")) == 5 and inner.split(".")[1] == ""  # dir: no encrypted key
    assert unb64(inner.split(".")[0]) == {
        "alg": "dir",
        "enc": "A128CBC-HS256",
        "cty": "JWT",
        "kid": f"{ISS}:{ring.encryption.checksum}",
    }
    assert "alice" not in base64.urlsafe_b64decode(p + "==").decode()  # claims are encrypted
    got = TokenVerifier().verify_access(tok, ring, NOW + 10)
    assert got == claims()


def test_refresh_token_payload_is_exactly_ucms(ring: Keyring) -> None:
    rc = RefreshClaims(
        exp=NOW + 86400, iss=ISS, tid="b991221f-f42e-4e52-8871-c876e635dd5b", ccid=CID
    )
    tok = issue_refresh(rc, ring.signing)
    h, p, _ = tok.split(".")
    assert unb64(h)["kid"] == f"{ISS}:{ring.signing.checksum}"
    assert unb64(p) == {
        "exp": NOW + 86400,
        "iss": ISS,
        "typ": "user",
        "tid": rc.tid,
        "ctyp": "refresh",
        "ccid": CID,
    }
    assert TokenVerifier().verify_refresh(tok, ring, NOW) == rc


def test_lazy_access_token_is_minted_once(ring: Keyring) -> None:
    t = issue_access(claims(), ring.signing, ring.encryption)
    assert t.compact is t.compact
    assert t.compact.count(".") == 2 and "jti-1" in repr(t) and t.compact not in repr(t)


def _joserfc_access(c: AccessClaims, ring: Keyring) -> str:
    """An access token as joserfc makes it (the service mints without joserfc's layers)."""
    inner = jwe.encrypt_compact(
        {"alg": "dir", "enc": "A128CBC-HS256", "cty": "JWT", "kid": ring.encryption_kid},
        json.dumps(c.to_json(), separators=(",", ":")).encode(),
        ring.encryption.jwk,
        algorithms=["dir", "A128CBC-HS256"],
    )
    return jws.serialize_compact(
        {"alg": "RS256", "typ": "JWT", "kid": ring.signing_kid},
        json.dumps({"private": inner}, separators=(",", ":")).encode(),
        ring.signing.jwk,
        algorithms=["RS256"],
    )


def test_access_token_is_byte_for_byte_joserfcs(
    ring: Keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same claims, keys and IV: the same token as joserfc's JWE inside its JWS (RS256 PKCS#1
    v1.5 signatures are deterministic), so the direct mint is the standard construction."""
    from joserfc._rfc7516.models import JWEEncModel

    from logdoctor.tokenservice import tokens

    iv = bytes(range(16))
    for sub in ("alice", "bob-with-a-longer-name-é", "x" * 200):  # several paddings
        c = claims(sub=sub)
        tok = issue_access(c, ring.signing, ring.encryption)
        ours = tokens._mint_access(c, tok.kid, tok.encryption_kid, tok, iv)
        monkeypatch.setattr(JWEEncModel, "generate_iv", lambda self: iv)
        assert ours == _joserfc_access(c, ring)
        monkeypatch.undo()
    assert tokens._mint_access(c, tok.kid, tok.encryption_kid, tok, iv) != tok.compact  # IV
    assert TokenVerifier().verify_access(tok.compact, ring, NOW) == c


def test_access_tokens_get_fresh_ivs(ring: Keyring) -> None:
    a, b = (issue_access(claims(), ring.signing, ring.encryption).compact for _ in range(2))
    iv_a, iv_b = (unb64_raw(t) for t in (a, b))
    assert a != b and iv_a != iv_b and len(iv_a) == 16


def unb64_raw(token: str) -> bytes:
    """The JWE IV inside an access token."""
    private = unb64(token.split(".")[1])["private"]
    assert isinstance(private, str)
    iv = private.split(".")[2]
    return base64.urlsafe_b64decode(iv + "=" * (-len(iv) % 4))


def test_refresh_token_is_byte_for_byte_joserfcs(ring: Keyring) -> None:
    rc = RefreshClaims(exp=NOW + 86400, iss=ISS, tid="tid-1", ccid=CID)
    payload = {"exp": rc.exp, "iss": ISS, "typ": "user", "tid": "tid-1", "ctyp": "refresh"}
    payload["ccid"] = CID
    theirs = jws.serialize_compact(
        {"alg": "RS256", "typ": "JWT", "kid": ring.signing_kid},
        json.dumps(payload, separators=(",", ":")).encode(),
        ring.signing.jwk,
        algorithms=["RS256"],
    )
    assert issue_refresh(rc, ring.signing) == theirs


def test_deterministic_keys_from_a_seed() -> None:
    a = generate_signing_key(1, random.Random(5))
    b = generate_signing_key(1, random.Random(5))
    c = generate_signing_key(1, random.Random(6))
    assert a.checksum == b.checksum != c.checksum
    priv = serialization.load_der_private_key(a.material, None)
    assert priv.key_size == 2048  # type: ignore[union-attr]
    assert load_signing_key(1, a.material).checksum == a.checksum
    e1, e2 = (
        generate_encryption_key(1, random.Random(5)),
        generate_encryption_key(1, random.Random(5)),
    )
    assert e1.material == e2.material and len(e1.material) == 32


# -- refusals ------------------------------------------------------------------------------------


def test_alg_none_is_refused_as_signature(ring: Keyring) -> None:
    tok = issue_access(claims(), ring.signing, ring.encryption).compact
    _, p, _ = tok.split(".")
    forged = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': ring.signing_kid})}.{p}."
    assert refuse(forged, ring).reason is Reason.SIGNATURE
    assert "none" in refuse(forged, ring).detail


def test_hs256_signed_with_the_rsa_public_key_is_refused(ring: Keyring) -> None:
    # The classic key-confusion attack: HMAC keyed with the (public) PEM of the RSA key.
    good = issue_access(claims(), ring.signing, ring.encryption).compact
    pem = ring.signing.jwk.as_pem(private=False)
    signing_input = (
        f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': ring.signing_kid})}.{good.split('.')[1]}"
    )
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    err = refuse(forged, ring)
    assert err.reason is Reason.SIGNATURE and "HS256" in err.detail


def test_tampered_payload_fails_the_signature(ring: Keyring) -> None:
    h, p, s = issue_access(claims(), ring.signing, ring.encryption).compact.split(".")
    i = len(p) // 2
    p2 = p[:i] + ("A" if p[i] != "A" else "B") + p[i + 1 :]
    assert refuse(f"{h}.{p2}.{s}", ring).reason is Reason.SIGNATURE


def test_tampered_header_fails_the_signature(ring: Keyring) -> None:
    h, p, s = issue_access(claims(), ring.signing, ring.encryption).compact.split(".")
    hdr = unb64(h)
    hdr["typ"] = "JOSE"  # same alg and kid, different signed bytes
    assert refuse(f"{b64(hdr)}.{p}.{s}", ring).reason is Reason.SIGNATURE
    hdr["x-extra"] = 1  # a header joserfc does not know is refused outright
    assert refuse(f"{b64(hdr)}.{p}.{s}", ring).reason is Reason.MALFORMED


def _resign(ring: Keyring, private: str) -> str:
    return jws.serialize_compact(
        {"alg": "RS256", "typ": "JWT", "kid": ring.signing_kid},
        json.dumps({"private": private}).encode(),
        ring.signing.jwk,
        algorithms=["RS256"],
    )


def test_tampered_ciphertext(ring: Keyring) -> None:
    tok = issue_access(claims(), ring.signing, ring.encryption).compact
    private = str(unb64(tok.split(".")[1])["private"])
    parts = private.split(".")
    ct = parts[3]
    parts[3] = ct[:10] + ("A" if ct[10] != "A" else "B") + ct[11:]
    bad = ".".join(parts)
    # Without the signing key the change breaks the outer signature ...
    h, _, s = tok.split(".")
    assert refuse(f"{h}.{b64({'private': bad})}.{s}", ring).reason is Reason.SIGNATURE
    # ... and even signed by the real key, the JWE's tag does not verify.
    assert refuse(_resign(ring, bad), ring).reason is Reason.DECRYPT


def test_wrong_encryption_key_fails_decrypt(ring: Keyring, other_ring: Keyring) -> None:
    other = issue_access(claims(), ring.signing, other_ring.encryption).compact
    assert refuse(other, ring).reason is Reason.DECRYPT
    # Same kid as ours but the wrong key material: the tag check refuses it.
    private = jwe.encrypt_compact(
        {"alg": "dir", "enc": "A128CBC-HS256", "cty": "JWT", "kid": ring.encryption_kid},
        json.dumps(claims().to_json()).encode(),
        other_ring.encryption.jwk,
        algorithms=["dir", "A128CBC-HS256"],
    )
    assert refuse(_resign(ring, private), ring).reason is Reason.DECRYPT


def test_wrong_kid_is_refused_and_reported(ring: Keyring, other_ring: Keyring) -> None:
    tok = issue_access(claims(), other_ring.signing, other_ring.encryption).compact
    err = refuse(tok, ring)
    assert err.reason is Reason.SIGNATURE and err.kid == other_ring.signing_kid
    # Our kid on a token signed by another key: the signature check refuses it.
    h, p, s = tok.split(".")
    hdr = unb64(h)
    hdr["kid"] = ring.signing_kid
    assert refuse(f"{b64(hdr)}.{p}.{s}", ring).reason is Reason.SIGNATURE


def test_a_remembered_check_still_compares_the_holders_kids(ring: Keyring) -> None:
    """The verifier remembers a signature and a decryption per token and key; a holder of the
    same keys under another issuer (another kid) still refuses the token, as on first sight."""
    v = TokenVerifier()
    other = Keyring("another-cluster", ring.signing, ring.encryption)
    refresh = issue_refresh(RefreshClaims(NOW + 60, ISS, "tid-1", CID), ring.signing)
    access = issue_access(claims(), ring.signing, ring.encryption).compact
    assert v.verify_refresh(refresh, ring, NOW).tid == "tid-1"
    assert v.verify_access(access, ring, NOW).sub == "alice"
    for tok in (refresh, access):
        with pytest.raises(TokenError) as err:
            v.verify_refresh(tok, other, NOW) if tok is refresh else v.verify_access(
                tok, other, NOW
            )
        assert err.value.reason is Reason.SIGNATURE
    # Same issuer, signing key kept, encryption key of another kid: the JWE is refused.
    mixed = Keyring(ISS, ring.signing, generate_encryption_key(7))
    with pytest.raises(TokenError) as err:
        v.verify_access(access, mixed, NOW)
    assert err.value.reason is Reason.DECRYPT
    assert v.verify_access(access, ring, NOW).sub == "alice"


def test_expired_and_not_yet_valid(ring: Keyring) -> None:
    tok = issue_access(claims(), ring.signing, ring.encryption).compact
    v = TokenVerifier(leeway=30)
    assert v.verify_access(tok, ring, NOW + 3600 + 29).sub == "alice"
    assert refuse(tok, ring, NOW + 3600 + 30).reason is Reason.EXPIRED
    assert refuse(tok, ring, NOW - 31).reason is Reason.NOT_YET_VALID
    assert v.verify_access(tok, ring, NOW - 29).sub == "alice"


def test_oversized_token_is_refused_before_parsing(ring: Keyring) -> None:
    big = "x" * (MAX_TOKEN_BYTES + 1)  # not even a JWS: parsing it would say malformed
    assert refuse(big, ring).reason is Reason.OVERSIZED
    assert refuse("x" * 100, ring).reason is Reason.MALFORMED


def test_refresh_token_used_as_access_token_and_the_reverse(ring: Keyring) -> None:
    rt = issue_refresh(RefreshClaims(NOW + 86400, ISS, "tid-1", CID), ring.signing)
    at = issue_access(claims(), ring.signing, ring.encryption).compact
    assert refuse(rt, ring).reason is Reason.WRONG_TYPE
    assert refuse(at, ring, refresh=True).reason is Reason.WRONG_TYPE


def test_refresh_token_expired_and_foreign_issuer(ring: Keyring) -> None:
    rt = issue_refresh(RefreshClaims(NOW + 100, ISS, "tid-1", CID), ring.signing)
    assert refuse(rt, ring, NOW + 200, refresh=True).reason is Reason.EXPIRED
    # Signed by our key, with our kid, but another issuer inside.
    payload = {
        "exp": NOW + 100,
        "iss": "other-uuid",
        "typ": "user",
        "tid": "t",
        "ctyp": "refresh",
        "ccid": CID,
    }
    forged = jws.serialize_compact(
        {"alg": "RS256", "typ": "JWT", "kid": ring.signing_kid},
        json.dumps(payload).encode(),
        ring.signing.jwk,
        algorithms=["RS256"],
    )
    assert refuse(forged, ring, refresh=True).reason is Reason.ISSUER
    # A token of another cluster names that cluster in its kid: refused at the kid check.
    foreign = issue_refresh(RefreshClaims(NOW + 100, "other-uuid", "tid-1", CID), ring.signing)
    assert refuse(foreign, ring, refresh=True).reason is Reason.SIGNATURE


@pytest.mark.parametrize(
    "tamper",
    ["garbage", "a.b", "a.b.c.d", "!!!.e30.sig", f"{b64([1])}.e30.sig"],
)
def test_malformed_inputs(ring: Keyring, tamper: str) -> None:
    assert refuse(tamper, ring).reason is Reason.MALFORMED


def test_handle_check_agrees_with_full_verification(ring: Keyring, other_ring: Keyring) -> None:
    v = TokenVerifier()
    rings = [
        ring,
        other_ring,
        Keyring(ISS, ring.signing, other_ring.encryption),
        Keyring(ISS, other_ring.signing, ring.encryption),
    ]
    for made_with in rings:
        tok = issue_access(claims(), made_with.signing, made_with.encryption)
        for holder in rings:
            for now in (NOW - 100, NOW, NOW + 3599, NOW + 3700):
                try:
                    a: object = v.verify_access(tok.compact, holder, now)
                except TokenError as exc:
                    a = exc.reason
                try:
                    b: object = v.check_handle(tok, holder, now)
                except TokenError as exc:
                    b = exc.reason
                assert a == b, (made_with, holder, now)
