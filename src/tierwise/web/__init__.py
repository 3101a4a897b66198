"""The dashboard: server-rendered pages over the services, served by the API's FastAPI app."""

from __future__ import annotations

from tierwise.web.routes import install, router

__all__ = ["install", "router"]
