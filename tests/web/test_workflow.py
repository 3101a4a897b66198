"""The business user's whole workflow in a real browser, as a supervisor on a fresh project.

On the starter project ``tierwise init`` writes (services.starter, no run recorded), in English
and in Chinese: log in and see the overview offer to run the file's schemes; create a blank scheme "shop"
and build four classes with the condition builder (high value, potential, ordinary as the
fallback, churn risk as a status), watching the live counts; save and activate it; run it from
the browser; read the report and check it against the store's grades; list the churn-risk
customers; re-classify one by hand; export the high-value list to Excel and check its rows;
download the classification standard. Each step is timed; ``pytest -s`` prints the table, and
it is also in the test's captured output and its junit ``steps`` property.

The test fails on any script error, console error or 4xx/5xx response of the app (the browser's
own favicon request aside), and asserts on what the pages show, not only on status codes.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from tests.web.browsing import browser, serve
from tests.web.browsing import login as _login
from tests.web.clients import PASSWORD
from tierwise import i18n
from tierwise.services import history as history_service
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.services.starter import write_starter
from tierwise.store import users as store_users

__all__ = ["browser"]

#: The four classes in the order their rules are tried: key -> (label en, label zh, strategy
#: en, strategy zh). Churn risk is tried first, as a status outside the value ladder.
CLASSES = {
    "churn_risk": ("Churn risk", "流失风险客户", "Win-back coupon and a call from the store.",
                   "发送召回优惠券，门店电话回访。"),
    "high": ("High value", "高价值客户", "Dedicated service line and early access; coupons.",
             "专属客服、新品优先体验；发放优惠券。"),
    "potential": ("Potential", "潜力客户", "Bundles and points accelerators to move them up.",
                  "组合优惠和积分加速，推动升级。"),
    "ordinary": ("Ordinary", "普通客户", "Regular newsletters.", "常规会员通讯。"),
}
#: Each class's condition as the builder writes it (the fallback has none).
WHEN = {"churn_risk": "orders_6m == 0", "high": "orders_12m >= 10 and spend_12m >= 10000",
        "potential": "orders_12m >= 4"}


@dataclass
class Steps:
    """Times each step of the workflow; :meth:`table` lists them."""

    lang: str
    problems: list[str] = field(default_factory=list)  # errors the page reported (_watch)
    done: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block as step ``name``; a failing block, or a script error or failed
        request during it, fails the test at that step."""
        start = time.perf_counter()
        try:
            yield
            assert not self.problems, self.problems
        except BaseException:
            self.done.append((f"{name} (FAILED)", time.perf_counter() - start))
            raise
        self.done.append((name, time.perf_counter() - start))

    def table(self) -> str:
        """The steps, their time in seconds and the total, as a plain-text table."""
        width = max([len("total"), *(len(n) for n, _s in self.done)])
        lines = [f"Workflow in {self.lang}: {len(self.done)} steps",
                 f"{'#':>2}  {'step':<{width}}  {'seconds':>7}"]
        lines += [f"{i:>2}  {n:<{width}}  {s:7.2f}" for i, (n, s) in enumerate(self.done, 1)]
        lines.append(f"{'':>2}  {'total':<{width}}  {sum(s for _n, s in self.done):7.2f}")
        return "\n".join(lines)


def _words(lang: str) -> Callable[[str], str]:
    def t(message: str) -> str:
        with i18n.use(lang):
            return i18n._(message)
    return t


def _in(lang: str, fn: Callable[..., str], *args: Any) -> str:
    with i18n.use(lang):
        return fn(*args)


@pytest.fixture
def fresh(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, Path, str]]:
    """``tierwise init``'s starter in the test's language, a supervisor, nothing run; served."""
    lang = request.node.callspec.params["lang"]
    folder = tmp_path / "shop"
    write_starter(folder, lang=lang)
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIERWISE_STORE_URL", store_url)
        store = runs.open_store(Project.open(folder))
        try:
            with store.connect() as conn:
                assert not list(conn.exec_driver_sql("select id from runs"))  # no run yet
            with store.begin() as conn:
                store_users.create(conn, "sam", role="supervisor", password=PASSWORD,
                                   actor="setup")
        finally:
            store.close()
    with serve(folder, store_url) as base:
        yield base, folder, store_url


