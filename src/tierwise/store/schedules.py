"""Schedules in the store: runs the server starts by itself, and how the last one ended.

A schedule is due when it is enabled and its ``next_due_at`` has passed. A process takes a due
schedule with :func:`claim`, one ``UPDATE`` whose condition only one claimer can meet (it is not
claimed, or its lease ran out), so two server processes never both run it; :func:`record` then
writes the outcome, the next due time, and lets the claim go. Times are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from tierwise.errors import ConflictError, NotFoundError
from tierwise.i18n import _
from tierwise.store import audit, visibility
from tierwise.store.schemes import now
from tierwise.store.tables import schedules


@dataclass(frozen=True)
class Schedule:
    """One schedule: which schemes, how often, when it is due, how the last run ended."""

    id: int
    name: str
    schemes: list[str]
    cadence: str
    at_time: str
    enabled: bool
    next_due_at: datetime
    claimed_by: str | None
    claimed_until: datetime | None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_status: str | None
    last_as_of: date | None
    last_error: str | None
    last_runs: list[dict[str, Any]] | None
    created_at: datetime
    created_by: str
    revision: int


@dataclass(frozen=True)
class Outcome:
    """How one scheduled run ended, as :func:`record` stores it."""

    status: str  # done | skipped | failed
    as_of: date | None
    error: str | None
    runs: list[dict[str, Any]]
    started_at: datetime
    next_due_at: datetime


def _utc(value: datetime) -> datetime:
    """A stored time as UTC (SQLite gives it back without its zone)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _maybe_utc(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


def _schedule(row: sa.Row[Any]) -> Schedule:
    return Schedule(row.id, row.name, list(row.schemes), row.cadence, row.at_time, row.enabled,
                    _utc(row.next_due_at), row.claimed_by, _maybe_utc(row.claimed_until),
                    _maybe_utc(row.last_started_at), _maybe_utc(row.last_finished_at),
                    row.last_status, row.last_as_of, row.last_error, row.last_runs,
                    _utc(row.created_at), row.created_by, row.revision)


def _settings(s: Schedule) -> dict[str, Any]:
    return {"schemes": s.schemes, "cadence": s.cadence, "at": s.at_time, "enabled": s.enabled,
            "next_due_at": s.next_due_at.isoformat()}


def create(conn: sa.Connection, name: str, *, schemes: list[str], cadence: str, at_time: str,
           next_due_at: datetime, enabled: bool, actor: str) -> Schedule:
    """Add a schedule.

    Raises:
        ConflictError: a schedule of that name exists.

    """
    if conn.execute(sa.select(schedules.c.id).where(schedules.c.name == name)).first():
        raise ConflictError(_("a schedule named {name!r} exists already; pick another name or "
                              "change that one").format(name=name))
    conn.execute(sa.insert(schedules).values(
        name=name, schemes=schemes, cadence=cadence, at_time=at_time, enabled=enabled,
        next_due_at=next_due_at, created_at=now(), created_by=actor))
    made = get(conn, name)
    audit.append(conn, actor=actor, action="schedule.created", object_type="schedule",
                 object_id=name, after=_settings(made))
    return made


def get(conn: sa.Connection, name: str) -> Schedule:
    """A schedule by name.

    Raises:
        NotFoundError: no schedule of that name.

    """
    row = conn.execute(sa.select(schedules).where(schedules.c.name == name)).first()
    found = _schedule(row) if row is not None else None
    if found is None or _hides(found):
        raise NotFoundError(_("no schedule named {name!r}; `tierwise schedule list` shows "
                              "them").format(name=name))
    return found


def listing(conn: sa.Connection) -> list[Schedule]:
    """Every schedule, by name (but those the current user may not see)."""
    found = [_schedule(r) for r in
             conn.execute(sa.select(schedules).order_by(schedules.c.name)).all()]
    return [s for s in found if not _hides(s)]


def _hides(schedule: Schedule) -> bool:
    """A schedule that runs a confidential scheme the current user may not see is missing."""
    return bool(set(schedule.schemes) & visibility.hidden())


def change(conn: sa.Connection, /, name: str, *, revision: int | None, actor: str,
           action: str = "schedule.changed", **values: Any) -> Schedule:
    """Change a schedule's settings, at the revision the caller read (None: any).

    ``values`` are columns: ``schemes``, ``cadence``, ``at_time``, ``enabled``, ``next_due_at``.

    Raises:
        NotFoundError: no schedule of that name.
        ConflictError: someone changed it since ``revision``.

    """
    before = get(conn, name)
    if revision is not None and before.revision != revision:
        raise ConflictError(_("schedule {name!r} was changed by someone else meanwhile "
                              "(revision {now}, you edited {revision}); reload it and redo "
                              "your change").format(name=name, now=before.revision,
                                                    revision=revision))
    conn.execute(sa.update(schedules).where(schedules.c.id == before.id)
                 .values(revision=before.revision + 1, **values))
    after = get(conn, name)
    audit.append(conn, actor=actor, action=action, object_type="schedule", object_id=name,
                 before=_settings(before), after=_settings(after))
    return after


def delete(conn: sa.Connection, name: str, *, actor: str) -> None:
    """Remove a schedule (its runs stay in the history).

    Raises:
        NotFoundError: no schedule of that name.

    """
    before = get(conn, name)
    conn.execute(sa.delete(schedules).where(schedules.c.id == before.id))
    audit.append(conn, actor=actor, action="schedule.deleted", object_type="schedule",
                 object_id=name, before=_settings(before))


def due(conn: sa.Connection, at: datetime) -> list[Schedule]:
    """The enabled schedules due at ``at`` that nobody holds, the longest waiting first."""
    return [_schedule(r) for r in conn.execute(
        sa.select(schedules).where(*_claimable(at)).order_by(schedules.c.next_due_at,
                                                             schedules.c.id)).all()]


def _claimable(at: datetime) -> list[sa.ColumnElement[bool]]:
    return [schedules.c.enabled.is_(True), schedules.c.next_due_at <= at,
            sa.or_(schedules.c.claimed_until.is_(None), schedules.c.claimed_until < at)]


def claim(conn: sa.Connection, schedule_id: int, *, claimer: str, at: datetime,
          until: datetime) -> bool:
    """Take a due schedule until ``until``; False when another process took it first.

    One conditional ``UPDATE``: on PostgreSQL a second claimer waits for the first one's row
    lock and then finds the condition false; SQLite serialises write transactions.
    """
    done = conn.execute(sa.update(schedules).where(schedules.c.id == schedule_id,
                                                   *_claimable(at))
                        .values(claimed_by=claimer, claimed_until=until, last_started_at=at))
    return done.rowcount == 1


def record(conn: sa.Connection, schedule_id: int, outcome: Outcome, *, claimer: str,
           actor: str) -> None:
    """Store how a claimed run ended and when the schedule is due next; let the claim go."""
    row = conn.execute(sa.select(schedules).where(schedules.c.id == schedule_id)).first()
    if row is None:  # deleted while it ran: its runs are in the history, nothing to record
        return
    values: dict[str, Any] = {
        "last_finished_at": now(), "last_status": outcome.status, "last_as_of": outcome.as_of,
        "last_error": outcome.error, "last_runs": outcome.runs,
        "next_due_at": max(outcome.next_due_at, _utc(row.next_due_at))}
    if row.claimed_by == claimer:
        values.update(claimed_by=None, claimed_until=None)
    conn.execute(sa.update(schedules).where(schedules.c.id == schedule_id).values(**values))
    audit.append(conn, actor=actor, action="schedule.ran", object_type="schedule",
                 object_id=row.name,
                 after={"status": outcome.status,
                        "as_of": outcome.as_of.isoformat() if outcome.as_of else None,
                        "error": outcome.error, "runs": outcome.runs,
                        "next_due_at": values["next_due_at"].isoformat()})
