"""Scheduled runs: schemes graded monthly, weekly or daily, by the server or by cron.

Every time here is UTC, and so is the time of day a schedule names: a server's local zone and
daylight-saving shifts never move a run, and two servers in different zones agree on what is
due. A schedule runs

* ``monthly`` on the 1st at its time, grading the last day of the previous month;
* ``weekly`` on Mondays at its time, grading the Sunday before;
* ``daily`` every day at its time, grading the day before.

A run that was missed (the server was down) runs once when a server looks again, for the latest
period (the as-of date is computed from the time it runs), never once per missed period. Runs go
through :func:`tierwise.services.runs.run` with the same outcomes as ``tierwise run``: done,
skipped when the date is already done, or failed with the error and nothing half-written.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tierwise import i18n
from tierwise.errors import SpecError
from tierwise.i18n import N_, _
from tierwise.services import runs
from tierwise.services.jobs import error_text
from tierwise.services.project import Project
from tierwise.store import Store
from tierwise.store.schedules import Outcome, Schedule

__all__ = ["CADENCES", "LEASE", "Ran", "Schedule", "Scheduler", "Settings", "add", "as_of_for", "change",
           "delete", "listing", "next_due", "parse_at", "pause", "resume", "run_due"]

#: The cadences and what each grades, for people.
CADENCES: dict[str, str] = {
    "monthly": N_("monthly, on the 1st: grades the last day of the previous month"),
    "weekly": N_("weekly, on Mondays: grades the Sunday before"),
    "daily": N_("daily: grades the day before"),
}
#: How long a claimed run may take before another process may take the schedule over.
LEASE = timedelta(hours=12)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_AT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
log = logging.getLogger("tierwise.scheduler")


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a time without a zone is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_at(text: str) -> time:
    """A time of day typed as ``HH:MM`` (UTC).

    Raises:
        SpecError: it is not a time of day.

    """
    found = _AT.match(text.strip())
    if found is None:
        raise SpecError(_("the time of day {text!r} is not HH:MM (00:00 to 23:59, UTC); write "
                          "e.g. 02:30").format(text=text[:20]))
    return time(int(found.group(1)), int(found.group(2)))


def _check_cadence(cadence: str) -> str:
    if cadence not in CADENCES:
        raise SpecError(_("the cadence {cadence!r} is not known; use monthly, weekly or daily")
                        .format(cadence=cadence[:20]))
    return cadence


def next_due(cadence: str, at: time, after: datetime) -> datetime:
    """The first time strictly after ``after`` when a ``cadence`` schedule runs (UTC)."""
    _check_cadence(cadence)
    after = _utc(after)
    day = after.date()
    if cadence == "monthly":
        first = day.replace(day=1)
        if datetime.combine(first, at, UTC) > after:
            return datetime.combine(first, at, UTC)
        following = (first + timedelta(days=32)).replace(day=1)
        return datetime.combine(following, at, UTC)
    step = 7 if cadence == "weekly" else 1
    if cadence == "weekly":
        day += timedelta(days=(-day.weekday()) % 7)  # this Monday, or the next one
    candidate = datetime.combine(day, at, UTC)
    return candidate if candidate > after else candidate + timedelta(days=step)


def as_of_for(cadence: str, moment: datetime) -> date:
    """The date a ``cadence`` schedule grades when it runs at ``moment`` (UTC).

    monthly: the last day of the previous month; weekly: the last Sunday before the day;
    daily: the day before.
    """
    _check_cadence(cadence)
    day = _utc(moment).date()
    if cadence == "monthly":
        return day.replace(day=1) - timedelta(days=1)
    if cadence == "weekly":
        return day - timedelta(days=((day.weekday() - 6) % 7) or 7)
    return day - timedelta(days=1)


def _check(project: Project, name: str, settings: Settings) -> tuple[list[str], str, str]:
    """A schedule's settings, checked: its name, schemes, cadence and time of day."""
    if not _NAME.match(name):
        raise SpecError(_("the schedule name {name!r} is not allowed; use letters, digits, _, "
                          "- and . (up to 100), starting with a letter or digit").format(
                              name=name[:100]))
    names = list(dict.fromkeys(s.strip() for s in settings.schemes if s.strip()))
    if not names:
        raise SpecError(_("a schedule needs at least one scheme to run"))
    for scheme in names:
        project.scheme(scheme)
    clock = parse_at(settings.at)
    return names, _check_cadence(settings.cadence), f"{clock:%H:%M}"


@dataclass(frozen=True)
class Settings:
    """What a person sets on a schedule: the schemes, the cadence, the time of day (UTC)."""

    schemes: list[str]
    cadence: str = "monthly"
    at: str = "02:00"
    enabled: bool = True


def add(store: Store, project: Project, name: str, settings: Settings, *, actor: str,
        now: datetime | None = None) -> Schedule:
    """Add a schedule; it is first due at its next time after ``now``.

    Raises:
        SpecError: a setting is invalid (name, cadence, time of day, no scheme).
        NotFoundError: the project has no such scheme.
        ConflictError: a schedule of that name exists.

    """
    names, cadence, clock = _check(project, name, settings)
    due = next_due(cadence, parse_at(clock), now or datetime.now(UTC))
    with store.write() as tx:
        return tx.schedules.create(name, schemes=names, cadence=cadence, at_time=clock,
                                   next_due_at=due, enabled=settings.enabled, actor=actor)


