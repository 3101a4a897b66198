"""The customer list in a real browser (headless Chromium, set-up in tests/web/browsing.py): at a
1,280 px laptop width it does not overflow; a click on a header sorts; the box that ticks every
customer of the page (the page's own script) feeds a bulk assignment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.services.listed import write_listed
from tests.web.browsing import login, served, shot
from tierwise.services import runs
from tierwise.services.grading import Project


@pytest.fixture
def list_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    folder = write_listed(tmp_path / "p")
    runs.backfill(Project.open(folder), ["tier"], [date(2026, 5, 31), date(2026, 6, 30)])
    with served(folder, {"sam": "supervisor", "mia": "manager"}) as url:
        yield url


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_list_sorts_ticks_and_assigns_in_the_browser(list_server: str, browser: Any,
                                                     lang: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    login(page, list_server, "sam", lang)
    page.goto(f"{list_server}/customers?scheme=tier&tier=bronze&per=25")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    shot(page, f"customers-{lang}")
    page.click("th a[href*='sort=i.spend_3m']")
    page.wait_for_url("**sort=i.spend_3m**")
    assert page.locator("th[aria-sort]").count() == 1
    tick_all = page.locator("#tick-all")
    assert tick_all.is_visible()  # shown by the script; hidden without it
    tick_all.check()
    boxes = page.locator("input.tick")
    assert boxes.count() == 25
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    boxes.nth(0).uncheck()
    assert page.evaluate("document.getElementById('tick-all').indeterminate")
    page.select_option("#a-manager", "mia")
    page.click("form#assign button[type=submit]")
    page.wait_for_url("**done=assigned**")
    assert page.locator(".alert-success").count() == 1
    assert "24" in page.locator(".alert-success").inner_text()
    assert not errors, errors
