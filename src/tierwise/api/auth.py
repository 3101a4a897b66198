"""Who is calling: a session cookie (with a CSRF token on writes) or a bearer API token."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Depends, Request

from tierwise.errors import PermissionDenied
from tierwise.http.clients import client_of, security_of, serve_as, store_of
from tierwise.http.errors import Unauthenticated
from tierwise.i18n import _
from tierwise.services import access
from tierwise.services import auth as auth_service
from tierwise.services.records import User

SESSION_COOKIE = "tw_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def current_user(request: Request) -> User:
    """The caller, from ``Authorization: Bearer <token>`` or the session cookie.

    Cookie-authenticated writes must echo the session's CSRF token in ``X-CSRF-Token``: a page
    on another site can make the browser send the cookie, but cannot read the token.
    """
    store = store_of(request)
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        user = auth_service.token_of(store, header[7:].strip()[:200], client=client_of(request))
        if user is None:
            raise Unauthenticated(_("the API token is unknown, expired or revoked"))
        request.state.user = user
        serve_as(request, user)
        return user
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        found = auth_service.session_of(store, security_of(request), sid[:200])
        if found is not None:
            user, csrf = found
            if request.method not in _SAFE and not hmac.compare_digest(
                    request.headers.get(CSRF_HEADER, ""), csrf):
                raise PermissionDenied(_(
                    "missing or wrong {header} header; send the token /auth/login gave").format(
                    header=CSRF_HEADER))
            request.state.user = user
            serve_as(request, user)
            return user
    raise Unauthenticated(_("log in (POST /api/v1/auth/login) or send an API token"))


def requires(action: str) -> Callable[[User], User]:
    """A dependency giving the caller, refused unless their role may do ``action``."""

    def check(user: User = Depends(current_user)) -> User:  # noqa: B008
        access.require(user, action)
        return user

    return check
