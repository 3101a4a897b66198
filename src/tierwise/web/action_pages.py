"""The actions page: each action's ledger, its effect, and the KPIs per tier.

The effect against the holdout is measured on request; KPI series mark the tiers out of their
band.

Reading rights suffice (the page shows counts and aggregates, no customer); measuring an
effect or a KPI series computes indicators, so it is charged to the caller's rate limits.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from tierwise.errors import TierwiseError
from tierwise.http.clients import client_of, project_of, store_of
from tierwise.http.limits import EXPENSIVE, limits_of
from tierwise.i18n import label_of
from tierwise.services import access, effects, kpis
from tierwise.services import actions as action_service
from tierwise.web.pages import error_page, indicator_labels, message_of, render, tier_labels
from tierwise.web.session import Page

router = APIRouter(include_in_schema=False)
#: Ledger states in the order the page shows them.
STATES = ("planned", "sent", "failed", "dead", "holdout", "over_budget")


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
                               "asked": {k: q.get(k, "") for k in ("effect", "outcome", "rate")},
                               "indicators": indicator_labels(project), "message": None,
                               "kpis": {}, "kpi_problems": {}}
    if q.get("effect") and q.get("outcome"):
        try:
            limits_of(request).check(EXPENSIVE, client=client_of(request), user=user.username)
            context["effect"] = effects.effect(project, store, q["effect"], q["outcome"],
                                               rate=q.get("rate") == "1")
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
    context["has_kpis"] = bool(project.spec.kpis)
    context["tier_names"] = {scheme: tier_labels(store, scheme)
                             for scheme in {k[2] for k in context["kpis"]}}
    return render(request, "actions.html", user=user, csrf=csrf, **context)
