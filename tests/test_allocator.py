"""The commands configure polars' allocator (jemalloc) before polars is loaded, with options
that jemalloc accepts, and a value the user set is kept."""

from __future__ import annotations

import os
import subprocess
import sys

from logdoctor.cli import allocator

PROBE = """
import os, sys
import logdoctor.cli
assert "polars" not in sys.modules, "polars loaded before the allocator was configured"
import polars
polars.DataFrame({"a": list(range(1000))}).sum()
print(os.environ["_RJEM_MALLOC_CONF"])
"""


def _run(conf: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != allocator.VARIABLE}
    if conf is not None:
        env[allocator.VARIABLE] = conf
    return subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120
    )


def test_settings_and_a_users_value_kept() -> None:
    assert allocator.settings(2) == "narenas:2,dirty_decay_ms:200,muzzy_decay_ms:0"
    assert allocator.settings(None).startswith("narenas:1,")
    environ: dict[str, str] = {}
    allocator.configure(environ)
    assert environ == {allocator.VARIABLE: allocator.settings(os.cpu_count())}
    mine = {allocator.VARIABLE: "narenas:8"}
    allocator.configure(mine)
    assert mine == {allocator.VARIABLE: "narenas:8"}


def test_the_cli_configures_jemalloc_before_polars_and_jemalloc_takes_it() -> None:
    done = _run(None)
    assert done.returncode == 0, done.stderr
    # polars puts its defaults first and ours after them (the later option wins).
    assert done.stdout.strip().endswith(allocator.settings(os.cpu_count()))
    assert "<jemalloc>" not in done.stderr  # every option was understood
    # The control: this jemalloc reads the variable, and says so of an option it refuses.
    bad = _run("no_such_option:1")
    assert "<jemalloc>: Invalid conf pair: no_such_option:1" in bad.stderr
    assert bad.stdout.strip().endswith("no_such_option:1")


def test_polars_own_defaults_inherited_from_a_parent_are_not_the_users() -> None:
    own, thp = allocator.POLARS_DEFAULTS[1], allocator.POLARS_DEFAULTS[0]
    assert allocator.users_value(None) is None
    assert allocator.users_value("") is None
    assert allocator.users_value(own) is None
    assert allocator.users_value(thp) is None
    assert allocator.users_value(f"{own},narenas:8") == "narenas:8"
    assert allocator.users_value(f"{thp},narenas:8") == "narenas:8"
    assert allocator.users_value("narenas:8") == "narenas:8"
    assert allocator.users_value(f"narenas:8,{own}") == f"narenas:8,{own}"
    for inherited, expected in (
        (own, allocator.settings(os.cpu_count())),
        (f"{own},narenas:8", "narenas:8"),
    ):
        environ = {allocator.VARIABLE: inherited}
        allocator.configure(environ)
        assert environ == {allocator.VARIABLE: expected}


def test_a_child_of_a_process_that_imported_polars_gets_the_clis_options() -> None:
    # What a script or notebook that imported polars hands to a `logdoctor` it starts.
    parent = subprocess.run(
        [sys.executable, "-c", "import os, polars; print(os.environ['_RJEM_MALLOC_CONF'])"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != allocator.VARIABLE},
        timeout=120,
    )
    inherited = parent.stdout.strip()
    assert inherited in allocator.POLARS_DEFAULTS, parent.stderr
    done = _run(inherited)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(allocator.settings(os.cpu_count()))
    # A user's value behind polars' defaults is still the user's.
    kept = _run(f"{inherited},narenas:3")
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.strip().endswith(",narenas:3")
    assert allocator.settings(os.cpu_count()) not in kept.stdout
