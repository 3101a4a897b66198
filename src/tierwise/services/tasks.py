"""Open follow-up tasks per owner: what the actions with ``follow_up:`` asked people to do.

An action with a follow-up writes each customer's owner and due date into the action ledger
when a run plans it (:mod:`tierwise.services.actions`). A task stays open while its customer
holds the tier it was set for in the scheme's latest official run; a later run's task for the
same customer and action replaces it, and a customer who moved on closes it (the move is the
outcome the task worked for). :func:`open_tasks` lists the open ones by owner, most urgent
first.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from tierwise import i18n, methods
from tierwise.errors import NotFoundError, SpecError
from tierwise.i18n import _
from tierwise.policies import reviews as policy
from tierwise.services import history as history_service
from tierwise.services.project import Project
from tierwise.services.reviews import STATES
from tierwise.store import Store

__all__ = ["STATES", "Task", "TaskList", "open_tasks"]


@dataclass(frozen=True)
class Task:
    """One open follow-up: who, what, for which customer, by when."""

    action: str
    task: str  # what to do, in the current language
    scheme: str
    customer_id: str
    tier: str  # the tier's key
    tier_label: str  # the tier's label in the current language
    owner: str | None  # None: nobody is named in the data
    due_on: date
    set_on: date  # the as-of date of the run that set it
    state: str  # overdue, due_soon or ok (see STATES)
    days: int  # days overdue (positive), days left (negative) or 0 (today)


@dataclass(frozen=True)
class TaskList:
    """The open follow-ups on ``today``, by owner and due date."""

    today: date
    soon_days: int
    tasks: list[Task]  # owner (unassigned last), then due date, then customer
    counts: dict[tuple[str | None, str], int]  # (owner, state) -> tasks, of every owner listed
    closed: int  # follow-ups whose customer has left the tier they were set for


def open_tasks(project: Project, store: Store, *, scheme: str | None = None,
               owner: str | None = None, today: date | None = None, soon_days: int = 7,
               visible: set[str] | None = None) -> TaskList:
    """The open follow-ups of the project's actions (of ``scheme``; of ``owner``).

    ``visible``: the customers the reader may see (a manager's assigned customers); None:
    every customer. The owner named in the data grants no access of its own: a deal owner sees
    their follow-ups once the accounts are assigned to them.

    Raises:
        SpecError: no action of the project (of ``scheme``) has a follow-up.
        NotFoundError: ``scheme`` is not a scheme of the project.
    """
    if scheme is not None:
        project.scheme(scheme)  # an unknown scheme says so, with the names it might mean
    actions = {n: a for n, a in project.spec.actions.items()
               if a.follow_up is not None and (scheme is None or a.scheme == scheme)}
    if not actions:
        raise SpecError(_("no action of {what} has a `follow_up:`; give an action a follow_up "
                          "with its task, owner and due date (see docs/actions.md)").format(
            what=repr(scheme or project.spec.name)))
    texts = {n: i18n.label_of(a.follow_up.task, n) for n, a in actions.items()
             if a.follow_up is not None}
    today = today or date.today()
    with store.read() as tx:
        rows = tx.actions.follow_ups(sorted(actions))
    asked = sorted({r.customer_id for r in rows})
    tiers = {s: _tiers(store, s, asked) for s in {a.scheme for a in actions.values()}}
    labels = {s: {t.key: t.label_text(i18n.current())
                  for t in methods.scheme_tiers(project.scheme(s))} for s in tiers}
    kept, closed = [], 0
    for row in rows:
        if visible is not None and row.customer_id not in visible:
            continue
        scheme_of = actions[row.action].scheme
        # Closed: the customer moved on (or left the data), or the action now acts on another
        # scheme than the one it set the task for.
        if row.scheme != scheme_of or row.to_tier is None or \
                tiers[scheme_of].get(row.customer_id) != row.to_tier:
            closed += 1
        elif owner is None or row.owner == owner:
            kept.append(row)
    due = np.array([r.due_on for r in kept], dtype="datetime64[D]")
    states = policy.status(due, today, soon_days) if kept else np.array([], dtype=object)
    tasks = [Task(r.action, texts[r.action], r.scheme, r.customer_id,
                  r.to_tier or "", labels[r.scheme].get(r.to_tier or "", r.to_tier or ""), r.owner,
                  r.due_on or today, r.as_of, str(state), (today - (r.due_on or today)).days)
             for r, state in zip(kept, states.tolist(), strict=True)]
    tasks.sort(key=lambda t: (t.owner is None, t.owner or "", t.due_on, t.customer_id, t.action))
    counts = Counter((t.owner, t.state) for t in tasks)
    return TaskList(today, soon_days, tasks, dict(counts), closed)


def _tiers(store: Store, scheme: str, customers: list[str]) -> dict[str, str]:
    """The tier of each of ``customers`` in ``scheme``'s latest official run (if they have one)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        run = history_service.latest_run(store, scheme)
    except NotFoundError:
        return {}
    table = pq.read_table(Path(run.folder or "") / "grades.parquet",
                          columns=["customer_id", "tier"])
    table = table.filter(pc.is_in(table["customer_id"],
                                  value_set=pa.array(customers, table.schema.field(
                                      "customer_id").type)))
    return dict(zip(table["customer_id"].to_pylist(), table["tier"].to_pylist(), strict=True))
