"""The FastAPI application: ``/api/v1`` over the services, OpenAPI at ``/openapi.json``.

Every route authenticates the caller, checks the role for the action and, for customer data,
that a manager's customer is theirs; then it calls one service and shapes its answer. Objects
that people edit concurrently (overrides) carry an ``ETag`` with their revision; a write must send
it back in ``If-Match`` and gets 412 when someone else changed the object first.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi import Path as FastPath
from pydantic import BaseModel, Field

from tierwise import web
from tierwise.api import errors
from tierwise.api.auth import SESSION_COOKIE, current_user, requires
from tierwise.errors import NotFoundError
from tierwise.http.clients import client_of, project_of, security_of, store_of
from tierwise.http.limits import (
    EXPENSIVE,
    LOGIN,
    BodyLimit,
    LoginThrottle,
    limiter_for,
    limits_of,
)
from tierwise.services import access, people
from tierwise.services import auth as auth_service
from tierwise.services import history as history_service
from tierwise.services import overrides as override_service
from tierwise.services import versions as version_service
from tierwise.services.customers import detail, search
from tierwise.services.exports import export_run
from tierwise.services.grading import Project
from tierwise.services.jobs import Jobs
from tierwise.services.runs import open_store
from tierwise.store import Store, audit
from tierwise.store import overrides as store_overrides
from tierwise.store import runs as store_runs
from tierwise.store import schemes as store_schemes
from tierwise.store import users as store_users
from tierwise.store.overrides import Override
from tierwise.store.users import User

api = APIRouter(prefix="/api/v1")
# Ids fit the store's 32-bit integer columns; larger numbers are a 422, not a database error.
MAX_ID = 2**31 - 1
Id = Annotated[int, FastPath(ge=1, le=MAX_ID)]
Reader = Annotated[User, Depends(requires(access.READ))]
CustomerReader = Annotated[User, Depends(requires(access.READ_CUSTOMERS))]
Editor = Annotated[User, Depends(requires(access.EDIT_SCHEMES))]
Overrider = Annotated[User, Depends(requires(access.OVERRIDE))]
Auditor = Annotated[User, Depends(requires(access.READ_AUDIT))]


def expensive(request: Request, user: User) -> None:
    """Charge an expensive request (search, export, preview, run) to the caller's rate limits."""
    limits_of(request).check(EXPENSIVE, client=client_of(request), user=user.username)


# -- auth --------------------------------------------------------------------------------------


class Login(BaseModel):
    """Credentials."""

    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class Me(BaseModel):
    """The caller."""

    username: str
    display_name: str | None
    role: str
    csrf: str | None = None


@api.post("/auth/login", response_model=Me, tags=["auth"],
          responses={429: {"description": "too many login attempts from this address"}})
def login(body: Login, request: Request, response: Response) -> Me:
    """Log in with a password: sets the session cookie and returns the CSRF token."""
    client = client_of(request)
    limits_of(request).check(LOGIN, client=None, user=body.username)  # address: LoginThrottle
    settings = security_of(request)
    done = auth_service.log_in(store_of(request), settings, body.username, body.password,
                               client=client)
    response.set_cookie(SESSION_COOKIE, done.session_id, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https",
                        max_age=settings.session_hours * 3600)
    return Me(username=done.user.username, display_name=done.user.display_name,
              role=done.user.role, csrf=done.csrf)


@api.post("/auth/logout", status_code=204, tags=["auth"])
def logout(request: Request, response: Response,
           user: Annotated[User, Depends(current_user)]) -> None:
    """End the session."""
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        auth_service.log_out(store_of(request), sid, user)
    response.delete_cookie(SESSION_COOKIE)


@api.get("/me", response_model=Me, tags=["auth"])
def me(user: Annotated[User, Depends(current_user)]) -> Me:
    """Who the caller is."""
    return Me(username=user.username, display_name=user.display_name, role=user.role)


# -- users -------------------------------------------------------------------------------------

Admin = Annotated[User, Depends(requires(access.USERS))]
UserName = Annotated[str, FastPath(min_length=1, max_length=200)]


class UserOut(BaseModel):
    """A user (never a password hash)."""

    username: str
    display_name: str | None
    role: str
    disabled: bool


