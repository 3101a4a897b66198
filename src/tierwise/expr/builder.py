"""The condition builder's model: a condition as groups of (indicator, operator, value) rows.

A business user builds a rule's condition from rows (``orders_6m >= 5000``) joined in AND / OR
groups, which may nest. :func:`to_tree` reads expression text into that model and
:func:`to_text` prints the model back as canonical expression text (the text
:func:`tierwise.expr.render` prints), so the two round-trip: ``to_tree(to_text(t)) == t`` for a
tree :func:`to_tree` returned, and the printed text grades the same customers as the text read.

An expression the rows cannot show (arithmetic, functions, ``not``, two indicators compared)
gives None from :func:`to_tree`: the editor then keeps it as text ("edit as text").
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import TypeAlias

from tierwise.expr import ast as nodes
from tierwise.expr.parser import parse
from tierwise.expr.render import render

#: A value a row compares with.
Value: TypeAlias = int | float | str | bool | datetime.date

#: The operators a row offers, in the order a select lists them.
OPERATORS = (">=", ">", "<=", "<", "==", "!=", "between", "not between", "in", "not in",
             "is null", "is not null")
#: How many values each operator takes (None: one or more).
ARITY: dict[str, int | None] = {
    **dict.fromkeys((">=", ">", "<=", "<", "==", "!="), 1),
    "between": 2, "not between": 2, "in": None, "not in": None,
    "is null": 0, "is not null": 0,
}
JOINS = ("and", "or")
# ``5 < x`` reads as ``x > 5``: the row always names the indicator first.
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


@dataclass(frozen=True)
class Condition:
    """One row: ``indicator op value`` (``between``: two values; ``in``: one or more)."""

    indicator: str
    op: str
    values: tuple[Value, ...] = ()


@dataclass(frozen=True)
class Group:
    """Rows and groups joined by ``and`` or ``or``."""

    join: str
    items: tuple[Condition | Group, ...] = ()


def to_tree(text: str) -> Group | None:
    """Read a condition into builder rows; None when the rows cannot show it.

    Args:
        text: A condition in the expression language; blank text gives an empty group.

    Returns:
        The root group (an ``and`` group when the condition is one row), or None for arithmetic,
        functions, ``not`` and other forms the builder has no row for.

    Raises:
        ExprError: The text is not a valid expression.
    """
    if not text.strip():
        return Group("and")
    found = _item(parse(text))
    if found is None:
        return None
    return found if isinstance(found, Group) else Group("and", (found,))


def to_text(tree: Group) -> str:
    """The canonical expression text of builder rows; empty text for an empty tree.

    The tree is :func:`normalize`-d first, so the text reads back to that tree.

    Raises:
        ExprError: A value has no literal form (infinity, NaN).
    """
    node = to_node(normalize(tree))
    return "" if node is None else render(node)


def to_node(tree: Group) -> nodes.Node | None:
    """The syntax tree of builder rows: groups fold left, as the parser builds them."""
    parts = [n for n in (_node(item) for item in tree.items) if n is not None]
    if not parts:
        return None
    out = parts[0]
    for node in parts[1:]:
        out = nodes.Logical(tree.join, out, node)
    return out


def normalize(tree: Group) -> Group:
    """The tree as :func:`to_tree` reads its text back.

    Empty groups go; a group of one item is that item; a group inside a group of the same join
    merges into it; the root stays a group.
    """
    found = _normal(tree)
    if found is None:
        return Group("and")
    return found if isinstance(found, Group) else Group("and", (found,))


def _normal(item: Condition | Group) -> Condition | Group | None:
    if isinstance(item, Condition):
        return item
    flat: list[Condition | Group] = []
    for child in item.items:
        done = _normal(child)
        if isinstance(done, Group) and done.join == item.join:
            flat.extend(done.items)
        elif done is not None:
            flat.append(done)
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else Group(item.join, tuple(flat))


def _node(item: Condition | Group) -> nodes.Node | None:
    if isinstance(item, Group):
        return to_node(item)
    name = nodes.Name(item.indicator)
    values = tuple(_literal(v) for v in item.values)
    if item.op in ("is null", "is not null"):
        return nodes.IsNull(name, item.op == "is not null")
    if item.op in ("between", "not between"):
        return nodes.Between(name, values[0], values[1], item.op == "not between")
    if item.op in ("in", "not in"):
        return nodes.InList(name, values, item.op == "not in")
    return nodes.Compare(item.op, name, values[0])


def _literal(value: Value) -> nodes.Node:
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int | float):
        if value < 0 or (isinstance(value, float) and math.copysign(1.0, value) < 0):
            return nodes.Neg(nodes.Number(-value))
        return nodes.Number(value)
    if isinstance(value, datetime.date):
        return nodes.DateLiteral(value)
    return nodes.String(value)


def _item(node: nodes.Node) -> Condition | Group | None:
    if isinstance(node, nodes.Logical):
        items: list[Condition | Group] = []
        for side in (node.left, node.right):
            found = _item(side)
            if found is None:
                return None
            if isinstance(found, Group) and found.join == node.op:
                items.extend(found.items)
            else:
                items.append(found)
        return Group(node.op, tuple(items))
    return _row(node)


def _row(node: nodes.Node) -> Condition | None:
    if isinstance(node, nodes.Compare):
        if isinstance(node.left, nodes.Name) and (value := _value(node.right)) is not None:
            return Condition(node.left.name, node.op, (value,))
        if isinstance(node.right, nodes.Name) and (value := _value(node.left)) is not None:
            return Condition(node.right.name, _FLIPPED[node.op], (value,))
        return None
    tested = nodes.IsNull | nodes.Between | nodes.InList
    if not isinstance(node, tested) or not isinstance(node.operand, nodes.Name):
        return None
    name = node.operand.name
    values: tuple[Value | None, ...]
    if isinstance(node, nodes.IsNull):
        return Condition(name, "is not null" if node.negated else "is null")
    if isinstance(node, nodes.Between):
        values = (_value(node.low), _value(node.high))
        op = "not between" if node.negated else "between"
    else:
        values = tuple(_value(item) for item in node.items)
        op = "not in" if node.negated else "in"
    if any(v is None for v in values):
        return None
    return Condition(name, op, tuple(v for v in values if v is not None))


def _value(node: nodes.Node) -> Value | None:
    if isinstance(node, nodes.Number | nodes.String | nodes.Boolean | nodes.DateLiteral):
        return node.value
    if isinstance(node, nodes.Neg) and isinstance(node.operand, nodes.Number):
        return -node.operand.value
    return None
