"""The dashboard tests' shared set-up without a browser: users of each role, a TestClient on a
project's app, the hidden fields of a page and the log-in through the form.

The browser tests (tests/web/browsing.py) make their users with :func:`add_users` too.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tierwise.api.app import create_app
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.store import users as store_users

PASSWORD = "correct horse battery staple"
#: One user of each role, and a second supervisor for the four-eyes approvals.
ROLES = {"ada": "admin", "sam": "supervisor", "sue": "supervisor", "max": "manager",
         "aud": "auditor"}


def add_users(store: Any, roles: Mapping[str, str],
              assign: Mapping[str, Iterable[str]] | None = None) -> None:
    """Create ``roles`` (name -> role) with :data:`PASSWORD` in ``store``; ``assign`` gives
    managers (name -> customer ids) their customers."""
    with store.begin() as conn:
        for name, role in roles.items():
            store_users.create(conn, name, role=role, password=PASSWORD, actor="setup")
        for manager, customers in (assign or {}).items():
            store_users.assign(conn, list(customers), manager, actor="setup")


@contextmanager
def dashboard(folder: Path, roles: Mapping[str, str] = ROLES,
              assign: Mapping[str, Iterable[str]] | None = None,
              **app_options: Any) -> Iterator[TestClient]:
    """A TestClient (redirects not followed) on the project in ``folder``, whose store (the
    project's own, or ``TIERWISE_STORE_URL``) has the users ``roles``; see :func:`add_users`."""
    store = runs.open_store(Project.open(folder))
    try:
        add_users(store, roles, assign)
    finally:
        store.close()
    with TestClient(create_app(folder, **app_options), follow_redirects=False) as client:
        yield client


def hidden(text: str, name: str = "csrf") -> str:
    """The value of the page's hidden field ``name`` (either attribute order), unescaped."""
    field = re.escape(name)
    found = re.search(rf'name="{field}" value="([^"]*)"', text) or \
        re.search(rf'name="{field}" type="hidden" value="([^"]*)"', text) or \
        re.search(rf'type="hidden" name="{field}" value="([^"]*)"', text)
    assert found, f"no hidden {name} field in the page"
    return html.unescape(found.group(1))


def login(client: TestClient, user: str) -> str:
    """Log in through the form; returns the session's CSRF token from the next page."""
    form = client.get("/login")
    done = client.post("/login", data={"username": user, "password": PASSWORD,
                                       "csrf": hidden(form.text)})
    assert done.status_code == 303 and done.headers["location"] == "/overview", done.text
    return hidden(client.get("/overview").text)


@contextmanager
def reviewing(folder: Path) -> Iterator[tuple[TestClient, list[str]]]:
    """A dashboard on the regional shop whose VIP action asks for approval, after one run and
    a delivery that put two reassignments in review; yields the client and those customers.

    The caller sets ``TIERWISE_STORE_URL``; the users are north_mgr, any_mgr (managers), boss
    (supervisor) and aud (auditor).
    """
    from tests.services.test_assign_actions import misplaced, write_regions
    from tierwise.services import delivery

    project = write_regions(folder, approval=True)
    runs.backfill(project, ["tier"], [date(2026, 5, 31)])
    roles = {"north_mgr": "manager", "any_mgr": "manager", "boss": "supervisor",
             "aud": "auditor"}
    with dashboard(project.root, roles) as client:
        store = client.app.state.store  # type: ignore[attr-defined]
        south = misplaced(store)
        assert delivery.deliver(project, store, "vip_managers").review == 2
        yield client, south
