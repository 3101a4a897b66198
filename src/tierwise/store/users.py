"""Users, roles, passwords, API tokens, sessions and manager assignments in the store.

Passwords are hashed with scrypt (``hashlib``: memory-hard, no extra dependency), with a random
salt per password; checks compare in constant time. API tokens and session ids are random 256-bit
secrets shown once and stored only as their sha256, so a copy of the store lets no one in.
Failed logins are counted per user name and per client address (``login_failures``); the
login use case (``services.auth``) records them in a transaction of their own and refuses a locked
name or address. Sessions end after a fixed time and when idle; tokens expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa

from tierwise.errors import ConflictError, NotFoundError, PermissionDenied, StoreError
from tierwise.i18n import _
from tierwise.store import audit
from tierwise.store.schemes import now
from tierwise.store.tables import api_tokens, assignments, login_failures, sessions, users

ROLES = ("admin", "supervisor", "manager", "auditor", "compliance")
# scrypt cost: 2^15 x 8 x 128 bytes = 32 MiB and about 0.1 s per check on this machine.
_N, _R, _P = 2**15, 8, 1
SESSION_HOURS = 12


@dataclass(frozen=True)
class User:
    """A person who uses tierwise, with one role."""

    id: int
    username: str
    display_name: str | None
    role: str
    disabled: bool
    revision: int


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password`` in the form ``scrypt$n$r$p$salt$hash``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P,
                            maxmem=64 * 1024 * 1024, dklen=32)
    enc = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${enc(salt).decode()}${enc(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches the stored hash (constant-time comparison)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        computed = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt),
                                  n=int(n), r=int(r), p=int(p), maxmem=64 * 1024 * 1024,
                                  dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _user(row: sa.Row[Any]) -> User:
    return User(row.id, row.username, row.display_name, row.role, row.disabled, row.revision)


def _check_password_rules(password: str) -> None:
    if len(password) < 12:
        raise StoreError(_("a password needs at least 12 characters; a passphrase of a few "
                           "words is easiest to remember"))


def create(conn: sa.Connection, username: str, *, role: str, password: str, actor: str,
           display_name: str | None = None) -> User:
    """Add a user with a role and a password."""
    name = username.strip()
    if not name or len(name) > 200 or any(c.isspace() for c in name):
        raise StoreError(_("user name {name} must be 1-200 characters without spaces").format(
            name=repr(username)))
    if role not in ROLES:
        raise _unknown_role(role)
    _check_password_rules(password)
    if conn.execute(sa.select(users.c.id).where(users.c.username == name)).first():
        raise ConflictError(_("user {name} already exists; pick another user name").format(
            name=repr(name)))
    uid = conn.execute(sa.insert(users).values(
        username=name, display_name=display_name, role=role,
        password_hash=hash_password(password), created_at=now(),
    ).returning(users.c.id)).scalar_one()
    made = get(conn, int(uid))
    audit.append(conn, actor=actor, action="user.created", object_type="user", object_id=name,
                 after={"role": role, "display_name": display_name})
    return made


def get(conn: sa.Connection, user_id: int) -> User:
    """The user with id ``user_id``."""
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFoundError(_("no user {id}").format(id=user_id))
    return _user(row)


def by_name(conn: sa.Connection, username: str) -> User:
    """The user called ``username``."""
    row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    if row is None:
        raise NotFoundError(_("no user {name}; `tierwise user list` shows the users").format(
            name=repr(username)))
    return _user(row)


def listing(conn: sa.Connection) -> list[User]:
    """Every user, by name."""
    return [_user(r) for r in conn.execute(sa.select(users).order_by(users.c.username))]


def set_password(conn: sa.Connection, username: str, password: str, *, actor: str) -> None:
    """Replace a user's password and end their sessions."""
    _check_password_rules(password)
    user = by_name(conn, username)
    conn.execute(sa.update(users).where(users.c.id == user.id).values(
        password_hash=hash_password(password), revision=user.revision + 1))
    _end_all(conn, user)
    audit.append(conn, actor=actor, action="user.password_set", object_type="user",
                 object_id=username)


def check_credentials(conn: sa.Connection, username: str, password: str) -> User | None:
    """The enabled user ``username`` if ``password`` is theirs, else None.

    Exactly one scrypt hash is computed whatever the outcome (an unknown or disabled user is
    checked against a dummy hash), so the answer time does not tell which user names exist.
    """
    row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    stored = row.password_hash if row is not None else _dummy_hash()
    matches = check_password(password, stored)
    if row is None or row.disabled or not matches:
        return None
    return _user(row)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def locked_until(conn: sa.Connection, keys: list[str], moment: datetime) -> datetime | None:
    """The latest time until which any of ``keys`` is locked, if one is locked at ``moment``."""
    rows = conn.execute(sa.select(login_failures.c.locked_until)
                        .where(login_failures.c.key.in_([k[:300] for k in keys]))).scalars()
    ends = [_aware(t) for t in rows if t is not None and _aware(t) > moment]
    return max(ends) if ends else None


