"""The customer profile page and its re-classification (override) forms.

``/customers/{id}`` shows the customer's attributes, the latest events of each source, the class
in every scheme and, for the scheme picked (``?scheme=``), the indicators, history, overrides and
the override form. The form starts an override on the latest graded date by default, so the
class shown changes at once; after saving, the page says whether it shows now, waits for
approval or applies later, and why. A refused form comes back with the error in a danger alert
and what the person typed kept.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi import Path as FastPath
from fastapi.responses import RedirectResponse

from tierwise.errors import NotFoundError, TierwiseError
from tierwise.http.clients import client_of, project_of, store_of
from tierwise.i18n import _
from tierwise.services import access, catalog, profile
from tierwise.services import actions as action_service
from tierwise.services import overrides as override_service
from tierwise.services.records import User
from tierwise.web.pages import (
    bad_form,
    error_page,
    indicator_labels,
    message_of,
    render,
    status_of,
    tier_texts,
)
from tierwise.web.session import Page, Posted

router = APIRouter(include_in_schema=False)
KINDS = ("pin", "floor", "ceiling", "exclude")
Id = Annotated[int, FastPath(ge=1, le=2**31 - 1)]
#: Form fields kept when a refused form is shown again.
FIELDS = ("kind", "tier", "reason", "valid_from", "expires")


def _profile(request: Request, user: User, csrf: str, customer_id: str, *,
             scheme: str | None, form: dict[str, str] | None = None,
             problem: str | None = None, status: int = 200) -> Response:
    """The profile page; ``form`` and ``problem``: a refused override form shown again."""
    store, project = store_of(request), project_of(request)
    try:
        access.require(user, access.READ_CUSTOMERS)
        customer_id = profile.customer_of(project, customer_id)  # or one of its records
        access.require_customer(store, user, customer_id)
        names = catalog.scheme_names(store)
        scheme = scheme or (names[0] if names else None)
        if scheme is not None and scheme not in names:
            raise NotFoundError(_("no scheme {scheme}").format(scheme=repr(scheme)))
        classes = [profile.scheme_class(project, store, s, customer_id) for s in names]
        try:
            attributes, attributes_problem = profile.attributes(project, customer_id), None
        except TierwiseError as exc:
            attributes, attributes_problem = [], message_of(exc)
        if all(c.explanation is None for c in classes) and not attributes:
            raise NotFoundError(attributes_problem or _("no customer {id}").format(
                id=repr(customer_id)))
        texts = {s: tier_texts(store, s) for s in names}
        access.log_read(store, user, "customer.read", "customer", customer_id,
                        client=client_of(request), detail={"scheme": scheme})
    except TierwiseError as exc:
        return error_page(request, exc, user=user, csrf=csrf)
    focus = next((c for c in classes if c.scheme == scheme), None)
    try:
        rule = override_service.start_rule(store, scheme) if scheme else None
    except TierwiseError:
        rule = None
    context: dict[str, Any] = {
        "customer_id": customer_id, "scheme": scheme, "schemes": names, "classes": classes,
        "focus": focus, "texts": texts, "attributes": attributes,
        "attributes_problem": attributes_problem,
        "events": profile.recent_events(project, customer_id),
        "tags": action_service.customer_tags(project, store, customer_id),
        "indicator_labels": indicator_labels(project), "kinds": KINDS, "rule": rule,
        "can_override": access.allowed(user, access.OVERRIDE),
        "can_decide": access.allowed(user, access.DECIDE),
        "done": request.query_params.get("done"), "problem": problem,
        "form": form or {}, "notice": _notice(request, focus, rule),
    }
    return render(request, "customer.html", user=user, csrf=csrf, status=status, **context)


def _notice(request: Request, focus: profile.SchemeClass | None,
            rule: override_service.StartRule | None) -> dict[str, Any] | None:
    """What became of the override just saved (``?override=N``): shown, waiting or later."""
    asked = request.query_params.get("override", "")
    if focus is None or rule is None or not asked.isdigit():
        return None
    made = next((o for o in focus.overrides if o.id == int(asked)), None)
    if made is None:
        return None
    when = override_service.effect(made, rule.graded)
    grade = focus.explanation.grade if focus.explanation else {}
    if when == override_service.SHOWN and grade.get("override_id") == made.id and (
            grade.get("source") != "override"):
        when = "unchanged"  # a floor or ceiling the held tier already meets
    return {"override": made, "when": when, "graded": rule.graded, "grade": grade}


@router.get("/customers/{customer_id}")
def customer_page(customer_id: str, request: Request, who: Page) -> Response:
    """One customer: attributes, recent events, the class in every scheme, override form."""
    return _profile(request, who.user, who.csrf, customer_id,
                    scheme=request.query_params.get("scheme") or None)


def _date(form: dict[str, str], name: str, what: str) -> date | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(_("{what} {value} is not a date; pick one in the calendar or type it "
                           "as YYYY-MM-DD").format(what=what, value=repr(text[:40]))) from None


@router.post("/customers/{customer_id}/overrides")
def create_override(customer_id: str, request: Request, post: Posted) -> Response:
    """Record an override from the profile's form (pending when approval is required)."""
    user, csrf, form = post.user, post.csrf, post.form
    scheme, kind = form.get("scheme", ""), form.get("kind", "")
    if kind not in KINDS or not scheme:
        return bad_form(request, post)
    kept = {k: form.get(k, "")[:4000] for k in FIELDS}
    reason = form.get("reason", "").strip()
    try:
        start = _date(form, "valid_from", _("The start date"))
        expires = _date(form, "expires", _("The expiry date"))
        if not reason or len(reason) > 4000:
            raise ValueError(_("an override needs a reason of at most 4,000 characters: say "
                               "why this customer's class is changed"))
    except ValueError as exc:
        return _profile(request, user, csrf, customer_id, scheme=scheme, form=kept,
                        problem=str(exc), status=422)
    try:
        access.require(user, access.OVERRIDE)
        access.require_customer(store_of(request), user, customer_id)
    except TierwiseError as exc:
        return error_page(request, exc, user=user, csrf=csrf)
    try:
        asked = override_service.OverrideRequest(scheme, customer_id, kind=kind,
                                                 tier=form.get("tier") or None, reason=reason,
                                                 valid_from=start, expires=expires)
        made = override_service.create(project_of(request), asked, actor=user.username,
                                       store=store_of(request))
    except TierwiseError as exc:
        return _profile(request, user, csrf, customer_id, scheme=scheme, form=kept,
                        problem=message_of(exc), status=status_of(exc, otherwise=422)[0])
    query = urlencode({"scheme": scheme, "override": made.id})
    return RedirectResponse(f"/customers/{customer_id}?{query}#notice", status_code=303)


@router.post("/customers/{customer_id}/overrides/{override_id}/revoke")
def revoke_override(customer_id: str, override_id: Id, request: Request, post: Posted) -> Response:
    """End an override now: its author, or a supervisor, at the revision the page showed."""
    user, csrf, form = post.user, post.csrf, post.form
    try:
        revision = int(form.get("revision", ""))
    except ValueError:
        return bad_form(request, post)
    store = store_of(request)
    try:
        target = override_service.decidable(store, user, "revoke", override_id,
                                            customer_id=customer_id)
        override_service.decide(project_of(request), target,
                                override_service.Decision("revoke", revision=revision),
                                actor=user.username, store=store)
    except TierwiseError as exc:
        return error_page(request, exc, user=user, csrf=csrf)
    query = urlencode({"scheme": form.get("scheme", ""), "done": "revoked"})
    return RedirectResponse(f"/customers/{customer_id}?{query}", status_code=303)