def change(store: Store, project: Project, name: str, settings: Settings, *, actor: str,
           revision: int | None, now: datetime | None = None) -> Schedule:
    """Change a schedule's schemes, cadence or time; it is next due at its next time.

    Raises:
        SpecError: a setting is invalid.
        NotFoundError: no such schedule or scheme.
        ConflictError: someone changed the schedule since ``revision``.

    """
    names, cadence, clock = _check(project, name, settings)
    due = next_due(cadence, parse_at(clock), now or datetime.now(UTC))
    with store.write() as tx:
        return tx.schedules.change(name, revision=revision, actor=actor, schemes=names,
                                   cadence=cadence, at_time=clock, next_due_at=due)


def pause(store: Store, name: str, *, actor: str, revision: int | None = None) -> Schedule:
    """Stop a schedule from running until it is resumed."""
    with store.write() as tx:
        return tx.schedules.change(name, revision=revision, actor=actor,
                                   action="schedule.paused", enabled=False)


def resume(store: Store, name: str, *, actor: str, revision: int | None = None,
           now: datetime | None = None) -> Schedule:
    """Let a paused schedule run again, from its next time after ``now`` (no catch-up)."""
    with store.write() as tx:
        found = tx.schedules.get(name)
        due = next_due(found.cadence, parse_at(found.at_time), now or datetime.now(UTC))
        return tx.schedules.change(name, revision=revision, actor=actor,
                                   action="schedule.resumed", enabled=True, next_due_at=due)


def delete(store: Store, name: str, *, actor: str) -> None:
    """Remove a schedule; the runs it made stay in the history."""
    with store.write() as tx:
        tx.schedules.delete(name, actor=actor)


def listing(store: Store) -> list[Schedule]:
    """Every schedule, by name."""
    with store.read() as tx:
        return tx.schedules.listing()


def get(store: Store, name: str) -> Schedule:
    """One schedule by name (NotFoundError when there is none)."""
    with store.read() as tx:
        return tx.schedules.get(name)


@dataclass(frozen=True)
class Ran:
    """What one due schedule did: ``done``, ``skipped`` or ``failed``, as of which date."""

    schedule: str
    status: str
    as_of: date | None
    error: str | None
    runs: list[dict[str, Any]]


def claimer_name() -> str:
    """Who claims schedules: this host and process, and a token of this claimer."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:200]


def run_due(project: Project, store: Store, *, now: datetime | None = None,
            claimer: str | None = None) -> list[Ran]:
    """Claim every due schedule, run it, and record how it ended.

    A schedule another process claimed first (or holds, within its :data:`LEASE`) is left to
    it. Each run's actor is ``schedule:<name>``.
    """
    at = _utc(now or datetime.now(UTC))
    who = claimer or claimer_name()
    with store.read() as tx:
        candidates = tx.schedules.due(at)
    done: list[Ran] = []
    for schedule in candidates:
        with store.write() as tx:
            if not tx.schedules.claim(schedule.id, claimer=who, at=at, until=at + LEASE):
                continue
        done.append(_run_claimed(project, store, schedule, at, who))
    return done


def _run_claimed(project: Project, store: Store, schedule: Schedule, at: datetime,
                 claimer: str) -> Ran:
    actor = f"schedule:{schedule.name}"
    day: date | None = None
    results: list[dict[str, Any]] = []
    error = None
    try:
        day = as_of_for(schedule.cadence, at)
        outcomes = runs.run(project, schedule.schemes, as_of=day, actor=actor, store=store)
        results = [{"scheme": o.scheme, "status": o.status, "run_id": o.run.id}
                   for o in outcomes]
        status = "done" if any(o.status == "done" for o in outcomes) else "skipped"
    except Exception as exc:  # recorded on the schedule; the run service left nothing visible
        status, error = "failed", error_text(exc)
    following = next_due(schedule.cadence, parse_at(schedule.at_time), at)
    with store.write() as tx:
        tx.schedules.record(schedule.id, Outcome(status, day, error, results, at, following),
                            claimer=claimer, actor=actor)
    return Ran(schedule.name, status, day, error, results)


class Scheduler:
    """The server's scheduler: a thread that runs due schedules, now and then every minute.

    Each server process has one; the claim in the store makes sure one schedule runs once.
    Runs speak the project's language (``language:``).
    """

    def __init__(self, project: Project, store: Store, *, every: float = 60.0) -> None:
        self.project, self.store, self.every = project, store, every
        self.claimer = claimer_name()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (a daemon: it never keeps a stopping server alive)."""
        self._thread = threading.Thread(target=self._loop, name="tierwise-scheduler",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop after the run in progress, and wait up to ``timeout``."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        with i18n.use(self.project.spec.language):
            while not self._stop.is_set():
                try:
                    for ran in run_due(self.project, self.store, claimer=self.claimer):
                        log.info("schedule %s: %s as of %s%s", ran.schedule, ran.status,
                                 ran.as_of, f" ({ran.error})" if ran.error else "")
                except Exception:  # the store is unreachable now: look again next minute
                    log.exception("the scheduler could not read or record schedules")
                self._stop.wait(self.every)
