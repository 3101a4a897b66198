"""The customer list page on the real app: columns, sorting, filters, pages, exports and bulk
assignment, in English and Chinese; a manager sees only their customers in the list and exports."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from tests.services.listed import record_two_runs, write_listed
from tests.web.clients import dashboard, login
from tierwise.services import catalog

ROLES = {"ada": "admin", "sam": "supervisor", "max": "manager", "mia": "manager",
         "aud": "auditor"}


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    record_two_runs(write_listed(tmp_path / "p"), ("tier",))
    with dashboard(tmp_path / "p", ROLES, {"max": ["C1", "C4"]}) as test_client:
        yield test_client


def listed_ids(html: str) -> list[str]:
    return re.findall(r'<td><a href="/customers/(C\d+)\?', html)


def test_default_columns_sorting_and_pages(client: TestClient) -> None:
    login(client, "aud")
    page = client.get("/customers", params={"scheme": "tier", "per": "25"})
    assert page.status_code == 200
    text = page.text
    for header in ("Name", "Tier", "In tier since", "Change since the previous run",
                   "spend_3m", "orders_3m"):
        assert f">{header}</a>" in text or f">{header} <span" in text, header
    assert "40 matching customers" in text and "王芳" in text and "Gold" in text
    assert listed_ids(text)[:3] == ["C1", "C10", "C11"] and len(listed_ids(text)) == 25
    # Page numbers, with the total.
    assert 'aria-current="page">1</a>' in text and "Page 1 of 2" in text
    second = client.get("/customers", params={"scheme": "tier", "per": "25", "page": "2"})
    assert len(listed_ids(second.text)) == 15
    # Sorted by spend, largest first: the header links there and says so.
    assert "sort=i.spend_3m&amp;dir=desc" in text
    by_spend = client.get("/customers", params={"scheme": "tier", "sort": "i.spend_3m",
                                                "dir": "desc"})
    assert listed_ids(by_spend.text)[0] == "C1"
    assert 'aria-sort="descending"' in by_spend.text
    # Each tier badge carries its tier's colour, the same as the overview's (never by position).
    store = client.app.state.store  # type: ignore[attr-defined]
    gold = catalog.tier_colours(store, "tier")["gold"]
    assert f'fill="{gold}"/></svg>Gold</span>' in by_spend.text
    # No JavaScript inline; the page's own script only.
    assert '<script src="/static/js/customer_list.js" defer></script>' in text
    assert client.get("/static/js/customer_list.js").status_code == 200


def test_filters_and_search(client: TestClient) -> None:
    login(client, "sam")
    down = client.get("/customers", params={"scheme": "tier", "change": "down"})
    assert listed_ids(down.text) == ["C4"] and "1 matching customer" in down.text
    moved = client.get("/customers", params={"scheme": "tier", "from_tier": "silver",
                                             "to_tier": "bronze"})
    assert listed_ids(moved.text) == ["C4"]
    assert "Customers who moved from Silver to Bronze since the previous run" in moved.text
    phone = client.get("/customers", params={"scheme": "tier", "q": "+86 138 0013 8000"})
    assert listed_ids(phone.text) == ["C1"]
    gold = client.get("/customers", params={"scheme": "tier", "tier": "gold"})
    assert listed_ids(gold.text) == ["C1"]
    where = client.get("/customers", params={"scheme": "tier", "where": "spend_3m >= 300"})
    assert listed_ids(where.text) == ["C1"]
    bad = client.get("/customers", params={"scheme": "tier", "where": "orders_3m >>> 1"})
    assert bad.status_code == 422 and "alert-danger" in bad.text
    assert "orders_3m &gt;&gt;&gt; 1</textarea>" in bad.text  # what the user typed stays
    none = client.get("/customers", params={"scheme": "tier", "q": "nobody"})
    assert "No customer matches the search." in none.text
    assert client.get("/customers", params={"scheme": "tier", "change": "x"}).status_code == 422
    assert client.get("/customers", params={"scheme": "nope"}).status_code == 404


def test_condition_built_with_the_rules_builder(client: TestClient) -> None:
    login(client, "sam")
    # The filter form carries the rules editor's builder rows, indicators by label.
    page = client.get("/customers", params={"scheme": "tier"})
    assert 'name="tiers[0].c.0.ind"' in page.text and 'name="tiers[0].mode" value="rows"' in page.text
    assert '<script src="/static/js/builder.js" defer></script>' in page.text
    # Search with a row: the list moves to a plain where= address and filters by it.
    rows = {"scheme": "tier", "tiers[0].mode": "rows", "tiers[0].c.join": "and",
            "tiers[0].c.0.ind": "spend_3m", "tiers[0].c.0.op": ">=", "tiers[0].c.0.v": "3,00"}
    bad = client.get("/customers", params=rows, follow_redirects=False)
    # A value that cannot be read: an error naming the row, what the user typed kept.
    assert bad.status_code == 200 and "The condition was not applied" in bad.text
    assert 'value="3,00"' in bad.text and "condition 1: &#39;3,00&#39;" in bad.text
    assert "tier 1" not in bad.text  # the list's condition belongs to no tier
    rows["tiers[0].c.0.v"] = "300"
    moved = client.get("/customers", params=rows, follow_redirects=False)
    assert moved.status_code == 303
    assert unquote(moved.headers["location"]).replace("+", " ") == (
        "/customers?scheme=tier&where=spend_3m >= 300")
    shown = client.get(moved.headers["location"])
    assert listed_ids(shown.text) == ["C1"]
    # The builder shows the condition in force as rows again, with the value typed.
    assert 'name="tiers[0].c.0.v" type="text" value="300"' in shown.text
    # "Add a condition" redraws the rows and keeps the filter in force.
    added = client.get("/customers", params={**rows, "where": "spend_3m >= 300",
                                             "action": "add_row:0:"})
    assert 'name="tiers[0].c.1.ind"' in added.text and listed_ids(added.text) == ["C1"]
    # Two rows joined by OR, a value written as 0.03万; empty rows remove the condition.
    both = {**rows, "tiers[0].c.join": "or", "tiers[0].c.0.v": "0.03万",
            "tiers[0].c.1.ind": "orders_3m", "tiers[0].c.1.op": "==", "tiers[0].c.1.v": "0"}
    either = client.get(client.get("/customers", params=both).headers["location"])
    assert "spend_3m &gt;= 300 or orders_3m == 0" in either.text
    cleared = client.get("/customers", params={"scheme": "tier", "where": "spend_3m >= 300",
                                               "tiers[0].mode": "rows",
                                               "tiers[0].c.0.ind": ""},
                         follow_redirects=False)
    assert cleared.headers["location"] == "/customers?scheme=tier"
    # Experts type the text; a condition the builder has no rows for stays text.
    typed = client.get("/customers", params={"scheme": "tier", "tiers[0].mode": "text",
                                             "tiers[0].when": "spend_3m > orders_3m * 100"})
    text = client.get(typed.headers["location"])
    assert "matching customer" in text.text
    assert "edit it as text" in text.text and 'name="tiers[0].when"' in text.text


def test_columns_are_chosen_and_remembered(client: TestClient) -> None:
    login(client, "aud")
    chosen = client.get("/customers?scheme=tier&col=a.city&col=a.phone&col=tier")
    assert ">City</a>" in chosen.text and ">Mobile</a>" in chosen.text
    assert ">Name</a>" not in chosen.text and "上海" in chosen.text
    assert client.cookies.get("tw_list_cols") == "a.city|a.phone|tier"
    again = client.get("/customers", params={"scheme": "tier"})
    assert ">City</a>" in again.text and ">Name</a>" not in again.text
    assert "cols=a.city%2Ca.phone%2Ctier" in chosen.text  # links keep the choice


def test_chinese_page(client: TestClient) -> None:
    login(client, "aud")
    page = client.get("/customers", params={"scheme": "tier", "lang": "zh"})
    assert page.status_code == 200
    for text in ("姓名", "金卡", "等级", "导出为 Excel", "搜索"):
        assert text in page.text, text
    assert "Name" not in page.text and "Export" not in page.text


def test_export_csv_and_excel_of_the_filtered_list(client: TestClient) -> None:
    login(client, "aud")
    made = client.get("/export/customers", params={"scheme": "tier", "tier": "bronze",
                                                   "format": "csv", "lang": "zh"})
    assert made.status_code == 200 and made.content.startswith(b"\xef\xbb\xbf")
    assert made.headers["content-type"].startswith("text/csv")
    disposition = made.headers["content-disposition"]
    assert 'filename="customers-tier-2026-06-30-tier_bronze.csv"' in disposition
    rows = list(csv.reader(io.StringIO(made.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["客户", "姓名", "等级"] and len(rows) == 40
    xlsx = client.get("/export/customers", params={"scheme": "tier", "q": "王芳",
                                                   "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert "q_王芳.xlsx" in unquote(xlsx.headers["content-disposition"])
    assert client.get("/export/customers", params={"scheme": "tier", "format": "pdf"}
                      ).status_code == 422


def test_manager_sees_only_assigned_customers_in_list_and_export(client: TestClient) -> None:
    login(client, "max")
    page = client.get("/customers", params={"scheme": "tier"})
    assert listed_ids(page.text) == ["C1", "C4"] and "2 matching customers" in page.text
    assert 'action="/customers/assign"' not in page.text  # managers do not assign
    made = client.get("/export/customers", params={"scheme": "tier", "format": "csv"})
    rows = list(csv.reader(io.StringIO(made.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["C1", "C4"]


def test_supervisor_assigns_ticked_or_all_filtered(client: TestClient) -> None:
    csrf = login(client, "sam")
    page = client.get("/customers", params={"scheme": "tier", "tier": "bronze"})
    assert '<option value="mia">mia</option>' in page.text and 'form="assign"' in page.text
    done = client.post("/customers/assign", data={
        "csrf": csrf, "scheme": "tier", "tier": "bronze", "manager": "mia", "scope": "ticked",
        "id": ["C5", "C6", "C1"]})
    assert done.status_code == 303 and "done=assigned" in done.headers["location"]
    assert "n=2" in done.headers["location"] and "tier=bronze" in done.headers["location"]
    assert "2 customers assigned." in client.get(done.headers["location"]).text
    every = client.post("/customers/assign", data={
        "csrf": csrf, "scheme": "tier", "change": "down", "manager": "mia", "scope": "all"})
    assert "n=1" in every.headers["location"]
    nothing = client.post("/customers/assign", data={
        "csrf": csrf, "scheme": "tier", "manager": "mia", "scope": "ticked"})
    assert nothing.status_code == 422 and "no customer to assign" in nothing.text
    assert "alert-danger" in nothing.text
    assert client.post("/customers/assign", data={"scheme": "tier", "manager": "mia",
                                                  "id": "C7"}).status_code == 403
    login(client, "mia")
    mine = client.get("/customers", params={"scheme": "tier"})
    assert listed_ids(mine.text) == ["C4", "C5", "C6"]


@pytest.mark.parametrize("who", ["max", "aud"])
def test_assign_refused_to_managers_and_auditors(client: TestClient, who: str) -> None:
    csrf = login(client, who)
    refused = client.post("/customers/assign", data={
        "csrf": csrf, "scheme": "tier", "manager": "mia", "scope": "all"})
    assert refused.status_code == 403
    login(client, "mia")
    assert listed_ids(client.get("/customers", params={"scheme": "tier"}).text) == []
