"""The scenario simulator: the token service driven by simulated Jabber clients.

``simulate(name, out=...)`` runs a scenario of the catalog (:data:`SCENARIOS`) on a virtual
clock: a UCM cluster and the servers around it in the in-process token service, users with
Jabber on their computers and phones signing in, refreshing and using their tokens, and the
administrator's actions that make the scenario's fault. It writes what UCM would have logged,
one folder per node as an RTMT collection lays it out, with ``deployment.toml`` (the declared
configuration, for ``logdoctor check --config``) and ``expected.json`` (the verdicts the rules
must reach). The same seed gives the same bytes.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from logdoctor.progress import NULL_PROGRESS, Progress
from logdoctor.simulate.engine import Expectation, Sim, SimulationError
from logdoctor.simulate.output import OutputError, expected_json, prepare_dir, write_tree, write_zip
from logdoctor.simulate.scenarios import SCENARIOS, Scenario, get
from logdoctor.simulate.topology import deployment_toml
from logdoctor.tokenservice.clock import from_iso

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_START",
    "SCENARIOS",
    "Expectation",
    "OutputError",
    "RunSummary",
    "Scenario",
    "SimulationError",
    "simulate",
]

DEFAULT_START = "2026-11-16T00:00:00Z"
"""A Monday: the window's first day unless ``start`` says otherwise."""
DEFAULT_SEED = 1


@dataclass(frozen=True)
class RunSummary:
    """What a run did and wrote."""

    scenario: str
    seed: int
    start: float
    days: int
    users: int
    clients: int
    files: int
    bytes: int
    expectation: Expectation
    seconds: float
    bundle_bytes: int | None = None


def _start(value: str | float | None) -> float:
    if value is None:
        return from_iso(DEFAULT_START)
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return from_iso(value)
    except ValueError:
        raise SimulationError(
            f"--start {value!r}: not an ISO 8601 date or time (e.g. 2026-11-16 or "
            "2026-11-16T00:00:00Z)"
        ) from None


def _run(sim: Sim, name: str, seed: int, progress: Progress) -> tuple[Expectation, dict[str, str]]:
    """Run ``sim``; its expectation and the bundle's extra files (``deployment.toml``,
    ``expected.json``)."""
    sim.run(progress)
    exp = sim.expectation()
    header = (
        f"Declared deployment of the simulated scenario {name} (seed {seed}).\n"
        f"{sim.scenario.summary}.\n"
        "Check it with the logs: logdoctor check . --config deployment.toml"
    )
    extra = {
        "deployment.toml": deployment_toml(sim.topo, sim.svc, sim.people, header=header),
        "expected.json": expected_json(name, seed, exp),
    }
    return exp, extra


def simulate(
    name: str,
    *,
    out: Path | None = None,
    bundle: Path | None = None,
    seed: int = DEFAULT_SEED,
    start: str | float | None = None,
    days: int | None = None,
    users: int | None = None,
    gzip_over: int | None = None,
    replace: bool = False,
    password_cost: int = 1 << 10,
    progress: Progress = NULL_PROGRESS,
) -> RunSummary:
    """Run scenario ``name`` and write its bundle to the folder ``out`` and/or the zip file
    ``bundle``. ``days`` and ``users`` default to the scenario's; ``start`` (ISO 8601, UTC
    when no zone) to :data:`DEFAULT_START`. ``progress`` hears of each simulated day (stage
    ``simulating``), then of the writing."""
    sc = get(name)
    if out is None and bundle is None:
        raise SimulationError("nothing to write: give an output folder or a bundle file")
    t0 = time.perf_counter()
    first = _start(start)
    ndays = sc.days if days is None else days
    if out is not None:
        prepare_dir(out, replace=replace)
    with tempfile.TemporaryDirectory(prefix="logdoctor-sim-") as tmp:
        work = Path(tmp)
        sim = Sim(
            sc,
            work,
            seed=seed,
            start=first,
            days=ndays,
            users=users,
            password_cost=password_cost,
        )
        try:
            exp, extra = _run(sim, name, seed, progress)
        finally:
            sim.close()
        progress.stage("writing")
        tree = out if out is not None else work / "bundle"
        tree.mkdir(parents=True, exist_ok=True)
        written = write_tree(sim.logs_root, tree, extra, gzip_over=gzip_over, move=True)
        zipped = write_zip(tree, bundle, sim.end) if bundle is not None else None
    return RunSummary(
        scenario=name,
        seed=seed,
        start=first,
        days=ndays,
        users=len(sim.people),
        clients=len(sim.clients),
        files=len(written.files),
        bytes=written.bytes,
        expectation=exp,
        seconds=time.perf_counter() - t0,
        bundle_bytes=zipped,
    )
