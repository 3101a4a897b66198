"""Bounded cost: limits on length, nesting and size, and SQL that grows linearly with the text."""

from __future__ import annotations

import datetime
import itertools
import time
from collections.abc import Callable
from typing import Any

import ibis
import pytest

from tierwise.errors import ExprError
from tierwise.expr import check, check_condition, compile_condition, compile_expr, parse
from tierwise.expr.ast import Call, Compare, Name, Neg, Node, Number, String
from tierwise.expr.limits import MAX_DEPTH, MAX_LENGTH, MAX_NODES, sql_budget

AS_OF = datetime.date(2026, 1, 31)
TYPES = {"x": "number", "n": "number", "s": "string", "d": "date", "b": "bool"}
SCHEMA = {"x": "float64", "n": "int64", "s": "string", "d": "date", "b": "boolean"}


@pytest.fixture(scope="module")
def con() -> Any:
    con = ibis.duckdb.connect()
    con.con.execute(
        "CREATE TABLE t AS SELECT (range * 1.37)::DOUBLE AS x, range AS n, range::VARCHAR AS s, "
        "DATE '2026-01-01' - range::INTEGER AS d, range % 2 = 0 AS b FROM range(1000)"
    )
    return con


def nest(form: str, depth: int, start: str = "x") -> str:
    text = start
    for _ in range(depth):
        text = form.format(text)
    return text


def sql(text: str) -> str:
    table = ibis.table(SCHEMA, name="t")
    value = compile_expr(parse(text), table, as_of=AS_OF)
    return str(ibis.to_sql(table.select(v=value), dialect="duckdb", pretty=False))


def test_forty_nested_rounds_compile_and_run_in_under_a_second(con: Any) -> None:
    # The security review's case: 5 levels took 24 s, 40 ran until killed.
    text = nest("round({}, 2)", 40)
    table = con.table("t")
    # Warm up first, so the timing leaves out one-off imports and set-up (about 0.3 s).
    con.to_pyarrow(table.select(v=compile_expr(parse("round(x, 2)"), table, as_of=AS_OF)))
    start = time.perf_counter()
    value = compile_expr(parse(text), table, as_of=AS_OF)
    got = con.to_pyarrow(table.select("n", v=value).order_by("n").limit(3)).column("v")
    elapsed = time.perf_counter() - start
    # 0, 1.37, 2.74 already have 2 digits, so every level keeps them.
    assert got.to_pylist() == [0.0, 1.37, 2.74]
    assert elapsed < 1.0, f"{elapsed:.2f} s"
    assert len(sql(text)) <= sql_budget(text)


@pytest.mark.parametrize(
    ("form", "start"),
    [
        ("round({}, 2)", "x"),
        ("div(x, {}, 0)", "x"),
        ("div(x, {})", "x"),
        ("x / ({})", "x"),
        ("n % ({})", "n"),
        ("sqrt({})", "x"),
        ("ln({})", "x"),
        ("log10({})", "x"),
        ("round(1 + sqrt({}), 2)", "x"),
    ],
)
def test_sql_grows_by_the_same_amount_per_level(form: str, start: str) -> None:
    # Until a level's argument outgrows MAX_REPEATED it is repeated; from then on each level is
    # bound once and adds the same SQL. Repeating every argument grew round() 10x per level.
    sizes = [len(sql(nest(form, depth, start))) for depth in range(3, 9)]
    steps = {b - a for a, b in itertools.pairwise(sizes[1:])}
    assert len(steps) == 1, sizes
    assert all(size <= sql_budget(nest(form, d, start)) for d, size in enumerate(sizes, 3))


def test_rounds_grow_linearly_from_depth_three() -> None:
    sizes = [len(sql(nest("round({}, 2)", depth))) for depth in range(3, 7)]
    # each level adds one list_transform with the rounding written once: 659 characters
    assert [b - a for a, b in itertools.pairwise(sizes)] == [659, 659, 659]


