"""Values as people type them into the builder: every accepted form, and refusals in en and zh."""

from __future__ import annotations

import datetime

import pytest

from tierwise import i18n
from tierwise.errors import ExprError
from tierwise.expr.values import read_value, read_values


@pytest.mark.parametrize(("typed", "expected"), [
    ("5000", 5000),
    ("5,000", 5000),
    ("5 000", 5000),
    ("5\u00a0000", 5000),  # a no-break space, as spreadsheets copy it
    ("1,234,567", 1234567),
    ("5,000.50", 5000.5),
    ("1.2万", 12000),  # 1.2 x 10,000 exactly, not 12000.000000000002
    ("3万", 30000),
    ("3w", 30000),
    ("1.2萬", 12000),  # Traditional characters too
    ("2億", 200_000_000),
    ("2.5亿", 250_000_000),
    ("8千", 8000),
    ("10k", 10000),
    ("10K", 10000),
    ("￥5,000", 5000),
    ("¥ 5,000", 5000),
    ("$5,000.25", 5000.25),
    ("5000元", 5000),
    ("1.2万元", 12000),
    ("RMB 800", 800),
    ("５０００", 5000),  # full-width digits
    ("５，０００", 5000),
    ("-5,000", -5000),
    ("\u22125", -5),  # a typographic minus sign
    (" 0.75 ", 0.75),
    (".5", 0.5),
])
def test_numbers_as_people_type_them(typed: str, expected: float) -> None:
    got = read_value(typed, kind="number")
    assert got == expected and type(got) is type(expected)


def test_percent_is_a_share_only_for_a_share() -> None:
    assert read_value("30%", kind="number", share=True) == 0.3
    assert read_value("12.5 ％", kind="number", share=True) == 0.125
    assert read_value("100%", kind="number", share=True) == 1
    assert read_value("0.3", kind="number", share=True) == 0.3
    with pytest.raises(ExprError, match=r"'30%' is a percentage, but this indicator is not a "
                                        r"share; type the number itself, e.g. 30"):
        read_value("30%", kind="number", where="tier gold, condition 1")


@pytest.mark.parametrize(("typed", "expected"), [
    ("2026-06-30", datetime.date(2026, 6, 30)),
    ("2026/6/30", datetime.date(2026, 6, 30)),
    ("2026.06.30", datetime.date(2026, 6, 30)),
    ("2026年6月30日", datetime.date(2026, 6, 30)),
    ("２０２６/６/３０", datetime.date(2026, 6, 30)),
])
def test_dates_for_date_indicators(typed: str, expected: datetime.date) -> None:
    assert read_value(typed, kind="date") == expected


def test_text_and_yes_no() -> None:
    assert read_value(" gold ", kind="string") == "gold"
    assert read_value("'a b'", kind="string") == "a b"
    assert read_value("是", kind="bool") is True and read_value("False", kind="bool") is False


def test_lists_of_an_in_row() -> None:
    assert read_values("5,000; 6,000", kind="number") == [5000, 6000]
    assert read_values("5,000, 6,000", kind="number") == [5000, 6000]
    assert read_values("1, 2, 3", kind="number") == [1, 2, 3]
    assert read_values("gold, silver、bronze", kind="string") == ["gold", "silver", "bronze"]
    with pytest.raises(ExprError, match="the list needs at least one value"):
        read_values(" ; ", kind="string")


@pytest.mark.parametrize(("typed", "kind", "message"), [
    ("5,0", "number", "tier gold, condition 2: '5,0' is not a number; type it like 5000, "
                      "5,000, 5 000, 5,000.50, 1.2万, 3万, 3w, 10k, ¥5,000, 5000元, ５０００"),
    ("five", "number", "'five' is not a number"),
    ("5,00,000", "number", "'5,00,000' is not a number"),
    ("1.2.3", "number", "'1.2.3' is not a number"),
    ("k", "number", "'k' is not a number"),
    ("", "number", "a value is needed here; type one, e.g. 5,000"),
    ("99999999999999亿", "number", "is too large"),
    ("30/06/2026", "date", "'30/06/2026' is not a date; type it like 2026-06-30, 2026/6/30 or "
                           "2026年6月30日"),
    ("2026-02-30", "date", "'2026-02-30' is not a date of the calendar"),
    ("maybe", "bool", "'maybe' is not yes or no"),
])
def test_refusals_say_what_where_and_the_forms(typed: str, kind: str, message: str) -> None:
    with pytest.raises(ExprError) as caught:
        read_value(typed, kind=kind, where="tier gold, condition 2")
    text = caught.value.problems[0].message
    assert text.startswith("tier gold, condition 2: ") and message in text


def test_refusals_in_chinese() -> None:
    with i18n.use("zh-Hans"), pytest.raises(ExprError) as caught:
        read_value("5,0", kind="number", where="等级 gold，条件 2")
    text = caught.value.problems[0].message
    assert text.startswith("等级 gold，条件 2：") and "'5,0' 不是数字" in text and "1.2万" in text
    with i18n.use("zh-Hans"), pytest.raises(ExprError) as caught:
        read_value("30/06/2026", kind="date")
    assert "不是日期" in caught.value.problems[0].message
    with i18n.use("zh-Hant"), pytest.raises(ExprError) as caught:
        read_value("abc", kind="number")
    assert "不是數字" in caught.value.problems[0].message
