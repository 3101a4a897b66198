"""Each HTTP request's own scope of hidden (confidential) schemes."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from tierwise.services.access import request_scope


class Visibility:
    """ASGI middleware: each HTTP request gets its own scope of hidden schemes.

    Whoever authenticates the request then hides the confidential schemes its user may not see
    (:func:`tierwise.services.access.enter`); without this scope, that call fails rather than
    showing everything.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request in a fresh scope."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with request_scope():
            await self.app(scope, receive, send)