@pytest.mark.parametrize(
    "text",
    [
        "coalesce(x, 0) / greatest(n, 1)",
        "round(x, 2)",
        "round(x / n, 2)",
        "div(x, n, 0)",
        "sqrt(x) * 10 / (n + 1)",
        "days_since(d) / 365.25",
        "ln(x + 1)",
    ],
)
def test_common_indicators_stay_plain_sql(text: str) -> None:
    # 10M-row runs use these: their arguments are repeated, never bound through a list.
    assert "LIST_" not in sql(text)


def test_round_digits_are_limited() -> None:
    with pytest.raises(ExprError) as caught:
        check(parse("round(x, 309)"), TYPES)
    assert str(caught.value.problems[0]) == (
        "round() rounds to 0 to 15 digits, but got 309 at column 10; a double holds about 15 "
        "significant digits, so use at most 15"
    )
    assert check(parse("round(x, 15)"), TYPES) == "number"
    with pytest.raises(ExprError, match=r"round\(\) rounds to 0 to 15 digits, but got 16"):
        compile_expr(parse("round(x, 16)"), ibis.table(SCHEMA, name="t"), as_of=AS_OF)


def test_long_text_is_refused_before_parsing() -> None:
    text = "x > 1 or " * 500 + "b"
    assert len(text) > MAX_LENGTH
    with pytest.raises(ExprError) as caught:
        parse(text)
    message = str(caught.value.problems[0])
    assert message.startswith(
        f"the expression is {len(text):,} characters long, more than the 4,000 allowed "
        "(the limit is passed at column 4001 of 'x > 1 or x > 1 or x > 1 or x > 1 or x > ...')"
    )
    assert message.endswith("split it into derived indicators, or use 'x in (...)' instead of "
                            "many 'or' alternatives")


def test_hundred_thousand_parentheses_are_refused() -> None:
    with pytest.raises(ExprError, match="characters long, more than the 4,000 allowed"):
        parse("(" * 100_000)
    with pytest.raises(ExprError, match=f"nested more than {MAX_DEPTH} levels deep at column 49"):
        parse("(" * 1_500 + "x" + ")" * 1_500)


def test_parser_refuses_deep_text_without_recursion(monkeypatch: pytest.MonkeyPatch) -> None:
    # Even without the length limit, nesting is refused at MAX_DEPTH, not by Python's stack.
    import tierwise.expr.parser as parser

    monkeypatch.setattr(parser, "check_length", lambda text: None)
    for text in ("(" * 100_000 + "x", "-" * 100_000 + "x", "abs(" * 100_000 + "x"):
        with pytest.raises(ExprError, match=f"nested more than {MAX_DEPTH} levels deep"):
            parse(text)


def _deep(depth: int) -> Node:
    node: Node = Name("x")
    for _ in range(depth):
        node = Neg(node)
    return node


@pytest.mark.parametrize(
    "run",
    [
        lambda node: check(node, TYPES),
        lambda node: check_condition(node, TYPES),
        lambda node: compile_expr(node, ibis.table(SCHEMA, name="t"), as_of=AS_OF),
        lambda node: compile_condition(node, ibis.table(SCHEMA, name="t"), as_of=AS_OF),
    ],
)
def test_hand_built_trees_are_refused_without_recursion(run: Callable[[Node], Any]) -> None:
    # The Python API takes trees that never went through the parser.
    with pytest.raises(ExprError, match=f"nested more than {MAX_DEPTH} levels deep at column 1"):
        run(_deep(100_000))
    wide = Call("coalesce", tuple(Number(1) for _ in range(MAX_NODES + 1)))
    with pytest.raises(ExprError, match="more than 1,000 names, values and operators"):
        run(wide)