def _watch(page: Any, base: str) -> list[str]:
    """Every script error, console error and failed response of the app, as they happen."""
    seen: list[str] = []
    page.on("pageerror", lambda exc: seen.append(f"script error: {exc}"))
    page.on("console", lambda m: seen.append(f"console: {m.text}") if m.type == "error"
            and "favicon.ico" not in m.text and "404" not in m.text else None)
    page.on("response", lambda r: seen.append(f"{r.status} {r.url}") if r.status >= 400
            and r.url.startswith(base) and not r.url.endswith("/favicon.ico") else None)
    return seen


def _grades(folder: Path, store_url: str) -> tuple[int, dict[str, str]]:
    """The latest official run of shop: its id and each customer's tier, from the store."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIERWISE_STORE_URL", store_url)
        store = runs.open_store(Project.open(folder))
        try:
            run = history_service.latest_run(store, "shop")
        finally:
            store.close()
    table = pq.read_table(Path(run.folder or "") / "grades.parquet",
                          columns=["customer_id", "tier"]).to_pylist()
    return run.id, {r["customer_id"]: r["tier"] for r in table}


def _label(key: str, lang: str) -> str:
    en, zh, _s, _z = CLASSES[key]
    return en if lang == "en" else zh


def _submit(page: Any, selector: str) -> None:
    """Press a button that posts the form and wait for the page it returns."""
    with page.expect_navigation():
        page.click(selector)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_the_whole_workflow_as_a_supervisor(fresh: tuple[str, Path, str], browser: Any,
                                            lang: str, record_property: Any) -> None:
    base, folder, store_url = fresh
    page = browser.new_context(viewport={"width": 1280, "height": 900},
                               accept_downloads=True).new_page()
    steps = Steps(lang, _watch(page, base))
    try:
        with steps.step("log in; the overview offers the next step"):
            _overview_is_empty(page, base, lang)
        with steps.step("create the blank scheme shop"):
            _create_scheme(page, base, lang)
        with steps.step("build four classes with the builder; live counts"):
            live = _build_classes(page, lang)
        with steps.step("save and activate version 2"):
            _save_and_activate(page, lang)
        with steps.step("run it from the browser and wait for the job"):
            _run_now(page, lang)
        run_id, grades = _grades(folder, store_url)
        with steps.step("read the report: KPI cards against the grades"):
            _read_report(page, base, lang, run_id, grades, live)
        with steps.step("filter the customer list to churn risk"):
            customer = _churn_risk_customers(page, lang, grades)
        with steps.step("re-classify a customer by hand with a reason"):
            _pin_to_high_value(page, lang, customer)
        with steps.step("export the high-value list to Excel and check it"):
            _export_high_value(page, base, lang, grades, customer)
        with steps.step("download the classification standard (Excel)"):
            _download_standard(page, base, lang)
    finally:
        table = steps.table()
        print("\n" + table)
        record_property("steps", table)
        page.context.close()
    assert [n for n, _s in steps.done if n.endswith("(FAILED)")] == []
    assert len(steps.done) == 10


def _overview_is_empty(page: Any, base: str, lang: str) -> None:
    """The starter's schemes are in tierwise.yaml, none run: the overview offers to run one,
    and the scheme list shows them as saved on their first run, beside "New scheme"."""
    t = _words(lang)
    _login(page, base, "sam", lang)
    empty = page.locator(".tw-empty")
    title = "Customer value" if lang == "en" else "客户价值分级"
    assert t("No results for {scheme} yet").format(scheme=title) in empty.inner_text()
    action = empty.locator("a.btn")
    assert action.inner_text().strip() == t("Run it now")
    assert action.get_attribute("href") == "/runs?scheme=value"
    with page.expect_navigation():
        page.click("nav a[href='/schemes']")
    listed = page.inner_text("table.schemes-list")
    assert title in listed and t("in tierwise.yaml, saved on its first run") in listed


def _create_scheme(page: Any, base: str, lang: str) -> None:
    t = _words(lang)
    with page.expect_navigation():
        page.click("a.btn[href='/new-scheme']")  # on the scheme list
    assert page.inner_text("h1") == t("New scheme")
    page.fill("#new-name", "shop")
    page.fill("#new-title", "Shop classes" if lang == "en" else "门店客户分级")
    page.check("#template-blank")
    _submit(page, "form[action='/new-scheme'] button[type=submit]")
    assert page.url == f"{base}/schemes/shop?created=1"
    created = t("Scheme {scheme} is created as version 1 and active for every date; it grades "
                "when it is run (Run now, or `tierwise run {scheme}`).").format(scheme="shop")
    assert created in page.inner_text(".alert-success")


def _build_classes(page: Any, lang: str) -> dict[str, int]:
    """Four classes in place of the blank scheme's one; returns what each gets, live."""
    zh = lang != "en"
    for _i in CLASSES:  # four new tiers go above the blank scheme's "everyone"
        _submit(page, "button[name=action][value=add_tier]")
    assert page.input_value("input[name='tiers.count']") == "5"
    for i, (key, (en_label, zh_label, _en, _zh)) in enumerate(CLASSES.items()):
        page.fill(f"input[name='tiers[{i}].key']", key)
        page.fill(f"input[name='tiers[{i}].label.{'zh' if zh else 'en'}']",
                  zh_label if zh else en_label)
    _submit(page, "button[name=action][value='remove:4']")  # the blank scheme's own tier
    page.select_option("select[name=fallback]", "ordinary")
    page.select_option("select[name='tiers[0].status']", "yes")  # churn risk: a status
    for i, (_en, _zh, en_do, zh_do) in enumerate(CLASSES.values()):
        page.locator("fieldset.tier").nth(i).locator("details.tier-texts-editor summary").click()
        page.fill(f"textarea[name='tiers[{i}].strategy.{'zh' if zh else 'en'}']",
                  zh_do if zh else en_do)
    # The conditions, row by row with the builder (no expression typed).
    for i in range(3):
        _add_row(page, i)
    _row(page, "tiers[0].c.0", "orders_6m", "==", "0")
    _row(page, "tiers[1].c.0", "orders_12m", ">=", "10")
    _add_row(page, 1)
    _row(page, "tiers[1].c.1", "spend_12m", ">=", "10,000")  # thousands separators are fine
    _row(page, "tiers[2].c.0", "orders_12m", ">=", "4")
    # The counts follow the edits: the builder's texts come back with them, so when the last
    # edit's text is shown, the counts shown are those of the whole edit.
    page.wait_for_function(
        "(whens) => whens.every(([i, w]) => document.querySelector("
        "`.builder[data-tier='${i}'] .builder-text`).value === w)",
        arg=[[i, WHEN[k]] for i, k in enumerate(CLASSES) if k in WHEN], timeout=30_000)
    panel = page.inner_text("#rule-panel")
    not_run = _in(lang, i18n._, "Not run yet: counted on the data as of {day}, the indicators "
                  "computed now from the sources: {n} customers.")
    assert not_run.split("{day}")[0] in panel
    live = {}
    for i, key in enumerate(CLASSES):
        line = page.inner_text(f"#count-{i}")
        shares = re.sub(r"\d[\d,.]*\s*%", "", line)  # "(12.3% of value)"
        numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", shares)]
        assert numbers, (key, line)
        live[key] = numbers[-1]  # "... ; N get this tier" or "N fall to this tier"
    assert live["ordinary"] and live["high"] and live["churn_risk"] and live["potential"]
    return live


