"""The actions page: each action's ledger, its effect, and the KPIs per tier.

The effect against the holdout is measured on request; KPI series mark the tiers out of their
band. Reassignments an assign action holds for approval are listed (a manager sees those of
their own customers) and decided here by a role that may assign customers.

Reading rights suffice for the rest (counts and aggregates, no customer); measuring an
effect or a KPI series computes indicators, so it is charged to the caller's rate limits.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from tierwise.errors import TierwiseError
from tierwise.http.clients import client_of, project_of, store_of
from tierwise.http.limits import EXPENSIVE, limits_of
from tierwise.i18n import label_of
from tierwise.services import access, effects, kpis, reassignments
from tierwise.services import actions as action_service
from tierwise.spec.actions import AssignSpec
from tierwise.web.pages import (
    bad_form,
    error_page,
    indicator_labels,
    message_of,
    refusal,
    render,
    tier_labels,
)
from tierwise.web.session import Page, Posted

router = APIRouter(include_in_schema=False)
#: Ledger states in the order the page shows them.
STATES = ("planned", "sent", "failed", "dead", "holdout", "over_budget", "review")
#: The most reassignments one form decides.
MOST = 10_000


@router.get("/actions")
def actions_page(request: Request, who: Page) -> Response:
    """Actions, their ledger and effect; KPIs per tier."""
    user, csrf, q = who.user, who.csrf, request.query_params
    try:
        access.require(user, access.READ)
        project, store = project_of(request), store_of(request)
        found = action_service.states(project, store)
    except TierwiseError as exc:
        return error_page(request, exc, user=user, csrf=csrf)
    context: dict[str, Any] = {"found": found, "states": STATES, "effect": None,
                               "asked": {k: q.get(k, "") for k in ("effect", "outcome", "rate",
                                                                    "pooled")},
                               "indicators": indicator_labels(project), "message": None,
                               "kpis": {}, "kpi_problems": {}}
    declared = next((a for a in found if a.spec.effect is not None), None)
    if not q.get("effect") and declared is not None and declared.spec.effect is not None:
        context["asked"].update(effect=declared.name, outcome=declared.spec.effect.outcome,
                                rate="1" if declared.spec.effect.rate else "", pooled="1")
    if q.get("effect") and q.get("outcome"):
        try:
            limits_of(request).check(EXPENSIVE, client=client_of(request), user=user.username)
            context["effect"] = effects.effect(project, store, q["effect"], q["outcome"],
                                               rate=q.get("rate") == "1",
                                               pooled=q.get("pooled") == "1")
        except TierwiseError as exc:
            context["message"] = message_of(exc)
    if project.spec.kpis and q.get("kpis") == "1":
        limits_of(request).check(EXPENSIVE, client=client_of(request), user=user.username)
        for name, spec in project.spec.kpis.items():
            title = label_of(spec.label, name)
            try:
                context["kpis"][(name, title, spec.scheme, spec.measure)] = kpis.series(
                    project, store, name)
            except TierwiseError as exc:
                context["kpi_problems"][title] = message_of(exc)
    context["reviews"] = _reviews(request, user, found)
    context["review_tiers"] = {a.name: tier_labels(store, a.spec.scheme) for a in found
                               if a.name in context["reviews"]}
    context["decided"] = {k: q[k] for k in ("approved", "rejected") if q.get(k, "").isdigit()}
    context["may_assign"] = access.allowed(user, access.ASSIGN)
    context["has_kpis"] = bool(project.spec.kpis)
    context["tier_names"] = {scheme: tier_labels(store, scheme) for scheme in
                             {k[2] for k in context["kpis"]} | {a.spec.scheme for a in found}}
    return render(request, "actions.html", user=user, csrf=csrf, **context)


def _reviews(request: Request, user: Any, found: list[Any]) -> dict[str, Any]:
    """The reassignments waiting in each assign action that asks for approval."""
    project, store = project_of(request), store_of(request)
    visible = access.visible_customers(store, user)
    out = {}
    for state in found:
        settings = state.spec.settings()
        if isinstance(settings, AssignSpec) and settings.approval:
            out[state.name] = reassignments.pending(project, store, state.name, limit=1000,
                                                    visible=visible)
    return out


@router.post("/actions/{name}/reviews")
def decide_reviews(name: str, request: Request, post: Posted) -> Response:
    """Approve or reject the reassignments ticked on the page."""
    if (refused := refusal(request, post, access.ASSIGN)) is not None:
        return refused
    decision = post.form.get("decision")
    ids = [int(k[5:]) for k in post.form
           if k.startswith("pick-") and k[5:].isascii() and k[5:].isdigit() and len(k) < 20]
    if decision not in ("approve", "reject") or len(ids) > MOST:
        return bad_form(request, post)
    try:
        count = reassignments.decide(project_of(request), store_of(request), name[:100], ids,
                                     approve=decision == "approve", actor=post.user.username,
                                     note=post.form.get("note", "")[:4000] or None)
    except TierwiseError as exc:
        return error_page(request, exc, user=post.user, csrf=post.csrf)
    what = "approved" if decision == "approve" else "rejected"
    return RedirectResponse(f"/actions?{what}={count}#reviews", status_code=303)
