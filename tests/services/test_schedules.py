"""Schedules: due times and as-of dates (UTC), the atomic claim, runs, catch-up, the thread.

The store tests run on SQLite and on PostgreSQL (``store_url``), against the months project of
tests/services/conftest.py, which has orders up to June 2026.
"""

from __future__ import annotations

import threading
import time as clock
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from tierwise.errors import ConflictError, NotFoundError, SpecError
from tierwise.services import audit_trail, runs
from tierwise.services import schedules as service
from tierwise.services.grading import Project
from tierwise.store import Store


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# -- when a schedule is due, and what it grades -------------------------------------------------


@pytest.mark.parametrize(("cadence", "at", "after", "due"), [
    # monthly: the 1st at the time; strictly after the given moment
    ("monthly", time(2, 0), utc(2026, 6, 15, 12, 0), utc(2026, 7, 1, 2, 0)),
    ("monthly", time(2, 0), utc(2026, 7, 1, 1, 59), utc(2026, 7, 1, 2, 0)),
    ("monthly", time(2, 0), utc(2026, 7, 1, 2, 0), utc(2026, 8, 1, 2, 0)),
    ("monthly", time(0, 0), utc(2026, 12, 31, 23, 59), utc(2027, 1, 1, 0, 0)),
    ("monthly", time(23, 30), utc(2026, 1, 31, 23, 45), utc(2026, 2, 1, 23, 30)),
    ("monthly", time(6, 0), utc(2028, 2, 29, 6, 0), utc(2028, 3, 1, 6, 0)),  # leap day
    # weekly: Mondays (2026-06-29 is a Monday)
    ("weekly", time(3, 0), utc(2026, 6, 29, 2, 0), utc(2026, 6, 29, 3, 0)),
    ("weekly", time(3, 0), utc(2026, 6, 29, 3, 0), utc(2026, 7, 6, 3, 0)),
    ("weekly", time(3, 0), utc(2026, 7, 1, 10, 0), utc(2026, 7, 6, 3, 0)),
    ("weekly", time(3, 0), utc(2026, 7, 5, 23, 59), utc(2026, 7, 6, 3, 0)),  # a Sunday
    ("weekly", time(0, 0), utc(2026, 12, 30, 0, 0), utc(2027, 1, 4, 0, 0)),  # across a year
    # daily
    ("daily", time(1, 15), utc(2026, 6, 30, 1, 0), utc(2026, 6, 30, 1, 15)),
    ("daily", time(1, 15), utc(2026, 6, 30, 1, 15), utc(2026, 7, 1, 1, 15)),
    ("daily", time(1, 15), utc(2026, 12, 31, 8, 0), utc(2027, 1, 1, 1, 15)),
    ("daily", time(0, 0), utc(2026, 2, 28, 0, 0), utc(2026, 3, 1, 0, 0)),
])
def test_next_due(cadence: str, at: time, after: datetime, due: datetime) -> None:
    assert service.next_due(cadence, at, after) == due


def test_next_due_is_in_utc_whatever_zone_the_moment_is_in() -> None:
    # 2026-07-01 09:30 in Shanghai (UTC+8) is 01:30 UTC: the 02:00 UTC run of that day is next.
    shanghai = timezone(timedelta(hours=8))
    assert service.next_due("monthly", time(2, 0), datetime(2026, 7, 1, 9, 30, tzinfo=shanghai)
                            ) == utc(2026, 7, 1, 2, 0)
    # 2026-06-30 20:00 in New York (UTC-4) is already 2026-07-01 00:00 UTC.
    new_york = timezone(timedelta(hours=-4))
    assert service.as_of_for("monthly", datetime(2026, 6, 30, 20, 0, tzinfo=new_york)
                             ) == date(2026, 6, 30)
    # A moment without a zone is UTC.
    assert service.next_due("daily", time(5, 0), datetime(2026, 7, 1, 4, 0)) == utc(2026, 7, 1, 5)


@pytest.mark.parametrize(("cadence", "moment", "as_of"), [
    ("monthly", utc(2026, 7, 1, 2, 0), date(2026, 6, 30)),
    ("monthly", utc(2026, 3, 1, 0, 0), date(2026, 2, 28)),
    ("monthly", utc(2028, 3, 1, 0, 0), date(2028, 2, 29)),  # leap year
    ("monthly", utc(2027, 1, 1, 0, 0), date(2026, 12, 31)),
    ("monthly", utc(2026, 8, 3, 10, 0), date(2026, 7, 31)),  # a late (catch-up) run
    ("weekly", utc(2026, 7, 6, 3, 0), date(2026, 7, 5)),     # Monday -> the Sunday before
    ("weekly", utc(2026, 7, 8, 3, 0), date(2026, 7, 5)),     # Wednesday -> last Sunday
    ("weekly", utc(2026, 7, 5, 3, 0), date(2026, 6, 28)),    # Sunday -> the Sunday before
    ("weekly", utc(2027, 1, 1, 3, 0), date(2026, 12, 27)),
    ("daily", utc(2026, 7, 1, 1, 0), date(2026, 6, 30)),
    ("daily", utc(2026, 1, 1, 0, 0), date(2025, 12, 31)),
])
def test_as_of_for(cadence: str, moment: datetime, as_of: date) -> None:
    assert service.as_of_for(cadence, moment) == as_of


