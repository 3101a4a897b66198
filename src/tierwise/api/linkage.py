"""``/linkage``: the latest linkage version, its review queue, decisions, a customer's records.

A linkage run itself is started from the command line or a scheduler (`tierwise link run`): it
trains a model for seconds to minutes, longer than a request should hold a connection.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from tierwise.api.deps import CustomerReader, Decider, Reader
from tierwise.errors import NotFoundError
from tierwise.http.clients import project_of, store_of
from tierwise.i18n import _
from tierwise.services import linkage as service

router = APIRouter(tags=["linkage"])

RecordId = Annotated[str, Path(min_length=3, max_length=400,
                               description="a record, written system:id")]


class DecisionIn(BaseModel):
    """A person's judgement on two records."""

    record_a: str = Field(min_length=3, max_length=400)
    record_b: str = Field(min_length=3, max_length=400)
    decision: str = Field(pattern="^(link|apart)$",
                          description="link: one customer; apart: two customers")
    reason: str = Field(min_length=1, max_length=4000)


def _decision_out(found: service.Decision) -> dict[str, Any]:
    return {**found.__dict__, "decided_at": found.decided_at.isoformat()}


@router.get("/linkage")
def latest(request: Request, user: Reader) -> dict[str, Any]:
    """The latest linkage version: its counts, when and by whom it was made."""
    found = service.latest_version(store_of(request))
    if found is None:
        raise NotFoundError(_("no linkage has run yet; `tierwise link run` links the systems' "
                              "customers"))
    return {"version": found.number, "records": found.records, "customers": found.customers,
            "review": found.review, "created_at": found.created_at.isoformat(),
            "created_by": found.created_by, "fingerprint": found.fingerprint}


@router.get("/linkage/review")
def review(request: Request, user: CustomerReader,
           limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    """The undecided uncertain pairs of the latest version, most likely first."""
    service.require_reader(user)
    count, pairs = service.review(project_of(request), store_of(request), limit=limit)
    return {"pending": count, "pairs": [
        {"probability": p.probability, "left": service.as_dict(p.left),
         "right": service.as_dict(p.right)} for p in pairs]}


@router.post("/linkage/decisions", status_code=201)
def decide(body: DecisionIn, request: Request, user: Decider) -> dict[str, Any]:
    """Record that two records are one customer (link) or two (apart); the next run applies it."""
    return _decision_out(service.decide(
        project_of(request), store_of(request), body.record_a, body.record_b,
        decision=body.decision, reason=body.reason, actor=user.username))


@router.get("/linkage/customers/{record}")
def customer(record: RecordId, request: Request, user: CustomerReader) -> dict[str, Any]:
    """The records that are one customer with ``record`` in the latest version."""
    service.require_reader(user)
    number, members = service.customer(project_of(request), store_of(request), record)
    return {"version": number, "customer": members[0].customer,
            "records": [service.as_dict(m) for m in members]}
