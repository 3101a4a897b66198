"""The scheme list and scheme administration pages: create, duplicate, rename, retire, restore.

``/schemes`` lists the schemes with their title, method, active version, latest run and tier
count; supervisors and admins (``access.EDIT_SCHEMES``) also get "New scheme" (``/new-scheme``)
and, per scheme, duplicate and rename (``/schemes/{name}/manage``) and retire or restore. A
refused form is shown again with what was typed and the error in a danger alert. The work is
done by :mod:`tierwise.services.scheme_admin`.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from tierwise.errors import SpecError, TierwiseError
from tierwise.http.clients import project_of, store_of
from tierwise.services import access, catalog
from tierwise.services import scheme_admin as admin
from tierwise.web.pages import bad_form, error_page, message_of, refusal, render, status_of
from tierwise.web.session import Page, Posted, Viewer

router = APIRouter(include_in_schema=False)
MAX_FIELD = 400


def _url(name: str, tail: str = "", **query: str) -> str:
    return f"/schemes/{quote(name, safe='')}{tail}" + (f"?{urlencode(query)}" if query else "")


def _refused(exc: TierwiseError) -> tuple[str, int]:
    """The message of a refused form and its status (a bad key or title: 422, as in the API)."""
    return message_of(exc), status_of(exc, otherwise=422)[0]


def _problems(exc: TierwiseError) -> list[str]:
    if isinstance(exc, SpecError) and exc.problems:
        return [p.message for p in exc.problems]
    return [message_of(exc)]


@router.get("/schemes")
def schemes_page(request: Request, who: Page) -> Response:
    """Every scheme with its title, method, active version, latest run and tier count."""
    if (refused := refusal(request, who, access.READ)) is not None:
        return refused
    show_retired = request.query_params.get("retired") == "1"
    rows = admin.listing(store_of(request), project_of(request), retired=show_retired)
    return render(request, "schemes.html", user=who.user, csrf=who.csrf, rows=rows,
                  show_retired=show_retired,
                  can_edit=access.allowed(who.user, access.EDIT_SCHEMES),
                  done=request.query_params.get("done"),
                  scheme=request.query_params.get("scheme"))


def _new_page(request: Request, who: Viewer, form: dict[str, str] | None = None,
              problems: list[str] | None = None, status: int = 200) -> Response:
    return render(request, "scheme_new.html", user=who.user, csrf=who.csrf, status=status,
                  fits=admin.fits(project_of(request)), form=form or {"template": "blank"},
                  problems=problems or [])


@router.get("/new-scheme")
def new_scheme_page(request: Request, who: Page) -> Response:
    """The "New scheme" form: key, title and the template to start from."""
    if (refused := refusal(request, who, access.EDIT_SCHEMES)) is not None:
        return refused
    return _new_page(request, who, {"template": request.query_params.get("template", "blank")})


def _too_long(form: dict[str, str]) -> bool:
    return len(form) > 20 or any(len(v) > MAX_FIELD for v in form.values())


@router.post("/new-scheme")
def create_scheme(request: Request, post: Posted) -> Response:
    """Create the scheme as version 1, active; the form again with the error when refused."""
    form = post.form
    if _too_long(form):
        return bad_form(request, post)
    if (refused := refusal(request, post, access.EDIT_SCHEMES)) is not None:
        return refused
    name = form.get("name", "").strip()
    asked = admin.NewScheme(name, form.get("title"), form.get("template") or "blank")
    try:
        admin.create(store_of(request), project_of(request), asked, actor=post.user.username)
    except TierwiseError as exc:
        return _new_page(request, post, form, _problems(exc), _refused(exc)[1])
    return RedirectResponse(_url(name, created="1"), status_code=303)


def _manage_page(request: Request, who: Viewer, name: str, *, form: dict[str, str] | None = None,
                 problems: list[str] | None = None, status: int = 200) -> Response:
    try:
        catalog.require_scheme(store_of(request), name)
        row = next(r for r in admin.listing(store_of(request), project_of(request),
                                            retired=True) if r.name == name)
    except TierwiseError as exc:
        return error_page(request, exc, user=who.user, csrf=who.csrf)
    return render(request, "scheme_manage.html", user=who.user, csrf=who.csrf, status=status,
                  row=row, form=form or {"title": row.title}, problems=problems or [],
                  url=_url(name), done=request.query_params.get("done"))


@router.get("/schemes/{name}/manage")
def manage_page(name: str, request: Request, who: Page) -> Response:
    """Duplicate, rename, retire or restore one scheme."""
    if (refused := refusal(request, who, access.EDIT_SCHEMES)) is not None:
        return refused
    return _manage_page(request, who, name)


def _manage_post(request: Request, post: Viewer, name: str, act: Callable[[], object],
                 done: str) -> Response:
    """Run ``act`` on scheme ``name`` for an editor, then go to ``done``.

    A refused action shows the manage page again with what was typed and why.
    """
    if _too_long(post.form):
        return bad_form(request, post)
    if (refused := refusal(request, post, access.EDIT_SCHEMES)) is not None:
        return refused
    try:
        catalog.require_scheme(store_of(request), name)
        act()
    except TierwiseError as exc:
        return _manage_page(request, post, name, form=post.form, problems=_problems(exc),
                            status=_refused(exc)[1])
    return RedirectResponse(done, status_code=303)


@router.post("/schemes/{name}/duplicate")
def duplicate_scheme(name: str, request: Request, post: Posted) -> Response:
    """Copy the active version of ``name`` into a new scheme (version 1, active)."""
    new = post.form.get("new_name", "").strip()
    return _manage_post(request, post, name, lambda: admin.duplicate(
        store_of(request), project_of(request), name, new, title=post.form.get("title"),
        actor=post.user.username), _url(new, created="1"))


@router.post("/schemes/{name}/rename")
def rename_scheme(name: str, request: Request, post: Posted) -> Response:
    """Give the scheme a new title; its key stays."""
    return _manage_post(request, post, name, lambda: admin.rename(
        store_of(request), name, post.form.get("title"), actor=post.user.username),
        _url(name, "/manage", done="renamed"))


@router.post("/schemes/{name}/retire")
def retire_scheme(name: str, request: Request, post: Posted) -> Response:
    """Retire the scheme (``action=restore``: restore it), then back to the list."""
    action = post.form.get("action", "retire")
    if action not in ("retire", "restore"):
        return bad_form(request, post)
    if (refused := refusal(request, post, access.EDIT_SCHEMES)) is not None:
        return refused
    try:
        catalog.require_scheme(store_of(request), name)
        admin.retire(store_of(request), name, actor=post.user.username,
                     retired=action == "retire")
    except TierwiseError as exc:
        return error_page(request, exc, user=post.user, csrf=post.csrf)
    query = {"done": f"{action}d", "scheme": name}
    if action == "restore":
        return RedirectResponse(f"/schemes?{urlencode(query)}", status_code=303)
    return RedirectResponse(f"/schemes?{urlencode({**query, 'retired': '1'})}", status_code=303)
