"""Scheme pages in a real browser: every method's page fits a 1,280 px laptop screen, and a new
scheme is made from a template and opened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web import test_method_forms
from tests.web.browsing import login, served
from tests.web.test_method_forms import SCHEMES, every_method
from tierwise.services import runs
from tierwise.services import versions as version_service
from tierwise.services.grading import Project

retail = test_method_forms.retail  # the retail example with 200 customers (module-wide)


@pytest.fixture
def server(retail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    project = Project.open(retail)
    store = runs.open_store(project)
    every_method(store, project)
    # A second version of each method whose diff holds long JSON (whole tier lists).
    for name in ("clv", "rfm", "value"):
        with store.read() as tx:
            spec = dict(tx.schemes.active_version(name).spec)
        spec["tiers"] = [dict(t) for t in spec["tiers"]]
        spec["tiers"][-1]["status" if name == "rfm" else "label"] = True if name == "rfm" else {
            "en": "A very long label " * 12}
        if name != "rfm":
            spec["horizon" if name == "clv" else "fallback"] = (
                "6m" if name == "clv" else spec["fallback"])
        if name == "value":
            spec["tiers"].insert(0, {"key": "top", "when": " and ".join(
                f"orders_12m >= {n}" for n in range(1, 30))})
        version_service.save_edit(store, project, name, spec, actor="setup", base=1)
    store.close()
    with served(retail, {"sam": "supervisor"}) as url:
        yield url


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_every_scheme_page_fits_a_laptop_screen(server: str, browser: Any, lang: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, server, "sam", lang)
    for name in (*SCHEMES, "abc_s", "scorecard_s", "value?diff=2", "clv?diff=2",
                 "rfm?diff=2"):
        page.goto(f"{server}/schemes/{name}")
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, (name, width)
    for path in ("/schemes", "/new-scheme", "/schemes/clv/manage"):
        page.goto(f"{server}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280, path
    page.close()


@pytest.mark.slow
def test_create_a_scheme_from_a_template_in_the_browser(server: str, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, server, "sam", "en")
    page.goto(f"{server}/schemes")
    page.click("a[href='/new-scheme']")
    page.fill("#new-name", "bad key")
    page.fill("#new-title", "Shop value")
    page.check("#template-retail_value")
    page.click("form[action='/new-scheme'] button[type=submit]")
    assert "scheme name" in page.inner_text(".alert-danger")
    assert page.input_value("#new-name") == "bad key"
    assert page.is_checked("#template-retail_value")
    page.fill("#new-name", "shop_value")
    page.click("form[action='/new-scheme'] button[type=submit]")
    page.wait_for_url("**/schemes/shop_value?created=1")
    assert page.input_value(".builder[data-tier='0'] .builder-text") == (
        "orders_12m >= 10 and spend_12m >= 10000")
    page.goto(f"{server}/schemes")
    assert "Shop value" in page.inner_text("table")
    page.close()
