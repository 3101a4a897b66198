"""``/audit``: the audit log's events and a check of its hash chain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from tierwise.api.deps import MAX_ID, Auditor
from tierwise.http.clients import store_of
from tierwise.services import audit_trail

router = APIRouter(tags=["audit"])


@router.get("/audit")
def audit_events(request: Request, user: Auditor,
                 object_type: str | None = None, object_id: str | None = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> list[dict[str, Any]]:
    """Audit events, newest first."""
    found = audit_trail.events(store_of(request), object_type=object_type, object_id=object_id,
                               limit=limit, offset=offset)
    return [{**e.__dict__, "at": e.at.isoformat()} for e in found]


@router.get("/audit/verify")
def audit_verify(request: Request, user: Auditor) -> dict[str, Any]:
    """Check the audit log's hash chain."""
    report = audit_trail.verify(store_of(request))
    return {"ok": report.ok, "events": report.events,
            "problems": [p._asdict() for p in report.problems]}
