"""``formats suggest`` and ``formats export``: draft a format from unknown lines, feed lnav."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from logdoctor.cli.errors import CliError, handle_errors
from logdoctor.cli.inputs import open_loader
from logdoctor.cli.logs import formats_cmd
from logdoctor.cli.options import InputSpec, input_options, output_option

if TYPE_CHECKING:
    from logdoctor.analysis.suggest import Draft


@formats_cmd.command("suggest")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--family",
    metavar="F",
    default=None,
    help="Draft for this log family (needed when several families have unrecognized lines).",
)
@click.option(
    "--min-count",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    help="Draft only the templates seen at least N times.",
)
@output_option("Write the draft to FILE (default: standard output; the summary goes to stderr).")
@click.option(
    "--include",
    "include",
    multiple=True,
    metavar="KIND",
    help="Also mine the records of KIND (repeatable; default: the generic detectors "
    "oauth.error and oauth.request); the draft events go before that kind's events.",
)
@click.option(
    "--only-unrecognized",
    is_flag=True,
    help="Mine the unrecognized records only (not those of the generic detectors).",
)
@input_options
@handle_errors
def suggest_cmd(
    paths: Sequence[str],
    family: str | None,
    min_count: int,
    output: Path | None,
    include: Sequence[str],
    only_unrecognized: bool,
    inputs: InputSpec,
) -> None:
    """Draft a format file from the records no event pattern recognizes.

    The records of one family are mined into message templates; each template seen at least
    --min-count times becomes an [[event]] of kind draft.<n> (1 = most frequent) with named
    fields where values vary (userId=, client_id=, jti=... by their key and shape) and two
    verbatim [[sample]]s. The draft is the family's format file with those events added, so
    that `--formats-dir DIR` (with the draft in DIR) replaces the built-in format. Rename the
    draft.<n> kinds, then `logdoctor formats --check DIR`.
    """
    from logdoctor.analysis.suggest import GENERIC_KINDS, draft_format

    if only_unrecognized and include:
        raise CliError("--include and --only-unrecognized exclude each other")
    kinds: Sequence[str] = () if only_unrecognized else (include or GENERIC_KINDS)
    loader = open_loader(paths, inputs)
    result = loader.result()
    draft = draft_format(
        result.frame,
        result.formats,
        loader.files,
        family=family,
        min_count=min_count,
        include=kinds,
    )
    if output is None:
        sys.stdout.write(draft.text)
        sys.stdout.flush()
    else:
        try:
            output.write_text(draft.text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"{output}: cannot write ({exc.strerror or exc})") from None
    _summary(draft, kinds, min_count, output)


def _summary(draft: Draft, kinds: Sequence[str], min_count: int, output: Path | None) -> None:
    """What was drafted, from what, what was left out, what to do next (to stderr when the
    draft goes to standard output)."""
    from logdoctor.report.text import neutral

    def say(line: str) -> None:
        click.echo(line, err=output is None)

    mined = " or ".join(["unrecognized", *kinds])
    say(
        f"drafted {len(draft.events)} event(s) for the {draft.family} family from "
        f"{draft.records:,} record(s) ({mined}): they match {draft.covered:,} "
        f"({100 * draft.coverage:.1f} %)"
    )
    for e in sorted(draft.events, key=lambda e: e.template.rank):
        say(f"  {e.kind:<9} {e.template.count:>9,}  {neutral(e.template.text, 110)}")
    if draft.left_out:
        n = sum(t.count for t in draft.left_out)
        say(
            f"left out: {len(draft.left_out)} template(s) seen fewer than {min_count} time(s) "
            f"({n:,} record(s)); lower --min-count to draft them"
        )
    where = "the draft" if output is None else str(output)
    say(
        f"{where} is the format {draft.format_name!r} with the draft events added: put it in a "
        "folder DIR, rename the draft.<n> kinds (logdoctor kinds), then run "
        "`logdoctor formats --check DIR` and use --formats-dir DIR"
    )


@formats_cmd.command("export")
@click.option(
    "--lnav",
    "lnav_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    metavar="DIR",
    help="Write lnav format files (JSON) and the kinds view (SQL) into DIR.",
)
@click.option(
    "--formats-dir",
    "formats_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Also export the *.toml format files of DIR (repeatable; a format with a built-in "
    "format's name replaces it).",
)
@handle_errors
def export_cmd(lnav_dir: Path, formats_dirs: Sequence[Path]) -> None:
    """Export every format for lnav: install with `lnav -i DIR/*.json DIR/*.sql`.

    Each family becomes an lnav format named logdoctor_<family>, with one regex per event
    pattern named after the event kind (lnav's log_format_regex column), the header fields,
    the level map and the timestamp formats; logdoctor_kinds.sql adds a view per family
    (logdoctor_<family>_kinds) whose `kind` column is the event kind. See the README for what
    lnav reads differently.
    """
    from logdoctor.ingest.formats.catalog import load_formats
    from logdoctor.ingest.formats.lnav import write_lnav

    formats = load_formats(formats_dirs)
    try:
        written = write_lnav(formats, lnav_dir)
    except OSError as exc:
        raise CliError(f"{lnav_dir}: cannot write ({exc.strerror or exc})") from None
    for path in written:
        click.echo(str(path))
    click.echo(
        f"wrote {len(written)} file(s) for {len(formats)} format(s); install them with "
        f"lnav -i {lnav_dir}/*.json {lnav_dir}/*.sql"
    )
