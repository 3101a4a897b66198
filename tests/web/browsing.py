"""Shared set-up of the dashboard tests in a real browser (headless Debian Chromium driven by
Playwright): :func:`serve` serves a project on a free local port, :func:`served` with its users
first, the ``browser`` fixture launches Chromium once per module, :func:`login` logs in through
the form; ``server`` is the months project (tests/services/conftest.py) graded monthly from
January to June 2026, served with supervisors sam and ada and manager max (customers C1, C2).
With ``TIERWISE_SCREENSHOTS=<folder>``, :func:`shot` saves pages as PNG files
(``docs/screenshots`` in the repository).

For the accessibility and layout checks, one session-wide site serves the retail and b2b examples (every method the examples use: rules,
RFM, CLV, clusters, ABC, scorecard) on small synthetic data, each graded once, with users of
every role and an override that waits for approval; plus a project without any run, for the
empty states. Each project is served by its own uvicorn on a free local port.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.web.clients import PASSWORD, add_users, hidden
from tierwise import i18n
from tierwise.api.app import create_app
from tierwise.demo import write_b2b, write_retail
from tierwise.services import overrides as override_service
from tierwise.services import runs
from tierwise.services.demo import copy_example
from tierwise.services.grading import Project
from tierwise.store.overrides import OverrideRequest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = os.environ.get("TIERWISE_SCREENSHOTS")
USERS = {"ada": "admin", "sam": "supervisor", "max": "manager", "aud": "auditor"}
AS_OF = date(2026, 6, 30)


@dataclass
class Site:
    """A served example project: its base URL, its schemes and a graded customer of each."""

    name: str
    url: str
    schemes: dict[str, str] = field(default_factory=dict)  # name -> method
    customer: str = ""
    job: str = ""  # the path of a finished Run now job's page


@contextmanager
def store_env(store_url: str) -> Iterator[None]:
    """``TIERWISE_STORE_URL`` set to ``store_url`` inside the block only, so that no other test
    of the session sees it (the served apps open their store when made)."""
    saved = os.environ.get("TIERWISE_STORE_URL")
    os.environ["TIERWISE_STORE_URL"] = store_url
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TIERWISE_STORE_URL", None)
        else:
            os.environ["TIERWISE_STORE_URL"] = saved


@contextmanager
def serve(folder: Path, store_url: str | None = None) -> Iterator[str]:
    """Serve the project in ``folder`` on a free local port; yields its base URL. Its store is
    ``store_url``, or without it the project's own (``TIERWISE_STORE_URL`` as set now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    if store_url is None:
        app = create_app(folder)
    else:
        with store_env(store_url):
            app = create_app(folder)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=30)


def _security(folder: Path) -> None:
    """Many logins from one address in a test: lift the login rate limit. Overrides of the
    retail value scheme wait for approval, so that the approvals page has a queue."""
    yaml = folder / "tierwise.yaml"
    text = yaml.read_text(encoding="utf-8").replace(
        "  value:\n    method: rules\n",
        "  value:\n    method: rules\n    overrides: {require_approval: true}\n")
    yaml.write_text(text + "\nsecurity:\n  login_rate: {per_minute: 1000, burst: 1000}\n",
                    encoding="utf-8")


@contextmanager
def served(folder: Path, roles: dict[str, str],
           assign: dict[str, list[str]] | None = None) -> Iterator[str]:
    """The project in ``folder`` (its store from ``TIERWISE_STORE_URL``) with the users
    ``roles`` and the managers' customers ``assign``, served; yields its base URL."""
    store = runs.open_store(Project.open(folder))
    try:
        add_users(store, roles, assign)
    finally:
        store.close()
    with serve(folder) as url:
        yield url


def _users(store: Any, customers: list[str]) -> None:
    add_users(store, USERS, {"max": customers})


