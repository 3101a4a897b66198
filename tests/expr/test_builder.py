"""The condition builder's model: text -> rows -> text round-trips and grades the same customers."""

from __future__ import annotations

import datetime
from typing import Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierwise.errors import ExprError
from tierwise.expr import compile_condition, parse
from tierwise.expr.builder import Condition, Group, normalize, to_node, to_text, to_tree

AS_OF = datetime.date(2026, 6, 30)
TABLE = pa.table({
    "n": pa.array([0, 3, 5, None, 12, 7, 5000, -2], pa.int64()),
    "x": pa.array([0.5, None, 2.25, 7.0, -1.0, 3.0, 12000.0, 2.0], pa.float64()),
    "s": pa.array(["a", "b", None, "c", "a", "d", "b", ""], pa.string()),
    "d": pa.array([datetime.date(2026, 1, d) for d in (1, 5, 9, 13, 17, 21, 25, 29)],
                  pa.date32()),
})


def test_the_issue_condition_as_rows() -> None:
    text = "orders_6m >= 5000 and (spend > 12000 or tenure >= 365)"
    tree = to_tree(text)
    assert tree == Group("and", (
        Condition("orders_6m", ">=", (5000,)),
        Group("or", (Condition("spend", ">", (12000,)), Condition("tenure", ">=", (365,)))),
    ))
    assert to_text(tree) == text


@pytest.mark.parametrize(("text", "canonical"), [
    ("a > 1", "a > 1"),
    ("5 < a", "a > 5"),  # the indicator comes first in a row
    ("-5 >= a", "a <= -5"),
    ("a = 1 AND b <> 'x'", "a == 1 and b != 'x'"),
    ("a > 1 and (b > 2 and c > 3)", "a > 1 and b > 2 and c > 3"),  # same join: one group
    ("(a > 1 or b > 2) or c > 3", "a > 1 or b > 2 or c > 3"),
    ("a > 1 or b > 2 and c > 3", "a > 1 or b > 2 and c > 3"),
    ("a between 1 and 2 and b not between -1 and 1.5", "a between 1 and 2 and b not between -1 and 1.5"),
    ("s in ('a', 'b') or s not in ('c')", "s in ('a', 'b') or s not in ('c')"),
    ("d >= date('2026-01-31') and x is null or y is not null",
     "d >= date('2026-01-31') and x is null or y is not null"),
    ("flag == true", "flag == true"),
])
def test_conditions_the_rows_can_show(text: str, canonical: str) -> None:
    tree = to_tree(text)
    assert tree is not None
    assert to_text(tree) == canonical
    assert to_tree(canonical) == tree


@pytest.mark.parametrize("text", [
    "a + 1 > 2", "coalesce(a, 0) > 1", "not a > 1", "a > b", "flag", "a > 1 and not (b > 2)",
    "a in (1, b)", "a between b and 2", "abs(a) is null",
])
def test_conditions_left_as_text(text: str) -> None:
    assert to_tree(text) is None


def test_blank_text_is_an_empty_group_and_prints_nothing() -> None:
    assert to_tree("  ") == Group("and")
    assert to_text(Group("and")) == "" and to_node(Group("or", (Group("and"),))) is None


def test_invalid_text_is_an_expression_error() -> None:
    with pytest.raises(ExprError, match="unexpected"):
        to_tree("a >>> 1")


def test_normalize_flattens_what_the_text_cannot_keep() -> None:
    tree = Group("and", (
        Group("and", (Condition("a", ">", (1,)),)),
        Group("or", ()),
        Group("and", (Condition("b", "<", (2,)), Group("or", (Condition("c", "==", ("x",)),)))),
    ))
    flat = normalize(tree)
    assert flat == Group("and", (Condition("a", ">", (1,)), Condition("b", "<", (2,)),
                                 Condition("c", "==", ("x",))))
    assert to_text(tree) == to_text(flat) == "a > 1 and b < 2 and c == 'x'"
    assert to_tree(to_text(tree)) == flat
    assert normalize(Group("or", (Condition("a", ">", (1,)),))) == Group(
        "and", (Condition("a", ">", (1,)),))


# -- property: any builder text round-trips and grades the same rows ---------------------------

numbers = st.one_of(st.integers(min_value=-10_000, max_value=10_000),
                    st.floats(min_value=-1e4, max_value=1e4, allow_nan=False).map(
                        lambda f: round(f, 2)))
texts = st.sampled_from(["a", "b", "c", "", "it's", "会员"])
dates = st.dates(min_value=datetime.date(2025, 12, 1), max_value=datetime.date(2026, 2, 28))


def _row(column: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[Condition]:
    ordered = st.sampled_from([">", ">=", "<", "<=", "==", "!="])
    return st.one_of(
        st.builds(lambda op, v: Condition(column, op, (v,)), ordered, values),
        st.builds(lambda lo, hi, neg: Condition(column, "not between" if neg else "between",
                                                (lo, hi)), values, values, st.booleans()),
        st.builds(lambda vs, neg: Condition(column, "not in" if neg else "in", tuple(vs)),
                  st.lists(values, min_size=1, max_size=3), st.booleans()),
        st.builds(lambda neg: Condition(column, "is not null" if neg else "is null"),
                  st.booleans()),
    )


rows = st.one_of(_row("n", st.integers(-20, 6000)), _row("x", numbers), _row("s", texts),
                 _row("d", dates))
trees = st.recursive(
    st.builds(lambda j, items: Group(j, tuple(items)), st.sampled_from(["and", "or"]),
              st.lists(rows, min_size=1, max_size=3)),
    lambda inner: st.builds(lambda j, items: Group(j, tuple(items)),
                            st.sampled_from(["and", "or"]),
                            st.lists(st.one_of(rows, inner), min_size=1, max_size=3)),
    max_leaves=8,
)


def _spelled(tree: Group, flip: list[bool]) -> str:
    """The tree written the way a person might: flipped comparisons, extra parentheses, '='."""
    mirror = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "=", "!=": "<>"}
    parts = []
    for item in tree.items:
        if isinstance(item, Group):
            parts.append(f"({_spelled(item, flip)})")
            continue
        node_text = to_text(Group("and", (item,)))
        if item.op in mirror and (flip.pop() if flip else False):
            value = node_text.split(f" {item.op} ", 1)[1]
            node_text = f"{value} {mirror[item.op]} {item.indicator}"
        parts.append(f"({node_text})")
    return f" {tree.join.upper()} ".join(parts)


def _matches(con: Any, text: str) -> list[bool]:
    table = ibis.memtable(TABLE)
    cond = compile_condition(parse(text), table, as_of=AS_OF)
    return list(con.to_pyarrow(table.select(m=cond)).column("m").to_pylist())


@pytest.fixture(scope="module")
def duckdb() -> Any:
    return ibis.duckdb.connect()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=trees, flip=st.lists(st.booleans(), max_size=12))
def test_text_tree_text_tree_is_stable_and_grades_the_same(duckdb: Any, tree: Group,
                                                           flip: list[bool]) -> None:
    typed = _spelled(tree, list(flip))
    first = to_tree(typed)
    assert first is not None, typed
    text = to_text(first)
    again = to_tree(text)
    assert again == first and to_text(again) == text
    assert first == normalize(tree)
    assert _matches(duckdb, typed) == _matches(duckdb, text)
