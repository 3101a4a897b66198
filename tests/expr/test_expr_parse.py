"""Parsing: tokens, precedence, canonical rendering and syntax error messages."""

from __future__ import annotations

import datetime

import pytest

from tierwise.errors import ExprError
from tierwise.expr import parse, render
from tierwise.expr.ast import (
    Arith,
    Between,
    Boolean,
    Call,
    Compare,
    DateLiteral,
    InList,
    IsNull,
    Logical,
    Name,
    Neg,
    Node,
    Not,
    Null,
    Number,
    String,
)


def lisp(node: Node) -> str:
    """Fully parenthesised prefix form, so a precedence table reads at a glance."""
    if isinstance(node, Number | Boolean):
        return repr(node.value)
    if isinstance(node, String):
        return f"'{node.value}'"
    if isinstance(node, Null):
        return "null"
    if isinstance(node, DateLiteral):
        return f"#{node.value}"
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Neg):
        return f"(neg {lisp(node.operand)})"
    if isinstance(node, Not):
        return f"(not {lisp(node.operand)})"
    if isinstance(node, Arith | Compare | Logical):
        return f"({node.op} {lisp(node.left)} {lisp(node.right)})"
    if isinstance(node, Between):
        head = "not-between" if node.negated else "between"
        return f"({head} {lisp(node.operand)} {lisp(node.low)} {lisp(node.high)})"
    if isinstance(node, InList):
        head = "not-in" if node.negated else "in"
        return f"({head} {lisp(node.operand)} {' '.join(lisp(i) for i in node.items)})"
    if isinstance(node, IsNull):
        return f"({'not-null' if node.negated else 'null'} {lisp(node.operand)})"
    return f"({node.func} {' '.join(lisp(a) for a in node.args)})"


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        # or < and < not < comparison < + - < * / % < unary minus
        ("a or b and c", "(or a (and b c))"),
        ("a and b or c", "(or (and a b) c)"),
        ("not a and b", "(and (not a) b)"),
        ("not a or not b", "(or (not a) (not b))"),
        ("not x >= 5", "(not (>= x 5))"),
        ("not not a", "(not (not a))"),
        ("a + b * c", "(+ a (* b c))"),
        ("a * b + c", "(+ (* a b) c)"),
        ("a - b - c", "(- (- a b) c)"),
        ("a / b / c", "(/ (/ a b) c)"),
        ("a - (b - c)", "(- a (- b c))"),
        ("a % b * c", "(* (% a b) c)"),
        ("-a * b", "(* (neg a) b)"),
        ("- -a", "(neg (neg a))"),
        ("a * -b", "(* a (neg b))"),
        ("-(a + b)", "(neg (+ a b))"),
        ("a + b >= c * 2", "(>= (+ a b) (* c 2))"),
        ("x = 1", "(== x 1)"),
        ("x <> 1", "(!= x 1)"),
        ("x between 1 and 2 and y", "(and (between x 1 2) y)"),
        ("x between a + 1 and b * 2", "(between x (+ a 1) (* b 2))"),
        ("x not between 1 and 2", "(not-between x 1 2)"),
        ("x in (1, 2) or y not in ('a')", "(or (in x 1 2) (not-in y 'a'))"),
        ("x is null and y is not null", "(and (null x) (not-null y))"),
        ("(a < b) == c", "(== (< a b) c)"),
        ("a == (not b)", "(== a (not b))"),
        ("f_1 + _g", "(+ f_1 _g)"),
    ],
)
def test_precedence(text: str, tree: str) -> None:
    assert lisp(parse(text)) == tree


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("10_000", "10000"),
        ("1.5", "1.5"),
        ("1e3", "1000.0"),
        ("2.5E-1", "0.25"),
        (".5", "0.5"),
        ("'it''s'", "'it's'"),
        ('"say \\"hi\\""', "'say \"hi\"'"),
        ("'a\\\\b\\nc'", "'a\\b\nc'"),
        ("TRUE or False", "(or True False)"),
        ("NULL", "null"),
        ("date('2026-01-31')", "#2026-01-31"),
        ("DATE('2024-02-29') < d", "(< #2024-02-29 d)"),
        ("`order count` > 1", "(> order count 1)"),
        ("`a``b`", "a`b"),
        ("`in` AND `null`", "(and in null)"),
        ("会员等级 >= 3", "(>= 会员等级 3)"),
        ("Spend_12M", "Spend_12M"),
        ("COALESCE(a, 0)", "(coalesce a 0)"),
        ("round(x)", "(round x)"),
        ("if(a, 'x', 'y')", "(if a 'x' 'y')"),
        ("abs()", "(abs )"),  # the arity is the type checker's job, with a clearer message
        ("x\n  and\ty", "(and x y)"),
    ],
)
def test_tokens_and_literals(text: str, tree: str) -> None:
    assert lisp(parse(text)) == tree


