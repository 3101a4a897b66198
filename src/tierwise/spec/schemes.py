"""Scheme sections that grade with fixed rules or ranks: rules, scorecard, rfm and abc.

Also what every scheme shares (:class:`SchemeBase`, tiers, stability and override policies) and
the checks a scheme runs on itself once the whole project parsed (:meth:`SchemeBase.problems`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_serializer, field_validator, model_validator

from tierwise import expr
from tierwise.errors import ExprError
from tierwise.i18n import _
from tierwise.spec.base import IDENT, Label, Spec, as_label

_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
#: A field path under a scheme, e.g. ``("tiers", 0, "when")``.
Path = tuple[str | int, ...]
#: A problem a scheme finds in itself: the field path under the scheme and the message.
SchemeProblem = tuple[Path, str]
#: An indicator a scheme reads as a number: (field path, indicator name, what uses it).
IndicatorRef = tuple[Path, str, str]


@dataclass(frozen=True)
class SchemeContext:
    """What a scheme's own checks see of the rest of the project.

    Attributes:
        indicators: The names of the declared indicators.
        types: The expression type of every indicator that can be typed.
        horizons: Aggregate indicators with a window and no offset (a window ending at the
            as-of date: what a prediction horizon needs).

    """

    indicators: frozenset[str]
    types: Mapping[str, str]
    horizons: frozenset[str]


class TierSpec(Spec):
    """One level of a scheme.

    Tiers on the value ladder are ranked by their listed order (the first is rank 1, the best);
    a ``status`` tier (churn risk, excluded, unclassified) stands outside the ladder. For a
    rules scheme, ``priority`` orders the conditions (see :class:`RulesSchemeSpec`).
    """

    key: str = Field(pattern=IDENT)
    label: Label | None = None
    description: Label | None = Field(
        default=None, description="what the tier means (text, or {en, zh, zh-Hant})")
    strategy: Label | None = Field(
        default=None, description="what the business does for this tier (text, or {en, zh, zh-Hant})")
    when: str | None = Field(default=None, description="rules: condition of this tier")
    min_score: float | None = Field(default=None, description="scorecard: lowest score of the tier")
    top_share: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="scorecard: cumulative share of customers from the top",
    )
    cumulative: float | None = Field(
        default=None, gt=0, le=1, description="abc: cumulative share where the class ends"
    )
    status: bool = Field(
        default=False,
        description="rules and rfm: a status outside the value ladder (churn risk, excluded, "
        "unclassified): never above or below another tier, no gap points at it",
    )
    priority: int | None = Field(
        default=None,
        description="rules: the order conditions are tried in (ascending); tiers without one "
        "are tried after, in listed order. The value order stays the listed order",
    )
    colour: str | None = Field(
        default=None,
        description="display: the tier's colour in charts and badges, as #RRGGBB (default: one "
        "derived from the key, the same whatever the order of the tiers)")

    _label_in = field_validator("label", "description", "strategy", mode="before")(
        lambda cls, v: as_label(v))

    @field_validator("colour")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is not None and not _HEX_COLOUR.fullmatch(value):
            raise ValueError(_("colour {value} is not a hex colour; write it as #RRGGBB, e.g. "
                               "#1F77B4").format(value=repr(value)))
        return value

    def label_text(self, lang: str = "en") -> str:
        """The tier's label in ``lang``, or its key when no label is given."""
        return self.label.text(lang) if self.label else self.key

    def description_text(self, lang: str = "en") -> str | None:
        """What the tier means, in ``lang``; None when the scheme does not say."""
        return self.description.text(lang) if self.description else None

    def strategy_text(self, lang: str = "en") -> str | None:
        """What the business does for the tier, in ``lang``; None when the scheme does not say."""
        return self.strategy.text(lang) if self.strategy else None


