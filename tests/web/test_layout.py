"""The dashboard's layout in headless Chromium: no page wider than the screen, on a 1,280 px
laptop and an 820 px tablet (where the navigation folds behind a toggler), and a keyboard user
reaches the skip link, the navigation and the language switcher with Tab, with a visible focus.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browsing import Site, Visitor, login, pages
from tierwise import i18n

LAPTOP, TABLET = (1280, 800), (820, 1180)
#: What the focused element shows, and whether its focus is visible (outline or box shadow).
FOCUSED = """() => {
  const el = document.activeElement, css = getComputedStyle(el), box = el.getBoundingClientRect();
  return {tag: el.tagName, id: el.id, href: el.getAttribute('href'), text: el.innerText.trim(),
          ring: (css.outlineStyle !== 'none' && parseFloat(css.outlineWidth) > 0)
                || css.boxShadow !== 'none',
          shown: box.width > 0 && box.height > 0 && box.top >= 0 && box.left >= 0};
}"""


def _t(lang: str, message: str) -> str:
    with i18n.use(lang):
        return i18n._(message)


@pytest.mark.slow
@pytest.mark.parametrize("size", [LAPTOP, TABLET], ids=["laptop", "tablet"])
def test_no_page_is_wider_than_the_screen(quality_site: dict[str, Site], browser: Any,
                                          size: tuple[int, int]) -> None:
    visitor = Visitor(browser, "zh-Hans" if size == TABLET else "en", size)
    wide: list[str] = []
    try:
        for label, url, user, status in pages(quality_site):
            page = visitor.open(url, user, status)
            width = page.evaluate("document.documentElement.scrollWidth")
            inner = page.evaluate("window.innerWidth")
            if width > inner:
                wide.append(f"{label}: {width} px wide in a {inner} px window ({url})")
            toggler = page.locator(".navbar-toggler")
            links = page.locator("#tw-nav")
            if size == TABLET:  # folded: the toggler shows, the links wait behind it
                assert toggler.is_visible() and not links.is_visible(), label
            else:
                assert not toggler.is_visible() and links.is_visible(), label
                # Unfolded, the menu is one line: no item wraps under another.
                height = page.evaluate(
                    "document.querySelector('.tw-navbar').getBoundingClientRect().height")
                if height > 64:
                    wide.append(f"{label}: the menu is {height:.0f} px high, in two lines")
    finally:
        visitor.close()
    assert not wide, "pages wider than the screen:\n" + "\n".join(wide)


@pytest.mark.slow
def test_the_tablet_menu_opens_from_our_own_script(quality_site: dict[str, Site],
                                                   browser: Any) -> None:
    page = browser.new_context(viewport={"width": TABLET[0], "height": TABLET[1]}
                                       ).new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    base = quality_site["retail"].url
    login(page, base, "sam", "en")
    toggler = page.locator(".navbar-toggler")
    assert toggler.get_attribute("aria-expanded") == "false"
    toggler.focus()
    page.keyboard.press("Enter")
    page.locator("#tw-nav a[href='/customers']").wait_for(state="visible")
    assert toggler.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["href"] == "/overview"
    assert not refused, refused  # bootstrap.bundle.min.js runs under script-src 'self'
    page.context.close()


@pytest.mark.slow
def test_without_scripts_the_tablet_menu_stays_open(quality_site: dict[str, Site],
                                                    browser: Any) -> None:
    context = browser.new_context(viewport={"width": TABLET[0], "height": TABLET[1]},
                                          java_script_enabled=False)
    page = context.new_page()
    login(page, quality_site["retail"].url, "sam", "en")
    assert not page.locator(".navbar-toggler").is_visible()
    for href in ("/overview", "/customers", "/approvals", "/schemes"):
        assert page.locator(f"#tw-nav a[href='{href}']").is_visible(), href
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET[0]
    context.close()


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_tab_reaches_the_skip_link_the_navigation_and_the_languages(
        quality_site: dict[str, Site], browser: Any, lang: str) -> None:
    page = browser.new_context(viewport={"width": LAPTOP[0], "height": LAPTOP[1]}
                                       ).new_page()
    base = quality_site["retail"].url
    login(page, base, "ada", lang)
    page.goto(f"{base}/customers")
    # The first Tab shows the skip link; Enter on it moves the focus to the page's content.
    page.keyboard.press("Tab")
    skip = page.evaluate(FOCUSED)
    assert skip["text"] == _t(lang, "Skip to the content") and skip["href"] == "#main"
    assert skip["shown"] and skip["ring"], skip
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # From the top, Tab walks the brand, every section, the languages and the logout button.
    page.goto(f"{base}/customers")
    seen: list[dict[str, Any]] = []
    for _ in range(20):
        page.keyboard.press("Tab")
        now = page.evaluate(FOCUSED)
        seen.append(now)
        if now["tag"] == "BUTTON" and now["text"] == _t(lang, "Log out"):
            break
    hrefs = [s["href"] for s in seen]
    sections = ["/", "/overview", "/customers", "/approvals", "/schemes", "/audit"]
    assert [h for h in hrefs if h in sections] == sections, hrefs
    others = [h for h in hrefs if h and "lang=" in h]
    assert len(others) == 2, hrefs  # the two languages not shown now
    assert seen[-1]["tag"] == "BUTTON", seen[-1]
    invisible = [s for s in seen if not (s["ring"] and s["shown"])]
    assert not invisible, invisible
    current = page.locator("#tw-nav a[aria-current=page]")
    assert current.get_attribute("href") == "/customers"
    page.context.close()
