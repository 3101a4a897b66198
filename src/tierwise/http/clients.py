"""Who is asking: the client's address, the app's store, project and security settings."""

from __future__ import annotations

from fastapi import Request

from tierwise.services.grading import Project
from tierwise.services.records import Store, User
from tierwise.spec.models import SecuritySpec


def store_of(request: Request) -> Store:
    """The store the app serves."""
    store: Store = request.app.state.store
    return store


def project_of(request: Request) -> Project:
    """The project the app serves, as the request's user sees it.

    A confidential scheme the user may not see is not in it.
    """
    project: Project = request.app.state.project
    return project.as_seen()


def security_of(request: Request) -> SecuritySpec:
    """The project's sign-in and request limits."""
    return project_of(request).spec.security


def client_of(request: Request) -> str:
    """The client's address, as the server saw it.

    Behind a reverse proxy, ``tierwise serve`` has the server read ``X-Forwarded-For`` from the
    proxies in the project's ``security.trusted_proxies`` only (uvicorn's proxy headers), so a
    client cannot choose its address by sending the header itself.
    """
    return (request.client.host if request.client else "unknown")[:100]


def serve_as(request: Request, user: User) -> None:
    """Serve the rest of ``request`` as ``user`` sees the store and the project.

    The confidential schemes they may not see, in the store or in tierwise.yaml, are missing.
    """
    from tierwise.services import access

    project: Project = request.app.state.project
    access.enter(store_of(request), user, access.declared_confidential(project.spec.schemes))