class StabilitySpec(Spec):
    """A scheme's stability policy: how the computed tier becomes the tier a customer holds.

    Runs are the scheme's official runs in as-of order. Each decision is shown in the grade's
    reasons, e.g. "held in gold: grace period 1 of 2".
    """

    upgrade_after: int = Field(
        default=1, ge=1, description="runs in a row above the held tier before an upgrade (1 = at once)"
    )
    downgrade_after: int = Field(
        default=1, ge=1,
        description="runs in a row below the held tier before a downgrade (the grace period)",
    )
    min_days_in_tier: int = Field(
        default=0, ge=0, description="days a customer keeps a tier before any downgrade"
    )
    cooldown_days: int = Field(default=0, ge=0, description="days between two tier changes")
    downgrade_margin: float = Field(
        default=0.0, ge=0.0, lt=1.0,
        description="rules and score cut-offs: a customer is below the held tier only when "
        "below its thresholds loosened by this share (0.1 = 10%)",
    )


class OverridePolicySpec(Spec):
    """How manual overrides of a scheme are governed."""

    require_approval: bool = Field(
        default=False, description="an override applies only once a second person approves it"
    )
    max_backdate_days: int = Field(
        default=31, ge=0, le=3660,
        description="how far before today an override may start; a backdated override always "
        "waits for a second person's approval",
    )


#: The fewest years a confidential scheme's records are kept (AML rules ask for five at least).
MIN_RETENTION_YEARS = 5


class ConfidentialSpec(Spec):
    """Who may see a confidential scheme, and how long its records are kept.

    To every other role the scheme does not exist: no row, no count, no error that names it.
    Administrators always see it (they manage the users who do).
    """

    roles: list[Literal["supervisor", "manager", "auditor", "compliance"]] = Field(
        min_length=1, description="roles that see the scheme, e.g. [compliance, auditor]")
    retention_years: int = Field(
        default=10, ge=MIN_RETENTION_YEARS, le=100,
        description="years a run's records are kept; nothing of it can be deleted earlier")


class SchemeBase(Spec):
    """Fields every scheme has, whatever its method."""

    label: Label | None = None
    description: Label | None = Field(
        default=None, description="what the scheme is for: text or {en, zh, zh-Hant}")
    value: str | None = Field(
        default=None, description="value indicator summed per tier in reports"
    )
    stability: StabilitySpec | None = Field(
        default=None, description="grace periods, confirmations, cooldown (none: tiers as computed)"
    )
    overrides: OverridePolicySpec = Field(default_factory=OverridePolicySpec)
    confidential: ConfidentialSpec | None = Field(
        default=None, description="visible only to the roles named (e.g. an AML risk rating)")
    method: str = Field(description="the grading method; each method has its own fields")

    _label_in = field_validator("label", "description", mode="before")(
        lambda cls, v: as_label(v))

    @field_serializer("description")
    def _description_out(self, description: Label | None) -> Label | str | None:
        # Written back as it was given: a text in English alone stays a plain string, as
        # stored scheme versions hold it, so reading and saving the YAML changes no text.
        if description is not None and not description.zh and not description.zh_hant:
            return description.en
        return description

    def description_text(self, lang: str = "en") -> str | None:
        """What the scheme is for, in ``lang``; None when it does not say."""
        return self.description.text(lang) if self.description else None

    def indicator_refs(self) -> list[IndicatorRef]:
        """The indicators this scheme reads as numbers, with their field paths (value first)."""
        return [(("value",), self.value, "the scheme's value")] if self.value else []

    def problems(self, context: SchemeContext) -> Iterator[SchemeProblem]:
        """Problems only the whole project reveals (unknown names, tier keys, cut-offs).

        Runs after every section parsed; pydantic has checked the fields one by one. A method
        with checks of its own overrides this.
        """
        del context
        yield from ()

    def margin_refusal(self) -> str | None:
        """Why ``stability.downgrade_margin`` cannot apply (no fixed thresholds); None if it can."""
        return _("method {method} ranks customers").format(method=repr(self.method))