def test_nodes_are_limited() -> None:
    inside = ", ".join(["1"] * MAX_NODES)
    # the in-list, n, then the values: the 999th value, at column 7 + 3 * 998, is node 1,001
    with pytest.raises(ExprError, match="more than 1,000 names, values and operators, passing "
                       "the limit at column 3001 in "):
        parse(f"n in ({inside})")
    assert check(parse(f"n in ({', '.join(['1'] * (MAX_NODES - 2))})"), TYPES) == "bool"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "1",
            "a condition must be true or false, but '1' at column 1 is a number; write a "
            "comparison such as 'orders_12m >= 10', and join several with 'and' or 'or'",
        ),
        (
            "x",
            "a condition must be true or false, but 'x' at column 1 is a number; compare it, "
            "e.g. 'x > 0'",
        ),
        (
            "s",
            "a condition must be true or false, but 's' at column 1 is a string; compare it, "
            "e.g. \"s == 'web'\"",
        ),
        (
            "coalesce(d, date('2026-01-01'))",
            "a condition must be true or false, but \"coalesce(d, date('2026-01-01'))\" at "
            "column 1 is a date; write a comparison such as 'orders_12m >= 10', and join "
            "several with 'and' or 'or'",
        ),
    ],
)
def test_a_condition_must_be_true_or_false(text: str, message: str) -> None:
    with pytest.raises(ExprError) as caught:
        check_condition(parse(text), TYPES)
    assert [str(p) for p in caught.value.problems] == [message]
    with pytest.raises(ExprError, match="a condition must be true or false"):
        compile_condition(parse(text), ibis.table(SCHEMA, name="t"), as_of=AS_OF)


def test_condition_is_never_null(con: Any) -> None:
    table = ibis.memtable({"x": [1.0, None, 3.0]})
    cond = compile_condition(parse("x > 2"), table, as_of=AS_OF)
    assert con.to_pyarrow(table.select(c=cond)).column("c").to_pylist() == [False, False, True]
    check_condition(parse("x > 2 and b"), TYPES)  # a condition passes silently


# The shapes that need the most Python stack to compile, at the nesting limit: bound calls
# around calls that add SQL levels of their own (floor is CAST(FLOOR(...)), abs one level).
DEEPEST = [
    ("floor(sqrt({}))", "x"),
    ("-sqrt({})", "x"),
    ("if(b, round({}, 2), x)", "x"),
    ("sqrt(abs({}))", "x"),
    ("round(1 + {}, 2)", "x"),
    ("floor({})", "x"),
    ("round({}, 2)", "x"),
    ("div(x, {}, 0)", "x"),
]


def _at_limit(form: str, start: str) -> str:
    text = start
    while True:
        deeper = form.format(text)
        try:
            parse(deeper)
        except ExprError:
            return text
        text = deeper


def _burn(frames: int, then: Callable[[], Any]) -> Any:
    return then() if frames == 0 else _burn(frames - 1, then)


@pytest.mark.parametrize(("form", "start"), DEEPEST, ids=[f for f, _ in DEEPEST])
def test_deepest_expressions_leave_stack_to_spare(form: str, start: str) -> None:
    # MAX_DEPTH is set so ibis and sqlglot, which recurse per SQL level, still have room when
    # the caller (a web server thread, a CLI, pytest here) has already used 250 frames.
    text = _at_limit(form, start)
    assert len(sql(text)) <= sql_budget(text)
    _burn(250, lambda: sql(text))


def test_nul_is_refused_even_inside_quotes() -> None:
    # Found by the fuzz test: DuckDB's SQL parser stops at a NUL, even inside a quoted text.
    with pytest.raises(ExprError) as caught:
        parse("channel == 'o\x00k'")
    assert str(caught.value.problems[0]).startswith(
        "unexpected NUL character (U+0000) at column 14 in "
    )
    # A tree built by hand cannot smuggle one in either.
    with pytest.raises(ExprError, match=r"text at column 1 contains a NUL character \(U\+0000\)"):
        check(Compare("==", String("o\x00k"), Name("s")), TYPES)