class UserChange(BaseModel):
    """A new role, or disabled / enabled; leave a field out to keep it."""

    role: str | None = Field(default=None, pattern="^(admin|supervisor|manager|auditor)$")
    disabled: bool | None = None


class SessionOut(BaseModel):
    """A live session; ``id`` is a public handle, never the cookie."""

    id: str
    username: str
    client: str | None
    created_at: str
    last_seen_at: str | None
    expires_at: str


class TokenOut(BaseModel):
    """An API token (never its secret)."""

    id: int
    username: str
    name: str
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked: bool


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _user_out(u: User) -> UserOut:
    return UserOut(username=u.username, display_name=u.display_name, role=u.role,
                   disabled=u.disabled)


def _actor(user: User) -> auth_service.Actor:
    return auth_service.Actor(user.username, user)


@api.get("/users", response_model=list[UserOut], tags=["users"])
def users_list(request: Request, user: Admin) -> list[UserOut]:
    """Every user and their role (admins)."""
    return [_user_out(u) for u in people.listing(store_of(request), _actor(user))]


@api.patch("/users/{username}", response_model=UserOut, tags=["users"])
def user_change(username: UserName, body: UserChange, request: Request, user: Admin) -> UserOut:
    """Change a user's role, or disable / enable them (their sessions end)."""
    store, actor = store_of(request), _actor(user)
    changed = None
    if body.role is not None:
        changed = people.set_role(store, actor, username, body.role)
    if body.disabled is not None:
        changed = people.set_disabled(store, actor, username, body.disabled)
    if changed is None:
        with store.connect() as conn:
            changed = store_users.by_name(conn, username)
    return _user_out(changed)


def _session_out(s: store_users.Session) -> SessionOut:
    return SessionOut(id=s.id, username=s.username, client=s.client,
                      created_at=s.created_at.isoformat(), last_seen_at=_iso(s.last_seen_at),
                      expires_at=s.expires_at.isoformat())


def _token_out(t: store_users.Token) -> TokenOut:
    return TokenOut(id=t.id, username=t.username, name=t.name,
                    created_at=t.created_at.isoformat(), expires_at=_iso(t.expires_at),
                    last_used_at=_iso(t.last_used_at), revoked=t.revoked_at is not None)


def _whose(user: User, username: str | None) -> str | None:
    """Whose sessions or tokens a listing shows.

    The user asked for; else everyone's for an admin, and the caller's own for anyone else.
    """
    if username is not None or access.allowed(user, access.USERS):
        return username
    return user.username


@api.get("/sessions", response_model=list[SessionOut], tags=["users"])
def sessions_list(request: Request, user: Annotated[User, Depends(current_user)],
                  username: Annotated[str | None, Query(max_length=200)] = None
                  ) -> list[SessionOut]:
    """Live sessions: your own, or (admins) any user's or everyone's."""
    who = _whose(user, username)
    return [_session_out(s) for s in people.sessions(store_of(request), _actor(user), who)]


@api.post("/sessions/{session_id}/revoke", response_model=SessionOut, tags=["users"])
def session_revoke(session_id: Annotated[str, FastPath(min_length=1, max_length=64)],
                   request: Request, user: Annotated[User, Depends(current_user)]
                   ) -> SessionOut:
    """End a session now: your own, or any as an admin."""
    return _session_out(people.revoke_session(store_of(request), _actor(user), session_id))


@api.get("/tokens", response_model=list[TokenOut], tags=["users"])
def tokens_list(request: Request, user: Annotated[User, Depends(current_user)],
                username: Annotated[str | None, Query(max_length=200)] = None
                ) -> list[TokenOut]:
    """API tokens: your own, or (admins) any user's or everyone's."""
    who = _whose(user, username)
    return [_token_out(t) for t in people.tokens(store_of(request), _actor(user), who)]


@api.post("/tokens/{token_id}/revoke", status_code=204, tags=["users"])
def token_revoke(token_id: Id, request: Request,
                 user: Annotated[User, Depends(current_user)]) -> None:
    """Revoke an API token now: your own, or any as an admin."""
    people.revoke_token(store_of(request), _actor(user), token_id)


# -- schemes -----------------------------------------------------------------------------------


class VersionOut(BaseModel):
    """A scheme version."""

    number: int
    fingerprint: str
    created_at: str
    created_by: str
    note: str | None
    active: bool
    spec: dict[str, Any]


