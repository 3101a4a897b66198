"""The typed syntax tree of the expression language.

Nodes are frozen dataclasses, so two parses of the same text compare equal and can key a cache.
Each node remembers where it started in the source text (``pos``, 0-based) so the type checker can
point at a column; ``pos`` is left out of equality, which makes ``parse(render(n)) == n`` hold even
though rendering changes spacing.

Parsing never produces a negative :class:`Number`: ``-5`` is ``Neg(Number(5))``. Keeping the sign
out of the literal makes rendering round-trip exactly; :mod:`tierwise.expr.analysis` folds it back
when it needs the numeric value.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TypeAlias

#: Keywords of the language; matched case-insensitively, so a column called ``in`` needs backticks.
KEYWORDS = frozenset({"and", "or", "not", "between", "in", "is", "null", "true", "false"})

#: The fixed function list: name -> (fewest, most) arguments; ``None`` means any number.
#: ``date('YYYY-MM-DD')`` is parsed as a literal (:class:`DateLiteral`), so it is not listed here.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "coalesce": (2, None),
    "abs": (1, 1),
    "round": (1, 2),
    "floor": (1, 1),
    "ceil": (1, 1),
    "ln": (1, 1),
    "log10": (1, 1),
    "sqrt": (1, 1),
    "least": (2, None),
    "greatest": (2, None),
    "if": (3, 3),
    "div": (2, 3),
    "days_since": (1, 1),
    "days_between": (2, 2),
    "year": (1, 1),
    "month": (1, 1),
    "lower": (1, 1),
    "upper": (1, 1),
    "length": (1, 1),
    "is_null": (1, 1),
}

#: Comparison operators in canonical spelling (``=`` and ``<>`` are read as ``==`` and ``!=``).
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
ARITHMETIC = ("+", "-", "*", "/", "%")


@dataclass(frozen=True)
class _Base:
    # kw_only puts ``pos`` after every subclass field, so subclasses can keep positional fields.
    pos: int = field(default=0, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class Number(_Base):
    """A numeric literal: ``int`` for ``10_000``, ``float`` for ``1.5`` or ``1e3``."""

    value: int | float


@dataclass(frozen=True)
class String(_Base):
    """A quoted text literal, escapes already resolved."""

    value: str


@dataclass(frozen=True)
class Boolean(_Base):
    """``true`` or ``false``."""

    value: bool


@dataclass(frozen=True)
class Null(_Base):
    """The ``null`` literal."""


@dataclass(frozen=True)
class DateLiteral(_Base):
    """``date('2026-01-31')``."""

    value: datetime.date


@dataclass(frozen=True)
class Name(_Base):
    """A reference to an indicator or column."""

    name: str


@dataclass(frozen=True)
class Neg(_Base):
    """Unary minus."""

    operand: Node


@dataclass(frozen=True)
class Not(_Base):
    """Boolean negation."""

    operand: Node


@dataclass(frozen=True)
class Arith(_Base):
    """``left op right`` with ``op`` in :data:`ARITHMETIC`."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Compare(_Base):
    """``left op right`` with ``op`` in :data:`COMPARISONS`."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logical(_Base):
    """``left and right`` or ``left or right``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Between(_Base):
    """``operand [not] between low and high``; both bounds are included."""

    operand: Node
    low: Node
    high: Node
    negated: bool = False


@dataclass(frozen=True)
class InList(_Base):
    """``operand [not] in (item, ...)``."""

    operand: Node
    items: tuple[Node, ...]
    negated: bool = False


@dataclass(frozen=True)
class IsNull(_Base):
    """``operand is [not] null``."""

    operand: Node
    negated: bool = False


@dataclass(frozen=True)
class Call(_Base):
    """A call of one of :data:`FUNCTIONS`; ``func`` is lower case."""

    func: str
    args: tuple[Node, ...]


Node: TypeAlias = (
    Number
    | String
    | Boolean
    | Null
    | DateLiteral
    | Name
    | Neg
    | Not
    | Arith
    | Compare
    | Logical
    | Between
    | InList
    | IsNull
    | Call
)


def children(node: Node) -> tuple[Node, ...]:
    """Return the direct sub-expressions of ``node``, left to right.

    Args:
        node: Any expression node.

    Returns:
        The operands of ``node``; empty for literals and names.
    """
    if isinstance(node, Neg | Not | IsNull):
        return (node.operand,)
    if isinstance(node, Arith | Compare | Logical):
        return (node.left, node.right)
    if isinstance(node, Between):
        return (node.operand, node.low, node.high)
    if isinstance(node, InList):
        return (node.operand, *node.items)
    if isinstance(node, Call):
        return node.args
    return ()
