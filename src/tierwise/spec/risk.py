"""The ``risk`` scheme section: an anti-money-laundering customer risk rating.

Compliance declares weighted risk factors (a table of points per value of a customer attribute,
or bins of a number), levels cut by score, rule floors and ceilings, and the review cadence per
level::

    aml_risk:
      method: risk
      factors:
        - {indicator: occupation, weight: 30, default: 100, file: factors/occupation.csv}
        - {indicator: pep, weight: 20, table: {"true": 100, "false": 0}, default: 0}
        - {indicator: cash_share, weight: 50, bins: [[null, 0], [0.3, 50], [0.6, 100]]}
      tiers:
        - {key: high, min_score: 60, review_months: 6, due_diligence: enhanced}
        - {key: medium, min_score: 30, review_months: 12}
        - {key: low, review_months: 24, due_diligence: simplified}
      floors:
        - {when: pep, at_least: high, reason: politically exposed person}
      reviews: {last_review: last_kyc_review, onboarded: open_date, first_rating_days: 10}

Levels are listed highest risk first (rank 1 is the highest risk, so "up" is riskier). A factor
table in a CSV file (columns ``value,points``) is read into ``table`` when the project loads, so
a stored version keeps the points it graded with.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from tierwise.i18n import _
from tierwise.spec.base import Label, Spec, as_label
from tierwise.spec.calendar import CalendarSpec, inline_calendar, read_pairs
from tierwise.spec.schemes import (
    IndicatorRef,
    SchemeBase,
    SchemeContext,
    SchemeProblem,
    TierSpec,
    check_bins,
    condition_problems,
    cutoff_problems,
    tier_key_problems,
)
from tierwise.spec.schemes import Path as FieldPath

#: The fewest levels a risk rating may have (regulators ask for at least three).
MIN_LEVELS = 3


class FactorSpec(Spec):
    """One weighted risk factor: an indicator mapped onto 0..100 points.

    ``table`` maps a value (written as text: ``"true"``, ``"CN"``, ``"3"``; matched whatever
    its case and surrounding spaces) to points; a value the table does not list, and a missing
    value, score ``default``. ``bins`` score a number: the points of the last bin whose lower
    bound it reaches (``default`` below the first bin and when missing).
    """

    indicator: str
    weight: float = Field(gt=0)
    label: Label | None = None
    table: dict[str, float] | None = Field(
        default=None, description="points 0..100 per value of the indicator")
    file: str | None = Field(
        default=None, description="a CSV with columns value,points, read into `table` at load")
    bins: list[tuple[float | None, float]] | None = Field(
        default=None, description="[[lower bound or null, points], ...], ascending bounds")
    default: float | None = Field(
        default=None, ge=0, le=100,
        description="points of a value the table does not list, or a missing value")

    _label_in = field_validator("label", mode="before")(lambda cls, v: as_label(v))

    @model_validator(mode="after")
    def _one_scoring(self) -> FactorSpec:
        if self.file is not None and self.table is None:
            raise ValueError(_("factor {name}: its points file {file} was not read; files are "
                               "read when the project loads from its folder, so validate the "
                               "whole tierwise.yaml, or give the points in `table:`").format(
                                   name=repr(self.indicator), file=repr(self.file)))
        if (self.table is None) == (self.bins is None):
            raise ValueError(_("factor {name}: give either `table:` (points per value) or "
                               "`bins:` (points per range of a number)").format(
                                   name=repr(self.indicator)))
        points = [*(self.table or {}).values(), *(p for _low, p in self.bins or [])]
        wrong = [p for p in points if not 0 <= p <= 100]
        if wrong:
            raise ValueError(_("factor {name}: points run from 0 to 100, got {value}").format(
                name=repr(self.indicator), value=f"{wrong[0]:g}"))
        if self.table is not None and self.default is None:
            raise ValueError(_("factor {name}: say how many points a value its table does not "
                               "list scores, e.g. `default: 100` to treat an unknown value as "
                               "the highest risk").format(name=repr(self.indicator)))
        if self.bins is not None and self.default is None:
            raise ValueError(_("factor {name}: say how many points a missing value scores, e.g. "
                               "`default: 100` to treat it as the highest risk").format(
                                   name=repr(self.indicator)))
        lowered = [key.strip().lower() for key in self.table or {}]
        if len(set(lowered)) != len(lowered):
            raise ValueError(_("factor {name}: two values of its table differ only in case or "
                               "spaces; values match whatever their case, so keep one").format(
                                   name=repr(self.indicator)))
        if self.bins is not None:
            check_bins(self.bins)
        return self

    def label_text(self, lang: str = "en") -> str | None:
        """The factor's label in ``lang``; None when it has none (the indicator's label shows)."""
        return self.label.text(lang) if self.label else None


class LimitSpec(Spec):
    """A floor (``at_least``) or ceiling (``at_most``) on the level, when a condition holds."""

    when: str = Field(description="the condition, e.g. pep or sanctioned_tie")
    at_least: str | None = Field(default=None, description="floors: the lowest level allowed")
    at_most: str | None = Field(default=None, description="ceilings: the highest level allowed")
    reason: Label | None = Field(default=None, description="why, in words (shown in reasons)")

    _label_in = field_validator("reason", mode="before")(lambda cls, v: as_label(v))

    def level(self) -> str:
        """The level the rule names."""
        return self.at_least or self.at_most or ""

    def reason_text(self, lang: str = "en") -> str:
        """The rule's reason in ``lang``, or its condition when it gives none."""
        return self.reason.text(lang) if self.reason else self.when


