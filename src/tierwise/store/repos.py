"""The store as one object: repositories bound to one connection or transaction.

Services do not pick table modules and pass connections around; they ask the store for a
:class:`Tx` (``store.read()`` or ``store.write()``) and call its repositories::

    with store.write() as tx:
        tx.schemes.lock(name)
        run_id = tx.runs.start(name, version_id=v.id, as_of=day, official=True, forced=False,
                               actor=who)

Each repository method is the table module's function with the connection bound (typed through
:class:`Bound`), so the table modules stay the one place each query is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

import sqlalchemy as sa

from tierwise.store import (
    access_log,
    action_ledger,
    audit,
    overrides,
    runs,
    schedules,
    schemes,
    users,
)

P = ParamSpec("P")
R = TypeVar("R")


class Repository:
    """A table module's functions with one connection bound."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn


class Bound(Generic[P, R]):
    """A table-module function whose first parameter, the connection, the repository supplies."""

    def __init__(self, fn: Callable[Concatenate[sa.Connection, P], R]) -> None:
        self.fn = fn
        self.__doc__ = fn.__doc__

    @overload
    def __get__(self, repo: None, owner: type[Any]) -> Bound[P, R]: ...

    @overload
    def __get__(self, repo: Repository, owner: type[Any]) -> Callable[P, R]: ...

    def __get__(self, repo: Repository | None, owner: type[Any]
                ) -> Bound[P, R] | Callable[P, R]:
        if repo is None:
            return self
        fn, conn = self.fn, repo.conn

        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            return fn(conn, *args, **kwargs)

        return call


class Schemes(Repository):
    """Scheme versions and activations (:mod:`tierwise.store.schemes`)."""

    scheme_id = Bound(schemes.scheme_id)
    lock = Bound(schemes.lock)
    save_version = Bound(schemes.save_version)
    versions = Bound(schemes.versions)
    version = Bound(schemes.version)
    version_by_id = Bound(schemes.version_by_id)
    activate = Bound(schemes.activate)
    activation_list = Bound(schemes.activation_list)
    active_version = Bound(schemes.active_version)
    rollback = Bound(schemes.rollback)
    scheme_names = Bound(schemes.scheme_names)
    infos = Bound(schemes.infos)
    info = Bound(schemes.info)
    set_title = Bound(schemes.set_title)
    set_retired = Bound(schemes.set_retired)
    confidential_roles = Bound(schemes.confidential_roles)
    signature = Bound(schemes.signature)
    delete = Bound(schemes.delete)


class Runs(Repository):
    """Runs and their per-tier counts (:mod:`tierwise.store.runs`)."""

    start = Bound(runs.start)
    finish = Bound(runs.finish)
    fail = Bound(runs.fail)
    get = Bound(runs.get)
    listing = Bound(runs.listing)
    history_runs = Bound(runs.history_runs)
    tier_counts = Bound(runs.tier_counts)
    abandon_dead = Bound(runs.abandon_dead)


class Overrides(Repository):
    """Manual grades and their decisions (:mod:`tierwise.store.overrides`)."""

    create = Bound(overrides.create)
    get = Bound(overrides.get)
    approve = Bound(overrides.approve)
    reject = Bound(overrides.reject)
    revoke = Bound(overrides.revoke)
    listing = Bound(overrides.listing)
    pending_count = Bound(overrides.pending_count)
    in_force = Bound(overrides.in_force)


class Users(Repository):
    """Users, sessions, tokens, login failures, assignments (:mod:`tierwise.store.users`)."""

    create = Bound(users.create)
    get = Bound(users.get)
    by_name = Bound(users.by_name)
    listing = Bound(users.listing)
    set_password = Bound(users.set_password)
    check_credentials = Bound(users.check_credentials)
    locked_until = Bound(users.locked_until)
    record_failure = Bound(users.record_failure)
    clear_failures = Bound(users.clear_failures)
    new_token = Bound(users.new_token)
    revoke_token = Bound(users.revoke_token)
    tokens = Bound(users.tokens)
    token_user = Bound(users.token_user)
    user_for_token = Bound(users.user_for_token)
    touch_token = Bound(users.touch_token)
    new_session = Bound(users.new_session)
    session_user = Bound(users.session_user)
    touch_session = Bound(users.touch_session)
    end_session = Bound(users.end_session)
    session_list = Bound(users.session_list)
    revoke_session = Bound(users.revoke_session)
    enabled_admins = Bound(users.enabled_admins)
    has_users = Bound(users.has_users)
    set_disabled = Bound(users.set_disabled)
    set_role = Bound(users.set_role)
    assign = Bound(users.assign)
    unassign = Bound(users.unassign)
    assigned = Bound(users.assigned)
    is_assigned = Bound(users.is_assigned)
    holders = Bound(users.holders)


class Audit(Repository):
    """The hash-chained audit events (:mod:`tierwise.store.audit`)."""

    append = Bound(audit.append)
    verify = Bound(audit.verify)
    events = Bound(audit.events)


class AccessLog(Repository):
    """Reads, searches and failed logins (:mod:`tierwise.store.access_log`)."""

    record = Bound(access_log.record)
    entries = Bound(access_log.entries)
    prune = Bound(access_log.prune)


class Schedules(Repository):
    """Runs the server starts by itself (:mod:`tierwise.store.schedules`)."""

    create = Bound(schedules.create)
    get = Bound(schedules.get)
    listing = Bound(schedules.listing)
    change = Bound(schedules.change)
    delete = Bound(schedules.delete)
    due = Bound(schedules.due)
    claim = Bound(schedules.claim)
    record = Bound(schedules.record)


class ActionLedger(Repository):
    """Who each action reached on a run, and its deliveries (:mod:`tierwise.store.action_ledger`)."""

    record = Bound(action_ledger.record)
    recorded = Bound(action_ledger.recorded)
    treated_between = Bound(action_ledger.treated_between)
    due = Bound(action_ledger.due)
    mark = Bound(action_ledger.mark)
    entries = Bound(action_ledger.entries)
    counts = Bound(action_ledger.counts)
    reached = Bound(action_ledger.reached)
    follow_ups = Bound(action_ledger.follow_ups)
    propose = Bound(action_ledger.propose)
    by_ids = Bound(action_ledger.by_ids)
    decide = Bound(action_ledger.decide)
    mark_all = Bound(action_ledger.mark_all)


class Tx:
    """One connection (a read) or transaction (a write) with every repository bound to it.

    ``conn`` stays available for the few queries that span tables.
    """

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.schemes = Schemes(conn)
        self.runs = Runs(conn)
        self.overrides = Overrides(conn)
        self.users = Users(conn)
        self.audit = Audit(conn)
        self.access_log = AccessLog(conn)
        self.schedules = Schedules(conn)
        self.actions = ActionLedger(conn)
