"""Customer ids in rising order prove themselves unique without a distinct count."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.sources.shop import GRADES, ORDERS, YAML, run_fails, shop, tiers
from tierwise.engine import connect
from tierwise.services.grading import Project, run
from tierwise.sources.checks import rises
from tierwise.sources.facts import parquet_facts

PARQUET_CUSTOMERS = YAML.replace("path: customers.csv", "path: customers.parquet")


def _customers(folder: Path, ids: list[str | None], group: int = 2) -> Path:
    pq.write_table(pa.table({
        "customer_id": pa.array(ids, pa.string()),
        "name": pa.array([f"n{i}" for i in range(len(ids))]),
        "signup_date": pa.array(["2024-01-15"] * len(ids)).cast(pa.date32()),
    }), folder / "customers.parquet", row_group_size=group)
    return folder


def _rises(ids: list[str | None]) -> bool:
    engine = connect()
    try:
        return rises(engine, engine.register_arrow("ids", pa.table({"id": pa.array(
            ids, pa.string())})), "id")
    finally:
        engine.close()


@pytest.mark.parametrize(("ids", "expected"), [
    (["a", "b", "c"], True),
    (["a", None, "b", None], True),  # nulls are another check's business
    ([], True),
    (["a", "b", "b"], False),
    (["a", None, "a"], False),  # a null between two equal ids does not hide the repeat
    (["b", "a"], False),  # unique, but not in order: the distinct count decides
])
def test_ids_rise_only_when_each_is_above_the_one_before(ids: list[str | None],
                                                         expected: bool) -> None:
    assert _rises(ids) is expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "e"])), max_size=8))
def test_rising_ids_never_hide_a_repeat(ids: list[str | None]) -> None:
    present = [i for i in ids if i is not None]
    if _rises(ids):
        assert len(set(present)) == len(present)
    if present == sorted(set(present)):
        assert _rises(ids)


def test_the_footer_says_whether_row_groups_follow_each_other(tmp_path: Path) -> None:
    def ascending(ids: list[str | None], group: int) -> bool:
        path = tmp_path / "c.parquet"
        pq.write_table(pa.table({"id": pa.array(ids, pa.string())}), path,
                       row_group_size=group)
        return parquet_facts(path, {"customer_id": "id"})["customer_id"].ascending

    assert ascending(["a", "b", "c", "d", "e"], 2)
    assert ascending(["b", "a", "d", "c"], 2)  # within a group the footer cannot tell
    assert not ascending(["a", "c", "b", "d"], 2)  # groups (a..c) and (b..d) overlap
    assert not ascending(["a", "b", "b", "c"], 2)  # a group may not start at the last one's end
    assert ascending(["a", None, None, "b"], 2)
    assert ascending(["a", "b", None, None, "c", "d"], 2)  # an all-null group states nothing


def test_a_sorted_customers_file_grades_as_before(tmp_path: Path) -> None:
    folder = _customers(shop(tmp_path, yaml=PARQUET_CUSTOMERS, customers=None, orders=ORDERS),
                        ["c1", "c2", "c3"])
    assert tiers(run(Project.open(folder), "value")) == GRADES


@pytest.mark.parametrize("ids", [
    ["c1", "c2", "c2", "c3"],  # the repeat inside a row group: the footer suggests order
    ["c1", "c2", "c3", "c2"],  # the repeat out of order
])
def test_a_repeated_id_in_a_sorted_looking_file_is_still_found(tmp_path: Path,
                                                                ids: list[str]) -> None:
    folder = _customers(shop(tmp_path, yaml=PARQUET_CUSTOMERS, customers=None, orders=ORDERS),
                        ids)
    error = str(run_fails(folder))
    assert "customers.parquet: customer_id: the same customer id on several rows" in error
    assert "customer_id 'c2' appears more than once" in error
    # A row without a row number is named by its id, which the text already says once.
    assert "customer_id 'c2': customer_id 'c2'" not in error
    assert "(2 rows)" in error


@pytest.mark.parametrize(("ids", "counted"), [
    (["c1", "c2", "c3"], False),  # in order: the order proves them unique
    (["c2", "c1", "c3"], True),  # the footer suggests order, the rows do not: counted
])
def test_only_ids_out_of_order_are_counted_distinct(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    ids: list[str], counted: bool) -> None:
    from tierwise.engine import Engine

    folder = _customers(shop(tmp_path, yaml=PARQUET_CUSTOMERS, customers=None, orders=ORDERS),
                        ids)
    assert parquet_facts(folder / "customers.parquet", {"id": "customer_id"})["id"].ascending
    statements: list[str] = []
    execute = Engine.execute

    def recorded(self: Engine, expr: object) -> object:
        statements.append(self.sql(expr))  # type: ignore[arg-type]
        return execute(self, expr)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "execute", recorded)
    assert tiers(run(Project.open(folder), "value")) == GRADES
    assert any("COUNT(DISTINCT" in s for s in statements) is counted
