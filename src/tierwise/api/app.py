"""The FastAPI application: ``/api/v1`` over the services, OpenAPI at ``/openapi.json``.

Every route authenticates the caller, checks the role for the action and, for customer data,
that a manager's customer is theirs; then it calls one service and shapes its answer. The routes
live in one router a resource (:mod:`tierwise.api.login`, ``users``, ``schemes``, ``runs``,
``customers``, ``overrides``, ``audit``); this module assembles them with the dashboard.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from tierwise import web
from tierwise.api import (
    actions,
    audit,
    customers,
    documents,
    errors,
    linkage,
    login,
    overrides,
    results,
    runs,
    scheme_admin,
    schemes,
    users,
)
from tierwise.http.language import Language
from tierwise.http.limits import BodyLimit, LoginThrottle, limiter_for
from tierwise.http.visibility import Visibility
from tierwise.services.grading import Project
from tierwise.services.jobs import Jobs
from tierwise.services.runs import open_store
from tierwise.services.schedules import Scheduler

api = APIRouter(prefix="/api/v1")
for _resource in (login, users, schemes, scheme_admin, documents, runs, customers, overrides,
                  audit, results, actions, linkage):
    api.include_router(_resource.router)


SCHEDULER_ENV = "TIERWISE_SCHEDULER"


def _with_scheduler(project: Project, enabled: bool | None) -> Any:
    """The app's lifespan: a thread runs the store's due schedules while the app serves."""
    import os

    if enabled is None:
        enabled = os.environ.get(SCHEDULER_ENV, "on").lower() not in ("off", "0", "false", "no")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runner = Scheduler(project, app.state.store) if enabled else None
        if runner is not None:
            runner.start()
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()

    return lifespan


def create_app(project_path: str | Path = ".", *, scheduler: bool | None = None) -> FastAPI:
    """The app serving the project at ``project_path`` and its store.

    While it serves, a thread runs the store's due schedules (:mod:`tierwise.services.schedules`)
    unless ``scheduler`` is False (default: on, unless ``TIERWISE_SCHEDULER=off``).
    """
    project = Project.open(project_path)
    # No /docs or /redoc: FastAPI's pages load their scripts from a CDN, and nothing here may
    # load from a network at runtime. The schema is at /openapi.json.
    app = FastAPI(title="tierwise", version="1", openapi_url="/openapi.json", docs_url=None,
                  redoc_url=None, lifespan=_with_scheduler(project, scheduler),
                  description="Customer tiers: schemes, runs, customers, overrides, audit.")

    @app.middleware("http")
    async def _security_headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        headers = response.headers
        # Pages load only our own styles and scripts (Bootstrap from the installed package, our
        # files under /static/js): no inline script, no CDN; nothing else may load or frame them.
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
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
    app.add_middleware(LoginThrottle, limiter=app.state.limiter)
    app.add_middleware(Visibility)
    # Outermost: every answer, a throttled login's included, speaks the request's language.
    app.add_middleware(Language, default=project.spec.language)
    errors.install(app)
    app.include_router(api)
    web.install(app)
    return app


PROJECT_ENV = "TIERWISE_PROJECT"


def create_app_from_env() -> FastAPI:
    """The app for the project named by ``TIERWISE_PROJECT`` (for server worker processes)."""
    import os

    return create_app(os.environ.get(PROJECT_ENV, "."))
