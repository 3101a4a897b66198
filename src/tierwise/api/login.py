"""``/auth``: log in with a password (a session cookie and a CSRF token), log out, who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from tierwise.api.auth import SESSION_COOKIE, current_user
from tierwise.http.clients import client_of, security_of, store_of
from tierwise.http.limits import LOGIN, limits_of
from tierwise.services import auth as auth_service
from tierwise.services.records import User

router = APIRouter(tags=["auth"])


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


@router.post("/auth/login", response_model=Me,
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


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response,
           user: Annotated[User, Depends(current_user)]) -> None:
    """End the session."""
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        auth_service.log_out(store_of(request), sid, user)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/me", response_model=Me)
def me(user: Annotated[User, Depends(current_user)]) -> Me:
    """Who the caller is."""
    return Me(username=user.username, display_name=user.display_name, role=user.role)
