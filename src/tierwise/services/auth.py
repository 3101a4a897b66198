"""Who is acting: password logins with lockout, sessions, API tokens, and the command line's user.

Every entry point (REST API, dashboard, command line) finds its user through these functions, so
the rules hold the same everywhere:

* A failed login is counted under the user name and under the client address, in a transaction
  of its own that commits before the refusal is raised. Too many failures lock the name or the
  address for a while, and a locked login is refused before any password is hashed.
* Checking a password costs one scrypt hash whether or not the user exists, so answer times do
  not tell which names exist.
* Sessions end after a fixed time and when idle; tokens expire. Their last use is written at
  most once a minute, so reading pages does not turn every request into a write.
* The command line acts as the user of an API token (``TIERWISE_TOKEN``, or the token file
  ``tierwise login`` writes), never as a name typed on the command line. A store without any user
  is run by its local operator, recorded as ``local:<os user>``, until the first user is added.
"""

from __future__ import annotations

import getpass
import json
import os
import stat
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from tierwise.errors import PermissionDenied
from tierwise.i18n import _
from tierwise.services import access
from tierwise.spec.models import SecuritySpec
from tierwise.store import Store
from tierwise.store.schemes import now
from tierwise.store.users import User

TOKEN_ENV = "TIERWISE_TOKEN"
TOKEN_FILE_ENV = "TIERWISE_TOKEN_FILE"
LOCAL_PREFIX = "local:"
_TOUCH_EVERY = timedelta(minutes=1)


