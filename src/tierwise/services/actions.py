"""Planning a run's actions: who each action of the scheme reaches, written to the ledger.

After an official run of a scheme committed, :func:`plan` reads the run's grades, moves and
features from its folder, picks each action's customers (:mod:`tierwise.actions.select`: the
edge, the condition, the holdout, the budget) and writes them to the action ledger in one
transaction per action. Planning a run again adds nothing (the ledger holds one row per action,
run and customer), so a crash before the commit leaves no half plan and a later call finishes
it. Delivery reads the ledger (:mod:`tierwise.store.action_ledger`).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tierwise import expr, i18n, methods
from tierwise.actions.select import choose, fired
from tierwise.engine import connect
from tierwise.errors import SpecError
from tierwise.i18n import N_, _
from tierwise.policies.follow_ups import due_dates
from tierwise.policies.reviews import calendar_of
from tierwise.services.project import Project
from tierwise.spec.actions import ActionSpec, FollowUpSpec
from tierwise.spec.columns import CUSTOMER
from tierwise.spec.sections import SchemeSpec
from tierwise.store import Store
from tierwise.store.action_ledger import Entry
from tierwise.store.runs import Run

#: The kinds of action, as people call them.
KIND_NAMES = {"webhook": N_("webhook"), "email": N_("email"), "file": N_("file"),
              "assign": N_("account manager"), "tag": N_("tag")}
#: The edges an action fires on.
EDGE_NAMES = {"enter": N_("entering"), "leave": N_("leaving"), "up": N_("upgrade"),
              "down": N_("downgrade"), "stay": N_("staying")}
#: The states of a ledger row.
LEDGER_NAMES = {"planned": N_("to deliver"), "sent": N_("delivered"), "failed": N_("retrying"),
                "dead": N_("dead letter"), "holdout": N_("control group"),
                "over_budget": N_("over budget"), "review": N_("waiting for approval"),
                "rejected": N_("rejected")}


@dataclass(frozen=True)
class Planned:
    """What planning one action on one run wrote to the ledger."""

    action: str
    run_id: int
    treated: int
    holdout: int
    over_budget: int
    already: bool = False  # the ledger held this run's rows before: nothing was written


def actions_of(project: Project, scheme: str) -> dict[str, ActionSpec]:
    """The project's actions on ``scheme``, by name."""
    return {n: a for n, a in project.spec.actions.items() if a.scheme == scheme}


def indicators_read(project: Project, scheme: str) -> tuple[str, ...]:
    """The indicators the actions on ``scheme`` read: conditions and budget rankings.

    A run of the scheme keeps them in its features, so its actions can be planned from them.
    """
    names: list[str] = []
    for action in actions_of(project, scheme).values():
        if action.where:
            names += expr.names(expr.parse(action.where))
        if action.budget is not None and action.budget.order_by:
            names.append(action.budget.order_by)
        if action.follow_up is not None:
            names += [n for n in (action.follow_up.owner, action.follow_up.before) if n]
    return tuple(n for n in dict.fromkeys(names) if n in project.spec.indicators)


def plan(project: Project, store: Store, run: Run, spec: SchemeSpec) -> list[Planned]:
    """Write the ledger rows of every action on ``run``'s scheme (``spec``: its definition).

    Only a finished official run plans actions; others return nothing.

    Raises:
        SpecError: an action names a tier the scheme does not have, or reads an indicator
            the run did not compute.
    """
    wanted = actions_of(project, run.scheme)
    if not wanted or not run.official or run.status != "done" or not run.folder:
        return []
    folder = Path(run.folder)
    grades = pq.read_table(folder / "grades.parquet", columns=[CUSTOMER, "tier"])
    moves = folder / "changes.parquet"
    with store.read() as tx:
        history = [r for r in tx.runs.history_runs(run.scheme) if r.as_of <= run.as_of]
    changes = pq.read_table(moves) if moves.exists() and len(history) > 1 else None
    out = []
    for name, action in wanted.items():
        _check_tiers(name, action, spec)
        with store.read() as tx:
            if tx.actions.recorded(name, run.id):
                out.append(Planned(name, run.id, 0, 0, 0, already=True))
                continue
        stayed = _stayed(history, action.runs) if action.on == "stay" else None
        picked = fired(action, changes, grades, stayed)
        rows, used = _rows(folder, run, name, action, spec, picked), 0
        budget = action.budget
        if budget is not None and budget.per_month is not None:
            first, last = month_of(run.as_of)
            with store.read() as tx:
                used = tx.actions.treated_between(name, first, last, besides=run.id)
        values = {r["customer_id"]: r["value"] for r in rows}
        choice = choose(name, action, list(values), values, used_this_month=used)
        status = {**{c: "planned" for c in choice.treated},
                  **{c: "holdout" for c in choice.holdout},
                  **{c: "over_budget" for c in choice.over_budget}}
        with store.write() as tx:
            tx.actions.record(name, run.scheme, run.id, run.as_of,
                              [{**r, "status": status[r["customer_id"]]} for r in rows])
        out.append(Planned(name, run.id, len(choice.treated), len(choice.holdout),
                           len(choice.over_budget)))
    return out


def _check_tiers(name: str, action: ActionSpec, spec: SchemeSpec) -> None:
    keys = [t.key for t in methods.scheme_tiers(spec)]
    unknown = [t for t in action.tiers if t not in keys]
    if unknown:
        raise SpecError(_("action {action} names tiers {unknown} that scheme {scheme} does not "
                          "have; its tiers are {keys}").format(
            action=repr(name), unknown=_(", ").join(map(repr, unknown)),
            scheme=repr(action.scheme), keys=_(", ").join(keys)))


