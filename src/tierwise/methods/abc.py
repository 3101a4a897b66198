"""The ``abc`` method: Pareto classes by cumulative share of value, or by share of customers.

Rule. Customers are ordered by the value indicator, largest first (a missing value counts as 0).
For each customer, ``before`` is the share of total value held by customers with a strictly larger
value (``by: value``), or the share of customers with a strictly larger value (``by: customers``).
The customer takes the first class whose ``cumulative`` limit is above ``before``; the last class
takes the rest. So with A = 0.8, A holds the customers who make the first 80% of value, including
the one who crosses 80%, and customers with equal values always share a class.

Zero and negative values. A customer's value counts as max(value, 0) in the shares: net refunders
hold no share of value, rather than shrinking the total so that the share ranked above passes
100%. The total is the sum of the positive values. A customer whose value is 0 or less goes to the
last class under either ``by``: it contributes nothing to the value being classed. When no
customer has a positive value there is nothing to share out: everyone goes to the last class, and
(``by: value``) the reasons say that no customer has a positive value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierwise.i18n import _, current
from tierwise.methods import criteria, wording
from tierwise.methods.base import concat, fmt, select_grades
from tierwise.methods.criteria import Criteria
from tierwise.methods.families import DirectMethod
from tierwise.spec.models import AbcSchemeSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import TierSpec


def grade(scheme: AbcSchemeSpec, features: ir.Table) -> ir.Table:
    """Class every customer by its place in the cumulative value (or customer) distribution.

    Details: ``share_before`` (the share ranked above; null when no customer has a positive
    value and ``by: value``) and ``next_at`` (the least value in the class above, if any).
    """
    import ibis

    value = ibis.coalesce(features[scheme.value].cast("float64"), 0.0)
    keyed = features.mutate(_v=value)
    per = keyed.group_by("_v").aggregate(_c=keyed.count())
    positive = per._v > 0
    if scheme.by == "value":
        weight = ibis.ifelse(positive, per._v, 0.0) * per._c
    else:
        weight = per._c.cast("float64")
    per = per.mutate(_w=weight)
    total = per._w.sum().over(ibis.window())
    before = per._w.sum().over(ibis.cumulative_window(order_by=ibis.desc(per._v))) - per._w
    per = per.mutate(_before=(before / ibis.ifelse(total == 0, ibis.null("float64"), total)))
    limits = [t.cumulative for t in scheme.tiers[:-1]]
    last = len(scheme.tiers)
    by_share = ibis.cases(
        *((per._before < lim, i + 1) for i, lim in enumerate(limits) if lim), else_=last
    )
    per = per.mutate(_rank=ibis.ifelse(positive, by_share, last))
    # The least value of each class: what a customer of the class below must reach.
    floors = per.group_by("_rank").aggregate(_floor=per._v.min())
    floors = floors.select(_rank=floors._rank + 1, _floor=floors._floor)
    table = keyed.join(per.select("_v", "_before", "_rank"), "_v")
    table = table.left_join(floors, "_rank").drop("_rank_right")
    tier = table._rank.cases(*((i + 1, t.key) for i, t in enumerate(scheme.tiers)), else_=None)
    return select_grades(
        table,
        tier=tier,
        rank=table._rank,
        score=table._v,
        details={"share_before": table._before, "next_at": table._floor},
        value=scheme.value,
    )


def texts(scheme: AbcSchemeSpec, table: ir.Table) -> tuple[ir.StringValue, ir.StringValue]:
    """Reasons and gaps of graded customers (``table``: grade columns and details)."""
    import ibis

    value = table.score  # the value as ranked: a missing value is 0
    limits = [t.cumulative for t in scheme.tiers[:-1]]
    limit_text = table.tier_rank.cases(
        *((i + 1, f"< {lim:g}") for i, lim in enumerate(limits) if lim), else_=_("the rest")
    )
    share = (_("; share of value ranked above: {share}% (class limit {limit})")
             if scheme.by == "value"
             else _("; share of customers ranked above: {share}% (class limit {limit})"))
    shared = wording.sentence(share, share=fmt(table.share_before * 100), limit=limit_text)
    why = ibis.cases(
        (value > 0, shared),
        # By value the share is null exactly when the positive total is 0.
        (
            table.share_before.isnull(),
            _("; no customer has a positive value: everyone is in the last class"),
        ),
        else_=_("; not above 0, so it holds no share of value: the last class"),
    )
    name = wording.name(scheme.value)
    reasons = concat([name, "=", fmt(value), why])
    target = table.tier_rank.cases(
        *((i + 2, wording.tier_word(t.key, t.label_text(current())))
          for i, t in enumerate(scheme.tiers)), else_="")
    gap = ibis.ifelse(
        table.next_at.isnull(),
        ibis.null("string"),
        wording.sentence(_("to reach {tier}: {indicator} +{amount}"), tier=target,
                         indicator=name, amount=fmt(table.next_at - value)),
    )
    return reasons, gap


class AbcMethod(DirectMethod[AbcSchemeSpec]):
    """``method: abc``: Pareto classes by cumulative share of a value (or of customers)."""

    name = "abc"
    spec = AbcSchemeSpec
    grade_with = grade
    texts_with = texts

    def reads(self, spec: AbcSchemeSpec) -> list[str]:
        """The value ranked."""
        return [spec.value]

    def tiers(self, spec: AbcSchemeSpec) -> list[TierSpec]:
        """The classes, best first."""
        return list(spec.tiers)

    def criteria(self, spec: AbcSchemeSpec) -> Criteria:
        """The scheme in words (:mod:`tierwise.methods.criteria`)."""
        return criteria.abc(spec)
