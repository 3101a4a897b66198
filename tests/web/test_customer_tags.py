"""Tags applied by a tag action show on the customer's page and in the API."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.services.test_action_plans import DATES, write_shop
from tests.web.clients import dashboard, login
from tierwise.services import delivery, runs
from tierwise.services.actions import customer_tags


def test_a_loyal_customer_shows_the_tag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    project = write_shop(tmp_path / "shop")
    outcomes = runs.backfill(project, ["tier"], DATES)
    store = runs.open_store(project)
    done = delivery.deliver(project, store, "loyal")
    with store.read() as tx:
        tagged = [e.customer_id for e in tx.actions.entries("loyal", status="sent")]
    assert done.sent == len(tagged) > 0
    one = tagged[0]
    assert [(t.name, t.since) for t in customer_tags(project, store, one)] == [
        ("loyal", date(2026, 6, 30))]
    untagged = next(c for c in (f"C{i:03d}" for i in range(300)) if c not in tagged)
    assert customer_tags(project, store, untagged) == []
    store.close()
    assert outcomes[-1].as_of == date(2026, 6, 30)
    with dashboard(project.root, {"aud": "auditor"}) as client:
        login(client, "aud")
        page = client.get(f"/customers/{one}", params={"scheme": "tier"}).text
        assert '<span class="badge text-bg-info me-1"' in page and ">loyal</span>" in page
        assert ">loyal</span>" not in client.get(f"/customers/{untagged}",
                                                 params={"scheme": "tier"}).text
        body = client.get(f"/api/v1/customers/{one}", params={"scheme": "tier"}).json()
        assert body["tags"] == [{"name": "loyal", "action": "loyal", "since": "2026-06-30"}]
