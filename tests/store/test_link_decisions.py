"""Decisions on pairs of records, on SQLite and PostgreSQL: stored in the database's own text
order (mixed-case ids), the latest per pair in force, audited."""

from __future__ import annotations

import pytest

from tierwise.errors import StoreError
from tierwise.store import audit
from tierwise.store import linkage as stored
from tierwise.store.db import Store


def test_decisions_on_mixed_case_ids(store_url: str) -> None:
    store = Store.open(store_url)
    try:
        with store.begin() as conn:
            # Code-point order and a locale's order disagree on these two.
            stored.decide(conn, "app:a1", "app:B1", decision="apart", reason="two people",
                          actor="boss")
            stored.decide(conn, "app:B1", "app:a1", decision="link", reason="same phone",
                          actor="boss")
            stored.decide(conn, "shop:S1", "app:a1", decision="link", reason="same email",
                          actor="ada")
            with pytest.raises(StoreError, match="the same record twice"):
                stored.decide(conn, "shop:S1", "shop:S1", decision="link", reason="x",
                              actor="ada")
        with store.connect() as conn:
            now = stored.in_force(conn, "app:a1", "app:B1")
            assert now is not None and now.decision == "link" and now.reason == "same phone"
            assert {frozenset((d.record_a, d.record_b)): d.decision
                    for d in stored.decisions(conn)} == {
                frozenset(("app:a1", "app:B1")): "link", frozenset(("shop:S1", "app:a1")): "link"}
            actions = [e.action for e in audit.events(conn)]
        assert actions.count("linkage.link") == 2 and actions.count("linkage.apart") == 1
    finally:
        store.close()
