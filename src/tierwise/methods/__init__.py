"""Grading methods: each turns the feature table into the same grade table.

Every method implements :class:`~tierwise.methods.protocol.Method` in its own module and is
registered by name in :mod:`tierwise.methods.registry` (the lines below register the built-in
ones). The functions here are thin delegates to the scheme's method, kept for the code and tests
that call them; new code asks :func:`method_of` for the method. See
:mod:`tierwise.methods.base` for the grade table's columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from tierwise.methods import abc, cluster, clv, credit, model, rfm, risk, rules, scorecard
from tierwise.methods.base import GRADE_COLUMNS, TEXT_COLUMNS
from tierwise.methods.fitted import FittedModel
from tierwise.methods.margin import within_margin as within_margin
from tierwise.methods.protocol import Analysis, Method, OutcomeTraining
from tierwise.methods.registry import method_of, register

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import SchemeSpec, TierSpec

# The built-in methods: one line each.
register(rules.RulesMethod())
register(scorecard.ScorecardMethod())
register(rfm.RfmMethod())
register(abc.AbcMethod())
register(cluster.ClusterMethod())
register(clv.ClvMethod())
register(model.ModelMethod())
register(risk.RiskMethod())
register(credit.CreditMethod())


def fit(
    scheme: SchemeSpec,
    features: ir.Table,
    *,
    as_of: date,
    previous_model: FittedModel | None = None,
    training: ir.Table | None = None,
) -> FittedModel | None:
    """Fit what ``scheme``'s method learns from the data; None for methods that learn nothing.

    ``cluster`` learns its clusters and ``clv`` its lifetime models' parameters. The model is
    saved in the run's ``run.json`` (:meth:`FittedModel.to_json`); it is passed back as
    ``previous_model`` to the next run, whose clusters keep their tiers where they match (see
    :mod:`tierwise.methods.cluster_fit`). A CLV model is refitted on every run's data.

    Args:
        scheme: The scheme.
        features: The feature table (one row per customer).
        as_of: The as-of date.
        previous_model: The model of the previous official run, if any.
        training: For a method with a :meth:`~Method.training_need` (a ``model`` scheme with
            an outcome target), the training table the service builds.
    """
    return method_of(scheme).fit(scheme, features, as_of=as_of, previous=previous_model,
                                 training=training)


def grade(
    scheme: SchemeSpec,
    features: ir.Table,
    *,
    as_of: date,
    model: FittedModel | None = None,
) -> ir.Table:
    """Grade every customer of ``features`` with ``scheme``'s method.

    ``model`` is :func:`fit`'s result; a method that learns and gets none fits on ``features``
    first (without a previous model).
    """
    return method_of(scheme).grade(scheme, features, as_of=as_of, model=model)


def with_texts(scheme: SchemeSpec, table: ir.Table, *, as_of: date) -> ir.Table:
    """``table`` (grade columns, details and indicator values) with ``reasons`` and ``gap``."""
    reasons, gap = method_of(scheme).texts(scheme, table, as_of=as_of)
    return table.mutate(reasons=reasons.cast("string"), gap=gap.cast("string"))


def describe_model(scheme: SchemeSpec, fitted: FittedModel | Mapping[str, Any] | None
                   ) -> list[tuple[str, str]]:
    """A fitted model as (label, text) lines for people; none without one.

    ``fitted`` is a model, or its JSON form as ``run.json`` holds it.
    """
    if fitted is None:
        return []
    method = method_of(scheme)
    loaded = fitted if isinstance(fitted, FittedModel) else method.load_model(fitted, None)
    return method.describe(loaded) if loaded is not None else []


def load_model(scheme: SchemeSpec, data: Mapping[str, Any], artifact: bytes | None = None
               ) -> FittedModel | None:
    """A model of ``scheme``'s method from its JSON form (``run.json``) and artifact bytes."""
    return method_of(scheme).load_model(data, artifact)


def score_ranks(scheme: SchemeSpec) -> bool:
    """Whether a higher ``score`` means a better customer (it orders customers within tiers).

    Scorecard points, RFM sums, ABC values and CLV do; a cluster's score is the distance to
    its centre (or the mixture's probability), which says how typical, not how good.
    """
    return method_of(scheme).score_ranks


def scheme_tiers(scheme: SchemeSpec) -> list[TierSpec]:
    """The scheme's tiers, best first (RFM: its segment map; cluster: c1..ck unless given)."""
    return method_of(scheme).tiers(scheme)


def closed_details(scheme: SchemeSpec) -> dict[str, list[str]]:
    """String detail columns of the scheme's grades that hold only listed values (or null)."""
    return method_of(scheme).closed_details(scheme)


def scheme_indicators(scheme: SchemeSpec) -> list[str]:
    """Indicators a scheme reads directly (dependencies are added by the feature compiler)."""
    return method_of(scheme).indicators(scheme)


__all__ = [
    "GRADE_COLUMNS",
    "TEXT_COLUMNS",
    "Analysis",
    "FittedModel",
    "Method",
    "OutcomeTraining",
    "describe_model",
    "fit",
    "grade",
    "load_model",
    "method_of",
    "scheme_indicators",
    "scheme_tiers",
    "score_ranks",
    "with_texts",
    "within_margin",
]
