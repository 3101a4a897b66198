"""Who is looking at a page: the session cookie the API's login sets, and CSRF on forms.

The dashboard shares the ``tw_session`` cookie with the REST API (both read it through
``store.users``), so logging in on either works for both. Every form posts the session's CSRF
token in a hidden ``csrf`` field; the login form, made before any session exists, uses a
double-submit token kept in its own short-lived cookie.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, Request, Response

from tierwise.http.clients import client_of, security_of, serve_as, store_of
from tierwise.http.limits import LOGIN, limits_of
from tierwise.services import auth as auth_service
from tierwise.services.records import User

SESSION_COOKIE = "tw_session"  # the same cookie as the REST API's /auth/login
LOGIN_COOKIE = "tw_login_csrf"
MAX_FORM = 64 * 1024


class LoginRequired(Exception):
    """No session: the app sends the browser to the login form."""


class CsrfRefused(Exception):
    """A form without the session's CSRF token: the app answers 403 with a page saying so."""

    def __init__(self, viewer: Viewer | None) -> None:
        super().__init__("the form's CSRF token is missing or wrong")
        self.viewer = viewer


@dataclass(frozen=True)
class Viewer:
    """The logged-in user of a page, the session's CSRF token, and a posted form's fields."""

    user: User
    csrf: str
    form: dict[str, str] = field(default_factory=dict)


async def form_of(request: Request) -> dict[str, str]:
    """A URL-encoded form's fields (the last value of each); other bodies give no fields."""
    if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"):
        return {}
    body = await request.body()
    if len(body) > MAX_FORM:
        return {}
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in fields.items()}


def page_user(request: Request) -> tuple[User, str] | None:
    """The logged-in user and their session's CSRF token, or None."""
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        return None
    store = store_of(request)
    found = auth_service.session_of(store, security_of(request), sid[:200])
    if found is not None:
        serve_as(request, found[0])
    return found


def viewer(request: Request) -> Viewer:
    """The page's user (a dependency); :class:`LoginRequired` without a session."""
    found = page_user(request)
    if found is None:
        raise LoginRequired
    return Viewer(*found)


async def poster(request: Request) -> Viewer:
    """The user of a posted form with its fields (a dependency), after the CSRF check."""
    who = viewer(request)
    form = await form_of(request)
    if not csrf_ok(form.get("csrf"), who.csrf):
        raise CsrfRefused(who)
    return Viewer(who.user, who.csrf, form)


Page = Annotated[Viewer, Depends(viewer)]
Posted = Annotated[Viewer, Depends(poster)]


def csrf_ok(sent: str | None, expected: str | None) -> bool:
    """Whether a form's token matches, compared in constant time."""
    return bool(sent) and bool(expected) and hmac.compare_digest(str(sent), str(expected))


def new_login_token() -> str:
    """A fresh token for the login form."""
    return secrets.token_urlsafe(24)


def log_in(request: Request, username: str, password: str) -> str:
    """Check the password and open a session; returns the session id for the cookie.

    Raises:
        RateLimited: too many attempts from this address (nothing was checked).
        PermissionDenied: wrong name or password, or locked out (``LockedOut``).

    """
    client = client_of(request)
    # The address was charged by the LoginThrottle middleware already.
    limits_of(request).check(LOGIN, client=None, user=username[:200])
    done = auth_service.log_in(store_of(request), security_of(request), username[:200],
                               password[:1000], client=client)
    return done.session_id


def log_out(request: Request, user: User | None = None) -> None:
    """End the caller's session, if any."""
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        auth_service.log_out(store_of(request), sid[:200], user)


def set_cookie(response: Response, request: Request, name: str, value: str, *,
               max_age: int) -> None:
    """Set a cookie with the API's flags: HTTP-only, same-site strict, secure on HTTPS."""
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
