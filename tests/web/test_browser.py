"""The dashboard in a real browser: headless Chromium (Debian's package) driven by Playwright.

Login, overview, customer page, an override that waits for approval, and its approval by a
second person, in English and in Chinese. With ``TIERWISE_SCREENSHOTS=<folder>`` the pages are
also saved as PNG files (``docs/screenshots`` in the repository).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tierwise import i18n
from tierwise.api.app import create_app
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.store import users as store_users

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"
SHOTS = os.environ.get("TIERWISE_SCREENSHOTS")


@pytest.fixture
def server(months: Path) -> Iterator[str]:
    project = Project.open(months)
    runs.backfill(project, ["tier", "steady"],
                  runs.backfill_dates(date(2026, 1, 1), date(2026, 6, 30)))
    store = runs.open_store(project)
    with store.begin() as conn:
        for name, role in (("sam", "supervisor"), ("ada", "supervisor"), ("max", "manager")):
            store_users.create(conn, name, role=role, password=PASSWORD, actor="setup")
        store_users.assign(conn, ["C1", "C2"], "max", actor="setup")
    store.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(months)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("CI needs Chromium for the browser tests: apt-get install chromium")
        pytest.skip("no Chromium: apt-get install chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless"])
        yield b
        b.close()


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _login(page: Any, base: str, user: str, lang: str) -> None:
    page.goto(f"{base}/login?lang={lang}")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/overview**")


def _words(lang: str) -> Any:
    """The page's text for an English message, in ``lang``."""

    def t(message: str) -> str:
        with i18n.use(lang):
            return i18n._(message)

    return t


def _logout(page: Any) -> None:
    page.click("form[action='/logout'] button[type=submit]")
    page.wait_for_url("**/login**")


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh-Hans", "zh-Hant"])
def test_override_and_approval_in_the_browser(server: str, browser: Any, lang: str) -> None:
    t = _words(lang)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _login(page, server, "max", lang)
    assert page.locator("svg").count() >= 2  # tier mix and trend, rendered on the server
    assert t("Log out") in page.content()
    _shot(page, f"overview-{lang}")

    page.goto(f"{server}/customers/C2?scheme=steady")
    assert "C2" in page.content()
    page.select_option("select[name=kind]", "floor")
    page.select_option("select[name=tier]", "silver")
    page.fill("textarea[name=reason]", "two-year contract signed")
    _shot(page, f"customer-{lang}")
    page.click("form[action*='/overrides'] button[type=submit]")
    page.wait_for_load_state()
    waits = t("Override #{id} saved; it waits for a supervisor's approval (a person other than "
              "its author) and applies from {start} once approved. Until then the class shown "
              "stays {tier}.")
    assert waits.split("{id}")[0] in page.locator("#notice .alert-warning").inner_text()
    # A manager cannot open another manager's customer.
    assert page.goto(f"{server}/customers/C3?scheme=steady").status == 404
    _logout(page)

    _login(page, server, "sam", lang)
    page.goto(f"{server}/approvals")
    assert "two-year contract signed" in page.content()
    _shot(page, f"approvals-{lang}")
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
    t = _words(lang)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _login(page, server, "sam", lang)
    page.click("nav a[href='/schemes']")
    page.wait_for_url(f"{server}/schemes/**")
    page.goto(f"{server}/schemes/tier")
    page.fill("input[name='tiers[0].c.0.v']", "4")  # the builder's row: orders_3m >= 4
    page.fill("input[name=note]", "stricter gold")
    page.click("button[name=action][value=preview]")
    page.wait_for_load_state()
    assert t("Impact on the active version's grades") in page.content()
    assert "C1" in page.locator("small.samples").all_inner_texts()
    assert page.input_value(".builder[data-tier='0'] .builder-text") == "orders_3m >= 4"
    _shot(page, f"scheme-{lang}")
    page.click("button[name=action][value=save]")
    page.wait_for_url("**saved=2**")
    assert t("Version {version} saved; it is not active yet.").format(version=2) in page.content()
    page.click(f"text={t('Activate version {version}').format(version=2)}")
    page.wait_for_url("**/runs?**activated=2**")
    assert page.locator("#after-activation form button").count() == 1  # Run now for the date
    page.goto(f"{server}/schemes/tier")
    assert page.input_value(".builder[data-tier='0'] .builder-text") == "orders_3m >= 4"
    page.close()
