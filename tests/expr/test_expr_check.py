"""Type checking: result types, and every problem reported with its column and a fix."""

from __future__ import annotations

import pytest

from tierwise.errors import ExprError
from tierwise.expr import check, parse

TYPES = {
    "orders_12m": "number",
    "spend_12m": "number",
    "margin": "decimal",
    "revenue": "float",
    "channel": "string",
    "status": "text",
    "is_vip": "bool",
    "signup_date": "date",
    "last_order_at": "timestamp",
    "tags": "array<string>",
}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("orders_12m >= 10 and spend_12m >= 10000", "bool"),
        (
            "orders_12m between 5 and 9 and (spend_12m between 5000 and 9999 or spend_12m < 1e4)",
            "bool",
        ),
        ("channel in ('web', 'app')", "bool"),
        ("coalesce(margin, 0) / greatest(revenue, 1)", "number"),
        ("not is_vip", "bool"),
        ("channel == 'refund'", "bool"),
        ("days_since(signup_date) / 365.25", "number"),
        ("spend_12m > 0 and status != 'cancelled'", "bool"),
        ("-orders_12m % 7", "number"),
        ("if(is_vip, 'vip', lower(channel))", "string"),
        ("if(is_vip, null, spend_12m)", "number"),
        ("coalesce(null, channel, 'none')", "string"),
        ("div(spend_12m, orders_12m, null)", "number"),
        ("div(spend_12m, orders_12m, 0)", "number"),
        ("least(signup_date, last_order_at)", "date"),
        ("last_order_at >= date('2026-01-01')", "bool"),
        (
            "days_between(signup_date, last_order_at) + year(signup_date) + month(last_order_at)",
            "number",
        ),
        ("length(upper(channel)) > 3", "bool"),
        ("round(spend_12m, 2) + round(margin) + floor(revenue) + ceil(revenue)", "number"),
        ("ln(revenue) + log10(revenue) + sqrt(abs(margin))", "number"),
        ("is_null(channel) or channel is null or margin is not null", "bool"),
        ("is_vip == true and 'a' < 'b'", "bool"),
        ("signup_date", "date"),
    ],
)
def test_result_types(text: str, kind: str) -> None:
    assert check(parse(text), TYPES) == kind


def _problems(text: str, types: dict[str, str] = TYPES) -> list[str]:
    with pytest.raises(ExprError) as caught:
        check(parse(text), types)
    return [problem.message for problem in caught.value.problems]


def test_unknown_name_suggests_the_closest() -> None:
    assert _problems("spend_12 >= 10") == [
        "unknown name 'spend_12' at column 1; did you mean 'spend_12m'?"
    ]


def test_unknown_name_without_a_close_match_lists_the_known_ones() -> None:
    assert _problems("zzz > 1", {"a": "number", "b": "number"}) == [
        "unknown name 'zzz' at column 1; known names: a, b"
    ]
    assert _problems("zzz > 1", {}) == ["unknown name 'zzz' at column 1; no names are defined here"]


