"""``/customers``: one customer's grade and story; a search over a run's customers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from tierwise.api.deps import MAX_ID, CustomerReader, expensive
from tierwise.api.overrides import override_out
from tierwise.api.schemes import tier_out
from tierwise.http.clients import client_of, project_of, security_of, store_of
from tierwise.services import access, catalog
from tierwise.services import actions as action_service
from tierwise.services.customers import CustomerQuery, detail, search
from tierwise.services.profile import customer_of

router = APIRouter(tags=["customers"])


@router.get("/customers/{customer_id}")
def customer(customer_id: str, scheme: str, request: Request, user: CustomerReader,
             as_of: date | None = None) -> dict[str, Any]:
    """One customer: grade, reasons, gap to the next tier, indicators, history, overrides.

    ``tier`` explains the tier held: its label, description and strategy in the request's
    language (``Accept-Language``). In a project graded over linked customers, ``customer_id``
    may be one of the customer's records in a system (``shop:S0000017``).
    """
    store, project = store_of(request), project_of(request)
    customer_id = customer_of(project, customer_id)  # or one of a linked customer's records
    access.require_customer(store, user, customer_id)
    found = detail(project, store, scheme, customer_id, as_of=as_of)
    access.log_read(store, user, "customer.read", "customer", customer_id,
                    client=client_of(request), detail={"scheme": scheme})
    held = found.explanation.grade.get("tier")
    tier = next((tier_out(t) for t in catalog.scheme_tiers(store, scheme) if t.key == held),
                None)
    return {
        "customer_id": customer_id, "scheme": scheme, "as_of": found.explanation.as_of,
        "grade": found.explanation.grade, "tier": tier,
        "indicators": found.explanation.indicators,
        "history": [s.__dict__ for s in found.history],
        "overrides": [override_out(o) for o in found.overrides],
        "tags": [{"name": t.name, "action": t.action, "since": t.since}
                 for t in action_service.customer_tags(project_of(request), store,
                                                       customer_id)],
    }


class CustomerSearch(BaseModel):
    """The query of a customer search: a tier, an id prefix, a condition, a page."""

    scheme: str
    tier: str | None = None
    q: str | None = Field(default=None, max_length=200)
    where: str | None = Field(default=None, max_length=2000)
    as_of: date | None = None
    limit: int = Field(default=50, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=MAX_ID)


@router.get("/customers")
def customers(request: Request, user: CustomerReader,
              asked: Annotated[CustomerSearch, Query()]) -> dict[str, Any]:
    """Search a run's customers: by tier, id prefix ``q`` and a condition on indicators."""
    expensive(request, user)
    store = store_of(request)
    page = search(store, CustomerQuery(asked.scheme, tier=asked.tier, prefix=asked.q,
                                       where=asked.where, as_of=asked.as_of, limit=asked.limit,
                                       offset=asked.offset),
                  visible=access.visible_customers(store, user),
                  timeout=security_of(request).search_timeout_seconds)
    access.log_read(store, user, "customers.searched", "scheme", asked.scheme,
                    client=client_of(request),
                    detail={"tier": asked.tier, "q": asked.q, "where": asked.where,
                            "as_of": asked.as_of, "rows": len(page.rows), "total": page.total})
    return {"total": page.total, "limit": asked.limit, "offset": asked.offset, "rows": page.rows}
