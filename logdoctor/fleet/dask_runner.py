"""Running a fleet on Dask (``dask.distributed``): a local cluster, or an existing scheduler.

Needs the ``fleet`` extra (``pip install 'logdoctor[fleet]'``); nothing else in logdoctor
imports this module at start-up. The graph, per bundle:

- ``prepare`` (one task): discover, and for a bundle up to ``split_bytes`` also parse,
  correlate and check it; the task returns the findings and counts (kilobytes).
- for a bigger bundle, ``prepare`` returns a plan instead, and the client submits one
  ``parse_part`` task per part (any worker; each returns its parsed events) and a ``finish``
  task that depends on them all (Dask moves the parts' events to its worker), which joins,
  correlates and checks.

Workers announce each bundle they start on an event topic, so the observer sees ``running``.
A task that raises, or whose worker dies, gives a failed bundle; the others go on.
"""

from __future__ import annotations

import logging
import os
import queue
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from typing import Any

from distributed import Client, Future, LocalCluster, as_completed, get_worker

from logdoctor import __version__
from logdoctor.fleet.bundles import Bundle
from logdoctor.fleet.runner import (
    FleetResult,
    NullObserver,
    Observer,
    OnResult,
    WorkerInfo,
    peak_rss,
    validate,
)
from logdoctor.fleet.work import (
    BundleResult,
    Options,
    Parsed,
    Part,
    Plan,
    failed,
    finish,
    parse_part,
    prepare,
)

__all__ = ["TOPIC", "Connection", "connect", "run_dask"]

TOPIC = "logdoctor-fleet"
"""The event topic on which workers announce the bundles they start."""

CONNECT_TIMEOUT = 20.0
"""Seconds to wait for a scheduler (``--connect-timeout``)."""


# -- what runs on the workers --------------------------------------------------------------------


def _address() -> str:
    try:
        return str(get_worker().address)
    except ValueError:  # not on a worker (a test calling the task directly)
        return ""


def _announce(run: str, cluster: str) -> None:
    with suppress(ValueError):
        get_worker().log_event(TOPIC, {"run": run, "cluster": cluster})


def _prepare_task(run: str, bundle: Bundle, opts: Options) -> BundleResult | Plan:
    _announce(run, bundle.cluster)
    out = prepare(bundle, opts)
    if isinstance(out, Plan):
        return replace(out, worker=_address())
    return replace(out, workers=(_address(),))


def _parse_task(bundle: Bundle, opts: Options, part: Part) -> Parsed:
    return replace(parse_part(bundle, opts, part), worker=_address())


def _finish_task(bundle: Bundle, opts: Options, plan: Plan, *parsed: Parsed) -> BundleResult:
    result = finish(bundle, opts, plan, parsed)
    here = _address()
    if here and here not in result.workers:
        result = replace(result, workers=(*result.workers, here))
    return result


def _version() -> str:
    return __version__


def _peak() -> int | None:
    return peak_rss()


# -- the client ----------------------------------------------------------------------------------


@dataclass
class Connection:
    """A Dask client, what it is connected to, and how long that took."""

    client: Client
    where: str
    seconds: float


@contextmanager
def connect(
    scheduler: str | None = None,
    workers: int | None = None,
    *,
    timeout: float = CONNECT_TIMEOUT,
    env: dict[str, str] | None = None,
) -> Iterator[Connection]:
    """A client of ``scheduler``, or of a new local cluster of ``workers`` processes (default:
    one per core, one thread each, bound to 127.0.0.1), closed on exit. Local workers get
    ``POLARS_MAX_THREADS=1`` (one thread per process; set it to override) and ``env``.

    Raises ValueError when the scheduler cannot be reached or has no worker.
    """
    t0 = time.perf_counter()
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{timeout}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ValueError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        try:
            n = len(client.nthreads())
            if n == 0:
                raise ValueError(f"--scheduler {scheduler}: the scheduler has no worker")
            yield Connection(client, f"scheduler {scheduler}, {n} worker(s)", _since(t0))
        finally:
            client.close()
        return
    n = workers or os.cpu_count() or 1
    environ = {"POLARS_MAX_THREADS": os.environ.get("POLARS_MAX_THREADS", "1")}
    environ.update(env or {})
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # loopback, any free port
        silence_logs=logging.ERROR,
        env=environ,
    )
    try:
        client = Client(cluster)
        try:
            yield Connection(client, f"local cluster, {n} worker process(es)", _since(t0))
        finally:
            client.close()
    finally:
        cluster.close()


def _since(t0: float) -> float:
    return time.perf_counter() - t0


def _check_workers(client: Client) -> None:
    try:
        versions: dict[str, Any] = client.run(_version)
    except Exception as exc:
        raise ValueError(
            f"the workers cannot run logdoctor ({type(exc).__name__}: {exc}); install "
            f"logdoctor {__version__} with the fleet extra on every worker"
        ) from None
    if not versions:
        raise ValueError("the Dask cluster has no worker")
    for address, version in sorted(versions.items()):
        if version != __version__:
            raise ValueError(
                f"worker {address} runs logdoctor {version}, this client {__version__}: "
                "install the same version everywhere"
            )


