"""Users in the store: password hashes, login lock-out, tokens, sessions, assignments."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tierwise.errors import ConflictError, PermissionDenied, StoreError
from tierwise.store import Store, audit
from tierwise.store import users as store_users
from tierwise.store.tables import api_tokens, sessions, users

PASSWORD = "correct horse battery staple"


def test_passwords_are_salted_scrypt_hashes(store: Store) -> None:
    with store.begin() as conn:
        store_users.create(conn, "ana", role="supervisor", password=PASSWORD, actor="admin")
        store_users.create(conn, "bo", role="manager", password=PASSWORD, actor="admin")
        hashes = list(conn.execute(sa.select(users.c.password_hash)).scalars())
    assert all(h.startswith("scrypt$") and PASSWORD not in h for h in hashes)
    assert hashes[0] != hashes[1]  # same password, different salts
    with store.connect() as conn:
        found = store_users.check_credentials(conn, "ana", PASSWORD)
        assert found is not None and found.role == "supervisor"
        assert store_users.check_credentials(conn, "ana", "nope") is None
        assert store_users.check_credentials(conn, "nobody", PASSWORD) is None
    with store.begin() as conn, pytest.raises(StoreError, match="at least 12"):
        store_users.create(conn, "cy", role="auditor", password="short", actor="admin")
    with store.begin() as conn, pytest.raises(StoreError, match="role 'boss'"):
        store_users.create(conn, "cy", role="boss", password=PASSWORD, actor="admin")
    with store.begin() as conn, pytest.raises(ConflictError):
        store_users.create(conn, "ana", role="auditor", password=PASSWORD, actor="admin")


def test_tokens_and_sessions_are_stored_hashed_and_revocable(store: Store) -> None:
    with store.begin() as conn:
        store_users.create(conn, "ana", role="auditor", password=PASSWORD, actor="admin")
        token_id, secret = store_users.new_token(conn, "ana", "nightly export", actor="admin")
        user = store_users.by_name(conn, "ana")
        sid, csrf = store_users.new_session(conn, user)
    with store.connect() as conn:
        stored = list(conn.execute(sa.select(api_tokens.c.token_hash)).scalars())
        assert secret not in stored and len(stored[0]) == 64
        assert sid not in list(conn.execute(sa.select(sessions.c.id_hash)).scalars())
        found = store_users.user_for_token(conn, secret)
        assert found is not None and found.username == "ana"
        live = store_users.session_user(conn, sid)
        assert live is not None and live[:2] == (user, csrf)
        assert store_users.user_for_token(conn, secret + "x") is None
    with store.begin() as conn:
        store_users.revoke_token(conn, token_id, actor="admin")
        store_users.end_session(conn, sid)
    with store.connect() as conn:
        assert store_users.user_for_token(conn, secret) is None
        assert store_users.session_user(conn, sid) is None
        assert audit.verify(conn).ok


def test_only_managers_get_customers(store: Store) -> None:
    with store.begin() as conn:
        store_users.create(conn, "bo", role="manager", password=PASSWORD, actor="admin")
        store_users.create(conn, "cy", role="manager", password=PASSWORD, actor="admin")
        store_users.create(conn, "ana", role="supervisor", password=PASSWORD, actor="admin")
        assert store_users.assign(conn, ["C1", "C2", "C2"], "bo", actor="admin") == 2
        store_users.assign(conn, ["C2"], "cy", actor="admin")  # moves C2
        with pytest.raises(PermissionDenied, match="only managers"):
            store_users.assign(conn, ["C3"], "ana", actor="admin")
        bo, cy = store_users.by_name(conn, "bo"), store_users.by_name(conn, "cy")
        assert store_users.assigned(conn, bo) == {"C1"}
        assert store_users.assigned(conn, cy) == {"C2"}
