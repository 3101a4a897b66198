"""A page that does not exist: the dashboard's own page for a browser, JSON for the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.clients import dashboard, login

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def client(months: Path) -> Iterator[TestClient]:
    with dashboard(months) as test_client:
        yield test_client


def test_a_browser_gets_the_dashboards_page_in_its_language(client: TestClient) -> None:
    page = client.get("/overveiw", headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Not found." in page.text and "there is no page at /overveiw" in page.text
    assert "Log in" in page.text  # not logged in: the page offers the login, no menu
    chinese = client.get("/overveiw?lang=zh-Hans", headers=HTML)
    assert chinese.status_code == 404 and "/overveiw 没有页面" in chinese.text


def test_a_logged_in_user_keeps_the_menu(client: TestClient) -> None:
    login(client, "sam")
    page = client.get("/custmers", headers=HTML)
    assert page.status_code == 404 and "there is no page at /custmers" in page.text
    assert 'href="/customers' in page.text and "sam" in page.text


def test_a_hostile_path_is_shown_as_text(client: TestClient) -> None:
    page = client.get("/%3Cscript%3Ealert(1)%3C%2Fscript%3E", headers=HTML)
    assert page.status_code == 404 and "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)" in page.text


@pytest.mark.parametrize(("method", "path", "headers", "status"), [
    ("GET", "/api/v1/nosuch", HTML, 404),          # an API path, even from a browser
    ("GET", "/nosuch", {"Accept": "application/json"}, 404),  # a client not asking for HTML
    ("POST", "/nosuch", HTML, 404),                 # not a page visit
    ("DELETE", "/api/v1/runs", {}, 405),            # a wrong method stays a wrong method
])
def test_everything_else_still_gets_the_apis_json(client: TestClient, method: str, path: str,
                                                   headers: dict[str, str], status: int) -> None:
    answer = client.request(method, path, headers=headers)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["code"] in ("not_found", "method_not_allowed")


def test_a_routes_own_not_found_keeps_its_words(client: TestClient) -> None:
    from fastapi import HTTPException

    def own() -> None:
        raise HTTPException(404, "customer 42 is not in this run")

    client.app.add_api_route("/own-missing", own)  # type: ignore[attr-defined]
    answer = client.get("/own-missing", headers=HTML)
    assert answer.status_code == 404 and answer.json()["message"] == "customer 42 is not in this run"


def test_the_page_is_shown_when_the_store_cannot_say_who_asks(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from tierwise.errors import StoreError
    from tierwise.web import routes

    def down(request: object) -> None:
        raise StoreError("the store is down")

    monkeypatch.setattr(routes, "page_user", down)
    page = client.get("/overveiw", headers=HTML)
    assert page.status_code == 404 and "there is no page at /overveiw" in page.text
