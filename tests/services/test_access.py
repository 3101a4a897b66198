"""Who may approve, reject or revoke an override: one rule for the API and the dashboard."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tierwise.errors import NotFoundError, PermissionDenied
from tierwise.services import access
from tierwise.store import Store
from tierwise.store import users as store_users
from tierwise.store.overrides import Override
from tierwise.store.users import User


def _override(author: str, customer: str = "C1") -> Override:
    return Override(7, "tier", customer, "pin", "gold", "why", author, datetime.now(UTC),
                    date(2026, 1, 1), None, "active", None, None, None, 1)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_decisions_follow_role_authorship_and_assignment(store: Store) -> None:
    with store.begin() as conn:
        for name, role in (("sam", "supervisor"), ("max", "manager"), ("aud", "auditor")):
            store_users.create(conn, name, role=role, password="long enough pass",
                               actor="setup")
        store_users.assign(conn, ["C1"], "max", actor="setup")
        users: dict[str, User] = {u.username: u for u in store_users.listing(conn)}
    sam, max_, aud = users["sam"], users["max"], users["aud"]
    # A supervisor decides anything; a manager revokes their own override only.
    for action in ("approve", "reject", "revoke"):
        access.require_decision(store, sam, _override("max"), action)
    access.require_decision(store, max_, _override("max"), "revoke")
    with pytest.raises(PermissionDenied):
        access.require_decision(store, max_, _override("sam"), "revoke")
    with pytest.raises(PermissionDenied):
        access.require_decision(store, max_, _override("max"), "approve")
    with pytest.raises(PermissionDenied):  # an auditor changes nothing, not even "own"
        access.require_decision(store, aud, _override("aud"), "revoke")
    # Another manager's customer reads as a missing override.
    with pytest.raises(NotFoundError, match="no override #7"):
        access.require_decision(store, max_, _override("max", customer="C2"), "revoke")