class SchemeOut(BaseModel):
    """A scheme with its active version."""

    name: str
    active_version: int | None


@api.get("/schemes", response_model=list[SchemeOut], tags=["schemes"])
def schemes(request: Request, user: Reader) -> list[SchemeOut]:
    """Every scheme in the store and its active version."""
    with store_of(request).connect() as conn:
        out = []
        for name in store_schemes.scheme_names(conn):
            active = store_schemes.active_version(conn, name)
            out.append(SchemeOut(name=name, active_version=active.number if active else None))
    return out


@api.get("/schemes/{name}/versions", response_model=list[VersionOut], tags=["schemes"])
def versions(name: str, request: Request, response: Response, user: Reader
             ) -> list[VersionOut]:
    """The versions of a scheme, oldest first; the ETag names the latest for edits."""
    with store_of(request).connect() as conn:
        found = store_schemes.versions(conn, name)
        active = store_schemes.active_version(conn, name)
    response.headers["ETag"] = _scheme_etag(found[-1].number if found else None)
    return [VersionOut(number=v.number, fingerprint=v.fingerprint,
                       created_at=v.created_at.isoformat(), created_by=v.created_by, note=v.note,
                       active=active is not None and active.number == v.number, spec=v.spec)
            for v in found]


class Activate(BaseModel):
    """Which version, from when."""

    version: int = Field(ge=1, le=2**31 - 1)
    effective_from: date | None = None


@api.post("/schemes/{name}/activate", tags=["schemes"])
def activate(name: str, body: Activate, request: Request, user: Editor) -> dict[str, Any]:
    """Activate a version now, or schedule it from a date."""
    act = version_service.activate(store_of(request), name, body.version, actor=user.username,
                                   effective_from=body.effective_from)
    return {"version": act.version, "effective_from": act.effective_from, "kind": act.kind}


@api.post("/schemes/{name}/rollback", tags=["schemes"])
def rollback(name: str, request: Request, user: Editor) -> dict[str, Any]:
    """Re-activate the version that was active before the current one."""
    act = version_service.rollback(store_of(request), name, actor=user.username)
    return {"version": act.version, "effective_from": act.effective_from, "kind": act.kind}


class SchemeEdit(BaseModel):
    """An edited scheme, as in tierwise.yaml but as JSON."""

    spec: dict[str, Any]
    note: str | None = Field(default=None, max_length=4000)


def _scheme_etag(number: int | None) -> str:
    return f'"scheme-v{number or 0}"'


@api.post("/schemes/{name}/validate", tags=["schemes"])
def validate(name: str, body: SchemeEdit, request: Request, user: Editor) -> dict[str, Any]:
    """Check an edited scheme: every problem at once, with its field path."""
    version_service.with_scheme(project_of(request), name, body.spec)
    return {"ok": True, "issues": []}


@api.post("/schemes/{name}/versions", status_code=201, tags=["schemes"])
def save_version(name: str, body: SchemeEdit, request: Request, response: Response,
                 user: Editor, if_match: Annotated[str | None, Header(alias="If-Match")] = None
                 ) -> dict[str, Any]:
    """Save an edited scheme as a new version (not active until activated).

    Send ``If-Match`` with the ETag of the versions list the edit started from; 409 when a
    newer version was saved in between.
    """
    base = None
    if if_match:
        try:
            base = int(if_match.strip().strip('"').removeprefix("scheme-v")) or None
        except ValueError:
            raise errors.PreconditionFailed(f"If-Match {if_match!r} is not a scheme ETag"
                                            ) from None
    saved, created = version_service.save_edit(store_of(request), project_of(request), name,
                                               body.spec, actor=user.username, base=base,
                                               note=body.note)
    response.headers["ETag"] = _scheme_etag(saved.number)
    return {"number": saved.number, "created": created, "fingerprint": saved.fingerprint}


class PreviewIn(BaseModel):
    """Which version to compare with the active one."""

    version: int = Field(ge=1, le=2**31 - 1)
    as_of: date | None = None