def build_example(root: Path, name: str) -> tuple[Path, str, Site]:
    """Write example ``name`` with data under ``root``, grade it once, add users and a pending
    override; returns its folder, store URL and a :class:`Site` without URL yet."""
    folder = root / name
    copy_example(name, folder)
    if name == "retail":
        write_retail(folder / "data", customers=300)
    else:
        write_b2b(folder / "data", accounts=200)
    _security(folder)
    store_url = f"sqlite:///{folder / 'store.db'}"
    with store_env(store_url):
        project = Project.open(folder)
        schemes = {n: s.method for n, s in project.spec.schemes.items()}
        runs.backfill(project, list(schemes), [AS_OF])
        store = runs.open_store(project)
        try:
            first = next(iter(schemes))
            customer = _first_customer(folder)
            _users(store, [customer])
            made = override_service.create(project, OverrideRequest(
                first, customer, kind="exclude", tier=None, reason="disputed invoices",
                valid_from=AS_OF), actor="max", store=store)
            assert name != "retail" or made.status == "pending"
        finally:
            store.close()
    return folder, store_url, Site(name, "", schemes, customer)


def _first_customer(folder: Path) -> str:
    """The first customer id of the example's customer file (every customer is graded)."""
    data = folder / "data"
    file = data / "customers.csv" if (data / "customers.csv").exists() else data / "accounts.csv"
    with file.open(encoding="utf-8-sig") as f:
        f.readline()
        return f.readline().split(",")[0]


def build_empty(root: Path) -> tuple[Path, str]:
    """The months project with users and no run: the pages' empty states."""
    from tests.services.conftest import write_months

    folder = write_months(root / "fresh")
    _security(folder)
    store_url = f"sqlite:///{folder / 'store.db'}"
    with store_env(store_url):
        store = runs.open_store(Project.open(folder))
    try:
        _users(store, ["C1"])
    finally:
        store.close()
    return folder, store_url


@contextmanager
def sites(root: Path) -> Iterator[dict[str, Site]]:
    """The retail and b2b examples and the empty project, each served; by name."""
    built = [build_example(root, "retail"), build_example(root, "b2b")]
    empty_folder, empty_url = build_empty(root)
    with serve(built[0][0], built[0][1]) as retail, serve(built[1][0], built[1][1]) as b2b, \
            serve(empty_folder, empty_url) as empty:
        out = {"retail": built[0][2], "b2b": built[1][2], "empty": Site("empty", empty)}
        out["retail"].url, out["b2b"].url = retail, b2b
        out["retail"].job = start_job(retail, "sam", "value")
        yield out


def start_job(base: str, user: str, scheme: str) -> str:
    """Run ``scheme`` again for its graded date with Run now, as ``user`` through the forms;
    returns the job page's path once the job has ended."""
    import httpx

    with httpx.Client(base_url=base, timeout=60) as client:
        client.post("/login", data={"username": user, "password": PASSWORD,
                                    "csrf": hidden(client.get("/login").text)})
        started = client.post("/runs", data={
            "csrf": hidden(client.get("/runs").text), f"run.{scheme}": "1",
            "as_of": AS_OF.isoformat()})
        assert started.status_code == 303, started.text
        path = started.headers["location"]
        for _ in range(240):
            if client.get(f"{path}/status").json()["finished"]:
                return path
            time.sleep(0.25)
    raise AssertionError(f"the job at {path} did not end")


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright; skips (fails on CI) when missing."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("CI needs Chromium for the browser tests: apt-get install chromium")
        pytest.skip("no Chromium: apt-get install chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless"])
        try:
            yield b
        finally:
            b.close()


def words(lang: str) -> Any:
    """The page's text for an English message, in ``lang``."""

    def t(message: str) -> str:
        with i18n.use(lang):
            return i18n._(message)

    return t


