"""Downgrade margins: whether a customer still meets the held tier's loosened thresholds.

A stability policy's ``downgrade_margin`` (0.1 = 10%) keeps a customer in the tier they hold while
they stay within that share of its thresholds, so a customer hovering at a cut-off does not flap.
Only methods with fixed thresholds have something to loosen:

* ``rules``: the held tier's ``when`` condition with every numeric literal a comparison tests
  against moved by ``margin * |literal|`` in the direction that makes the condition easier to
  meet: ``x >= c`` and ``x > c`` become ``x >= c - m|c|`` (``x > c - m|c|``), ``x <= c`` and
  ``x < c`` become ``c + m|c|``, ``x between a and b`` widens both ends. Under ``not`` (and in
  ``not between``) the direction flips, since loosening the whole condition means tightening
  what is negated. Equality, ``in`` lists, text, dates, comparisons of two columns and
  comparisons inside function calls stay as written. The fallback tier takes everyone, so a
  customer always is within it.
* ``scorecard`` with ``min_score`` cut-offs: ``score >= min_score * (1 - margin)``; the last tier
  has no cut-off, so everyone is within it.

Ranking methods (``top_share`` scorecards, RFM quantiles, ABC shares) have no threshold to loosen;
validation stops a margin on them, and :func:`within_margin` raises if one gets here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from tierwise import expr
from tierwise.expr.ast import Between, Compare, Logical, Neg, Node, Not, Number
from tierwise.methods.base import column

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import RulesSchemeSpec, SchemeSpec, ScorecardSchemeSpec

#: For a comparison ``column op literal``: True when the literal is a lower bound of the column.
_LOWER = {">=": True, ">": True, "<=": False, "<": False}


def within_margin(
    scheme: SchemeSpec,
    features: ir.Table,
    held: ir.Table,
    margin: float,
    *,
    as_of: date,
    scores: ir.Table | None = None,
) -> ir.Table:
    """Tell, per customer, whether they meet their held tier's thresholds loosened by ``margin``.

    The scheme's method answers (:meth:`~tierwise.methods.protocol.Method.within_margin`):
    ``rules`` with :func:`rules_within`, a ``scorecard`` cut by ``min_score`` with
    :func:`scores_within`.

    Args:
        scheme: A ``rules`` scheme, or a ``scorecard`` cut by ``min_score``.
        features: The feature table graded this run (one row per customer).
        held: ``(customer_id, held_tier)``, e.g.
            :func:`tierwise.policies.stability.held_tiers` of the previous run.
        margin: The share thresholds are loosened by (0.1 = 10%).
        as_of: The as-of date (for ``days_since`` in conditions).
        scores: Scorecard only: this run's grade table, whose ``score`` is reused instead of
            scoring ``features`` again.

    Returns:
        ``(customer_id, within_margin)`` for every customer of ``held`` that ``features`` has;
        ``within_margin`` is never null (false for a tier the scheme does not have).

    Raises:
        MethodError: For a method without fixed thresholds.
    """
    from tierwise.methods.registry import method_of

    return method_of(scheme).within_margin(scheme, features, held, margin, as_of=as_of,
                                           scores=scores)


def rules_within(scheme: RulesSchemeSpec, features: ir.Table, held: ir.Table, margin: float, *,
                 as_of: date) -> ir.Table:
    """:func:`within_margin` of a rules scheme: the held tier's condition, loosened."""
    import ibis

    keyed = _keyed(held)
    table = features.join(keyed, features.customer_id == keyed._hid)
    branches: list[tuple[ir.BooleanValue, ir.BooleanValue | bool]] = []
    for tier in scheme.tiers:
        if tier.key == scheme.fallback or tier.when is None:
            branches.append((table._held == tier.key, True))
            continue
        node = loosen(expr.parse(tier.when), margin)
        env = {name: column(table, name) for name in expr.names(node)}
        cond = expr.compile_condition(node, env, as_of=as_of)
        branches.append((table._held == tier.key, cond))
    within = ibis.cases(*branches, else_=False)
    return table.select(customer_id=table.customer_id, within_margin=within.cast("boolean"))


