"""The store commands end to end: run exit codes, versions, history, overrides, audit verify."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import Result

from tests.cli.running import flat, invoke, months_project, runner
from tierwise.cli import main


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return months_project(tmp_path, monkeypatch)


def test_run_exit_codes_and_history(project: Path) -> None:
    done = invoke("backfill", "tier", "--from", "2026-04-01", "--to", "2026-06-30", "-p", project)
    assert done.exit_code == 0, done.output
    assert "tier: 3 dates graded: 2026-04-30, 2026-05-31, 2026-06-30" in flat(done.output)
    repeated = invoke("backfill", "tier", "--from", "2026-04-01", "--to", "2026-06-30", "-p",
                      project)
    assert repeated.exit_code == 3 and "tier: 3 dates skipped, already done: 2026-04-30 (run 1)" \
        in flat(repeated.output)
    skipped = invoke("run", "tier", "-p", project)
    assert skipped.exit_code == main.EXIT_SKIPPED == 3
    assert "already done" in flat(skipped.output)
    forced = invoke("run", "tier", "--force", "-p", project)
    assert forced.exit_code == 0 and "version 1, run 4" in flat(forced.output)
    shown = invoke("history", "C4", "-s", "tier", "-p", project)
    assert shown.exit_code == 0
    assert "silver 2026-04-30 2026-06-30 entry" in flat(shown.output)
    assert "bronze 2026-06-30" in flat(shown.output)
    on = invoke("history", "C4", "-s", "tier", "--on", "2026-05-15", "-p", project)
    assert "C4 in tier on 2026-05-15: silver (since 2026-04-30" in flat(on.output)
    moved = invoke("transitions", "tier", "-p", project)
    assert moved.exit_code == 0, moved.output
    assert "0 up, 1 down, 0 new, 0 gone, 4 unchanged" in flat(moved.output)
    listed = invoke("runs", "list", "tier", "--all", "-p", project)
    assert "superseded" in listed.output
    summary = invoke("runs", "show", "4", "-p", project)
    assert "run 4: tier v1 as of 2026-06-30, done, official" in flat(summary.output)


def test_versions_and_overrides(project: Path) -> None:
    assert invoke("scheme", "save", "tier", "-p", project).exit_code == 0
    yaml = project / "tierwise.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace('">= 3"', '">= 3"').replace(
        'orders_3m >= 3"}', 'orders_3m >= 2"}', 1), encoding="utf-8")
    saved = invoke("scheme", "save", "tier", "-p", project, "--note", "looser gold")
    assert "new version 2" in saved.output
    diff = invoke("scheme", "diff", "tier", "1", "2", "-p", project)
    assert "scheme.tiers[0].when" in diff.output and "orders_3m >= 2" in diff.output
    activated = invoke("scheme", "activate", "tier", "2", "-p", project)
    assert "version 2 active from" in activated.output
    listing = invoke("scheme", "list", "tier", "-p", project)
    assert "looser gold" in listing.output and "active" in listing.output
    assert invoke("backfill", "steady", "--from", "2026-06-30", "--to", "2026-06-30", "-p",
                  project).exit_code == 0
    added = invoke("override", "add", "C5", "-s", "steady", "--kind", "pin", "--tier", "gold",
                   "--reason", "key account", "--from", "2026-06-30", "-p", project)
    assert added.exit_code == 0 and "pending" in added.output
    own = invoke("override", "approve", "1", "-p", project)  # the same local operator
    assert own.exit_code == 1 and "cannot approve" in flat(own.output)
    # The approver is who logged in, never a name typed on the command line.
    typed = runner.invoke(main.app, ["override", "approve", "1", "-p", str(project),
                                     "--actor", "supervisor"])
    assert typed.exit_code == 2 and "No such option: --actor" in flat(typed.output)
    queue = invoke("override", "list", "--status", "pending", "-p", project)
    assert "key account" in queue.output


def _login(project: Path, user: str) -> Result:
    return runner.invoke(main.app, ["login", "-p", str(project), "--user", user,
                                    "--password-stdin"], input=PASSWORD + "\n")


PASSWORD = "correct horse battery staple"


def test_people_act_through_their_login(project: Path) -> None:
    assert invoke("backfill", "steady", "--from", "2026-06-30", "--to", "2026-06-30", "-p",
                  project).exit_code == 0
    assert invoke("override", "add", "C5", "-s", "steady", "--kind", "pin", "--tier", "gold",
                  "--reason", "key account", "--from", "2026-06-30", "-p", project
                  ).exit_code == 0
    # No users yet: the local operator makes the first admin, audited as such.
    first = runner.invoke(main.app, ["user", "add", "ada", "--role", "admin", "-p",
                                     str(project), "--password-stdin"], input=PASSWORD + "\n")
    assert first.exit_code == 0 and "added by local:" in first.output
    # From now on, acting on people or grades needs a login.
    refused = runner.invoke(main.app, ["user", "add", "sam", "--role", "supervisor", "-p",
                                       str(project), "--password-stdin"],
                            input=PASSWORD + "\n")
    assert refused.exit_code == 1 and "tierwise login" in flat(refused.output)
    assert invoke("override", "approve", "1", "-p", project).exit_code == 1
    wrong = runner.invoke(main.app, ["login", "-p", str(project), "--user", "ada",
                                     "--password-stdin"], input="guess\n")
    assert wrong.exit_code == 1 and "wrong user name or password" in flat(wrong.output)
    assert _login(project, "ada").exit_code == 0
    assert "ada (admin)" in invoke("whoami", "-p", project).output
    made = runner.invoke(main.app, ["user", "add", "sam", "--role", "supervisor", "-p",
                                    str(project), "--password-stdin"], input=PASSWORD + "\n")
    assert made.exit_code == 0 and "added by ada" in made.output
    assert invoke("user", "add", "max", "--role", "manager", "-p", project,
                  "--password-stdin").exit_code == 1  # reads an empty password: refused
    assert invoke("logout", "-p", project).output.strip() == "logged out"
    assert _login(project, "sam").exit_code == 0
    approved = invoke("override", "approve", "1", "-p", project)
    assert approved.exit_code == 0 and "active by sam" in approved.output
    assert invoke("user", "disable", "ada", "-p", project).exit_code == 1  # not an admin
    assert "may not manage users" in flat(invoke("user", "list", "-p", project).output)
    audit = invoke("audit", "list", "-p", project, "--limit", "40")
    # People read what happened; the API and `audit list --type` keep the keys.
    assert "first administrator created" in audit.output and "logged in" in audit.output


def test_audit_verify_finds_an_edited_and_a_deleted_event(project: Path) -> None:
    invoke("backfill", "tier", "--from", "2026-06-01", "--to", "2026-06-30", "-p", project)
    ok = invoke("audit", "verify", "-p", project)
    assert ok.exit_code == 0 and "hash chain verified" in ok.output
    db = project / ".tierwise" / "store.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_events SET actor = 'someone else' WHERE seq = 2")
    edited = invoke("audit", "verify", "-p", project)
    assert edited.exit_code == 1 and "edited" in edited.output
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_events SET actor = 'analyst' WHERE seq = 2")
    assert invoke("audit", "verify", "-p", project).exit_code == 0  # restored
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_events WHERE seq = 3")
    deleted = invoke("audit", "verify", "-p", project)
    assert deleted.exit_code == 1 and "deleted" in deleted.output
