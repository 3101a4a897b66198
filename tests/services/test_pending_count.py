"""The approvals badge: how many pending overrides wait for each user, counted in the store."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tierwise.services import overrides as override_service
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.services.overrides import Decision, OverrideRequest
from tierwise.store import users as store_users

JUNE = date(2026, 6, 30)


def test_pending_count_per_role_authorship_and_assignment(months: Path) -> None:
    project = Project.open(months)
    runs.backfill(project, ["steady"], [JUNE])  # steady requires approval: overrides wait
    store = runs.open_store(project)
    try:
        with store.begin() as conn:
            for name, role in (("sam", "supervisor"), ("ada", "admin"), ("max", "manager"),
                               ("mia", "manager"), ("aud", "auditor")):
                store_users.create(conn, name, role=role, password="long enough pass",
                                   actor="setup")
            store_users.assign(conn, ["C1", "C2"], "max", actor="setup")
            users = {n: store_users.by_name(conn, n) for n in ("sam", "ada", "max", "mia", "aud")}
        made = {}
        for customer, author in (("C1", "max"), ("C2", "sam"), ("C3", "ann")):
            made[customer] = override_service.create(
                project, OverrideRequest("steady", customer, kind="pin", tier="gold",
                                         reason="key account"), actor=author, store=store)
            assert made[customer].status == "pending"

        def counts() -> dict[str, int]:
            return {n: override_service.pending_count(store, u) for n, u in users.items()}

        # sam wrote C2's and cannot decide it; max sees C1 and C2 only; mia has no customers.
        assert counts() == {"sam": 2, "ada": 3, "max": 2, "mia": 0, "aud": 3}
        target = override_service.decidable(store, users["ada"], "approve", made["C1"].id)
        override_service.decide(project, target, Decision("approve", None, target.revision),
                                actor="ada", store=store)
        assert counts() == {"sam": 1, "ada": 2, "max": 1, "mia": 0, "aud": 2}
    finally:
        store.close()
