"""Delivering assign actions: the due customers placed with account managers, in one step.

The customers an assign action reached on a run are placed by :func:`tierwise.actions.assign.
place` (keep the current manager, else balance load within capacity and territory) and written
to the managers' assignments, which decide what each manager may see. The assignments and the
ledger rows change in one transaction: after a crash either both are there or neither. A
customer no manager can take goes to the dead letter with the reason (and loses a manager who
could not keep them, so nobody is over capacity); assignments are audited as done by the
action.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from tierwise.actions.assign import Account, Manager, Placement, place
from tierwise.errors import NotFoundError, SpecError
from tierwise.i18n import N_, _
from tierwise.services.project import Project
from tierwise.spec.actions import ActionSpec, AssignSpec
from tierwise.spec.columns import CUSTOMER
from tierwise.store import Store
from tierwise.store.action_ledger import Entry
from tierwise.store.repos import Tx

#: Why a customer was not placed, as the dead letter says it.
_WHY = {"full": N_("every manager who serves this territory is at capacity"),
        "no manager serves this territory": N_("no manager serves this territory")}


@dataclass
class Placed:
    """What delivering an assign action did: placed, unplaced, and reassignments in review."""

    placed: int = 0
    unplaced: int = 0
    review: int = 0


def deliver_assignments(project: Project, store: Store, name: str, action: ActionSpec,
                        spec: AssignSpec, due: list[Entry],
                        attributes: Callable[[Project, list[str]], dict[str, dict[str, Any]]]
                        ) -> Placed:
    """Place the due customers of each run.

    With ``approval``, a customer who would move from one manager to another (or lose theirs)
    keeps their manager and waits in review (:mod:`tierwise.services.reassignments`).

    Raises:
        SpecError: a manager named in the action is not a user with the manager role.
    """
    managers = managers_of(store, name, spec)
    done = Placed()
    for run_id in sorted({e.run_id for e in due}):
        entries = [e for e in due if e.run_id == run_id]
        found = attributes(project, [e.customer_id for e in entries]) if spec.territory else {}
        territory = {e.customer_id: _text(found.get(e.customer_id, {}).get(spec.territory or ""))
                     for e in entries}
        accounts = [Account(e.customer_id, territory[e.customer_id], e.value) for e in entries]
        current, load = holding(store, run_id, name, action, managers,
                                {a.customer_id for a in accounts})
        ours = {m.name for m in managers}  # a manager outside the action keeps an unplaced one
        result, moving, reasons = _placed(accounts, managers, current, load,
                                          approval=spec.approval)
        lost = {c for c in result.unplaced if current.get(c) in ours}
        dropped = [c for c in lost if c not in moving]
        with store.write() as tx:
            tx.users.unassign(dropped, actor=f"action:{name}")
            for manager in managers:
                mine = [c for c, m in result.to.items() if m == manager.name and c not in moving]
                if mine:
                    tx.users.assign(mine, manager.name, actor=f"action:{name}")
            for entry in entries:
                customer = entry.customer_id
                why = result.unplaced.get(customer)
                if customer in moving:
                    tx.actions.propose(entry.id, moving[customer], _moving_why(
                        current[customer], territory[customer], managers,
                        reasons.get(customer)), held_by=current[customer])
                elif why is None:
                    tx.actions.mark(entry.id, "sent")
                else:
                    before = current.get(customer) if customer in lost else None
                    tx.actions.mark(entry.id, "dead", error=_(_WHY.get(why, why)) + (
                        _("; was with {manager}, who no longer has them").format(
                            manager=before) if before else ""))
        done.review += len(moving)
        done.placed += len(result.to) - sum(1 for m in moving.values() if m)
        done.unplaced += len(result.unplaced)
    return done


def _placed(accounts: list[Account], managers: list[Manager], current: dict[str, str],
            load: dict[str, int], *, approval: bool
            ) -> tuple[Placement, dict[str, str | None], dict[str, str]]:
    """The placement, and with ``approval`` the customers who would change manager.

    A customer waiting for approval stays with their manager, so they still count against that
    manager's capacity, and their proposed manager's place is held: the others are placed
    again around them until no one else has to move (at most once per customer).
    """
    ours = {m.name for m in managers}
    result = place(accounts, managers, current, load)
    if not approval:
        return result, {}, {}
    moving: dict[str, str | None] = {}
    reasons: dict[str, str] = {}  # why a customer who loses their manager found no other
    while True:
        new = {c: result.to.get(c) for c in current
               if c not in moving and ((c in result.to and result.to[c] != current[c])
                                       or (c in result.unplaced and current[c] in ours))}
        if not new:
            break
        moving.update(new)
        reasons.update({c: result.unplaced[c] for c in new if c in result.unplaced})
        held = dict(load)
        for customer, proposed in moving.items():
            if current[customer] in held:
                held[current[customer]] += 1
            if proposed is not None:
                held[proposed] = held.get(proposed, 0) + 1
        rest = [a for a in accounts if a.customer_id not in moving]
        result = place(rest, managers, current, held)
    for customer, proposed in moving.items():  # the review rows keep the first proposal
        if proposed is not None:
            result.to[customer] = proposed
        result.unplaced.pop(customer, None)
    return result, moving, reasons


def _moving_why(before: str, territory: str | None, managers: list[Manager],
                unplaced: str | None) -> str:
    """Why a customer would leave ``before``: the reviewer's reason to approve or not."""
    mine = next((m for m in managers if m.name == before), None)
    if mine is None:
        reason = _("{manager} is not one of this action's managers").format(manager=before)
    elif not mine.serves(territory):
        reason = _("{manager} does not serve territory {territory}").format(
            manager=before, territory=territory or "-")
    else:
        reason = _("{manager} is at capacity ({capacity})").format(
            manager=before, capacity=mine.capacity)
    if unplaced is not None:
        reason += "; " + _(_WHY.get(unplaced, unplaced))
    return reason


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def managers_of(store: Store, name: str, spec: AssignSpec) -> list[Manager]:
    """The managers of action ``name`` with their capacity and territories.

    Raises:
        SpecError: a manager is not an enabled user with the manager role.
    """
    with store.read() as tx:
        return managers_in(tx, name, spec)