def scores_within(scheme: ScorecardSchemeSpec, graded: ir.Table, held: ir.Table,
                  margin: float) -> ir.Table:
    """:func:`within_margin` of a scorecard cut by ``min_score``, on its grade table ``graded``.

    Within means ``score >= min_score * (1 - margin)`` of the held tier; the last tier, which
    has no cut-off, holds everyone.
    """
    import ibis

    keyed = _keyed(held)
    graded = graded.select(_sid=graded.customer_id, _score=graded.score)
    table = graded.join(keyed, graded._sid == keyed._hid)
    cases: list[tuple[ir.BooleanValue, ir.BooleanValue | bool]] = []
    for tier in scheme.tiers:
        if tier.min_score is None:
            cases.append((table._held == tier.key, True))
        else:
            floor = _shift(tier.min_score, -margin)
            cases.append((table._held == tier.key, ibis.coalesce(table._score >= floor, False)))
    within = ibis.cases(*cases, else_=False)
    return table.select(customer_id=table._sid, within_margin=within.cast("boolean"))


def _keyed(held: ir.Table) -> ir.Table:
    return held.select(_hid=held.customer_id, _held=held.held_tier.cast("string"))


def loosen(node: Node, margin: float) -> Node:
    """Loosen a condition's numeric thresholds by ``margin`` (see the module docstring).

    Args:
        node: A parsed condition.
        margin: The share each literal moves by (0.1 = 10% of its absolute value).

    Returns:
        The same tree with the literals moved; ``loosen(node, 0) == node``.
    """
    return _loosen(node, margin, easier=True)


def _loosen(node: Node, margin: float, *, easier: bool) -> Node:
    # ``easier``: whether the node must become easier (True) or harder (under an odd number of
    # negations) to hold, so that the whole condition becomes easier.
    if isinstance(node, Not):
        return replace(node, operand=_loosen(node.operand, margin, easier=not easier))
    if isinstance(node, Logical):
        return replace(
            node,
            left=_loosen(node.left, margin, easier=easier),
            right=_loosen(node.right, margin, easier=easier),
        )
    if isinstance(node, Compare) and node.op in _LOWER:
        right = _constant(node.right)
        left = _constant(node.left)
        if right is not None and left is None:
            # column op c: a lower bound for >=, >
            return replace(node, right=_moved(right, margin, lower=_LOWER[node.op], easier=easier))
        if left is not None and right is None:
            # c op column: c >= x bounds x from above
            return replace(node, left=_moved(left, margin, lower=not _LOWER[node.op], easier=easier))
        return node
    if isinstance(node, Between):
        widen = easier != node.negated
        low, high = _constant(node.low), _constant(node.high)
        return replace(
            node,
            low=node.low if low is None else _moved(low, margin, lower=True, easier=widen),
            high=node.high if high is None else _moved(high, margin, lower=False, easier=widen),
        )
    return node


def _moved(value: float | int, margin: float, *, lower: bool, easier: bool) -> Node:
    """The literal ``value`` moved by ``margin * |value|``: down for an easier lower bound."""
    down = lower == easier
    return _literal(_shift(value, -margin if down else margin))


def _shift(value: float | int, share: float) -> float:
    """``value + share * |value|`` computed in decimal, so 10000 less 10% is exactly 9000."""
    exact = Decimal(repr(value)) + Decimal(repr(share)) * abs(Decimal(repr(value)))
    return float(exact)


def _constant(node: Node) -> float | int | None:
    if isinstance(node, Number) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, Neg):
        inner = _constant(node.operand)
        return None if inner is None else -inner
    return None


def _literal(value: float) -> Node:
    # The parser never makes a negative Number; keep that shape so rendering stays valid.
    number: float | int = int(value) if value.is_integer() and abs(value) < 2**53 else value
    return Neg(Number(-number)) if value < 0 else Number(number)
