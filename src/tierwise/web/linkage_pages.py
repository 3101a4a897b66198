"""The linked-customers page: the latest linkage version and its review queue.

Reading it shows personal data (the customer-reading right); deciding a pair needs the decide
right. A decision is applied by the next `tierwise link run`, as on the command line.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from tierwise.errors import TierwiseError
from tierwise.http.clients import project_of, store_of
from tierwise.services import access
from tierwise.services import linkage as service
from tierwise.web.pages import bad_form, error_page, message_of, refusal, render, status_of
from tierwise.web.session import Page, Posted, Viewer

router = APIRouter(include_in_schema=False)
#: The most pairs one page shows.
PAIRS = 50


def _page(request: Request, who: Viewer, *, message: str | None = None, status: int = 200,
          failed: tuple[str, str, str] | None = None) -> Response:
    project, store = project_of(request), store_of(request)
    spec = project.spec.linkage
    try:
        latest = service.latest_version(store)
        count, pairs = (service.review(project, store, limit=PAIRS) if latest is not None
                        else (0, []))
    except TierwiseError as exc:
        return error_page(request, exc, user=who.user, csrf=who.csrf)
    fields = {n: spec.field_title(n) for n in spec.fields} if spec else {}
    systems = {n: spec.system_title(n) for n in spec.systems} if spec else {}
    return render(request, "linkage.html", user=who.user, csrf=who.csrf, status=status,
                  configured=spec is not None, latest=latest, count=count, pairs=pairs,
                  fields=fields, systems=systems, message=message, failed=failed,
                  can_decide=access.allowed(who.user, access.DECIDE),
                  graded=spec is not None and spec.grades_linked,
                  done=request.query_params.get("done"))


@router.get("/linkage")
def linkage_page(request: Request, who: Page) -> Response:
    """The latest version's counts and the pairs waiting for a person's decision."""
    if (refused := refusal(request, who, access.READ_CUSTOMERS)) is not None:
        return refused
    try:
        service.require_reader(who.user)
    except TierwiseError as exc:
        return error_page(request, exc, user=who.user, csrf=who.csrf)
    return _page(request, who)


@router.post("/linkage/decide")
def linkage_decide(request: Request, post: Posted) -> Response:
    """Record a person's decision on a pair: one customer, or two."""
    if (refused := refusal(request, post, access.DECIDE)) is not None:
        return refused
    form = post.form
    record_a, record_b = form.get("record_a", "")[:400], form.get("record_b", "")[:400]
    decision, reason = form.get("decision"), form.get("reason", "")[:4000]
    if decision not in ("link", "apart") or not record_a or not record_b:
        return bad_form(request, post)
    try:
        service.decide(project_of(request), store_of(request), record_a, record_b,
                       decision=decision, reason=reason, actor=post.user.username)
    except TierwiseError as exc:
        return _page(request, post, message=message_of(exc),
                     status=status_of(exc, otherwise=422)[0], failed=(record_a, record_b, reason))
    return RedirectResponse("/linkage?done=decided", status_code=303)
