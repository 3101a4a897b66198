"""Users, roles, passwords, API tokens, sessions and manager assignments in the store.

Passwords are hashed with scrypt (``hashlib``: memory-hard, no extra dependency), with a random
salt per password; checks compare in constant time. API tokens and session ids are random 256-bit
secrets shown once and stored only as their sha256, so a copy of the store lets no one in.
Repeated failed logins for one user and client lock that pair out for a while.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tierwise.errors import ConflictError, NotFoundError, PermissionDenied, StoreError
from tierwise.store import audit
from tierwise.store.schemes import now
from tierwise.store.tables import api_tokens, assignments, login_failures, sessions, users

ROLES = ("admin", "supervisor", "manager", "auditor")
# scrypt cost: 2^15 x 8 x 128 bytes = 32 MiB and about 0.1 s per check on this machine.
_N, _R, _P = 2**15, 8, 1
SESSION_HOURS = 12
LOCK_AFTER, LOCK_MINUTES = 5, 15


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
        raise StoreError("a password needs at least 12 characters; a passphrase of a few words "
                         "is easiest to remember")


def create(conn: sa.Connection, username: str, *, role: str, password: str, actor: str,
           display_name: str | None = None) -> User:
    """Add a user with a role and a password."""
    name = username.strip()
    if not name or len(name) > 200 or any(c.isspace() for c in name):
        raise StoreError(f"user name {username!r} must be 1-200 characters without spaces")
    if role not in ROLES:
        raise StoreError(f"role {role!r} is unknown; use one of {', '.join(ROLES)}")
    _check_password_rules(password)
    if conn.execute(sa.select(users.c.id).where(users.c.username == name)).first():
        raise ConflictError(f"user {name!r} already exists")
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
        raise NotFoundError(f"no user {user_id}")
    return _user(row)


def by_name(conn: sa.Connection, username: str) -> User:
    """The user called ``username``."""
    row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    if row is None:
        raise NotFoundError(f"no user {username!r}; `tierwise user list` shows the users")
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
    conn.execute(sa.delete(sessions).where(sessions.c.user_id == user.id))
    audit.append(conn, actor=actor, action="user.password_set", object_type="user",
                 object_id=username)


def authenticate(conn: sa.Connection, username: str, password: str, *, client: str) -> User:
    """The user, if the password is right and the user and client are not locked out.

    Raises:
        PermissionDenied: the same message for an unknown user and a wrong password, so the
            answer tells an attacker nothing; a lock-out says when to try again.

    """
    key = f"{username}|{client}"[:300]
    moment = now()
    failed = conn.execute(sa.select(login_failures).where(login_failures.c.key == key)).first()
    if failed is not None and failed.locked_until is not None:
        until = _aware(failed.locked_until)
        if until > moment:
            minutes = max(1, int((until - moment).total_seconds() // 60) + 1)
            raise PermissionDenied(f"too many failed logins; try again in {minutes} minutes")
    row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    ok = row is not None and not row.disabled and check_password(password, row.password_hash)
    if not ok:
        if row is None:
            check_password(password, hash_password("timing-equaliser"))
        _record_failure(conn, key, failed, moment)
        raise PermissionDenied("wrong user name or password")
    conn.execute(sa.delete(login_failures).where(login_failures.c.key == key))
    assert row is not None
    return _user(row)


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _record_failure(conn: sa.Connection, key: str, failed: Any, moment: datetime) -> None:
    if failed is None or _aware(failed.first_at) < moment - timedelta(minutes=LOCK_MINUTES):
        conn.execute(sa.delete(login_failures).where(login_failures.c.key == key))
        conn.execute(sa.insert(login_failures).values(key=key, failures=1, first_at=moment))
        return
    count = failed.failures + 1
    conn.execute(sa.update(login_failures).where(login_failures.c.key == key).values(
        failures=count,
        locked_until=moment + timedelta(minutes=LOCK_MINUTES) if count >= LOCK_AFTER else None))


def new_token(conn: sa.Connection, username: str, name: str, *, actor: str) -> tuple[int, str]:
    """A new API token for ``username``: its id and the secret, shown this once."""
    user = by_name(conn, username)
    secret = "tw_" + secrets.token_urlsafe(32)
    tid = conn.execute(sa.insert(api_tokens).values(
        user_id=user.id, name=name, token_hash=_digest(secret), created_at=now(),
    ).returning(api_tokens.c.id)).scalar_one()
    audit.append(conn, actor=actor, action="token.created", object_type="api_token",
                 object_id=str(tid), after={"user": username, "name": name})
    return int(tid), secret


def revoke_token(conn: sa.Connection, token_id: int, *, actor: str) -> None:
    """Revoke an API token at once."""
    done = conn.execute(sa.update(api_tokens).where(api_tokens.c.id == token_id,
                                                    api_tokens.c.revoked_at.is_(None))
                        .values(revoked_at=now()))
    if done.rowcount != 1:
        raise NotFoundError(f"no live API token {token_id}")
    audit.append(conn, actor=actor, action="token.revoked", object_type="api_token",
                 object_id=str(token_id))


def user_for_token(conn: sa.Connection, secret: str) -> User | None:
    """The user a live API token belongs to."""
    row = conn.execute(sa.select(api_tokens).where(api_tokens.c.token_hash == _digest(secret),
                                                   api_tokens.c.revoked_at.is_(None))).first()
    if row is None:
        return None
    user = get(conn, row.user_id)
    return None if user.disabled else user


def new_session(conn: sa.Connection, user: User) -> tuple[str, str]:
    """A new login session: its id (for the cookie) and its CSRF token."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    conn.execute(sa.insert(sessions).values(
        id_hash=_digest(sid), user_id=user.id, csrf=csrf, created_at=now(),
        expires_at=now() + timedelta(hours=SESSION_HOURS)))
    return sid, csrf


def session_user(conn: sa.Connection, sid: str) -> tuple[User, str] | None:
    """The user and CSRF token of a live session."""
    row = conn.execute(sa.select(sessions).where(sessions.c.id_hash == _digest(sid))).first()
    if row is None or _aware(row.expires_at) <= now():
        return None
    user = get(conn, row.user_id)
    return None if user.disabled else (user, row.csrf)


def end_session(conn: sa.Connection, sid: str) -> None:
    """Log a session out."""
    conn.execute(sa.delete(sessions).where(sessions.c.id_hash == _digest(sid)))


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


def assigned(conn: sa.Connection, user: User) -> set[str]:
    """The customers assigned to a manager."""
    return set(conn.execute(sa.select(assignments.c.customer_id)
                            .where(assignments.c.user_id == user.id)).scalars())


def is_assigned(conn: sa.Connection, user: User, customer_id: str) -> bool:
    """Whether ``customer_id`` is assigned to ``user``."""
    return conn.execute(sa.select(assignments.c.customer_id).where(
        assignments.c.customer_id == customer_id, assignments.c.user_id == user.id)).first() \
        is not None
