"""Manual overrides in the store: create, approve, reject, revoke, and which apply on a date.

An override pins, floors, ceilings or excludes one customer in one scheme, with a reason, an author,
a start date and an optional expiry (the first date it no longer applies). When the scheme requires
approval it waits as ``pending`` until a second person approves it; the approver can never be the
author. A customer has at most one pending or active override per scheme in force on any day, so which
one applies is never ambiguous. Every change is audited with its before and after.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from tierwise.errors import ConflictError, NotFoundError, PermissionDenied, StoreError
from tierwise.i18n import N_, _
from tierwise.store import audit, visibility
from tierwise.store.schemes import lock, now, scheme_id
from tierwise.store.tables import assignments, overrides, schemes

KINDS = ("pin", "floor", "ceiling", "exclude")
PENDING, ACTIVE, REJECTED, REVOKED = "pending", "active", "rejected", "revoked"
#: Each status as people call it (the dashboard says it in the reader's language).
STATUS_NAMES = {PENDING: N_("pending approval"), ACTIVE: N_("active"),
                REJECTED: N_("rejected"), REVOKED: N_("revoked")}


@dataclass(frozen=True)
class Override:
    """One override of one customer's grade in one scheme."""

    id: int
    scheme: str
    customer_id: str
    kind: str
    tier: str | None
    reason: str
    author: str
    created_at: datetime
    valid_from: date
    expires: date | None
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    revision: int

    def applies_on(self, day: date) -> bool:
        """Whether the override is in force on ``day``."""
        return (self.status == ACTIVE and self.valid_from <= day
                and (self.expires is None or day < self.expires))


def _select() -> sa.Select[Any]:
    query = sa.select(overrides, schemes.c.name.label("scheme")).join(schemes)
    # A confidential scheme's overrides do not exist for a user who may not see it.
    hidden = visibility.hidden()
    return query.where(schemes.c.name.not_in(sorted(hidden))) if hidden else query


def _row(row: sa.Row[Any]) -> Override:
    return Override(row.id, row.scheme, row.customer_id, row.kind, row.tier, row.reason,
                    row.author, row.created_at, row.valid_from, row.expires, row.status,
                    row.decided_by, row.decided_at, row.decision_note, row.revision)


def _public(o: Override) -> dict[str, Any]:
    return {k: v for k, v in asdict(o).items() if k not in ("created_at", "decided_at")}


@dataclass(frozen=True)
class OverrideRequest:
    """An override as a person asks for it: which customer, how, why, and from when."""

    scheme: str
    customer_id: str
    kind: str
    tier: str | None
    reason: str
    valid_from: date | None = None
    expires: date | None = None


def create(
    conn: sa.Connection,
    request: OverrideRequest,
    *,
    author: str,
    tiers: list[str],
    require_approval: bool,
    backdated: bool = False,
) -> Override:
    """Record an override; ``tiers`` are the scheme's tier keys, to check ``tier`` against.

    ``backdated`` marks an override that starts before today in its audit event.

    Raises:
        StoreError: for a missing reason, an unknown kind or tier, or an expiry before the start.
        ConflictError: when the customer already has a pending or active override.

    """
    scheme, customer_id, expires = request.scheme, request.customer_id, request.expires
    start = request.valid_from or date.today()
    _check(request, tiers, start)
    sid = lock(conn, scheme)
    current = conn.execute(
        _select().where(overrides.c.scheme_id == sid, overrides.c.customer_id == customer_id,
                        overrides.c.status.in_((PENDING, ACTIVE)))
    ).all()
    # Two overrides of one customer may not be in force on the same day.
    end = expires or date.max
    live = [o for o in map(_row, current)
            if start < (o.expires or date.max) and o.valid_from < end]
    if live:
        o = live[0]
        raise ConflictError(
            _("customer {customer} already has override #{id} in {scheme} ({kind}, {status}); "
              "revoke it first (`tierwise override revoke {id}`)").format(
                  customer=repr(customer_id), id=o.id, scheme=repr(scheme),
                  kind=f"{o.kind} {o.tier}" if o.tier else o.kind, status=o.status)
        )
    oid = conn.execute(
        sa.insert(overrides).values(
            scheme_id=sid, customer_id=customer_id, kind=request.kind, tier=request.tier,
            reason=request.reason.strip(),
            author=author, created_at=now(), valid_from=start, expires=expires,
            status=PENDING if require_approval else ACTIVE,
        ).returning(overrides.c.id)
    ).scalar_one()
    made = get(conn, int(oid))
    audit.append(conn, actor=author, action="override.created", object_type="override",
                 object_id=str(oid),
                 after={**_public(made), "backdated": True} if backdated else _public(made))
    return made


