"""Schemathesis against /openapi.json: generated requests never get a server error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.services.conftest import write_months
from tierwise.api.app import create_app
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.store import users as store_users

TOKEN: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    mp = pytest.MonkeyPatch()
    mp.delenv("TIERWISE_STORE_URL", raising=False)
    folder = write_months(tmp_path_factory.mktemp("schemathesis") / "months")
    project = Project.open(folder)
    runs.backfill(project, ["tier", "steady"], [date(2026, 5, 31), date(2026, 6, 30)])
    store = runs.open_store(project)
    with store.begin() as conn:
        store_users.create(conn, "ada", role="admin", password="x" * 12, actor="setup")
        TOKEN["Authorization"] = "Bearer " + store_users.new_token(conn, "ada", "fuzz",
                                                                    actor="setup")[1]
    store.close()
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(folder))
    mp.undo()


@pytest.mark.slow
def test_no_server_errors(api_schema: Any) -> None:
    """Every operation, about 25 generated requests each, as the admin (who may call all).

    Driven through Hypothesis directly: schemathesis' pytest plugin does not run on pytest 9.
    """
    from hypothesis import given

    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []
    for operation in operations:
        if operation.path == "/api/v1/runs" and operation.method.upper() == "POST":
            continue  # each would queue a real run; started and polled in test_api
        if operation.path == "/api/v1/auth/logout":
            continue  # ends no token session; nothing to fuzz

        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            case.call_and_validate(headers=TOKEN, checks=[not_a_server_error])

        try:
            call()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert failures == []
