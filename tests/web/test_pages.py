"""The dashboard on the real app: login and CSRF, overview charts, languages, customers,
overrides and approvals, audit; roles and a manager's customers checked on every page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.clients import PASSWORD, ROLES, dashboard, hidden, login
from tierwise.reports import charts
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.store import overrides as store_overrides


@pytest.fixture
def client(months: Path) -> Iterator[TestClient]:
    # Tier labels in both languages, as a scheme for a Chinese-speaking team would have them.
    yaml = months / "tierwise.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace(
        "label: Gold", "label: {en: Gold, zh: 金卡}"), encoding="utf-8")
    project = Project.open(months)
    runs.backfill(project, ["tier", "steady"], [date(2026, 5, 31), date(2026, 6, 30)])
    with dashboard(months, ROLES, {"max": ["C1", "C2"]}) as test_client:
        yield test_client


def test_charts_are_svg_and_escape_text() -> None:
    bar = charts.bars([("<b>gold</b>", 3), ("silver & co", 0)], title='"mix"')
    assert bar.startswith("<svg") and "<b>" not in bar and "&lt;b&gt;gold" in bar
    assert "silver &amp; co" in bar and "&quot;mix&quot;" in bar
    line = charts.lines(["2026-05-31", "2026-06-30"], {"gold": [1, 2], "<x>": [0, 0]},
                        title="trend")
    assert line.count("<polyline") == 2 and "&lt;x&gt;" in line
    assert charts.lines(["only"], {"a": [0]}, title="t").startswith("<svg")


def test_login_form_flow_and_csrf(client: TestClient) -> None:
    assert client.get("/").headers["location"] == "/login"
    assert client.get("/overview").headers["location"] == "/login"
    form = client.get("/login")
    assert form.status_code == 200 and 'name="password"' in form.text
    token = hidden(form.text)
    bad = client.post("/login", data={"username": "sam", "password": "nope", "csrf": token})
    assert bad.status_code == 403 and "Login failed" in bad.text
    # No token (or a wrong one) is refused before the password is even checked.
    assert client.post("/login", data={"username": "sam", "password": PASSWORD}
                       ).status_code == 403
    assert "tw_session" not in client.cookies
    csrf = login(client, "sam")
    assert client.get("/").headers["location"] == "/overview"
    # The same session works for the REST API.
    assert client.get("/api/v1/me").json()["username"] == "sam"
    assert client.post("/logout").status_code == 403
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    out = client.post("/logout", data={"csrf": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/overview").headers["location"] == "/login"


def test_overview_shows_mix_trend_and_moves(client: TestClient) -> None:
    login(client, "aud")
    page = client.get("/overview", params={"scheme": "tier"})
    assert page.status_code == 200
    text = page.text
    assert text.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 2
    for key, label in (("gold", "Gold"), ("silver", "Silver"), ("bronze", "Bronze")):
        assert f'<a href="/customers?scheme=tier&amp;tier={key}">{label}</a>' in text
    assert ">May 31</text>" in text and ">Jun 30</text>" in text  # the trend's x axis
    assert "Moves since the previous run" in text and "not graded" in text
    # 5 customers in all (months fixture), shown in the total row.
    assert re.search(r'Total</th><td class="text-end fw-bold">5<', text)
    assert not re.search(r"<th[^>]*></th>", text)  # every header cell names its column or row
    # Value (spend_3m) of the gold customer C1: 3 orders x 100 = 300.00, all the value there is.
    assert '<td class="text-end">300.00</td><td class="text-end">100.0%</td>' in text
    assert client.get("/overview", params={"scheme": "nope"}).status_code == 404


def test_chinese_pages(client: TestClient) -> None:
    login(client, "aud")
    page = client.get("/overview", params={"scheme": "tier", "lang": "zh"})
    assert page.status_code == 200 and "结果概览" in page.text and "概览" in page.text
    assert '<html lang="zh-Hans">' in page.text
    # Tier labels in Chinese where the scheme has one, in the table and the chart.
    assert ">金卡</a></th>" in page.text and ">金卡</text>" in page.text
    assert ">Silver</a></th>" in page.text  # no Chinese label: the English one
    assert ">5月31日</text>" in page.text and "截至 2026年6月30日" in page.text  # Chinese dates
    # The choice is kept in a cookie for the next pages.
    assert client.cookies.get("tw_lang") == "zh-Hans"
    assert "客户" in client.get("/customers", params={"scheme": "tier"}).text
    back = client.get("/overview", params={"lang": "en"})
    assert "Results overview" in back.text and "结果概览" not in back.text
    assert '<html lang="en">' in back.text


def test_customer_page_shows_reasons_and_history(client: TestClient) -> None:
    login(client, "aud")
    page = client.get("/customers/C1", params={"scheme": "tier"})
    assert page.status_code == 200
    assert "Reasons" in page.text and "orders_3m" in page.text
    assert "<strong>Gold</strong>" in page.text
    assert "<td>May 31, 2026</td>" in page.text  # the first spell of the timeline
    zh = client.get("/customers/C1", params={"scheme": "tier", "lang": "zh"}).text
    assert "<td>2026年5月31日</td>" in zh
    # An auditor reads but may not override: no form.
    assert "New override" not in page.text
    assert client.get("/customers/C404", params={"scheme": "tier"}).status_code == 404


def test_manager_sees_only_assigned_customers(client: TestClient) -> None:
    login(client, "max")
    listed = client.get("/customers", params={"scheme": "tier"})
    assert listed.status_code == 200
    ids = set(re.findall(r'href="/customers/(C\d+)\?', listed.text))
    assert ids == {"C1", "C2"}
    refused = client.get("/customers/C3", params={"scheme": "tier"})
    assert refused.status_code == 404 and "not among your customers" in refused.text
    assert client.get("/customers/C1", params={"scheme": "tier"}).status_code == 200
    assert client.get("/audit").status_code == 403
    # The overview adds the mix of their own two customers; C1 is gold with 300.00 of value.
    own = client.get("/overview", params={"scheme": "tier"}).text
    mine = own.split('<table class="table table-sm table-hover own">')[1].split("</table>")[0]
    assert re.search(r'Total</th><td class="text-end fw-bold">2<', mine)
    assert re.search(r'>Gold</a></td><td class="text-end">1</td><td class="text-end">50.0%'
                     r'</td><td class="text-end">300.00</td>', mine)
    assert "count every customer of the book" in own


def test_overview_of_other_roles_has_no_own_section(client: TestClient) -> None:
    login(client, "aud")
    assert "Your customers" not in client.get("/overview", params={"scheme": "tier"}).text


def test_bad_condition_is_a_message(client: TestClient) -> None:
    login(client, "aud")
    page = client.get("/customers", params={"scheme": "tier", "where": "orders_3m >>> 1"})
    assert page.status_code == 422 and "Not done" in page.text


def _override(client: TestClient, csrf: str, customer: str = "C1") -> int:
    made = client.post(f"/customers/{customer}/overrides",
                       data={"csrf": csrf, "scheme": "steady", "kind": "pin", "tier": "gold",
                             "reason": "key account", "expires": ""})
    assert made.status_code == 303, made.text
    assert "override=" in made.headers["location"]
    shown = client.get(made.headers["location"])
    assert "waits for a supervisor&#39;s approval" in shown.text and "key account" in shown.text
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.connect() as conn:
        found = store_overrides.listing(conn, scheme="steady", customer_id=customer)
    assert [o.status for o in found] == ["pending"]
    return found[0].id


def test_override_form_needs_csrf_and_creates_a_pending_override(client: TestClient) -> None:
    csrf = login(client, "max")
    no_token = client.post("/customers/C1/overrides",
                           data={"scheme": "steady", "kind": "pin", "tier": "gold",
                                 "reason": "x"})
    assert no_token.status_code == 403
    refused = client.post("/customers/C3/overrides",
                          data={"csrf": csrf, "scheme": "steady", "kind": "pin",
                                "tier": "gold", "reason": "not mine"})
    assert refused.status_code == 404
    _override(client, csrf)


def test_approvals_by_another_supervisor_not_the_author(client: TestClient) -> None:
    csrf = login(client, "sam")
    override_id = _override(client, csrf)
    page = client.get("/approvals")
    # The author sees their override waiting, without buttons they may not use...
    assert "key account" in page.text and f'action="/approvals/{override_id}"' not in page.text
    assert "You wrote it: a second person decides." in page.text
    revision = "1"
    # ...and a decision posted anyway is refused.
    own = client.post(f"/approvals/{override_id}",
                      data={"csrf": csrf, "action": "approve", "revision": revision})
    assert own.status_code == 403 and "cannot approve or reject it" in own.text
    assert client.post(f"/approvals/{override_id}",
                       data={"action": "approve", "revision": revision}).status_code == 403
    client.cookies.clear()
    # A manager sees the pending override of their customer but may not decide it.
    login(client, "max")
    mgr = client.get("/approvals")
    assert "key account" in mgr.text and 'name="action"' not in mgr.text
    client.cookies.clear()
    csrf = login(client, "sue")
    assert hidden(client.get("/approvals").text, "revision") == revision
    done = client.post(f"/approvals/{override_id}",
                       data={"csrf": csrf, "action": "approve", "revision": revision,
                             "note": "ok"})
    assert done.status_code == 303
    assert "Decision saved" in client.get(done.headers["location"]).text
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.connect() as conn:
        assert store_overrides.get(conn, override_id).status == "active"
    again = client.post(f"/approvals/{override_id}",
                        data={"csrf": csrf, "action": "approve", "revision": revision})
    assert again.status_code == 409 and "changed since you read it" in again.text


def test_audit_page_for_auditors_only(client: TestClient) -> None:
    login(client, "max")
    refused = client.get("/audit")
    assert refused.status_code == 403 and "may not open this page" in refused.text
    client.cookies.clear()
    login(client, "aud")
    client.get("/customers/C1", params={"scheme": "tier"})  # a read, for the access log
    page = client.get("/audit")
    assert page.status_code == 200 and "hash chain is intact" in page.text
    assert "user" in page.text  # the setup's user events
    access = page.text.split("Access log", 1)[1]
    assert "customer.read" in access and "customer C1" in access
    assert "login.refused_locked" not in access


def test_static_css_and_bootstrap_are_served_from_our_origin(client: TestClient) -> None:
    css = client.get("/static/app.css")
    assert css.status_code == 200 and "--bs-font-sans-serif" in css.text
    # Bootstrap comes from the installed bootstrap-wrapper package, never from a CDN.
    for path in ("/static/vendor/bootstrap/css/bootstrap.min.css",
                 "/static/vendor/bootstrap/js/bootstrap.bundle.min.js"):
        served = client.get(path)
        assert served.status_code == 200 and "Bootstrap" in served.text[:400], path
    page = client.get("/login")
    assert 'href="/static/vendor/bootstrap/css/bootstrap.min.css"' in page.text
    assert "<script>" not in page.text and "http" not in page.text.split("<body>")[0]


def test_the_author_or_a_supervisor_revokes_an_override(client: TestClient) -> None:
    csrf = login(client, "max")
    override_id = _override(client, csrf)
    page = client.get("/customers/C1", params={"scheme": "steady"})
    url = f"/customers/C1/overrides/{override_id}/revoke"
    assert f'action="{url}"' in page.text  # the author sees the button
    stale = client.post(url, data={"csrf": csrf, "scheme": "steady", "revision": "9"})
    assert stale.status_code == 409
    assert client.post(url, data={"scheme": "steady", "revision": "1"}).status_code == 403
    done = client.post(url, data={"csrf": csrf, "scheme": "steady", "revision": "1"})
    assert done.status_code == 303 and "done=revoked" in done.headers["location"]
    assert "Override revoked" in client.get(done.headers["location"]).text
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.connect() as conn:
        assert store_overrides.get(conn, override_id).status == "revoked"
        assert store_overrides.get(conn, override_id).decided_by == "max"
