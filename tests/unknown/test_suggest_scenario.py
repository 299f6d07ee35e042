"""The issue's scenario, end to end through the command line.

A simulated scenario whose findings rest on OAuth lines has every ssosp OAuth message reworded
(as another UCM release might word them): the rules stop firing. `formats suggest` drafts a
format from the lines logdoctor no longer understands; the draft must cover at least 95 % of
the unrecognized records and pass `formats --check`. An engineer renames the draft kinds (a
small mapping, here) and passes the draft with --formats-dir: the scenario's findings are back.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from rewording import OAUTH_KINDS, reword_bundle

from logdoctor.cli import main

SCENARIO = "revoked-user"

RENAME = {
    "Issued access token": "token.access.issued",
    "Issued refresh token": "token.refresh.issued",
    "Refresh grant OK": "token.refreshed",
    "Token grant DENIED": "token.rejected",
    "Access token check passed": "token.validated",
    "Access token check FAILED": "token.rejected",
    "Revocation requested by": "revoke.request",
    "Revoked refresh token": "token.revoked",
    "Expired refresh tokens purged": "token.purged",
    "Login OK": "auth.success",
    "Login FAILED": "auth.failure",
    "Issued authorization code": "code.issued",
    "OAuthAuthorizeHandler received": "authorize.request",
    "OAuthAuthorizeHandler denied": "authorize.rejected",
}
"""What the engineer reads off each draft event's template: its words say which kind it is."""


def _run(runner: CliRunner, *args: str, ok: tuple[int, ...] = (0,)) -> Result:
    res = runner.invoke(main, list(args), catch_exceptions=False)
    assert res.exit_code in ok, (args, res.output, res.stderr)
    return res


def _findings(runner: CliRunner, *args: str) -> set[tuple[str, tuple[str, ...]]]:
    res = _run(runner, "check", "--format", "json", *args, ok=(0, 1))
    doc = json.loads(res.stdout)
    return {(f["rule"], tuple(f["subjects"])) for f in doc["findings"]}


def _events(runner: CliRunner, *args: str) -> dict[tuple[str, int], str]:
    res = _run(runner, "parse", "--format", "jsonl", *args)
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    return {(r["file"], r["line"]): r["kind"] for r in rows}


def _rename(draft: str) -> str:
    """Give each draft.<n> the kind its template's words say (in its event and its samples)."""
    doc: dict[str, Any] = tomllib.loads(draft)
    for event in doc["event"]:
        if not event["kind"].startswith("draft."):
            continue
        words = event["regex"].removeprefix("^").replace("\\", "")
        kind = next(k for prefix, k in RENAME.items() if words.startswith(prefix))
        draft = draft.replace(f'kind = "{event["kind"]}"', f'kind = "{kind}"')
    return draft


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenario") / SCENARIO
    _run(CliRunner(), "simulate", SCENARIO, "--out", str(out))
    return out


def test_reworded_oauth_lines_are_drafted_and_the_findings_come_back(
    bundle: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    expected = json.loads((bundle / "expected.json").read_text(encoding="utf-8"))
    want = {(rule, (subject,)) for rule, subs in expected["subjects"].items() for subject in subs}
    assert want and _findings(runner, str(bundle)) >= want  # the scenario shows its fault
    original = _findings(runner, str(bundle))
    before = _events(runner, str(bundle))

    changed = reword_bundle(bundle)
    assert sum(changed.values()) > 1000 and {"token.revoked", "revoke.request"} <= set(changed)
    reworded = _events(runner, str(bundle))
    assert set(reworded) == set(before)  # the same records, only their wording changed
    assert not OAUTH_KINDS & set(reworded.values())  # logdoctor no longer knows any of them
    lost = _findings(runner, str(bundle))
    assert not lost & want, "the rules still fire on reworded lines"
    assert any(rule == "LD901" for rule, _ in lost)

    draft_dir = tmp_path / "formats"
    draft_dir.mkdir()
    draft_file = draft_dir / "ssosp.toml"
    res = _run(runner, "formats", "suggest", str(bundle), "-o", str(draft_file))
    assert "drafted" in res.stdout and "ssosp" in res.stdout
    draft = draft_file.read_text(encoding="utf-8")
    assert re.search(r'^kind = "draft\.1"$', draft, re.MULTILINE)
    checked = _run(runner, "formats", "--check", str(draft_dir))
    assert checked.stdout.startswith("ok: 1 format(s)")

    # coverage, measured by parsing with the draft (not taken from the command's summary)
    drafted = _events(runner, "--formats-dir", str(draft_dir), str(bundle))
    unrec = [k for k, kind in reworded.items() if kind == "unrecognized"]
    covered = [k for k in unrec if drafted[k].startswith("draft.")]
    assert len(unrec) > 1000 and len(covered) >= 0.95 * len(unrec), (len(covered), len(unrec))
    pool = [k for k, kind in reworded.items() if kind in ("unrecognized", "oauth.error")]
    assert sum(drafted[k].startswith("draft.") for k in pool) >= 0.95 * len(pool)
    # a recognized record keeps its kind: the draft only adds to the format
    assert all(drafted[k] == kind for k, kind in reworded.items() if k not in set(pool))

    renamed = _rename(draft)
    doc = tomllib.loads(renamed)
    assert not [x for x in doc["event"] + doc["sample"] if x["kind"].startswith("draft.")]
    (draft_dir / "ssosp.toml").write_text(renamed, encoding="utf-8")
    _run(runner, "formats", "--check", str(draft_dir))
    back = _findings(runner, "--formats-dir", str(draft_dir), str(bundle))
    assert back >= want
    assert back == original  # and nothing else: LD901 is gone too


def test_only_unrecognized_leaves_the_generic_detectors_lines_alone(
    bundle: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    reword_bundle(bundle)  # idempotent: reworded lines do not match the old wording
    out = tmp_path / "only.toml"
    res = _run(runner, "formats", "suggest", str(bundle), "--only-unrecognized", "-o", str(out))
    assert "(unrecognized)" in res.stdout
    doc = tomllib.loads(out.read_text(encoding="utf-8"))
    regexes = [e["regex"] for e in doc["event"] if e["kind"].startswith("draft.")]
    assert regexes and not any("DENIED" in r for r in regexes)  # oauth.error lines left alone
    # the draft events come after the generic detectors (appended), not before them
    kinds = [e["kind"] for e in doc["event"]]
    assert kinds.index("oauth.request") < min(
        i for i, k in enumerate(kinds) if k.startswith("draft.")
    )
