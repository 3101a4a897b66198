"""``/schemes/{name}/summary``: the KPI figures of a scheme's latest official run."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from pydantic.dataclasses import dataclass

from tierwise.api.deps import Reader
from tierwise.http.clients import project_of, store_of
from tierwise.services.results import TierResult, results

router = APIRouter(tags=["results"])


@dataclass(frozen=True)
class TierSummaryOut(TierResult):
    """One tier's figures; labels in the request's language (``Accept-Language``).

    ``change`` is the customers since the previous run and ``change_points`` the change of the
    share in percentage points; both null on a first run.
    """


class SummaryOut(BaseModel):
    """The latest official run of a scheme: per-tier figures and the moves since the last one."""

    scheme: str
    run_id: int
    as_of: date
    version: int
    previous_run_id: int | None
    customers: int
    value: float | None
    value_indicator: str | None
    value_note: str | None
    moves: dict[str, int] = Field(
        description="customers per kind of move since the previous run (up, down, "
        "status_entry, status_exit, entry, exit, same); empty on a first run")
    tiers: list[TierSummaryOut]


@router.get("/schemes/{name}/summary", response_model=SummaryOut)
def summary(name: str, request: Request, user: Reader) -> SummaryOut:
    """KPI figures of the scheme's latest official run (counts of every customer; no ids)."""
    found = results(store_of(request), name, project=project_of(request).spec)
    return SummaryOut(
        scheme=name, run_id=found.run.id, as_of=found.run.as_of, version=found.run.version,
        previous_run_id=found.previous.id if found.previous else None,
        customers=found.customers, value=found.value, value_indicator=found.measure.indicator,
        value_note=found.note, moves=found.moves,
        tiers=[TierSummaryOut(**asdict(t)) for t in found.tiers])
