"""The ``abc`` method: Pareto classes by cumulative share of value, or by share of customers.

Rule. Customers are ordered by the value indicator, largest first (a missing value counts as 0).
For each customer, ``before`` is the share of total value held by customers with a strictly larger
value (``by: value``), or the share of customers with a strictly larger value (``by: customers``).
The customer takes the first class whose ``cumulative`` limit is above ``before``; the last class
takes the rest. So with A = 0.8, A holds the customers who make the first 80% of value, including
the one who crosses 80%, and customers with equal values always share a class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierwise.errors import MethodError
from tierwise.methods.base import concat, fmt, select_grades

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import AbcSchemeSpec


def grade(scheme: AbcSchemeSpec, features: ir.Table) -> ir.Table:
    """Class every customer by its place in the cumulative value (or customer) distribution."""
    import ibis

    value = ibis.coalesce(features[scheme.value].cast("float64"), 0.0)
    keyed = features.mutate(_v=value)
    per = keyed.group_by("_v").aggregate(_c=keyed.count())
    weight = per._v * per._c if scheme.by == "value" else per._c.cast("float64")
    per = per.mutate(_w=weight)
    total = per._w.sum().over(ibis.window())
    before = per._w.sum().over(ibis.cumulative_window(order_by=ibis.desc(per._v))) - per._w
    per = per.mutate(_before=(before / ibis.ifelse(total == 0, ibis.null("float64"), total)))
    limits = [t.cumulative for t in scheme.tiers[:-1]]
    rank = ibis.cases(
        *((per._before < lim, i + 1) for i, lim in enumerate(limits) if lim),
        else_=len(scheme.tiers),
    )
    per = per.mutate(_rank=rank)
    # The least value of each class: what a customer of the class below must reach.
    floors = per.group_by("_rank").aggregate(_floor=per._v.min())
    floors = floors.select(_rank=floors._rank + 1, _floor=floors._floor)
    table = keyed.join(per.select("_v", "_before", "_rank"), "_v")
    table = table.left_join(floors, "_rank").drop("_rank_right")
    tier = table._rank.cases(*((i + 1, t.key) for i, t in enumerate(scheme.tiers)), else_=None)
    what = "value" if scheme.by == "value" else "customers"
    limit_text = table._rank.cases(
        *((i + 1, f"< {lim:g}") for i, lim in enumerate(limits) if lim), else_="the rest"
    )
    reasons = concat(
        [
            f"{scheme.value}=",
            fmt(table._v),
            f"; share of {what} ranked above: ",
            fmt(table._before * 100),
            "% (class limit ",
            limit_text,
            ")",
        ]
    )
    gap = ibis.ifelse(
        table._floor.isnull(),
        ibis.null("string"),
        concat(
            [
                "to reach ",
                table._rank.cases(*((i + 2, t.key) for i, t in enumerate(scheme.tiers)), else_=""),
                f": {scheme.value} +",
                fmt(table._floor - table._v),
            ]
        ),
    )
    return select_grades(
        table,
        tier=tier,
        rank=table._rank,
        score=table._v,
        reasons=reasons,
        gap=gap,
        details={"share_before": table._before},
    )


def check_total(total: float, scheme_value: str) -> None:
    """Refuse to rank when no customer has any value."""
    if total <= 0:
        raise MethodError(
            f"abc: the total of {scheme_value!r} is {total:g}, so no customer holds "
            "a share of it; check the indicator's window and source, or use "
            "`by: customers`"
        )
