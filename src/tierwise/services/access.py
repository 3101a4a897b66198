"""Who may do what: roles, actions, and which customers a manager sees.

Every edge (REST API, dashboard) asks these functions before it calls a use case, so the rules
live in one place:

* admin: everything, including users;
* supervisor: edits and activates schemes, starts runs, creates and decides overrides;
* manager: reads and acts (overrides, exports) only on the customers assigned to them;
* auditor: reads everything, including the audit log, and changes nothing;
* compliance: reads everything and the audit log, starts runs, creates and decides overrides
  (manual risk-level changes with a second person's approval).

A confidential scheme (``confidential: {roles: [...]}``) exists only for the roles it names and
for administrators: to everyone else it is missing, its runs, overrides, actions and audit
entries too, and asking for it by name answers exactly as for a scheme that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from tierwise.errors import PermissionDenied
from tierwise.i18n import N_, _
from tierwise.store import Store, visibility
from tierwise.store.overrides import Override
from tierwise.store.users import User

READ = "read"                    # schemes, versions, runs, summaries, transitions
READ_CUSTOMERS = "read_customers"
READ_AUDIT = "read_audit"
EDIT_SCHEMES = "edit_schemes"    # save, activate, roll back, preview
RUN = "run"
OVERRIDE = "override"            # create and revoke one's own
DECIDE = "decide"                # approve, reject, revoke anyone's
EXPORT = "export"
USERS = "users"
ASSIGN = "assign"                # give customers to an account manager

ALLOWED: dict[str, frozenset[str]] = {
    "admin": frozenset({READ, READ_CUSTOMERS, READ_AUDIT, EDIT_SCHEMES, RUN, OVERRIDE, DECIDE,
                        EXPORT, USERS, ASSIGN}),
    "supervisor": frozenset({READ, READ_CUSTOMERS, EDIT_SCHEMES, RUN, OVERRIDE, DECIDE,
                             EXPORT, ASSIGN}),
    "manager": frozenset({READ, READ_CUSTOMERS, OVERRIDE, EXPORT}),
    "auditor": frozenset({READ, READ_CUSTOMERS, READ_AUDIT, EXPORT}),
    "compliance": frozenset({READ, READ_CUSTOMERS, READ_AUDIT, RUN, OVERRIDE, DECIDE, EXPORT}),
}


# What each action means, for refusals ("the role manager may not manage users").
WORDS: dict[str, str] = {
    READ: N_("read schemes and runs"),
    READ_CUSTOMERS: N_("read customers"),
    READ_AUDIT: N_("read the audit log"),
    EDIT_SCHEMES: N_("edit or activate schemes"),
    RUN: N_("start runs"),
    OVERRIDE: N_("override grades"),
    DECIDE: N_("approve, reject or revoke overrides; decide which records are one customer"),
    EXPORT: N_("export grades"),
    USERS: N_("manage users"),
    ASSIGN: N_("assign customers to account managers"),
}

#: The roles as people call them (the store keeps the codes).
ROLE_NAMES: dict[str, str] = {
    "admin": N_("administrator"),
    "supervisor": N_("supervisor"),
    "manager": N_("manager"),
    "auditor": N_("auditor"),
    "compliance": N_("compliance officer"),
}


def role_name(role: str) -> str:
    """The role ``role`` as people call it, in the current language (the code if unknown)."""
    return _(ROLE_NAMES[role]) if role in ROLE_NAMES else role


def allowed(user: User, action: str) -> bool:
    """Whether ``user``'s role may do ``action`` at all."""
    return action in ALLOWED.get(user.role, frozenset())


def require(user: User, action: str) -> None:
    """Refuse ``action`` unless the user's role allows it."""
    if not allowed(user, action):
        raise PermissionDenied(_("the role {role} may not {action}").format(
            role=role_name(user.role), action=_(WORDS[action]) if action in WORDS else action))


def sees_all_customers(user: User) -> bool:
    """Managers see only their customers; every other role sees all."""
    return user.role != "manager"


def visible_customers(store: Store, user: User) -> set[str] | None:
    """The customers ``user`` may see: None for all, else the assigned ones."""
    if sees_all_customers(user):
        return None
    with store.read() as tx:
        return tx.users.assigned(user)


