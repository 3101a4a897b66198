"""The ``credit`` scheme section: a credit scorecard (资信评价) in points.

Fitted from a labelled outcome (a customer with any of ``target.outcome`` over its window is
"bad"), by weight-of-evidence binning, a logistic regression and points scaling; or graded by a
frozen ``points_table`` without refitting::

    credit_grade:
      method: credit
      characteristics: [loan_to_assets, txns_6m, tenure_years]
      target: {outcome: arrears_12m}
      scaling: {points: 600, odds: 50, pdo: 20}   # 600 points at 50:1 good:bad, +20 doubles it
      tiers:
        - {key: A, min_score: 620}
        - {key: B, min_score: 580}
        - {key: C}

``tierwise credit table S --yaml`` prints a run's fitted table in the form ``points_table:``
takes, so compliance can read it and freeze it as a version.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field, model_validator

from tierwise.i18n import _
from tierwise.spec.base import Spec
from tierwise.spec.schemes import (
    IndicatorRef,
    SchemeBase,
    SchemeContext,
    SchemeProblem,
    TierSpec,
    cutoff_problems,
    tier_key_problems,
)


class ScalingSpec(Spec):
    """Points scaling: ``points`` at good:bad odds of ``odds``, ``pdo`` more points per doubling."""

    points: float = Field(default=600.0, description="the score at the reference odds")
    odds: float = Field(default=50.0, gt=0, description="reference good:bad odds")
    pdo: float = Field(default=20.0, gt=0, description="points to double the odds")


class BinningSpec(Spec):
    """How characteristics are binned (optbinning's optimal binning)."""

    max_bins: int = Field(default=6, ge=2, le=20)
    min_bin_share: float = Field(default=0.05, gt=0, lt=0.5,
                                 description="the smallest share of customers in a bin")
    monotonic: Literal["auto", "ascending", "descending", "none"] = Field(
        default="auto", description="the trend of the bad rate over the bins (auto: the better "
        "of ascending and descending)")


class CreditTargetSpec(Spec):
    """The outcome a customer is "bad" on: any of it over its window (the horizon)."""

    outcome: str = Field(description="aggregate indicator with a window, e.g. arrears_12m")


class PointsBin(Spec):
    """One bin: from ``lower`` (null: no lower bound) to the next bin's lower bound."""

    lower: float | None = None
    points: float
    share: float | None = Field(default=None, ge=0, le=1,
                                description="share of the development sample in the bin")


class CharacteristicPoints(Spec):
    """A characteristic's bins with their points, and the points of a missing value."""

    indicator: str
    bins: list[PointsBin] = Field(min_length=1)
    missing: float = Field(description="points of a customer without a value")
    missing_share: float | None = Field(default=None, ge=0, le=1)
    iv: float | None = Field(default=None, ge=0, description="information value when fitted")

    @model_validator(mode="after")
    def _ordered(self) -> CharacteristicPoints:
        lows = [b.lower for b in self.bins]
        if lows[0] is not None or any(low is None for low in lows[1:]):
            raise ValueError(_("characteristic {name}: the first bin starts with `lower: null` "
                               "and only the first").format(name=repr(self.indicator)))
        given = [low for low in lows[1:] if low is not None]
        if given != sorted(given) or len(set(given)) != len(given):
            raise ValueError(_("characteristic {name}: bin lower bounds must increase, got "
                               "{lows}").format(name=repr(self.indicator), lows=given))
        return self


class ScoreBand(Spec):
    """The development sample's share of customers from ``lower`` points up (for the PSI)."""

    lower: float | None = None
    share: float = Field(ge=0, le=1)


class PointsTableSpec(Spec):
    """A frozen points table: grades without refitting."""

    characteristics: list[CharacteristicPoints] = Field(min_length=1)
    scores: list[ScoreBand] = Field(default_factory=list,
                                    description="development score distribution, for the PSI")


class CreditSchemeSpec(SchemeBase):
    """Scorecard points from binned characteristics; grades cut the points by ``min_score``."""

    method: Literal["credit"]
    characteristics: list[str] = Field(min_length=1, description="indicators binned")
    target: CreditTargetSpec | None = Field(
        default=None, description="what makes a customer bad (needed unless points_table)")
    scaling: ScalingSpec = Field(default_factory=ScalingSpec)
    binning: BinningSpec = Field(default_factory=BinningSpec)
    reasons: int = Field(default=3, ge=1, le=5,
                         description="reason codes per customer: the characteristics that cost "
                         "the most points")
    holdout: float = Field(default=0.3, ge=0.1, le=0.5,
                           description="share of the training customers held out for AUC and KS")
    seed: int = Field(default=0, ge=0)
    points_table: PointsTableSpec | None = Field(
        default=None, description="a frozen points table (`tierwise credit table S --yaml`)")
    tiers: list[TierSpec] = Field(min_length=2)

    def indicator_refs(self) -> list[IndicatorRef]:
        """The value, the characteristics, then the outcome."""
        refs = [*super().indicator_refs(),
                *((("characteristics", i), n, "a credit characteristic")
                  for i, n in enumerate(self.characteristics))]
        if self.target is not None:
            refs.append((("target", "outcome"), self.target.outcome, "the credit outcome"))
        return refs

    def problems(self, context: SchemeContext) -> Iterator[SchemeProblem]:
        """Tier keys and cut-offs, the outcome's horizon, a frozen table's characteristics."""
        yield from tier_key_problems(self.tiers)
        if any(t.top_share is not None for t in self.tiers):
            yield (("tiers",), _("credit grades are cut by points (`min_score`), not by "
                                 "`top_share`"))
        else:
            yield from cutoff_problems(self.tiers)
        if len(set(self.characteristics)) != len(self.characteristics):
            yield (("characteristics",), _("a characteristic is listed twice; list each once"))
        if self.points_table is None and self.target is None:
            yield (("target",), _("a credit scheme learns from `target: {outcome: ...}` (e.g. "
                                  "arrears_12m), or grades by a frozen `points_table:`"))
        outcome = self.target.outcome if self.target else None
        if outcome and outcome in context.indicators and outcome not in context.horizons:
            yield (("target", "outcome"),
                   _("the outcome {name} must be an aggregate with a window and no offset: the "
                     "window is the horizon a customer is bad over").format(name=repr(outcome)))
        if self.points_table is not None:
            tabled = [c.indicator for c in self.points_table.characteristics]
            if sorted(tabled) != sorted(self.characteristics):
                yield (("points_table",),
                       _("the points table scores {tabled}, the scheme lists {listed}; make "
                         "them the same").format(tabled=_(", ").join(tabled),
                                                 listed=_(", ").join(self.characteristics)))

    def margin_refusal(self) -> str | None:
        """Points cut-offs can be loosened."""
        return None


__all__ = ["BinningSpec", "CharacteristicPoints", "CreditSchemeSpec", "CreditTargetSpec",
           "PointsBin", "PointsTableSpec", "ScalingSpec", "ScoreBand"]
