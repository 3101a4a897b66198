"""The action ledger on both databases: a run's rows once, budgets per month, due deliveries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tests.services.conftest import months  # noqa: F401  (the project on both databases)
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.store.action_ledger import key_of


def _rows(ids: list[str], status: str = "planned") -> list[dict[str, object]]:
    return [{"customer_id": c, "edge": "enter", "from_tier": None, "to_tier": "gold",
             "value": 10.0, "status": status} for c in ids]


def test_rows_are_written_once_and_delivered_one_by_one(months: Path) -> None:  # noqa: F811
    project = Project.open(months)
    first, second = runs.backfill(project, ["tier"], [date(2026, 5, 31), date(2026, 6, 30)])
    store = runs.open_store(project)
    try:
        with store.write() as tx:
            assert tx.actions.record("coupon", "tier", first.run.id, date(2026, 5, 31),
                                     _rows(["C1", "C2"]) + _rows(["C3"], "holdout")) == 3
        with store.write() as tx:  # the same run again (a resumed plan) adds nothing
            assert tx.actions.record("coupon", "tier", first.run.id, date(2026, 5, 31),
                                     _rows(["C1", "C2", "C4"])) == 1
            assert tx.actions.recorded("coupon", first.run.id)
            assert not tx.actions.recorded("coupon", second.run.id)
            tx.actions.record("coupon", "tier", second.run.id, date(2026, 6, 30),
                              _rows(["C1"], "over_budget") + _rows(["C5"]))
        with store.read() as tx:
            listed = tx.actions.entries("coupon", run_id=first.run.id)
            assert [e.customer_id for e in listed] == ["C1", "C2", "C3", "C4"]
            assert listed[0].key == key_of("coupon", first.run.id, "C1")
            assert len({e.key for e in tx.actions.entries("coupon")}) == 6
            # A month's budget counts what was reached, not the holdout or the over budget.
            assert tx.actions.treated_between("coupon", date(2026, 5, 1), date(2026, 5, 31)) == 3
            assert tx.actions.treated_between("coupon", date(2026, 6, 1), date(2026, 6, 30)) == 1
            assert tx.actions.treated_between("coupon", date(2026, 5, 1), date(2026, 5, 31),
                                              besides=first.run.id) == 0
        at = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
        with store.write() as tx:
            due = tx.actions.due("coupon", at)
            assert [e.customer_id for e in due] == ["C1", "C2", "C4", "C5"]
            tx.actions.mark(due[0].id, "sent")
            tx.actions.mark(due[1].id, "failed", error="HTTP 500",
                            next_try_at=at + timedelta(seconds=30))
            tx.actions.mark(due[2].id, "dead", error="timed out")
        with store.read() as tx:
            assert [e.customer_id for e in tx.actions.due("coupon", at)] == ["C5"]
            later = tx.actions.due("coupon", at + timedelta(minutes=1))
            assert [e.customer_id for e in later] == ["C2", "C5"]
            sent = tx.actions.entries("coupon", status="sent")[0]
            assert sent.attempts == 1 and sent.sent_at is not None
            assert tx.actions.counts("coupon", first.run.id) == {
                "sent": 1, "failed": 1, "dead": 1, "holdout": 1}
    finally:
        store.close()