def test_integer_and_float_literals_keep_their_kind() -> None:
    assert parse("10").value == 10 and isinstance(parse("10").value, int)  # type: ignore[union-attr]
    assert isinstance(parse("10.0").value, float)  # type: ignore[union-attr]


def test_positions_are_recorded_but_not_compared() -> None:
    node = parse("orders >= 5")
    assert isinstance(node, Compare)
    assert (node.pos, node.left.pos, node.right.pos) == (7, 0, 10)
    assert node == Compare(">=", Name("orders"), Number(5))


def test_date_literal_value() -> None:
    assert parse("date('2026-01-31')") == DateLiteral(datetime.date(2026, 1, 31))


def test_call_node() -> None:
    assert parse("Greatest(a, 1)") == Call("greatest", (Name("a"), Number(1)))


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("orders_12m >= 10 and spend_12m >= 10000", "orders_12m >= 10 and spend_12m >= 10000"),
        (
            "orders_12m between 5 and 9 and (spend_12m between 5000 and 9999 or spend_12m < 10000)",
            "orders_12m between 5 and 9 and (spend_12m between 5000 and 9999 or spend_12m < 10000)",
        ),
        ("channel IN ('web',\"app\")", "channel in ('web', 'app')"),
        ("coalesce(margin,0)/greatest(revenue,1)", "coalesce(margin, 0) / greatest(revenue, 1)"),
        ("NOT is_vip", "not is_vip"),
        ('kind = "refund"', "kind == 'refund'"),
        ("days_since(signup_date)/365.25", "days_since(signup_date) / 365.25"),
        ("amount > 0 AND status <> 'cancelled'", "amount > 0 and status != 'cancelled'"),
        ("((a + b)) * (c)", "(a + b) * c"),
        ("a - (b - c)", "a - (b - c)"),
        ("a + (b + c)", "a + (b + c)"),
        ("(a and b) and c", "a and b and c"),
        ("not (a and b)", "not (a and b)"),
        ("- (-x)", "- -x"),
        ("x is not null", "x is not null"),
        ("`order count` + `in`", "`order count` + `in`"),
        ("'it''s' == s", "'it''s' == s"),
        ("1e3", "1000.0"),
        ("10_000", "10000"),
    ],
)
def test_render_is_canonical(text: str, canonical: str) -> None:
    assert render(parse(text)) == canonical
    assert parse(canonical) == parse(text)