def require_customer(store: Store, user: User, customer_id: str) -> None:
    """Refuse unless ``user`` may see ``customer_id``.

    The refusal reads like a missing customer, so a manager cannot probe which ids exist.
    """
    if sees_all_customers(user):
        return
    with store.read() as tx:
        if not tx.users.is_assigned(user, customer_id):
            from tierwise.errors import NotFoundError

            raise NotFoundError(_("customer {customer} is not among your customers").format(
                customer=repr(customer_id)))


def require_override(store: Store, user: User, override: Override) -> None:
    """Refuse an override of a customer ``user`` may not see, as if it did not exist."""
    from tierwise.errors import NotFoundError

    try:
        require_customer(store, user, override.customer_id)
    except NotFoundError:
        raise NotFoundError(_("no override #{id}").format(id=override.id)) from None


def require_decision(store: Store, user: User, override: Override, action: str) -> None:
    """Refuse ``action`` (approve, reject or revoke) on ``override`` unless ``user`` may take it.

    The override's customer must be visible to the user (else it reads as missing). Approving
    and rejecting need a decider; revoking one's own override needs only the right to override.
    """
    require_override(store, user, override)
    require(user, OVERRIDE if action == "revoke" else DECIDE)
    if action == "revoke" and override.author != user.username:
        require(user, DECIDE)


def log_read(store: Store, user: User, action: str, object_type: str, object_id: str, *,
             client: str | None = None, detail: object = None) -> None:
    """Record that ``user`` read personal data (a customer page, a search) in the access log.

    Reads go to the access log, not the hash-chained audit log: they are many, and a business
    prunes them after its retention period (``tierwise audit prune-access``).
    """
    with store.write() as tx:
        tx.access_log.record(actor=user.username, action=action, object_type=object_type,
                          object_id=object_id, client=client, detail=detail)


_HIDDEN_CACHE: dict[int, tuple[tuple[object, ...], dict[str, tuple[str, ...]]]] = {}


def _confidential(store: Store) -> dict[str, tuple[str, ...]]:
    """Confidential scheme -> roles that see it, re-read only when a version was saved."""
    with store.read() as tx:
        key = tx.schemes.signature()
        cached = _HIDDEN_CACHE.get(id(store))
        if cached is not None and cached[0] == key:
            return cached[1]
        found = tx.schemes.confidential_roles()
    _HIDDEN_CACHE[id(store)] = (key, found)
    return found


def hidden_schemes(store: Store, user: User,
                   declared: Mapping[str, tuple[str, ...]] | None = None) -> frozenset[str]:
    """The confidential schemes ``user`` may not see (none for an administrator).

    A scheme is confidential when any stored version of it was (or a deleted one had been),
    or when ``declared`` (tierwise.yaml's schemes, not yet run or saved) says so; a user must
    be named by each of them to see it.
    """
    if user.role == "admin":
        return frozenset()
    hidden = {name for name, roles in _confidential(store).items() if user.role not in roles}
    hidden |= {name for name, roles in (declared or {}).items() if user.role not in roles}
    return frozenset(hidden)


def declared_confidential(schemes: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """The confidential schemes of a project's ``schemes`` and the roles each names."""
    return {name: tuple(spec.confidential.roles) for name, spec in schemes.items()
            if getattr(spec, "confidential", None) is not None}


def request_scope() -> AbstractContextManager[None]:
    """A request's scope of visibility (:func:`enter` fills it once the user is known)."""
    return visibility.scope()


def enter(store: Store, user: User, declared: Mapping[str, tuple[str, ...]] | None = None
          ) -> None:
    """Serve the rest of the request for ``user``: the schemes they may not see are missing.

    Called by the edges once they know who is asking (:mod:`tierwise.store.visibility`), with
    the project file's confidential schemes (:func:`declared_confidential`).
    """
    visibility.hide(hidden_schemes(store, user, declared))


def sees_scheme(store: Store, user: User, scheme: str) -> bool:
    """Whether ``scheme`` exists for ``user`` (every scheme but a confidential one not theirs)."""
    return scheme not in hidden_schemes(store, user)


def require_scheme(store: Store, user: User, scheme: str) -> None:
    """Refuse a confidential scheme ``user`` may not see, exactly as a scheme that is missing.

    Raises:
        NotFoundError: with the message a missing scheme gets.

    """
    if not sees_scheme(store, user, scheme):
        from tierwise.errors import NotFoundError

        raise NotFoundError(_("no scheme {name!r}").format(name=scheme))
