"""The language of each request, made current for everything that answers it.

The REST API answers in the language of the client's ``Accept-Language``; the dashboard in the
one the user picked in its switcher (``?lang=``, then remembered in the ``tw_lang`` cookie), else
the browser's ``Accept-Language``. When neither says anything useful, the project's
``language:`` applies. :class:`Language` is an ASGI middleware: it sets the language around the
whole request, so routes, dependencies and error handlers all see it, including the sync routes
FastAPI runs in its thread pool (the pool copies the request's context).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from tierwise import i18n

LANG_COOKIE = "tw_lang"
LANG_PARAM = "lang"


def language_of(conn: HTTPConnection, default: str = i18n.DEFAULT) -> str:
    """The language of a request: a page's pick or kept choice, else the client's, else ``default``.

    API requests (``/api/...``) follow only ``Accept-Language``: a program's answers must not
    change with a cookie a browser set on the dashboard.
    """
    if not conn.url.path.startswith("/api/"):
        picked = i18n.normalize(conn.query_params.get(LANG_PARAM)) or i18n.normalize(
            conn.cookies.get(LANG_COOKIE))
        if picked is not None:
            return picked
    return i18n.negotiate(conn.headers.get("accept-language"), default)


def picked_language(conn: HTTPConnection) -> str | None:
    """The language a page's switcher asked for (``?lang=``), None when it asked for none."""
    return i18n.normalize(conn.query_params.get(LANG_PARAM))


class Language:
    """ASGI middleware: every HTTP request runs in its language (:func:`language_of`)."""

    def __init__(self, app: ASGIApp, *, default: str = i18n.DEFAULT) -> None:
        self.app = app
        self.default = i18n.resolve(default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its language current."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with i18n.use(language_of(HTTPConnection(scope), self.default)):
            await self.app(scope, receive, send)