@api.post("/schemes/{name}/preview", tags=["schemes"])
def preview(name: str, body: PreviewIn, request: Request, user: Editor) -> dict[str, Any]:
    """Grade a version and the active one on the same data: counts, matrix, samples."""
    expensive(request, user)
    p = history_service.preview(project_of(request), name, candidate=body.version,
                                as_of=body.as_of, actor=user.username,
                                timeout=security_of(request).preview_timeout_seconds)
    moves = p.transitions
    return {"as_of": p.as_of, "active": p.active, "candidate": p.candidate,
            "headline": moves.headline(), "counts": moves.counts, "tiers": p.tiers,
            "matrix": moves.matrix(p.tiers),
            "samples": [{"from": k[0], "to": k[1], "customers": v}
                        for k, v in moves.samples.items()]}


# -- runs --------------------------------------------------------------------------------------


class TierCountOut(BaseModel):
    """Customers of one tier in a run."""

    tier: str
    tier_rank: int
    customers: int
    computed: int
    held: int
    overridden: int
    value_sum: float | None
    entered: int
    left: int


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


@api.get("/schemes/{name}/runs", response_model=list[RunOut], tags=["runs"])
def runs(name: str, request: Request, user: Reader) -> list[RunOut]:
    """A scheme's runs that make its history, by as-of date."""
    with store_of(request).connect() as conn:
        found = store_runs.history_runs(conn, name)
    return [_run_out(r) for r in found]


def _run_out(r: store_runs.Run, tiers: list[store_runs.TierCount] | None = None) -> RunOut:
    return RunOut(id=r.id, scheme=r.scheme, version=r.version, as_of=r.as_of, status=r.status,
                  official=r.official, customers=r.customers, started_by=r.started_by,
                  error=r.error, tiers=[TierCountOut(**t.__dict__) for t in tiers or []])


@api.get("/runs/{run_id}", response_model=RunOut, tags=["runs"])
def run_summary(run_id: Id, request: Request, user: Reader) -> RunOut:
    """A run's summary: customers per tier, by how they got it, and any fitted model."""
    s = history_service.summary(store_of(request), run_id)
    out = _run_out(s.run, s.tiers)
    out.model = [ModelLineOut(label=a, text=b) for a, b in history_service.fitted_model(s.run)]
    return out


@api.get("/runs/{run_id}/transitions", tags=["runs"])
def run_transitions(run_id: Id, request: Request, user: Reader,
                    since: Annotated[int | None, Query(alias="from", ge=1, le=MAX_ID)] = None,
                    limit: Annotated[int, Query(ge=0, le=500)] = 20) -> dict[str, Any]:
    """Moves from the previous run (or run ``from``) to this one: matrix, counts, movers."""
    store = store_of(request)
    with store.connect() as conn:
        new = store_runs.get(conn, run_id)
        old = store_runs.get(conn, since) if since else None
    old = old or history_service.previous_run(store, new)
    # A manager sees the counts, but only their own customers among the movers.
    moves = history_service.compare_runs(store, old, new, limit=limit,
                                         movers_of=access.visible_customers(store, user))
    return {"from_run": old.id, "to_run": new.id, "counts": moves.counts,
            "cells": [c.__dict__ for c in moves.cells], "movers": moves.movers}


# -- customers ---------------------------------------------------------------------------------


@api.get("/customers/{customer_id}", tags=["customers"])
def customer(customer_id: str, scheme: str, request: Request, user: CustomerReader,
             as_of: date | None = None) -> dict[str, Any]:
    """One customer: grade, reasons, gap to the next tier, indicators, history, overrides."""
    store = store_of(request)
    access.require_customer(store, user, customer_id)
    found = detail(project_of(request), store, scheme, customer_id, as_of=as_of)
    access.log_read(store, user, "customer.read", "customer", customer_id,
                    client=client_of(request), detail={"scheme": scheme})
    return {
        "customer_id": customer_id, "scheme": scheme, "as_of": found.explanation.as_of,
        "grade": found.explanation.grade, "indicators": found.explanation.indicators,
        "history": [s.__dict__ for s in found.history],
        "overrides": [_override_out(o) for o in found.overrides],
    }