@pytest.mark.parametrize("text", ["24:00", "2:5", "noon", "", "12:60", "-1:00"])
def test_a_time_of_day_is_hh_mm(text: str) -> None:
    with pytest.raises(SpecError, match="is not HH:MM"):
        service.parse_at(text)
    assert service.parse_at("7:05") == time(7, 5)


def test_an_unknown_cadence_is_refused() -> None:
    with pytest.raises(SpecError, match="cadence 'hourly' is not known"):
        service.next_due("hourly", time(1, 0), utc(2026, 1, 1))


# -- schedules in the store ---------------------------------------------------------------------


@pytest.fixture
def project(months: Path) -> Project:
    return Project.open(months)


@pytest.fixture
def store(project: Project) -> Store:
    opened = runs.open_store(project)
    yield opened  # type: ignore[misc]
    opened.close()


MAY = utc(2026, 5, 15, 12, 0)  # when the schedules below were made


def _monthly(store: Store, project: Project, name: str = "month-end",
             schemes: list[str] | None = None) -> service.Schedule:
    return service.add(store, project, name, service.Settings(schemes or ["tier"]),
                       actor="sam", now=MAY)


def test_add_change_pause_resume_delete(store: Store, project: Project) -> None:
    made = _monthly(store, project)
    assert (made.schemes, made.cadence, made.at_time, made.enabled) == (["tier"], "monthly",
                                                                        "02:00", True)
    assert made.next_due_at == utc(2026, 6, 1, 2, 0)
    with pytest.raises(ConflictError, match="exists already"):
        _monthly(store, project)
    with pytest.raises(NotFoundError):
        _monthly(store, project, "other", ["nope"])
    with pytest.raises(SpecError, match="schedule name"):
        _monthly(store, project, "bad name!")
    changed = service.change(store, project, "month-end",
                             service.Settings(["tier", "steady"], "weekly", "3:30"),
                             actor="sam", revision=made.revision, now=MAY)
    assert (changed.schemes, changed.cadence, changed.at_time) == (["tier", "steady"], "weekly",
                                                                   "03:30")
    assert changed.next_due_at == utc(2026, 5, 18, 3, 30)  # the Monday after
    with pytest.raises(ConflictError, match="changed by someone else"):
        service.change(store, project, "month-end", service.Settings(["tier"], "daily", "01:00"),
                       actor="ada", revision=made.revision)
    assert not service.pause(store, "month-end", actor="sam").enabled
    assert service.run_due(project, store, now=utc(2026, 9, 1)) == []  # paused: never due
    resumed = service.resume(store, "month-end", actor="sam", now=utc(2026, 9, 2, 12, 0))
    assert resumed.enabled and resumed.next_due_at == utc(2026, 9, 7, 3, 30)  # no catch-up
    service.delete(store, "month-end", actor="sam")
    assert service.listing(store) == []
    actions = [e.action for e in audit_trail.events(store, object_type="schedule")]
    assert actions == ["schedule.deleted", "schedule.resumed", "schedule.paused",
                       "schedule.changed", "schedule.created"]


def test_a_due_schedule_runs_records_and_then_skips(store: Store, project: Project) -> None:
    _monthly(store, project, schemes=["tier", "steady"])
    assert service.run_due(project, store, now=utc(2026, 6, 1, 1, 59)) == []  # not yet
    [ran] = service.run_due(project, store, now=utc(2026, 7, 1, 2, 0))
    assert (ran.status, ran.as_of, ran.error) == ("done", date(2026, 6, 30), None)
    assert [(r["scheme"], r["status"]) for r in ran.runs] == [("tier", "done"),
                                                              ("steady", "done")]
    after = service.get(store, "month-end")
    assert (after.last_status, after.last_as_of, after.last_error) == ("done",
                                                                       date(2026, 6, 30), None)
    assert after.next_due_at == utc(2026, 8, 1, 2, 0) and after.claimed_by is None
    with store.read() as tx:
        [done] = tx.runs.history_runs("tier")
    assert (done.as_of, done.started_by) == (date(2026, 6, 30), "schedule:month-end")
    [event] = [e for e in audit_trail.events(store, object_type="schedule")
               if e.action == "schedule.ran"]
    assert event.actor == "schedule:month-end" and "done" in str(event.after)
    # Someone graded 2026-07-31 by hand: the August run finds it done and skips it.
    runs.run(project, ["tier", "steady"], as_of=date(2026, 7, 31), store=store)
    [again] = service.run_due(project, store, now=utc(2026, 8, 1, 2, 5))
    assert (again.status, again.as_of) == ("skipped", date(2026, 7, 31))
    assert service.get(store, "month-end").last_status == "skipped"


