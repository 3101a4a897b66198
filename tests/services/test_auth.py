"""Logins, lockout, sessions, tokens and the command line's user, through the real call paths.

Every test goes through ``services.auth``, which is what the REST API, the dashboard and the
command line call: a lockout test that held its own transaction around the login would pass even
when the failure count is rolled back with the refused login (it once did).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tierwise.errors import ConflictError, NotFoundError, PermissionDenied
from tierwise.services import auth
from tierwise.spec.models import SecuritySpec
from tierwise.store import Store, access_log, audit
from tierwise.store import users as store_users
from tierwise.store.schemes import now
from tierwise.store.tables import api_tokens, login_failures, sessions

PASSWORD = "correct horse battery staple"
SETTINGS = SecuritySpec(lockout_after=3, address_lockout_after=5)


@pytest.fixture
def people(store: Store) -> Store:
    with store.begin() as conn:
        store_users.create(conn, "ana", role="admin", password=PASSWORD, actor="setup")
        store_users.create(conn, "bo", role="manager", password=PASSWORD, actor="setup")
    return store


def test_failed_logins_are_committed_and_lock_the_user(people: Store) -> None:
    for _ in range(SETTINGS.lockout_after):
        with pytest.raises(PermissionDenied, match="wrong user name or password"):
            auth.log_in(people, SETTINGS, "ana", "guess", client="10.0.0.9")
    with people.connect() as conn:
        rows = {r.key: r.failures for r in conn.execute(sa.select(login_failures))}
    assert rows == {"user:ana": 3, "addr:10.0.0.9": 3}
    # Locked: even the right password, from any address, is refused without being checked.
    with pytest.raises(auth.LockedOut, match="too many failed logins") as locked:
        auth.log_in(people, SETTINGS, "ana", PASSWORD, client="10.0.0.7")
    assert 0 < locked.value.retry_after <= SETTINGS.lockout_minutes * 60
    # Another user from another address is not locked; a success clears that user's count.
    assert auth.log_in(people, SETTINGS, "bo", PASSWORD, client="10.0.0.7").user.role == "manager"
    with people.connect() as conn:
        actions = [e.action for e in audit.events(conn, limit=20)]
        failed = access_log.entries(conn, action="login.failed")
    assert "user.locked_out" in actions and "user.logged_in" in actions
    assert len(failed) == 3 and {f.client for f in failed} == {"10.0.0.9"}


def test_a_lock_ends_after_its_time(people: Store) -> None:
    for _ in range(SETTINGS.lockout_after):
        with pytest.raises(PermissionDenied):
            auth.log_in(people, SETTINGS, "ana", "guess", client="10.0.0.9")
    with people.begin() as conn:  # the lock was set an hour ago
        conn.execute(sa.update(login_failures).values(
            locked_until=now() - timedelta(minutes=1),
            first_at=now() - timedelta(hours=1)))
    assert auth.log_in(people, SETTINGS, "ana", PASSWORD, client="10.0.0.9").user.username == "ana"


def test_one_address_trying_many_names_is_locked(people: Store) -> None:
    for i in range(SETTINGS.address_lockout_after):
        with pytest.raises(PermissionDenied):
            auth.log_in(people, SETTINGS, f"guess{i}", PASSWORD, client="10.6.6.6")
    with pytest.raises(auth.LockedOut):
        auth.log_in(people, SETTINGS, "ana", PASSWORD, client="10.6.6.6")
    assert auth.log_in(people, SETTINGS, "ana", PASSWORD, client="10.0.0.1").user.role == "admin"
    with people.connect() as conn:
        assert any(e.action == "address.locked_out" and e.object_id == "10.6.6.6"
                   for e in audit.events(conn, limit=50))
        assert audit.verify(conn).ok


def test_unknown_and_known_users_cost_one_hash_each(people: Store,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = hashlib.scrypt

    def counted(*args: object, **kwargs: object) -> bytes:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    store_users._dummy_hash()  # made once per process, before the first unknown name
    monkeypatch.setattr(hashlib, "scrypt", counted)
    with people.connect() as conn:
        for name, password in (("ana", "wrong one"), ("nobody", PASSWORD), ("ana", PASSWORD)):
            calls.clear()
            store_users.check_credentials(conn, name, password)
            assert len(calls) == 1, name


def test_disabled_users_cannot_log_in_or_use_tokens(people: Store) -> None:
    with people.begin() as conn:
        _, secret = store_users.new_token(conn, "bo", "script", actor="ana")
    login = auth.log_in(people, SETTINGS, "bo", PASSWORD, client="c")
    with people.begin() as conn:
        store_users.set_disabled(conn, "bo", True, actor="ana")
    assert auth.session_of(people, SETTINGS, login.session_id) is None
    assert auth.token_of(people, secret) is None
    with pytest.raises(PermissionDenied, match="wrong user name or password"):
        auth.log_in(people, SETTINGS, "bo", PASSWORD, client="c")
    with people.begin() as conn:
        store_users.set_disabled(conn, "bo", False, actor="ana")
    assert auth.token_of(people, secret) is not None  # tokens work again; sessions stay ended


def test_sessions_end_when_idle_and_can_be_listed_and_revoked(people: Store) -> None:
    first = auth.log_in(people, SETTINGS, "bo", PASSWORD, client="10.1.1.1")
    second = auth.log_in(people, SETTINGS, "bo", PASSWORD, client="10.1.1.2")
    assert auth.session_of(people, SETTINGS, first.session_id) is not None
    with people.begin() as conn:  # first unused for longer than the idle timeout
        conn.execute(sa.update(sessions).where(sessions.c.client == "10.1.1.1").values(
            last_seen_at=now() - timedelta(minutes=SETTINGS.session_idle_minutes + 1)))
    assert auth.session_of(people, SETTINGS, first.session_id) is None
    with people.connect() as conn:
        listed = store_users.session_list(conn, "bo")
    assert {s.client for s in listed} == {"10.1.1.1", "10.1.1.2"}
    live = next(s for s in listed if s.client == "10.1.1.2")
    with people.begin() as conn:
        store_users.revoke_session(conn, live.id, actor="ana")
    assert auth.session_of(people, SETTINGS, second.session_id) is None
    with people.begin() as conn, pytest.raises(NotFoundError, match="16 hexadecimal"):
        store_users.revoke_session(conn, "../../x", actor="ana")


def test_tokens_expire_and_record_their_use(people: Store) -> None:
    with people.begin() as conn:
        token_id, secret = store_users.new_token(conn, "bo", "export", actor="ana", days=1)
    user = auth.token_of(people, secret, client="10.2.2.2")
    assert user is not None and user.username == "bo"
    with people.connect() as conn:
        listed = store_users.tokens(conn, "bo")
        used = access_log.entries(conn, action="token.used")
    assert listed[0].last_used_at is not None and listed[0].expires_at is not None
    assert [(u.actor, u.object_id, u.client) for u in used] == [("bo", str(token_id),
                                                                  "10.2.2.2")]
    auth.token_of(people, secret)  # used again within a minute: not logged again
    with people.connect() as conn:
        assert len(access_log.entries(conn, action="token.used")) == 1
    with people.begin() as conn:
        conn.execute(sa.update(api_tokens).values(expires_at=now() - timedelta(seconds=1)))
    assert auth.token_of(people, secret) is None


def test_roles_change_and_the_last_admin_stays(people: Store) -> None:
    login = auth.log_in(people, SETTINGS, "bo", PASSWORD, client="c")
    with people.begin() as conn:
        store_users.assign(conn, ["C1"], "bo", actor="ana")
        changed = store_users.set_role(conn, "bo", "supervisor", actor="ana")
        assert changed.role == "supervisor" and store_users.assigned(conn, changed) == set()
    assert auth.session_of(people, SETTINGS, login.session_id) is None  # old rights end
    with people.begin() as conn, pytest.raises(ConflictError, match="last enabled admin"):
        store_users.set_role(conn, "ana", "auditor", actor="ana")
    with people.begin() as conn, pytest.raises(ConflictError, match="last enabled admin"):
        store_users.set_disabled(conn, "ana", True, actor="ana")


def test_the_command_line_acts_as_a_token_user_or_the_local_operator(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(auth.TOKEN_FILE_ENV, str(tmp_path / "tokens.json"))
    monkeypatch.delenv(auth.TOKEN_ENV, raising=False)
    local = auth.cli_actor(store, "users")  # no users yet: the local operator may do anything
    assert local.local and local.name.startswith("local:")
    with store.begin() as conn:
        store_users.create(conn, "ana", role="admin", password=PASSWORD, actor=local.name)
        store_users.create(conn, "bo", role="manager", password=PASSWORD, actor="ana")
        _, secret = store_users.new_token(conn, "bo", "cli", actor="ana")
    with pytest.raises(PermissionDenied, match="tierwise login"):
        auth.cli_actor(store, "override")
    monkeypatch.setenv(auth.TOKEN_ENV, secret)
    assert auth.cli_actor(store, "override").name == "bo"
    with pytest.raises(PermissionDenied, match="the role manager may not manage users"):
        auth.cli_actor(store, "users")
    monkeypatch.setenv(auth.TOKEN_ENV, "tw_forged")
    with pytest.raises(PermissionDenied, match="unknown, expired or revoked"):
        auth.cli_actor(store, None)
    monkeypatch.delenv(auth.TOKEN_ENV)
    path = auth.save_token(store, secret)  # what `tierwise login` does
    assert path.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert auth.cli_actor(store).name == "bo"
    auth.save_token(store, None)
    with pytest.raises(PermissionDenied):
        auth.cli_actor(store)
