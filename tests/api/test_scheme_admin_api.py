"""The REST API's scheme administration: create, duplicate, rename, retire, restore; roles."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api import test_api
from tests.api.test_api import token

client = test_api.client  # the months project with two runs and one user per role


def test_create_from_a_template_or_a_spec(client: TestClient) -> None:
    sup = token(client, "sam")
    listed = client.get("/api/v1/scheme-templates", headers=token(client, "aud")).json()
    blank = next(t for t in listed if t["key"] == "blank")
    assert blank["missing_indicators"] == [] and blank["method"] == "rules"
    abc = next(t for t in listed if t["key"] == "abc")
    assert abc["missing_indicators"] == ["spend_12m"] and "agg: sum" in abc["suggested"]["spend_12m"]
    made = client.post("/api/v1/schemes", headers=sup,
                       json={"name": "plain", "title": "Plain", "template": "blank"})
    assert made.status_code == 201, made.text
    assert made.json() == {"name": "plain", "title": "Plain", "active_version": 1,
                           "retired": False}
    spec = {"method": "rules", "fallback": "rest",
            "tiers": [{"key": "buyer", "when": "orders_3m >= 1"}, {"key": "rest"}]}
    own = client.post("/api/v1/schemes", headers=sup, json={"name": "buyers", "spec": spec})
    assert own.status_code == 201 and own.json()["title"] == "buyers"
    versions = client.get("/api/v1/schemes/buyers/versions", headers=sup).json()
    assert versions[0]["active"] and versions[0]["spec"]["tiers"][0]["when"] == "orders_3m >= 1"
    taken = client.post("/api/v1/schemes", headers=sup, json={"name": "tier"})
    assert taken.status_code == 409
    bad = client.post("/api/v1/schemes", headers=sup, json={"name": "../x"})
    assert bad.status_code == 422 and "scheme name" in bad.text
    invalid = client.post("/api/v1/schemes", headers=sup, json={
        "name": "broken", "spec": {"method": "rules", "fallback": "x", "tiers": [
            {"key": "a", "when": "no_such >= 1"}, {"key": "x"}]}})
    assert invalid.status_code == 422 and "no_such" in invalid.text
    unfit = client.post("/api/v1/schemes", headers=sup, json={"name": "s", "template": "abc"})
    assert unfit.status_code == 422 and "spend_12m" in unfit.text


def test_duplicate_rename_retire_restore_and_roles(client: TestClient) -> None:
    sup, mgr = token(client, "sam"), token(client, "max")
    copy = client.post("/api/v1/schemes/tier/duplicate", headers=sup,
                       json={"name": "tier2", "title": "Tier copy"})
    assert copy.status_code == 201 and copy.json()["active_version"] == 1
    renamed = client.post("/api/v1/schemes/tier/rename", headers=sup, json={"title": "Monthly"})
    assert renamed.json()["title"] == "Monthly" and renamed.json()["name"] == "tier"
    retired = client.post("/api/v1/schemes/tier2/retire", headers=sup)
    assert retired.json()["retired"] is True
    names = [s["name"] for s in client.get("/api/v1/schemes", headers=sup).json()]
    assert "tier2" not in names and "tier" in names
    restored = client.post("/api/v1/schemes/tier2/restore", headers=sup)
    assert restored.json()["retired"] is False
    for url in ("/api/v1/schemes/tier/retire", "/api/v1/schemes/tier/restore"):
        assert client.post(url, headers=mgr).status_code == 403
    assert client.post("/api/v1/schemes", headers=mgr, json={"name": "m"}).status_code == 403
    assert client.post("/api/v1/schemes/nope/retire", headers=sup).status_code == 404
    schema = client.get("/openapi.json").json()
    for path in ("/api/v1/schemes", "/api/v1/schemes/{name}/duplicate",
                 "/api/v1/schemes/{name}/rename", "/api/v1/schemes/{name}/retire",
                 "/api/v1/schemes/{name}/restore"):
        assert "post" in schema["paths"][path], path