class RulesSchemeSpec(SchemeBase):
    """Tiers with conditions; the first condition that holds wins; ``fallback`` catches the rest.

    Conditions are tried by ascending ``priority``, then the tiers without one in listed order
    (no priority anywhere: as listed). The value ladder is the listed order of the tiers that
    are not a ``status``, whatever the priorities.
    """

    method: Literal["rules"]
    tiers: list[TierSpec] = Field(min_length=1)
    fallback: str = Field(description="key of the tier given to customers no rule matches")

    def evaluation_order(self) -> list[TierSpec]:
        """The tiers with a condition, in the order their conditions are tried."""
        tried = [t for t in self.tiers if t.key != self.fallback and t.when is not None]
        first = sorted((t for t in tried if t.priority is not None),
                       key=lambda t: t.priority or 0)
        return [*first, *(t for t in tried if t.priority is None)]

    def problems(self, context: SchemeContext) -> Iterator[SchemeProblem]:
        """Tier keys, the fallback, priorities and every condition (a fallback tier has none)."""
        yield from tier_key_problems(self.tiers, allows=("status", "priority"))
        yield from _priority_problems(self.tiers, self.fallback)
        keys = [t.key for t in self.tiers]
        if self.fallback not in keys:
            yield (("fallback",),
                   _("fallback {fallback} is not a tier key; tiers are {keys}").format(
                       fallback=repr(self.fallback), keys=_(", ").join(keys)))
        for i, tier in enumerate(self.tiers):
            at: Path = ("tiers", i, "when")
            if self.fallback in keys and tier.key == self.fallback:
                if tier.when:
                    yield at, _("the fallback tier takes every customer no rule matched; "
                                "remove its `when:`")
            elif tier.when:
                yield from condition_problems(tier.when, context.types, at)
            elif self.fallback in keys:
                yield ("tiers", i), _("tier {tier} needs `when:` (only the fallback has "
                                      "none)").format(tier=repr(tier.key))

    def margin_refusal(self) -> str | None:
        """Conditions have thresholds to loosen: a margin always applies."""
        return None


class Normalize(Spec):
    """How a scorecard dimension maps its raw value onto 0..100 points."""

    method: Literal["minmax", "percentile", "zscore", "bins"] = "minmax"
    bins: list[tuple[float | None, float]] | None = Field(
        default=None, description="bins: [[lower bound or null, points], ...], ascending bounds"
    )
    cap: tuple[float | None, float | None] | None = Field(
        default=None, description="clip the raw value to [low, high] before normalising"
    )
    invert: bool = Field(default=False, description="lower raw values are better (e.g. recency)")

    @model_validator(mode="after")
    def _bins(self) -> Normalize:
        if self.method == "bins":
            if not self.bins:
                raise ValueError(_("method 'bins' needs `bins: [[lower, points], ...]`"))
            check_bins(self.bins)
        elif self.bins is not None:
            raise ValueError(_("`bins` only applies to method 'bins', not {method}").format(
                method=repr(self.method)))
        return self


def check_bins(bins: list[tuple[float | None, float]]) -> None:
    """Refuse bins whose lower bounds do not strictly increase, or open after the first.

    Raises:
        ValueError: naming the problem (a pydantic validator turns it into a field error).

    """
    lows = [low for low, _points in bins if low is not None]
    if lows != sorted(lows) or len(set(lows)) != len(lows):
        raise ValueError(_("bin lower bounds must strictly increase, got {lows}").format(
            lows=lows))
    if any(low is None for low, _points in bins[1:]):
        raise ValueError(_("only the first bin may have an open (null) lower bound"))


class DimensionSpec(Spec):
    """One weighted dimension of a scorecard."""

    indicator: str
    weight: float = Field(gt=0)
    normalize: Normalize = Field(default_factory=Normalize)
    label: Label | None = None

    @field_validator("normalize", mode="before")
    @classmethod
    def _short(cls, value: Any) -> Any:
        return {"method": value} if isinstance(value, str) else value

    _label_in = field_validator("label", mode="before")(lambda cls, v: as_label(v))


