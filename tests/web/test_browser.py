"""The dashboard in a real browser: headless Chromium (Debian's package) driven by Playwright.

Login, overview, customer page, an override that waits for approval, and its approval by a
second person, in English and in Chinese. With ``TIERWISE_SCREENSHOTS=<folder>`` the pages are
also saved as PNG files (``docs/screenshots`` in the repository). The set-up (the served months
project, Chromium) is in tests/web/browsing.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browsing import login, shot, words


def _logout(page: Any) -> None:
    page.click("form[action='/logout'] button[type=submit]")
    page.wait_for_url("**/login**")


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh-Hans", "zh-Hant"])
def test_override_and_approval_in_the_browser(server: str, browser: Any, lang: str) -> None:
    t = words(lang)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, server, "max", lang)
    assert page.locator("svg").count() >= 2  # tier mix and trend, rendered on the server
    assert t("Log out") in page.content()
    shot(page, f"overview-{lang}")

    page.goto(f"{server}/customers/C2?scheme=steady")
    assert "C2" in page.content()
    page.select_option("select[name=kind]", "floor")
    page.select_option("select[name=tier]", "silver")
    page.fill("textarea[name=reason]", "two-year contract signed")
    shot(page, f"customer-{lang}")
    page.click("form[action*='/overrides'] button[type=submit]")
    page.wait_for_load_state()
    waits = t("Override #{id} saved; it waits for a supervisor's approval (a person other than "
              "its author) and applies from {start} once approved. Until then the class shown "
              "stays {tier}.")
    assert waits.split("{id}")[0] in page.locator("#notice .alert-warning").inner_text()
    # A manager cannot open another manager's customer.
    assert page.goto(f"{server}/customers/C3?scheme=steady").status == 404
    _logout(page)

    login(page, server, "sam", lang)
    page.goto(f"{server}/approvals")
    assert "two-year contract signed" in page.content()
    shot(page, f"approvals-{lang}")
    page.click("button[name=action][value=approve]")
    page.wait_for_load_state()
    page.goto(f"{server}/approvals")
    assert "two-year contract signed" not in page.content()  # decided: out of the queue
    page.goto(f"{server}/customers/C2?scheme=steady")
    assert "sam" in page.content()  # the override shows who approved it
    page.close()


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_scheme_editor_in_the_browser(server: str, browser: Any, lang: str) -> None:
    t = words(lang)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, server, "sam", lang)
    page.click("nav a[href='/schemes']")  # the scheme list, then a scheme's editor
    page.wait_for_url(f"{server}/schemes")
    page.click("table a[href='/schemes/tier']")
    page.wait_for_url(f"{server}/schemes/tier")
    page.fill("input[name='tiers[0].c.0.v']", "4")  # the builder's row: orders_3m >= 4
    page.fill("input[name=note]", "stricter gold")
    page.click("button[name=action][value=preview]")
    page.wait_for_load_state()
    assert t("Impact on the active version's grades") in page.content()
    assert "C1" in page.locator("small.samples").all_inner_texts()
    assert page.input_value(".builder[data-tier='0'] .builder-text") == "orders_3m >= 4"
    shot(page, f"scheme-{lang}")
    page.click("button[name=action][value=save]")
    page.wait_for_url("**saved=2**")
    assert t("Version {version} saved; it is not active yet.").format(version=2) in page.content()
    page.click(f"text={t('Activate version {version}').format(version=2)}")
    page.wait_for_url("**/runs?**activated=2**")
    assert page.locator("#after-activation form button").count() == 1  # Run now for the date
    page.goto(f"{server}/schemes/tier")
    assert page.input_value(".builder[data-tier='0'] .builder-text") == "orders_3m >= 4"
    page.close()
