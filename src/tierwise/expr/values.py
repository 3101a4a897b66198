"""Values as people type them into the condition builder: ``5,000``, ``1.2万``, ``￥5,000``, ``30%``.

The expression language reads numbers the way code writes them (``5000``, ``1.2e4``); a person
types ``5,000``, ``5 000``, ``1.2万``, ``3w``, ``10k``, ``5000元`` or full-width ``５０００``, and a
date as ``2026/6/30``. :func:`read_value` turns one such text into the value a builder row
compares with, by the indicator's type; :func:`read_values` reads the list of an ``in`` row. A
text that cannot be read is an :class:`~tierwise.errors.ExprError` that quotes what was typed,
says where, and lists the forms accepted, in the user's language.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Decimal

from tierwise.errors import ExprError
from tierwise.expr.builder import Value
from tierwise.i18n import _

_INT64_MAX = 2**63 - 1
# Units a number may end with, longest first; "w" is how Chinese users often type 万.
_UNITS = (("百万", Decimal(1_000_000)), ("百萬", Decimal(1_000_000)),
          ("亿", Decimal(100_000_000)), ("億", Decimal(100_000_000)), ("万", Decimal(10_000)),
          ("萬", Decimal(10_000)), ("千", Decimal(1_000)), ("w", Decimal(10_000)),
          ("k", Decimal(1_000)))
_CURRENCY_BEFORE = re.compile(r"^(?:[¥$€£]|rmb|cny)\s*", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(r"\s*(?:元|块|塊|rmb|cny)$", re.IGNORECASE)
_PLAIN = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)")
# Thousands grouped by one kind of separator: 5,000 / 5 000 / 5'000 (and 5,000.50).
_GROUPED = re.compile(r"[0-9]{1,3}(?P<sep>[, '])[0-9]{3}(?:(?P=sep)[0-9]{3})*(?:\.[0-9]+)?")
_DATE = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?")
_TRUE = frozenset({"true", "yes", "y", "1", "是", "真", "对"})
_FALSE = frozenset({"false", "no", "n", "0", "否", "假", "不是"})
# Items of an ``in`` list: ';' and '、' always separate; ',' separates text, and numbers when a
# space follows it (``5,000`` stays one number, ``5,000, 6,000`` is two).
_LIST_ALWAYS = re.compile(r"\s*[;、|\n]\s*")
_LIST_NUMBERS = re.compile(r",\s+")
_LIST_TEXT = re.compile(r"\s*,\s*")


def number_forms(*, share: bool = False) -> str:
    """The accepted ways to type a number, as an error message lists them."""
    forms = "5000, 5,000, 5 000, 5,000.50, 1.2万, 3万, 3w, 10k, ¥5,000, 5000元, ５０００"
    return f"{forms}, 30%" if share else forms


def read_value(text: str, *, kind: str, share: bool = False, where: str = "") -> Value:
    """Read one typed value for an indicator of type ``kind``.

    Args:
        text: What the user typed, e.g. ``"1.2万"``, ``"￥5,000"`` or ``"2026/6/30"``.
        kind: The indicator's expression type: ``number``, ``date``, ``string`` or ``bool``.
        share: The indicator is a share (0 to 1): ``30%`` reads as 0.3. A percentage is refused
            for other numbers, where it would be a hundred times off.
        where: Where the value was typed, for the message (e.g. "tier gold, condition 2").

    Returns:
        An ``int`` when the number is whole, else a ``float``; a ``date``; the text; a bool.

    Raises:
        ExprError: The text is not a value of that type; the message quotes it, says ``where``
            and lists the accepted forms.
    """
    typed = text.strip()
    clean = unicodedata.normalize("NFKC", typed).replace("\u2212", "-").strip()
    if not clean:
        raise ExprError(_lead(where) + _("a value is needed here; type one, e.g. {example}")
                        .format(example=_example(kind)))
    if kind == "number":
        return _number(typed, clean, share=share, where=where)
    if kind == "date":
        return _date(typed, clean, where=where)
    if kind == "bool":
        word = clean.lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ExprError(_lead(where) + _("{typed} is not yes or no; type true or false (是 / 否)")
                        .format(typed=_quote(typed)))
    if len(clean) >= 2 and clean[0] == clean[-1] and clean[0] in "'\"":
        clean = clean[1:-1]
    return clean


def read_values(text: str, *, kind: str, share: bool = False, where: str = "") -> list[Value]:
    """Read the typed items of an ``in`` list (``gold; silver``, ``1, 2, 3``, ``5,000; 6,000``).

    Raises:
        ExprError: An item cannot be read, or the list is empty.
    """
    parts = _LIST_ALWAYS.split(text.strip())
    split = _LIST_TEXT if kind != "number" else _LIST_NUMBERS
    items = [p for part in parts for p in split.split(part) if p.strip()]
    if not items:
        raise ExprError(_lead(where) + _("the list needs at least one value; separate values "
                                         "with ';', e.g. {example}").format(
                                             example=f"{_example(kind)}; {_example(kind)}"))
    return [read_value(item, kind=kind, share=share, where=where) for item in items]


def _number(typed: str, clean: str, *, share: bool, where: str) -> int | float:
    body = clean.lower()
    sign = Decimal(1)
    if body[:1] in "+-":
        sign = Decimal(-1) if body[0] == "-" else sign
        body = body[1:].lstrip()
    body = _CURRENCY_AFTER.sub("", _CURRENCY_BEFORE.sub("", body))
    scale = Decimal(1)
    percent = body.endswith("%")
    if percent:
        body = body[:-1].rstrip()
        scale = Decimal("0.01")
    else:
        for unit, factor in _UNITS:
            if body.endswith(unit):
                body, scale = body[: -len(unit)].rstrip(), factor
                break
        body = _CURRENCY_AFTER.sub("", body)  # ``1.2万元``: the unit, then the currency
    body = _CURRENCY_BEFORE.sub("", body)
    grouped = _GROUPED.fullmatch(body)
    if grouped:
        body = body.replace(grouped.group("sep"), "")
    if not _PLAIN.fullmatch(body):
        raise ExprError(_lead(where) + _("{typed} is not a number; type it like {forms}").format(
            typed=_quote(typed), forms=number_forms(share=share)))
    if percent and not share:
        raise ExprError(_lead(where) + _(
            "{typed} is a percentage, but this indicator is not a share; type the number "
            "itself, e.g. {example}").format(typed=_quote(typed), example=body))
    value = sign * Decimal(body) * scale  # the pattern admits only decimal digits
    if value == value.to_integral_value():
        whole = int(value)
        if abs(whole) > _INT64_MAX:
            raise ExprError(_lead(where) + _("{typed} is too large; type a smaller number")
                            .format(typed=_quote(typed)))
        return whole
    return float(value)


def _date(typed: str, clean: str, *, where: str) -> datetime.date:
    found = _DATE.fullmatch(clean)
    if found:
        try:
            return datetime.date(*(int(g) for g in found.groups()))
        except ValueError:
            raise ExprError(_lead(where) + _("{typed} is not a date of the calendar; check the "
                                             "month and the day").format(typed=_quote(typed))
                            ) from None
    raise ExprError(_lead(where) + _("{typed} is not a date; type it like 2026-06-30, "
                                     "2026/6/30 or 2026年6月30日").format(typed=_quote(typed)))


def _lead(where: str) -> str:
    return _("{where}: ").format(where=where) if where else ""


def _quote(text: str) -> str:
    return f"'{text}'" if "'" not in text else f'"{text}"'


def _example(kind: str) -> str:
    return {"number": "5,000", "date": "2026-06-30", "bool": "true"}.get(kind, "gold")
