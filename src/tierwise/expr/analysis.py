"""Static analysis of expressions: the names they use and their threshold structure.

:func:`atoms` turns a tier condition into disjunctive normal form over simple thresholds
(``spend_12m >= 10000``), which is what the next-tier gap ("spend 1,200 more to reach Gold") and the
"this tier can never match" check need. Anything that is not a threshold on a name makes the
analysis give up (return ``None``) rather than guess.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from tierwise.expr.ast import (
    Between,
    Call,
    Compare,
    InList,
    Logical,
    Name,
    Neg,
    Node,
    Not,
    Number,
    children,
)

#: Most conjunctions :func:`atoms` expands to; beyond it the gap is too costly to be useful.
MAX_CONJUNCTIONS = 64

_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}
_NEGATE = {">=": "<", ">": "<=", "<=": ">", "<": ">=", "==": "!=", "!=": "=="}
_ATOM_OPS = frozenset({">=", ">", "<=", "<", "=="})

Dnf = list[list["Atom"]]


@dataclass(frozen=True)
class Atom:
    """One threshold ``name op value``, e.g. ``Atom("spend_12m", ">=", 10000.0)``.

    Attributes:
        name: The indicator compared.
        op: One of ``>=``, ``>``, ``<=``, ``<``, ``==``.
        value: The threshold.
    """

    name: str
    op: str
    value: float

    def __str__(self) -> str:
        whole = self.value.is_integer() and abs(self.value) < 1e15
        return f"{self.name} {self.op} {int(self.value) if whole else self.value!r}"


def names(node: Node) -> set[str]:
    """Return the names an expression refers to (function names excluded).

    Args:
        node: The root of the tree.

    Returns:
        Every name referenced anywhere in the tree.
    """
    return {n.name for n in _walk(node) if isinstance(n, Name)}


def functions(node: Node) -> set[str]:
    """Return the functions an expression calls (lower case), e.g. ``{"days_since"}``."""
    return {n.func for n in _walk(node) if isinstance(n, Call)}


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


def atoms(node: Node) -> list[list[Atom]] | None:
    """Return a condition as an OR of ANDs of numeric thresholds, if it is one.

    ``not`` is pushed down to the thresholds (``not x >= 5`` is ``x < 5``; De Morgan for ``and`` /
    ``or``), ``x between a and b`` becomes ``x >= a`` and ``x <= b``, ``x in (1, 2)`` becomes
    ``x == 1`` or ``x == 2``, and ``5 <= x`` is flipped to ``x >= 5``.

    Args:
        node: A condition, e.g. ``parse("orders_12m >= 10 and spend_12m >= 10000")``.

    Returns:
        The disjunctive normal form, e.g. ``[[Atom("orders_12m", ">=", 10.0),
        Atom("spend_12m", ">=", 10000.0)]]``; or ``None`` when some part is not a threshold of a
        name against a number (text equality, functions, arithmetic, ``!=``, ``not in``, flags),
        or when the form would exceed :data:`MAX_CONJUNCTIONS` conjunctions.
    """
    return _dnf(node, negated=False)


def unsatisfiable(conj: list[Atom]) -> bool:
    """Tell whether a conjunction of thresholds can never hold.

    Each name's thresholds are intersected as an interval of real numbers, so ``x > 3 and x < 4``
    counts as satisfiable even if ``x`` only takes whole values.

    Args:
        conj: One conjunction from :func:`atoms`.

    Returns:
        True when some name's interval is empty, e.g. ``x >= 10 and x < 5`` or ``x == 3 and x > 4``.
    """
    # name -> (low, low is open, high, high is open)
    bounds: dict[str, tuple[float, bool, float, bool]] = {}
    for atom in conj:
        low, low_open, high, high_open = bounds.get(atom.name, (-math.inf, True, math.inf, True))
        value = atom.value
        if atom.op in (">=", ">", "=="):
            strict = atom.op == ">"
            if value > low or (value == low and strict):
                low, low_open = value, strict
        if atom.op in ("<=", "<", "=="):
            strict = atom.op == "<"
            if value < high or (value == high and strict):
                high, high_open = value, strict
        bounds[atom.name] = (low, low_open, high, high_open)
    return any(
        low > high or (low == high and (low_open or high_open))
        for low, low_open, high, high_open in bounds.values()
    )


def _dnf(node: Node, *, negated: bool) -> Dnf | None:
    if isinstance(node, Not):
        return _dnf(node.operand, negated=not negated)
    if isinstance(node, Logical):
        left = _dnf(node.left, negated=negated)
        right = _dnf(node.right, negated=negated)
        if left is None or right is None:
            return None
        # De Morgan: under negation 'and' distributes like 'or' and vice versa.
        if (node.op == "or") != negated:
            return _capped(left + right)
        if len(left) * len(right) > MAX_CONJUNCTIONS:
            return None
        return [a + b for a in left for b in right]
    if isinstance(node, Compare):
        atom = _threshold(node.left, node.op, node.right)
        if atom is None:
            return None
        op = _NEGATE[atom.op] if negated else atom.op
        return [[Atom(atom.name, op, atom.value)]] if op in _ATOM_OPS else None
    if isinstance(node, Between):
        low = _threshold(node.operand, ">=", node.low)
        high = _threshold(node.operand, "<=", node.high)
        if low is None or high is None:
            return None
        if node.negated != negated:
            return [[Atom(low.name, "<", low.value)], [Atom(high.name, ">", high.value)]]
        return [[low, high]]
    if isinstance(node, InList) and not (node.negated or negated):
        found = [_threshold(node.operand, "==", item) for item in node.items]
        if any(atom is None for atom in found):
            return None
        return _capped([[atom] for atom in found if atom is not None])
    return None


def _capped(dnf: Dnf) -> Dnf | None:
    return dnf if len(dnf) <= MAX_CONJUNCTIONS else None


def _threshold(left: Node, op: str, right: Node) -> Atom | None:
    """``name op number`` or ``number op name`` (flipped) as an atom; else None."""
    if isinstance(left, Name):
        value = _constant(right)
        return None if value is None else Atom(left.name, op, value)
    if isinstance(right, Name):
        value = _constant(left)
        return None if value is None else Atom(right.name, _FLIP[op], value)
    return None


def _constant(node: Node) -> float | None:
    if isinstance(node, Number) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, Neg):
        inner = _constant(node.operand)
        return None if inner is None else -inner
    return None
