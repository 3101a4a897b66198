"""``/overrides``: list, read, create, approve, reject and revoke manual overrides.

An override carries an ``ETag`` with its revision; a decision must send it back in
``If-Match`` and gets 412 when someone else changed the override first.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from tierwise.api.deps import CustomerReader, Id, IfMatch, Overrider
from tierwise.http.clients import project_of, store_of
from tierwise.http.errors import PreconditionFailed
from tierwise.i18n import _
from tierwise.services import access
from tierwise.services import overrides as override_service
from tierwise.services.records import Override, User

router = APIRouter(tags=["overrides"])


class OverrideIn(BaseModel):
    """A new override."""

    scheme: str
    customer_id: str = Field(min_length=1, max_length=200)
    kind: str = Field(pattern="^(pin|floor|ceiling|exclude)$")
    tier: str | None = None
    reason: str = Field(min_length=1, max_length=4000)
    valid_from: date | None = None
    expires: date | None = None


class Decision(BaseModel):
    """A note with a decision."""

    note: str | None = Field(default=None, max_length=4000)


def override_out(o: Override) -> dict[str, Any]:
    """An override as JSON."""
    return {**o.__dict__, "created_at": o.created_at.isoformat(),
            "decided_at": o.decided_at.isoformat() if o.decided_at else None}


def _etag(o: Override) -> str:
    return f'"override-{o.id}-{o.revision}"'


def _revision(if_match: str | None, override_id: int) -> int:
    """The revision an ``If-Match`` header names; writes without one are refused."""
    if not if_match:
        raise PreconditionFailed(_(
            "send If-Match with the ETag of override #{id} you read, so a change made by "
            "someone else in between is not overwritten").format(id=override_id))
    try:
        return int(if_match.strip().strip('"').rsplit("-", 1)[1])
    except (IndexError, ValueError):
        raise PreconditionFailed(_("If-Match {value} is not an ETag of override #{id}").format(
            value=repr(if_match), id=override_id)) from None


@router.get("/overrides")
def overrides(request: Request, user: CustomerReader, scheme: str | None = None,
              status: str | None = None) -> list[dict[str, Any]]:
    """Overrides, newest first (status=pending: the approval queue)."""
    return [override_out(o) for o in override_service.listing(
        store_of(request), user=user, scheme=scheme, status=status)]


@router.get("/overrides/{override_id}")
def override(override_id: Id, request: Request, response: Response,
             user: CustomerReader) -> dict[str, Any]:
    """One override, with its ETag."""
    found = override_service.visible(store_of(request), user, override_id)
    response.headers["ETag"] = _etag(found)
    return override_out(found)


@router.post("/overrides", status_code=201)
def create_override(body: OverrideIn, request: Request, response: Response,
                    user: Overrider) -> dict[str, Any]:
    """Override one customer's grade, with a reason (pending when the scheme needs approval)."""
    access.require_customer(store_of(request), user, body.customer_id)
    made = override_service.create(
        project_of(request), override_service.OverrideRequest(**body.model_dump()),
        actor=user.username, store=store_of(request))
    response.headers["ETag"] = _etag(made)
    return override_out(made)


def _decide(action: str, override_id: int, body: Decision, request: Request,
            response: Response, user: User, if_match: str | None) -> dict[str, Any]:
    """Take a decision at the revision ``If-Match`` names; the answer carries the new ETag."""
    store = store_of(request)
    target = override_service.decidable(store, user, action, override_id)
    decision = override_service.Decision(action, body.note, _revision(if_match, override_id))
    try:
        done = override_service.decide(project_of(request), target, decision,
                                       actor=user.username, store=store)
    except override_service.StaleOverride as exc:
        raise PreconditionFailed(str(exc)) from None
    response.headers["ETag"] = _etag(done)
    return override_out(done)


@router.post("/overrides/{override_id}/approve")
def approve(override_id: Id, body: Decision, request: Request, response: Response,
            user: Overrider, if_match: IfMatch = None) -> dict[str, Any]:
    """Approve a pending override (never its author)."""
    return _decide("approve", override_id, body, request, response, user, if_match)


@router.post("/overrides/{override_id}/reject")
def reject(override_id: Id, body: Decision, request: Request, response: Response,
           user: Overrider, if_match: IfMatch = None) -> dict[str, Any]:
    """Reject a pending override (never its author)."""
    return _decide("reject", override_id, body, request, response, user, if_match)


@router.post("/overrides/{override_id}/revoke")
def revoke(override_id: Id, body: Decision, request: Request, response: Response,
           user: Overrider, if_match: IfMatch = None) -> dict[str, Any]:
    """End an override now (its author, or a supervisor)."""
    return _decide("revoke", override_id, body, request, response, user, if_match)
