"""Schedules in the dashboard: list, add, change, pause, resume and delete scheduled runs.

The server runs due schedules by itself (:class:`tierwise.services.schedules.Scheduler`); this
page shows when each is due next and how its last run ended. Supervisors and admins only; every
change is audited by the service, and a change made from a stale page is refused (409).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from tierwise.errors import TierwiseError
from tierwise.http.clients import project_of, store_of
from tierwise.services import access
from tierwise.services import schedules as service
from tierwise.web.pages import bad_form, message_of, refusal, render, status_of
from tierwise.web.runs import MAX_SCHEMES, PREFIX, runnable
from tierwise.web.session import Page, Posted, Viewer

router = APIRouter(include_in_schema=False)
ACTIONS = ("pause", "resume", "delete")


def _page(request: Request, who: Viewer, *, form: dict[str, str] | None = None,
          editing: str | None = None, message: str | None = None,
          status: int = 200) -> Response:
    """The schedules with the add (or edit) form, keeping what the user typed."""
    store = store_of(request)
    found = service.listing(store)
    editing = editing or request.query_params.get("edit") or None
    current = next((s for s in found if s.name == editing), None)
    if form is None:
        form = {"cadence": "monthly", "at": "02:00"}
        if current is not None:
            form = {"name": current.name, "cadence": current.cadence, "at": current.at_time,
                    "revision": str(current.revision),
                    **{f"{PREFIX}{n}": "1" for n in current.schemes}}
    return render(request, "schedules.html", user=who.user, csrf=who.csrf, status=status,
                  schedules=found, schemes=runnable(request), form=form,
                  editing=current.name if current else None, cadences=service.CADENCES,
                  prefix=PREFIX, message=message, done=request.query_params.get("done"),
                  now=datetime.now(UTC))


@router.get("/schedules")
def schedules_page(request: Request, who: Page) -> Response:
    """Every schedule, when it is due and how its last run ended; the add form."""
    if (refused := refusal(request, who, access.RUN)) is not None:
        return refused
    return _page(request, who)


def _settings(form: dict[str, str]) -> service.Settings:
    names = [k[len(PREFIX):] for k, v in form.items() if k.startswith(PREFIX) and v]
    return service.Settings(names[:MAX_SCHEMES], form.get("cadence", "")[:20],
                            form.get("at", "")[:20])


def _done(what: str) -> Response:
    return RedirectResponse(f"/schedules?done={quote(what)}", status_code=303)


@router.post("/schedules")
def add_schedule(request: Request, post: Posted) -> Response:
    """Add a schedule from the form."""
    if (refused := refusal(request, post, access.RUN)) is not None:
        return refused
    try:
        service.add(store_of(request), project_of(request), post.form.get("name", "")[:200],
                    _settings(post.form), actor=post.user.username)
    except TierwiseError as exc:
        return _page(request, post, form=post.form, message=message_of(exc),
                     status=status_of(exc, otherwise=422)[0])
    return _done("added")


@router.post("/schedules/{name}")
def change_schedule(name: str, request: Request, post: Posted) -> Response:
    """Change a schedule's schemes, cadence and time, at the revision the page showed."""
    if (refused := refusal(request, post, access.RUN)) is not None:
        return refused
    try:
        revision = int(post.form.get("revision", ""))
    except ValueError:
        return bad_form(request, post)
    try:
        service.change(store_of(request), project_of(request), name[:200],
                       _settings(post.form), actor=post.user.username, revision=revision)
    except TierwiseError as exc:
        return _page(request, post, form=post.form, editing=name, message=message_of(exc),
                     status=status_of(exc, otherwise=422)[0])
    return _done("changed")


@router.post("/schedules/{name}/{action}")
def act_on_schedule(name: str, action: str, request: Request, post: Posted) -> Response:
    """Pause, resume or delete a schedule."""
    if (refused := refusal(request, post, access.RUN)) is not None:
        return refused
    if action not in ACTIONS:
        return bad_form(request, post)
    store, who = store_of(request), post.user.username
    try:
        if action == "pause":
            service.pause(store, name[:200], actor=who)
        elif action == "resume":
            service.resume(store, name[:200], actor=who)
        else:
            service.delete(store, name[:200], actor=who)
    except TierwiseError as exc:
        return _page(request, post, message=message_of(exc),
                     status=status_of(exc, otherwise=422)[0])
    return _done({"pause": "paused", "resume": "resumed"}.get(action, "deleted"))
