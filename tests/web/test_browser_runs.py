"""Run now in a real browser (headless Chromium): the job page's own script shows the result.

Activating a version sends the supervisor to the Run now page, which offers the forced re-run of
the latest graded date; clicking it opens the job page, and ``static/js/job.js`` (allowed by the
CSP as a script of our own origin) replaces the progress with the result, without a reload.
Without JavaScript the same page refreshes itself and has a Refresh link.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.browsing import login, words
from tierwise.services import runs
from tierwise.services import versions as version_service
from tierwise.services.grading import Project


def _stricter_gold(months: Path) -> None:
    """Version 2 of the tier scheme: gold needs 4 orders in 3 months (C1 has 3)."""
    project = Project.open(months)
    store = runs.open_store(project)
    spec = version_service.listing(store, "tier")[0][0].spec
    spec["tiers"][0]["when"] = "orders_3m >= 4"
    version_service.save_edit(store, project, "tier", spec, actor="sam", base=1)
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_activate_then_run_now_shows_the_result(server: str, browser: Any,
                                                months: Path, lang: str) -> None:
    t = words(lang)
    _stricter_gold(months)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and
            "404" not in m.text else None)  # the browser asks for /favicon.ico
    polled: list[str] = []
    page.on("request", lambda r: polled.append(r.url) if r.url.endswith("/status") else None)
    login(page, server, "sam", lang)
    page.goto(f"{server}/schemes/tier?diff=2")
    page.click(f"text={t('Activate version {version}').format(version=2)}")
    page.wait_for_url("**/runs?**activated=2**")
    offer = page.locator("#after-activation")
    assert "2026" in offer.inner_text()
    with page.expect_navigation():
        offer.locator("button[type=submit]").click()
    assert "/runs/jobs/" in page.url
    page.evaluate("window.stillThisPage = true")
    # job.js swaps the result in: no reload, the page's own script.
    result = page.locator("#job-status .result[data-status=done]")
    result.wait_for(timeout=60_000)
    assert page.locator("#job-status").get_attribute("data-finished") == "1"
    assert polled and page.evaluate("window.stillThisPage") is True
    assert result.get_attribute("data-scheme") == "tier"
    text = result.inner_text()
    assert "Silver" in text or "silver" in text  # C1 moved from gold to silver
    assert page.get_by_role("link", name=t("Open the overview of {scheme}").format(
        scheme="tier")).count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert not errors, errors  # no CSP refusal, no script error
    page.close()


@pytest.mark.slow
def test_without_javascript_the_job_page_refreshes(server: str, browser: Any
                                                   ) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    loads: list[str] = []
    page.on("response", lambda r: loads.append(r.text()) if "/runs/jobs/" in r.url else None)
    login(page, server, "sam", "en")
    page.goto(f"{server}/runs")
    page.check("input[name='run.tier']")
    page.fill("input[name=as_of]", "2026-07-31")
    page.click("#run-form button[type=submit]")
    page.wait_for_url("**/runs/jobs/**")
    # The job may still run when the page is read: then it refreshes itself (meta refresh in
    # <noscript>, which a CSP does not govern) and has a Refresh link.
    page.locator("#job-status .result[data-status=done]").wait_for(timeout=60_000)
    assert "tier graded as of Jul 31, 2026" in page.content()
    if 'data-finished="0"' in loads[0]:  # it ran when first read: the page reloaded itself
        assert len(loads) >= 2 and 'id="job-refresh"' in loads[0]
    context.close()
