"""The customer list in a real browser (headless Chromium, as tests/web/test_browser.py): at a
1,280 px laptop width it does not overflow; a click on a header sorts; the box that ticks every
customer of the page (the page's own script) feeds a bulk assignment."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.services.listed import write_listed
from tests.web.test_browser import PASSWORD, _login, _shot, browser  # noqa: F401
from tierwise.api.app import create_app
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.store import users as store_users


@pytest.fixture
def list_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    folder = write_listed(tmp_path / "p")
    runs.backfill(Project.open(folder), ["tier"], [date(2026, 5, 31), date(2026, 6, 30)])
    store = runs.open_store(Project.open(folder))
    with store.begin() as conn:
        store_users.create(conn, "sam", role="supervisor", password=PASSWORD, actor="setup")
        store_users.create(conn, "mia", role="manager", password=PASSWORD, actor="setup")
    store.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(folder), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_list_sorts_ticks_and_assigns_in_the_browser(list_server: str, browser: Any,  # noqa: F811
                                                     lang: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    _login(page, list_server, "sam", lang)
    page.goto(f"{list_server}/customers?scheme=tier&tier=bronze&per=25")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    _shot(page, f"customers-{lang}")
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
