"""Customer search: a user's condition is checked, bounded and given a time limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tierwise.engine import Engine
from tierwise.errors import ExprError, QueryTimeout
from tierwise.services import customers, runs
from tierwise.services.customers import CustomerQuery
from tierwise.services.grading import Project
from tierwise.store import Store


@pytest.fixture
def store(months: Path) -> Iterator[Store]:
    project = Project.open(months)
    runs.backfill(project, ["tier"], [date(2026, 6, 30)])
    opened = runs.open_store(project)
    yield opened
    opened.close()


def test_a_condition_filters(store: Store) -> None:
    # C1 orders monthly (3 in the window, 300 spent); C4's first order is in March (none since)
    page = customers.search(store, CustomerQuery("tier",
                                                 where="orders_3m >= 1 and spend_3m < 1000"))
    assert [r["customer_id"] for r in page.rows] == ["C1"]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("1", "a condition must be true or false, but '1' at column 1 is a number"),
        ("spend_3m", "a condition must be true or false, but 'spend_3m' at column 1 is a number; "
                     "compare it, e.g. 'spend_3m > 0'"),
        ("round(spend_3m, 309) > 1", "round() rounds to 0 to 15 digits, but got 309 at column 17"),
        ("(" * 100_000, "characters long, more than the 4,000 allowed"),
        ("(" * 60 + "spend_3m > 1" + ")" * 60, "nested more than 48 levels deep at column 49"),
    ],
)
def test_bad_conditions_are_refused_with_a_located_message(
    store: Store, where: str, message: str
) -> None:
    with pytest.raises(ExprError) as caught:
        customers.search(store, CustomerQuery("tier", where=where))
    assert message in str(caught.value.problems[0])


def test_forty_nested_rounds_search_quickly(store: Store) -> None:
    where = "round(" * 40 + "spend_3m" + ", 2)" * 40 + " >= 300"
    start = time.perf_counter()
    page = customers.search(store, CustomerQuery("tier", where=where))
    assert time.perf_counter() - start < 5.0
    assert [r["customer_id"] for r in page.rows] == ["C1"]  # 3 orders of 100 in the window


def test_a_search_past_its_time_limit_is_stopped(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Five customers search in milliseconds; a query taking minutes stands in for a big run.
    execute = Engine.execute

    def slow_execute(self: Engine, expr: Any) -> Any:
        self.backend.con.execute(
            "SELECT sum(a.range % 7 * b.range) FROM range(100000000) a, range(100) b"
        ).fetchall()
        return execute(self, expr)

    monkeypatch.setattr(Engine, "execute", slow_execute)
    start = time.perf_counter()
    with pytest.raises(QueryTimeout) as caught:
        customers.search(store, CustomerQuery("tier", where="orders_3m >= 1"), timeout=0.5)
    assert time.perf_counter() - start < 5.0
    assert str(caught.value) == (
        "the customer search took longer than 0.5 s and was stopped; narrow it with a tier, "
        "an id prefix or a simpler condition"
    )
