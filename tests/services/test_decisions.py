"""One decision path for every edge: who may see and decide an override, at which revision."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tierwise.errors import NotFoundError
from tierwise.services import overrides as override_service
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.services.overrides import Decision, OverrideRequest, StaleOverride
from tierwise.store import users as store_users

JUNE = date(2026, 6, 30)


def test_decidable_and_decide_check_visibility_page_and_revision(months: Path) -> None:
    project = Project.open(months)
    runs.backfill(project, ["tier"], [JUNE])
    store = runs.open_store(project)
    try:
        with store.begin() as conn:
            for name, role in (("sam", "supervisor"), ("max", "manager")):
                store_users.create(conn, name, role=role, password="long enough pass",
                                   actor="setup")
            store_users.assign(conn, ["C1"], "max", actor="setup")
            sam, max_ = (store_users.by_name(conn, n) for n in ("sam", "max"))
        made = override_service.create(
            project, OverrideRequest("tier", "C2", kind="pin", tier="gold", reason="key account"),
            actor="ann", store=store)
        # A manager without C2 finds the override neither in a listing nor by its id.
        assert [o.id for o in override_service.listing(store)] == [made.id]
        assert override_service.listing(store, user=max_) == []
        with pytest.raises(NotFoundError, match=f"no override #{made.id}"):
            override_service.visible(store, max_, made.id)
        with pytest.raises(NotFoundError, match=f"no override #{made.id}"):
            override_service.decidable(store, max_, "revoke", made.id)
        # Decided from another customer's page, it reads as missing too.
        with pytest.raises(NotFoundError, match="is not one of C1's"):
            override_service.decidable(store, sam, "revoke", made.id, customer_id="C1")
        target = override_service.decidable(store, sam, "revoke", made.id, customer_id="C2")
        stale = Decision("revoke", revision=target.revision + 1)
        with pytest.raises(StaleOverride, match="changed since you read it"):
            override_service.decide(project, target, stale, actor="sam", store=store)
        done = override_service.decide(project, target,
                                       Decision("revoke", "no longer needed", target.revision),
                                       actor="sam", store=store)
        assert (done.status, done.decided_by, done.revision) == (
            "revoked", "sam", target.revision + 1)
    finally:
        store.close()