class ScorecardSchemeSpec(SchemeBase):
    """Weighted dimensions, each normalised to 0..100, summed into a 0..100 score."""

    method: Literal["scorecard"]
    dimensions: list[DimensionSpec] = Field(min_length=1)
    tiers: list[TierSpec] = Field(min_length=2)

    def indicator_refs(self) -> list[IndicatorRef]:
        """The value, then each dimension's indicator."""
        return [*super().indicator_refs(),
                *((("dimensions", i, "indicator"), d.indicator, "a scorecard dimension")
                  for i, d in enumerate(self.dimensions))]

    def problems(self, context: SchemeContext) -> Iterator[SchemeProblem]:
        """Tier keys, weights adding up to 1 (or 100), one dimension per indicator, cut-offs."""
        del context
        yield from tier_key_problems(self.tiers)
        total = sum(d.weight for d in self.dimensions)
        if abs(total - 1) > 1e-9 and abs(total - 100) > 1e-6:
            yield (("dimensions",),
                   _("dimension weights add up to {total}; make them add up to 1 (or "
                     "100)").format(total=f"{total:g}"))
        seen: set[str] = set()
        for i, dim in enumerate(self.dimensions):
            if dim.indicator in seen:
                # Points and reasons are kept per indicator (pts_<indicator>).
                yield (("dimensions", i, "indicator"),
                       _("indicator {name} is scored twice; keep one dimension for it and "
                         "add up the weights").format(name=repr(dim.indicator)))
            seen.add(dim.indicator)
        yield from cutoff_problems(self.tiers)

    def margin_refusal(self) -> str | None:
        """``min_score`` cut-offs can be loosened; ``top_share`` ranks."""
        if all(t.top_share is None for t in self.tiers):
            return None
        return "a scorecard cut by `top_share` ranks customers"


class RfmSchemeSpec(SchemeBase):
    """Recency, frequency and monetary scores 1..n, an RFM code and a named segment map."""

    method: Literal["rfm"]
    recency: str = Field(description="indicator: days since the last purchase (lower is better)")
    frequency: str
    monetary: str
    scores: int = Field(default=5, ge=2, le=10)
    cuts: dict[Literal["recency", "frequency", "monetary"], list[float]] | None = Field(
        default=None, description="fixed ascending cut points instead of quantiles, per dimension"
    )
    segments: Literal["standard11", "cn8"] = "standard11"
    tiers: list[TierSpec] | None = Field(
        default=None, description="optional relabelling of the segment map's tiers (same keys); "
        "`status: true` takes a segment off the value ladder (e.g. lost)"
    )

    @model_validator(mode="after")
    def _cuts(self) -> RfmSchemeSpec:
        for dim, cuts in (self.cuts or {}).items():
            if len(cuts) != self.scores - 1:
                raise ValueError(
                    _("cuts.{dim} needs {need} cut points for {scores} scores, got {got}").format(
                        dim=dim, need=self.scores - 1, scores=self.scores, got=len(cuts))
                )
            if cuts != sorted(cuts) or len(set(cuts)) != len(cuts):
                raise ValueError(_("cuts.{dim} must strictly increase, got {cuts}").format(
                    dim=dim, cuts=cuts))
        if self.segments == "standard11" and self.scores != 5:
            raise ValueError(_("the standard11 segment map is defined on 1..5 scores; set "
                               "scores: 5"))
        return self

    def problems(self, context: SchemeContext) -> Iterator[SchemeProblem]:
        """Tier keys used twice; a ``priority`` (segments are not tried in an order)."""
        del context
        yield from tier_key_problems(self.tiers or [], allows=("status",))

    def indicator_refs(self) -> list[IndicatorRef]:
        """The value, then recency, frequency and monetary."""
        return [*super().indicator_refs(),
                *(((part,), getattr(self, part), f"rfm {part}")
                  for part in ("recency", "frequency", "monetary"))]


class AbcSchemeSpec(SchemeBase):
    """Pareto classes by cumulative share of a value indicator, or by share of customers."""

    method: Literal["abc"]
    value: str = Field(description="value indicator ranked (e.g. spend_12m)")
    by: Literal["value", "customers"] = "value"
    tiers: list[TierSpec] = Field(min_length=2)

    def indicator_refs(self) -> list[IndicatorRef]:
        """The value ranked."""
        return [(("value",), self.value, "the abc value")]

    def problems(self, context: SchemeContext) -> Iterator[SchemeProblem]:
        """Tier keys; every class but the last ends at an increasing cumulative share."""
        del context
        yield from tier_key_problems(self.tiers)
        shares = [t.cumulative for t in self.tiers]
        if shares[-1] is not None:
            yield ("tiers", len(shares) - 1), _("the last class takes the rest; remove its "
                                                "`cumulative:`")
        given = [s for s in shares[:-1] if s is not None]
        if len(given) != len(shares) - 1:
            yield ("tiers",), _("every class but the last needs `cumulative:` (e.g. 0.8)")
        elif given != sorted(given) or len(set(given)) != len(given):
            yield ("tiers",), _("cumulative shares must increase, got {shares}").format(
                shares=given)


