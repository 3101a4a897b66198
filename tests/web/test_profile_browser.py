"""The customer profile in a real browser: a re-classification shows the new class at once, and
the page fits a 1,280 px laptop screen."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browsing import login, shot, words


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_reclassify_and_see_the_new_class(server: str, browser: Any, lang: str) -> None:
    t = words(lang)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, server, "sam", lang)
    page.goto(f"{server}/customers/C3?scheme=tier")
    card = page.locator(".scheme-class[data-scheme='tier']")
    assert "Bronze" in card.inner_text()
    # The start date is filled in with the latest graded date.
    assert page.input_value("input[name=valid_from]") == "2026-06-30"
    page.select_option("select[name=kind]", "pin")
    page.select_option("select[name=tier]", "gold")
    page.fill("textarea[name=reason]", "opened a corporate account")
    page.click("form[action*='/overrides'] button[type=submit]")
    page.wait_for_load_state()
    notice = page.locator("#notice .alert-success").inner_text()
    assert t("Override #{id} saved: customer {customer} is now {tier} in {scheme}, from {start}."
             ).split("{id}")[0] in notice
    card = page.locator(".scheme-class[data-scheme='tier']")
    assert "Gold" in card.inner_text() and "opened a corporate account" in card.inner_text()
    # No horizontal scrolling at 1,280 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    shot(page, f"profile-{lang}")
    page.close()