def _add_row(page: Any, tier: int) -> None:
    """Press "Add a condition" in the tier's top group (the page's script adds the row)."""
    page.locator(f".builder-tree[data-tier='{tier}'] > .builder-group > .builder-buttons "
                 "button[data-builder=add_row]").click()


def _row(page: Any, at: str, indicator: str, op: str, value: str) -> None:
    """Fill a builder row: pick the indicator and the operator, type the value."""
    page.select_option(f"select[name='{at}.ind']", indicator)
    page.select_option(f"select[name='{at}.op']", op)
    page.fill(f"input[name='{at}.v']", value)


def _save_and_activate(page: Any, lang: str) -> None:
    t = _words(lang)
    page.fill("input[name=note]", "four classes" if lang == "en" else "四类客户")
    page.click("button[name=action][value=save]")
    page.wait_for_url("**saved=2**")
    assert t("Version {version} saved; it is not active yet.").format(version=2) in \
        page.content()
    page.click(f"text={t('Activate version {version}').format(version=2)}")
    page.wait_for_url("**/runs?**activated=2**")


def _run_now(page: Any, lang: str) -> None:
    t = _words(lang)
    offer = page.locator("#after-activation")
    first = t("Version {version} of {scheme} is active. The scheme has not been graded yet: its "
              "first run grades with this version.").format(
                  version=2, scheme="Shop classes" if lang == "en" else "门店客户分级")
    assert first in offer.inner_text()
    with page.expect_navigation():
        offer.locator("button[type=submit]").click()
    assert "/runs/jobs/" in page.url
    result = page.locator("#job-status .result[data-status=done]")
    result.wait_for(timeout=120_000)
    assert result.get_attribute("data-scheme") == "shop"
    assert page.get_by_role("link", name=t("Open the overview of {scheme}").format(
        scheme="shop")).count() == 1


