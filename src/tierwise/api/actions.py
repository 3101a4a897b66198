"""``/actions``, ``/tasks`` and ``/schemes/{name}/kpis``: actions, follow-ups, and KPIs.

Aggregates (an action's counts and effect, a scheme's KPIs) need reading rights; ledger rows
name customers, so they need the customer-reading right, and a manager sees only the rows of
their own customers.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from tierwise.api.deps import MAX_ID, Assigner, CustomerReader, Reader, expensive
from tierwise.errors import NotFoundError
from tierwise.http.clients import project_of, store_of
from tierwise.i18n import _
from tierwise.services import access, effects, kpis, reassignments, tasks
from tierwise.services import actions as action_service

router = APIRouter(tags=["actions"])
Status = Literal["planned", "sent", "failed", "dead", "holdout", "over_budget", "review",
                 "rejected"]


@router.get("/actions")
def actions(request: Request, user: Reader, scheme: str | None = None) -> list[dict[str, Any]]:
    """The project's actions: kind, edge, holdout, budget, and the ledger of the latest run."""
    found = action_service.states(project_of(request), store_of(request), scheme)
    return [{"name": a.name, "title": a.title, "scheme": a.spec.scheme, "kind": a.spec.kind, "on": a.spec.on,
             "tiers": a.spec.tiers, "holdout": a.spec.holdout,
             "budget": a.spec.budget.model_dump() if a.spec.budget else None,
             "latest_run": {"id": a.run.id, "as_of": a.run.as_of} if a.run else None,
             "counts": a.counts} for a in found]


@router.get("/actions/{name}/ledger")
def ledger(name: str, request: Request, user: CustomerReader, status: Status | None = None,
           run: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
           limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[dict[str, Any]]:
    """Ledger rows of an action (``status=dead``: the dead letter), oldest first."""
    project = project_of(request)
    if name not in project.spec.actions:
        raise NotFoundError(_("no action {name} in tierwise.yaml; its actions are {known}").format(
            name=repr(name), known=_(", ").join(project.spec.actions) or "-"))
    store = store_of(request)
    visible = access.visible_customers(store, user)
    rows = action_service.ledger(store, name, run_id=run, status=status, limit=limit)
    return [{"key": e.key, "run_id": e.run_id, "as_of": e.as_of, "customer_id": e.customer_id,
             "edge": e.edge, "from_tier": e.from_tier, "to_tier": e.to_tier, "value": e.value,
             "status": e.status, "attempts": e.attempts, "sent_at": e.sent_at,
             "last_error": e.last_error}
            for e in rows if visible is None or e.customer_id in visible]


@router.get("/actions/{name}/effect")
def effect(name: str, request: Request, user: Reader, outcome: str | None = None,
           rate: bool | None = None,
           as_of: date | None = None,
           run: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
           pooled: bool = False) -> dict[str, Any]:
    """Treated against holdout on ``outcome`` a period later, with a 95% interval.

    Without ``outcome``, the action's declared ``effect:``. ``pooled``: every run with a later
    run, each measured at its next run, in one comparison.
    """
    expensive(request, user)
    found = effects.effect(project_of(request), store_of(request), name, outcome, run_id=run,
                           as_of=as_of, rate=rate, pooled=pooled)
    return {"action": found.action, "run_id": found.run_id, "run_as_of": found.run_as_of,
            "outcome": found.outcome, "measured_as_of": found.measured_as_of,
            "rate": found.rate, "confidence": found.confidence,
            "treated": found.treated.__dict__, "holdout": found.holdout.__dict__,
            "uplift": found.uplift, "low": found.low, "high": found.high,
            "relative": found.relative, "runs": found.runs, "first_as_of": found.first_as_of}


@router.get("/tasks")
def follow_ups(request: Request, user: CustomerReader,
               owner: Annotated[str | None, Query(max_length=200)] = None,
               scheme: Annotated[str | None, Query(max_length=200)] = None,
               today: date | None = None,
               soon: Annotated[int, Query(ge=0, le=366)] = 7,
               limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000) -> dict[str, Any]:
    """Open follow-ups of the actions with ``follow_up:``, by owner and due date.

    A manager sees the follow-ups of their own customers.
    """
    store = store_of(request)
    visible = access.visible_customers(store, user)
    found = tasks.open_tasks(project_of(request), store, scheme=scheme, owner=owner,
                             today=today, soon_days=soon, visible=visible)
    return {"today": found.today, "soon_days": found.soon_days, "closed": found.closed,
            "total": len(found.tasks),
            "tasks": [{"action": t.action, "task": t.task, "scheme": t.scheme,
                       "customer_id": t.customer_id, "tier": t.tier, "tier_label": t.tier_label,
                       "owner": t.owner,
                       "due_on": t.due_on, "set_on": t.set_on, "state": t.state}
                      for t in found.tasks[:limit]]}


class Decision(BaseModel):
    """Reassignments to decide, by the numbers the review lists, with a note for the audit log."""

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=10_000)
    note: str | None = Field(default=None, max_length=4000)


@router.get("/actions/{name}/reviews")
def reviews(name: str, request: Request, user: CustomerReader) -> list[dict[str, Any]]:
    """Reassignments of an assign action waiting for approval (a manager: their customers)."""
    store = store_of(request)
    visible = access.visible_customers(store, user)
    return [r.__dict__ for r in reassignments.pending(project_of(request), store, name,
                                                      visible=visible)]


@router.post("/actions/{name}/reviews/approve")
def approve(name: str, body: Decision, request: Request, user: Assigner) -> dict[str, Any]:
    """Approve reassignments: the customers move to the proposed managers, within capacity."""
    count = reassignments.decide(project_of(request), store_of(request), name, body.ids,
                                 approve=True, actor=user.username, note=body.note)
    return {"approved": count}


@router.post("/actions/{name}/reviews/reject")
def reject(name: str, body: Decision, request: Request, user: Assigner) -> dict[str, Any]:
    """Reject reassignments: the customers keep their managers."""
    count = reassignments.decide(project_of(request), store_of(request), name, body.ids,
                                 approve=False, actor=user.username, note=body.note)
    return {"rejected": count}


@router.get("/schemes/{name}/kpis")
def scheme_kpis(name: str, request: Request, user: Reader) -> dict[str, Any]:
    """Each KPI of the scheme per run and tier, measured at the next run.

    ``review`` marks a value outside its tier's band.
    """
    expensive(request, user)
    project = project_of(request)
    store = store_of(request)
    return {k: [p.__dict__ for p in kpis.series(project, store, k)]
            for k, spec in project.spec.kpis.items() if spec.scheme == name}
