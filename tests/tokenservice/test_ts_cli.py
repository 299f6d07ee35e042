"""``logdoctor serve`` and ``logdoctor service ...``: the command-line contract."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from logdoctor.cli import main
from tests.helpers.tokenservice import CLIENT, REDIRECT


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def run(data: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["service", "--data-dir", str(data), *args], input=stdin)
    return r.exit_code, r.stdout, r.stderr


def test_users_params_keys_restart_trace(data: Path, tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("s3cret\n")
    assert run(data, "users", "add", "alice", "--password-file", str(pw))[0] == 0
    assert (
        run(data, "users", "add", "bob", "--password-file", str(pw), "--no-role", "--inactive")[0]
        == 0
    )
    code, out, _ = run(data, "users", "list")
    assert "alice\tactive\taccess" in out and "bob\tinactive\tno-access" in out
    assert run(data, "users", "set", "bob", "--active", "--group", "Standard CCM End Users")[0] == 0
    assert "bob\tactive\taccess" in run(data, "users", "list")[1]
    assert (
        run(data, "params", "--set", "refresh_login_flow=on")[1]
        == "refresh_login_flow: off -> on\n"
    )
    assert "refresh_login_flow = on" in run(data, "params")[1]
    assert run(data, "nodes", "add", "imp1", "--role", "imp")[0] == 0
    assert run(data, "nodes", "add", "expc1", "--role", "expressway")[0] == 0
    before = run(data, "key-show", "signing", "--node", "imp1")[1]
    code, out, err = run(data, "key-regen", "signing", stdin="no\n")
    assert code == 2 and "not confirmed" in err
    code, out, _ = run(data, "key-regen", "signing", stdin="yes\n")
    assert code == 0 and "version 2" in out
    show = run(data, "key-show", "signing")[1].splitlines()
    assert len(show) == 3
    assert "restart it" in show[1] and "stale" in show[2]
    assert run(data, "key-show", "signing", "--node", "imp1")[1] != before
    assert run(data, "restart", "xcp-auth")[1] == "xcp-auth restarted on imp1\n"
    assert run(data, "key-sync", "expc1")[0] == 0
    assert (
        "stale" not in run(data, "key-show", "signing")[1]
        and "restart it" in run(data, "key-show", "signing")[1]
    )
    assert run(data, "restart", "callmanager")[0] == 0
    assert "restart it" not in run(data, "key-show", "signing")[1]
    assert run(data, "trace-level", "debug", "--node", "imp1")[1] == "imp1: samltrace level debug\n"
    assert run(data, "sso", "enable")[0] == 0
    assert run(data, "purge")[1] == "purged 0 expired refresh token(s)\n"
    assert "imp1\timp\ttrace debug" in run(data, "nodes")[1]
    syslog = (data / "logs/imp1/syslog/CiscoSyslog").read_text()
    assert "%[ServiceName=Cisco XCP Authentication Service][ProcessID=" in syslog
    assert "[NodeID=imp1]: Service started." in syslog
    audit = (data / "logs/imp1/audit/AuditApp/AuditApp00001.log").read_text()
    assert "ResourceAccessed: Cisco XCP Authentication Service EventStatus:Successful" in audit


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["params", "--set", "access_token_expiry_minutes=0"], "out of range (allowed 1-1440)"),
        (["params", "--set", "refresh_token_expiry_days=400"], "allowed 1-365"),
        (["params", "--set", "nonsense"], "write NAME=VALUE"),
        (["params", "--set", "colour=blue"], "unknown parameter"),
        (["users", "set", "nobody", "--inactive"], "unknown user"),
        (["users", "add", "x", "--password-file", "/nonexistent/pw"], "cannot read"),
        (["restart", "callmanager", "--node", "ghost"], "unknown node"),
        (["key-sync", "ucm-pub"], "gets keys from the publisher"),
        (["nodes", "add", "bad/name", "--role", "imp"], "node name"),
        (["users", "add", "x", "--password-file", "/dev/null"], "empty"),
    ],
)
def test_bad_input_is_one_line_exit_2(data: Path, args: list[str], message: str) -> None:
    code, out, err = run(data, *args)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_bad_choice_is_a_usage_error(data: Path) -> None:
    code, _, err = run(data, "key-regen", "both")
    assert code == 2 and "Traceback" not in err


def _serve(data: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "logdoctor.cli",
            "serve",
            "--data-dir",
            str(data),
            "--port",
            "0",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
def test_serve_refuses_to_start_without_admin_credentials(data: Path, tmp_path: Path) -> None:
    env = {"LOGDOCTOR_ADMIN_PASSWORD": ""}
    p = _serve(data, env=env)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 2 and "--admin-user is required" in err and "Traceback" not in err
    p = _serve(data, "--admin-user", "admin", env=env)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 2 and "--admin-password-file" in err


@pytest.fixture
def served(data: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    pwf = tmp_path / "admin-pw"
    pwf.write_text("axl-pw\n")
    p = _serve(data, "--admin-user", "admin", "--admin-password-file", str(pwf))
    try:
        assert p.stdout is not None
        url = p.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), p.stderr.read() if p.stderr else ""
        yield url, data
    finally:
        p.terminate()
        p.wait(timeout=30)


@pytest.mark.slow
def test_serve_and_service_commands_share_the_data_dir(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    url, data = served
    pw = tmp_path / "pw"
    pw.write_text("alice-pw")
    with httpx.Client(base_url=url, timeout=10) as c:
        assert c.get("/health").json()["node"] == "ucm-pub"
        assert run(data, "users", "add", "alice", "--password-file", str(pw))[0] == 0
        assert run(data, "params", "--set", "access_token_expiry_minutes=7")[0] == 0
        q = {"response_type": "token", "client_id": CLIENT, "redirect_uri": REDIRECT}
        r = c.get("/ssosp/oauth/authorize", params=q, auth=("alice", "alice-pw"))
        assert r.status_code == 302
        assert httpx.QueryParams(httpx.URL(r.headers["location"]).fragment)["expires_in"] == "420"
        assert (
            c.get(
                "/ssosp/token/revoke", params={"user_id": "alice"}, auth=("admin", "axl-pw")
            ).status_code
            == 200
        )
        assert (
            c.get(
                "/ssosp/token/revoke", params={"user_id": "alice"}, auth=("admin", "axl")
            ).status_code
            == 401
        )
        assert run(data, "users", "set", "alice", "--inactive")[0] == 0
        time.sleep(0.05)
        r = c.get("/ssosp/oauth/authorize", params=q, auth=("alice", "alice-pw"))
        assert r.status_code == 403


@pytest.mark.slow
def test_serve_with_two_workers_loses_no_line(data: Path, tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("alice-pw")
    assert run(data, "users", "add", "alice", "--password-file", str(pw))[0] == 0
    p = _serve(
        data, "--admin-user", "admin", "--workers", "2", env={"LOGDOCTOR_ADMIN_PASSWORD": "a"}
    )
    try:
        assert p.stdout is not None
        url = p.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        # Ready means ready: connections made the moment the address is printed are queued by
        # every worker's listening socket, not refused while a worker is still starting.
        host, port = url.removeprefix("http://").split(":")
        burst = [socket.create_connection((host, int(port)), timeout=10) for _ in range(16)]
        for s in burst:
            s.close()
        q = {"response_type": "token", "client_id": CLIENT, "redirect_uri": REDIRECT}
        seen = 0
        for _ in range(30):  # new connections: the kernel spreads them over both workers
            with httpx.Client(base_url=url, timeout=10) as c:
                r = c.get("/ssosp/oauth/authorize", params=q, auth=("alice", "alice-pw"))
                seen += r.status_code == 302
        assert seen == 30
    finally:
        p.terminate()
        p.wait(timeout=30)
    assert p.returncode == 0
    text = (data / "logs/ucm-pub/tomcat/logs/ssosp/log4j/ssosp00001.log").read_text()
    assert text.count("grant=implicit") == 30
    assert all(line.count(" - ") >= 1 for line in text.splitlines())
