"""Each method's scheme in words: how it grades, and what puts a customer in each tier.

The classification standard (:mod:`tierwise.reports.standard`) prints these for staff, in the
reader's language: a rules scheme's conditions as sentences ("Orders, 12 months at least 10 and
Net spend, 12 months at least ¥10,000"), a scorecard's dimensions and score bands, an RFM map's
score cells, ABC's cumulative shares. Every method answers through
:meth:`tierwise.methods.protocol.Method.criteria`; the functions here are what the built-in
methods name. Indicators read as their labels and values in their units (set by the caller with
:func:`tierwise.methods.wording.indicator_labels` and
:func:`tierwise.methods.condition_words.indicator_units`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tierwise import expr, i18n
from tierwise.i18n import _, ngettext
from tierwise.methods import wording
from tierwise.methods.condition_words import amount, words
from tierwise.spec.base import WINDOW_RE
from tierwise.spec.ladder import Ladder
from tierwise.spec.learned import ClusterSchemeSpec, ClvSchemeSpec, ModelSchemeSpec
from tierwise.spec.schemes import (
    AbcSchemeSpec,
    DimensionSpec,
    RfmSchemeSpec,
    RulesSchemeSpec,
    ScorecardSchemeSpec,
    TierSpec,
)


@dataclass(frozen=True)
class Criteria:
    """A scheme in words.

    Attributes:
        method: How the scheme grades, one sentence an item.
        tiers: Tier key -> what puts a customer in the tier (tiers without one say nothing).

    """

    method: tuple[str, ...] = ()
    tiers: Mapping[str, str] = field(default_factory=dict)


def period(text: str) -> str:
    """A window or horizon (``12m``, ``90d``, ``39w``, ``1y``) in words: 12 months, 12个月."""
    found = WINDOW_RE.match(text)
    if found is None:
        return text
    n, unit = int(found.group(1)), found.group(2)[0]
    message = {
        "d": ngettext("{n} day", "{n} days", n),
        "w": ngettext("{n} week", "{n} weeks", n),
        "m": ngettext("{n} month", "{n} months", n),
        "y": ngettext("{n} year", "{n} years", n),
    }[unit]
    return message.format(n=n)


def _label(tier: TierSpec) -> str:
    return tier.label_text(i18n.current())


def _labels(tiers: Sequence[TierSpec]) -> str:
    return _(", ").join(_label(t) for t in tiers)


def rules(spec: RulesSchemeSpec) -> Criteria:
    """Each tier's condition in words; the order conditions are tried in; the fallback."""
    order = spec.evaluation_order()
    by_key = {t.key: t for t in spec.tiers}
    lines = [
        _("Conditions are tried in this order and the first that holds decides the class: "
          "{order}.").format(order=_(" → ").join(_label(t) for t in order)),
        _("Customers no condition takes are classed {fallback}.").format(
            fallback=_label(by_key[spec.fallback]) if spec.fallback in by_key else spec.fallback),
    ]
    ladder = Ladder.of(spec.tiers)
    if ladder.has_statuses:
        lines.append(_("Statuses stand outside the value order: {tiers}.").format(
            tiers=_labels(ladder.tiers[ladder.size:])))
    tiers = {t.key: words(expr.parse(t.when)) for t in order if t.when}
    tiers[spec.fallback] = _("None of the conditions of the other classes holds.")
    return Criteria(tuple(lines), tiers)


def cuts(tiers: Sequence[TierSpec], score: str) -> dict[str, str]:
    """Tiers cut by ``min_score`` or ``top_share`` of ``score`` (scorecard, clv, model)."""
    out: dict[str, str] = {}
    if any(t.min_score is not None for t in tiers):
        above: float | None = None
        for tier in tiers:
            low = tier.min_score
            if low is not None and above is None:
                text = _("{score} at least {low}")
            elif low is not None:
                text = _("{score} from {low} to under {high}")
            else:
                text = _("{score} below {high}")
            out[tier.key] = text.format(score=score, low=_points(low), high=_points(above))
            above = low
        return out
    before = 0.0
    for tier in tiers:
        share = tier.top_share
        if share is None:
            out[tier.key] = _("The remaining customers.")
            continue
        text = (_("The top {share} of customers by {score}.") if before == 0
                else _("The next {share} of customers by {score} (from the top {low} to the "
                       "top {high}).")).format(score=score, share=i18n.percent(share - before, 0),
                                               low=i18n.percent(before, 0),
                                               high=i18n.percent(share, 0))
        out[tier.key] = text
        before = share
    return out