def _read_report(page: Any, base: str, lang: str, run_id: int, grades: dict[str, str],
                 live: dict[str, int]) -> None:
    t = _words(lang)
    with page.expect_navigation():
        page.get_by_role("link", name=t("Open the overview of {scheme}").format(
            scheme="shop")).click()
    assert page.url.startswith(f"{base}/overview")
    header = t("Latest official run #{run} · as of {day} · version {version}")
    assert header.split("{run}")[0] + str(run_id) in page.inner_text("main")
    total = len(grades)
    for key in CLASSES:
        card = page.locator(f".tier-card[data-tier='{key}']")
        text = card.inner_text()
        n = sum(1 for tier in grades.values() if tier == key)
        assert _label(key, lang) in text
        assert _in(lang, i18n.number, n) == card.locator(".fs-4").first.inner_text().strip()
        share = _in(lang, i18n.percent, n / total)
        assert t("{share} of customers").format(share=share) in text, (key, text)
        # The run gives each class what the builder counted live.
        assert n == live[key], (key, n, live)
    assert t("status") in page.locator(".tier-card[data-tier='churn_risk']").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def _churn_risk_customers(page: Any, lang: str, grades: dict[str, str]) -> str:
    with page.expect_navigation():
        page.click(".tier-card[data-tier='churn_risk'] h3 a")
    assert "tier=churn_risk" in page.url
    n = sum(1 for tier in grades.values() if tier == "churn_risk")
    found = _in(lang, i18n.ngettext, "{n} matching customer", "{n} matching customers", n)
    assert found.format(n=_in(lang, i18n.number, n)) in page.inner_text("main")
    first = page.locator("table a[href^='/customers/C']").first
    customer = first.inner_text().strip()
    assert grades[customer] == "churn_risk"
    return customer


def _pin_to_high_value(page: Any, lang: str, customer: str) -> None:
    t = _words(lang)
    with page.expect_navigation():
        page.click(f"table a[href^='/customers/{customer}']")
    card = page.locator(".scheme-class[data-scheme='shop']")
    assert _label("churn_risk", lang) in card.inner_text()
    reason = "VIP contract signed" if lang == "en" else "已签订大客户合同"
    page.select_option("select[name=kind]", "pin")
    page.select_option("select[name=tier]", "high")
    page.fill("textarea[name=reason]", reason)
    _submit(page, "form[action*='/overrides'] button[type=submit]")
    saved = t("Override #{id} saved: customer {customer} is now {tier} in {scheme}, from {start}.")
    notice = page.locator("#notice .alert-success").inner_text()
    assert saved.split("{id}")[0] in notice and customer in notice
    card = page.locator(".scheme-class[data-scheme='shop']")
    assert _label("high", lang) in card.inner_text() and reason in card.inner_text()


def _export_high_value(page: Any, base: str, lang: str, grades: dict[str, str],
                       pinned: str) -> None:
    t = _words(lang)
    page.goto(f"{base}/customers?scheme=shop")
    page.select_option("#f-tier", "high")
    with page.expect_navigation():
        page.locator("#f-tier").evaluate("s => s.form.requestSubmit()")
    expected = {c for c, tier in grades.items() if tier == "high"} | {pinned}
    with page.expect_download() as started:
        page.click(f"text={t('Export to Excel')}")
    download = started.value
    assert download.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes()),
                          read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    head = [str(h) for h in rows[0]]
    # The labels of the user's language: customer id first, then the class.
    assert head[0] == t("Customer") and head[2] == t("Tier"), head
    body = [r for r in rows[1:] if any(v is not None for v in r)]
    # The run's high-value customers and the one pinned to it since.
    assert sorted(str(r[0]) for r in body) == sorted(expected)
    assert {r[2] for r in body} == {_label("high", lang)}


def _download_standard(page: Any, base: str, lang: str) -> None:
    t = _words(lang)
    page.goto(f"{base}/schemes/shop")
    with page.expect_navigation():
        page.click("a[href='/schemes/shop/document']")
    for key in CLASSES:
        assert _label(key, lang) in page.inner_text("table.standard-classes")
    with page.expect_download() as started:
        page.click(f"text={t('Download {format}').format(format=t('Excel'))}")
    download = started.value
    assert download.suggested_filename == "shop-v2-standard.xlsx"
    book = load_workbook(io.BytesIO(Path(download.path()).read_bytes()), read_only=True)
    cells = " ".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                     for v in row if v is not None)
    for key, (_en, _zh, en_do, zh_do) in CLASSES.items():
        assert _label(key, lang) in cells, key
        assert (en_do if lang == "en" else zh_do) in cells, key
