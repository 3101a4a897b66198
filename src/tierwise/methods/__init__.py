"""Grading methods: each turns the feature table into the same grade table.

See :mod:`tierwise.methods.base` for the grade table's columns.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from tierwise.methods import abc, rfm, rules, scorecard
from tierwise.methods.base import GRADE_COLUMNS, TEXT_COLUMNS
from tierwise.methods.margin import within_margin as within_margin
from tierwise.spec.models import (
    AbcSchemeSpec,
    RfmSchemeSpec,
    RulesSchemeSpec,
    ScorecardSchemeSpec,
    TierSpec,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import SchemeSpec


def grade(scheme: SchemeSpec, features: ir.Table, *, as_of: date) -> ir.Table:
    """Grade every customer of ``features`` with ``scheme``'s method."""
    if isinstance(scheme, RulesSchemeSpec):
        return rules.grade(scheme, features, as_of=as_of)
    if isinstance(scheme, ScorecardSchemeSpec):
        return scorecard.grade(scheme, features)
    if isinstance(scheme, RfmSchemeSpec):
        return rfm.grade(scheme, features)
    return abc.grade(scheme, features)


def with_texts(scheme: SchemeSpec, table: ir.Table, *, as_of: date) -> ir.Table:
    """``table`` (grade columns, details and indicator values) with ``reasons`` and ``gap``."""
    if isinstance(scheme, RulesSchemeSpec):
        reasons, gap = rules.texts(scheme, table, as_of=as_of)
    elif isinstance(scheme, ScorecardSchemeSpec):
        reasons, gap = scorecard.texts(scheme, table)
    elif isinstance(scheme, RfmSchemeSpec):
        reasons, gap = rfm.texts(scheme, table)
    else:
        reasons, gap = abc.texts(scheme, table)
    return table.mutate(reasons=reasons.cast("string"), gap=gap.cast("string"))


def scheme_tiers(scheme: SchemeSpec) -> list[TierSpec]:
    """The scheme's tiers, best first (RFM tiers come from its segment map)."""
    if isinstance(scheme, RfmSchemeSpec):
        return rfm.tiers(scheme)
    return list(scheme.tiers)


def scheme_indicators(scheme: SchemeSpec) -> list[str]:
    """Indicators a scheme reads directly (dependencies are added by the feature compiler)."""
    from tierwise import expr

    names: list[str] = []
    if isinstance(scheme, RulesSchemeSpec):
        for tier in scheme.tiers:
            if tier.when:
                names += sorted(expr.names(expr.parse(tier.when)))
    elif isinstance(scheme, ScorecardSchemeSpec):
        names += [d.indicator for d in scheme.dimensions]
    elif isinstance(scheme, RfmSchemeSpec):
        names += [scheme.recency, scheme.frequency, scheme.monetary]
    elif isinstance(scheme, AbcSchemeSpec):
        names.append(scheme.value)
    if scheme.value:
        names.append(scheme.value)
    return list(dict.fromkeys(names))


__all__ = [
    "GRADE_COLUMNS",
    "TEXT_COLUMNS",
    "grade",
    "scheme_indicators",
    "scheme_tiers",
    "with_texts",
]