class LockedOut(PermissionDenied):
    """Too many failed logins for this user name or from this address; try again later."""

    def __init__(self, until: datetime, moment: datetime) -> None:
        minutes = max(1, int((until - moment).total_seconds() // 60) + 1)
        super().__init__(_("too many failed logins; try again in {minutes} minutes").format(
            minutes=minutes))
        self.retry_after = max(1, int((until - moment).total_seconds()))


@dataclass(frozen=True)
class Login:
    """A successful login: the user, the session id for the cookie, and its CSRF token."""

    user: User
    session_id: str
    csrf: str


def _keys(username: str, client: str) -> tuple[str, str]:
    return f"user:{username}", f"addr:{client}"


def verify(store: Store, settings: SecuritySpec, username: str, password: str, *,
           client: str) -> User:
    """The user, if the password is right and neither the name nor the address is locked.

    Raises:
        LockedOut: the name or the address is locked; nothing is hashed.
        PermissionDenied: the same message for an unknown user and a wrong password. The failure
            is committed before this is raised, so a caller's rollback cannot undo the count.

    """
    moment = now()
    user_key, addr_key = _keys(username, client)
    with store.read() as tx:
        until = tx.users.locked_until([user_key, addr_key], moment)
    if until is not None:
        with store.write() as tx:
            tx.access_log.record(actor=username, action="login.refused_locked",
                              object_type="user", object_id=username, client=client)
        raise LockedOut(until, moment)
    with store.read() as tx:
        user = tx.users.check_credentials(username, password)
    if user is None:
        _count_failure(store, settings, username, client, moment)
        raise PermissionDenied(_("wrong user name or password"))
    with store.write() as tx:
        tx.users.clear_failures(user_key)
    return user


def log_in(store: Store, settings: SecuritySpec, username: str, password: str, *,
           client: str) -> Login:
    """Check a password (see :func:`verify`) and open a session."""
    user = verify(store, settings, username, password, client=client)
    with store.write() as tx:
        sid, csrf = tx.users.new_session(user, hours=settings.session_hours,
                                            client=client)
        tx.audit.append(actor=user.username, action="user.logged_in", object_type="user",
                     object_id=user.username, after={"client": client[:100]})
    return Login(user, sid, csrf)


def cli_log_in(store: Store, settings: SecuritySpec, username: str, password: str, *,
               days: int | None = None) -> tuple[User, Path]:
    """``tierwise login``: check the password, issue a token for this machine, keep it.

    The token lasts ``days`` (default: the project's ``security.token_days``) and is written to
    the token file for this store, readable by its owner only.
    """
    import socket

    client = f"cli@{os_user()}@{socket.gethostname()}"[:100]
    user = verify(store, settings, username, password, client=client)
    with store.write() as tx:
        _, secret = tx.users.new_token(user.username, f"tierwise login: {client}",
                                          actor=user.username, days=days or settings.token_days)
        tx.audit.append(actor=user.username, action="user.logged_in", object_type="user",
                     object_id=user.username, after={"client": client})
    return user, save_token(store, secret)


def cli_log_out(store: Store) -> bool:
    """``tierwise logout``: revoke this machine's token for the store and forget it."""
    secret = saved_token(store)
    if secret is None:
        return False
    with store.read() as tx:
        found = tx.users.token_user(secret)
    if found is not None:
        user, token = found
        with store.write() as tx:
            tx.users.revoke_token(token.id, actor=user.username)
    save_token(store, None)
    return True


def _count_failure(store: Store, settings: SecuritySpec, username: str, client: str,
                   moment: datetime) -> None:
    window = timedelta(minutes=settings.lockout_window_minutes)
    lock_for = timedelta(minutes=settings.lockout_minutes)
    user_key, addr_key = _keys(username, client)
    with store.write() as tx:
        user_locked = tx.users.record_failure(user_key, moment, window=window, lock_after=settings.lockout_after,
            lock_for=lock_for)
        addr_locked = tx.users.record_failure(addr_key, moment, window=window, lock_after=settings.address_lockout_after,
            lock_for=lock_for)
        tx.access_log.record(actor=username, action="login.failed", object_type="user",
                          object_id=username, client=client)
        if user_locked and username in {u.username for u in tx.users.listing()}:
            tx.audit.append(actor="system", action="user.locked_out", object_type="user",
                         object_id=username[:200],
                         after={"until": moment + lock_for, "client": client[:100]})
        if addr_locked:
            tx.audit.append(actor="system", action="address.locked_out",
                         object_type="address", object_id=client[:200] or "unknown",
                         after={"until": moment + lock_for})


def log_out(store: Store, session_id: str, user: User | None = None) -> None:
    """End a session."""
    with store.write() as tx:
        tx.users.end_session(session_id)
        if user is not None:
            tx.audit.append(actor=user.username, action="user.logged_out",
                         object_type="user", object_id=user.username)


def session_of(store: Store, settings: SecuritySpec, session_id: str
               ) -> tuple[User, str] | None:
    """The user and CSRF token of a live session; keeps the session from idling out."""
    with store.read() as tx:
        found = tx.users.session_user(session_id, idle=timedelta(minutes=settings.session_idle_minutes))
    if found is None:
        return None
    user, csrf, session = found
    moment = now()
    seen = session.last_seen_at
    if seen is None or _aware(seen) + _TOUCH_EVERY <= moment:
        with store.write() as tx:
            tx.users.touch_session(session_id, moment)
    return user, csrf


def token_of(store: Store, secret: str, *, client: str | None = None) -> User | None:
    """The user of a live API token; its use is recorded (at most once a minute a token)."""
    with store.read() as tx:
        found = tx.users.token_user(secret)
    if found is None:
        return None
    user, token = found
    moment = now()
    if token.last_used_at is None or _aware(token.last_used_at) + _TOUCH_EVERY <= moment:
        with store.write() as tx:
            tx.users.touch_token(token.id, moment)
            tx.access_log.record(actor=user.username, action="token.used",
                              object_type="api_token", object_id=str(token.id), client=client)
    return user


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


# -- the command line's user ------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who acts on the command line.

    A user of the store, or the local operator of a store that has no users yet
    (``local:<os user>``).
    """

    name: str
    user: User | None

    @property
    def local(self) -> bool:
        """Whether this is the local operator of a store without users."""
        return self.user is None


def os_user() -> str:
    """The operating-system user running this process."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def token_file() -> Path:
    """Where ``tierwise login`` keeps its tokens.

    ``TIERWISE_TOKEN_FILE``, else the user's config folder
    (``$XDG_CONFIG_HOME/tierwise/tokens.json``).
    """
    given = os.environ.get(TOKEN_FILE_ENV)
    if given:
        return Path(given)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tierwise" / "tokens.json"


def _store_key(store: Store) -> str:
    import sqlalchemy as sa

    return sa.make_url(store.url).render_as_string(hide_password=True)


def _read_tokens(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise PermissionDenied(_("cannot read the token file {path} ({exc}); delete it and run "
                                 "`tierwise login` again").format(path=path, exc=exc)) from exc
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def saved_token(store: Store) -> str | None:
    """The token ``tierwise login`` saved for this store, if any."""
    return _read_tokens(token_file()).get(_store_key(store))


def save_token(store: Store, secret: str | None) -> Path:
    """Keep (or with None, forget) the token for this store in the token file.

    The file is readable by its owner only and replaced whole, never half-written.
    """
    path = token_file()
    found = _read_tokens(path)
    if secret is None:
        found.pop(_store_key(store), None)
    else:
        found[_store_key(store)] = secret
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(found, out, indent=1, sort_keys=True)
    os.replace(tmp, path)
    return path


def cli_actor(store: Store, action: str | None = None, *, bootstrap: bool = False) -> Actor:
    """The user the command line acts as, refused unless their role may do ``action``.

    The token comes from ``TIERWISE_TOKEN``, else from the token file. A store with no users at
    all is run by its local operator (``local:<os user>``), who may do everything: that is how a
    laptop project works before anyone else uses it, and how the first admin is made. With
    ``bootstrap`` (making an admin), the local operator is also accepted when the store has no
    enabled admin left, so a store whose admins are all gone can be recovered; every such act is
    audited under ``local:<os user>``.

    Raises:
        PermissionDenied: the store has users but no valid token was given, or the user's role
            may not do ``action``.

    """
    secret = os.environ.get(TOKEN_ENV) or saved_token(store)
    if secret:
        user = token_of(store, secret.strip(), client=f"cli@{os_user()}")
        if user is None:
            where = TOKEN_ENV if os.environ.get(TOKEN_ENV) else str(token_file())
            raise PermissionDenied(_("the API token in {where} is unknown, expired or revoked "
                                     "in this project's store; run `tierwise login` again").format(
                                         where=where))
        if action is not None:
            access.require(user, action)
        return Actor(user.username, user)
    with store.read() as tx:
        if not tx.users.has_users() or (bootstrap and not tx.users.enabled_admins()):
            return Actor(LOCAL_PREFIX + os_user(), None)
    raise PermissionDenied(
        _("this store has users, so this command needs to know who you are: run `tierwise "
          "login` (or set {token_env} to an API token from `tierwise user token`)").format(
              token_env=TOKEN_ENV))