class RiskLevelSpec(TierSpec):
    """A risk level: a tier with its review cadence and the due diligence it calls for."""

    review_months: int = Field(default=12, ge=1, le=120,
                               description="months between two reviews of a customer at this level")
    due_diligence: Literal["enhanced", "standard", "simplified"] = "standard"


class ReviewSpec(Spec):
    """When customers are due for review, and the first-rating deadline of new customers."""

    last_review: str | None = Field(
        default=None, description="date indicator: the customer's last review (KYC refresh)")
    onboarded: str | None = Field(
        default=None, description="date indicator: when the customer was onboarded")
    first_rating_days: int = Field(
        default=10, ge=0, le=250, description="working days from onboarding to the first rating")
    due_soon_days: int = Field(
        default=30, ge=0, le=366, description="days ahead a review counts as due soon")
    calendar: CalendarSpec = Field(default_factory=CalendarSpec)


class RiskSchemeSpec(SchemeBase):
    """Weighted risk factors summed into a 0..100 score, levels by cut-off, floors and ceilings.

    The level by score is lowered to each matching ceiling's level, then raised to each
    matching floor's level: a floor always wins (over the score and over a ceiling).
    """

    method: Literal["risk"]
    factors: list[FactorSpec] = Field(min_length=1)
    tiers: list[RiskLevelSpec] = Field(min_length=2)
    floors: list[LimitSpec] = Field(default_factory=list)
    ceilings: list[LimitSpec] = Field(default_factory=list)
    reviews: ReviewSpec = Field(default_factory=ReviewSpec)

    def indicator_refs(self) -> list[IndicatorRef]:
        """The value, then each factor's indicator that scores a number (bins)."""
        return [*super().indicator_refs(),
                *((("factors", i, "indicator"), f.indicator, "a risk factor")
                  for i, f in enumerate(self.factors) if f.bins is not None)]

    def reads(self) -> list[str]:
        """Every indicator the scheme reads: factors, then the review dates."""
        dates = [self.reviews.last_review, self.reviews.onboarded]
        return list(dict.fromkeys([*(f.indicator for f in self.factors),
                                   *(d for d in dates if d)]))

    def problems(self, context: SchemeContext) -> Iterator[SchemeProblem]:
        """Levels, weights, unknown indicators, the limits' conditions and levels."""
        yield from tier_key_problems(list[TierSpec](self.tiers))
        if len(self.tiers) < MIN_LEVELS:
            yield (("tiers",), _("a risk rating needs at least {n} levels (e.g. high, medium, "
                                 "low); add a level").format(n=MIN_LEVELS))
        if any(t.top_share is not None for t in self.tiers):
            yield (("tiers",), _("risk levels are cut by `min_score`, not by `top_share`: a "
                                 "customer's risk does not depend on how many others there are"))
        else:
            yield from cutoff_problems(list(self.tiers))
        total = sum(f.weight for f in self.factors)
        if abs(total - 1) > 1e-9 and abs(total - 100) > 1e-6:
            yield (("factors",), _("factor weights add up to {total}; make them add up to 1 (or "
                                   "100)").format(total=f"{total:g}"))
        seen: set[str] = set()
        for i, factor in enumerate(self.factors):
            if factor.indicator in seen:
                yield (("factors", i, "indicator"),
                       _("indicator {name} is scored twice; keep one factor for it").format(
                           name=repr(factor.indicator)))
            seen.add(factor.indicator)
            if factor.table is not None and factor.indicator not in context.indicators:
                yield (("factors", i, "indicator"), _unknown(factor.indicator, context))
        yield from self._limit_problems(context)
        yield from self._review_problems(context)

    def _limit_problems(self, context: SchemeContext) -> Iterator[SchemeProblem]:
        keys = [t.key for t in self.tiers]
        for part, field in (("floors", "at_least"), ("ceilings", "at_most")):
            for i, limit in enumerate(getattr(self, part)):
                at: FieldPath = (part, i)
                level = getattr(limit, field)
                other = "at_most" if field == "at_least" else "at_least"
                if getattr(limit, other) is not None or level is None:
                    yield at, _("{part} take `{field}:` (a level key)").format(part=part,
                                                                              field=field)
                elif level not in keys:
                    yield (*at, field), _("level {level} is not a level of this scheme; levels "
                                          "are {keys}").format(level=repr(level),
                                                               keys=_(", ").join(keys))
                yield from condition_problems(limit.when, context.types, (*at, "when"))

    def _review_problems(self, context: SchemeContext) -> Iterator[SchemeProblem]:
        for field in ("last_review", "onboarded"):
            name = getattr(self.reviews, field)
            if name is None:
                continue
            at: FieldPath = ("reviews", field)
            if name not in context.indicators:
                yield at, _unknown(name, context)
            elif context.types.get(name, "date") != "date":
                yield at, _("{field} must be a date indicator; {name} is {kind}").format(
                    field=field, name=repr(name), kind=context.types.get(name))


