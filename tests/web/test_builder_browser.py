"""The condition builder in a real browser: rows built with builder.js, a live count, a save.

A small shop whose customers carry their indicators as attributes, so the expected matches are
known by hand. The test builds ``orders_6m >= 5,000 AND (spend > 1.2万 OR tenure >= 365)`` in the
rules editor, sees the count update without pressing anything, saves, and finds the canonical
expression in the saved version.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write
from tests.web.browsing import login, served, shot, words
from tierwise import i18n
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.store import schemes as store_schemes

SHOP = """
name: shop
as_of: 2026-06-30
sources:
  customers:
    path: customers.csv
    columns:
      customer_id: {type: string}
      orders: {type: int}
      spend: {type: float}
      tenure: {type: int}
indicators:
  orders_6m: {attribute: orders, label: {en: "Orders, 6 months", zh: 近6个月订单数}}
  spend: {attribute: spend, label: {en: Spend, zh: 消费额}, description: Net spend in CNY}
  tenure: {attribute: tenure, label: {en: Tenure (days), zh: 客户时长（天）}}
schemes:
  shop:
    method: rules
    value: spend
    tiers:
      - {key: vip, label: {en: VIP, zh: 贵宾}, when: "orders_6m >= 100000"}
      - {key: regular, label: {en: Regular, zh: 普通}}
    fallback: regular
"""
# orders_6m, spend, tenure; the condition matches A (spend), B and E (tenure): 3 customers.
CUSTOMERS = {"A": (6000, 20000, 100), "B": (5000, 10000, 400), "C": (5000, 10000, 100),
             "D": (100, 50000, 1000), "E": (7000, 12000, 365), "F": (4999, 90000, 900)}
BUILT = "orders_6m >= 5000 and (spend > 12000 or tenure >= 365)"


@pytest.fixture
def shop(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
         ) -> Iterator[tuple[str, Project]]:
    monkeypatch.setenv("TIERWISE_STORE_URL", store_url)
    folder = tmp_path / "shop"
    write(folder, "tierwise.yaml", SHOP)
    write(folder, "customers.csv", "customer_id,orders,spend,tenure\n" + "".join(
        f"{c},{o},{s},{t}\n" for c, (o, s, t) in CUSTOMERS.items()))
    project = Project.open(folder)
    runs.run(project, ["shop"], as_of=date(2026, 6, 30))
    with served(folder, {"sam": "supervisor"}) as url:
        yield url, project


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_build_count_and_save_a_condition(shop: tuple[str, Project], browser: Any,
                                          lang: str) -> None:
    base, project = shop
    t = words(lang)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Every script and request of the page works (the browser's own favicon.ico aside).
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    login(page, base, "sam", lang)
    page.goto(f"{base}/schemes/shop")
    # The page counts once on load: nobody has 100,000 orders.
    _wait_for(page, "#count-0", _matching(lang, 0))
    tree = page.locator(".builder-tree[data-tier='0']")
    page.fill("input[name='tiers[0].c.0.v']", "5,000")
    tree.locator("> .builder-group > .builder-buttons button[data-builder=add_group]").click()
    group = "tiers[0].c.1"
    assert page.input_value(f"select[name='{group}.join']") == "or"
    page.select_option(f"select[name='{group}.0.ind']", "spend")
    page.select_option(f"select[name='{group}.0.op']", ">")
    page.fill(f"input[name='{group}.0.v']", "1.2万")
    tree.locator(".builder-group .builder-group button[data-builder=add_row]").click()
    page.select_option(f"select[name='{group}.1.ind']", "tenure")
    page.select_option(f"select[name='{group}.1.op']", ">=")
    page.fill(f"input[name='{group}.1.v']", "365")
    # The count follows the edit, with no button pressed: A, B and E.
    _wait_for(page, "#count-0", _matching(lang, 3))
    assert page.input_value(".builder[data-tier='0'] .builder-text") == BUILT
    panel = page.inner_text("#rule-panel")
    assert t("Value is the sum of {indicator}.").format(
        indicator="Spend" if lang == "en" else "消费额") in panel
    # The value input's second field shows for "between" only.
    assert not page.is_visible(f"input[name='{group}.0.v2']")
    shot(page, f"builder-{lang}")
    page.click("button[name=action][value=save]")
    page.wait_for_url("**saved=2**")
    assert t("Version {version} saved; it is not active yet.").format(version=2) in page.content()
    assert not errors, errors
    page.close()
    store = runs.open_store(project)
    try:
        with store.connect() as conn:
            saved = store_schemes.versions(conn, "shop")[-1].spec
    finally:
        store.close()
    assert saved["tiers"][0]["when"] == BUILT


def _matching(lang: str, n: int) -> str:
    with i18n.use(lang):
        return i18n.ngettext("{n} customer matches", "{n} customers match", n).format(n=n)


def _wait_for(page: Any, selector: str, text: str) -> None:
    page.wait_for_function("([sel, text]) => document.querySelector(sel).textContent"
                           ".includes(text)", arg=[selector, text], timeout=15_000)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_filter_the_customer_list_with_the_builder(shop: tuple[str, Project], browser: Any,
                                                   lang: str) -> None:
    base, _project = shop
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, base, "sam", lang)
    page.goto(f"{base}/customers?scheme=shop")
    page.click("details.list-condition > summary")
    tree = page.locator(".list-filter .builder-tree")
    page.select_option("select[name='tiers[0].c.0.ind']", "orders_6m")
    page.fill("input[name='tiers[0].c.0.v']", "5,000")
    # Rows and groups are added in the page, as in the editor, and renumbered.
    tree.locator("> .builder-group > .builder-buttons button[data-builder=add_group]").click()
    page.select_option("select[name='tiers[0].c.1.0.ind']", "spend")
    page.select_option("select[name='tiers[0].c.1.0.op']", ">")
    page.fill("input[name='tiers[0].c.1.0.v']", "1.2万")
    tree.locator(".builder-group .builder-group button[data-builder=add_row]").click()
    # Only the indicators the run holds are offered (this scheme's run keeps no tenure).
    offered = page.locator("select[name='tiers[0].c.1.1.ind'] option").evaluate_all(
        "options => options.map(o => o.value)")
    assert offered == ["", "orders_6m", "spend"], offered
    page.select_option("select[name='tiers[0].c.1.1.ind']", "orders_6m")
    page.fill("input[name='tiers[0].c.1.1.v']", "7000")
    page.click(".list-filter button[type=submit]:not([name])")
    page.wait_for_url("**where=**")
    built = "orders_6m >= 5000 and (spend > 12000 or orders_6m >= 7000)"
    assert built in page.inner_text("details.list-condition > summary")
    listed = page.locator("tbody td a[href^='/customers/']").all_inner_texts()
    assert sorted(listed) == ["A", "E"], (listed, page.inner_text("main")[:1500])
    # The rows show the condition in force again, ready to change.
    assert page.input_value("input[name='tiers[0].c.1.0.v']") == "12000"
    assert not errors, errors
    page.close()
