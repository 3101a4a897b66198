"""The dashboard's pages: login, overview, customers, approvals, audit.

Each page finds the logged-in user, asks ``services.access`` whether they may see it, then calls
the same services as the REST API. Refusals become pages with the status of their kind (403,
404), never a server error; every form is checked against the session's CSRF token.
"""

from __future__ import annotations

import inspect
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi import Path as FastPath
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from tierwise.errors import NotFoundError, PermissionDenied, TierwiseError
from tierwise.http.clients import project_of, security_of, store_of
from tierwise.http.limits import RateLimited
from tierwise.i18n import _
from tierwise.services import access, audit_trail
from tierwise.services import overrides as override_service
from tierwise.services import runs as run_service
from tierwise.services.auth import LockedOut
from tierwise.services.records import PENDING, User
from tierwise.web import (
    action_pages,
    customer_list,
    customer_pages,
    editor,
    linkage_pages,
    runs,
    schedules,
    scheme_admin,
    task_pages,
)
from tierwise.web.overview import overview
from tierwise.web.pages import (
    STATIC,
    bad_form,
    error_page,
    message_of,
    refusal,
    render,
    status_of,
    tier_labels,
    vendor_dir,
)
from tierwise.web.session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    CsrfRefused,
    LoginRequired,
    Page,
    Posted,
    csrf_ok,
    form_of,
    log_in,
    log_out,
    new_login_token,
    page_user,
    set_cookie,
)

router = APIRouter(include_in_schema=False)
router.include_router(scheme_admin.router)  # the scheme list, new, duplicate, rename, retire
router.include_router(editor.router)  # the scheme editor: /schemes/{name}
router.include_router(customer_list.router)  # the customer list: /customers
router.include_router(customer_pages.router)  # one customer's profile: /customers/{id}
router.include_router(runs.router)  # Run now and its jobs: /runs
router.include_router(schedules.router)  # scheduled runs: /schedules
router.include_router(action_pages.router)  # actions, their effect, KPIs: /actions
router.include_router(task_pages.router)  # open follow-ups per owner: /tasks
router.include_router(linkage_pages.router)  # linked customers and their review queue: /linkage
Id = Annotated[int, FastPath(ge=1, le=2**31 - 1)]


Form = Annotated[dict[str, str], Depends(form_of)]


def _to_login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


def _refused_csrf(request: Request, user: User | None, csrf: str | None) -> Response:
    return render(request, "error.html", user=user, csrf=csrf, status=403, lead="csrf",
                  message="")


def install(app: FastAPI) -> None:
    """Serve the dashboard on ``app``: its pages and its CSS at /static.

    A page without a session goes to the login form; a form without the session's CSRF token
    gets a 403 page (the ``Page`` and ``Posted`` dependencies raise, these handlers answer).
    """

    async def to_login(request: Request, exc: Exception) -> Response:
        return _to_login()

    async def refused(request: Request, exc: Exception) -> Response:
        who = exc.viewer if isinstance(exc, CsrfRefused) else None
        return _refused_csrf(request, who.user if who else None, who.csrf if who else None)

    app.include_router(router)
    # Bootstrap's CSS and JS from the installed package (before /static, which would shadow it).
    app.mount("/static/vendor/bootstrap", StaticFiles(directory=vendor_dir("bootstrap")),
              name="bootstrap")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(CsrfRefused, refused)
    _pages_not_found(app)


def _pages_not_found(app: FastAPI) -> None:
    """A browser asking for a page that does not exist gets the dashboard's page, not JSON.

    The API's handler (installed before) still answers API paths, other methods and clients
    that do not ask for HTML, with its JSON.
    """
    answer_json = app.exception_handlers[StarletteHTTPException]

    async def not_found(request: Request, exc: Exception) -> Response:
        path = request.url.path
        if (isinstance(exc, StarletteHTTPException) and exc.status_code == 404
                and exc.detail == HTTPStatus.NOT_FOUND.phrase  # no route, not a route's own 404
                and request.method in ("GET", "HEAD")
                and path != "/api" and not path.startswith(("/api/", "/static/"))
                and "text/html" in request.headers.get("accept", "")):
            try:
                found = await run_in_threadpool(page_user, request)
            except TierwiseError:  # the store unreachable: the page still says what is missing
                found = None
            user, csrf = found if found is not None else (None, None)
            return error_page(request, NotFoundError(
                _("there is no page at {path}; the menu lists the pages").format(path=path)),
                user=user, csrf=csrf)
        answered = answer_json(request, exc)
        return await answered if inspect.isawaitable(answered) else answered

    app.add_exception_handler(StarletteHTTPException, not_found)


def _schemes(request: Request) -> list[str]:
    """The schemes a page offers: tierwise.yaml's (graded or not yet), then the store's."""
    return run_service.runnable_schemes(project_of(request), store_of(request))


def _scheme_param(request: Request, names: list[str]) -> str | None:
    asked = request.query_params.get("scheme")
    return asked if asked else (names[0] if names else None)


# -- login -------------------------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> Response:
    """The overview when logged in, else the login form."""
    return RedirectResponse("/overview" if page_user(request) else "/login", status_code=303)


