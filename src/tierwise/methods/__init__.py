"""Grading methods: each turns the feature table into the same grade table.

See :mod:`tierwise.methods.base` for the grade table's columns.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from tierwise.methods import abc, cluster, cluster_fit, clv, model, rfm, rules, scorecard
from tierwise.methods.base import GRADE_COLUMNS, TEXT_COLUMNS
from tierwise.methods.margin import within_margin as within_margin
from tierwise.spec.models import (
    AbcSchemeSpec,
    ClusterSchemeSpec,
    ClvSchemeSpec,
    ModelSchemeSpec,
    RfmSchemeSpec,
    RulesSchemeSpec,
    ScorecardSchemeSpec,
    TierSpec,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import SchemeSpec


def fit(
    scheme: SchemeSpec,
    features: ir.Table,
    *,
    as_of: date,
    previous_model: dict[str, Any] | None = None,
    training: ir.Table | None = None,
) -> dict[str, Any] | None:
    """Fit what ``scheme``'s method learns from the data; None for methods that learn nothing.

    ``cluster`` learns its clusters and ``clv`` its lifetime models' parameters. The model is
    JSON-ready and saved in the run's ``run.json``; it is passed back as ``previous_model`` to
    the next run, whose clusters keep their tiers where they match (see
    :mod:`tierwise.methods.cluster_fit`). A CLV model is refitted on every run's data.

    Args:
        scheme: The scheme.
        features: The feature table (one row per customer).
        as_of: The as-of date.
        previous_model: The model of the previous official run, if any.
        training: For a ``model`` scheme with an outcome target, the training table the
            service builds (features as of T - horizon and the realised ``_label``).
    """
    del as_of  # part of the signature: a method may learn from dates (e.g. CLV)
    if isinstance(scheme, ClusterSchemeSpec):
        return cluster_fit.fit(scheme, features, previous_model=previous_model)
    if isinstance(scheme, ClvSchemeSpec):
        return clv.fit(scheme, features)
    if isinstance(scheme, ModelSchemeSpec):
        return model.fit(scheme, features, training=training, previous_model=previous_model)
    return None


def grade(
    scheme: SchemeSpec,
    features: ir.Table,
    *,
    as_of: date,
    model: dict[str, Any] | None = None,
) -> ir.Table:
    """Grade every customer of ``features`` with ``scheme``'s method.

    ``model`` is :func:`fit`'s result; a method that learns and gets none fits on ``features``
    first (without a previous model).
    """
    if isinstance(scheme, RulesSchemeSpec):
        return rules.grade(scheme, features, as_of=as_of)
    if isinstance(scheme, ScorecardSchemeSpec):
        return scorecard.grade(scheme, features)
    if isinstance(scheme, RfmSchemeSpec):
        return rfm.grade(scheme, features)
    if isinstance(scheme, ClusterSchemeSpec):
        fitted = model if model is not None else cluster_fit.fit(scheme, features)
        return cluster.grade(scheme, features, fitted)
    if isinstance(scheme, ClvSchemeSpec):
        return clv.grade(scheme, features, model if model is not None else clv.fit(scheme, features))
    if isinstance(scheme, ModelSchemeSpec):
        from tierwise.methods import model as model_method

        fitted = model if model is not None else model_method.fit(scheme, features)
        return model_method.grade(scheme, features, fitted)
    return abc.grade(scheme, features)


def with_texts(scheme: SchemeSpec, table: ir.Table, *, as_of: date) -> ir.Table:
    """``table`` (grade columns, details and indicator values) with ``reasons`` and ``gap``."""
    if isinstance(scheme, RulesSchemeSpec):
        reasons, gap = rules.texts(scheme, table, as_of=as_of)
    elif isinstance(scheme, ScorecardSchemeSpec):
        reasons, gap = scorecard.texts(scheme, table)
    elif isinstance(scheme, RfmSchemeSpec):
        reasons, gap = rfm.texts(scheme, table)
    elif isinstance(scheme, ClusterSchemeSpec):
        reasons, gap = cluster.texts(scheme, table)
    elif isinstance(scheme, ClvSchemeSpec):
        reasons, gap = clv.texts(scheme, table)
    elif isinstance(scheme, ModelSchemeSpec):
        reasons, gap = model.texts(scheme, table)
    else:
        reasons, gap = abc.texts(scheme, table)
    return table.mutate(reasons=reasons.cast("string"), gap=gap.cast("string"))


def describe_model(scheme: SchemeSpec, fitted: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A fitted model (see :func:`fit`) as (label, text) lines for people; none without one."""
    if fitted is None:
        return []
    if isinstance(scheme, ClusterSchemeSpec):
        return cluster.describe(fitted)
    if isinstance(scheme, ClvSchemeSpec):
        return clv.describe(fitted)
    if isinstance(scheme, ModelSchemeSpec):
        return model.describe(fitted)
    return []


def score_ranks(scheme: SchemeSpec) -> bool:
    """Whether a higher ``score`` means a better customer (it orders customers within tiers).

    Scorecard points, RFM sums, ABC values and CLV do; a cluster's score is the distance to
    its centre (or the mixture's probability), which says how typical, not how good.
    """
    return not isinstance(scheme, RulesSchemeSpec | ClusterSchemeSpec)


def scheme_tiers(scheme: SchemeSpec) -> list[TierSpec]:
    """The scheme's tiers, best first (RFM: its segment map; cluster: c1..ck unless given)."""
    if isinstance(scheme, RfmSchemeSpec):
        return rfm.tiers(scheme)
    if isinstance(scheme, ClusterSchemeSpec):
        return cluster_fit.tiers(scheme)
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
    elif isinstance(scheme, ClusterSchemeSpec):
        names += scheme.indicators
    elif isinstance(scheme, ClvSchemeSpec):
        names += [scheme.purchases, scheme.first, scheme.last, scheme.spend]
        names += [scheme.first_spend] if scheme.first_spend else []
    elif isinstance(scheme, ModelSchemeSpec):
        names += scheme.features
        names += [scheme.target.labels] if scheme.target.labels else []
    if scheme.value:
        names.append(scheme.value)
    return list(dict.fromkeys(names))


__all__ = [
    "GRADE_COLUMNS",
    "TEXT_COLUMNS",
    "describe_model",
    "fit",
    "grade",
    "scheme_indicators",
    "scheme_tiers",
    "score_ranks",
    "with_texts",
]