def condition_problems(text: str, types: Mapping[str, str], at: Path) -> Iterator[SchemeProblem]:
    """Problems of a condition (it must parse, type-check and be true or false), at ``at``."""
    try:
        expr.check_condition(expr.parse(text), types)
    except ExprError as exc:
        for p in exc.problems:
            yield at, p.message


def tier_key_problems(tiers: list[TierSpec], *, allows: tuple[str, ...] = ()
                      ) -> Iterator[SchemeProblem]:
    """A tier key used twice, and ``status`` / ``priority`` where the method has no use for them.

    ``allows`` names those of the two fields the scheme's method reads.
    """
    seen: set[str] = set()
    for i, tier in enumerate(tiers):
        if tier.key in seen:
            yield ("tiers", i, "key"), _("tier key {key} is used twice; tier keys must be "
                                         "unique").format(key=repr(tier.key))
        seen.add(tier.key)
        if tier.status and "status" not in allows:
            yield (("tiers", i, "status"),
                   f"tier {tier.key!r}: only rules and rfm tiers can be a status; this method "
                   "orders every tier by value. Remove `status: true`")
        if tier.priority is not None and "priority" not in allows:
            yield (("tiers", i, "priority"),
                   f"tier {tier.key!r}: `priority` orders the conditions of a rules scheme and "
                   "means nothing here; remove it")


def _priority_problems(tiers: list[TierSpec], fallback: str) -> Iterator[SchemeProblem]:
    """No value ladder, two conditions with one priority, or a priority on the fallback tier."""
    if all(t.status for t in tiers):
        yield (("tiers",),
               "every tier is a status, so the scheme has no value ladder; remove `status: "
               "true` from the tiers that rank customers by value")
    first: dict[int, str] = {}
    for i, tier in enumerate(tiers):
        if tier.priority is None:
            continue
        at: Path = ("tiers", i, "priority")
        if tier.key == fallback:
            yield at, (f"tier {tier.key!r} is the fallback: it takes the customers no condition "
                       "caught, after every condition; remove its `priority`")
        elif tier.priority in first:
            yield at, (f"priority {tier.priority} is also tier {first[tier.priority]!r}'s; "
                       "give each tier its own priority so the order conditions are tried in "
                       "is clear")
        else:
            first[tier.priority] = tier.key


def cutoff_problems(tiers: list[TierSpec]) -> Iterator[SchemeProblem]:
    """Tiers cut by ``min_score`` (decreasing) or ``top_share`` (increasing), the last open."""
    scores = [t.min_score for t in tiers]
    shares = [t.top_share for t in tiers]
    if any(s is not None for s in scores) and any(s is not None for s in shares):
        yield ("tiers",), _("cut tiers either by `min_score` or by `top_share`, not both")
        return
    cut = scores if any(s is not None for s in scores) else shares
    name = "min_score" if cut is scores else "top_share"
    if cut[-1] is not None:
        yield ("tiers", len(cut) - 1), _("the last tier takes the rest; remove its "
                                         "`{field}:`").format(field=name)
    given = [c for c in cut[:-1] if c is not None]
    if len(given) != len(cut) - 1:
        yield ("tiers",), _("every tier but the last needs `{field}:`").format(field=name)
        return
    ordered = sorted(given, reverse=True) if cut is scores else sorted(given)
    if given != ordered or len(set(given)) != len(given):
        if cut is scores:
            yield ("tiers",), _("min_score values must decrease down the tier list, got "
                                "{values}").format(values=given)
        else:
            yield ("tiers",), _("top_share values must increase down the tier list, got "
                                "{values}").format(values=given)


#: The most clusters a cluster scheme may have (``k`` and the top of ``k_range``).