def shot(page: Any, name: str) -> None:
    """Save the page as ``<name>.png`` in the folder ``TIERWISE_SCREENSHOTS`` names, if any."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def login(page: Any, base: str, user: str, lang: str) -> None:
    """Log in through the form in ``lang``; the page ends on the overview."""
    page.goto(f"{base}/login?lang={lang}")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/overview**")


def pages(found: dict[str, Site]) -> list[tuple[str, str, str | None, int]]:
    """(label, URL, user, expected status) of every page the dashboard has; user None: no login."""
    retail, b2b, empty = found["retail"], found["b2b"], found["empty"]
    r, c = retail.url, retail.customer
    out: list[tuple[str, str, str | None, int]] = [
        ("login", f"{r}/login", None, 200),
        ("login-wait", f"{r}/login?wait=30", None, 200),
        ("overview", f"{r}/overview?scheme=value", "sam", 200),
        ("overview-manager", f"{r}/overview?scheme=value", "max", 200),
        ("customers", f"{r}/customers?scheme=value", "sam", 200),
        ("customers-none", f"{r}/customers?scheme=value&q=NOBODY", "sam", 200),
        ("customers-bad-condition", f"{r}/customers?scheme=value&where=spend%20%3E%3E", "sam", 422),
        ("customer", f"{r}/customers/{c}?scheme=value", "sam", 200),
        ("approvals", f"{r}/approvals", "sam", 200),
        ("approvals-manager", f"{r}/approvals", "max", 200),
        ("audit", f"{r}/audit", "ada", 200),
        ("customers-filtered", f"{r}/customers?scheme=value&tier=high&sort=i.spend_12m&dir=desc"
         "&where=orders_12m%20%3E%3D%201", "sam", 200),
        ("schemes", f"{r}/schemes", "sam", 200),
        ("new-scheme", f"{r}/new-scheme", "sam", 200),
        ("manage-scheme", f"{r}/schemes/value/manage", "sam", 200),
        ("scheme-read-only", f"{r}/schemes/value", "aud", 200),
        ("document", f"{r}/schemes/value/document", "sam", 200),
        ("run-now", f"{r}/runs?scheme=value", "sam", 200),
        ("job", f"{r}{retail.job}", "sam", 200),
        ("schedules", f"{r}/schedules", "sam", 200),
        ("actions", f"{r}/actions", "sam", 200),
        ("empty-schemes", f"{empty.url}/schemes", "sam", 200),
        ("empty-runs", f"{empty.url}/runs", "sam", 200),
        ("empty-schedules", f"{empty.url}/schedules", "sam", 200),
        ("not-found", f"{r}/customers/NOBODY?scheme=value", "sam", 404),
        ("forbidden", f"{r}/audit", "max", 403),
        ("empty-overview", f"{empty.url}/overview", "sam", 200),
        ("empty-customers", f"{empty.url}/customers", "sam", 200),
        ("empty-approvals", f"{empty.url}/approvals", "sam", 200),
    ]
    for site in (retail, b2b):
        for name, method in site.schemes.items():
            out.append((f"scheme-{site.name}-{name}-{method}", f"{site.url}/schemes/{name}",
                        "sam", 200))
    return out


@pytest.fixture(scope="session")
def quality_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Site]]:
    """The served examples and empty project, shared by the accessibility and layout tests."""
    with sites(tmp_path_factory.mktemp("quality")) as found:
        yield found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium for a module's tests; per module, since Playwright's sync API runs
    one instance at a time in a thread."""
    with chromium() as b:
        yield b


@pytest.fixture
def server(months: Path) -> Iterator[str]:
    """The months project graded at each month's end from January to June 2026, served with
    supervisors sam and ada and manager max (customers C1 and C2); yields its base URL."""
    runs.backfill(Project.open(months), ["tier", "steady"],
                  runs.backfill_dates(date(2026, 1, 1), date(2026, 6, 30)))
    roles = {"sam": "supervisor", "ada": "supervisor", "max": "manager"}
    with served(months, roles, {"max": ["C1", "C2"]}) as url:
        yield url


class Visitor:
    """Opens pages as each user in one browser context per (site, user, viewport, language)."""

    def __init__(self, browser: Any, lang: str, viewport: tuple[int, int] = (1280, 800)) -> None:
        self.browser, self.lang = browser, lang
        self.viewport = {"width": viewport[0], "height": viewport[1]}
        self.tabs: dict[tuple[str, str | None], Any] = {}

    def open(self, url: str, user: str | None, status: int = 200) -> Any:
        """The page at ``url`` seen by ``user`` (None: not logged in), checked for ``status``."""
        base = "/".join(url.split("/", 3)[:3])
        page = self.tabs.get((base, user))
        if page is None:
            page = self.browser.new_context(viewport=self.viewport).new_page()
            if user is None:
                page.goto(f"{base}/login?lang={self.lang}")
            else:
                login(page, base, user, self.lang)
            self.tabs[(base, user)] = page
        shown = page.goto(url)
        assert shown is not None and shown.status == status, (url, user, shown and shown.status)
        return page

    def close(self) -> None:
        """Close every context opened."""
        for page in self.tabs.values():
            page.context.close()
        self.tabs.clear()

