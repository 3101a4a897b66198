"""The results overview in a real browser: a click on a bar or a matrix cell lists the
customers behind it (headless Chromium, see tests/web/test_browser.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browsing import login


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_clicking_a_bar_lists_its_customers(server: str, browser: Any,
                                            lang: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, server, "sam", lang)
    page.goto(f"{server}/overview?scheme=tier")
    # No horizontal overflow at a 1,280 px laptop width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.locator('svg.chart a[href*="tier=bronze"]').click()
    page.wait_for_url("**/customers?scheme=tier&tier=bronze")
    # As of June: C2, C3, C4 and C5 are bronze (tests/services/conftest.py).
    listed = set(page.locator('a[href^="/customers/C"]').all_inner_texts())
    assert listed == {"C2", "C3", "C4", "C5"}
    page.go_back()
    # The matrix cell silver (May) -> bronze (June): C4, whose March order left the window.
    page.locator('table.matrix a[href*="from_tier=silver"][href*="to_tier=bronze"]').click()
    page.wait_for_url("**from_tier=silver**")
    assert set(page.locator('a[href^="/customers/C"]').all_inner_texts()) == {"C4"}
    page.close()
