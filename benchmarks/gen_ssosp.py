"""Generate a seeded ssosp-style log with a realistic mix of OAuth and SAML records.

About 2 % of the lines are stack-trace continuation lines; users, clients and token ids vary
like a busy cluster's. Used by the parse benchmark; deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import random
import uuid
from datetime import datetime, timedelta
from pathlib import Path

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
        while n < lines:
            t += timedelta(milliseconds=rnd.randint(1, 400))
            ts = t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"
            th = f"http-bio-8443-exec-{rnd.randint(1, 250)}"
            u = rnd.choice(users)
            c = clients[u]
            dev = "CSF" + u.upper()
            r = rnd.random()
            if r < 0.30:
                jti = uuid.UUID(int=rnd.getrandbits(128))
                out.write(
                    f"{ts} DEBUG [{th}] oauth.TokenValidator - Token validated: server=imp1 "
                    f"user={u} client_id={c} jti={jti} kid={KID}\n"
                )
            elif r < 0.50:
                jti = uuid.UUID(int=rnd.getrandbits(128))
                out.write(
                    f"{ts} INFO  [{th}] oauth.TokenServlet - Access token issued: user={u} "
                    f"client_id={c} device={dev} grant=refresh_token jti={jti} kid={KID} "
                    "expires_in=3600 via=-\n"
                )
            elif r < 0.62:
                tid = uuid.UUID(int=rnd.getrandbits(128))
                out.write(
                    f"{ts} INFO  [{th}] oauth.TokenServlet - Refresh grant accepted: user={u} "
                    f"client_id={c} device={dev} tid={tid} via=expc1\n"
                )
            elif r < 0.72:
                out.write(
                    f"{ts} DEBUG [{th}] filter.SSOAuthAgentFilter - servlet path :/showHome.do\n"
                )
            elif r < 0.80:
                out.write(f"{ts} DEBUG [{th}] authentication.SAMLAuthenticator - userid is ::{u}\n")
            elif r < 0.86:
                out.write(
                    f"{ts} INFO  [{th}] oauth.AuthorizeServlet - Authorize request: "
                    f"response_type=code client_id={c} user={u} device={dev} "
                    "agent=Jabber%2F14.1.0%20%28Windows%29 via=-\n"
                )
            elif r < 0.91:
                out.write(
                    f"{ts} INFO  [{th}] oauth.AuthorizeServlet - User authenticated: user={u} "
                    "method=password via=-\n"
                )
            elif r < 0.95:
                out.write(
                    f"{ts} WARN  [{th}] oauth.TokenServlet - Token request refused: "
                    "grant=refresh_token error=invalid_grant reason=expired "
                    f"user={u} client_id={c} device={dev} tid=- via=expc1\n"
                )
            elif r < 0.975:
                out.write(
                    f"{ts} DEBUG [{th}] fappend.SamlLogger - SPSSOFederate: spEntityID is : "
                    "cucm-pub.example.com\n"
                )
            elif r < 0.9955:
                out.write(
                    f"{ts} INFO  [{th}] servlet.RelayToOriginalAppServlet - relayUrl "
                    "::/ccmadmin/showHome.do::\n"
                )
            else:
                out.write(
                    f"{ts} ERROR [http-nio-81-exec-157]  cpi.sso.saml.sp.security."
                    "authentication.SAMLAuthenticator - Error while processing saml "
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
