"""Where a bundle holds a Jabber problem report (PRT), and whose it is.

A PRT is collected on the user's computer or phone (Help > Report a problem), not on a server:
it is a zip of the client's logs (``jabber.log``, its rotations, ``csf-unified.log`` on
Windows), and it names no user or device in a form every release writes. A TAC engineer who
puts PRTs beside the RTMT node folders files each one under the user and the device it came
from; logdoctor reads that layout::

    <bundle>/jabber-prt/<user>/<device>/jabber.log

(``jabber-prt`` in any case; the user and device folders are the UCM user id and the Jabber
device name, ``CSF...``, ``TCT...``, ``BOT...``, ``TAB...``). A file below such a folder is the
client's: its events carry the user and device of the folder (:func:`with_prt_identity`, when
the line names none) and the device as their node (a PRT is not a server node; see
:func:`logdoctor.ingest.nodenames.node_from_path`). Two folders (``<user>/<device>``) rather than
one ``<user>_<device>`` name: user ids may hold underscores. The simulator writes its PRTs
there too (:func:`prt_log_path`).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

__all__ = ["PRT_FOLDER", "PRT_LOG", "prt_identity", "prt_log_path", "with_prt_identity"]

PRT_FOLDER = "jabber-prt"
"""The folder of a bundle that holds the problem reports, one ``<user>/<device>`` per PRT."""
PRT_LOG = "jabber.log"
"""The log a PRT holds (TAC documents refer to ``jabber.log`` inside the PRT zip)."""

_PRT = r"(?i)(?:^|[/\\!])jabber-prt[/\\]([^/\\!]+)[/\\]([^/\\!]+)[/\\]"
_PRT_RE = re.compile(_PRT)


def prt_log_path(user: str, device: str) -> PurePosixPath:
    """``jabber-prt/<user>/<device>/jabber.log``: where a PRT's log goes in a bundle."""
    return PurePosixPath(PRT_FOLDER, user, device, PRT_LOG)


def prt_identity(path: str) -> tuple[str, str] | None:
    """``(user, device)`` of a file inside a PRT folder of the layout above, else None."""
    m = _PRT_RE.search(path)
    return None if m is None else (m.group(1), m.group(2))


def with_prt_identity(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill ``user`` and ``device`` of Jabber rows from their PRT folder where the line names
    none (the other rows, and a frame without Jabber rows, are returned as they are)."""
    import polars as pl  # imported here: the path helpers above do not need it

    if not frame.height or "family" not in frame.columns:
        return frame
    jabber = pl.col("family").cast(pl.String) == "jabber"
    if not frame.select(jabber.any()).item():
        return frame
    path = pl.col("file").cast(pl.String)
    return frame.with_columns(
        pl.when(jabber & pl.col("user").is_null())
        .then(path.str.extract(_PRT, 1))
        .otherwise(pl.col("user"))
        .cast(frame.schema["user"])
        .alias("user"),
        pl.when(jabber & pl.col("device").is_null())
        .then(path.str.extract(_PRT, 2))
        .otherwise(pl.col("device"))
        .cast(frame.schema["device"])
        .alias("device"),
    )
