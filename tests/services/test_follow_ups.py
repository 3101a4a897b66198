"""Follow-up tasks of actions: owner and due date per customer, open while the tier holds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from tests.cli.running import flat, invoke
from tests.conftest import write
from tierwise.errors import SpecError
from tierwise.policies.follow_ups import due_dates
from tierwise.policies.reviews import WorkCalendar
from tierwise.services import delivery, runs, tasks
from tierwise.services.grading import Project

# National Day 2026: 1-7 October off, Saturday 10 October worked (调休).
HOLIDAYS = "[2026-10-01, 2026-10-02, 2026-10-05, 2026-10-06, 2026-10-07]"
YAML = f"""
name: deals
sources:
  customers:
    path: customers.csv
    id: customer_id
    columns:
      customer_id: {{type: string}}
      stage: {{type: string}}
      owner: {{type: string, required: false}}
      expected: {{type: date, required: false}}
indicators:
  stage: {{attribute: stage}}
  owner: {{attribute: owner}}
  expected: {{attribute: expected}}
schemes:
  intent:
    method: rules
    fallback: none
    tiers:
      - {{key: interested, when: "stage == 'interested'"}}
      - {{key: not_now, when: "stage == 'not_now'"}}
      - {{key: none}}
actions:
  call:
    scheme: intent
    kind: file
    on: enter
    tiers: [interested]
    follow_up:
      task: {{en: Call them, zh: 电话跟进}}
      owner: owner
      within_days: 2
      calendar: {{holidays: {HOLIDAYS}, workdays: [2026-10-10]}}
  revisit:
    scheme: intent
    kind: file
    on: enter
    tiers: [not_now]
    follow_up:
      task: {{en: Contact before their date, zh: 在预计日期前联系}}
      owner: owner
      before: expected
      days_before: 30
      within_days: 5
      calendar: {{holidays: {HOLIDAYS}, workdays: [2026-10-10]}}
