"""The customer list page: ``/customers``, its exports and its bulk assignment.

Exports live at ``/export/customers``, outside ``/customers/{customer_id}``, so that no
customer id is shadowed by a route.

The page parses the query string into a :class:`~tierwise.services.customer_list.ListQuery`,
asks ``services.access``, calls the list services and renders. The columns chosen are kept in
the URL (``cols``) and remembered in a cookie for the next visit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from tierwise.errors import NotFoundError, TierwiseError
from tierwise.http.clients import client_of, project_of, security_of, store_of
from tierwise.http.limits import EXPENSIVE, limits_of
from tierwise.i18n import _
from tierwise.services import access, catalog, runs
from tierwise.services.auth import Actor
from tierwise.services.condition_fields import condition_fields
from tierwise.services.customer_list import ListPage, ListQuery, listing
from tierwise.services.list_actions import assign_listed, export_list, managers
from tierwise.services.list_columns import CHANGE_WORDS, CHANGES, PAGE_SIZES
from tierwise.services.records import User
from tierwise.web import list_condition
from tierwise.web.pages import error_page, message_of, render, status_of, tier_labels
from tierwise.web.rules_form import OPERATOR_LABELS, Box, Row
from tierwise.web.session import MAX_FORM, Page, Posted, set_cookie

router = APIRouter(include_in_schema=False)
#: The cookie that remembers the columns last chosen (keys joined by ``|``: a cookie holds no
#: comma).
COLUMNS_COOKIE = "tw_list_cols"
#: Query parameters that make the list's filter and view (kept across links and forms).
KEPT = ("scheme", "q", "tier", "change", "from_tier", "to_tier", "where", "sort", "dir", "per",
        "cols")


def _number(text: str | None, default: int) -> int:
    try:
        return min(max(1, int((text or "")[:12])), 10_000_000)
    except ValueError:
        return default


def query_of(params: Mapping[str, str], scheme: str, columns: list[str]) -> ListQuery:
    """The list query a page's parameters ask for (what it cannot read is left at its default)."""
    def text(name: str) -> str | None:
        return (params.get(name) or "").strip() or None

    return ListQuery(scheme, columns=tuple(columns), sort=text("sort") or "customer_id",
                     descending=params.get("dir") == "desc", q=text("q"), tier=text("tier"),
                     change=text("change"), from_tier=text("from_tier"),
                     to_tier=text("to_tier"), where=text("where"), page=_number(
                         params.get("page"), 1), per_page=_number(params.get("per"), 50))


def _columns(request: Request, given: Mapping[str, str]) -> tuple[list[str], bool]:
    """The column keys asked for (``col`` boxes or ``cols``), else the cookie's; and if asked."""
    keys = request.query_params.getlist("col")
    if not keys and given.get("cols"):
        keys = given.get("cols", "").split(",")
    if keys:
        return [k.strip()[:200] for k in keys if k.strip()][:100], True
    cookie = request.cookies.get(COLUMNS_COOKIE, "")
    return [k for k in cookie.split("|") if k][:100], False


def _link(params: Mapping[str, str], **changes: Any) -> str:
    """This list with some parameters changed (None drops one), as a relative URL."""
    merged = {k: v for k, v in params.items() if k in KEPT and v}
    for key, value in changes.items():
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return f"/customers?{urlencode(merged)}"


def _export_link(params: Mapping[str, str], fmt: str) -> str:
    """The export of this list in format ``fmt``."""
    kept = {k: v for k, v in params.items() if k in KEPT and v}
    return f"/export/customers?{urlencode({**kept, 'format': fmt})}"


def _params(request: Request, scheme: str | None, shown: list[str] | None) -> dict[str, str]:
    params = {k: request.query_params.get(k, "") for k in KEPT}
    params["scheme"] = scheme or ""
    if shown is not None:
        params["cols"] = ",".join(shown)
    return params


@router.get("/customers")
def customers_page(request: Request, who: Page) -> Response:
    """A scheme's customers with chosen columns: sort, search, filter, pages, bulk actions."""
    return _list(request, who.user, who.csrf, request.query_params)


