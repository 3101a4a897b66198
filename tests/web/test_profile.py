"""The customer profile on the real app: attributes, recent orders, the class in every scheme,
and a re-classification that shows at once or says when and why it will."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.clients import dashboard, hidden, login
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.store import overrides as store_overrides

ROLES = {"sam": "supervisor", "sue": "supervisor", "max": "manager", "aud": "auditor"}
CUSTOMERS = """
  customers:
    path: customers.csv
    columns:
      customer_id: {type: string}
      name: {type: string}
      phone: {type: string, label: {en: Mobile, zh: 手机号码, zh-Hant: 手機號碼}}
      email: {type: string, required: false}
"""


@pytest.fixture
def client(months: Path) -> Iterator[TestClient]:
    yaml = months / "tierwise.yaml"
    text = yaml.read_text(encoding="utf-8")
    text = re.sub(r"\n  customers:\n    path: customers.csv\n    columns:\n"
                  r"      customer_id: \{type: string\}\n", CUSTOMERS, text)
    text = text.replace("label: Gold", "label: {en: Gold, zh: 金卡}")
    yaml.write_text(text, encoding="utf-8")
    (months / "customers.csv").write_text(
        "customer_id,name,phone,email\nC1,Ada Lovelace,+44 20 7946 0001,ada@example.com\n"
        "C2,Li Wei,13800000002,\nC3,Chen Jing,13800000003,chen@example.com\nC4,D,1,\n"
        "C5,E,2,\n", encoding="utf-8")
    project = Project.open(months)
    runs.backfill(project, ["tier", "steady"], [date(2026, 5, 31), date(2026, 6, 30)])
    with dashboard(months, ROLES, {"max": ["C1", "C2"]}) as test_client:
        yield test_client


def _form(page: str) -> dict[str, str]:
    """The override form's fields as the page fills them in."""
    form = page.split('class="card mt-3 override-form"', 1)[1].split("</form>", 1)[0]
    return {"csrf": hidden(form), "scheme": hidden(form, "scheme"),
            "valid_from": re.search(r'name="valid_from" type="date" value="([^"]*)"',
                                    form).group(1)}  # type: ignore[union-attr]


def test_profile_shows_attributes_orders_and_every_scheme(client: TestClient) -> None:
    login(client, "aud")
    page = client.get("/customers/C1", params={"scheme": "tier"})
    assert page.status_code == 200, page.text
    text = page.text
    assert "Ada Lovelace" in text and 'href="tel:+442079460001"' in text
    assert ">Mobile</dt>" in text and 'href="mailto:ada@example.com"' in text
    # Both schemes' classes, each with its own card.
    assert text.count('class="card h-100 scheme-class"') == 2
    assert 'data-scheme="tier"' in text and 'data-scheme="steady"' in text
    # A labelled tier shows its label and key; a tier labelled by its key (steady's) once.
    cards = {s: text.split(f'data-scheme="{s}"', 1)[1].split("</section>", 1)[0]
             for s in ("tier", "steady")}
    assert ">Gold</span> <code>gold</code>" in cards["tier"]
    assert ">gold</span>" in cards["steady"] and "<code>gold</code>" not in cards["steady"]
    # The latest orders, newest first (C1 ordered on the 15th of every month until June 2026),
    # amounts in the reader's locale, the id column left out.
    orders = text.split('data-source="transactions"', 1)[1].split("</section>", 1)[0]
    assert orders.index("Jun 15, 2026") < orders.index("May 15, 2026")
    assert ">100.00</td>" in orders and ">Order number</th>" in orders
    assert orders.count("<tr>") == 21  # a header and 20 rows, although C1 has 26 orders
    zh = client.get("/customers/C1", params={"scheme": "tier", "lang": "zh"}).text
    assert ">手机号码</dt>" in zh and "最近事件" in zh and "2026年6月15日" in zh
    assert "金卡" in zh and "各方案中的等级" in zh


def test_reclassification_shows_at_once_with_its_reason(client: TestClient) -> None:
    csrf = login(client, "sam")
    page = client.get("/customers/C3", params={"scheme": "tier"}).text
    assert "<strong>Bronze</strong>" in page
    form = _form(page)
    # The form starts the override on the latest graded date, the date the page shows.
    assert form["valid_from"] == "2026-06-30" and form["csrf"] == csrf
    made = client.post("/customers/C3/overrides", data={
        **form, "kind": "pin", "tier": "gold", "reason": "key account", "expires": ""})
    assert made.status_code == 303, made.text
    shown = client.get(made.headers["location"]).text
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.connect() as conn:
        [o] = store_overrides.listing(conn, scheme="tier", customer_id="C3")
    assert o.status == "active" and o.valid_from == date(2026, 6, 30)
    notice = shown.split('id="notice"', 1)[1].split("</div>", 1)[0]
    assert "alert-success" in notice
    assert f"Override #{o.id} saved: customer C3 is now Gold in tier" in notice
    assert "<strong>Gold</strong>" in shown and f"override #{o.id}" in shown
    assert "key account" in shown
    # The class card says where the class comes from until the next run records it.
    assert "decided after the run of" in shown


