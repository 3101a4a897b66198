"""Conditions and thresholds as a business reader says them, for the classification standard.

Reasons quote a condition close to its text (:func:`tierwise.methods.wording.condition`); a
standard document staff follow says it in words: "Orders, 6 months at least 5 and Net spend,
12 months above ¥5,000", or in Chinese "近6个月订单数不少于5，且近12个月净消费额高于¥5,000".
Indicators read as their labels (:func:`tierwise.methods.wording.indicator_labels`) and their
values in their unit (:func:`indicator_units`): a currency code gives the currency's symbol, a
word follows the number.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from tierwise import i18n
from tierwise.expr import ast
from tierwise.expr.ast import Node
from tierwise.i18n import _
from tierwise.methods import wording


@dataclass(frozen=True)
class Unit:
    """The unit of an indicator's values, in the reader's language.

    Attributes:
        currency: An ISO 4217 code: values read with the currency's symbol (¥5,000).
        word: A unit word put after the number (30 days, 30天); None for plain numbers.

    """

    currency: str | None = None
    word: str | None = None


_UNITS: ContextVar[Mapping[str, Unit] | None] = ContextVar("tierwise_indicator_units",
                                                           default=None)
#: Comparisons with the indicator on the left; the reverse when the number comes first.
_FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}


@contextmanager
def indicator_units(units: Mapping[str, Unit]) -> Iterator[None]:
    """Read values of indicators in ``units`` (indicator -> unit) within the block."""
    token = _UNITS.set(dict(units))
    try:
        yield
    finally:
        _UNITS.reset(token)


def unit_of(indicator: str | None) -> Unit:
    """The unit of ``indicator`` in the block (no unit when none was set)."""
    return (_UNITS.get() or {}).get(indicator or "", Unit())


def amount(value: float | int, indicator: str | None = None) -> str:
    """``value`` as a value of ``indicator``: ¥5,000, 30 days, 30天, or 5,000."""
    unit = unit_of(indicator)
    if unit.currency:
        return i18n.money(value, unit.currency)
    text = i18n.number(int(value) if float(value).is_integer() else value)
    if not unit.word:
        return text
    return f"{text} {unit.word}" if i18n.current() == "en" else f"{text}{unit.word}"


def comparison(name: str, op: str, value: str) -> str:
    """``name`` compared with the (formatted) ``value`` in words: "spend above ¥5,000"."""
    messages = {
        ">=": _("{name} at least {value}"),
        ">": _("{name} above {value}"),
        "<=": _("{name} at most {value}"),
        "<": _("{name} below {value}"),
        "==": _("{name} is {value}"),
        "!=": _("{name} is not {value}"),
    }
    return messages[op].format(name=name, value=value)


def words(node: Node) -> str:
    """The condition ``node`` in words (see the module doc)."""
    return _words(node, inside=None)


def _words(node: Node, *, inside: str | None) -> str:
    if isinstance(node, ast.Logical):
        left, right = _words(node.left, inside=node.op), _words(node.right, inside=node.op)
        text = (_("{left} and {right}") if node.op == "and"
                else _("{left} or {right}")).format(left=left, right=right)
        # Words have no precedence: a group inside another kind of group is bracketed.
        return _("({text})").format(text=text) if inside not in (None, node.op) else text
    if isinstance(node, ast.Not):
        return _("not ({condition})").format(condition=_words(node.operand, inside=None))
    if isinstance(node, ast.Compare):
        return _compare(node)
    if isinstance(node, ast.Between):
        subject = _subject(node.operand)
        message = (_("{name} outside {low} to {high}") if node.negated
                   else _("{name} from {low} to {high}"))
        return message.format(name=_term(node.operand),
                              low=_value(node.low, subject), high=_value(node.high, subject))
    if isinstance(node, ast.InList):
        subject = _subject(node.operand)
        items = _(", ").join(_value(i, subject) for i in node.items)
        message = (_("{name} is none of {items}") if node.negated
                   else _("{name} is one of {items}"))
        return message.format(name=_term(node.operand), items=items)
    if isinstance(node, ast.IsNull):
        message = _("{name} has a value") if node.negated else _("{name} has no value")
        return message.format(name=_term(node.operand))
    return wording.condition(node)


def _compare(node: ast.Compare) -> str:
    left, right, op = node.left, node.right, node.op
    if not isinstance(left, ast.Name) and isinstance(right, ast.Name):
        left, right, op = right, left, _FLIPPED[op]
    return comparison(_term(left), op, _value(right, _subject(left)))


def _subject(node: Node) -> str | None:
    return node.name if isinstance(node, ast.Name) else None


def _term(node: Node) -> str:
    """An operand that is not a plain value: an indicator's label, else the expression."""
    return wording.name(node.name) if isinstance(node, ast.Name) else wording.condition(node)


def _value(node: Node, subject: str | None) -> str:
    """A literal as a value of ``subject`` (its unit); other operands as terms."""
    if isinstance(node, ast.Neg) and isinstance(node.operand, ast.Number):
        return amount(-node.operand.value, subject)
    if isinstance(node, ast.Number):
        return amount(node.value, subject)
    if isinstance(node, ast.String):
        return _("“{text}”").format(text=node.value)
    if isinstance(node, ast.DateLiteral):
        return i18n.date(node.value)
    if isinstance(node, ast.Boolean):
        return _("yes") if node.value else _("no")
    if isinstance(node, ast.Null):
        return _("no value")
    return _term(node)


__all__ = ["Unit", "amount", "comparison", "indicator_units", "unit_of", "words"]
