"""Every page of the dashboard in English and Chinese, on the retail example with demo data.

The retail example (services.demo) with synthetic customers, its value scheme graded at three
month-ends (so that the overview has a trend and a transition matrix) and every other scheme
once, a pending override, and users of each role. Each page is opened as the user who works
with it, checked (it answers 200, fits a 1,280 px laptop screen, shows its main element, and
no script error or failed request happens), and with ``TIERWISE_SCREENSHOTS=<folder>`` saved as
``<page>-<en|zh>.png``, 1,280 px wide, full page cropped to :data:`MAX_HEIGHT`::

    TIERWISE_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/web/test_screenshots.py
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.browsing import AS_OF, PASSWORD, _security, chromium, serve, store_env
from tierwise.demo import write_retail
from tierwise.demo.generate import graded_month_ends
from tierwise.services import overrides as override_service
from tierwise.services import runs
from tierwise.services.demo import copy_example
from tierwise.services.grading import Project
from tierwise.store import users as store_users
from tierwise.store.overrides import OverrideRequest

SHOTS = os.environ.get("TIERWISE_SCREENSHOTS")
MAX_HEIGHT = 2000
#: The value scheme's month-ends, as the demo grades them: a trend, the moves of the last run,
#: and the win-back email's planted effect against its control group.
MONTHS = graded_month_ends(AS_OF)
CUSTOMER = "C000007"


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The retail example with demo data, graded, with users and a pending override; served."""
    folder = tmp_path_factory.mktemp("screens") / "retail"
    copy_example("retail", folder)
    write_retail(folder / "data", customers=1000)
    _security(folder)  # overrides of value wait for approval; no login rate limit
    store_url = f"sqlite:///{folder / 'store.db'}"
    with store_env(store_url):
        project = Project.open(folder)
        runs.backfill(project, ["value"], MONTHS)
        runs.backfill(project, [n for n in project.spec.schemes if n != "value"], [AS_OF])
        store = runs.open_store(project)
        try:
            with store.begin() as conn:
                for name, role in (("ada", "admin"), ("sam", "supervisor"), ("max", "manager")):
                    store_users.create(conn, name, role=role, password=PASSWORD, actor="setup")
                store_users.assign(conn, [CUSTOMER], "max", actor="setup")
            override_service.create(project, OverrideRequest(
                "value", CUSTOMER, kind="pin", tier="high", reason="Signed an annual contract",
                valid_from=AS_OF), actor="max", store=store)
        finally:
            store.close()
    with serve(folder, store_url) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _smaller(path: Path) -> None:
    """Rewrite the PNG with a 256-colour palette (a third of the size for these flat pages)."""
    from PIL import Image  # with fpdf2, a dependency of the PDF standard document

    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                             dither=Image.Dither.NONE)
    small.save(path, optimize=True)


class Tour:
    """Opens pages in one logged-in browser context, checks and (maybe) saves each."""

    def __init__(self, browser: Any, base: str, lang: str, user: str | None) -> None:
        self.base, self.lang = base, lang
        self.page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda exc: self.problems.append(f"script error: {exc}"))
        self.page.on("response", lambda r: self.problems.append(f"{r.status} {r.url}")
                     if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
        self.page.goto(f"{base}/login?lang={lang}")
        if user is not None:
            self.page.fill("input[name=username]", user)
            self.page.fill("input[name=password]", PASSWORD)
            with self.page.expect_navigation():
                self.page.click("form[action='/login'] button[type=submit]")

    def open(self, path: str, main: str) -> Any:
        """Open ``path``; it answers 200 and shows ``main`` (a selector)."""
        shown = self.page.goto(f"{self.base}{path}")
        assert shown is not None and shown.status == 200, (path, shown and shown.status)
        self.page.locator(main).first.wait_for()
        return self.page

    def shot(self, name: str) -> None:
        """Check the page as it is now, and save it as ``<name>-<en|zh>.png`` when asked."""
        page = self.page
        assert not self.problems, (name, self.problems)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, (name, width)
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            height = min(MAX_HEIGHT, page.evaluate("document.documentElement.scrollHeight"))
            suffix = "en" if self.lang == "en" else "zh"
            path = Path(SHOTS) / f"{name}-{suffix}.png"
            page.screenshot(path=str(path), full_page=True,
                            clip={"x": 0, "y": 0, "width": 1280, "height": height})
            _smaller(path)

    def close(self) -> None:
        """Close the browser context."""
        self.page.context.close()


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_every_page_in_both_languages(retail: str, browser: Any, lang: str) -> None:
    guest = Tour(browser, retail, lang, None)
    guest.page.locator("form[action='/login']").wait_for()
    guest.shot("login")
    guest.close()

    sam = Tour(browser, retail, lang, "sam")
    sam.open("/overview?scheme=value", "table.matrix")
    assert sam.page.locator("svg.chart").count() >= 2  # the distribution and the trend
    sam.shot("overview")
    sam.open("/customers?scheme=value", "table a[href^='/customers/C']")
    sam.shot("customers")
    page = sam.open(f"/customers/{CUSTOMER}?scheme=value", ".scheme-class[data-scheme='value']")
    assert page.locator("textarea[name=reason]").count() == 1  # the re-classification form
    sam.shot("customer")
    sam.open("/approvals", "button[name=action][value=approve]")
    sam.shot("approvals")
    sam.open("/schemes", "a[href='/new-scheme']")
    sam.shot("schemes")
    sam.open("/new-scheme", "#template-blank")
    sam.shot("new-scheme")
    page = sam.open("/schemes/value", ".builder-tree")
    # The page counts on load (builder.js): every tier's line and the gaps-and-overlaps panel.
    page.locator("#rule-panel .unmatched").wait_for()
    sam.shot("rules-editor")
    sam.open("/schemes/rfm", "select[name=segments]")
    sam.shot("rfm")
    page = sam.open("/runs", "#run-form")
    sam.shot("run-now")
    page.check("input[name='run.value']")
    page.fill("input[name=as_of]", AS_OF.isoformat())
    page.check("#force")
    with page.expect_navigation():
        page.click("#run-form button[type=submit]")
    page.locator("#job-status .result[data-status=done]").wait_for(timeout=120_000)
    sam.shot("job")
    sam.open("/schedules", "main form")
    sam.shot("schedules")
    sam.open("/schemes/value/document", "table.standard-classes")
    sam.shot("document")
    # The win-back email against its control group, both months pooled, and the KPIs per tier.
    page = sam.open("/actions?effect=winback_email&outcome=orders_1m&rate=1&pooled=1&kpis=1",
                    "div.effect .uplift")
    assert page.locator("table.kpi").count() == 3
    sam.shot("actions")
    sam.close()

    ada = Tour(browser, retail, lang, "ada")
    ada.open("/audit", "main table")
    ada.shot("audit")
    ada.close()
