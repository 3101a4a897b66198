"""``tierwise schedule``: add, list, pause, resume, and run-due's exit codes for cron."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.cli.running import flat, invoke, months_project
from tierwise.cli import main
from tierwise.services import runs
from tierwise.services import schedules as service
from tierwise.services.grading import Project

MAY = datetime(2026, 5, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return months_project(tmp_path, monkeypatch)


def _make_due(folder: Path, name: str) -> None:
    """Move a schedule's next run into the past, as if the server had been down."""
    project = Project.open(folder)
    store = runs.open_store(project)
    found = service.get(store, name)
    service.change(store, project, name,
                   service.Settings(found.schemes, found.cadence, found.at_time),
                   actor="test", revision=found.revision, now=MAY)
    store.close()


def test_add_list_pause_resume(project: Path) -> None:
    empty = invoke("schedule", "list", "-p", project)
    assert empty.exit_code == 0 and "no schedule yet" in empty.output
    added = invoke("schedule", "add", "month-end", "--scheme", "tier", "--scheme", "steady",
                   "--every", "monthly", "--at", "02:30", "-p", project)
    assert added.exit_code == 0, added.output
    assert "schedule month-end: tier, steady monthly at 02:30 UTC; next run" in flat(added.output)
    listed = flat(invoke("schedule", "list", "-p", project).output)
    assert "month-end tier, steady monthly 02:30 on" in listed
    bad = invoke("schedule", "add", "x", "--scheme", "tier", "--every", "hourly", "-p", project)
    assert bad.exit_code == 2 and "cadence 'hourly' is not known" in flat(bad.output)
    unknown = invoke("schedule", "pause", "nope", "-p", project)
    assert unknown.exit_code == 1 and "no schedule named 'nope'" in flat(unknown.output)
    assert invoke("schedule", "pause", "month-end", "-p", project).exit_code == 0
    assert "month-end tier, steady monthly 02:30 paused" in flat(
        invoke("schedule", "list", "-p", project).output)
    resumed = invoke("schedule", "resume", "month-end", "-p", project)
    assert resumed.exit_code == 0 and "resumed; next run" in resumed.output
    zh = invoke("schedule", "list", "--lang", "zh-Hans", "-p", project)
    assert "每月" in zh.output


def test_run_due_exit_codes(project: Path) -> None:
    assert invoke("schedule", "add", "month-end", "--scheme", "tier", "-p", project
                  ).exit_code == 0
    nothing = invoke("schedule", "run-due", "-p", project)
    assert nothing.exit_code == main.EXIT_SKIPPED and "no schedule is due" in nothing.output
    _make_due(project, "month-end")
    # Due since June 1st: one run now, for the last day of the month before today.
    expected = service.as_of_for("monthly", datetime.now(UTC))
    done = invoke("schedule", "run-due", "-p", project)
    assert done.exit_code == 0, done.output
    assert f"month-end: done as of {expected.isoformat()}" in flat(done.output)
    assert invoke("schedule", "run-due", "-p", project).exit_code == 3  # not due again yet
    _make_due(project, "month-end")
    skipped = invoke("schedule", "run-due", "-p", project)
    assert skipped.exit_code == 3 and "month-end: skipped as of" in flat(skipped.output)
    orders = project / "orders.csv"
    orders.write_text(orders.read_text(encoding="utf-8") + "X1,C1,2026-06-20,lots\n",
                      encoding="utf-8")
    invoke("run", "tier", "--as-of", "2026-06-30", "-p", project)  # fails too, nothing kept
    _make_due(project, "month-end")
    store = runs.open_store(Project.open(project))
    with store.write() as tx:  # a new month's date, not done yet, so the run must grade
        tx.conn.exec_driver_sql("UPDATE runs SET status = 'superseded'")
    store.close()
    failed = invoke("schedule", "run-due", "-p", project)
    assert failed.exit_code == 1 and "month-end: failed as of" in flat(failed.output)
    assert "lots" in flat(failed.output)
    listed = flat(invoke("schedule", "list", "-p", project).output)
    assert f"failed as of {expected.isoformat()}" in listed and "lots" in listed
    assert date.today() >= expected