def _unknown(name: str, context: SchemeContext) -> str:
    return _("unknown indicator {name}; declare it under `indicators:` (known: {known})").format(
        name=repr(name), known=_(", ").join(sorted(context.indicators)) or "-")


__all__ = ["CalendarSpec", "FactorSpec", "LimitSpec", "ReviewSpec", "RiskLevelSpec",
           "RiskSchemeSpec"]


def inline_files(body: dict[str, object], folder: Path) -> tuple[dict[str, object], list[
        tuple[tuple[str | int, ...], str]]]:
    """``body`` (a risk scheme as parsed YAML) with its CSV factor tables and calendar read in.

    A factor's ``file:`` (columns ``value,points``) becomes its ``table:``; the calendar's
    ``file:`` (columns ``date,kind``, kind ``holiday`` or ``workday``) adds to its lists. The
    file name stays, so people see where the points came from. Returns the body and the
    problems found (field path under the scheme, message).
    """
    problems: list[tuple[tuple[str | int, ...], str]] = []
    out = dict(body)
    factors = out.get("factors")
    if isinstance(factors, list):
        new = []
        for i, factor in enumerate(factors):
            if isinstance(factor, dict) and isinstance(factor.get("file"), str):
                if "table" in factor:
                    problems.append((("factors", i, "file"), _(
                        "give the points either in `table:` or in `file:`, not both")))
                else:
                    table, wrong = _points_file(folder / str(factor["file"]))
                    factor = {**factor, "table": table} if wrong is None else factor
                    if wrong is not None:
                        problems.append((("factors", i, "file"), wrong))
            new.append(factor)
        out["factors"] = new
    reviews = out.get("reviews")
    if isinstance(reviews, dict) and "calendar" in reviews:
        calendar, wrong = inline_calendar(reviews["calendar"], folder)
        if wrong is not None:
            problems.append((("reviews", "calendar", "file"), wrong))
        out["reviews"] = {**reviews, "calendar": calendar}
    return out, problems


def _points_file(path: Path) -> tuple[dict[str, float], str | None]:
    rows, wrong = read_pairs(path, ("value", "points"))
    table: dict[str, float] = {}
    for line, value, points in rows:
        try:
            number = float(points)
        except ValueError:
            return {}, _("{path}, line {line}: points {value} is not a number").format(
                path=path, line=line, value=repr(points))
        if value in table:
            return {}, _("{path}, line {line}: value {value} is listed twice").format(
                path=path, line=line, value=repr(value))
        table[value] = number
    return table, wrong
