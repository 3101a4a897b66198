"""``/users``, ``/sessions``, ``/tokens``: users and roles (admins), sessions and API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as FastPath
from pydantic import BaseModel, Field

from tierwise.api.auth import current_user
from tierwise.api.deps import Admin, Id, iso
from tierwise.http.clients import store_of
from tierwise.services import access, people
from tierwise.services import auth as auth_service
from tierwise.services.records import Session, Token, User

router = APIRouter(tags=["users"])
UserName = Annotated[str, FastPath(min_length=1, max_length=200)]
Caller = Annotated[User, Depends(current_user)]


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


def _user_out(u: User) -> UserOut:
    return UserOut(username=u.username, display_name=u.display_name, role=u.role,
                   disabled=u.disabled)


def _actor(user: User) -> auth_service.Actor:
    return auth_service.Actor(user.username, user)


@router.get("/users", response_model=list[UserOut])
def users_list(request: Request, user: Admin) -> list[UserOut]:
    """Every user and their role (admins)."""
    return [_user_out(u) for u in people.listing(store_of(request), _actor(user))]


@router.patch("/users/{username}", response_model=UserOut)
def user_change(username: UserName, body: UserChange, request: Request, user: Admin) -> UserOut:
    """Change a user's role, or disable / enable them (their sessions end)."""
    store, actor = store_of(request), _actor(user)
    changed = None
    if body.role is not None:
        changed = people.set_role(store, actor, username, body.role)
    if body.disabled is not None:
        changed = people.set_disabled(store, actor, username, body.disabled)
    return _user_out(changed or people.get(store, actor, username))


def _session_out(s: Session) -> SessionOut:
    return SessionOut(id=s.id, username=s.username, client=s.client,
                      created_at=s.created_at.isoformat(), last_seen_at=iso(s.last_seen_at),
                      expires_at=s.expires_at.isoformat())


def _token_out(t: Token) -> TokenOut:
    return TokenOut(id=t.id, username=t.username, name=t.name,
                    created_at=t.created_at.isoformat(), expires_at=iso(t.expires_at),
                    last_used_at=iso(t.last_used_at), revoked=t.revoked_at is not None)


def _whose(user: Caller, username: Annotated[str | None, Query(max_length=200)] = None
           ) -> str | None:
    """Whose sessions or tokens a listing shows (a dependency reading ``?username=``).

    The user asked for; else everyone's for an admin, and the caller's own for anyone else.
    """
    if username is not None or access.allowed(user, access.USERS):
        return username
    return user.username


Whose = Annotated[str | None, Depends(_whose)]


@router.get("/sessions", response_model=list[SessionOut])
def sessions_list(request: Request, user: Caller, who: Whose) -> list[SessionOut]:
    """Live sessions: your own, or (admins) any user's or everyone's."""
    return [_session_out(s) for s in people.sessions(store_of(request), _actor(user), who)]


@router.post("/sessions/{session_id}/revoke", response_model=SessionOut)
def session_revoke(session_id: Annotated[str, FastPath(min_length=1, max_length=64)],
                   request: Request, user: Caller) -> SessionOut:
    """End a session now: your own, or any as an admin."""
    return _session_out(people.revoke_session(store_of(request), _actor(user), session_id))


@router.get("/tokens", response_model=list[TokenOut])
def tokens_list(request: Request, user: Caller, who: Whose) -> list[TokenOut]:
    """API tokens: your own, or (admins) any user's or everyone's."""
    return [_token_out(t) for t in people.tokens(store_of(request), _actor(user), who)]


@router.post("/tokens/{token_id}/revoke", status_code=204)
def token_revoke(token_id: Id, request: Request, user: Caller) -> None:
    """Revoke an API token now: your own, or any as an admin."""
    people.revoke_token(store_of(request), _actor(user), token_id)
