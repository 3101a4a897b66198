"""Every dashboard page checked by axe-core in headless Chromium, in English and in Chinese.

axe-core ships inside the ``axe-playwright-python`` package (no network at run time); a serious
or critical finding on any page fails the test, listed as page, rule, impact, help and the
elements it names.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browsing import Site, Visitor, pages

SEVERE = ("serious", "critical")


def findings(page: Any) -> list[str]:
    """axe's serious and critical findings on the open page, one readable line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    lines = []
    for v in results.response["violations"]:
        if v.get("impact") not in SEVERE:
            continue
        nodes = v["nodes"]
        targets = ", ".join(" ".join(map(str, n["target"])) for n in nodes[:4])
        more = f" (+{len(nodes) - 4} more)" if len(nodes) > 4 else ""
        lines.append(f"{v['impact']}: {v['id']}: {v['help']} at {targets}{more}")
    return lines


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_no_serious_accessibility_findings(quality_site: dict[str, Site], browser: Any,
                                           lang: str) -> None:
    visitor = Visitor(browser, lang)
    problems: list[str] = []
    try:
        for label, url, user, status in pages(quality_site):
            page = visitor.open(url, user, status)
            problems += [f"{label} [{lang}] {line}" for line in findings(page)]
    finally:
        visitor.close()
    assert not problems, "axe found serious or critical problems:\n" + "\n".join(problems)


@pytest.mark.slow
def test_the_check_finds_problems(quality_site: dict[str, Site], browser: Any) -> None:
    """The check is not blind: an image without text and an unlabelled field are reported."""
    page = browser.new_page()
    page.goto(f"{quality_site['retail'].url}/login")
    page.set_content('<html lang="en"><head><title>t</title></head><body><main>'
                     '<img src="/static/app.css"><input name="q"></main></body></html>')
    found = "\n".join(findings(page))
    assert "image-alt" in found and "label" in found
    page.close()