def _points(value: float | None) -> str:
    return "-" if value is None else i18n.number(value)


def _dimension(dim: DimensionSpec, total: float) -> str:
    norm = dim.normalize
    name = i18n.label_of(dim.label, wording.name(dim.indicator))
    how = {
        "minmax": _("scaled from the lowest to the highest value"),
        "percentile": _("by percentile rank among customers"),
        "zscore": _("by distance from the mean in standard deviations"),
        "bins": _("in bands"),
    }[norm.method]
    if norm.method == "bins" and norm.bins:
        how = _("in bands: {bands}").format(bands=_("; ").join(
            _("from {low}: {points} points").format(
                low=amount(low, dim.indicator) if low is not None else _("any value"),
                points=i18n.number(points)) for low, points in norm.bins))
    parts = [how]
    if norm.cap is not None:
        low, high = norm.cap
        parts.append(_("values capped to {low} to {high}").format(
            low=_("no limit") if low is None else amount(low, dim.indicator),
            high=_("no limit") if high is None else amount(high, dim.indicator)))
    if norm.invert:
        parts.append(_("lower values score higher"))
    return _("{name}: weight {weight}, {how}.").format(
        name=name, weight=i18n.percent(dim.weight / total, 0), how=_(", ").join(parts))


def scorecard(spec: ScorecardSchemeSpec) -> Criteria:
    """The dimensions with their weights and scoring, and the score bands."""
    total = sum(d.weight for d in spec.dimensions)
    lines = [ngettext(
        "A score from 0 to 100: the weighted mean of {n} dimension, scored 0 to 100 points.",
        "A score from 0 to 100: the weighted mean of {n} dimensions, each scored 0 to 100 "
        "points.", len(spec.dimensions)).format(n=len(spec.dimensions))]
    lines += [_dimension(d, total) for d in spec.dimensions]
    lines.append(_("A customer without a value scores 0 points on that dimension."))
    return Criteria(tuple(lines), cuts(spec.tiers, _("score")))


def rfm(spec: RfmSchemeSpec) -> Criteria:
    """The three scores, how they are cut, and each segment's score cells."""
    from tierwise.methods.rfm import segment_map

    lines = [_("Recency ({recency}), frequency ({frequency}) and monetary value ({monetary}) "
               "are each scored 1 to {n}, {n} the best.").format(
        recency=wording.name(spec.recency), frequency=wording.name(spec.frequency),
        monetary=wording.name(spec.monetary), n=spec.scores)]
    if spec.cuts:
        lines += [_("{dimension} is scored by fixed cut points: {cuts}.").format(
            dimension=wording.name(getattr(spec, part)),
            cuts=_(", ").join(amount(c, getattr(spec, part)) for c in values))
            for part, values in spec.cuts.items()]
    if set(spec.cuts or {}) != {"recency", "frequency", "monetary"}:
        lines.append(_("Scores are by quantile: equal values score equally, the more recent or "
                       "the larger the better, and a customer who never bought scores lowest."))
    tiers: dict[str, str] = {}
    if spec.segments == "standard11":
        lines.append(_("The class follows R and FM (F and M averaged, rounded up) on the "
                       "standard map of 11 segments."))
        for segment in segment_map(spec):
            r = sorted({c[0] for c in segment.cells})
            fm = sorted({c[1] for c in segment.cells})
            tiers[segment.key] = _("R score {r}, FM score {fm}.").format(r=_span(r), fm=_span(fm))
    else:
        lines.append(_("Each of R, F and M is high when the customer's score is above the mean "
                       "score of all customers, else low; the eight combinations are the "
                       "classes."))
        for segment in segment_map(spec):
            (high_r, high_f, high_m), = segment.cells
            tiers[segment.key] = _("R {r}, F {f}, M {m}.").format(
                r=_high(high_r), f=_high(high_f), m=_high(high_m))
    return Criteria(tuple(lines), tiers)


