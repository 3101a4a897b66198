"""The dashboard: server-rendered pages over the services, served by the API's FastAPI app."""

from __future__ import annotations

from starlette.staticfiles import StaticFiles

from tierwise.web.pages import STATIC
from tierwise.web.routes import router

__all__ = ["router", "static_files"]


def static_files() -> StaticFiles:
    """The dashboard's own CSS, to mount at ``/static``."""
    return StaticFiles(directory=STATIC)