def test_override_without_a_start_applies_from_the_graded_date(client: TestClient) -> None:
    # The service default (and so the API's): the latest graded date, not today.
    csrf = login(client, "sam")
    made = client.post("/api/v1/overrides", headers={"X-CSRF-Token": csrf}, json={
        "scheme": "tier", "customer_id": "C5", "kind": "floor", "tier": "silver",
        "reason": "new branch"})
    assert made.status_code == 201, made.text
    assert made.json()["valid_from"] == "2026-06-30"
    shown = client.get("/api/v1/customers/C5", params={"scheme": "tier"}).json()
    assert shown["grade"]["tier"] == "silver"
    assert f"override #{made.json()['id']}" in shown["grade"]["reasons"]


def test_an_override_waiting_for_approval_says_so(client: TestClient) -> None:
    csrf = login(client, "max")
    page = client.get("/customers/C2", params={"scheme": "steady"}).text
    assert "waits for a supervisor&#39;s approval before it applies" in page  # the rule
    made = client.post("/customers/C2/overrides", data={
        **_form(page), "kind": "pin", "tier": "gold", "reason": "contract"})
    assert made.status_code == 303, made.text
    shown = client.get(made.headers["location"]).text
    notice = shown.split('id="notice"', 1)[1].split("</div>", 1)[0]
    assert "alert-warning" in notice and "waits for a supervisor&#39;s approval" in notice
    assert "Until then the class shown stays" in notice
    assert "Override saved." not in shown
    # A later start says from when.
    client.cookies.clear()
    csrf = login(client, "sam")
    later = client.post("/customers/C4/overrides", data={
        "csrf": csrf, "scheme": "tier", "kind": "pin", "tier": "gold", "reason": "promo",
        "valid_from": "2026-07-31"})
    assert later.status_code == 303, later.text
    notice = client.get(later.headers["location"]).text.split('id="notice"', 1)[1]
    assert "it applies from Jul 31, 2026, after the latest graded date Jun 30, 2026" in notice
    assert "alert-success" not in notice.split("</div>", 1)[0]


def test_refused_forms_keep_what_was_typed(client: TestClient) -> None:
    csrf = login(client, "sam")
    data = {"csrf": csrf, "scheme": "tier", "kind": "ceiling", "tier": "silver",
            "reason": "dispute <open>", "valid_from": "2026-01-01", "expires": "2026-09-30"}
    refused = client.post("/customers/C1/overrides", data=data)
    assert refused.status_code == 422
    problem = refused.text.split('id="override-problem"', 1)[1].split("</div>", 1)[0]
    assert "alert-danger" in problem and "overrides.max_backdate_days" in problem
    assert "start it on" in problem and "2026-06-30" in problem
    assert "dispute &lt;open&gt;</textarea>" in refused.text
    assert 'value="2026-01-01"' in refused.text and 'value="2026-09-30"' in refused.text
    assert '<option value="silver" selected>' in refused.text
    assert '<option value="ceiling" selected>' in refused.text
    typo = client.post("/customers/C1/overrides", data={**data, "valid_from": "2026-13-01"})
    assert typo.status_code == 422 and "&#39;2026-13-01&#39; is not a date" in typo.text
    assert "alert-danger" in typo.text and "dispute &lt;open&gt;" in typo.text
    zh = client.post("/customers/C1/overrides?lang=zh", data={**data, "reason": ""})
    assert zh.status_code == 422 and "未保存" in zh.text and "alert-danger" in zh.text
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.connect() as conn:
        assert store_overrides.listing(conn, customer_id="C1") == []


def test_a_manager_opens_only_their_customers(client: TestClient) -> None:
    csrf = login(client, "max")
    assert client.get("/customers/C1").status_code == 200
    refused = client.get("/customers/C3")
    assert refused.status_code == 404 and "not among your customers" in refused.text
    assert "Chen Jing" not in refused.text and "13800000003" not in refused.text
    posted = client.post("/customers/C3/overrides", data={
        "csrf": csrf, "scheme": "tier", "kind": "pin", "tier": "gold", "reason": ""})
    assert posted.status_code == 404 and "Chen Jing" not in posted.text