def _list(request: Request, user: User, csrf: str, given: Mapping[str, str], *,
          message: str | None = None, status: int = 200) -> Response:
    try:
        access.require(user, access.READ_CUSTOMERS)
        store = store_of(request)
        names = runs.runnable_schemes(project_of(request), store)
        scheme = given.get("scheme") or (names[0] if names else None)
        stored = scheme in catalog.scheme_names(store)  # else tierwise.yaml's, not run yet
        labels = tier_labels(store, scheme) if scheme and stored else {}
        colours = catalog.tier_colours(store, scheme) if scheme and stored else {}
        fields = condition_fields(project_of(request))
    except TierwiseError as exc:
        return error_page(request, exc, user=user, csrf=csrf)
    condition = list_condition.read(given, fields)
    if condition.where is not None:  # Search pressed: filter by the new condition's text
        return RedirectResponse(_link(given, where=condition.where, page=None), status_code=303)
    asked, chose = _columns(request, given)
    context: dict[str, Any] = {
        "condition": condition, "fields": fields, "blank_row": Row(), "not_run": False,
        "blank_group": Box("or", [Row()]),
        "operators": [(op, _(OPERATOR_LABELS[op])) for op in OPERATOR_LABELS],
        "schemes": names, "scheme": scheme, "labels": labels, "found": None, "colours": colours,
        "message": message, "changes": {k: _(CHANGE_WORDS[k]) for k in CHANGES},
        "page_sizes": PAGE_SIZES, "managers": [], "done": request.query_params.get("done"),
        "assigned": _number(request.query_params.get("n"), 0),
        "can_assign": access.allowed(user, access.ASSIGN),
        "can_export": access.allowed(user, access.EXPORT)}
    query = query_of(given, scheme or "", asked)
    found: ListPage | None = None
    if scheme and scheme in names:
        try:
            limits_of(request).check(EXPENSIVE, client=client_of(request), user=user.username)
            found = listing(project_of(request), store, query,
                            visible=access.visible_customers(store, user),
                            timeout=security_of(request).search_timeout_seconds)
            access.log_read(store, user, "customers.searched", "scheme", scheme,
                            client=client_of(request),
                            detail={**query.filters(), "page": found.page, "total": found.total})
            if context["can_assign"]:
                context["managers"] = managers(store, Actor(user.username, user))
        except NotFoundError:  # the scheme has no finished run: offer to run it
            context["not_run"] = True
        except TierwiseError as exc:
            status = status_of(exc, otherwise=422)[0]
            context["message"] = message_of(exc)
    elif scheme:
        status, context["message"] = 404, _("no scheme {scheme}").format(scheme=repr(scheme))
    shown = [c.key for c in found.view.shown] if found else None
    if found:  # the builder offers what the run holds (a run keeps its scheme's indicators)
        held = {c.key.removeprefix("i.") for c in found.view.available if c.group == "indicator"}
        context["fields"] = {n: f for n, f in fields.items() if n in held}
    params = _params(request, scheme, shown if chose else None)
    params.update({k: given.get(k, "") for k in KEPT if k not in ("scheme", "cols")})
    context.update(found=found, query=query, params=params, link=_link, export_link=_export_link,
                   shown_keys=shown or [])
    response = render(request, "customers.html", user=user, csrf=csrf, status=status,
                      **context)
    if chose and shown:
        set_cookie(response, request, COLUMNS_COOKIE, "|".join(shown),
                   max_age=365 * 24 * 3600)
    return response


@router.get("/export/customers")
def export(request: Request, who: Page) -> Response:
    """The whole filtered list as CSV (``format=csv``) or Excel (``format=xlsx``)."""
    user, csrf, q = who.user, who.csrf, request.query_params
    try:
        access.require(user, access.READ_CUSTOMERS)
        access.require(user, access.EXPORT)
        store = store_of(request)
        scheme = q.get("scheme") or ""
        catalog.require_scheme(store, scheme)
        limits_of(request).check(EXPENSIVE, client=client_of(request), user=user.username)
        asked, _chose = _columns(request, q)
        made = export_list(project_of(request), store, query_of(q, scheme, asked),
                           q.get("format", "csv"), visible=access.visible_customers(store, user),
                           actor=user.username, client=client_of(request))
    except TierwiseError as exc:
        return error_page(request, exc, user=user, csrf=csrf)
    ascii_name = made.filename.encode("ascii", "replace").decode().replace("?", "_")
    disposition = (f'attachment; filename="{ascii_name}"; '
                   f"filename*=UTF-8''{quote(made.filename)}")
    return Response(made.content, media_type=made.media_type,
                    headers={"Content-Disposition": disposition})


async def ticked(request: Request) -> list[str]:
    """The customer ids ticked in the list (every ``id`` field of the posted form)."""
    body = await request.body()
    if len(body) > MAX_FORM * 16:
        return []
    return [i[:200] for i in parse_qs(body.decode("utf-8", "replace")).get("id", [])][:10_000]


Ticked = Annotated[list[str], Depends(ticked)]


@router.post("/customers/assign")
def assign(request: Request, post: Posted, ids: Ticked) -> Response:
    """Give the ticked customers, or all the filter finds, to an account manager."""
    user, csrf, form = post.user, post.csrf, post.form
    scheme = form.get("scheme", "")
    try:
        access.require(user, access.ASSIGN)
        store = store_of(request)
        catalog.require_scheme(store, scheme)
        asked, _chose = _columns(request, form)
        query = query_of(form, scheme, asked)
        n = assign_listed(project_of(request), store, Actor(user.username, user), query,
                          form.get("manager", ""), visible=access.visible_customers(store, user),
                          ticked=None if form.get("scope") == "all" else ids)
    except TierwiseError as exc:
        status = status_of(exc, otherwise=422)[0]
        if status in (403, 404) and not access.allowed(user, access.ASSIGN):
            return error_page(request, exc, user=user, csrf=csrf)
        return _list(request, user, csrf, form, message=message_of(exc), status=status)
    kept = {k: form.get(k, "") for k in KEPT}
    return RedirectResponse(_link(kept, done="assigned", n=n), status_code=303)