def test_a_failed_run_is_recorded_with_its_error_and_leaves_nothing(
        store: Store, project: Project, months: Path) -> None:
    _monthly(store, project)
    orders = months / "orders.csv"
    orders.write_text(orders.read_text(encoding="utf-8") + "X1,C1,2026-06-20,lots\n",
                      encoding="utf-8")
    [ran] = service.run_due(project, store, now=utc(2026, 7, 1, 2, 0))
    assert ran.status == "failed" and ran.error and "lots" in ran.error
    found = service.get(store, "month-end")
    assert found.last_status == "failed" and found.last_error == ran.error
    assert found.next_due_at == utc(2026, 8, 1, 2, 0) and found.claimed_by is None
    with store.read() as tx:
        assert tx.runs.history_runs("tier") == []  # nothing half-written


def test_a_missed_schedule_catches_up_once(store: Store, project: Project) -> None:
    """Due on June 1st, the server was down until August 3rd: one run, for July 31st."""
    _monthly(store, project)
    [ran] = service.run_due(project, store, now=utc(2026, 8, 3, 10, 0))
    assert (ran.status, ran.as_of) == ("done", date(2026, 7, 31))
    assert service.get(store, "month-end").next_due_at == utc(2026, 9, 1, 2, 0)
    assert service.run_due(project, store, now=utc(2026, 8, 3, 10, 1)) == []
    with store.read() as tx:
        assert [r.as_of for r in tx.runs.history_runs("tier")] == [date(2026, 7, 31)]


def test_two_claimers_one_wins(store: Store, project: Project) -> None:
    made = _monthly(store, project)
    at = utc(2026, 7, 1, 2, 0)
    other = Store.open(store.url)
    first_holds = threading.Event()
    results: dict[str, bool] = {}

    def first() -> None:
        with store.write() as tx:
            results["first"] = tx.schedules.claim(made.id, claimer="a", at=at,
                                                  until=at + service.LEASE)
            first_holds.set()
            clock.sleep(0.5)  # the second claimer waits for this transaction

    def second() -> None:
        first_holds.wait(10)
        with other.write() as tx:
            results["second"] = tx.schedules.claim(made.id, claimer="b", at=at,
                                                   until=at + service.LEASE)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    other.close()
    assert results == {"first": True, "second": False}
    assert service.get(store, "month-end").claimed_by == "a"
    # The claim holds for its lease: nobody else runs it meanwhile ...
    assert service.run_due(project, store, now=at + timedelta(hours=1)) == []
    # ... and a claimer that died lets it go when the lease has run out.
    [ran] = service.run_due(project, store, now=at + service.LEASE + timedelta(minutes=1))
    assert ran.status == "done"


def test_two_servers_running_due_schedules_run_each_once(store: Store,
                                                          project: Project) -> None:
    _monthly(store, project)
    at = utc(2026, 7, 1, 2, 0)
    other = Store.open(store.url)
    ran: list[service.Ran] = []
    start = threading.Barrier(2)

    def server(st: Store, name: str) -> None:
        start.wait(10)
        ran.extend(service.run_due(project, st, now=at, claimer=name))

    threads = [threading.Thread(target=server, args=(st, n))
               for st, n in ((store, "one"), (other, "two"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    other.close()
    assert [(r.schedule, r.status) for r in ran] == [("month-end", "done")]
    with store.read() as tx:
        assert len(tx.runs.history_runs("tier")) == 1


def test_the_scheduler_thread_runs_a_due_schedule(store: Store, project: Project) -> None:
    _monthly(store, project)  # due since 2026-06-01: the thread catches up at once
    scheduler = service.Scheduler(project, store, every=0.2)
    scheduler.start()
    try:
        for _ in range(600):
            found = service.get(store, "month-end")
            if found.last_status is not None:
                break
            clock.sleep(0.1)
    finally:
        scheduler.stop()
    assert found.last_status == "done", found
    assert found.next_due_at > datetime.now(UTC)