def record_failure(conn: sa.Connection, key: str, moment: datetime, *, window: timedelta,
                   lock_after: int, lock_for: timedelta) -> bool:
    """Count one failed login under ``key``; True when this failure locks the key.

    Failures older than ``window`` start the count afresh. Call it in a transaction of its own
    that commits whatever the login's outcome: a count made inside the login's transaction
    would be rolled back with it when the login is refused.
    """
    key = key[:300]
    row = conn.execute(sa.select(login_failures).where(login_failures.c.key == key)).first()
    if row is None or _aware(row.first_at) < moment - window:
        conn.execute(sa.delete(login_failures).where(login_failures.c.key == key))
        count = 1
        conn.execute(sa.insert(login_failures).values(
            key=key, failures=count, first_at=moment,
            locked_until=moment + lock_for if count >= lock_after else None))
        return count >= lock_after
    count = row.failures + 1
    locks = count >= lock_after and (row.locked_until is None
                                     or _aware(row.locked_until) <= moment)
    conn.execute(sa.update(login_failures).where(login_failures.c.key == key).values(
        failures=count,
        locked_until=moment + lock_for if count >= lock_after else row.locked_until))
    return locks


def clear_failures(conn: sa.Connection, key: str) -> None:
    """Forget the failed logins counted under ``key`` (after a successful login)."""
    conn.execute(sa.delete(login_failures).where(login_failures.c.key == key[:300]))


@dataclass(frozen=True)
class Token:
    """An API token as listed: never its secret."""

    id: int
    username: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def live(self, moment: datetime) -> bool:
        """Whether the token still lets its user in at ``moment``."""
        return self.revoked_at is None and (self.expires_at is None
                                            or _aware(self.expires_at) > moment)


def new_token(conn: sa.Connection, username: str, name: str, *, actor: str,
              days: int | None = 90) -> tuple[int, str]:
    """A new API token for ``username``: its id and the secret, shown this once.

    The token ends after ``days`` (None: never; only for tokens a person renews by hand).
    """
    user = by_name(conn, username)
    if user.disabled:
        raise PermissionDenied(f"user {username!r} is disabled; enable them first "
                               f"(`tierwise user enable {username}`)")
    if not name.strip() or len(name) > 200:
        raise StoreError(_("token name {name} must be 1-200 characters; say what the token is "
                           "for, e.g. 'nightly export'").format(name=repr(name[:40])))
    secret = "tw_" + secrets.token_urlsafe(32)
    moment = now()
    expires = moment + timedelta(days=days) if days is not None else None
    tid = conn.execute(sa.insert(api_tokens).values(
        user_id=user.id, name=name, token_hash=_digest(secret), created_at=moment,
        expires_at=expires,
    ).returning(api_tokens.c.id)).scalar_one()
    audit.append(conn, actor=actor, action="token.created", object_type="api_token",
                 object_id=str(tid), after={"user": username, "name": name,
                                            "expires_at": expires})
    return int(tid), secret


def revoke_token(conn: sa.Connection, token_id: int, *, actor: str) -> None:
    """Revoke an API token at once."""
    done = conn.execute(sa.update(api_tokens).where(api_tokens.c.id == token_id,
                                                    api_tokens.c.revoked_at.is_(None))
                        .values(revoked_at=now()))
    if done.rowcount != 1:
        raise NotFoundError(_("no live API token {id}; `tierwise user tokens` lists them").format(
            id=token_id))
    audit.append(conn, actor=actor, action="token.revoked", object_type="api_token",
                 object_id=str(token_id))


def tokens(conn: sa.Connection, username: str | None = None) -> list[Token]:
    """API tokens (of one user, or everyone's), newest first."""
    query = (sa.select(api_tokens, users.c.username)
             .join(users, users.c.id == api_tokens.c.user_id)
             .order_by(api_tokens.c.id.desc()))
    if username is not None:
        query = query.where(users.c.username == username)
    return [Token(r.id, r.username, r.name, r.created_at, r.expires_at, r.last_used_at,
                  r.revoked_at) for r in conn.execute(query)]


def token_user(conn: sa.Connection, secret: str) -> tuple[User, Token] | None:
    """The enabled user a live API token belongs to, with the token."""
    row = conn.execute(sa.select(api_tokens).where(api_tokens.c.token_hash == _digest(secret),
                                                   api_tokens.c.revoked_at.is_(None))).first()
    if row is None or (row.expires_at is not None and _aware(row.expires_at) <= now()):
        return None
    user = get(conn, row.user_id)
    if user.disabled:
        return None
    return user, Token(row.id, user.username, row.name, row.created_at, row.expires_at,
                       row.last_used_at, row.revoked_at)