@api.get("/customers", tags=["customers"])
def customers(request: Request, user: CustomerReader, scheme: str,
              tier: str | None = None, q: Annotated[str | None, Query(max_length=200)] = None,
              where: Annotated[str | None, Query(max_length=2000)] = None,
              as_of: date | None = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 50,
              offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> dict[str, Any]:
    """Search a run's customers: by tier, id prefix ``q`` and a condition on indicators."""
    expensive(request, user)
    store = store_of(request)
    page = search(store, scheme, tier=tier, prefix=q, where=where, as_of=as_of,
                  visible=access.visible_customers(store, user), limit=limit, offset=offset,
                  timeout=security_of(request).search_timeout_seconds)
    access.log_read(store, user, "customers.searched", "scheme", scheme,
                    client=client_of(request),
                    detail={"tier": tier, "q": q, "where": where, "as_of": as_of,
                            "rows": len(page.rows), "total": page.total})
    return {"total": page.total, "limit": limit, "offset": offset, "rows": page.rows}


@api.get("/runs/{run_id}/export", tags=["runs"])
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


@api.post("/runs", status_code=202, tags=["runs"])
def start_run(body: StartRun, request: Request,
              user: Annotated[User, Depends(requires(access.RUN))]) -> dict[str, Any]:
    """Start a recorded run in the background; poll ``/jobs/{id}`` for its progress."""
    expensive(request, user)
    jobs: Jobs = request.app.state.jobs
    started = jobs.start(project_of(request), body.schemes, as_of=body.as_of, force=body.force,
                         actor=user.username)
    return started.view()


@api.get("/jobs/{job_id}", tags=["runs"])
def job(job_id: str, request: Request, user: Reader) -> dict[str, Any]:
    """A background run: its steps so far, then its runs or its error."""
    jobs: Jobs = request.app.state.jobs
    return jobs.get(job_id).view()


# -- overrides ---------------------------------------------------------------------------------


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


def _override_out(o: Override) -> dict[str, Any]:
    return {**o.__dict__, "created_at": o.created_at.isoformat(),
            "decided_at": o.decided_at.isoformat() if o.decided_at else None}


def _etag(o: Override) -> str:
    return f'"override-{o.id}-{o.revision}"'


def _revision(if_match: str | None, override_id: int) -> int:
    """The revision an ``If-Match`` header names; writes without one are refused."""
    if not if_match:
        raise errors.PreconditionFailed(
            f"send If-Match with the ETag of override #{override_id} you read, so a change "
            "made by someone else in between is not overwritten")
    try:
        return int(if_match.strip().strip('"').rsplit("-", 1)[1])
    except (IndexError, ValueError):
        raise errors.PreconditionFailed(f"If-Match {if_match!r} is not an ETag of override "
                                        f"#{override_id}") from None


@api.get("/overrides", tags=["overrides"])
def overrides(request: Request, user: CustomerReader, scheme: str | None = None,
              status: str | None = None) -> list[dict[str, Any]]:
    """Overrides, newest first (status=pending: the approval queue)."""
    store = store_of(request)
    with store.connect() as conn:
        found = store_overrides.listing(conn, scheme=scheme, status=status)
    visible = access.visible_customers(store, user)
    return [_override_out(o) for o in found if visible is None or o.customer_id in visible]


def _visible_override(store: Store, user: User, override_id: int) -> Override:
    with store.connect() as conn:
        found = store_overrides.get(conn, override_id)
    try:
        access.require_customer(store, user, found.customer_id)
    except NotFoundError:
        raise NotFoundError(f"no override #{override_id}") from None
    return found


@api.get("/overrides/{override_id}", tags=["overrides"])
def override(override_id: Id, request: Request, response: Response,
             user: CustomerReader) -> dict[str, Any]:
    """One override, with its ETag."""
    found = _visible_override(store_of(request), user, override_id)
    response.headers["ETag"] = _etag(found)
    return _override_out(found)


@api.post("/overrides", status_code=201, tags=["overrides"])
def create_override(body: OverrideIn, request: Request, response: Response,
                    user: Overrider) -> dict[str, Any]:
    """Override one customer's grade, with a reason (pending when the scheme needs approval)."""
    access.require_customer(store_of(request), user, body.customer_id)
    made = override_service.create(project_of(request), body.scheme, body.customer_id,
                                   kind=body.kind, tier=body.tier, reason=body.reason,
                                   actor=user.username, valid_from=body.valid_from,
                                   expires=body.expires, store=store_of(request))
    response.headers["ETag"] = _etag(made)
    return _override_out(made)


def _decide(action: str, override_id: Id, body: Decision, request: Request,
            response: Response, user: User, if_match: str | None) -> dict[str, Any]:
    store = store_of(request)
    with store.connect() as conn:
        found = store_overrides.get(conn, override_id)
    access.require_decision(store, user, found, action)
    revision = _revision(if_match, override_id)
    if revision != found.revision:
        raise errors.PreconditionFailed(
            f"override #{override_id} changed since you read it (revision {revision}, now "
            f"{found.revision}); reload it and decide again")
    done = getattr(override_service, action)(project_of(request), override_id, note=body.note,
                                             actor=user.username, revision=revision,
                                             store=store)
    response.headers["ETag"] = _etag(done)
    return _override_out(done)


IfMatch = Annotated[str | None, Header(alias="If-Match")]


@api.post("/overrides/{override_id}/approve", tags=["overrides"])
def approve(override_id: Id, body: Decision, request: Request, response: Response,
            user: Overrider, if_match: IfMatch = None) -> dict[str, Any]:
    """Approve a pending override (never its author)."""
    return _decide("approve", override_id, body, request, response, user, if_match)


@api.post("/overrides/{override_id}/reject", tags=["overrides"])
def reject(override_id: Id, body: Decision, request: Request, response: Response,
           user: Overrider, if_match: IfMatch = None) -> dict[str, Any]:
    """Reject a pending override (never its author)."""
    return _decide("reject", override_id, body, request, response, user, if_match)


@api.post("/overrides/{override_id}/revoke", tags=["overrides"])
def revoke(override_id: Id, body: Decision, request: Request, response: Response,
           user: Overrider, if_match: IfMatch = None) -> dict[str, Any]:
    """End an override now (its author, or a supervisor)."""
    return _decide("revoke", override_id, body, request, response, user, if_match)


# -- audit -------------------------------------------------------------------------------------


@api.get("/audit", tags=["audit"])
def audit_events(request: Request, user: Auditor,
                 object_type: str | None = None, object_id: str | None = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> list[dict[str, Any]]:
    """Audit events, newest first."""
    with store_of(request).connect() as conn:
        found = audit.events(conn, object_type=object_type, object_id=object_id, limit=limit,
                             offset=offset)
    return [{**e.__dict__, "at": e.at.isoformat()} for e in found]


@api.get("/audit/verify", tags=["audit"])
def audit_verify(request: Request, user: Auditor) -> dict[str, Any]:
    """Check the audit log's hash chain."""
    with store_of(request).connect() as conn:
        report = audit.verify(conn)
    return {"ok": report.ok, "events": report.events,
            "problems": [p._asdict() for p in report.problems]}


def create_app(project_path: str | Path = ".") -> FastAPI:
    """The app serving the project at ``project_path`` and its store."""
    project = Project.open(project_path)
    # No /docs or /redoc: FastAPI's pages load their scripts from a CDN, and nothing here may
    # load from a network at runtime. The schema is at /openapi.json.
    app = FastAPI(title="tierwise", version="1", openapi_url="/openapi.json", docs_url=None,
                  redoc_url=None,
                  description="Customer tiers: schemes, runs, customers, overrides, audit.")

    @app.middleware("http")
    async def _security_headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        headers = response.headers
        # Pages use only our own stylesheet and inline SVG: nothing else may load or frame them.
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        # Everything but the stylesheet carries customer data or a session's view of it: no
        # browser or proxy may keep a copy (exports included).
        if not request.url.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        if request.url.scheme == "https":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    app.state.project = project
    app.state.store = open_store(project)
    app.state.jobs = Jobs()
    app.state.limiter = limiter_for(project.spec.security)
    app.add_middleware(BodyLimit, max_bytes=project.spec.security.max_body_kb * 1024)
    app.add_middleware(LoginThrottle, limiter=app.state.limiter)  # outermost: runs first
    errors.install(app)
    app.include_router(api)
    web.install(app)
    return app


PROJECT_ENV = "TIERWISE_PROJECT"


def create_app_from_env() -> FastAPI:
    """The app for the project named by ``TIERWISE_PROJECT`` (for server worker processes)."""
    import os

    return create_app(os.environ.get(PROJECT_ENV, "."))
