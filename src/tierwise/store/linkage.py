"""Record linkage in the store: the versions of the mapping, and people's decisions on pairs.

A version's mapping, review pairs and compared values are Parquet files in its folder; the
row here says where they are and what made them, and is added after the files are in place.
A decision is one row per judgement; the latest on a pair is in force, so changing one's mind
is a new row and the history of judgements stays readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tierwise.errors import StoreError
from tierwise.i18n import _
from tierwise.store import audit
from tierwise.store.schemes import now
from tierwise.store.tables import link_decisions, link_versions

DECISIONS = ("link", "apart")


@dataclass(frozen=True)
class NewVersion:
    """What a linkage run made, for :func:`add_version`."""

    number: int
    fingerprint: str
    settings: dict[str, Any]
    model: dict[str, Any]
    folder: str
    records: int
    customers: int
    review: int


@dataclass(frozen=True)
class Decision:
    """A person's judgement that two records are one customer (``link``) or not (``apart``)."""

    id: int
    record_a: str
    record_b: str
    decision: str
    reason: str
    probability: float | None
    version: int | None
    decided_at: datetime
    decided_by: str


def _version(row: Any) -> LinkVersion:
    return LinkVersion(row.number, row.fingerprint, row.settings, row.model, row.folder,
                       row.records, row.customers, row.review, row.id, row.created_at,
                       row.created_by)


def next_number(conn: sa.Connection) -> int:
    """The number the next version gets."""
    found = conn.execute(sa.select(sa.func.max(link_versions.c.number))).scalar()
    return int(found or 0) + 1


@dataclass(frozen=True)
class LinkVersion(NewVersion):
    """One linkage run's result, as recorded."""

    id: int
    created_at: datetime
    created_by: str


def add_version(conn: sa.Connection, made: NewVersion, *, actor: str) -> LinkVersion:
    """Record a version whose files are in place, with an audit event.

    Raises:
        StoreError: another linkage run took the number meanwhile.
    """
    if conn.execute(sa.select(link_versions.c.id).where(
            link_versions.c.number == made.number)).first():
        raise StoreError(_("linkage version {number} was recorded meanwhile by another run; "
                           "run the linkage again").format(number=made.number))
    conn.execute(sa.insert(link_versions).values(
        number=made.number, fingerprint=made.fingerprint, settings=made.settings,
        model=made.model, folder=made.folder, records=made.records, customers=made.customers,
        review=made.review, created_at=now(), created_by=actor))
    found = version(conn, made.number)
    assert found is not None
    audit.append(conn, actor=actor, action="linkage.version", object_type="linkage",
                 object_id=f"v{made.number}",
                 after={"records": made.records, "customers": made.customers,
                        "review": made.review, "fingerprint": made.fingerprint})
    return found


def version(conn: sa.Connection, number: int | None = None) -> LinkVersion | None:
    """Version ``number``, or the latest when None; None when there is none."""
    query = sa.select(link_versions)
    query = (query.where(link_versions.c.number == number) if number is not None
             else query.order_by(link_versions.c.number.desc()).limit(1))
    row = conn.execute(query).first()
    return _version(row) if row is not None else None


def decide(conn: sa.Connection, record_a: str, record_b: str, *, decision: str, reason: str,
           actor: str, probability: float | None = None, version_id: int | None = None
           ) -> Decision:
    """Record a decision on a pair (in either order), with an audit event.

    Raises:
        StoreError: the decision is not ``link`` or ``apart``, the two records are one, or
            the reason is empty.
    """
    if decision not in DECISIONS:
        raise StoreError(_("decision {value!r} is not link or apart").format(value=decision))
    if record_a == record_b:
        raise StoreError(_("{record} is the same record twice; name two records").format(
            record=record_a))
    if not reason.strip():
        raise StoreError(_("give a reason for the decision (what showed the records are, or "
                           "are not, one customer)"))
    first, second = _ordered(conn, record_a, record_b)
    before = in_force(conn, first, second)
    done = conn.execute(sa.insert(link_decisions).values(
        record_a=first, record_b=second, decision=decision, reason=reason.strip(),
        probability=probability, version_id=version_id, decided_at=now(), decided_by=actor))
    key = done.inserted_primary_key
    assert key is not None
    audit.append(conn, actor=actor, action=f"linkage.{decision}", object_type="record_pair",
                 object_id=f"{first} | {second}"[:400],
                 before=None if before is None else {"decision": before.decision,
                                                     "reason": before.reason},
                 after={"decision": decision, "reason": reason.strip(),
                        "probability": probability})
    found = _decisions(conn, sa.select(link_decisions).where(link_decisions.c.id == key[0]))
    return found[0]


def _ordered(conn: sa.Connection, record_a: str, record_b: str) -> tuple[str, str]:
    """The pair in the order the database sorts text (its collation).

    That is the order its check ``record_a < record_b`` holds rows to; Python's code-point
    order differs from a PostgreSQL locale's for mixed case (``app:B1`` and ``app:a1``).
    """
    first = conn.execute(sa.select(sa.literal(record_a) < sa.literal(record_b))).scalar()
    return (record_a, record_b) if first else (record_b, record_a)


def _decisions(conn: sa.Connection, query: sa.Select[Any]) -> list[Decision]:
    numbers = dict(conn.execute(sa.select(link_versions.c.id, link_versions.c.number)).all())
    return [Decision(r.id, r.record_a, r.record_b, r.decision, r.reason, r.probability,
                     numbers.get(r.version_id), r.decided_at, r.decided_by)
            for r in conn.execute(query).all()]


def in_force(conn: sa.Connection, record_a: str, record_b: str) -> Decision | None:
    """The latest decision on a pair, if any."""
    first, second = _ordered(conn, record_a, record_b)
    found = _decisions(conn, sa.select(link_decisions).where(
        link_decisions.c.record_a == first, link_decisions.c.record_b == second)
        .order_by(link_decisions.c.id.desc()).limit(1))
    return found[0] if found else None


def decisions(conn: sa.Connection) -> list[Decision]:
    """The decision in force on every pair that has one, oldest first."""
    latest = (sa.select(sa.func.max(link_decisions.c.id))
              .group_by(link_decisions.c.record_a, link_decisions.c.record_b))
    return _decisions(conn, sa.select(link_decisions).where(link_decisions.c.id.in_(latest))
                      .order_by(link_decisions.c.id))
