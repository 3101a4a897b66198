"""The audit log: who did what, when, to which object, with before/after, in a hash chain.

Every event is appended inside the caller's write transaction, so it commits or rolls back with
the change it records. Events are numbered 1, 2, 3... (``seq``) and each carries the hash of the
one before it (``prev_hash``); its own ``hash`` is::

    sha256(prev_hash + canonical_json([seq, at, actor, action, object_type, object_id,
                                       before, after]))

where ``before`` and ``after`` are the stored JSON texts (or null), ``canonical_json`` sorts keys,
keeps non-ASCII characters and uses no spaces, and the first event's ``prev_hash`` is 64 zeros.
The one row of ``audit_head`` holds the last ``seq`` and ``hash``, so deleting the newest events
shows too. :func:`verify` recomputes the chain and names every broken link.

A hash chain without a secret proves integrity against edits made with SQL by hand, not against
someone who rewrites the whole chain and the head: keep copies of the head hash (backups, exports)
to anchor it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Literal, NamedTuple, cast

import sqlalchemy as sa

from tierwise.errors import StoreError
from tierwise.i18n import N_, _
from tierwise.store import visibility
from tierwise.store.query import where_equal
from tierwise.store.tables import audit_events, audit_head

GENESIS = "0" * 64
"""The ``prev_hash`` of the first event."""

_HEAD_ID = 1
_BATCH = 5000

ProblemKind = Literal["edited", "deleted", "reordered", "head_mismatch"]


@dataclass(frozen=True)
class AuditEvent:
    """One audit event, as stored.

    Attributes:
        seq: Position in the chain, from 1 without gaps.
        at: When it was recorded (UTC).
        actor: Who did it (a user name, or ``system``).
        action: What was done, e.g. ``scheme.activate`` or ``override.approve``.
        object_type: The kind of object changed, e.g. ``scheme`` or ``override``.
        object_id: Which object.
        before: The object's state before the change (parsed JSON), None on creation.
        after: The object's state after the change (parsed JSON), None on deletion.
        prev_hash: The previous event's hash (64 zeros for the first).
        hash: This event's hash.

    """

    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    before: Any
    after: Any
    prev_hash: str
    hash: str


class AuditProblem(NamedTuple):
    """One broken link found by :func:`verify`: where, what kind, and what to do."""

    seq: int
    kind: ProblemKind
    message: str


@dataclass
class AuditReport:
    """The result of :func:`verify`.

    Attributes:
        ok: True when the chain is intact from the first event to the head.
        events: How many events the table holds.
        problems: Every broken link, in chain order.

    """

    ok: bool
    events: int
    problems: list[AuditProblem] = field(default_factory=list)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces and non-ASCII kept; dates as ISO text, sets sorted."""
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=canonical_json)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    dump = getattr(value, "model_dump", None)  # pydantic models, without importing pydantic
    if callable(dump):
        return dump(mode="json")
    return str(value)


def _to_text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    try:
        return canonical_json(value)
    except (TypeError, ValueError) as exc:
        raise StoreError(
            _("audit {what} cannot be written as JSON ({exc}); pass dicts with string keys, "
              "lists, strings, numbers, booleans, dates or None").format(what=what, exc=exc)
        ) from exc


def _hash(prev_hash: str, record: Sequence[Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(list(record))).encode("utf-8")).hexdigest()


def _row_hash(row: sa.Row[Any]) -> str:
    return _hash(
        row.prev_hash,
        (row.seq, row.at, row.actor, row.action, row.object_type, row.object_id,
         row.before, row.after),
    )


def _check_length(what: str, value: str) -> None:
    limit = cast(sa.String, audit_events.c[what].type).length
    if not value or (limit is not None and len(value) > limit):
        raise StoreError(
            _("audit {what} {value!r} is {n} characters long; it must have 1 to {limit}").format(
                what=what,
                value=value[:40], n=len(value), limit=limit)
        )


