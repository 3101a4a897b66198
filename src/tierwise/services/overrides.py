"""Override use cases: create one for a customer, approve, reject, revoke.

The scheme's tiers come from the version active when the override starts, so an override names a
tier the grading actually has; its governance (approval, how far it may be backdated) from the
version active today. Creating an override never saves or edits a scheme version. An override
is only for a customer the scheme's latest official run graded. One that starts before that run's
as-of date is backdated: it rewrites grades people have already read once the past is re-run, so
it may reach back at most ``overrides.max_backdate_days`` and always waits for a second person's
approval.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from tierwise import methods
from tierwise.errors import ConflictError, NotFoundError, SpecError
from tierwise.i18n import _
from tierwise.services import access
from tierwise.services import versions as version_service
from tierwise.services.grading import Project
from tierwise.services.runs import actor_name, open_store
from tierwise.spec.names import check_scheme_name
from tierwise.store import Store
from tierwise.store.overrides import ACTIVE, PENDING, Override, OverrideRequest
from tierwise.store.runs import Run
from tierwise.store.users import User

__all__ = [
    "Decision",
    "OverrideRequest",
    "StaleOverride",
    "approve",
    "create",
    "decidable",
    "decide",
    "effect",
    "listing",
    "reject",
    "revoke",
    "start_rule",
    "visible",
]


def create(project: Project, request: OverrideRequest, *, actor: str | None = None,
           store: Store | None = None) -> Override:
    """Record an override; it is pending when the scheme requires approval, else active.

    It starts on ``request.valid_from``, by default the as-of date of the scheme's latest
    official run (the class people read), so it shows at once once active. ``store`` is an
    open store to use (default: open the project's for this call).

    Raises:
        SpecError: ``scheme`` breaks the scheme-name rule (:mod:`tierwise.spec.names`).
        NotFoundError: the scheme has no active version on the override's first day.

    """
    scheme = request.scheme
    check_scheme_name(scheme)
    own = store is None
    store = store or open_store(project)
    today = date.today()
    try:
        latest = _require_graded(store, scheme, request.customer_id)
        # Without a start, the override takes effect from the latest graded date: the date
        # the customer's class is read for, so the class people read changes at once.
        valid_from = request.valid_from or latest.as_of
        request = replace(request, valid_from=valid_from)
        with store.write() as tx:
            active = tx.schemes.active_version(scheme, valid_from)
            governing = tx.schemes.active_version(scheme, today)
            if active is None or governing is None:
                raise NotFoundError(_("scheme {scheme!r} has no active version on {day}; "
                                      "activate one first").format(scheme=scheme,
                                        day=valid_from))
            spec = version_service.scheme_of(active)
            rules = version_service.scheme_of(governing).overrides
            backdated = False
            if valid_from < latest.as_of:
                backdated = True
                days = (latest.as_of - valid_from).days
                if days > rules.max_backdate_days:
                    raise SpecError(
                        _("the override would start on {valid_from}, {days:,} days before the "
                          "latest run's as-of date {as_of}; scheme {scheme!r} allows at most "
                          "{max_backdate_days} (overrides.max_backdate_days); start it on "
                          "{as_of} or later").format(valid_from=valid_from, days=days,
                            as_of=latest.as_of, scheme=scheme,
                            max_backdate_days=rules.max_backdate_days))
            return tx.overrides.create(request, author=actor_name(actor),
                tiers=[t.key for t in methods.scheme_tiers(spec)],
                require_approval=rules.require_approval or backdated, backdated=backdated)
    finally:
        if own:
            store.close()


@dataclass(frozen=True)
class StartRule:
    """When a new override of a scheme may start, as its form explains it.

    Attributes:
        graded: the as-of date of the latest official run (the default start).
        earliest: the earliest start allowed (``graded`` less ``max_backdate_days``).
        max_backdate_days: how far before ``graded`` a start may reach.
        require_approval: every override of the scheme waits for a second person.
    """

    graded: date
    earliest: date
    max_backdate_days: int
    require_approval: bool


def start_rule(store: Store, scheme: str) -> StartRule:
    """The start dates an override of ``scheme`` may take, from its latest run and its rules.

    Raises:
        NotFoundError: the scheme has no finished official run, or no active version today.
    """
    from datetime import timedelta

    from tierwise.services.history import latest_run

    latest = latest_run(store, scheme)
    with store.read() as tx:
        governing = tx.schemes.active_version(scheme, date.today())
    if governing is None:
        raise NotFoundError(_("scheme {scheme!r} has no active version today; activate one "
                              "first").format(scheme=scheme))
    rules = version_service.scheme_of(governing).overrides
    return StartRule(latest.as_of, latest.as_of - timedelta(days=rules.max_backdate_days),
                     rules.max_backdate_days, rules.require_approval)


#: When an override shows, as :func:`effect` says it.
SHOWN, WAITS, LATER, OVER, ENDED = "shown", "waits", "later", "over", "ended"


def effect(o: Override, graded: date) -> str:
    """When ``o`` shows in the class read as of ``graded`` (the latest run's date).

    ``shown``: in force on that date, so the class shown includes it; ``waits``: pending a
    second person's approval; ``later``: starts after that date, so the first run as of its
    start shows it; ``over``: it expires on or before that date; ``ended``: rejected or revoked.
    """
    if o.status == PENDING:
        return WAITS
    if o.status != ACTIVE:
        return ENDED
    if o.valid_from > graded:
        return LATER
    return SHOWN if o.applies_on(graded) else OVER


def _require_graded(store: Store, scheme: str, customer_id: str) -> Run:
    """The scheme's latest official run; refused when it did not grade the customer."""
    import pyarrow.parquet as pq

    from tierwise.indicators import CUSTOMER
    from tierwise.services.history import latest_run

    run = latest_run(store, scheme)
    found = pq.read_table(Path(run.folder or "") / "grades.parquet", columns=[CUSTOMER],
                          filters=[(CUSTOMER, "==", customer_id)])
    if found.num_rows == 0:
        raise NotFoundError(
            _("customer {customer_id!r} is not among the {n:,} customers of {scheme!r} "
              "graded as of {as_of} (run {id}); check the id, or run the scheme on data that "
              "holds the customer first").format(customer_id=customer_id,
                n=run.customers or 0, scheme=scheme, as_of=run.as_of, id=run.id))
    return run


def _decide(project: Project, action: str, override_id: int, note: str | None,
            actor: str | None, revision: int | None, store: Store | None) -> Override:
    own = store is None
    store = store or open_store(project)
    try:
        with store.write() as tx:
            if action == "revoke":
                return tx.overrides.revoke(override_id, actor=actor_name(actor), note=note,
                                           revision=revision)
            decide = tx.overrides.approve if action == "approve" else tx.overrides.reject
            return decide(override_id, approver=actor_name(actor), note=note,
                          revision=revision)
    finally:
        if own:
            store.close()


def approve(project: Project, override_id: int, *, note: str | None = None,
            actor: str | None = None, revision: int | None = None,
            store: Store | None = None) -> Override:
    """Approve a pending override; the approver can never be its author."""
    return _decide(project, "approve", override_id, note, actor, revision, store)


def reject(project: Project, override_id: int, *, note: str | None = None,
           actor: str | None = None, revision: int | None = None,
           store: Store | None = None) -> Override:
    """Reject a pending override; never by its author."""
    return _decide(project, "reject", override_id, note, actor, revision, store)


def revoke(project: Project, override_id: int, *, note: str | None = None,
           actor: str | None = None, revision: int | None = None,
           store: Store | None = None) -> Override:
    """End an override now."""
    return _decide(project, "revoke", override_id, note, actor, revision, store)


class StaleOverride(ConflictError):
    """The override changed since the person deciding read it (another revision)."""


@dataclass(frozen=True)
class Decision:
    """A decision on an override: approve, reject or revoke, with a note.

    ``revision`` is the override's revision the person decided on; None decides on whatever
    revision is current.
    """

    action: str
    note: str | None = None
    revision: int | None = None


def listing(store: Store, *, user: User | None = None, scheme: str | None = None,
            status: str | None = None) -> list[Override]:
    """Overrides, newest first; with ``user``, only those of customers the user may see."""
    with store.read() as tx:
        found = tx.overrides.listing(scheme=scheme, status=status)
    shown = access.visible_customers(store, user) if user is not None else None
    return [o for o in found if shown is None or o.customer_id in shown]


def visible(store: Store, user: User, override_id: int) -> Override:
    """The override, refused as missing unless ``user`` may see its customer."""
    with store.read() as tx:
        found = tx.overrides.get(override_id)
    access.require_override(store, user, found)
    return found


def decidable(store: Store, user: User | None, action: str, override_id: int, *,
              customer_id: str | None = None) -> Override:
    """The override ``user`` may ``action`` (approve, reject or revoke), else a refusal.

    ``user`` None is the local operator of a store without users, who may decide anything.
    ``customer_id``: the customer whose page the decision came from; another's override is
    refused as missing.
    """
    with store.read() as tx:
        target = tx.overrides.get(override_id)
    if user is not None:
        access.require_decision(store, user, target, action)
    if customer_id is not None and target.customer_id != customer_id:
        raise NotFoundError(_("override #{override_id} is not one of {customer_id}'s").format(
            override_id=override_id,
                                customer_id=customer_id))
    return target


def decide(project: Project, target: Override, decision: Decision, *, actor: str | None,
           store: Store | None = None) -> Override:
    """Take ``decision`` on ``target`` (from :func:`decidable`), at the revision it names.

    Raises:
        StaleOverride: the override is no longer at ``decision.revision``.

    """
    if decision.revision is not None and decision.revision != target.revision:
        raise StaleOverride(
            _("override #{id} changed since you read it (revision {revision}, now "
              "{now}); reload it and decide again").format(id=target.id,
                revision=decision.revision, now=target.revision))
    return _decide(project, decision.action, target.id, decision.note, actor,
                   decision.revision, store)