def user_for_token(conn: sa.Connection, secret: str) -> User | None:
    """The enabled user a live API token belongs to."""
    found = token_user(conn, secret)
    return found[0] if found else None


def touch_token(conn: sa.Connection, token_id: int, moment: datetime) -> None:
    """Record that a token was used at ``moment``."""
    conn.execute(sa.update(api_tokens).where(api_tokens.c.id == token_id)
                 .values(last_used_at=moment))


@dataclass(frozen=True)
class Session:
    """A login session as listed: ``id`` is a public handle, never the cookie's secret."""

    id: str
    username: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime | None
    client: str | None


def _session(row: Any, username: str) -> Session:
    return Session(row.id_hash[:16], username, row.created_at, row.expires_at, row.last_seen_at,
                   row.client)


def new_session(conn: sa.Connection, user: User, *, hours: int = SESSION_HOURS,
                client: str | None = None) -> tuple[str, str]:
    """A new login session: its id (for the cookie) and its CSRF token."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    moment = now()
    conn.execute(sa.insert(sessions).values(
        id_hash=_digest(sid), user_id=user.id, csrf=csrf, created_at=moment,
        expires_at=moment + timedelta(hours=hours), last_seen_at=moment,
        client=(client or "")[:100] or None))
    return sid, csrf


def session_user(conn: sa.Connection, sid: str, *, idle: timedelta | None = None
                 ) -> tuple[User, str, Session] | None:
    """The user, CSRF token and session of a live session.

    A session past its end, unused for longer than ``idle``, or of a disabled user is not live.
    """
    row = conn.execute(sa.select(sessions).where(sessions.c.id_hash == _digest(sid))).first()
    moment = now()
    if row is None or _aware(row.expires_at) <= moment:
        return None
    seen = _aware(row.last_seen_at or row.created_at)
    if idle is not None and seen + idle <= moment:
        return None
    user = get(conn, row.user_id)
    if user.disabled:
        return None
    return user, row.csrf, _session(row, user.username)


def touch_session(conn: sa.Connection, sid: str, moment: datetime) -> None:
    """Record that a session was used at ``moment`` (keeps it from idling out)."""
    conn.execute(sa.update(sessions).where(sessions.c.id_hash == _digest(sid))
                 .values(last_seen_at=moment))


def end_session(conn: sa.Connection, sid: str) -> None:
    """Log a session out."""
    conn.execute(sa.delete(sessions).where(sessions.c.id_hash == _digest(sid)))


def session_list(conn: sa.Connection, username: str | None = None) -> list[Session]:
    """Sessions that have not reached their end (of one user, or everyone's), newest first."""
    query = (sa.select(sessions, users.c.username)
             .join(users, users.c.id == sessions.c.user_id)
             .where(sessions.c.expires_at > now())
             .order_by(sessions.c.created_at.desc()))
    if username is not None:
        query = query.where(users.c.username == username)
    return [_session(r, r.username) for r in conn.execute(query)]


def revoke_session(conn: sa.Connection, session_id: str, *, actor: str) -> Session:
    """End the session with the public id ``session_id`` (as :func:`session_list` shows it)."""
    handle = session_id.strip().lower()
    if len(handle) != 16 or any(c not in "0123456789abcdef" for c in handle):
        raise NotFoundError(_("no session {id}; a session id is 16 hexadecimal characters, as "
                              "`tierwise user sessions` shows them").format(id=repr(session_id)))
    row = conn.execute(sa.select(sessions, users.c.username)
                       .join(users, users.c.id == sessions.c.user_id)
                       .where(sessions.c.id_hash.startswith(handle))).first()
    if row is None:
        raise NotFoundError(_("no session {id}; it may have ended already").format(
            id=repr(session_id)))
    conn.execute(sa.delete(sessions).where(sessions.c.id_hash == row.id_hash))
    audit.append(conn, actor=actor, action="session.revoked", object_type="user",
                 object_id=row.username, after={"session": handle})
    return _session(row, row.username)


def _end_all(conn: sa.Connection, user: User) -> None:
    conn.execute(sa.delete(sessions).where(sessions.c.user_id == user.id))


def enabled_admins(conn: sa.Connection) -> list[str]:
    """The names of the enabled admins."""
    return list(conn.execute(sa.select(users.c.username).where(
        users.c.role == "admin", users.c.disabled.is_(False)).order_by(users.c.username))
        .scalars())


def has_users(conn: sa.Connection) -> bool:
    """Whether the store has any user at all (else the command line acts as the local admin)."""
    return conn.execute(sa.select(users.c.id).limit(1)).first() is not None


def _unknown_role(role: str) -> StoreError:
    return StoreError(_("role {role} is unknown; use one of {roles}").format(
        role=repr(role), roles=_(", ").join(ROLES)))


def _keep_an_admin(conn: sa.Connection, user: User, what: str) -> None:
    if user.role == "admin" and not user.disabled and enabled_admins(conn) == [user.username]:
        raise ConflictError(_("{name} is the last enabled admin; {what} would leave no one able "
                              "to manage users. Make another admin first").format(
                                  name=repr(user.username), what=what))


def set_disabled(conn: sa.Connection, username: str, disabled: bool, *, actor: str) -> User:
    """Disable a user (their sessions end, their tokens stop working) or enable them again."""
    user = by_name(conn, username)
    if user.disabled == disabled:
        return user
    if disabled:
        _keep_an_admin(conn, user, "disabling them")
        _end_all(conn, user)
    conn.execute(sa.update(users).where(users.c.id == user.id).values(
        disabled=disabled, revision=user.revision + 1))
    audit.append(conn, actor=actor, action="user.disabled" if disabled else "user.enabled",
                 object_type="user", object_id=username, before={"disabled": user.disabled},
                 after={"disabled": disabled})
    return get(conn, user.id)


def set_role(conn: sa.Connection, username: str, role: str, *, actor: str) -> User:
    """Give a user another role; their sessions end so that no page keeps the old rights."""
    if role not in ROLES:
        raise _unknown_role(role)
    user = by_name(conn, username)
    if user.role == role:
        return user
    if role != "admin":
        _keep_an_admin(conn, user, f"making them a {role}")
    _end_all(conn, user)
    if user.role == "manager":
        conn.execute(sa.delete(assignments).where(assignments.c.user_id == user.id))
    conn.execute(sa.update(users).where(users.c.id == user.id).values(
        role=role, revision=user.revision + 1))
    audit.append(conn, actor=actor, action="user.role_changed", object_type="user",
                 object_id=username, before={"role": user.role}, after={"role": role})
    return get(conn, user.id)


def assign(conn: sa.Connection, customer_ids: list[str], username: str, *, actor: str) -> int:
    """Assign customers to a manager (moving them from any other manager)."""
    user = by_name(conn, username)
    if user.role != "manager":
        raise PermissionDenied(f"{username!r} is a {user.role}; only managers get customers")
    ids = sorted(set(customer_ids))
    if not ids:
        return 0
    conn.execute(sa.delete(assignments).where(assignments.c.customer_id.in_(ids)))
    conn.execute(sa.insert(assignments), [
        {"customer_id": c, "user_id": user.id, "assigned_at": now()} for c in ids])
    audit.append(conn, actor=actor, action="customers.assigned", object_type="user",
                 object_id=username, after={"customers": len(ids), "first": ids[:20]})
    return len(ids)


def unassign(conn: sa.Connection, customer_ids: list[str], *, actor: str) -> int:
    """Take customers away from whichever manager has them; returns how many had one."""
    ids = sorted(set(customer_ids))
    if not ids:
        return 0
    gone = conn.execute(sa.delete(assignments).where(assignments.c.customer_id.in_(ids)))
    if gone.rowcount:
        audit.append(conn, actor=actor, action="customers.unassigned", object_type="customers",
                     object_id=ids[0], after={"customers": len(ids), "first": ids[:20]})
    return int(gone.rowcount or 0)


def assigned(conn: sa.Connection, user: User) -> set[str]:
    """The customers assigned to a manager."""
    return set(conn.execute(sa.select(assignments.c.customer_id)
                            .where(assignments.c.user_id == user.id)).scalars())


def holders(conn: sa.Connection, customer_ids: list[str]) -> dict[str, str]:
    """The manager (user name) of each of ``customer_ids`` that has one."""
    ids = sorted(set(customer_ids))
    out: dict[str, str] = {}
    for start in range(0, len(ids), 10_000):
        query = sa.select(assignments.c.customer_id, users.c.username).join(
            users, users.c.id == assignments.c.user_id).where(
            assignments.c.customer_id.in_(ids[start:start + 10_000]))
        out.update({str(c): str(u) for c, u in conn.execute(query)})
    return out


def is_assigned(conn: sa.Connection, user: User, customer_id: str) -> bool:
    """Whether ``customer_id`` is assigned to ``user``."""
    return conn.execute(sa.select(assignments.c.customer_id).where(
        assignments.c.customer_id == customer_id, assignments.c.user_id == user.id)).first() \
        is not None
