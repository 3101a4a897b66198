"""Scheme sections of the methods that learn from the data: cluster, clv and model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field, field_validator, model_validator

from tierwise.i18n import _, ngettext
from tierwise.spec.base import Spec, window_problem
from tierwise.spec.schemes import (
    IndicatorRef,
    SchemeBase,
    SchemeContext,
    SchemeProblem,
    TierSpec,
    cutoff_problems,
    tier_key_problems,
)

#: The most clusters a cluster scheme may have (``k`` and the top of ``k_range``).
MAX_CLUSTERS = 20


class ClusterSchemeSpec(SchemeBase):
    """Clusters of customers learned from their indicators, ranked by the mean of a value.

    The clusters are fitted on the feature table (k-means or a Gaussian mixture, see
    :mod:`tierwise.methods.cluster_fit`) and named by the mean of ``value`` per cluster, best first:
    ``tiers`` label them in that order, or the tiers are generated as ``c1`` .. ``ck``.
    """

    method: Literal["cluster"]
    indicators: list[str] = Field(min_length=1, description="indicators the clusters are fitted on")
    algorithm: Literal["kmeans", "gmm"] = Field(
        default="kmeans", description="kmeans, or gmm (a Gaussian mixture)"
    )
    k: int | None = Field(
        default=None,
        ge=2,
        le=MAX_CLUSTERS,
        description="number of clusters; null: chosen in k_range (silhouette for kmeans, BIC for gmm)",
    )
    k_range: tuple[int, int] | None = Field(
        default=None, description="[least, most] clusters tried when k is null (default [2, 8])"
    )
    transform: dict[str, Literal["log1p", "none"]] | None = Field(
        default=None, description="per indicator: log1p (signed) or none; overrides `log`"
    )
    log: bool = Field(default=False, description="log1p-transform every indicator")
    scale: Literal["standard", "robust", "none"] = Field(
        default="standard",
        description="standard (mean, standard deviation), robust (median, IQR) or none",
    )
    covariance: Literal["full", "diag"] | None = Field(
        default=None, description="gmm: covariance of each component (default full)"
    )
    seed: int = Field(default=0, ge=0, description="seed of the sample and of the fit")
    value: str = Field(description="value indicator: clusters are ranked by its mean, best first")
    tiers: list[TierSpec] | None = Field(
        default=None,
        description="labels of the clusters in value order (needs a fixed k; default c1..ck)",
    )
    sample: int = Field(
        default=200_000, ge=20, description="most customers the clusters are fitted on (seeded)"
    )

    @field_validator("indicators")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        twice = sorted({n for n in value if value.count(n) > 1})
        if twice:
            raise ValueError(_("indicator {name} is listed twice; list each indicator once").format(
                name=repr(twice[0])))
        return value

    @field_validator("k_range")
    @classmethod
    def _range(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None:
            low, high = value
            if not 2 <= low <= high <= MAX_CLUSTERS:
                raise ValueError(
                    _("k_range must be [least, most] with 2 <= least <= most <= {most}, got "
                      "[{low}, {high}]").format(most=MAX_CLUSTERS, low=low, high=high)
                )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ClusterSchemeSpec:
        if self.k is not None and self.k_range is not None:
            raise ValueError(
                _("give `k` (a fixed number of clusters) or `k_range` (the numbers tried), not "
                  "both")
            )
        for name in self.transform or {}:
            if name not in self.indicators:
                raise ValueError(
                    _("transform names {name}, which is not among the clustered `indicators` "
                      "({indicators}); add it there or remove the transform").format(
                          name=repr(name), indicators=_(", ").join(self.indicators))
                )
        if self.covariance is not None and self.algorithm != "gmm":
            raise ValueError(_("`covariance` applies to algorithm gmm only; remove it for kmeans"))
        if self.tiers is not None:
            if self.k is None:
                raise ValueError(
                    _("`tiers` label the clusters in value order, so they need a fixed `k`; set "
                      "k: {n} or remove `tiers` (generated tiers are c1..ck)").format(
                          n=len(self.tiers))
                )
            if len(self.tiers) != self.k:
                raise ValueError(
                    ngettext("tiers: {n} tier for k: {k} clusters; give one tier per cluster, "
                             "best (highest mean value) first",
                             "tiers: {n} tiers for k: {k} clusters; give one tier per cluster, "
                             "best (highest mean value) first", len(self.tiers)).format(
                                 n=len(self.tiers), k=self.k)
                )
            for i, tier in enumerate(self.tiers):
                used = [f for f in ("when", "min_score", "top_share", "cumulative")
                        if getattr(tier, f) is not None]
                if used:
                    raise ValueError(
                        _("tiers[{i}].{field}: a cluster tier takes no threshold (its "
                          "customers are those nearest its cluster); remove it").format(
                              i=i, field=used[0])
                    )
        if self.stability is not None and self.stability.downgrade_margin > 0:
            raise ValueError(
                _("stability.downgrade_margin needs fixed thresholds, but method 'cluster' "
                  "assigns each customer to the nearest learned cluster, so there is no threshold "
                  "to loosen; remove `downgrade_margin` and use `downgrade_after: 2` instead")
            )
        return self

    def indicator_refs(self) -> list[IndicatorRef]:
        """The value, then the clustered indicators."""
        return [*super().indicator_refs(),
                *((("indicators", i), n, "a clustered indicator")
                  for i, n in enumerate(self.indicators))]

    def problems(self, context: SchemeContext) -> Iterator[SchemeProblem]:
        """Tier keys of the clusters' labels, when given."""
        del context
        yield from tier_key_problems(self.tiers or [])

    def clusters_range(self) -> tuple[int, int]:
        """The numbers of clusters tried: ``(k, k)`` when fixed, else ``k_range`` ([2, 8])."""
        if self.k is not None:
            return (self.k, self.k)
        return self.k_range or (2, 8)

    def transform_of(self, indicator: str) -> Literal["log1p", "none"]:
        """The transform of a clustered indicator (``transform``, else ``log``)."""
        given = (self.transform or {}).get(indicator)
        if given is not None:
            return given
        return "log1p" if self.log else "none"


