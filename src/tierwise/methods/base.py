"""What every grading method shares: the grade table's columns and small expression helpers.

Every method turns the feature table into the same grade table, one row per customer. Grading
computes the structured columns (tier, rank, score and the method's details, e.g. ``r_score``,
``pts_spend_12m``, the value that reaches the next score); the texts (``reasons``, ``gap``) are
rendered from those columns and the indicator values by each method's ``texts`` function, when
someone reads them (explain, exports, the dashboard). Formatting text for every one of millions
of customers cost more than the grading itself, and the texts add nothing the structured columns
and the stored indicator values do not already hold.

=============  ==============================================================================
column         meaning
=============  ==============================================================================
customer_id    the customer
tier           the tier key
tier_rank      1 for the best tier, counting down the scheme's tier list
score          the method's score where it has one (scorecard points, RFM sum, value), else null
reasons        what decided the grade, with the indicator values it used
gap            the smallest change that would lift the customer one tier, where the method allows
=============  ==============================================================================

"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tierwise.i18n import _
from tierwise.spec.columns import CUSTOMER, PREVIOUS_TIER

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import TierSpec


GRADE_COLUMNS = (CUSTOMER, "tier", "tier_rank", "score")
TEXT_COLUMNS = ("reasons", "gap")


def fmt(value: ir.Value, digits: int = 2) -> ir.StringValue:
    """A number as text the same way on every engine: whole numbers bare, others to ``digits``.

    Engines print doubles differently (Spark writes 1.0E7), so values go through a fixed-scale
    decimal (rounded as :func:`rounded` does) and lose an all-zero fraction. From 1e12 on they
    are shown in whole units; NaN, infinities and values from 1e15 on print as the engine
    prints them. The expression stays small on purpose: reasons repeat it many times, and
    Spark's code generation time grows with it. A missing value reads "null" (in the current
    language).
    """
    import ibis

    # A missing value, in the reader's language.
    missing = _("null")
    if value.type().is_integer():
        return ibis.coalesce(value.cast("string"), ibis.literal(missing))
    if value.type().is_numeric():
        num = value.cast("float64")
        small = _decimal(num, digits).cast("string").re_replace(r"\.0+$", "")
        huge = ibis.ifelse(num.abs() < 1e15, num, ibis.null("float64"))
        whole = huge.round(0).cast("int64").cast("string")
        return ibis.coalesce(small, whole, num.cast("string"), ibis.literal(missing))
    return ibis.coalesce(value.cast("string"), ibis.literal(missing))


def rounded(value: ir.NumericValue, digits: int) -> ir.NumericValue:
    """``value`` rounded to ``digits`` decimals, half away from zero, the same on every engine.

    ``round`` on a double differs between engines: DuckDB rounds the binary value (1.005 is
    1.00499999999999989, so 1.0) and Spark its shortest decimal text (1.005, so 1.01); they also
    disagree on the sign of zero. Through a decimal both round the decimal value, like Spark.
    Values beyond +-1e12 are returned as they are.
    """
    import ibis

    num = value.cast("float64")
    return ibis.coalesce(_decimal(num, digits).cast("float64"), num)


_DECIMAL_LIMIT = 1e12


def _decimal(num: ir.FloatingValue, digits: int) -> ir.DecimalValue:
    """``num`` as a decimal rounded to ``digits``; null beyond +-1e12 (and for NaN, infinities).

    Three more decimals first, then the rounding: DuckDB's cast multiplies in binary
    (num * 10**scale), exact to a unit of that scale while the product is below 2**53, so the
    extra digits keep its binary error away from the digit that decides the rounding. The guard
    keeps the cast from overflowing. The precision stays well under 38: Spark, widening decimals
    for arithmetic or comparison past 38 digits, drops fraction digits (281.63 would equal 282).
    """
    import ibis

    near = ibis.ifelse(num.abs() < _DECIMAL_LIMIT, num, ibis.null("float64"))
    return near.cast(f"decimal(24, {digits + 3})").round(digits)


def concat(parts: Sequence[ir.StringValue | str]) -> ir.StringValue:
    """Concatenate text parts (literals or string expressions)."""
    import ibis

    values = [ibis.literal(p) if isinstance(p, str) else p for p in parts]
    out = values[0]
    for part in values[1:]:
        out = out.concat(part)
    return out


def drop_lead(text: ir.StringValue, lead: str) -> ir.StringValue:
    """``text`` without its leading separator ``lead``; null when nothing is left.

    Texts are assembled as "; a; b" and lose the first separator here. ``substr`` would repeat
    ``text`` twice in the SQL (ibis writes the start as an expression of its length), and a
    nesting of such texts doubles the query at each level; DuckDB's time to plan the text query
    of one customer page grew with it. A regular expression and ``nullif`` keep one copy.
    """
    import re

    return text.re_replace("^" + re.escape(lead), "").nullif("")


def cut_by_score(table: ir.Table, tiers: Sequence[TierSpec]) -> ir.Table:
    """``table`` (with a ``_score`` column) with ``_rank`` and ``_floor``: tiers cut the score.

    Tiers give ``min_score`` (the lowest score of each tier but the last) or ``top_share`` (the
    cumulative share of customers from the top; equal scores always share a tier). ``_floor`` is
    the lowest score of the tier above, what a customer must reach to move up (null at the top).
    """
    import ibis

    if tiers[0].min_score is not None:
        rank = ibis.cases(
            *((table._score >= t.min_score, i + 1) for i, t in enumerate(tiers[:-1])),
            else_=len(tiers),
        )
        table = table.mutate(_rank=rank)
        floor = table._rank.cases(
            *((i + 2, float(t.min_score)) for i, t in enumerate(tiers[:-1])
              if t.min_score is not None),
            else_=ibis.null("float64"),
        )
        return table.mutate(_floor=floor)
    per = table.group_by("_score").aggregate(_c=table.count())
    n = per._c.sum().over(ibis.window())
    above = per._c.sum().over(ibis.cumulative_window(order_by=ibis.desc(per._score))) - per._c
    share = above / n
    per = per.mutate(
        _rank=ibis.cases(
            *((share < t.top_share, i + 1) for i, t in enumerate(tiers[:-1])), else_=len(tiers)
        )
    )
    table = table.join(per.select("_score", "_rank"), "_score")
    floors = table.group_by("_rank").aggregate(_floor=table._score.min())
    floors = floors.select(_rank=floors._rank + 1, _floor=floors._floor)
    return table.left_join(floors, "_rank").drop("_rank_right")


def select_grades(
    table: ir.Table,
    *,
    tier: ir.Value,
    rank: ir.Value,
    score: ir.Value | None,
    details: dict[str, Any] | None = None,
    value: str | None = None,
) -> ir.Table:
    """Project a table onto the grade columns (plus the method's detail columns).

    ``value`` names the scheme's value indicator, carried as the ``value`` column for the
    per-tier reports (taken here, from the table graded, to spare a join of every customer).
    """
    import ibis

    carried = {"value": table[value].cast("float64")} if value else {}
    return table.select(
        customer_id=table.customer_id,
        tier=tier.cast("string"),
        tier_rank=rank.cast("int32"),
        score=(score if score is not None else ibis.null()).cast("float64"),
        **carried,
        **(details or {}),
    )


def column(features: ir.Table, name: str) -> ir.Value:
    """The column ``name`` of ``features``.

    :data:`PREVIOUS_TIER` is null where the table lacks it (a preview, an evaluation, a run
    graded outside the store).
    """
    import ibis

    if name == PREVIOUS_TIER and name not in features.columns:
        return ibis.null("string")
    return features[name]
