"""One customer across the store: grade with reasons and gap, history, overrides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tierwise.services import history as history_service
from tierwise.services.explain_run import explain
from tierwise.services.grading import Explanation, Project
from tierwise.store import Store
from tierwise.store import overrides as store_overrides
from tierwise.store.overrides import Override


@dataclass(frozen=True)
class CustomerDetail:
    """What a customer page shows for one scheme."""

    explanation: Explanation
    history: list[history_service.Spell]
    overrides: list[Override]


def detail(project: Project, store: Store, scheme: str, customer_id: str, *,
           as_of: date | None = None) -> CustomerDetail:
    """The customer's grade in the scheme's latest (or as-of) run, history and overrides."""
    exp = explain(project, scheme, customer_id, as_of=as_of)
    spells = history_service.history(store, scheme, customer_id)
    with store.connect() as conn:
        found = store_overrides.listing(conn, scheme=scheme, customer_id=customer_id)
    return CustomerDetail(exp, spells, found)
