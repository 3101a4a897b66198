"""The action ledger: who each action reached on a run, and the state of each delivery.

One row per action, run and customer; its ``key`` (:func:`key_of`) is the idempotency key a
webhook or an email carries, so a receiver can drop a repeat. :func:`record` writes a run's
rows once (a second call for the same run adds nothing); delivery then moves each row from
``planned`` (or ``failed``, when its next try is due) to ``sent``, ``failed`` or ``dead`` with
:func:`mark`, one row at a time, so a crash resumes exactly the rows not yet sent. An assign
action that asks for approval parks a reassignment in ``review`` with the manager it proposes
(:func:`propose`) until a reviewer approves it (``sent``) or rejects it (``rejected``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from tierwise.i18n import _
from tierwise.store.schemes import now
from tierwise.store.tables import action_ledger, runs

#: Statuses of a customer the action reached (counted against a monthly budget).
TREATED = ("planned", "sent", "failed", "dead", "review", "rejected")
STATUSES = (*TREATED, "holdout", "over_budget")


def key_of(action: str, run_id: int, customer_id: str) -> str:
    """The idempotency key of one action for one customer on one run."""
    return hashlib.sha256(f"{action}\x1f{run_id}\x1f{customer_id}".encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One ledger row."""

    id: int
    key: str
    action: str
    scheme: str
    run_id: int
    as_of: date
    customer_id: str
    edge: str
    from_tier: str | None
    to_tier: str | None
    value: float | None
    status: str
    attempts: int
    next_try_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    proposal: str | None = None
    held_by: str | None = None
    owner: str | None = None
    due_on: date | None = None


def _entry(row: sa.Row[Any]) -> Entry:
    return Entry(**row._mapping)


def record(conn: sa.Connection, action: str, scheme: str, run_id: int, as_of: date,
           rows: Iterable[dict[str, Any]]) -> int:
    """Write a run's rows of ``action`` (customer_id, edge, from_tier, to_tier, value, status).

    Rows the ledger already holds for that run are left as they are; returns how many were new.
    """
    have = set(conn.execute(sa.select(action_ledger.c.customer_id).where(
        action_ledger.c.action == action, action_ledger.c.run_id == run_id)).scalars())
    at = now()
    new = [{**r, "key": key_of(action, run_id, r["customer_id"]), "action": action,
            "scheme": scheme, "run_id": run_id, "as_of": as_of, "attempts": 0,
            "created_at": at} for r in rows if r["customer_id"] not in have]
    for start in range(0, len(new), 10_000):
        conn.execute(action_ledger.insert(), new[start:start + 10_000])
    return len(new)


def recorded(conn: sa.Connection, action: str, run_id: int) -> bool:
    """Whether the ledger holds the rows of ``action`` for run ``run_id``."""
    return conn.execute(sa.select(action_ledger.c.id).where(
        action_ledger.c.action == action, action_ledger.c.run_id == run_id).limit(1)
    ).first() is not None


def treated_between(conn: sa.Connection, action: str, start: date, end: date, *,
                    besides: int | None = None) -> int:
    """Customers ``action`` reached on runs dated ``start`` to ``end``: a month's budget used.

    ``besides``: leave out that run (the one being planned again).
    """
    query = sa.select(sa.func.count()).where(
        action_ledger.c.action == action, action_ledger.c.as_of >= start,
        action_ledger.c.as_of <= end, action_ledger.c.status.in_(TREATED))
    if besides is not None:
        query = query.where(action_ledger.c.run_id != besides)
    return int(conn.execute(query).scalar_one())


def due(conn: sa.Connection, action: str, at: datetime, *, limit: int = 1000) -> list[Entry]:
    """Rows of ``action`` to deliver now: planned, or failed with their next try due."""
    query = sa.select(action_ledger).where(
        action_ledger.c.action == action,
        sa.or_(action_ledger.c.status == "planned",
               sa.and_(action_ledger.c.status == "failed", action_ledger.c.next_try_at <= at))
    ).order_by(action_ledger.c.id).limit(limit)
    return [_entry(r) for r in conn.execute(query)]


def mark(conn: sa.Connection, entry_id: int, status: str, *, error: str | None = None,
         next_try_at: datetime | None = None, tried: bool = True) -> None:
    """Record a delivery's outcome: ``sent``, ``failed`` or ``dead``.

    ``failed`` is tried again at ``next_try_at``; ``dead`` has no more tries.
    """
    values: dict[str, Any] = {"status": status, "last_error": error, "next_try_at": next_try_at}
    if tried:
        values["attempts"] = action_ledger.c.attempts + 1
    if status == "sent":
        values["sent_at"] = now()
    conn.execute(action_ledger.update().where(action_ledger.c.id == entry_id).values(**values))