def managers_in(tx: Tx, name: str, spec: AssignSpec) -> list[Manager]:
    """:func:`managers_of` inside the caller's transaction."""
    out = []
    for user, settings in spec.managers.items():
        try:
            found = tx.users.by_name(user)
        except NotFoundError:
            found = None
        if found is None or found.role != "manager" or found.disabled:
            raise SpecError(_("action {action}: {user} is not an enabled user with the "
                              "manager role; add them with `tierwise user add {user} "
                              "--role manager` or remove them from the action").format(
                action=repr(name), user=user))
        out.append(Manager(user, settings.capacity or spec.capacity,
                           frozenset(settings.territories)))
    return out


def holding(store: Store, run_id: int, name: str, action: ActionSpec, managers: list[Manager],
            placing: set[str]) -> tuple[dict[str, str], dict[str, int]]:
    """Each customer's current manager (any manager), and the load of the action's managers."""
    with store.read() as tx:
        return holding_in(tx, run_id, name, action, managers, placing)


def holding_in(tx: Tx, run_id: int, name: str, action: ActionSpec, managers: list[Manager],
               placing: set[str]) -> tuple[dict[str, str], dict[str, int]]:
    """:func:`holding` inside the caller's transaction.

    The load counts the accounts a manager holds in the action's tiers on this run, and the
    reassignments in review that propose them (their place is held until a decision), besides
    the customers being placed.
    """
    run = tx.runs.get(run_id)
    held = {m.name: tx.users.assigned(tx.users.by_name(m.name)) for m in managers}
    current = tx.users.holders(sorted(placing))
    waiting = Counter(e.proposal for e in tx.actions.entries(name, status="review",
                                                             limit=10_000_000)
                      if e.proposal and e.customer_id not in placing)
    grades = pq.read_table(Path(run.folder or "") / "grades.parquet", columns=[CUSTOMER, "tier"])
    tiers = dict(zip(grades[CUSTOMER].to_pylist(), grades["tier"].to_pylist(), strict=True))
    counted = set(action.tiers)
    load = {m: waiting.get(m, 0) + sum(1 for c in ids if c not in placing and c in tiers
                                       and (not counted or tiers[c] in counted))
            for m, ids in held.items()}
    return current, load