def test_every_problem_is_reported_at_once() -> None:
    # Three independent mistakes: a typo, a number under 'and', and text compared with a number.
    assert _problems("orderz_12m > 1 and spend_12m and channel > 5") == [
        "unknown name 'orderz_12m' at column 1; did you mean 'orders_12m'?",
        "'and' needs a condition, but 'spend_12m' at column 20 is a number; compare it, e.g. "
        "'spend_12m > 0'",
        "'>' cannot mix a string ('channel') with a number ('5' at column 44); use values of one "
        "type",
    ]
    with pytest.raises(ExprError, match=r"^3 problems:\n  - unknown name 'orderz_12m'"):
        check(parse("orderz_12m > 1 and spend_12m and channel > 5"), TYPES)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "channel == 42",
            "'==' cannot mix a string ('channel') with a number ('42' at column 12); "
            "use values of one type",
        ),
        (
            "orders_12m == '10'",
            "'==' cannot mix a number ('orders_12m') with a string (\"'10'\" "
            "at column 15); write numbers without quotes",
        ),
        (
            "is_vip > false",
            "'>' needs a number, a string or a date, but 'is_vip' at column 1 is a condition",
        ),
        (
            "not orders_12m",
            "'not' needs a condition, but 'orders_12m' at column 5 is a number; "
            "compare it, e.g. 'orders_12m > 0'",
        ),
        (
            "orders_12m or is_vip",
            "'or' needs a condition, but 'orders_12m' at column 1 is a "
            "number; compare it, e.g. 'orders_12m > 0'",
        ),
        ("channel + 1", "'+' needs a number, but 'channel' at column 1 is a string"),
        (
            "spend_12m + '5'",
            "'+' needs a number, but \"'5'\" at column 13 is a string; write numbers "
            "without quotes",
        ),
        (
            "signup_date - 1",
            "'-' needs a number, but 'signup_date' at column 1 is a date; use "
            "days_since(d) or days_between(a, b) to turn dates into numbers",
        ),
        ("-channel", "'-' needs a number, but 'channel' at column 2 is a string"),
        (
            "margin == null",
            "null at column 11 makes '==' always null; use 'x is null' to test "
            "for a missing value, or coalesce(x, 0) to replace one",
        ),
        (
            "spend_12m + null > 1",
            "null at column 13 makes '+' always null; use 'x is null' to "
            "test for a missing value, or coalesce(x, 0) to replace one",
        ),
        ("null", "the expression is always null; write a value or a column"),
        ("null is null", "'null is null' at column 6 never changes; test a column instead"),
        (
            "channel in ('web', 1)",
            "'in' cannot mix a string ('channel') with a number ('1' at "
            "column 20); use values of one type",
        ),
        (
            "spend_12m between 'a' and 5",
            "'between' cannot mix a number ('spend_12m') with a "
            "string (\"'a'\" at column 19); write numbers without quotes",
        ),
        ("abs(1, 2)", "abs() at column 1 takes 1 argument, got 2"),
        ("round()", "round() at column 1 takes 1 to 2 arguments, got 0"),
        ("coalesce(margin)", "coalesce() at column 1 takes at least 2 arguments, got 1"),
        ("if(is_vip, 1)", "if() at column 1 takes 3 arguments, got 2"),
        ("abs(channel)", "abs() needs a number, but 'channel' at column 5 is a string"),
        (
            "round(spend_12m, 1.5)",
            "round() needs a whole number of digits such as 2, but got '1.5' at column 18",
        ),
        (
            "round(spend_12m, orders_12m)",
            "round() needs a whole number of digits such as 2, but got 'orders_12m' at column 18",
        ),
        (
            "coalesce(null, null)",
            "coalesce() at column 1 needs at least one value that is not null",
        ),
        (
            "coalesce(channel, 0)",
            "coalesce() cannot mix a string ('channel') with a number ('0' "
            "at column 19); use values of one type",
        ),
        (
            "greatest(is_vip, true)",
            "greatest() needs a number, a string or a date, but "
            "'is_vip' at column 10 is a condition",
        ),
        (
            "if(orders_12m, 1, 2)",
            "the first argument of if() needs a condition, but 'orders_12m' "
            "at column 4 is a number; compare it, e.g. 'orders_12m > 0'",
        ),
        (
            "if(is_vip, 'a', 1)",
            "if() cannot mix a string (\"'a'\") with a number ('1' at column "
            "17); write numbers without quotes",
        ),
        (
            "if(is_vip, null, null)",
            "if() at column 1 returns null in both branches; give one a value",
        ),
        (
            "div(spend_12m, orders_12m, 'none')",
            "the default of div() needs a number, but \"'none'\" "
            "at column 28 is a string; write numbers without quotes",
        ),
        (
            "days_since(orders_12m)",
            "days_since() needs a date, but 'orders_12m' at column 12 is a number",
        ),
        (
            "days_between(signup_date, 5)",
            "days_between() needs a date, but '5' at column 27 is a number",
        ),
        ("year(channel)", "year() needs a date, but 'channel' at column 6 is a string"),
        ("length(orders_12m)", "length() needs a string, but 'orders_12m' at column 8 is a number"),
        ("is_null(null)", "is_null(null) at column 9 is always true; test a column instead"),
        (
            "tags is null",
            "'tags' at column 1 has type "
            "'array<string>', which expressions cannot use; expressions work on number, string, "
            "date and bool values",
        ),
    ],
)
def test_type_errors(text: str, message: str) -> None:
    assert _problems(text) == [message]


def test_a_failed_operand_does_not_cascade() -> None:
    # The unknown name is reported once; the comparison and 'and' above it stay quiet.
    assert _problems("nope > 1 and nope2 < 2", {"x": "number"}) == [
        "unknown name 'nope' at column 1; known names: x",
        "unknown name 'nope2' at column 14; known names: x",
    ]
