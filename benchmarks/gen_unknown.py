"""Generate a seeded ssosp-style log whose messages are mostly *not* in logdoctor's formats.

Modelled on the held-back file of ``/work/shared/reviews/performance.md`` (file H): log4j
headers under ``com.cisco.ssosp.*`` loggers, about 78 % of the records worded otherwise than
``parsers/ssosp.toml`` (so ``unrecognized``), about 11 % ``servlet path`` lines (sso.filter), about
11 % carrying an RFC 6749 error code (oauth.error), about 2 % stack-trace continuation lines.
The wording is this benchmark's own, not Cisco's. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import random
import uuid
from datetime import datetime, timedelta
from pathlib import Path

_UNKNOWN = (
    "Issued access token jti={jti} for {u}",
    "Refreshing session for {u} from 10.{a}.{b}.{c}",
    "Cache lookup for client {cid} took {ms} ms",
    "Validated bearer token jti={jti} scope=openid",
    "Loaded signing key version {b} for cluster",
    "Request completed in {ms} ms status=200",
)
_ERRORS = ("invalid_grant", "invalid_token", "expired_token", "invalid_client")


def generate(path: Path, lines: int, seed: int = 1) -> int:
    """Write about ``lines`` lines to ``path``; returns the exact number written."""
    rnd = random.Random(seed)
    users = [f"user{i:05d}" for i in range(5000)]
    t = datetime(2026, 11, 2, 7, 0, 0)
    n = 0
    with path.open("w", encoding="utf-8") as out:
        while n < lines:
            t += timedelta(milliseconds=rnd.randint(1, 300))
            ts = t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"
            th = f"http-nio-8443-exec-{rnd.randint(1, 200)}"
            u = rnd.choice(users)
            r = rnd.random()
            if r < 0.111:
                out.write(
                    f"{ts} DEBUG [{th}] com.cisco.ssosp.filter.AuthFilter - "
                    "servlet path :/ccmuser/home\n"
                )
            elif r < 0.222:
                err = rnd.choice(_ERRORS)
                out.write(
                    f"{ts} WARN  [{th}] com.cisco.ssosp.oauth.TokenEndpoint - "
                    f"token grant failed for {u}: {err}\n"
                )
            else:
                text = rnd.choice(_UNKNOWN).format(
                    jti=uuid.UUID(int=rnd.getrandbits(128)),
                    u=u,
                    a=rnd.randint(0, 255),
                    b=rnd.randint(0, 255),
                    c=rnd.randint(0, 255),
                    cid=f"{rnd.getrandbits(64):016x}",
                    ms=rnd.randint(1, 900),
                )
                level = rnd.choice(("INFO ", "DEBUG", "DEBUG", "INFO "))
                out.write(
                    f"{ts} {level} [{th}] com.cisco.ssosp.oauth.Service{r * 40:.0f} - {text}\n"
                )
                if r > 0.9945:
                    out.write("java.lang.IllegalStateException: lookup failed\n")
                    for k in range(3):
                        out.write(
                            f"        at com.cisco.ssosp.oauth.Store.get{k}(Store.java:{40 + k})\n"
                        )
                    n += 4
            n += 1
    return n


def main() -> None:
    """Command line: gen_unknown.py OUT [--lines N] [--seed S]."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    print(generate(a.out, a.lines, a.seed))


if __name__ == "__main__":
    main()