def append(
    conn: sa.Connection,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's write transaction.

    The head row is locked (``SELECT ... FOR UPDATE``) until the transaction ends, so concurrent
    writers on PostgreSQL queue behind each other instead of forking the chain; SQLite write
    transactions are serialized already (the store begins them with ``BEGIN IMMEDIATE``).

    Args:
        conn: A connection inside a write transaction (``with store.begin() as conn``).
        actor: Who did it.
        action: What was done, e.g. ``override.approve``.
        object_type: The kind of object changed.
        object_id: Which object.
        before: The object's state before the change, anything :func:`canonical_json` takes.
        after: The object's state after the change.

    Returns:
        The event as stored.

    Raises:
        StoreError: when a field is empty or too long, a state is not JSON, or the head row is
            missing while events exist (the log was tampered with; see :func:`verify`).

    """
    for what, value in (("actor", actor), ("action", action), ("object_type", object_type),
                        ("object_id", object_id)):
        _check_length(what, value)
    before_text = _to_text(before, "before")
    after_text = _to_text(after, "after")

    head_seq, prev_hash = _locked_head(conn)
    seq = head_seq + 1
    # Taken after the lock, so times follow the chain order on one clock.
    now = datetime.now(UTC)
    at = now.isoformat(timespec="microseconds")
    digest = _hash(
        prev_hash, (seq, at, actor, action, object_type, object_id, before_text, after_text)
    )
    conn.execute(
        audit_events.insert().values(
            seq=seq, at=at, actor=actor, action=action, object_type=object_type,
            object_id=object_id, before=before_text, after=after_text, prev_hash=prev_hash,
            hash=digest,
        )
    )
    conn.execute(
        audit_head.update().where(audit_head.c.id == _HEAD_ID).values(seq=seq, hash=digest)
    )
    return AuditEvent(
        seq=seq, at=now, actor=actor, action=action, object_type=object_type,
        object_id=object_id, before=_from_text(before_text), after=_from_text(after_text),
        prev_hash=prev_hash, hash=digest,
    )


def _locked_head(conn: sa.Connection) -> tuple[int, str]:
    query = (
        sa.select(audit_head.c.seq, audit_head.c.hash)
        .where(audit_head.c.id == _HEAD_ID)
        .with_for_update()
    )
    head = conn.execute(query).first()
    if head is None:
        # No head yet: the first append, or a concurrent first writer not yet committed (on
        # PostgreSQL the insert waits for it, then does nothing and the select below sees its
        # head).
        if _insert_head(conn):
            existing = conn.execute(
                sa.select(sa.func.count()).select_from(audit_events)
            ).scalar_one()
            if existing:
                raise StoreError(
                    _("the audit head row is missing but audit_events holds {existing} events; "
                      "the log was tampered with: run the audit check, and restore audit_head "
                      "and audit_events from a backup").format(existing=existing)
                )
        head = conn.execute(query).first()
        assert head is not None  # inserted above, or by the concurrent first writer
    return head.seq, head.hash


def _insert_head(conn: sa.Connection) -> bool:
    """Create the head row unless it exists; True when this transaction created it."""
    values = {"id": _HEAD_ID, "seq": 0, "hash": GENESIS}
    statement: sa.Insert
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        statement = postgresql.insert(audit_head).values(values).on_conflict_do_nothing()
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects import sqlite

        statement = sqlite.insert(audit_head).values(values).on_conflict_do_nothing()
    else:
        try:
            with conn.begin_nested():
                conn.execute(audit_head.insert().values(values))
        except sa.exc.IntegrityError:
            return False
        return True
    # rowcount is only reliable for UPDATE and DELETE (psycopg 3 gave -1 here): ask for the key.
    return conn.execute(statement.returning(audit_head.c.id)).first() is not None


def _from_text(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _event(row: sa.Row[Any]) -> AuditEvent:
    return AuditEvent(
        seq=row.seq, at=datetime.fromisoformat(row.at), actor=row.actor, action=row.action,
        object_type=row.object_type, object_id=row.object_id, before=_from_text(row.before),
        after=_from_text(row.after), prev_hash=row.prev_hash, hash=row.hash,
    )


_RESTORE = N_("restore audit_events and audit_head from a backup")


def verify(conn: sa.Connection) -> AuditReport:
    """Recompute the chain and compare it with the head; name every broken link.

    Finds events edited after they were written (their hash no longer matches), events deleted
    in the middle (a gap in ``seq``), events deleted at the end (the head names a later ``seq``),
    events that do not follow their predecessor (reordered, or replaced and re-hashed), and an
    edited or missing head. Reads the table in batches, so memory stays flat.
    """
    problems: list[AuditProblem] = []
    count = 0
    expected = 1
    prev_hash = GENESIS
    last_seq = 0
    for row in _all_rows(conn):
        count += 1
        seq = row.seq
        if seq > expected:
            missing = f"seq {expected}" if seq == expected + 1 else f"seqs {expected}-{seq - 1}"
            problems.append(AuditProblem(
                expected, "deleted",
                _("audit events {missing} are missing: they were deleted; {restore}; the "
                  "chain after seq {n} cannot be trusted").format(missing=missing,
                    restore=_(_RESTORE), n=expected - 1),
            ))
        elif seq < expected:
            problems.append(AuditProblem(
                seq, "reordered",
                _("audit event seq {seq} is out of the chain's range (it starts at 1); "
                  "{restore}").format(seq=seq, restore=_(_RESTORE)),
            ))
        elif row.prev_hash != prev_hash:
            before = _("seq {n}").format(n=seq - 1) if seq > 1 else _("the start of the chain")
            problems.append(AuditProblem(
                seq, "reordered",
                _("audit event seq {seq} does not follow {before} (its prev_hash is not the "
                  "hash of {before}): events were reordered, or {before} was replaced and "
                  "re-hashed; {restore}; the chain from seq {max} on cannot be trusted").format(
                      seq=seq,
                    before=before, restore=_(_RESTORE), max=max(seq - 1, 1)),
            ))
        if _row_hash(row) != row.hash:
            problems.append(AuditProblem(
                seq, "edited",
                _("audit event seq {seq} was edited after it was written (its content no "
                  "longer matches its hash); {restore}; the chain after seq {seq} cannot be "
                  "trusted").format(seq=seq, restore=_(_RESTORE)),
            ))
        expected = max(expected, seq + 1)
        prev_hash = row.hash
        last_seq = seq
    problems.extend(_check_head(conn, count=count, last_seq=last_seq, last_hash=prev_hash))
    return AuditReport(ok=not problems, events=count, problems=problems)


def _all_rows(conn: sa.Connection) -> Iterator[sa.Row[*tuple[Any, ...]]]:
    after: int | None = None
    while True:
        query = sa.select(audit_events).order_by(audit_events.c.seq).limit(_BATCH)
        if after is not None:
            query = query.where(audit_events.c.seq > after)
        rows = conn.execute(query).all()
        yield from rows
        if len(rows) < _BATCH:
            return
        after = rows[-1].seq


def _check_head(
    conn: sa.Connection, *, count: int, last_seq: int, last_hash: str
) -> list[AuditProblem]:
    heads = conn.execute(sa.select(audit_head).order_by(audit_head.c.id)).all()
    if not heads:
        if count == 0:
            return []
        return [AuditProblem(
            last_seq, "head_mismatch",
            _("the audit head row is missing but audit_events holds {count} events up to seq "
              "{last_seq}; {restore}").format(count=count, last_seq=last_seq, restore=_(_RESTORE)),
        )]
    problems = []
    if len(heads) > 1 or heads[0].id != _HEAD_ID:
        problems.append(AuditProblem(
            last_seq, "head_mismatch",
            _("audit_head holds rows with ids {ids}; it must hold one row with id "
              "{head_id}; {restore}").format(ids=[h.id for h in heads], head_id=_HEAD_ID,
                restore=_(_RESTORE)),
        ))
    head = next((h for h in heads if h.id == _HEAD_ID), None)
    if head is None:
        return problems
    if head.seq > last_seq:
        first = last_seq + 1
        missing = f"seq {first}" if head.seq == first else f"seqs {first}-{head.seq}"
        problems.append(AuditProblem(
            first, "deleted",
            _("audit events {missing} are missing: the newest events were deleted (audit_head "
              "says the chain ends at seq {seq}, the table at seq {last_seq}); {restore}").format(
                  missing=missing,
                seq=head.seq, last_seq=last_seq, restore=_(_RESTORE)),
        ))
    elif head.seq < last_seq:
        problems.append(AuditProblem(
            head.seq, "head_mismatch",
            _("audit_head says the chain ends at seq {seq} but audit_events goes on to seq "
              "{last_seq}: the head was edited or events were added by hand; {restore}; the "
              "events after seq {seq} cannot be trusted").format(seq=head.seq, last_seq=last_seq,
                restore=_(_RESTORE)),
        ))
    elif head.hash != last_hash:
        problems.append(AuditProblem(
            head.seq, "head_mismatch",
            _("audit_head's hash is not the hash of the last event (seq {seq}): the head or "
              "the last event was edited; {restore}").format(seq=head.seq, restore=_(_RESTORE)),
        ))
    return problems


def events(
    conn: sa.Connection,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    since: datetime | date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEvent]:
    """Audit events, newest first.

    Args:
        conn: Any connection to the store.
        object_type: Only events on this kind of object.
        object_id: Only events on this object.
        actor: Only events by this actor.
        since: Only events at or after this time; a date means its midnight UTC, a naive
            datetime is taken as UTC.
        limit: At most this many events.
        offset: Skip this many of the newest matching events first.

    Raises:
        StoreError: when ``limit`` or ``offset`` is negative.

    """
    if limit < 0 or offset < 0:
        raise StoreError(
            _("audit events: limit {limit} and offset {offset} must be 0 or more").format(
                limit=limit,
                offset=offset)
        )
    query = sa.select(audit_events).order_by(audit_events.c.seq.desc()).limit(limit)
    if offset:
        query = query.offset(offset)
    query = where_equal(query, audit_events, object_type=object_type, object_id=object_id,
                        actor=actor)
    if since is not None:
        query = query.where(audit_events.c.at >= _utc_text(since))
    hidden = visibility.hidden()
    if hidden:
        gone = {n: t for n, t in deleted_confidential(conn).items() if n in hidden}
        query = query.where(sa.not_(_about(sorted(hidden), gone)))
    return [_event(row) for row in conn.execute(query)]


def deleted_confidential(conn: sa.Connection) -> dict[str, dict[str, list[Any]]]:
    """Deleted confidential schemes, as their ``scheme.deleted`` events keep them.

    Name -> the ``roles`` that saw it and the ids of its ``runs`` and ``overrides``. Its audit
    entries stay hidden from everyone else after the deletion (and the ids of its
    runs and overrides, which SQLite may give to new rows, stay covered: the safe side).
    """
    rows = conn.execute(sa.select(audit_events.c.object_id, audit_events.c.before)
                        .where(audit_events.c.action == "scheme.deleted")
                        .order_by(audit_events.c.seq)).all()
    found: dict[str, dict[str, list[Any]]] = {}
    for name, before in rows:
        secret = (_from_text(before) or {}).get("confidential")
        if isinstance(secret, dict):
            found[name] = {k: list(secret.get(k) or []) for k in ("roles", "runs", "overrides")}
    return found


def _about(names: list[str], gone: dict[str, dict[str, list[Any]]]) -> sa.ColumnElement[bool]:
    """Events about these schemes.

    The scheme, its versions, runs and overrides, and any event whose before or after names
    one (a job, an activation). A LIKE's ``_`` matches any character, so a lookalike name may
    be hidden too: the safe side.
    """
    from tierwise.store.tables import overrides, runs, schemes

    ids = sa.select(schemes.c.id).where(schemes.c.name.in_(names))
    e = audit_events.c
    parts: list[sa.ColumnElement[bool]] = [
        (e.object_type == "scheme") & e.object_id.in_(names),
        (e.object_type == "run") & e.object_id.in_(
            sa.select(sa.cast(runs.c.id, sa.String)).where(runs.c.scheme_id.in_(ids))),
        (e.object_type == "override") & e.object_id.in_(
            sa.select(sa.cast(overrides.c.id, sa.String)).where(overrides.c.scheme_id.in_(ids))),
    ]
    for kind, key in (("run", "runs"), ("override", "overrides")):
        gone_ids = [str(i) for t in gone.values() for i in t[key]]
        if gone_ids:
            parts.append((e.object_type == kind) & e.object_id.in_(gone_ids))
    for name in names:
        quoted = f'%"{name}"%'
        parts += [(e.object_type == "scheme_version") & e.object_id.like(f"{name}/%"),
                  sa.func.coalesce(e.before, "").like(quoted),
                  sa.func.coalesce(e.after, "").like(quoted)]
    return sa.or_(*parts)


def _utc_text(moment: datetime | date) -> str:
    """The stored form of a time: ISO text in UTC, which sorts as text in time order."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), tzinfo=UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
