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