def _message(text: str) -> str:
    with pytest.raises(ExprError) as caught:
        parse(text)
    assert len(caught.value.problems) == 1
    return caught.value.problems[0].message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "orders >= and 5",
            "unexpected 'and' at column 11 in 'orders >= and 5'; "
            "a comparison needs a value on both sides",
        ),
        (
            "orders >=",
            "unexpected end of input at column 10 in 'orders >='; "
            "a comparison needs a value on both sides",
        ),
        ("", "empty expression at column 1 in ''; write a condition such as 'orders_12m >= 10'"),
        (
            "a and",
            "unexpected end of input at column 6 in 'a and'; 'and' needs a condition on both sides",
        ),
        ("a + * b", "unexpected '*' at column 5 in 'a + * b'; '+' needs a value on both sides"),
        (
            "orders 5",
            "unexpected '5' at column 8 in 'orders 5'; put an operator between two values: "
            "'and', 'or', a comparison such as '>=', or arithmetic such as '+'",
        ),
        (
            "(a + b",
            "unexpected end of input at column 7 in '(a + b'; add a ')' to close the '(' at "
            "column 1",
        ),
        (
            "a + b)",
            "unexpected ')' at column 6 in 'a + b)'; this ')' has no matching '('; remove it",
        ),
        (
            "a < b < c",
            "unexpected '<' at column 7 in 'a < b < c'; comparisons cannot be chained; join them "
            "with 'and', e.g. 'a < b and b < c'",
        ),
        (
            "a == not b",
            "unexpected 'not' at column 6 in 'a == not b'; put the negated condition in "
            "parentheses, e.g. 'a == (not b)'",
        ),
        (
            "x between 1 or 2",
            "unexpected 'or' at column 13 in 'x between 1 or 2'; write 'x between low and high' "
            "(both bounds included)",
        ),
        ("x in 1, 2", "unexpected '1' at column 6 in 'x in 1, 2'; write 'x in (a, b, ...)'"),
        (
            "x in ()",
            "unexpected ')' at column 7 in 'x in ()'; an 'in' list needs at least one value",
        ),
        (
            "x in (1, )",
            "unexpected ')' at column 10 in 'x in (1, )'; a ',' in an 'in' list must be followed "
            "by a value",
        ),
        (
            "x is true",
            "unexpected 'true' at column 6 in 'x is true'; write 'x is null' or 'x is not null'; "
            "to test a flag write 'x' or 'not x'",
        ),
        (
            "x not 5",
            "unexpected 'not' at column 3 in 'x not 5'; 'not' goes before a condition "
            "('not x > 5'); after a value write 'not between' or 'not in'",
        ),
        (
            "x && y",
            "unexpected character '&' at column 3 in 'x && y'; write 'and' to join conditions",
        ),
        (
            "x != !y",
            "unexpected character '!' at column 6 in 'x != !y'; write '!=' for 'not equal', "
            "or 'not' before a condition",
        ),
        (
            "x @ y",
            "unexpected character '@' at column 3 in 'x @ y'; expressions use names, numbers, "
            "quoted text, + - * / %, == != < <= > >=, and, or, not, and parentheses",
        ),
        ("+x", "unexpected '+' at column 1 in '+x'; a leading '+' is not needed; remove it"),
        (
            "x == 'abc",
            "unterminated text at column 6 in \"x == 'abc\"; close the text with a matching '",
        ),
        (
            "x == 'a\\qb'",
            "unknown escape '\\q' at column 8 in \"x == 'a\\qb'\"; inside quotes write \\\\ for a "
            "backslash, \\' or '' for a quote, \\n, \\t",
        ),
        (
            "`order count > 1",
            "unterminated quoted name at column 1 in '`order count > 1'; close the name with a "
            "backtick `",
        ),
        (
            "`` > 1",
            "empty quoted name at column 1 in '`` > 1'; write the name between the backticks",
        ),
        (
            "x > 1.2.3",
            "malformed number '1.2.3' at column 5 in 'x > 1.2.3'; write numbers like 10, 10_000, "
            "1.5 or 1e3",
        ),
        (
            "x > 10_",
            "malformed number '10_' at column 5 in 'x > 10_'; write numbers like 10, 10_000, 1.5 "
            "or 1e3",
        ),
        (
            "x > 1e999",
            "number '1e999' is too large at column 5 in 'x > 1e999'; use a smaller number",
        ),
        (
            "x > 99999999999999999999",
            "number '99999999999999999999' is too large at column 5 in 'x > 99999999999999999999'; "
            "whole numbers must fit in 64 bits; write it as a decimal such as 1e20",
        ),
        (
            "summ(x) > 1",
            "unknown function 'summ' at column 1 in 'summ(x) > 1'; functions: abs, ceil, "
            "coalesce, date, days_between, days_since, div, floor, greatest, if, is_null, least, "
            "length, ln, log10, lower, month, round, sqrt, upper, year",
        ),
        (
            "flor(x)",
            "unknown function 'flor' at column 1 in 'flor(x)'; did you mean 'floor'? functions: "
            "abs, ceil, coalesce, date, days_between, days_since, div, floor, greatest, if, "
            "is_null, least, length, ln, log10, lower, month, round, sqrt, upper, year",
        ),
        (
            "round(x 2)",
            "unexpected '2' at column 9 in 'round(x 2)'; separate values with ',' or put an "
            "operator between them",
        ),
        (
            "d > date('2026-02-30')",
            "'2026-02-30' is not a valid date at column 10 in \"d > date('2026-02-30')\"; write a "
            "date as date('YYYY-MM-DD'), e.g. date('2026-01-31')",
        ),
        (
            "d > date(x)",
            "unexpected 'x' at column 10 in 'd > date(x)'; write a date as date('YYYY-MM-DD'), "
            "e.g. date('2026-01-31')",
        ),
        (
            "a >\n  and b",
            "unexpected 'and' at line 2, column 3 in 'a >\n  and b'; a comparison needs a value "
            "on both sides",
        ),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    assert _message(text) == message


def test_error_is_a_spec_error_carrying_the_message() -> None:
    from tierwise.errors import SpecError

    with pytest.raises(SpecError, match="column 11 in 'orders >= and 5'"):
        parse("orders >= and 5")


def test_nesting_is_limited() -> None:
    # Every pass over the tree recurses, and so do ibis and sqlglot: a limit of 48 levels
    # (tierwise.expr.limits.MAX_DEPTH) turns a RecursionError into a clear message.
    assert parse("(" * 47 + "a" + ")" * 47) == Name("a")
    assert isinstance(parse(" + ".join(["a"] * 48)), Arith)
    with pytest.raises(ExprError, match=r"nested more than 48 levels deep at column 49 in "):
        parse("(" * 49 + "a" + ")" * 49)
    with pytest.raises(ExprError, match=r"nested more than 48 levels deep at column 1 in "):
        parse(" + ".join(["a"] * 49))
    with pytest.raises(ExprError, match=r"split it into derived indicators"):
        parse("not " * 49 + "a")