class ClvSchemeSpec(SchemeBase):
    """Customer lifetime value from a buy-till-you-die model and Gamma-Gamma spend.

    The indicators give each customer's history: purchase occasions, days since the first and
    the last purchase, spend so far (and optionally the first purchase's spend, to average the
    repeat purchases only, as Gamma-Gamma was published). See :mod:`tierwise.methods.clv`.
    """

    method: Literal["clv"]
    model: Literal["bgnbd", "paretonbd"] = Field(
        default="bgnbd", description="transaction model: BG/NBD or Pareto/NBD"
    )
    purchases: str = Field(description="indicator: purchase occasions so far (e.g. distinct days)")
    first: str = Field(description="indicator: days since the first purchase (days_since_first)")
    last: str = Field(description="indicator: days since the last purchase (days_since_last)")
    spend: str = Field(description="indicator: spend over the same history")
    first_spend: str | None = Field(
        default=None, description="indicator: the first purchase's spend (agg: first)"
    )
    horizon: str = Field(default="12m", description="future valued, e.g. 12m or 39w")
    discount_rate: float = Field(
        default=0.01, ge=0, lt=1, description="monthly discount rate of the CLV (0.01 ~ 12.7%/year)"
    )
    unit_days: int = Field(default=7, ge=1, le=31, description="days in the model's time unit")
    rank_by: Literal["clv", "p_alive", "expected_purchases", "predicted_value"] = Field(
        default="clv", description="the figure the tiers cut (p_alive for churn risk)"
    )
    interval_rows: int = Field(
        default=20_000, ge=0,
        description="90% CLV intervals when there are at most this many distinct summaries",
    )
    seed: int = Field(default=0, ge=0, description="seed of the interval's parameter draws")
    penalizer: float = Field(
        default=0.0, ge=0, description="L2 penalty on the parameters, for data the models barely "
        "identify (e.g. no dropout seen yet); 0 is plain maximum likelihood",
    )
    tiers: list[TierSpec] = Field(min_length=2)

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, value: str) -> str:
        problem = window_problem(value, horizon=True)
        if problem is not None:
            raise ValueError(problem)
        return value

    def indicator_refs(self) -> list[IndicatorRef]:
        """The value, then the purchase history's indicators."""
        fields = (("purchases", self.purchases), ("first", self.first), ("last", self.last),
                  ("spend", self.spend), ("first_spend", self.first_spend))
        return [*super().indicator_refs(),
                *(((field,), name, f"the clv {field}") for field, name in fields if name)]

    def problems(self, context: SchemeContext) -> Iterator[SchemeProblem]:
        """Tier keys and cut-offs."""
        del context
        yield from tier_key_problems(self.tiers)
        yield from cutoff_problems(self.tiers)


