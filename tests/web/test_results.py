"""The results overview on the real app: KPI cards, clickable charts, the API's summary,
empty states, in English and Chinese."""

from __future__ import annotations

import html
import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.web.clients import dashboard, login
from tests.web.test_pages import client  # noqa: F401
from tierwise.reports.colours import tier_colours
from tierwise.services import catalog
from tierwise.services import versions as version_service
from tierwise.services.grading import Project


def _customer_ids(page: str) -> set[str]:
    return set(re.findall(r'href="/customers/(C\d+)\?', page))


def test_kpi_cards_per_tier_and_for_the_scheme(client: TestClient) -> None:  # noqa: F811
    login(client, "sam")
    text = client.get("/overview", params={"scheme": "tier"}).text
    cards = dict(re.findall(r'data-tier="(\w+)">(.*?)</div>\s*</div></div></div>', text, re.S))
    assert set(cards) == {"gold", "silver", "bronze"}
    # bronze: 4 of 5 customers, one more than in May (C4 left silver): +1, +20.0 points.
    assert "80.0% of customers" in cards["bronze"] and "+1 customers, +20.0 pts" in cards["bronze"]
    assert "-1 customers, -20.0 pts" in cards["silver"] and "100.0% of the value" in cards["gold"]
    assert re.search(r"Customers graded</div>\s*<div[^>]*>5<", text)
    assert re.search(r"Moved down</div>\s*<div[^>]*>1<", text)
    assert "Value (spend_3m)" in text and "Jun 30, 2026" in text
    # `steady` names no value: the page says how to set one.
    plain = client.get("/overview", params={"scheme": "steady"}).text
    assert "Value (" not in plain and "<code>reporting: {value: spend_12m}</code>" in plain


def test_bars_and_cells_lead_to_their_customers(client: TestClient) -> None:  # noqa: F811
    login(client, "sam")
    text = client.get("/overview", params={"scheme": "tier"}).text
    chart = text.split('class="chart"')[1]
    bar = re.search(r'<a href="([^"]*tier=bronze)"><title>', chart)
    assert bar
    listed = client.get(html.unescape(bar.group(1)))
    assert listed.status_code == 200 and _customer_ids(listed.text) == {"C2", "C3", "C4", "C5"}
    # The matrix cell silver (May) -> bronze (June): C4 alone.
    cell = re.search(r'href="(/customers\?scheme=tier&amp;from_tier=silver&amp;to_tier=bronze)"',
                     text)
    assert cell
    moved = client.get(html.unescape(cell.group(1)))
    assert moved.status_code == 200 and _customer_ids(moved.text) == {"C4"}
    assert "Customers who moved from Silver to Bronze since the previous run" in moved.text
    # The diagonal is marked in words and not by colour alone.
    assert text.count("kept their tier:") == 3


def test_colours_on_the_page_are_the_tiers_own(client: TestClient) -> None:  # noqa: F811
    login(client, "sam")
    text = client.get("/overview", params={"scheme": "tier"}).text
    store = client.app.state.store  # type: ignore[attr-defined]
    colours = tier_colours(catalog.scheme_tiers(store, "tier"))
    for key, colour in colours.items():
        assert re.search(rf'tier={key}"><title>[^<]*</title><rect[^>]*/><text[^>]*>[^<]*</text>'
                         rf'<rect class="bar"[^>]*fill="{colour}"', text), key


def test_chinese_overview(client: TestClient) -> None:  # noqa: F811
    login(client, "sam")
    text = client.get("/overview", params={"scheme": "tier", "lang": "zh"}).text
    assert "结果概览" in text and "已定级客户" in text and "较上次运行" in text
    assert ">金卡</a>" in text and "+1 位客户，+20.0 个百分点" in text
    assert ">6月30日</text>" in text and "等级未变：" in text
    hant = client.get("/overview", params={"scheme": "tier", "lang": "zh-Hant"}).text
    assert "結果概覽" in hant and "已定級客戶" in hant


def test_the_api_summary(client: TestClient) -> None:  # noqa: F811
    login(client, "aud")
    body = client.get("/api/v1/schemes/tier/summary").json()
    assert body["customers"] == 5 and body["value_indicator"] == "spend_3m"
    assert body["moves"]["down"] == 1 and body["previous_run_id"] is not None
    tiers = {t["key"]: t for t in body["tiers"]}
    assert tiers["bronze"]["change"] == 1 and tiers["gold"]["value"] == 300.0
    assert tiers["gold"]["colour"].startswith("#")
    zh = client.get("/api/v1/schemes/tier/summary", headers={"Accept-Language": "zh-CN"}).json()
    assert {t["key"]: t["label"] for t in zh["tiers"]}["gold"] == "金卡"
    assert client.get("/api/v1/schemes/nope/summary").status_code == 404


def test_empty_states_name_the_next_step(months: Path) -> None:
    with dashboard(months, {"sam": "supervisor"}) as fresh:
        login(fresh, "sam")
        page = fresh.get("/overview").text  # tierwise.yaml's scheme, never run nor saved
        assert "No scheme yet" not in page and 'href="/runs?scheme=tier"' in page
        store = fresh.app.state.store  # type: ignore[attr-defined]
        version_service.save(store, Project.open(months), "tier", actor="sam")
        waiting = fresh.get("/overview", params={"scheme": "tier"}).text
        assert 'href="/runs?scheme=tier"' in waiting and "<code>tierwise run tier</code>" in waiting
        zh = fresh.get("/overview", params={"scheme": "tier", "lang": "zh"}).text
        assert "立即运行" in zh
