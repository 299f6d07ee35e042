"""The grants: the authorization endpoint (code and implicit) and the token endpoint.

``/ssosp/oauth/authorize`` authenticates the user and answers a code or, with the implicit
grant on, an access token; ``/ssosp/oauth/token`` exchanges a code (``authorization_code``,
with PKCE when the code was asked with a challenge) or a refresh token (``refresh_token``) for
an access token. :meth:`Grants._issue` makes the tokens of every grant, and a refresh token with
the refresh login flow on. Each step writes UCM's line (:mod:`.messages`) through the request's
:class:`~logdoctor.tokenservice.core.Req`.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import (
    Concatenate,
    ParamSpec,
    TypeVar,
    Unpack,
    cast,
)
from urllib.parse import urlsplit

from logdoctor.tokenservice import messages as msg
from logdoctor.tokenservice.authrequest import AuthorizeRequest, LoginAttempt, check_parameters
from logdoctor.tokenservice.core import (
    CLIENT_ID_RE,
    CODE_LIFETIME,
    MAX_NAME,
    Core,
    Req,
    clip,
)
from logdoctor.tokenservice.keys import SigningKey
from logdoctor.tokenservice.lockout import logon_keys
from logdoctor.tokenservice.records import CodeRow, RefreshRow
from logdoctor.tokenservice.results import AuthorizeResult, TokenResponse
from logdoctor.tokenservice.tokens import (
    SCOPE,
    AccessClaims,
    RefreshClaims,
    TokenError,
    digest_hex,
    fingerprint,
    issue_access,
    issue_refresh,
)

__all__ = ["Grants"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


G = TypeVar("G", bound=Core)
P = ParamSpec("P")


def _relayed_grant(
    grant: Callable[Concatenate[G, P], TokenResponse],
) -> Callable[Concatenate[G, P], TokenResponse]:
    """A token-endpoint grant method (keywords ``via`` and ``node``) run through
    :meth:`Core._relay_token`, so that a proxy's relay of it is logged around it."""

    @functools.wraps(grant)
    def relayed(self: G, /, *args: P.args, **kwargs: P.kwargs) -> TokenResponse:
        # Keyword-only parameters of the grant, typed ``str | None`` there.
        via, node = cast(str | None, kwargs.get("via")), cast(str | None, kwargs.get("node"))
        return self._relay_token(via, node, lambda: grant(self, *args, **kwargs))

    return relayed


