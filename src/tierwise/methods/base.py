"""What every grading method shares: the grade table's columns and small expression helpers.

Every method turns the feature table into the same grade table, one row per customer:

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

Methods may add detail columns (``r_score``, ``rfm_code``, ``dim_*``) after these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import TierSpec

GRADE_COLUMNS = ("customer_id", "tier", "tier_rank", "score", "reasons", "gap")


def fmt(value: ir.Value) -> ir.StringValue:
    """A number as text the same way on every engine: whole numbers bare, others to 2 decimals.

    Engines print doubles differently (Spark writes 1.0E7), so whole values go through int64
    and others through a fixed-scale decimal.
    """
    import ibis

    if value.type().is_integer():
        return ibis.coalesce(value.cast("string"), ibis.literal("null"))
    if value.type().is_numeric():
        whole = value.round(0)
        text = ibis.ifelse(
            value == whole,
            whole.cast("int64").cast("string"),
            value.round(2).cast("decimal(38, 2)").cast("string"),
        )
        return ibis.coalesce(text, ibis.literal("null"))
    return ibis.coalesce(value.cast("string"), ibis.literal("null"))


def concat(parts: Sequence[ir.StringValue | str]) -> ir.StringValue:
    """Concatenate text parts (literals or string expressions)."""
    import ibis

    values = [ibis.literal(p) if isinstance(p, str) else p for p in parts]
    out = values[0]
    for part in values[1:]:
        out = out.concat(part)
    return out


def tier_by_rank(tiers: Sequence[TierSpec], rank: ir.IntegerValue) -> ir.StringValue:
    """The tier key for a 1-based rank expression."""
    return rank.cases(*((i + 1, t.key) for i, t in enumerate(tiers)), else_=None)


def select_grades(
    table: ir.Table,
    *,
    tier: ir.Value,
    rank: ir.Value,
    score: ir.Value | None,
    reasons: ir.Value,
    gap: ir.Value | None,
    details: dict[str, Any] | None = None,
) -> ir.Table:
    """Project a table onto the grade columns (plus method details)."""
    import ibis

    return table.select(
        customer_id=table.customer_id,
        tier=tier.cast("string"),
        tier_rank=rank.cast("int32"),
        score=(score if score is not None else ibis.null()).cast("float64"),
        reasons=reasons.cast("string"),
        gap=(gap if gap is not None else ibis.null()).cast("string"),
        **(details or {}),
    )
