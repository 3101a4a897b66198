"""User management: add users, roles, disable and enable, passwords, tokens, sessions.

Every function takes the acting :class:`~tierwise.services.auth.Actor` (from a login, a token, or
the local operator of a store without users) and refuses unless it may manage users, so the REST
API and the command line apply the same rule. The local operator of a store that already has
users may only make an admin, and only while no enabled admin exists (a recovery); that act is
audited as ``user.bootstrap`` under ``local:<os user>``.
"""

from __future__ import annotations

from tierwise.errors import PermissionDenied
from tierwise.i18n import _
from tierwise.services import access
from tierwise.services.auth import Actor
from tierwise.store import Store
from tierwise.store.users import Session, Token, User


def _require(actor: Actor) -> None:
    if actor.user is not None:
        access.require(actor.user, access.USERS)


def add(store: Store, actor: Actor, username: str, *, role: str, password: str,
        display_name: str | None = None) -> User:
    """Add a user with a role and a password."""
    _require(actor)
    with store.write() as tx:
        recovering = actor.local and tx.users.has_users()
        if recovering and role != "admin":
            raise PermissionDenied(
                _("without a login, this command can only make an admin, and only while the "
                  "store has no enabled admin; log in as an admin (`tierwise login`) to add "
                  "other users"))
        made = tx.users.create(username, role=role, password=password,
                                  actor=actor.name, display_name=display_name)
        if actor.local:
            tx.audit.append(actor=actor.name, action="user.bootstrap", object_type="user",
                         object_id=made.username,
                         after={"role": role, "recovery": recovering,
                                "why": "made by the local operator, not by a logged-in user"})
    return made


def set_password(store: Store, actor: Actor, username: str, password: str) -> None:
    """Replace a user's password (their sessions end). A user may set their own."""
    if actor.user is None or actor.user.username != username:
        _require(actor)
    with store.write() as tx:
        tx.users.set_password(username, password, actor=actor.name)


def set_role(store: Store, actor: Actor, username: str, role: str) -> User:
    """Give a user another role; their sessions end."""
    _require(actor)
    with store.write() as tx:
        return tx.users.set_role(username, role, actor=actor.name)


def set_disabled(store: Store, actor: Actor, username: str, disabled: bool) -> User:
    """Disable a user (sessions end, tokens stop) or enable them again."""
    _require(actor)
    if disabled and actor.user is not None and actor.user.username == username:
        raise PermissionDenied(_("you cannot disable yourself; ask another admin"))
    with store.write() as tx:
        return tx.users.set_disabled(username, disabled, actor=actor.name)


def new_token(store: Store, actor: Actor, username: str, name: str, *,
              days: int | None) -> tuple[int, str]:
    """Issue an API token (its id and secret, shown once) that ends after ``days``."""
    _require(actor)
    with store.write() as tx:
        return tx.users.new_token(username, name, actor=actor.name, days=days)


def revoke_token(store: Store, actor: Actor, token_id: int) -> None:
    """Revoke an API token: an admin any, a user their own."""
    with store.read() as tx:
        owned = [t for t in tx.users.tokens() if t.id == token_id]
    if actor.user is None or not owned or owned[0].username != actor.user.username:
        _require(actor)
    with store.write() as tx:
        tx.users.revoke_token(token_id, actor=actor.name)


def tokens(store: Store, actor: Actor, username: str | None = None) -> list[Token]:
    """API tokens (never their secrets): an admin sees any user's, a user their own."""
    if actor.user is None or username != actor.user.username:
        _require(actor)
    with store.read() as tx:
        return tx.users.tokens(username)


def sessions(store: Store, actor: Actor, username: str | None = None) -> list[Session]:
    """Live sessions: an admin sees any user's, a user their own."""
    if actor.user is None or username != actor.user.username:
        _require(actor)
    with store.read() as tx:
        return tx.users.session_list(username)


def revoke_session(store: Store, actor: Actor, session_id: str) -> Session:
    """End a session: an admin any, a user their own."""
    with store.read() as tx:
        own = actor.user is not None and any(
            s.id == session_id.strip().lower()
            for s in tx.users.session_list(actor.user.username))
    if not own:
        _require(actor)
    with store.write() as tx:
        return tx.users.revoke_session(session_id, actor=actor.name)


def assign(store: Store, actor: Actor, customer_ids: list[str], username: str) -> int:
    """Assign customers to a manager: an admin or a supervisor (``access.ASSIGN``)."""
    if actor.user is not None:
        access.require(actor.user, access.ASSIGN)
    with store.write() as tx:
        return tx.users.assign(customer_ids, username, actor=actor.name)


def managers(store: Store, actor: Actor) -> list[User]:
    """The users with the manager role, for those who assign customers to them."""
    if actor.user is not None:
        access.require(actor.user, access.ASSIGN)
    with store.read() as tx:
        return [u for u in tx.users.listing() if u.role == "manager"]


def listing(store: Store, actor: Actor) -> list[User]:
    """Every user."""
    _require(actor)
    with store.read() as tx:
        return tx.users.listing()


def get(store: Store, actor: Actor, username: str) -> User:
    """The user named ``username``."""
    _require(actor)
    with store.read() as tx:
        return tx.users.by_name(username)