def _span(values: list[int]) -> str:
    if len(values) == 1:
        return str(values[0])
    return _("{low} to {high}").format(low=values[0], high=values[-1])


def _high(bit: int) -> str:
    return _("high") if bit else _("low")


def abc(spec: AbcSchemeSpec) -> Criteria:
    """The ranking and each class's cumulative share."""
    name = wording.name(spec.value)
    lines = [(_("Customers are ranked by {value}, largest first, and classed by their "
                "cumulative share of the total {value}.") if spec.by == "value"
              else _("Customers are ranked by {value}, largest first, and classed by their "
                     "cumulative share of all customers.")).format(value=name)]
    tiers: dict[str, str] = {}
    before = 0.0
    for tier in spec.tiers:
        share = tier.cumulative
        if share is None:
            tiers[tier.key] = _("The rest, from {low} of the cumulative share on.").format(
                low=i18n.percent(before, 0))
            continue
        tiers[tier.key] = (_("Up to {high} of the cumulative share.") if before == 0
                           else _("From {low} to {high} of the cumulative share.")).format(
            low=i18n.percent(before, 0), high=i18n.percent(share, 0))
        before = share
    return Criteria(tuple(lines), tiers)


def clv(spec: ClvSchemeSpec) -> Criteria:
    """The lifetime models, the horizon and the ranking."""
    score = {"clv": _("expected value"), "p_alive": _("probability of being active"),
             "expected_purchases": _("expected purchases"),
             "predicted_value": _("predicted value")}[spec.rank_by]
    model = "BG/NBD" if spec.model == "bgnbd" else "Pareto/NBD"
    lines = (
        _("Each customer's value over the next {horizon} is forecast from their purchase "
          "history: the {model} model for how often they buy and whether they are still "
          "active, the Gamma-Gamma model for how much per purchase.").format(
            horizon=period(spec.horizon), model=model),
        _("Future value is discounted {rate} a month.").format(
            rate=i18n.percent(spec.discount_rate, 1)),
        _("Customers are ranked by {score}.").format(score=score),
    )
    return Criteria(lines, cuts(spec.tiers, score))


def model(spec: ModelSchemeSpec) -> Criteria:
    """The trained model, what it learns and the probability bands."""
    target = spec.target
    if target.labels:
        learns = _("the classes experts gave in {labels}").format(
            labels=wording.name(target.labels))
    elif target.event == "none":
        learns = _("having no {outcome} over the next period").format(
            outcome=wording.name(target.outcome or ""))
    else:
        learns = _("reaching the top {share} of {outcome} over the next period").format(
            share=i18n.percent(target.top_share, 0), outcome=wording.name(target.outcome or ""))
    lines = (_("A trained model ({algorithm}) predicts {learns}, from {names}.").format(
        algorithm=wording.algorithm_name(spec.algorithm), learns=learns,
        names=_(", ").join(wording.name(n) for n in spec.features)),)
    return Criteria(lines, cuts(spec.tiers, _("predicted probability")))


def cluster(spec: ClusterSchemeSpec, tiers: Sequence[TierSpec]) -> Criteria:
    """The clustering and the order of the clusters."""
    low, high = spec.clusters_range()
    count = str(low) if low == high else _("{low} to {high}").format(low=low, high=high)
    value = wording.name(spec.value)
    lines = (
        _("Customers are grouped by how alike they are ({algorithm}) into {count} clusters on "
          "{names}.").format(algorithm=spec.algorithm, count=count,
                             names=_(", ").join(wording.name(n) for n in spec.indicators)),
        _("Clusters are ranked by their mean {value}, highest first; the next run matches its "
          "clusters to these, so a class keeps naming the same group.").format(value=value),
    )
    return Criteria(lines, {t.key: _("The cluster ranked {rank} by mean {value}.").format(
        rank=i, value=value) for i, t in enumerate(tiers, start=1)})


__all__ = ["Criteria", "abc", "cluster", "clv", "cuts", "model", "period", "rfm", "rules",
           "scorecard"]