def _check(request: OverrideRequest, tiers: list[str], start: date) -> None:
    """Refuse a request without a reason, of an unknown kind or tier, or expiring too soon."""
    kind, tier = request.kind, request.tier
    if not request.reason or not request.reason.strip():
        raise StoreError(_("an override needs a reason: say why this customer's grade is "
                           "changed"))
    if kind not in KINDS:
        raise StoreError(_("override kind {kind} is unknown; use one of {kinds}").format(
            kind=repr(kind), kinds=_(", ").join(KINDS)))
    if kind == "exclude":
        if tier is not None:
            raise StoreError(_("an exclude override takes no tier; leave the tier out"))
    elif tier not in tiers:
        raise StoreError(
            _("tier {tier} is not a tier of {scheme}; tiers: {tiers}").format(
                tier=repr(tier), scheme=repr(request.scheme), tiers=_(", ").join(tiers))
        )
    if request.expires is not None and request.expires <= start:
        raise StoreError(
            _("the override expires on {expires}, not after it starts ({start}); give a later "
              "expiry or none").format(expires=request.expires, start=start)
        )


def get(conn: sa.Connection, override_id: int) -> Override:
    """The override with id ``override_id``."""
    row = conn.execute(_select().where(overrides.c.id == override_id)).first()
    if row is None:
        raise NotFoundError(_("no override #{id}; `tierwise override list` shows them").format(
            id=override_id))
    return _row(row)


def _decide(conn: sa.Connection, override_id: int, *, actor: str, status: str, note: str | None,
            allowed_from: tuple[str, ...], action: str, revision: int | None) -> Override:
    before = get(conn, override_id)
    if revision is not None and revision != before.revision:
        raise ConflictError(
            _("override #{id} changed since you read it (revision {revision}, now {now}); "
              "reload it and decide again").format(id=override_id, revision=revision,
                                                   now=before.revision)
        )
    if before.status not in allowed_from:
        raise ConflictError(
            _("override #{override_id} is {status}; only a {allowed} override can be {wanted}"
              ).format(override_id=override_id, status=before.status,
                       allowed=_(" or ").join(allowed_from), wanted=status)
        )
    if status in (ACTIVE, REJECTED) and actor == before.author:
        raise PermissionDenied(
            _("{actor!r} wrote override #{override_id} and cannot approve or reject it; a "
              "second person must decide").format(actor=actor, override_id=override_id)
        )
    updated = conn.execute(
        sa.update(overrides)
        .where(overrides.c.id == override_id, overrides.c.revision == before.revision)
        .values(status=status, decided_by=actor, decided_at=now(), decision_note=note,
                revision=before.revision + 1)
    )
    if updated.rowcount != 1:
        raise ConflictError(_("override #{id} changed while deciding; try again").format(
            id=override_id))
    after = get(conn, override_id)
    audit.append(conn, actor=actor, action=action, object_type="override",
                 object_id=str(override_id), before=_public(before), after=_public(after))
    return after


def approve(conn: sa.Connection, override_id: int, *, approver: str, note: str | None = None,
            revision: int | None = None) -> Override:
    """Approve a pending override (not by its author)."""
    return _decide(conn, override_id, actor=approver, status=ACTIVE, note=note,
                   allowed_from=(PENDING,), action="override.approved", revision=revision)


def reject(conn: sa.Connection, override_id: int, *, approver: str, note: str | None = None,
           revision: int | None = None) -> Override:
    """Reject a pending override (not by its author)."""
    return _decide(conn, override_id, actor=approver, status=REJECTED, note=note,
                   allowed_from=(PENDING,), action="override.rejected", revision=revision)


def revoke(conn: sa.Connection, override_id: int, *, actor: str, note: str | None = None,
           revision: int | None = None) -> Override:
    """End a pending or active override now."""
    return _decide(conn, override_id, actor=actor, status=REVOKED, note=note,
                   allowed_from=(PENDING, ACTIVE), action="override.revoked", revision=revision)


def listing(
    conn: sa.Connection,
    *,
    scheme: str | None = None,
    customer_id: str | None = None,
    status: str | None = None,
) -> list[Override]:
    """Overrides, newest first, optionally of one scheme, customer or status."""
    query = _select()
    if scheme is not None:
        query = query.where(overrides.c.scheme_id == scheme_id(conn, scheme))
    if customer_id is not None:
        query = query.where(overrides.c.customer_id == customer_id)
    if status is not None:
        query = query.where(overrides.c.status == status)
    return [_row(r) for r in conn.execute(query.order_by(overrides.c.id.desc()))]


def pending_count(conn: sa.Connection, *, not_by: str | None = None,
                  assigned_to: int | None = None) -> int:
    """How many overrides wait for a decision: one COUNT, no rows read into Python.

    ``not_by``: leave out those this user wrote (they cannot decide them); ``assigned_to``: only
    those of customers assigned to this user id (a manager's own customers).
    """
    query = sa.select(sa.func.count()).select_from(overrides).where(
        overrides.c.status == PENDING)
    if not_by is not None:
        query = query.where(overrides.c.author != not_by)
    if assigned_to is not None:
        query = query.where(overrides.c.customer_id.in_(
            sa.select(assignments.c.customer_id).where(assignments.c.user_id == assigned_to)))
    hidden = visibility.hidden()
    if hidden:
        query = query.where(overrides.c.scheme_id.not_in(
            sa.select(schemes.c.id).where(schemes.c.name.in_(sorted(hidden)))))
    return int(conn.execute(query).scalar_one())


def in_force(conn: sa.Connection, scheme: str, day: date) -> list[Override]:
    """The overrides of ``scheme`` that apply to a run as of ``day``."""
    return [o for o in listing(conn, scheme=scheme, status=ACTIVE) if o.applies_on(day)]