def _login_form(request: Request, *, failed: bool = False, status: int = 200,
                wait: int | None = None, username: str = "") -> Response:
    token = new_login_token()
    # A failed login keeps the user name typed (never the password).
    response = render(request, "login.html", login_csrf=token, failed=failed, status=status,
                      wait=wait, username=username[:200])
    set_cookie(response, request, LOGIN_COOKIE, token, max_age=3600)
    return response


@router.get("/login")
def login_page(request: Request) -> Response:
    """The login form; ``?wait=N`` (after too many attempts) says how long to wait."""
    try:
        wait = min(max(int(request.query_params.get("wait", "")[:6]), 1), 3600)
    except ValueError:
        return _login_form(request)
    return _login_form(request, failed=True, wait=wait)


@router.post("/login")
def login(request: Request, form: Form) -> Response:
    """Check the password; on success set the session cookie and go to the overview."""
    if not csrf_ok(form.get("csrf"), request.cookies.get(LOGIN_COOKIE)):
        return _refused_csrf(request, None, None)
    try:
        sid = log_in(request, form.get("username", ""), form.get("password", ""))
    except (RateLimited, LockedOut) as exc:
        response = _login_form(request, failed=True, status=status_of(exc)[0],
                               wait=exc.retry_after, username=form.get("username", ""))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except PermissionDenied as exc:
        return _login_form(request, failed=True, status=status_of(exc)[0],
                           username=form.get("username", ""))
    response = RedirectResponse("/overview", status_code=303)
    set_cookie(response, request, SESSION_COOKIE, sid,
               max_age=security_of(request).session_hours * 3600)
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, post: Posted) -> Response:
    """End the session and go back to the login form."""
    log_out(request, post.user)
    response = _to_login()
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- overview ----------------------------------------------------------------------------------


@router.get("/overview")
def overview_page(request: Request, who: Page) -> Response:
    """Per scheme: the latest run's KPI cards, tier mix, trend across runs, and moves."""
    user, csrf = who.user, who.csrf
    try:
        access.require(user, access.READ)
        names = _schemes(request)
        scheme = _scheme_param(request, names)
        if scheme is not None and scheme not in names:
            raise NotFoundError(_("no scheme {scheme}").format(scheme=repr(scheme)))
        store = store_of(request)
        view = overview(store, scheme, project=project_of(request).spec,
                        visible=access.visible_customers(store, user)) if scheme else None
    except TierwiseError as exc:
        return error_page(request, exc, user=user, csrf=csrf)
    return render(request, "overview.html", user=user, csrf=csrf, schemes=names, scheme=scheme,
                  view=view)



# -- approvals ---------------------------------------------------------------------------------


def _approvals(request: Request, user: User, csrf: str, *, message: str | None = None,
               status: int = 200, failed: tuple[int, str] | None = None) -> Response:
    """The approvals page.

    ``failed``: the override whose decision was refused and the note typed for it, shown again
    in its form.
    """
    store = store_of(request)
    pending = override_service.listing(store, user=user, status=PENDING)
    labels = {s: tier_labels(store, s) for s in {o.scheme for o in pending}}
    return render(request, "approvals.html", user=user, csrf=csrf, status=status,
                  pending=pending, labels=labels, message=message,
                  failed=failed[0] if failed else None, notes=dict([failed]) if failed else {},
                  can_decide=access.allowed(user, access.DECIDE),
                  done=request.query_params.get("done"))


@router.get("/approvals")
def approvals_page(request: Request, who: Page) -> Response:
    """Pending overrides (a manager's: only their customers'), with approve and reject."""
    if (refused := refusal(request, who, access.READ_CUSTOMERS)) is not None:
        return refused
    return _approvals(request, who.user, who.csrf)


@router.post("/approvals/{override_id}")
def decide(override_id: Id, request: Request, post: Posted) -> Response:
    """Approve or reject a pending override at the revision the page showed."""
    user, csrf, form = post.user, post.csrf, post.form
    action = form.get("action")
    try:
        revision = int(form.get("revision", ""))
    except ValueError:
        action = None
    if action not in ("approve", "reject"):
        return bad_form(request, post)
    store = store_of(request)
    try:
        target = override_service.decidable(store, user, action, override_id)
        decision = override_service.Decision(action, form.get("note") or None, revision)
        override_service.decide(project_of(request), target, decision, actor=user.username,
                                store=store)
    except TierwiseError as exc:
        return _approvals(request, user, csrf, message=message_of(exc),
                          status=status_of(exc, otherwise=409)[0],
                          failed=(override_id, form.get("note", "")[:4000]))
    return RedirectResponse("/approvals?done=decided", status_code=303)


# -- audit -------------------------------------------------------------------------------------


@router.get("/audit")
def audit_page(request: Request, who: Page) -> Response:
    """The latest 100 audit events and whether the hash chain is intact."""
    if (refused := refusal(request, who, access.READ_AUDIT)) is not None:
        return refused
    store = store_of(request)
    return render(request, "audit.html", user=who.user, csrf=who.csrf,
                  events=audit_trail.events(store, limit=100), report=audit_trail.verify(store),
                  reads=audit_trail.reads(store, limit=100))
