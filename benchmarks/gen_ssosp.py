"""Generate a seeded ssosp-style log with a realistic mix of OAuth and SAML records.

About 2 % of the lines are stack-trace continuation lines; users, clients and token ids vary
like a busy cluster's. Used by the parse benchmark; deterministic for a given seed. Lines are
rendered through the templates and ``[writer]`` layout of parsers/ssosp.toml.
"""

from __future__ import annotations

import argparse
import random
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from logdoctor.ingest.formats.encoders import family

SSOSP = family("ssosp")

KID = (
    "8d0d5324-f4f0-4b0b-811e-4a59fdb6b722:"
    "c2770c97bda9d34fd05a7ea1aed3e54ca80bdd7ee35d9703b60b54910bd4484b"
)


def generate(path: Path, lines: int, seed: int = 1) -> int:
    """Write about ``lines`` lines to ``path``; returns the exact number written."""
    rnd = random.Random(seed)
    users = [f"user{i:05d}" for i in range(5000)]
    clients = {u: "C" + f"{rnd.getrandbits(256):064x}" for u in users}
    t = datetime(2026, 11, 2, 7, 0, 0)
    n = 0
    with path.open("w", encoding="utf-8") as out:

        def line(level: str, thread: str, logger: str, msg: str) -> None:
            out.write(SSOSP.line(msg, ts=t, level=level, thread=thread, logger=logger) + "\n")

        while n < lines:
            t += timedelta(milliseconds=rnd.randint(1, 400))
            th = f"http-bio-8443-exec-{rnd.randint(1, 250)}"
            u = rnd.choice(users)
            c = clients[u]
            dev = "CSF" + u.upper()
            r = rnd.random()
            if r < 0.30:
                jti = uuid.UUID(int=rnd.getrandbits(128))
                msg = SSOSP.message(
                    "token.validated", server="imp1", user=u, client_id=c, token_id=jti, key=KID
                )
                line("DEBUG", th, "oauth.TokenValidator", msg)
            elif r < 0.50:
                jti = uuid.UUID(int=rnd.getrandbits(128))
                msg = SSOSP.message(
                    "token.access.issued",
                    user=u,
                    client_id=c,
                    device=dev,
                    grant="refresh_token",
                    token_id=jti,
                    key=KID,
                    value=3600,
                    server=None,
                )
                line("INFO", th, "oauth.TokenServlet", msg)
            elif r < 0.62:
                tid = uuid.UUID(int=rnd.getrandbits(128))
                msg = SSOSP.message(
                    "token.refreshed", user=u, client_id=c, device=dev, token_id=tid, server="expc1"
                )
                line("INFO", th, "oauth.TokenServlet", msg)
            elif r < 0.72:
                line("DEBUG", th, "filter.SSOAuthAgentFilter", "servlet path :/showHome.do")
            elif r < 0.80:
                line("DEBUG", th, "authentication.SAMLAuthenticator", f"userid is ::{u}")
            elif r < 0.86:
                msg = SSOSP.message(
                    "authorize.request",
                    grant="code",
                    client_id=c,
                    user=u,
                    device=dev,
                    agent="Jabber/14.1.0 (Windows)",
                    server=None,
                )
                line("INFO", th, "oauth.AuthorizeServlet", msg)
            elif r < 0.91:
                msg = SSOSP.message("auth.success", user=u, param="password", server=None)
                line("INFO", th, "oauth.AuthorizeServlet", msg)
            elif r < 0.95:
                msg = SSOSP.message(
                    "token.rejected",
                    grant="refresh_token",
                    error="invalid_grant",
                    reason="expired",
                    user=u,
                    client_id=c,
                    device=dev,
                    token_id=None,
                    server="expc1",
                )
                line("WARN", th, "oauth.TokenServlet", msg)
            elif r < 0.975:
                msg = "SPSSOFederate: spEntityID is : cucm-pub.example.com"
                line("DEBUG", th, "fappend.SamlLogger", msg)
            elif r < 0.9955:
                msg = "relayUrl ::/ccmadmin/showHome.do::"
                line("INFO", th, "servlet.RelayToOriginalAppServlet", msg)
            else:
                # A UCM 14 line, published form (two spaces before a long logger).
                out.write(
                    f"{SSOSP.stamps['ts'].format(t)} ERROR [http-nio-81-exec-157]  cpi.sso.saml.sp."
                    "security.authentication.SAMLAuthenticator - Error while processing saml "
                    "response Failed to decrypt the secret key.\n"
                )
                out.write(
                    "com.sun.identity.saml2.common.SAML2Exception: Failed to decrypt the "
                    "secret key.\n"
                )
                for frame in (
                    "getEncryptionKey(FMEncProvider.java:724)",
                    "decrypt(FMEncProvider.java:607)",
                    "decrypt(EncryptedAssertionImpl.java:112)",
                ):
                    out.write(f"                at com.sun.identity.saml2.xmlenc.{frame} ~[?:?]\n")
                n += 4
            n += 1
    return n


def main() -> None:
    """Command line: gen_ssosp.py OUT [--lines N] [--seed S]."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    print(generate(a.out, a.lines, a.seed))


if __name__ == "__main__":
    main()
