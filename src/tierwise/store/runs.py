"""Runs in the store: started, finished (with per-tier counts), failed, superseded.

A run's row is inserted as ``running`` (invisible to every reader), and turned ``done`` in the
same transaction that writes its per-tier counts and supersedes the earlier run of the same date.
That transaction is the last thing a run does, after its files are in place, so a run killed at any
point before it leaves nothing visible.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from tierwise.errors import NotFoundError
from tierwise.i18n import _
from tierwise.store import audit, visibility
from tierwise.store.schemes import now, scheme_id
from tierwise.store.tables import run_tiers, runs, scheme_versions, schemes

RUNNING, DONE, FAILED, SUPERSEDED, ABANDONED = "running", "done", "failed", "superseded", "abandoned"


@dataclass(frozen=True)
class Run:
    """One run of a scheme version as of a date."""

    id: int
    scheme: str
    version: int
    version_id: int
    as_of: date
    status: str
    official: bool
    forced: bool
    data_fingerprint: str | None
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    folder: str | None
    customers: int | None
    counts: dict[str, Any] | None
    timings: dict[str, float] | None
    error: str | None
    superseded_by: int | None


@dataclass(frozen=True)
class TierCount:
    """Customers of one tier in a run, by how they got it."""

    tier: str
    tier_rank: int
    customers: int
    computed: int
    held: int
    overridden: int
    value_sum: float | None
    entered: int
    left: int


def _select() -> sa.Select[Any]:
    query = (sa.select(runs, schemes.c.name.label("scheme"), scheme_versions.c.number)
             .join(schemes, runs.c.scheme_id == schemes.c.id)
             .join(scheme_versions, runs.c.version_id == scheme_versions.c.id))
    # A confidential scheme's runs do not exist for a user who may not see it.
    hidden = visibility.hidden()
    return query.where(schemes.c.name.not_in(sorted(hidden))) if hidden else query


def _run(row: sa.Row[Any]) -> Run:
    return Run(row.id, row.scheme, row.number, row.version_id, row.as_of, row.status,
               row.official, row.forced, row.data_fingerprint, row.started_by, row.started_at,
               row.finished_at, row.folder, row.customers, row.counts, row.timings, row.error,
               row.superseded_by)


def start(
    conn: sa.Connection,
    scheme: str,
    *,
    version_id: int,
    as_of: date,
    official: bool,
    forced: bool,
    actor: str,
) -> int:
    """Insert a ``running`` run and return its id."""
    rid = int(conn.execute(
        sa.insert(runs).values(
            scheme_id=scheme_id(conn, scheme), version_id=version_id, as_of=as_of,
            status=RUNNING, official=official, forced=forced, started_by=actor,
            started_at=now(), host=socket.gethostname(), pid=os.getpid(),
        ).returning(runs.c.id)
    ).scalar_one())
    audit.append(conn, actor=actor, action="run.started", object_type="run", object_id=str(rid),
                 after={"scheme": scheme, "version_id": version_id, "as_of": as_of.isoformat(),
                        "official": official, "forced": forced})
    return rid


@dataclass(frozen=True)
class Finished:
    """What a finished run produced: its folder, customers, data fingerprint, counts, timings."""

    folder: str
    customers: int
    data_fingerprint: str
    counts: dict[str, Any]
    timings: dict[str, float]
    tiers: list[TierCount]


def finish(conn: sa.Connection, run_id: int, result: Finished, *, actor: str) -> Run:
    """Mark a run done with its counts, superseding the earlier done run of its date."""
    run = get(conn, run_id)
    conn.execute(sa.insert(run_tiers), [
        {"run_id": run_id, **t.__dict__} for t in result.tiers
    ])
    superseded = []
    if run.official:
        earlier = conn.execute(
            sa.select(runs.c.id).where(
                runs.c.scheme_id == scheme_id(conn, run.scheme), runs.c.as_of == run.as_of,
                runs.c.status == DONE, runs.c.official.is_(True), runs.c.id != run_id)
        ).scalars().all()
        superseded = [int(r) for r in earlier]
        if superseded:
            conn.execute(sa.update(runs).where(runs.c.id.in_(superseded))
                         .values(status=SUPERSEDED, superseded_by=run_id))
    conn.execute(
        sa.update(runs).where(runs.c.id == run_id).values(
            status=DONE, finished_at=now(), folder=result.folder, customers=result.customers,
            data_fingerprint=result.data_fingerprint, counts=result.counts,
            timings=result.timings,
        )
    )
    audit.append(conn, actor=actor, action="run.done", object_type="run", object_id=str(run_id),
                 before={"status": RUNNING},
                 after={"status": DONE, "customers": result.customers, "counts": result.counts,
                        "data_fingerprint": result.data_fingerprint, "superseded": superseded})
    return get(conn, run_id)


def fail(conn: sa.Connection, run_id: int, *, actor: str, error: str) -> None:
    """Mark a run failed with its error."""
    conn.execute(sa.update(runs).where(runs.c.id == run_id)
                 .values(status=FAILED, finished_at=now(), error=error[:4000]))
    audit.append(conn, actor=actor, action="run.failed", object_type="run", object_id=str(run_id),
                 before={"status": RUNNING}, after={"status": FAILED, "error": error[:4000]})


def get(conn: sa.Connection, run_id: int) -> Run:
    """The run with id ``run_id``."""
    row = conn.execute(_select().where(runs.c.id == run_id)).first()
    if row is None:
        raise NotFoundError(_("no run {id}; `tierwise runs list SCHEME` shows the runs").format(
            id=run_id))
    return _run(row)


def listing(
    conn: sa.Connection,
    scheme: str,
    *,
    statuses: tuple[str, ...] | None = None,
    official: bool | None = None,
    version_id: int | None = None,
    as_of: date | None = None,
) -> list[Run]:
    """Runs of ``scheme``, by as-of date then id."""
    query = _select().where(runs.c.scheme_id == scheme_id(conn, scheme))
    if statuses:
        query = query.where(runs.c.status.in_(statuses))
    if official is not None:
        query = query.where(runs.c.official.is_(official))
    if version_id is not None:
        query = query.where(runs.c.version_id == version_id)
    if as_of is not None:
        query = query.where(runs.c.as_of == as_of)
    return [_run(r) for r in conn.execute(query.order_by(runs.c.as_of, runs.c.id))]


def history_runs(conn: sa.Connection, scheme: str) -> list[Run]:
    """The runs that make a scheme's history: done official runs, by as-of date."""
    return listing(conn, scheme, statuses=(DONE,), official=True)