def entries(conn: sa.Connection, action: str, *, run_id: int | None = None,
            status: str | None = None, limit: int = 10_000) -> list[Entry]:
    """Ledger rows of ``action``, oldest first, by run and status when given."""
    query = sa.select(action_ledger).where(action_ledger.c.action == action)
    if run_id is not None:
        query = query.where(action_ledger.c.run_id == run_id)
    if status is not None:
        query = query.where(action_ledger.c.status == status)
    return [_entry(r) for r in conn.execute(query.order_by(action_ledger.c.id).limit(limit))]


def counts(conn: sa.Connection, action: str, run_id: int) -> dict[str, int]:
    """How many rows of each status ``action`` has for run ``run_id``."""
    query = sa.select(action_ledger.c.status, sa.func.count()).where(
        action_ledger.c.action == action, action_ledger.c.run_id == run_id
    ).group_by(action_ledger.c.status)
    return {status: int(n) for status, n in conn.execute(query)}


def reached(conn: sa.Connection, actions: list[str], customer_id: str) -> list[Entry]:
    """The sent rows of ``actions`` for one customer, oldest first (a customer's tags)."""
    if not actions:
        return []
    query = sa.select(action_ledger).where(
        action_ledger.c.action.in_(actions), action_ledger.c.customer_id == customer_id,
        action_ledger.c.status == "sent").order_by(action_ledger.c.as_of, action_ledger.c.id)
    return [_entry(r) for r in conn.execute(query)]


def follow_ups(conn: sa.Connection, actions: list[str]) -> list[Entry]:
    """The latest follow-up of each customer of each of ``actions``, from runs still current.

    The latest row per action and customer decides, whatever its status: a later run that held
    the customer out, left them over budget or is in review replaces an earlier task with none.
    Rows of a run a forced re-run superseded do not count.
    """
    if not actions:
        return []
    query = sa.select(action_ledger).join(runs, runs.c.id == action_ledger.c.run_id).where(
        action_ledger.c.action.in_(actions), runs.c.status == "done").order_by(
        action_ledger.c.run_id, action_ledger.c.id)
    latest: dict[tuple[str, str], Entry] = {}
    for row in conn.execute(query):
        entry = _entry(row)
        latest[entry.action, entry.customer_id] = entry
    return [e for e in latest.values() if e.due_on is not None
            and e.status in ("planned", "sent", "failed", "dead")]


def mark_all(conn: sa.Connection, entry_ids: list[int], status: str) -> None:
    """Record the same outcome for many rows at once (a tag needs no outside delivery)."""
    for start in range(0, len(entry_ids), 10_000):
        chunk = entry_ids[start:start + 10_000]
        values: dict[str, Any] = {"status": status, "attempts": action_ledger.c.attempts + 1}
        if status == "sent":
            values["sent_at"] = now()
        conn.execute(action_ledger.update().where(action_ledger.c.id.in_(chunk)).values(**values))


def propose(conn: sa.Connection, entry_id: int, manager: str | None, why: str, *,
            held_by: str) -> None:
    """Park an assign row in ``review``: ``manager`` proposed (None: the customer loses theirs).

    ``why`` says what the reviewer decides; ``held_by`` is who has the customer now, so a
    decision can tell when that changed. An older proposal for the same customer is closed as
    ``rejected``: the newer run's proposal replaces it.
    """
    row = conn.execute(sa.select(action_ledger.c.action, action_ledger.c.customer_id,
                                 action_ledger.c.run_id)
                       .where(action_ledger.c.id == entry_id)).one()
    conn.execute(action_ledger.update().where(
        action_ledger.c.action == row.action, action_ledger.c.customer_id == row.customer_id,
        action_ledger.c.status == "review", action_ledger.c.id != entry_id).values(
        status="rejected", last_error=_("superseded by the proposal of run {run}").format(
            run=row.run_id)))
    conn.execute(action_ledger.update().where(action_ledger.c.id == entry_id).values(
        status="review", proposal=manager or "", last_error=why, held_by=held_by,
        attempts=action_ledger.c.attempts + 1))


def by_ids(conn: sa.Connection, action: str, entry_ids: list[int]) -> list[Entry]:
    """The rows of ``action`` with these ids, in id order (ids of other actions are left out)."""
    query = sa.select(action_ledger).where(action_ledger.c.action == action,
                                           action_ledger.c.id.in_(sorted(set(entry_ids))))
    return [_entry(r) for r in conn.execute(query.order_by(action_ledger.c.id))]


def decide(conn: sa.Connection, entry_id: int, status: str, note: str | None) -> int:
    """Close a row in review: ``sent``, ``dead`` (approved to lose the manager) or rejected.

    The note is added to the reason. Returns 1, or 0 when the row was no longer in review.
    """
    values: dict[str, Any] = {"status": status}
    if note:
        values["last_error"] = sa.func.coalesce(action_ledger.c.last_error, "") + " | " + note
    if status == "sent":
        values["sent_at"] = now()
    done = conn.execute(action_ledger.update().where(
        action_ledger.c.id == entry_id, action_ledger.c.status == "review").values(**values))
    return int(done.rowcount or 0)
