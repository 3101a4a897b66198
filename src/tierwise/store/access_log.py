"""The access log: reads of personal data and token use, apart from the hash-chained audit log.

Who opened which customer, who searched and who used a token are many small events. Kept in the
hash chain they would make it large and slow to verify, so they go here instead: one row each,
written in its own short transaction, and pruned by age (``tierwise audit prune-access``) when
the retention a business sets has passed. Changes (overrides, versions, users) and exports stay in
the audit chain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tierwise.store import visibility
from tierwise.store.query import where_equal
from tierwise.store.schemes import now
from tierwise.store.tables import access_log


@dataclass(frozen=True)
class Access:
    """One access-log entry."""

    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    client: str | None
    detail: Any


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def record(conn: sa.Connection, *, actor: str, action: str, object_type: str, object_id: str,
           client: str | None = None, detail: Any = None) -> None:
    """Append one entry; over-long values are cut, never refused (a read must not fail)."""
    conn.execute(sa.insert(access_log).values(
        at=now(), actor=_cut(actor or "-", 200), action=_cut(action, 100),
        object_type=_cut(object_type, 50), object_id=_cut(object_id or "-", 200),
        client=_cut(client, 100) if client else None,
        detail=None if detail is None else json.dumps(detail, ensure_ascii=False,
                                                      default=str)[:4000]))


def entries(conn: sa.Connection, *, actor: str | None = None, object_id: str | None = None,
            action: str | None = None, limit: int = 100, offset: int = 0) -> list[Access]:
    """Entries, newest first, optionally of one actor, object or action."""
    query = sa.select(access_log).order_by(access_log.c.id.desc()).limit(limit).offset(offset)
    query = where_equal(query, access_log, actor=actor, object_id=object_id, action=action)
    for name in sorted(visibility.hidden()):  # reads of a scheme the user may not see
        query = query.where(sa.not_(sa.func.coalesce(access_log.c.detail, "").like(
                                f'%"{name}"%')),
                            sa.not_((access_log.c.object_type == "scheme")
                                    & (access_log.c.object_id == name)))
    return [Access(r.id, r.at, r.actor, r.action, r.object_type, r.object_id, r.client,
                   json.loads(r.detail) if r.detail else None) for r in conn.execute(query)]


def prune(conn: sa.Connection, before: datetime) -> int:
    """Delete the entries older than ``before``; returns how many."""
    done = conn.execute(sa.delete(access_log).where(access_log.c.at < before))
    return int(done.rowcount or 0)