def tier_counts(conn: sa.Connection, run_id: int) -> list[TierCount]:
    """A run's per-tier counts, best tier first, then the statuses (rank 0) by key."""
    rows = conn.execute(sa.select(run_tiers).where(run_tiers.c.run_id == run_id)
                        .order_by(run_tiers.c.tier_rank == 0, run_tiers.c.tier_rank,
                                  run_tiers.c.tier)).all()
    return [TierCount(r.tier, r.tier_rank, r.customers, r.computed, r.held, r.overridden,
                      r.value_sum, r.entered, r.left) for r in rows]


def abandon_dead(conn: sa.Connection, scheme: str, *, actor: str) -> list[Run]:
    """Mark ``running`` runs whose process is gone as abandoned; return those still alive.

    A run killed hard (power loss, SIGKILL) never reaches its ``fail``; its row stays ``running``
    and nothing of it is visible. A run on this host whose process no longer exists is abandoned
    here; runs on other hosts are left to their own host.
    """
    alive = []
    host = socket.gethostname()
    for run_row in conn.execute(
        sa.select(runs.c.id, runs.c.host, runs.c.pid).where(
            runs.c.scheme_id == scheme_id(conn, scheme), runs.c.status == RUNNING)
    ).all():
        if run_row.host == host and not _pid_alive(run_row.pid):
            conn.execute(sa.update(runs).where(runs.c.id == run_row.id)
                         .values(status=ABANDONED, finished_at=now()))
            audit.append(conn, actor=actor, action="run.abandoned", object_type="run",
                         object_id=str(run_row.id), before={"status": RUNNING},
                         after={"status": ABANDONED, "reason": "its process is gone"})
        else:
            alive.append(get(conn, run_row.id))
    return alive


def _pid_alive(pid: int | None) -> bool:
    if not pid or pid == os.getpid():
        return pid == os.getpid()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped) still answers signal 0.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True
