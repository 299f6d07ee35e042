"""Fleet scale: check many clusters' bundles at once, locally or on a Dask cluster.

One bundle (folder or archive) per cluster; each is parsed, correlated and checked as one task
(a big bundle's files are parsed as several tasks first), and the results are gathered into a
fleet table and a summary page that links one report per cluster. Nothing here imports Dask:
:mod:`logdoctor.fleet.dask_runner` does, and needs the ``fleet`` extra.
"""

from logdoctor.fleet.bundles import Bundle, cluster_name, find_bundles, unmatched_configs
from logdoctor.fleet.document import cluster_document
from logdoctor.fleet.output import FleetOutput
from logdoctor.fleet.runner import (
    FleetResult,
    NullObserver,
    Observer,
    WorkerInfo,
    run_in_process,
)
from logdoctor.fleet.table import clusters_frame, findings_frame, write_tables
from logdoctor.fleet.work import BundleResult, Options

__all__ = [
    "Bundle",
    "BundleResult",
    "FleetOutput",
    "FleetResult",
    "NullObserver",
    "Observer",
    "Options",
    "WorkerInfo",
    "cluster_document",
    "cluster_name",
    "clusters_frame",
    "find_bundles",
    "findings_frame",
    "run_in_process",
    "unmatched_configs",
    "write_tables",
]
