"""End to end: the real token service writes UCM's logs while `logdoctor tail` follows them;
a fault injected in the service shows up as a finding of the real rules."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .test_cli_tail import Proc

CLIENT = "C" + "5a" * 32


def _serve(data: Path) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, LOGDOCTOR_ADMIN_PASSWORD="axl-Secret-1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "logdoctor.cli",
            "serve",
            "--data-dir",
            str(data),
            "--port",
            "0",
            "--admin-user",
            "admin",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else url
    return proc, url


@pytest.mark.slow
def test_refused_refresh_grants_through_an_expressway_become_a_finding(tmp_path: Path) -> None:
    data = tmp_path / "svc"
    pw = tmp_path / "pw"
    pw.write_text("alice-pw\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "logdoctor.cli",
            "service",
            "--data-dir",
            str(data),
            "users",
            "add",
            "alice",
            "--password-file",
            str(pw),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    server, url = _serve(data)
    tail = None
    try:
        # A healthy exchange first, so the tail has seen the files before the fault.
        with httpx.Client(base_url=url, timeout=30) as http:
            r = http.get(
                "/ssosp/oauth/authorize",
                params={
                    "response_type": "token",
                    "client_id": CLIENT,
                    "redirect_uri": "http://127.0.0.1:9/cb",
                },
                auth=("alice", "alice-pw"),
            )
            assert r.status_code == 302
            logs = data / "logs"
            tail = Proc(str(logs), "--format", "jsonl", "--from-start")
            first = tail.records(3, timeout=60)  # authorize.request, auth.success, token issued
            assert {r["kind"] for r in first if r["type"] == "event"} >= {"authorize.request"}
            # The fault: Expressway presents refresh grants while UCM's refresh flow is off.
            for _ in range(3):
                r = http.post(
                    "/ssosp/oauth/token",
                    data={
                        "grant_type": "refresh_token",
                        "refresh_token": "x.y.z",
                        "client_id": CLIENT,
                    },
                    headers={"Via": "1.1 expc1"},
                )
                assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        found = None
        deadline = time.monotonic() + 60
        refused = 0
        while found is None and time.monotonic() < deadline:
            try:
                rec = json.loads(tail.q.get(timeout=1))
            except queue.Empty:
                continue
            if rec["type"] == "event" and rec["kind"] == "token.rejected":
                assert rec["reason"] == "refresh_disabled" and rec["server"] == "expc1"
                refused += 1
            if rec["type"] == "finding" and rec["rule"] == "LD101":
                found = rec
        assert found is not None, "LD101 never reported by the tail"
        assert refused >= 2 and found["subjects"] == ["expc1"]
        assert found["evidence"] and "refresh_disabled" in found["evidence"][0]["excerpt"]
        code, err = tail.interrupt()
        assert code == 0 and "finding" in err
    finally:
        if tail is not None:
            tail.kill()
        server.terminate()
        server.wait(timeout=20)
