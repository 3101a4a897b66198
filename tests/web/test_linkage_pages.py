"""The linked-customers page: the review queue, decisions by role, refusals on the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.cli.test_link_cli import write_shops
from tests.web.clients import dashboard, login
from tierwise.services import linkage, runs
from tierwise.services.grading import Project

pytest.importorskip("splink")


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    folder = write_shops(tmp_path / "shops", people=300)
    with dashboard(folder, {"aud": "auditor", "boss": "supervisor", "max": "manager"}) as found:
        project = Project.open(folder)
        store = runs.open_store(project)
        try:
            linkage.run(project, store, actor="setup")
        finally:
            store.close()
        yield found


def test_a_supervisor_decides_a_pair_on_the_page(client: TestClient) -> None:
    csrf = login(client, "boss")
    page = client.get("/linkage")
    assert page.status_code == 200
    assert 'href="/linkage"' in page.text and "link-pair" in page.text
    first = page.text.split('name="record_a" value="')[1].split('"')[0]
    second = page.text.split('name="record_b" value="')[1].split('"')[0]
    empty = client.post("/linkage/decide", data={"csrf": csrf, "record_a": first,
                                                 "record_b": second, "decision": "link",
                                                 "reason": " "})
    assert empty.status_code == 422 and "give a reason for the decision" in empty.text
    done = client.post("/linkage/decide", data={"csrf": csrf, "record_a": first,
                                                "record_b": second, "decision": "link",
                                                "reason": "same email"})
    assert done.status_code == 303 and done.headers["location"] == "/linkage?done=decided"
    after = client.get("/linkage?done=decided")
    assert "Decision saved" in after.text
    pairs_after = [(a.split('"')[0], b.split('"')[0]) for a, b in zip(
        after.text.split('name="record_a" value="')[1:],
        after.text.split('name="record_b" value="')[1:], strict=True)]
    assert (first, second) not in pairs_after
    forged = client.post("/linkage/decide", data={"csrf": "nope", "record_a": first,
                                                  "record_b": second, "decision": "apart",
                                                  "reason": "x"})
    assert forged.status_code in (400, 403)


def test_readers_see_the_queue_without_deciding(client: TestClient) -> None:
    for who in ("aud", "max"):
        client.cookies.clear()
        csrf = login(client, who)
        page = client.get("/linkage", params={"lang": "zh"})
        if who == "aud":
            assert page.status_code == 200 and "link-pair" in page.text
            assert 'action="/linkage/decide"' not in page.text
        else:  # a manager sees only their own customers, not every system's records
            assert page.status_code == 403 and "link-pair" not in page.text
        refused = client.post("/linkage/decide", data={
            "csrf": csrf, "record_a": "shop:S0000001", "record_b": "app:A0000001",
            "decision": "link", "reason": "x"})
        assert refused.status_code == 403
