"""Override use cases: create one for a customer, approve, reject, revoke.

The scheme's tiers and its approval rule come from its active version, so an override names a tier
the grading actually has.
"""

from __future__ import annotations

from datetime import date

from tierwise import methods
from tierwise.errors import NotFoundError
from tierwise.services import versions as version_service
from tierwise.services.grading import Project
from tierwise.services.runs import actor_name, open_store
from tierwise.spec.names import check_scheme_name
from tierwise.store import Store
from tierwise.store import overrides as store_overrides
from tierwise.store import schemes as store_schemes
from tierwise.store.overrides import Override


def create(
    project: Project,
    scheme: str,
    customer_id: str,
    *,
    kind: str,
    tier: str | None,
    reason: str,
    actor: str | None = None,
    valid_from: date | None = None,
    expires: date | None = None,
    store: Store | None = None,
) -> Override:
    """Record an override; it is pending when the scheme requires approval, else active.

    ``store`` is an open store to use (default: open the project's for this call).

    Raises:
        SpecError: ``scheme`` breaks the scheme-name rule (:mod:`tierwise.spec.names`).
        NotFoundError: the scheme has no active version on the override's first day.

    """
    check_scheme_name(scheme)
    own = store is None
    store = store or open_store(project)
    try:
        version_service.save(store, project, scheme, actor=actor_name(actor))
        with store.begin() as conn:
            active = store_schemes.active_version(conn, scheme, valid_from or date.today())
            if active is None:
                raise NotFoundError(f"scheme {scheme!r} has no active version")
            spec = version_service.scheme_of(active)
            return store_overrides.create(
                conn, scheme, customer_id, kind=kind, tier=tier, reason=reason,
                author=actor_name(actor), tiers=[t.key for t in methods.scheme_tiers(spec)],
                require_approval=spec.overrides.require_approval, valid_from=valid_from,
                expires=expires)
    finally:
        if own:
            store.close()


def _decide(project: Project, action: str, override_id: int, note: str | None,
            actor: str | None, revision: int | None, store: Store | None) -> Override:
    own = store is None
    store = store or open_store(project)
    try:
        with store.begin() as conn:
            decide = getattr(store_overrides, action)
            if action == "revoke":
                result: Override = decide(conn, override_id, actor=actor_name(actor), note=note,
                                          revision=revision)
            else:
                result = decide(conn, override_id, approver=actor_name(actor), note=note,
                                revision=revision)
            return result
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
