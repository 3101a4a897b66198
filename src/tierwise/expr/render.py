"""Canonical text of a syntax tree.

The canonical form uses lower-case keywords, ``==`` / ``!=``, single-quoted text, single spaces
around binary operators and only the parentheses the precedence needs, so that
``parse(render(node)) == node``. It is what tierwise stores and shows, whatever spelling the user
typed.
"""

from __future__ import annotations

import math

from tierwise.errors import ExprError
from tierwise.expr.ast import (
    KEYWORDS,
    Arith,
    Between,
    Boolean,
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
from tierwise.i18n import _

_ATOM = 8
_ARITH_PRECEDENCE = {"+": 5, "-": 5, "*": 6, "/": 6, "%": 6}
_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", "'": "''", "\n": "\\n", "\t": "\\t"})


def render(node: Node) -> str:
    """Render a syntax tree as canonical expression text.

    Args:
        node: The root of the tree, e.g. from :func:`tierwise.expr.parse`.

    Returns:
        Text that parses back to an equal tree.

    Raises:
        ExprError: If the tree holds a number that has no literal form (infinity, NaN).
    """
    if isinstance(node, Number):
        return _number(node.value)
    if isinstance(node, String):
        return "'" + node.value.translate(_TEXT_ESCAPES) + "'"
    if isinstance(node, Boolean):
        return "true" if node.value else "false"
    if isinstance(node, Null):
        return "null"
    if isinstance(node, DateLiteral):
        return f"date('{node.value.isoformat()}')"
    if isinstance(node, Name):
        return _name(node.name)
    if isinstance(node, Neg):
        inner = _wrap(node.operand, 7)
        # A space keeps '- -x' from reading as one token in other tools (SQL's '--' comment).
        return f"- {inner}" if inner.startswith("-") else f"-{inner}"
    if isinstance(node, Not):
        return f"not {_wrap(node.operand, 3)}"
    if isinstance(node, Logical):
        power = precedence(node)
        return f"{_wrap(node.left, power)} {node.op} {_wrap(node.right, power + 1)}"
    if isinstance(node, Arith):
        power = precedence(node)
        return f"{_wrap(node.left, power)} {node.op} {_wrap(node.right, power + 1)}"
    if isinstance(node, Compare):
        # Comparisons do not chain, so a comparison operand on either side needs parentheses.
        return f"{_wrap(node.left, 5)} {node.op} {_wrap(node.right, 5)}"
    if isinstance(node, Between):
        keyword = "not between" if node.negated else "between"
        return f"{_wrap(node.operand, 5)} {keyword} {_wrap(node.low, 5)} and {_wrap(node.high, 5)}"
    if isinstance(node, InList):
        keyword = "not in" if node.negated else "in"
        items = ", ".join(render(item) for item in node.items)
        return f"{_wrap(node.operand, 5)} {keyword} ({items})"
    if isinstance(node, IsNull):
        return f"{_wrap(node.operand, 5)} is {'not null' if node.negated else 'null'}"
    return f"{node.func}({', '.join(render(arg) for arg in node.args)})"


def precedence(node: Node) -> int:
    """Return how tightly ``node`` binds: 1 for ``or`` up to 8 for literals, names and calls."""
    if isinstance(node, Logical):
        return 1 if node.op == "or" else 2
    if isinstance(node, Not):
        return 3
    if isinstance(node, Compare | Between | InList | IsNull):
        return 4
    if isinstance(node, Arith):
        return _ARITH_PRECEDENCE[node.op]
    if isinstance(node, Neg) or (isinstance(node, Number) and node.value < 0):
        return 7
    return _ATOM


def _wrap(node: Node, minimum: int) -> str:
    text = render(node)
    return f"({text})" if precedence(node) < minimum else text


def _number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ExprError(_("the number {value} has no literal form; use a finite number").format(
            value=value))
    # repr is the shortest text that reads back to the same float ('0.1', '1e+16').
    return repr(value)


def _name(name: str) -> str:
    if name.isidentifier() and name.lower() not in KEYWORDS:
        return name
    return "`" + name.replace("`", "``") + "`"
