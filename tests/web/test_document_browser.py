"""The classification standard in a real browser: from the scheme page to a downloaded file."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browsing import login, shot, words


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_standard_from_the_scheme_page(server: str, browser: Any, lang: str) -> None:
    t = words(lang)
    page = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    login(page, server, "sam", lang)
    page.goto(f"{server}/schemes/steady")
    page.click("a[href='/schemes/steady/document']")
    page.wait_for_url("**/schemes/steady/document")
    heading = t("Customer classification standard: {scheme}").format(scheme="steady")
    assert page.inner_text("h1") == heading
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    rows = page.locator("table.standard-classes tbody tr")
    assert rows.count() == 3 and "gold" in rows.nth(0).inner_text()
    shot(page, f"document-{lang}")
    with page.expect_download() as started:
        page.click(f"text={t('Download {format}').format(format=t('Excel'))}")
    assert started.value.suggested_filename == "steady-v1-standard.xlsx"
    page.close()