class Grants(Core):
    """The authorization and token endpoints of the service."""

    # -- authorization endpoint ------------------------------------------------------------------

    def authorize(self, **request: Unpack[AuthorizeRequest]) -> AuthorizeResult:
        """``/ssosp/oauth/authorize``: authenticate the user, then a code or an implicit token.

        Errors in the request itself are answered (400) without redirecting to an unchecked
        URI; authentication failures answer 401 (403 for an inactive user or one without
        access, 429 while the name or the client ``address`` is locked out). The password is
        checked in the calling thread, outside the service lock; the HTTP layer does the same
        in three steps (:meth:`authorize_start`, :attr:`passwords`, :meth:`authorize_finish`).
        """
        name = clip(request.get("username"), MAX_NAME)
        with self.one_at_a_time.hold(name) if name else contextlib.nullcontext():
            attempt = self.authorize_start(**request)
            return self.authorize_finish(attempt, self.passwords.check(attempt.check))

    def authorize_start(self, **request: Unpack[AuthorizeRequest]) -> LoginAttempt:
        """The checks of :meth:`authorize` up to the password: the request, the credentials'
        presence and the lockouts. Returns the password check still to be made."""
        check_parameters(request)
        password = request.get("password")
        with self._op() as now:
            n = self._node(request.get("node"), issuing=True)
            rt, cid = clip(request["response_type"], 64), clip(request["client_id"])
            r = self._req(
                n, now, grant=rt, client_id=cid, user=clip(request.get("username"), MAX_NAME)
            )
            r.via = clip(request.get("via"), 128)
            r.device = clip(request.get("device"), 64)
            r.log("DEBUG", msg.FILTER, msg.SERVLET_AUTHORIZE)
            rt, uri = self._check_authorize(r, request)
            text = msg.authorize_request(
                response_type=rt,
                client_id=cid,
                user=r.user,
                device=r.device,
                agent=clip(request.get("agent"), 200),
                via=r.via,
            )
            r.log("INFO", msg.AUTHZ, text)
            if not r.user or password is None:
                raise self._auth_failed(r, "no_credentials")
            keys = logon_keys("user", r.user, clip(request.get("address"), 64))
            lock, counted = self.lockouts.blocking(now, self._policy(), keys)
            if lock is not None:
                raise self._auth_failed(r, lock.reason, lock=lock)
            user = self.state.users.get(r.user)
            cost = self.state.pw_cost
        # Outside the lock: the first unknown name of a cost makes its dummy hash (scrypt).
        check = self.passwords.prepare(
            user.name if user else None, user.pw_hash if user else None, password, cost
        )
        challenge = request.get("code_challenge")
        return LoginAttempt(r, check, rt, uri, request.get("state"), challenge, keys, counted)

    def _check_authorize(self, r: Req, request: AuthorizeRequest) -> tuple[str, str]:
        """Refuse (400) an authorization request that is malformed or not allowed; else its
        response type and redirect URI."""
        redirect_uri, scope = request["redirect_uri"], request.get("scope")
        challenge, method = request.get("code_challenge"), request.get("code_challenge_method")
        if not r.client_id or not CLIENT_ID_RE.match(r.client_id):
            raise r.authorize_refused(
                400, "invalid_request", "bad_client_id", "client_id is missing or malformed"
            )
        if not redirect_uri or not self._redirect_ok(redirect_uri):
            raise r.authorize_refused(
                400,
                "invalid_request",
                "redirect_uri_not_allowed",
                "redirect_uri is missing or not allowed (loopback URIs, or those of the "
                "enterprise parameter Redirect URIs for Third Party SSO Client)",
            )
        if r.grant not in ("code", "token"):
            raise r.authorize_refused(
                400,
                "unsupported_response_type",
                "unsupported_response_type",
                "response_type must be code or token",
            )
        if r.grant == "token" and self.state.params["implicit_grant"] != "on":
            raise r.authorize_refused(
                400,
                "unsupported_response_type",
                "implicit_disabled",
                "the implicit grant is disabled",
            )
        if scope is not None and scope != SCOPE:
            raise r.authorize_refused(
                400, "invalid_scope", "invalid_scope", f"scope must be {SCOPE}"
            )
        if challenge is not None and (method != "S256" or not 43 <= len(challenge) <= 128):
            raise r.authorize_refused(
                400, "invalid_request", "bad_code_challenge", "code_challenge must be S256"
            )
        return r.grant, redirect_uri

    def _redirect_ok(self, uri: str) -> bool:
        if len(uri) > 2048 or not uri.isprintable() or " " in uri or "#" in uri:
            return False
        if uri in self.state.params["redirect_uris"].split(","):
            return True
        try:
            parts = urlsplit(uri)
            host = parts.hostname or ""
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and host in _LOOPBACK

    def authorize_finish(self, attempt: LoginAttempt, password_ok: bool) -> AuthorizeResult:
        """The rest of :meth:`authorize` once the password was checked: count a failure (and
        a lockout) or issue the code or implicit token."""
        with self._op() as now:
            r = attempt.req
            r.now = now
            check = attempt.check
            user = self.state.users.get(check.user) if check.user is not None else None
            if user is None or user.pw_hash != check.stored:
                password_ok = False  # unknown, or removed or given a new password meanwhile
            if not password_ok or user is None:
                reason = "bad_password" if check.user is not None else "unknown_user"
                error = self._auth_failed(r, reason)
                self._logon_failed(r, msg.AUTHZ, attempt.keys, now)
                raise error
            if ("user", user.name) in attempt.counted:
                self._logon_succeeded("user", user.name)
            if not user.active:
                raise self._auth_failed(r, "inactive_user", 403)
            r.log("INFO", msg.AUTHZ, msg.user_authenticated(user=user.name, via=r.via))
            if not self.has_access(user):
                raise r.authorize_refused(
                    403, "access_denied", "no_access", "the user has no access to this resource"
                )
            cid = r.client_id or ""
            if attempt.response_type == "token":
                with self.store.tx() as db:
                    self.store.touch_client(db, cid, now)
                resp = self._issue(r, user.name, "implicit", with_refresh=False)
                return AuthorizeResult(attempt.redirect_uri, attempt.state, token=resp)
            code = self._secret()
            row = CodeRow(
                user.name,
                cid,
                attempt.redirect_uri,
                r.device or "",
                now + CODE_LIFETIME,
                attempt.code_challenge or "",
                False,
                r.node.name,
            )
            with self.store.tx() as db:
                self.store.touch_client(db, cid, now)
                self.store.add_code(db, digest_hex(code), row)
            text = msg.code_issued(
                user=user.name, client_id=cid, device=r.device, code=fingerprint(code), via=r.via
            )
            r.log("INFO", msg.AUTHZ, text)
            return AuthorizeResult(attempt.redirect_uri, attempt.state, code=code)

    # -- token endpoint --------------------------------------------------------------------------

    def _issue(
        self, r: Req, user: str, grant: str, *, with_refresh: bool, code: str | None = None
    ) -> TokenResponse:
        """Issue an access token (and a refresh token, with the refresh flow on); ``code`` is
        the hash of the authorization code being exchanged, if any."""
        s = self.state
        ring = self._node_ring(r.node)
        t = int(r.now + r.node.clock_offset)
        cid = r.client_id or ""
        device = r.device or ""
        minutes = int(s.params["access_token_expiry_minutes"])
        claims = AccessClaims(
            iss=s.uuid,
            sub=user,
            client_id=cid,
            scope=SCOPE,
            iat=t,
            exp=t + minutes * 60,
            jti=self._uuid(),
            cluster=s.cluster,
            device=device,
        )
        access = issue_access(claims, ring.signing, ring.encryption)
        text = msg.access_token_issued(
            user=user,
            client_id=cid,
            device=device,
            grant=grant,
            jti=claims.jti,
            kid=access.kid,
            expires_in=minutes * 60,
            via=r.via,
        )
        r.log("INFO", msg.TOKEN, text)
        resp = TokenResponse(access, minutes * 60)
        if with_refresh and self._flow_on():
            resp.refresh_token = self._issue_refresh(r, user, ring.signing, t, access.kid, code)
        return resp

    def _issue_refresh(
        self, r: Req, user: str, key: SigningKey, t: int, kid: str, code: str | None
    ) -> str:
        """Issue and store a refresh token (made at node time ``t``, logged with the ``kid`` of
        its access token); if the code it is for was used again meanwhile, revoke it at once."""
        s = self.state
        cid, device = r.client_id or "", r.device or ""
        days = int(s.params["refresh_token_expiry_days"])
        tid = self._uuid()
        rc = RefreshClaims(exp=t + days * 86400, iss=s.uuid, tid=tid, ccid=cid)
        token = issue_refresh(rc, key)
        row = RefreshRow(digest_hex(token), tid, user, cid, device, t, rc.exp, "active", None, code)
        with self.store.tx() as db:
            self.store.add_refresh(db, row)
            # Another process may have seen this code used again since we took it.
            reused = code is not None and self.store.code_reused(db, code)
            revoked = (
                self.store.revoke_refresh(db, r.now, "code_reused", code=code) if reused else []
            )
        text = msg.refresh_token_issued(
            user=user,
            client_id=cid,
            device=device,
            tid=tid,
            kid=kid,
            expires_in=days * 86400,
            via=r.via,
        )
        r.log("INFO", msg.TOKEN, text)
        for gone in revoked:
            self._log_revoked(r, gone, "code_reused")
        return token

    def token_request(
        self, form: Mapping[str, str], *, via: str | None = None, node: str | None = None
    ) -> TokenResponse:
        """``POST /ssosp/oauth/token`` with a form: dispatches on ``grant_type``."""
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self.exchange_code(
                code=form.get("code"),
                client_id=form.get("client_id"),
                redirect_uri=form.get("redirect_uri"),
                code_verifier=form.get("code_verifier"),
                via=via,
                node=node,
            )
        if grant == "refresh_token":
            return self.refresh(
                refresh_token=form.get("refresh_token"),
                client_id=form.get("client_id"),
                via=via,
                node=node,
            )
        with self._op() as now:
            r = self._req(self._node(node, issuing=True), now, grant=clip(grant, 64))
            r.client_id, r.via = clip(form.get("client_id")), clip(via, 128)
            raise r.token_refused(
                "unsupported_grant_type",
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            )

    @_relayed_grant
    def exchange_code(
        self,
        *,
        code: str | None,
        client_id: str | None,
        redirect_uri: str | None,
        code_verifier: str | None = None,
        via: str | None = None,
        node: str | None = None,
    ) -> TokenResponse:
        """``grant_type=authorization_code``: a code for an access (and refresh) token."""
        with self._op() as now:
            r = self._req(self._node(node, issuing=True), now, grant="authorization_code")
            r.client_id, r.via = clip(client_id), clip(via, 128)
            r.log("DEBUG", msg.FILTER, msg.SERVLET_TOKEN)
            if not code or not r.client_id or not redirect_uri or len(code) > 512:
                raise r.token_refused(
                    "invalid_request",
                    "missing_parameter",
                    "code, client_id and redirect_uri are required",
                )
            ch = digest_hex(code)
            with self.store.tx() as db:
                row = self.store.take_code(db, ch)
                # RFC 6749 4.1.2: a code used twice revokes what it was exchanged for.
                reused = row is not None and row.used
                revoked = (
                    self.store.revoke_refresh(db, now, "code_reused", code=ch) if reused else []
                )
            if row is None:
                raise r.token_refused("invalid_grant", "invalid_code", "unknown code")
            r.user, r.device = row.user, row.device
            if row.used:
                error = r.token_refused("invalid_grant", "code_reused", "code already used")
                for gone in revoked:
                    self._log_revoked(r, gone, "code_reused")
                raise error
            if now >= row.expires:
                raise r.token_refused("invalid_grant", "code_expired", "code expired")
            if row.client_id != r.client_id:
                raise r.token_refused("invalid_grant", "client_mismatch", "another client's code")
            if row.redirect_uri != redirect_uri:
                raise r.token_refused("invalid_grant", "redirect_mismatch", "redirect_uri differs")
            if row.challenge and not (
                code_verifier is not None
                and hmac.compare_digest(_pkce_s256(code_verifier), row.challenge)
            ):
                raise r.token_refused("invalid_grant", "pkce_failed", "code_verifier is wrong")
            user = self._user_refusal(r)
            return self._issue(r, user.name, "authorization_code", with_refresh=True, code=ch)

    @_relayed_grant
    def refresh(
        self,
        *,
        refresh_token: str | None,
        client_id: str | None,
        via: str | None = None,
        node: str | None = None,
    ) -> TokenResponse:
        """``grant_type=refresh_token``: a new access token for a valid refresh token.

        With the refresh login flow disabled the grant is refused (``refresh_disabled``); the
        log line still names the user and tid when the token verifies, to show who keeps trying.
        """
        with self._op() as now:
            n = self._node(node, issuing=True)
            r = self._req(n, now, grant="refresh_token")
            r.client_id, r.via = clip(client_id), clip(via, 128)
            r.log("DEBUG", msg.FILTER, msg.SERVLET_TOKEN)
            if not refresh_token or not r.client_id:
                raise r.token_refused(
                    "invalid_request",
                    "missing_parameter",
                    "refresh_token and client_id are required",
                )
            claims: RefreshClaims | None = None
            error: TokenError | None = None
            try:
                claims = self.verifier.verify_refresh(
                    refresh_token, self._node_ring(n), now + n.clock_offset
                )
            except TokenError as exc:
                error = exc
                if isinstance(exc.claims, RefreshClaims):
                    r.tid = exc.claims.tid
            row = self.store.refresh_by_index(digest_hex(refresh_token)) if error is None else None
            if claims is not None:
                r.tid = claims.tid
            if row is not None:
                r.user, r.device = row.user, row.device
            if not self._flow_on():
                raise r.token_refused(
                    "invalid_grant", "refresh_disabled", "the refresh login flow is disabled"
                )
            if error is not None:
                reason = error.reason.value
                raise r.token_refused("invalid_grant", reason, f"refresh token refused: {reason}")
            assert claims is not None
            if claims.ccid != r.client_id:
                raise r.token_refused("invalid_grant", "client_mismatch", "another client's token")
            if row is None or row.state != "active":
                raise r.token_refused("invalid_grant", "revoked", "refresh token revoked")
            user = self._user_refusal(r)
            text = msg.refresh_accepted(
                user=user.name, client_id=r.client_id, device=r.device, tid=r.tid, via=r.via
            )
            r.log("INFO", msg.TOKEN, text)
            return self._issue(r, user.name, "refresh_token", with_refresh=False)


def _pkce_s256(verifier: str) -> str:
    """RFC 7636 S256: what a code verifier's challenge is."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