def _stayed(history: list[Run], runs: int) -> pa.Array:
    """Customers whose tier was the same in each of the last ``runs`` runs."""
    if len(history) < runs:
        return pa.array([], pa.string())
    same: pa.Table | None = None
    for run in history[-runs:]:  # an inner join on (customer, tier) keeps who did not move
        table = pq.read_table(Path(run.folder or "") / "grades.parquet", columns=[CUSTOMER, "tier"])
        same = table if same is None else same.join(table, keys=[CUSTOMER, "tier"],
                                                     join_type="inner")
    assert same is not None
    return same[CUSTOMER].combine_chunks().cast(pa.string())


def _rows(folder: Path, run: Run, name: str, action: ActionSpec, spec: SchemeSpec,
          picked: pa.Table) -> list[dict[str, Any]]:
    """The fired customers meeting the action's condition, with their budget value."""
    ranking = (action.budget.order_by if action.budget else None) or spec.value
    wanted = set(expr.names(expr.parse(action.where))) if action.where else set()
    if ranking:
        wanted.add(ranking)
    follow = action.follow_up
    extra = {k: n for k, n in (("owner", follow.owner), ("before", follow.before))
             if n} if follow is not None else {}
    wanted |= set(extra.values())
    import ibis

    engine = connect()
    try:
        features = engine.read_parquet("features", folder / "features.parquet")
        missing = sorted(wanted - set(features.columns))
        if missing:
            raise SpecError(_("action {action} reads {names}, which the run of scheme {scheme} "
                              "does not compute (it keeps the indicators the scheme reads: "
                              "{known}); use those, or make the scheme read them").format(
                action=repr(name), names=_(", ").join(missing), scheme=repr(run.scheme),
                known=_(", ").join(c for c in features.columns if c != CUSTOMER)))
        ids = engine.register_arrow("fired", picked)
        table = ids.left_join(features, ids[CUSTOMER] == features[CUSTOMER])
        if action.where:
            node = expr.parse(action.where)
            env = {n: table[n] for n in expr.names(node)}
            table = table.filter(expr.compile_condition(node, env, as_of=run.as_of))
        value = table[ranking].cast("float64") if ranking else ibis.null("float64")
        more = {k: table[n].cast("string" if k == "owner" else "date") for k, n in extra.items()}
        chosen = table.select(customer_id=table[CUSTOMER], from_tier=table.from_tier,
                              to_tier=table.to_tier, value=value, **more)
        result = engine.to_arrow(chosen.order_by("customer_id"))
    finally:
        engine.close()
    rows = [{**r, "edge": action.on} for r in result.to_pylist()]
    return rows if follow is None else _with_due(rows, follow, run.as_of)


def _with_due(rows: list[dict[str, Any]], follow: FollowUpSpec, as_of: date
              ) -> list[dict[str, Any]]:
    """``rows`` with their follow-up's owner and due date (``due_on``)."""
    before = [r.pop("before") for r in rows] if follow.before else None
    due = due_dates(as_of, before, within_days=follow.within_days,
                    days_before=follow.days_before, calendar=calendar_of(follow.calendar),
                    count=len(rows))
    # The ledger keeps 200 characters of an owner (a user name is at most that long).
    return [{**r, "owner": (r.get("owner") or "")[:200] or None, "due_on": d}
            for r, d in zip(rows, due, strict=True)]


def month_of(day: date) -> tuple[date, date]:
    """The first and last day of ``day``'s month."""
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


@dataclass(frozen=True)
class ActionState:
    """An action as a listing shows it: its definition and the ledger of its latest run."""

    name: str
    spec: ActionSpec
    run: Run | None
    counts: dict[str, int]
    title: str  # its label in the current language, else its name


def states(project: Project, store: Store, scheme: str | None = None) -> list[ActionState]:
    """Every action of the project (``scheme``: of that scheme), with its latest planned run."""
    out = []
    with store.read() as tx:
        for name, action in project.spec.actions.items():
            if scheme is not None and action.scheme != scheme:
                continue
            runs = [r for r in tx.runs.history_runs(action.scheme)
                    if tx.actions.recorded(name, r.id)]
            latest = runs[-1] if runs else None
            counts = tx.actions.counts(name, latest.id) if latest else {}
            out.append(ActionState(name, action, latest, counts,
                                   i18n.label_of(action.label, name)))
    return out


def ledger(store: Store, name: str, *, run_id: int | None = None, status: str | None = None,
           limit: int = 1000) -> list[Entry]:
    """Ledger rows of action ``name`` (the dead letter: ``status="dead"``)."""
    with store.read() as tx:
        return tx.actions.entries(name, run_id=run_id, status=status, limit=limit)


@dataclass(frozen=True)
class Tag:
    """A tag a customer carries: its name, the action that applied it, and since when."""

    name: str
    action: str
    since: date


def customer_tags(project: Project, store: Store, customer_id: str) -> list[Tag]:
    """The tags of ``customer_id``: one per tag name, from the first run that applied it."""
    named = {n: a.tag.name for n, a in project.spec.actions.items()
             if a.kind == "tag" and a.tag is not None}
    with store.read() as tx:
        rows = tx.actions.reached(sorted(named), customer_id)
    out: dict[str, Tag] = {}
    for row in rows:
        tag = named[row.action]
        out.setdefault(tag, Tag(tag, row.action, row.as_of))
    return list(out.values())
