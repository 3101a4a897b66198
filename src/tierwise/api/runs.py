"""``/runs``, ``/jobs``: recorded runs, their summaries, moves and exports; background runs."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from pydantic.dataclasses import dataclass

from tierwise.api.auth import requires
from tierwise.api.deps import MAX_ID, Id, Reader, expensive
from tierwise.http.clients import client_of, project_of, store_of
from tierwise.services import access, catalog
from tierwise.services import history as history_service
from tierwise.services.exports import export_run
from tierwise.services.jobs import Jobs
from tierwise.services.records import Run, TierCount, User

router = APIRouter(tags=["runs"])


@dataclass(frozen=True)
class TierCountOut(TierCount):
    """Customers of one tier in a run."""


class ModelLineOut(BaseModel):
    """One line describing what a learning method fitted (estimates, k, metrics)."""

    label: str
    text: str


class RunOut(BaseModel):
    """A run and its per-tier counts."""

    id: int
    scheme: str
    version: int
    as_of: date
    status: str
    official: bool
    customers: int | None
    started_by: str
    error: str | None
    tiers: list[TierCountOut] = []
    model: list[ModelLineOut] = []


@router.get("/schemes/{name}/runs", response_model=list[RunOut])
def runs(name: str, request: Request, user: Reader) -> list[RunOut]:
    """A scheme's runs that make its history, by as-of date."""
    return [_run_out(r) for r in catalog.runs(store_of(request), name)]


def _run_out(r: Run, tiers: list[TierCount] | None = None) -> RunOut:
    return RunOut(id=r.id, scheme=r.scheme, version=r.version, as_of=r.as_of, status=r.status,
                  official=r.official, customers=r.customers, started_by=r.started_by,
                  error=r.error, tiers=[TierCountOut(**t.__dict__) for t in tiers or []])


@router.get("/runs/{run_id}", response_model=RunOut)
def run_summary(run_id: Id, request: Request, user: Reader) -> RunOut:
    """A run's summary: customers per tier, by how they got it, and any fitted model."""
    s = history_service.summary(store_of(request), run_id)
    out = _run_out(s.run, s.tiers)
    out.model = [ModelLineOut(label=a, text=b) for a, b in history_service.fitted_model(
        s.run, project_of(request).spec)]
    return out


@router.get("/runs/{run_id}/transitions")
def run_transitions(run_id: Id, request: Request, user: Reader,
                    since: Annotated[int | None, Query(alias="from", ge=1, le=MAX_ID)] = None,
                    limit: Annotated[int, Query(ge=0, le=500)] = 20) -> dict[str, Any]:
    """Moves from the previous run (or run ``from``) to this one: matrix, counts, movers."""
    store = store_of(request)
    old, new = catalog.runs_to_compare(store, to_run=run_id, from_run=since)
    # A manager sees the counts, but only their own customers among the movers.
    moves = history_service.compare_runs(store, old, new, limit=limit,
                                         movers_of=access.visible_customers(store, user))
    return {"from_run": old.id, "to_run": new.id, "counts": moves.counts,
            "cells": [c.__dict__ for c in moves.cells], "movers": moves.movers}


@router.get("/runs/{run_id}/export")
def export(run_id: Id, request: Request,
           user: Annotated[User, Depends(requires(access.EXPORT))],
           format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv") -> Response:
    """A run's grades with reasons and gaps, as CSV (UTF-8 with BOM) or Excel.

    Text cells that a spreadsheet would run as a formula are neutralised; the export is audited.
    """
    expensive(request, user)
    store = store_of(request)
    data = export_run(store, run_id, fmt=format,
                      visible=access.visible_customers(store, user), actor=user.username,
                      client=client_of(request))
    media = ("text/csv; charset=utf-8" if format == "csv" else
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="run-{run_id}.{format}"'})


class StartRun(BaseModel):
    """Schemes to run and the date."""

    schemes: list[str] = Field(min_length=1, max_length=50)
    as_of: date | None = None
    force: bool = False


@router.post("/runs", status_code=202)
def start_run(body: StartRun, request: Request,
              user: Annotated[User, Depends(requires(access.RUN))]) -> dict[str, Any]:
    """Start a recorded run in the background; poll ``/jobs/{id}`` for its progress."""
    expensive(request, user)
    jobs: Jobs = request.app.state.jobs
    started = jobs.start(project_of(request), body.schemes, as_of=body.as_of, force=body.force,
                         actor=user.username, store=store_of(request))
    return started.view()


@router.get("/jobs/{job_id}")
def job(job_id: str, request: Request, user: Reader) -> dict[str, Any]:
    """A background run: its steps so far, then its runs or its error."""
    jobs: Jobs = request.app.state.jobs
    return jobs.get(job_id).view()
