"""The follow-ups page: open tasks the actions with ``follow_up:`` set, per owner.

Reading customers' rows needs the customer-reading right; a manager sees the follow-ups of their
own customers (:func:`tierwise.services.tasks.open_tasks`).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request, Response

from tierwise.errors import TierwiseError
from tierwise.http.clients import project_of, store_of
from tierwise.i18n import _, label_of
from tierwise.services import access, tasks
from tierwise.web.pages import error_page, render
from tierwise.web.session import Page

router = APIRouter(include_in_schema=False)
#: The most follow-ups listed per owner.
PER_OWNER = 200


@router.get("/tasks")
def tasks_page(request: Request, who: Page) -> Response:
    """Open follow-ups per owner, most urgent first; filters by owner and scheme."""
    user, csrf, q = who.user, who.csrf, request.query_params
    owner = q.get("owner", "")[:200] or None
    scheme = q.get("scheme", "")[:200] or None
    on, message = date.today(), None
    try:
        on = date.fromisoformat(q["on"]) if q.get("on") else on
    except ValueError:
        message = _("{value} is not a date like 2026-06-30; due dates are judged on today").format(
            value=repr(q["on"][:40]))
    try:
        access.require(user, access.READ_CUSTOMERS)
        project, store = project_of(request), store_of(request)
        actions = {n: a for n, a in project.spec.actions.items() if a.follow_up is not None}
        schemes = {a.scheme: label_of(project.scheme(a.scheme).label, a.scheme)
                   for a in actions.values()}
        found = None
        if actions:
            visible = access.visible_customers(store, user)
            found = tasks.open_tasks(project, store, scheme=scheme, owner=owner,
                                     today=on, visible=visible)
    except TierwiseError as exc:
        return error_page(request, exc, user=user, csrf=csrf)
    owners = list(dict.fromkeys(t.owner for t in found.tasks)) if found else []
    by_owner = {o: [t for t in found.tasks if t.owner == o] for o in owners} if found else {}
    return render(request, "tasks.html", user=user, csrf=csrf, found=found, owners=owners,
                  by_owner=by_owner, schemes=schemes,
                  asked={"owner": owner or "", "scheme": scheme or "", "on": on.isoformat()},
                  per_owner=PER_OWNER, message=message)