class ModelTargetSpec(Spec):
    """What a ``model`` scheme learns: expert labels, or a future outcome's top share."""

    labels: str | None = Field(
        default=None, description="indicator with expert-assigned tier keys (training rows: "
        "customers with a label)",
    )
    outcome: str | None = Field(
        default=None, description="aggregate indicator whose window is the horizon: learn who "
        "reaches its top `top_share` over the next window",
    )
    top_share: float = Field(default=0.2, gt=0, lt=1, description="outcome: the top share")
    event: Literal["top", "none"] = Field(
        default="top", description="outcome: `top` learns who reaches its top share; `none` "
        "learns who has none of it over the window (churn: e.g. no order in 90 days)",
    )

    @model_validator(mode="after")
    def _one(self) -> ModelTargetSpec:
        if (self.labels is None) == (self.outcome is None):
            raise ValueError(_("give the target as `labels:` (an indicator of tier keys) or as "
                               "`outcome:` (an aggregate indicator), exactly one of them"))
        return self


class ModelSchemeSpec(SchemeBase):
    """Tiers from a supervised classifier (scikit-learn), trained on every run's data.

    See :mod:`tierwise.methods.model`. With ``labels`` the tiers are the labels' classes (each
    customer gets the most probable); with ``outcome`` they cut the probability of reaching the
    outcome's top share by ``min_score`` or ``top_share``.
    """

    method: Literal["model"]
    features: list[str] = Field(min_length=1, description="indicators the model reads")
    target: ModelTargetSpec
    algorithm: Literal["gradient_boosting", "logistic"] = "gradient_boosting"
    calibration: Literal["sigmoid", "isotonic"] = Field(
        default="sigmoid", description="how probabilities are calibrated (cross-validated)"
    )
    folds: int = Field(default=5, ge=2, le=20, description="cross-validation folds")
    seed: int = Field(default=0, ge=0)
    sample: int = Field(
        default=200_000, ge=100,
        description="most customers the model trains on: a sample stratified by class "
        "(seeded); every customer is graded")
    tiers: list[TierSpec] = Field(min_length=2)

    def indicator_refs(self) -> list[IndicatorRef]:
        """The value, the features, then the outcome (labels need not be numbers)."""
        refs = [*super().indicator_refs(),
                *((("features", i), n, "a model feature") for i, n in enumerate(self.features))]
        if self.target.outcome:
            refs.append((("target", "outcome"), self.target.outcome, "the outcome"))
        return refs

    def problems(self, context: SchemeContext) -> Iterator[SchemeProblem]:
        """Tier keys; an outcome's horizon and cut-offs, or labels without cut-offs."""
        yield from tier_key_problems(self.tiers)
        outcome, labels = self.target.outcome, self.target.labels
        if outcome:
            yield from cutoff_problems(self.tiers)
            if outcome in context.indicators and outcome not in context.horizons:
                yield (("target", "outcome"),
                       f"the outcome {outcome!r} must be an aggregate with a window and no "
                       "offset: the window is the horizon the model predicts")
        elif any(t.min_score is not None or t.top_share is not None for t in self.tiers):
            yield (("tiers",), "with `labels` each customer gets the most probable tier; remove "
                   "`min_score` / `top_share` from the tiers")
        elif labels not in context.indicators:
            yield ("target", "labels"), f"labels {labels!r} is not an indicator"
