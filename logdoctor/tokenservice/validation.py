"""Validation and revocation: what resource servers and administrators ask of tokens.

:meth:`Validation.introspect` is a resource server checking an access token with the keys its
validating service has loaded (the seed's four checks, in its order); :meth:`Validation.revoke`
is UCM's revoke API (``/ssosp/token/revoke``), which an administrator calls to revoke a user's
refresh tokens. Each writes UCM's lines (:mod:`.messages`).
"""

from __future__ import annotations

from logdoctor.tokenservice import messages as msg
from logdoctor.tokenservice.core import MAX_NAME, Core, Req, clip
from logdoctor.tokenservice.errors import OAuthError
from logdoctor.tokenservice.lockout import Key, logon_keys
from logdoctor.tokenservice.results import Introspection, RevokeResult
from logdoctor.tokenservice.tokens import AccessClaims, AccessToken, Reason, TokenError
from logdoctor.tokenservice.verify import peek_kid

__all__ = ["Validation"]


class Validation(Core):
    """Token introspection at a resource server, and the revoke API."""

    def introspect(self, token: str | AccessToken, *, server: str | None = None) -> Introspection:
        """Validate an access token at ``server`` (default: the publisher) with its own keys.

        The seed's four checks, in order: the signature verifies; the token decrypts and its
        claims verify (type, issuer, times); the user is active; the user has access. A
        :class:`AccessToken` handle (in process only) is checked without its bytes, with the
        same result (see :meth:`TokenVerifier.check_handle`).
        """
        with self._op() as now:
            n = self._node(server)
            r = self._req(n, now)
            ring = self._validator_ring(n)
            t = now + n.clock_offset
            is_handle = isinstance(token, AccessToken)
            try:
                if isinstance(token, AccessToken):
                    claims = self.verifier.check_handle(token, ring, t)
                else:
                    claims = self.verifier.verify_access(token, ring, t)
                user = self.state.users.get(claims.sub)
                if user is None or not user.active:
                    raise TokenError(Reason.INACTIVE_USER, "user is not active", claims=claims)
                if not self.has_access(user):
                    raise TokenError(Reason.NO_ACCESS, "user has no access", claims=claims)
            except TokenError as exc:
                c = exc.claims if isinstance(exc.claims, AccessClaims) else None
                kid = exc.kid
                if kid is None:
                    kid = token.kid if isinstance(token, AccessToken) else peek_kid(token)
                text = msg.validation_failed(
                    server=n.name,
                    check=exc.reason.value,
                    user=c and c.sub,
                    client_id=c and c.client_id,
                    jti=c and c.jti,
                    kid=kid,
                )
                r.log("WARN", msg.VALIDATOR, text)
                return Introspection(False, n.name, exc.reason.value, None)
            if n.trace_level == "debug":
                kid = token.kid if is_handle and isinstance(token, AccessToken) else None
                text = msg.token_validated(
                    server=n.name,
                    user=claims.sub,
                    client_id=claims.client_id,
                    jti=claims.jti,
                    kid=kid or ring.signing_kid,
                )
                r.log("DEBUG", msg.VALIDATOR, text)
            return Introspection(True, n.name, None, claims)

    def revoke(
        self,
        *,
        admin_user: str | None,
        admin_password: str | None,
        user_id: str | None,
        client_id: str | None = None,
        node: str | None = None,
        address: str | None = None,
    ) -> RevokeResult:
        """``/ssosp/token/revoke``: revoke a user's refresh tokens (or one client's).

        The administrator's credentials are compared in constant time; without valid ones the
        call is refused (401) and logged, and counted like an end user's failed logon (against
        the name tried and the client ``address``): a locked name or address is refused (429)
        before its password is compared.
        """
        with self._op() as now:
            r = self._req(self._node(node, issuing=True), now)
            r.log("DEBUG", msg.FILTER, msg.SERVLET_REVOKE)
            who = clip(admin_user, MAX_NAME)
            r.user = who
            keys = logon_keys("admin", who or "", clip(address, 64))
            refusal = self._admin_refusal(r, admin_user, admin_password, keys, now)
            if refusal is not None:
                raise refusal
            uid, cid = clip(user_id, 128), clip(client_id)
            if not uid:
                text = msg.revoke_request(
                    admin=who, user_id=None, client_id=cid, result="missing_user_id", revoked=0
                )
                r.log("WARN", msg.REVOKE, text)
                raise OAuthError(400, "invalid_request", "user_id is required", "missing_parameter")
            with self.store.tx() as db:
                rows = self.store.revoke_refresh(db, now, "revoke_api", uid, cid or None)
                self.store.add_revocation(db, now, who or "", uid, cid or "", len(rows))
            text = msg.revoke_request(
                admin=who, user_id=uid, client_id=cid, result="success", revoked=len(rows)
            )
            r.log("INFO", msg.REVOKE, text)
            for row in rows:
                self._log_revoked(r, row, "revoke_api")
            return RevokeResult(uid, tuple((row.client_id, row.idx) for row in rows))

    def _admin_refusal(
        self,
        r: Req,
        admin_user: str | None,
        admin_password: str | None,
        keys: tuple[Key, ...],
        now: float,
    ) -> OAuthError | None:
        """Check the administrator (``r.user`` is the name tried, clipped): None if the call may
        go on, else the refusal to raise, logged (and counted when the password was wrong)."""
        who = r.user
        if admin_user is None or admin_password is None:
            reason = "no_credentials"
        elif self.admin is None:
            reason = "no_admin_configured"
        else:
            lock, counted = self.lockouts.blocking(now, self._policy(), keys)
            if lock is not None:
                r.log("WARN", msg.REVOKE, msg.revoke_refused(admin=who, reason=lock.reason))
                return lock.error(now)
            if self.admin.check(admin_user, admin_password):
                if ("admin", who or "") in counted:
                    self._logon_succeeded("admin", who or "")
                return None
            reason = "bad_credentials"
        r.log("WARN", msg.REVOKE, msg.revoke_refused(admin=who, reason=reason))
        if reason == "bad_credentials":
            self._logon_failed(r, msg.REVOKE, keys, now)
        return OAuthError(401, "invalid_client", "administrator authentication failed", reason)