def _lost(fut: Future[Any]) -> str:
    if fut.status == "error":
        exc = fut.exception()
        if type(exc).__name__ == "KilledWorker":
            return "a worker died while checking this bundle (out of memory?)"
        return f"{type(exc).__name__}: {exc}"
    return f"the task was {fut.status} (a worker or the scheduler went away)"


def run_dask(
    bundles: Sequence[Bundle],
    opts: Options,
    conn: Connection,
    *,
    observer: Observer | None = None,
    on_result: OnResult | None = None,
) -> FleetResult:
    """Check every bundle on the cluster of ``conn``; results come back in input order."""
    validate(opts)
    client = conn.client
    _check_workers(client)
    obs = observer or NullObserver()
    obs.begin(len(bundles), conn.where)
    run = uuid.uuid4().hex[:12]
    started: queue.SimpleQueue[str] = queue.SimpleQueue()

    def heard(event: tuple[float, Any]) -> None:
        msg = event[1]
        if isinstance(msg, dict) and msg.get("run") == run:
            started.put(str(msg.get("cluster")))

    client.subscribe_topic(TOPIC, heard)
    t0 = time.perf_counter()
    try:
        results = _gather(client, run, bundles, opts, started, obs, on_result)
    finally:
        with suppress(ValueError):
            client.unsubscribe_topic(TOPIC)
    seconds = time.perf_counter() - t0
    final = [r for r in results if r is not None]
    return FleetResult(
        final,
        opts.fail_on,
        conn.where,
        _workers(client, final),
        seconds,
        conn.seconds,
    )


def _gather(
    client: Client,
    run: str,
    bundles: Sequence[Bundle],
    opts: Options,
    started: queue.SimpleQueue[str],
    obs: Observer,
    on_result: OnResult | None,
) -> list[BundleResult | None]:
    """Submit a ``prepare`` task per bundle, then the parts of those that come back as a
    plan, and collect each bundle's result as it finishes (in input order)."""
    results: list[BundleResult | None] = [None] * len(bundles)
    owner: dict[Any, int] = {}
    pending = as_completed()
    for i, b in enumerate(bundles):
        fut = client.submit(
            _prepare_task, run, b, opts, key=f"logdoctor-{run}-prepare-{i}", pure=False
        )
        owner[fut.key] = i
        pending.add(fut)
    while not pending.is_empty():
        _drain(started, results, bundles, obs)
        if not pending.has_ready():
            time.sleep(0.05)
            continue
        for fut in pending.next_batch(block=False):
            i = owner.pop(fut.key)
            b = bundles[i]
            value = _value(fut, b)
            if isinstance(value, Plan):
                last = _submit_parts(client, run, i, b, opts, value)
                owner[last.key] = i
                pending.add(last)
                continue
            done = on_result(value) if on_result is not None else value
            results[i] = done
            obs.done(done)
    _drain(started, results, bundles, obs)
    return results


def _value(fut: Future[Any], bundle: Bundle) -> BundleResult | Plan:
    """What a finished task returned (then released), or the bundle failed with the reason
    the task did not finish or its result could not be fetched."""
    value: BundleResult | Plan
    try:
        value = fut.result() if fut.status == "finished" else failed(bundle, _lost(fut))
    except Exception as exc:  # a result that cannot be fetched or unpickled
        value = failed(bundle, f"{type(exc).__name__}: {exc}")
    fut.release()
    return value


def _submit_parts(
    client: Client, run: str, i: int, b: Bundle, opts: Options, plan: Plan
) -> Future[Any]:
    parts = [
        client.submit(_parse_task, b, opts, p, key=f"logdoctor-{run}-parse-{i}-{p.index}")
        for p in plan.parts
    ]
    return client.submit(_finish_task, b, opts, plan, *parts, key=f"logdoctor-{run}-finish-{i}")


def _drain(
    started: queue.SimpleQueue[str],
    results: Sequence[BundleResult | None],
    bundles: Sequence[Bundle],
    obs: Observer,
) -> None:
    done = {r.cluster for r in results if r is not None}
    names = {b.cluster for b in bundles}
    while True:
        try:
            cluster = started.get_nowait()
        except queue.Empty:
            return
        if cluster in names and cluster not in done:
            obs.running(cluster)


def _workers(client: Client, results: Sequence[BundleResult]) -> list[WorkerInfo]:
    try:
        peaks: dict[str, Any] = client.run(_peak)
    except Exception:  # a worker went away at the end: report what is known
        peaks = {}
    counts: dict[str, int] = {}
    for r in results:
        for w in r.workers:
            counts[w] = counts.get(w, 0) + 1
    addresses = sorted(set(peaks) | set(counts))
    return [WorkerInfo(a, peaks.get(a), counts.get(a, 0)) for a in addresses]
