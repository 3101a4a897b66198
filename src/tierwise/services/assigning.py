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

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from tierwise.actions.assign import Account, Manager, place
from tierwise.errors import NotFoundError, SpecError
from tierwise.i18n import N_, _
from tierwise.services.project import Project
from tierwise.spec.actions import ActionSpec, AssignSpec
from tierwise.spec.columns import CUSTOMER
from tierwise.store import Store
from tierwise.store.action_ledger import Entry

#: Why a customer was not placed, as the dead letter says it.
_WHY = {"full": N_("every manager who serves this territory is at capacity"),
        "no manager serves this territory": N_("no manager serves this territory")}


def deliver_assignments(project: Project, store: Store, name: str, action: ActionSpec,
                        spec: AssignSpec, due: list[Entry],
                        attributes: Callable[[Project, list[str]], dict[str, dict[str, Any]]]
                        ) -> tuple[int, int]:
    """Place the due customers of each run; returns (placed, unplaced).

    Raises:
        SpecError: a manager named in the action is not a user with the manager role.
    """
    managers = _managers(store, name, spec)
    placed = unplaced = 0
    for run_id in sorted({e.run_id for e in due}):
        entries = [e for e in due if e.run_id == run_id]
        found = attributes(project, [e.customer_id for e in entries]) if spec.territory else {}
        accounts = [Account(e.customer_id, _text(found.get(e.customer_id, {}).get(
            spec.territory or "")), e.value) for e in entries]
        current, load = _holding(store, run_id, action, managers, {a.customer_id
                                                                   for a in accounts})
        result = place(accounts, managers, current, load)
        dropped = [c for c in result.unplaced if c in current]
        with store.write() as tx:
            tx.users.unassign(dropped, actor=f"action:{name}")
            for manager in managers:
                mine = [c for c, m in result.to.items() if m == manager.name]
                if mine:
                    tx.users.assign(mine, manager.name, actor=f"action:{name}")
            for entry in entries:
                why = result.unplaced.get(entry.customer_id)
                if why is None:
                    tx.actions.mark(entry.id, "sent")
                else:
                    before = current.get(entry.customer_id)
                    tx.actions.mark(entry.id, "dead", error=_(_WHY.get(why, why)) + (
                        _("; was with {manager}, who no longer has them").format(
                            manager=before) if before else ""))
        placed += len(result.to)
        unplaced += len(result.unplaced)
    return placed, unplaced


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _managers(store: Store, name: str, spec: AssignSpec) -> list[Manager]:
    out = []
    with store.read() as tx:
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


def _holding(store: Store, run_id: int, action: ActionSpec, managers: list[Manager],
             placing: set[str]) -> tuple[dict[str, str], dict[str, int]]:
    """Each customer's current manager, and each manager's load.

    The load counts the accounts a manager holds in the action's tiers on this run, besides
    the customers being placed.
    """
    with store.read() as tx:
        run = tx.runs.get(run_id)
        held = {m.name: tx.users.assigned(tx.users.by_name(m.name)) for m in managers}
    grades = pq.read_table(Path(run.folder or "") / "grades.parquet", columns=[CUSTOMER, "tier"])
    tiers = dict(zip(grades[CUSTOMER].to_pylist(), grades["tier"].to_pylist(), strict=True))
    counted = set(action.tiers)
    current = {c: m for m, ids in held.items() for c in ids}
    load = {m: sum(1 for c in ids if c not in placing and c in tiers
                   and (not counted or tiers[c] in counted)) for m, ids in held.items()}
    return current, load
