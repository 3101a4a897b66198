"""Reassignments in review: an assign action's moves that wait for a supervisor's decision.

An assign action with ``approval: true`` applies new accounts and kept managers at once, but a
customer who would move from one manager to another, or lose theirs, keeps their manager and
waits in the ledger with status ``review`` and the manager proposed
(:func:`tierwise.services.assigning.deliver_assignments`). :func:`pending` lists them with the
reason; :func:`decide` approves them (the move takes effect, provided the proposed manager still
has room) or rejects them (the customer keeps their manager), in one transaction with an audit
event that names the reviewer and the note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tierwise.errors import ConflictError, NotFoundError, SpecError
from tierwise.i18n import _
from tierwise.services.assigning import holding_in, managers_in
from tierwise.services.project import Project
from tierwise.spec.actions import ActionSpec, AssignSpec
from tierwise.store import Store
from tierwise.store.action_ledger import Entry
from tierwise.store.repos import Tx


@dataclass(frozen=True)
class Reassignment:
    """One move waiting for a decision."""

    id: int
    customer_id: str
    run_id: int
    as_of: date
    tier: str | None
    value: float | None
    manager_now: str | None   # who has the customer now (None: nobody any more)
    proposed: str | None      # who would take them (None: they would lose their manager)
    why: str


def reviewed_action(project: Project, name: str) -> tuple[ActionSpec, AssignSpec]:
    """The assign action ``name`` (whose reassignments may be in review).

    An action that no longer asks for approval still lists and decides the rows it left in
    review.

    Raises:
        NotFoundError: no such action.
        SpecError: the action is not an assign action.
    """
    action = project.spec.actions.get(name)
    if action is None:
        raise NotFoundError(_("no action {name} in tierwise.yaml; its actions are {known}").format(
            name=repr(name), known=_(", ").join(project.spec.actions) or "-"))
    settings = action.settings()
    if not isinstance(settings, AssignSpec):
        raise SpecError(_("action {name} does not ask for approval: only an assign action with "
                          "`approval: true` under `assign:` puts reassignments in review").format(
            name=repr(name)))
    return action, settings


def pending(project: Project, store: Store, name: str, *, limit: int = 10_000,
            visible: set[str] | None = None) -> list[Reassignment]:
    """The reassignments of action ``name`` waiting for a decision, oldest first.

    ``visible``: only these customers (a manager's), before the limit is applied.
    """
    reviewed_action(project, name)
    with store.read() as tx:
        rows = [e for e in tx.actions.entries(name, status="review", limit=10_000_000)
                if visible is None or e.customer_id in visible][:limit]
        now = tx.users.holders([e.customer_id for e in rows])
    return [Reassignment(e.id, e.customer_id, e.run_id, e.as_of, e.to_tier, e.value,
                         now.get(e.customer_id), e.proposal or None, e.last_error or "")
            for e in rows]


def decide(project: Project, store: Store, name: str, ids: list[int], *, approve: bool,
           actor: str, note: str | None = None) -> int:
    """Approve or reject the reassignments ``ids`` of action ``name``; returns how many.

    Approving moves each customer to the proposed manager (or takes their manager away) unless
    that would put a manager over capacity or a customer's manager changed since the proposal,
    in which case nothing changes. The checks and the changes are one transaction.

    Raises:
        NotFoundError: an id is not a row of this action.
        ConflictError: a row is no longer in review, a customer's manager changed, two rows
            propose for one customer, or approving would exceed a capacity.
        SpecError: a proposed manager is no longer an enabled manager of the action.
    """
    action, settings = reviewed_action(project, name)
    if not ids:
        raise SpecError(_("say which reassignments to decide: give their numbers (see "
                          "`tierwise actions review {name}`)").format(name=name))
    with store.write() as tx:
        rows = tx.actions.by_ids(name, ids)
        _check_waiting(name, ids, rows)
        if approve:
            _check_current(tx, rows)
            _check_capacity(tx, action, settings, name, rows)
            tx.users.unassign([e.customer_id for e in rows if not e.proposal], actor=actor)
            for manager in sorted({e.proposal for e in rows if e.proposal}):
                tx.users.assign([e.customer_id for e in rows if e.proposal == manager], manager,
                                actor=actor)
        for entry in rows:
            status = ("sent" if entry.proposal else "dead") if approve else "rejected"
            if not tx.actions.decide(entry.id, status, note):
                raise ConflictError(_("reassignment #{id} was decided by someone else just "
                                      "now; nothing was changed").format(id=entry.id))
        tx.audit.append(
            actor=actor, object_type="action", object_id=name,
            action="action.reassignment_approved" if approve else "action.reassignment_rejected",
            after={"rows": [e.id for e in rows], "customers": [e.customer_id for e in rows],
                   "to": {e.customer_id: e.proposal or None for e in rows}, "note": note})
    return len(rows)


def _check_waiting(name: str, ids: list[int], rows: list[Entry]) -> None:
    missing = sorted(set(ids) - {e.id for e in rows})
    if missing:
        raise NotFoundError(_("action {name} has no reassignment #{ids}; `tierwise actions "
                              "review {name}` lists the waiting ones").format(
            name=name, ids=", #".join(str(i) for i in missing)))
    done = [e for e in rows if e.status != "review"]
    if done:
        raise ConflictError(_("reassignment #{ids} was already decided ({status}); nothing was "
                              "changed, decide the others again without it").format(
            ids=", #".join(str(e.id) for e in done),
            status=_(", ").join(sorted({e.status for e in done}))))


def _check_current(tx: Tx, rows: list[Entry]) -> None:
    """Refuse when a customer's manager is no longer the one the proposal moves them from."""
    now = tx.users.holders([e.customer_id for e in rows])
    for entry in rows:
        if entry.held_by is not None and now.get(entry.customer_id) != entry.held_by:
            raise ConflictError(_(
                "customer {customer}'s manager changed since reassignment #{id} was proposed "
                "(was {before}, now {now}); reject it, the next run proposes again. Nothing "
                "was changed").format(customer=entry.customer_id, id=entry.id,
                                      before=entry.held_by, now=now.get(entry.customer_id, "-")))


def _check_capacity(tx: Tx, action: ActionSpec, settings: AssignSpec, name: str,
                    rows: list[Entry]) -> None:
    """Refuse an approval that would give a manager more accounts than their capacity."""
    managers = {m.name: m for m in managers_in(tx, name, settings)}
    incoming = {m: [e.customer_id for e in rows if e.proposal == m]
                for m in {e.proposal for e in rows if e.proposal}}
    for manager, customers in sorted(incoming.items()):
        if manager not in managers:
            raise SpecError(_("action {name} no longer names {manager} as a manager; reject "
                              "these reassignments or add the manager back").format(
                name=repr(name), manager=manager))
        run_id = max(e.run_id for e in rows if e.proposal == manager)
        _current, load = holding_in(tx, run_id, name, action, [managers[manager]],
                                    set(customers))
        total = load[manager] + len(customers)
        cap = managers[manager].capacity
        if total > cap:
            raise ConflictError(_(
                "approving would give {manager} {total} accounts, over their capacity of "
                "{capacity} ({load} now); approve at most {room} of these, reject some, or raise "
                "the capacity in tierwise.yaml. Nothing was changed").format(
                manager=manager, total=total, capacity=cap, load=load[manager],
                room=max(cap - load[manager], 0)))
