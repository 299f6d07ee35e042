"""2xx, SAML single sign-on: the IdP's certificate, decryption, time and status failures
(LD211 to LD214), read from ssosp."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from logdoctor.model import Severity
from logdoctor.rules.context import Context, Hit
from logdoctor.rules.registry import Needs, rule


def _saml(ctx: Context, kind: str, text: str) -> Iterator[Hit]:
    rows = ctx.events.of(kind)
    for node in sorted(rows["node"].unique().to_list()):
        mine = rows.filter(pl.col("node") == node)
        yield Hit(subjects=(node,), message=f"{node}: {mine.height} time(s) {text}", rows=mine)


@rule(
    "LD211",
    Severity.ERROR,
    "SAML: the IdP signs with a certificate not in its metadata",
    needs=Needs(kinds=("saml.cert.mismatch",), families=("ssosp",)),
)
def saml_cert_mismatch(ctx: Context) -> Iterator[Hit]:
    """What:
    UCM refused SAML responses because the identity provider signed them with a certificate
    that is not the one in the IdP metadata UCM imported.

    Why:
    The IdP's token-signing certificate was renewed (or a second one added) after the
    metadata was imported: every SSO login, and so every OAuth token issued after an SSO
    login, fails.

    Detection:
    ssosp lines "The signing certificate does not match what's defined in the entity
    metadata" (kind ``saml.cert.mismatch``). Subject: the node.

    Example:
        2018-12-26 13:49:59,581 ERROR [http-bio-443-exec-45] authentication.SAMLAuthenticator - Error while processing saml response The signing certificate does not match what's defined in the entity metadata.

    Fix:
    1. Export the identity provider's current federation metadata.
    2. In Cisco Unified CM Administration choose System > SAML Single Sign-On, import the new
       IdP metadata (cluster-wide), and run the SSO test.

    References:
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/unified-communications-manager-callmanager/217268-configure-and-troubleshoot-sso-on-cisco.html
    """  # noqa: E501
    yield from _saml(
        ctx,
        "saml.cert.mismatch",
        "the IdP's signing certificate did not match the imported IdP metadata.",
    )


@rule(
    "LD212",
    Severity.ERROR,
    "SAML: failed to decrypt the secret key (SP certificate changed)",
    needs=Needs(kinds=("saml.decrypt.failed",), families=("ssosp",)),
)
def saml_decrypt_failed(ctx: Context) -> Iterator[Hit]:
    """What:
    UCM could not decrypt the assertion's secret key: the IdP encrypts assertions for an SP
    certificate UCM no longer has, typically after the Tomcat certificate was renewed or
    regenerated.

    Why:
    SSO logins fail on the node (and cluster-wide SSO on all nodes when the multi-server
    certificate changed) until the IdP has the new SP metadata.

    Detection:
    ssosp lines "Failed to decrypt the secret key" (kind ``saml.decrypt.failed``). Subject:
    the node.

    Example:
        2026-01-10 06:06:31,274 ERROR [http-nio-81-exec-157]  cpi.sso.saml.sp.security.authentication.SAMLAuthenticator - Error while processing saml response Failed to decrypt the secret key.

    Fix:
    1. In Cisco Unified CM Administration choose System > SAML Single Sign-On and export the
       SP metadata again (it carries the current Tomcat certificate).
    2. Update the relying party trust on the identity provider with that metadata.
    3. Restart Cisco Tomcat (and on UCM 14/15 the Cisco HAProxy service) if the certificate
       was just renewed, then run the SSO test.

    References:
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/unified-communications-manager-version-15/225746-troubleshoot-common-issues-with.html
    """  # noqa: E501
    yield from _saml(
        ctx,
        "saml.decrypt.failed",
        "UCM failed to decrypt the assertion's secret key (the IdP encrypts for an old SP"
        " certificate).",
    )


@rule(
    "LD213",
    Severity.ERROR,
    "SAML: assertion outside its validity time (clock skew with IdP)",
    needs=Needs(kinds=("saml.time.invalid",), families=("ssosp",)),
)
def saml_time_invalid(ctx: Context) -> Iterator[Hit]:
    """What:
    UCM refused SAML assertions whose validity window did not include UCM's current time:
    the clocks of UCM and the identity provider disagree.

    Why:
    Assertions are valid for a short window; a node whose clock is off by minutes (NTP not
    working) refuses every SSO login.

    Detection:
    ssosp lines ``Time Valid?:false`` (kind ``saml.time.invalid``). Subject: the node.

    Example:
        2021-04-30 09:01:04,090 DEBUG [http-bio-8443-exec-85] authentication.SAMLAuthenticator - Time Valid?:false

    Fix:
    1. On the node run `utils ntp status` and check that it synchronizes with a reachable NTP
       server; fix NTP on the UCM publisher (subscribers follow it).
    2. Check the identity provider's clock too.
    3. Run the SSO test again.

    References:
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/unified-communications-manager-callmanager/217268-configure-and-troubleshoot-sso-on-cisco.html
    """  # noqa: E501
    yield from _saml(
        ctx,
        "saml.time.invalid",
        "a SAML assertion failed the time check (Time Valid?:false): UCM's and the IdP's"
        " clocks disagree.",
    )


@rule(
    "LD214",
    Severity.ERROR,
    "SAML: the IdP answered with an error status",
    needs=Needs(kinds=("saml.status.invalid",), families=("ssosp",)),
)
def saml_status_invalid(ctx: Context) -> Iterator[Hit]:
    """What:
    The identity provider answered UCM's authentication request with a non-success status.

    Why:
    The IdP refused the login (claim rules missing the uid attribute, relying party trust
    misconfigured, user not allowed): no SSO login succeeds for the users concerned.

    Detection:
    ssosp lines "Invalid Status code in Response" (kind ``saml.status.invalid``). Subject:
    the node.

    Example:
        2021-04-30 09:05:00,001 ERROR [http-bio-8443-exec-7] authentication.SAMLAuthenticator - Error while processing saml response Invalid Status code in Response. This may be caused by a configuration error in the IDP.

    Fix:
    1. Check the identity provider's logs for the refused request.
    2. Check the relying party trust for UCM and its claim rules (the NameID / uid claim UCM
       expects).
    3. Run the SSO test again from System > SAML Single Sign-On.

    References:
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/unified-communications-manager-callmanager/217268-configure-and-troubleshoot-sso-on-cisco.html
    """  # noqa: E501
    yield from _saml(
        ctx,
        "saml.status.invalid",
        "the IdP answered with an invalid status code (check its claim rules and logs).",
    )