"""
ROWS = ["C1,interested,east.1,", "C2,not_now,east.1,2026-12-31", "C3,not_now,west.1,2026-10-15",
        "C4,not_now,,", "C5,none,east.1,"]


def _project(folder: Path, rows: list[str], yaml: str = YAML) -> Project:
    write(folder, "tierwise.yaml", yaml)
    write(folder, "customers.csv", "customer_id,stage,owner,expected\n" + "\n".join(rows) + "\n")
    return Project.open(folder)


def _run(project: Project, day: date) -> None:
    outcome, = runs.run(project, ["intent"], as_of=day, force=True)
    assert outcome.status == "done", outcome


def test_due_dates_count_working_days_over_a_holiday() -> None:
    calendar = WorkCalendar(holidays=frozenset(date(2026, 10, d) for d in (1, 2, 5, 6, 7)),
                            workdays=frozenset({date(2026, 10, 10)}))
    wed = date(2026, 9, 30)
    assert due_dates(wed, None, within_days=2, days_before=0, calendar=calendar,
                     count=1) == [date(2026, 10, 9)]
    assert due_dates(wed, None, within_days=2, days_before=0, calendar=WorkCalendar(),
                     count=1) == [date(2026, 10, 2)]
    before = [date(2026, 12, 31), date(2026, 10, 15), None]
    assert due_dates(wed, before, within_days=5, days_before=30, calendar=calendar,
                     count=3) == [date(2026, 12, 1), wed, date(2026, 10, 13)]
    assert due_dates(wed, [None], within_days=None, days_before=30, calendar=calendar,
                     count=1) == [wed]


def test_each_customer_reached_gets_an_owner_and_a_due_date(tmp_path: Path) -> None:
    project = _project(tmp_path, ROWS)
    _run(project, date(2026, 9, 30))
    found = tasks.open_tasks(project, runs.open_store(project), today=date(2026, 10, 9))
    got = {t.customer_id: (t.action, t.owner, t.due_on, t.state) for t in found.tasks}
    assert got == {
        "C1": ("call", "east.1", date(2026, 10, 9), "due_soon"),  # 2 working days after Oct 7
        "C2": ("revisit", "east.1", date(2026, 12, 1), "ok"),  # a month before 31 Dec
        "C3": ("revisit", "west.1", date(2026, 9, 30), "overdue"),  # 15 Oct is too close: now
        "C4": ("revisit", None, date(2026, 10, 13), "due_soon"),  # no date: 5 working days
    }
    # Owners in name order, the unassigned last; each owner's most urgent first.
    assert [t.customer_id for t in found.tasks] == ["C1", "C2", "C3", "C4"]
    assert found.counts[("east.1", "due_soon")] == 1 and found.closed == 0
    mine = tasks.open_tasks(project, runs.open_store(project), owner="west.1",
                            today=date(2026, 10, 9))
    assert [t.customer_id for t in mine.tasks] == ["C3"]


def test_a_task_closes_when_its_customer_leaves_the_tier(tmp_path: Path) -> None:
    project = _project(tmp_path, ROWS)
    _run(project, date(2026, 9, 30))
    rows = [r.replace("C2,not_now", "C2,none") for r in ROWS]
    project = _project(tmp_path, rows)
    _run(project, date(2026, 10, 31))
    found = tasks.open_tasks(project, runs.open_store(project), today=date(2026, 11, 2))
    assert sorted(t.customer_id for t in found.tasks) == ["C1", "C3", "C4"]
    assert found.closed == 1
    # Staying interested sets no new task: the first one is still open, and now overdue.
    c1, = (t for t in found.tasks if t.customer_id == "C1")
    assert (c1.due_on, c1.state, c1.days) == (date(2026, 10, 9), "overdue", 24)


def test_a_superseded_run_or_a_later_holdout_sets_no_task(tmp_path: Path) -> None:
    project = _project(tmp_path, ROWS)
    _run(project, date(2026, 9, 30))
    # The same date graded again with nearly everyone held out: the first run's tasks are
    # superseded with it, and the held-out customers have no task.
    held = YAML.replace("    tiers: [not_now]\n", "    tiers: [not_now]\n    holdout: 0.99\n")
    project = _project(tmp_path, ROWS, held)
    _run(project, date(2026, 9, 30))
    found = tasks.open_tasks(project, runs.open_store(project), today=date(2026, 10, 9))
    assert [t.customer_id for t in found.tasks] == ["C1"]


def test_odd_rows_close_instead_of_failing(tmp_path: Path) -> None:
    # A placeholder date far in the past is due at once, not an arithmetic overflow.
    assert due_dates(date(2026, 9, 30), [date(1, 1, 15)], within_days=None, days_before=30,
                     calendar=WorkCalendar(), count=1) == [date(2026, 9, 30)]
    leave = YAML.replace("    on: enter\n    tiers: [interested]", "    on: leave\n    tiers: [interested]")
    project = _project(tmp_path, ROWS, leave)
    _run(project, date(2026, 9, 30))
    project = _project(tmp_path, ROWS[1:], leave)  # C1 leaves the data
    _run(project, date(2026, 10, 31))
    store = runs.open_store(project)
    found = tasks.open_tasks(project, store, scheme="intent", today=date(2026, 11, 2))
    assert "C1" not in [t.customer_id for t in found.tasks] and found.closed == 1
    # An action moved to another scheme closes the tasks it set for the first one.
    moved = leave.replace("actions:", "  intent2:\n    method: rules\n    fallback: none\n"
                          "    tiers:\n      - {key: none}\nactions:", 1).replace(
        "  revisit:\n    scheme: intent", "  revisit:\n    scheme: intent2")
    project = _project(tmp_path, ROWS[1:], moved)
    _run(project, date(2026, 11, 30))
    again = tasks.open_tasks(project, runs.open_store(project), today=date(2026, 12, 1))
    assert again.tasks == [] and again.closed == 4  # C2-C4 moved with it, and C1 as before


def test_the_file_drop_carries_task_owner_and_due_date(tmp_path: Path) -> None:
    project = _project(tmp_path, ROWS)
    _run(project, date(2026, 9, 30))
    done = delivery.deliver(project, runs.open_store(project), "revisit")
    rows = pacsv.read_csv(done.files[0], convert_options=pacsv.ConvertOptions(
        strings_can_be_null=True)).to_pylist()
    got = {r["customer_id"]: (r["task"], r["owner"], str(r["due_on"])) for r in rows}
    assert got == {"C2": ("Contact before their date", "east.1", "2026-12-01"),
                   "C3": ("Contact before their date", "west.1", "2026-09-30"),
                   "C4": ("Contact before their date", None, "2026-10-13")}


def test_tasks_command_lists_per_owner_in_chinese(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    project = _project(tmp_path, ROWS)
    _run(project, date(2026, 9, 30))
    result = invoke("tasks", "-p", tmp_path, "--today", "2026-10-09", "--lang", "zh")
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert "各负责人的跟进任务" in text and "（未指定）" in text
    assert "east.1：2 项跟进任务（显示 2 项）" in text
    assert "电话跟进" in text and "在预计日期前联系" in text
    only = flat(invoke("tasks", "-p", tmp_path, "--today", "2026-10-09", "--owner",
                       "west.1").output)
    assert "C3" in only and "C1" not in only and "C2" not in only


def test_follow_ups_are_checked_when_the_project_loads(tmp_path: Path) -> None:
    no_date = YAML.replace("      within_days: 2\n", "", 1)
    with pytest.raises(SpecError, match="a follow-up needs a due date"):
        _project(tmp_path / "a", ROWS, no_date)
    not_a_date = YAML.replace("before: expected", "before: owner")
    with pytest.raises(SpecError, match=r"follow_up\.before must be a date indicator; 'owner' is"):
        _project(tmp_path / "b", ROWS, not_a_date)
    unknown = YAML.replace("owner: owner\n      within_days: 2", "owner: ownr\n      within_days: 2")
    with pytest.raises(SpecError, match="unknown indicator 'ownr'; did you mean 'owner'"):
        _project(tmp_path / "c", ROWS, unknown)
    numbers = YAML.replace("owner: {type: string, required: false}",
                           "owner: {type: int, required: false}")
    with pytest.raises(SpecError, match=r"follow_up\.owner must be a text indicator"):
        _project(tmp_path / "e", [r.replace("east.1", "7").replace("west.1", "8")
                                  for r in ROWS], numbers)
    orphan = YAML.replace("      within_days: 2\n", "      within_days: 2\n      days_before: 5\n", 1)
    with pytest.raises(SpecError, match="`days_before:` counts ahead of the `before:` date"):
        _project(tmp_path / "f", ROWS, orphan)
    missing = YAML.replace("calendar: {holidays: " + HOLIDAYS + ", workdays: [2026-10-10]}",
                           "calendar: {file: calendars/none.csv}", 1)
    with pytest.raises(SpecError, match=r"calendars/none\.csv"):
        _project(tmp_path / "d", ROWS, missing)


def test_no_follow_up_is_a_clear_error(tmp_path: Path) -> None:
    plain = YAML[:YAML.index("actions:")]
    project = _project(tmp_path, ROWS, plain)
    with pytest.raises(SpecError, match="no action of 'deals' has a `follow_up:`"):
        tasks.open_tasks(project, runs.open_store(project))
