"""The ``risk`` method: an anti-money-laundering customer risk rating.

Each factor scores 0..100 points: ``table`` factors by the indicator's value as text (a value
the table does not list, or a missing one, scores ``default``), ``bins`` factors by the last bin
whose lower bound the number reaches. The score is the weighted mean of the points, rounded to 6
decimals. The level by score is the first level whose ``min_score`` the score reaches (levels are
listed highest risk first, so rank 1 is the highest risk).

Limits then move the level: every matching ceiling caps it (the lowest capped level wins), then
every matching floor lifts it (the highest floor wins). A floor is applied last, so it always
wins, over the score and over a ceiling: a politically exposed person is never below the floor
compliance set, whatever their score.

Detail columns: ``pts_<indicator>`` per factor, ``score_rank`` (the level by score),
``ceiling_at`` / ``floor_at`` (the index of the limit that decided, null when none applied),
``due_diligence`` (enhanced, standard or simplified, from the level) and ``next_at`` (the score
of the next higher level).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from tierwise import expr
from tierwise.i18n import N_, _, current
from tierwise.methods import wording
from tierwise.methods.base import column, concat, cut_by_score, fmt, rounded, select_grades
from tierwise.methods.criteria import Criteria, cuts
from tierwise.methods.fitted import FittedModel
from tierwise.methods.protocol import Method
from tierwise.spec.risk import RiskSchemeSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import TierSpec
    from tierwise.spec.risk import FactorSpec, LimitSpec

#: Due diligence per level, as people call it.
DILIGENCE = {"enhanced": N_("enhanced due diligence"), "standard": N_("standard due diligence"),
             "simplified": N_("simplified due diligence")}


def _points(factor: FactorSpec, value: ir.Value) -> ir.FloatingValue:
    """The factor's points (0..100) for each customer's ``value``."""
    import ibis

    default = float(factor.default or 0.0)
    if factor.table is not None:
        text = value.cast("string").strip().lower()
        return text.cases(*((key.strip().lower(), float(p)) for key, p in factor.table.items()),
                          else_=default).cast("float64")
    assert factor.bins is not None
    number = value.cast("float64")
    return ibis.cases(
        *((number >= low, float(p)) if low is not None else (number.notnull(), float(p))
          for low, p in reversed(factor.bins)),
        else_=default,
    ).cast("float64")


def _limit(limits: list[LimitSpec], ranks: dict[str, int], features: ir.Table, as_of: date, *,
           floor: bool) -> ir.IntegerValue:
    """The index of the limit that decides each customer (null when none holds).

    Floors are tried highest level first, ceilings lowest level first: the first that holds
    is the one that binds.
    """
    import ibis

    order = sorted(range(len(limits)), key=lambda i: ranks[limits[i].level()],
                   reverse=not floor)
    branches = []
    for i in order:
        node = expr.parse(limits[i].when)
        env = {name: column(features, name) for name in expr.names(node)}
        branches.append((expr.compile_condition(node, env, as_of=as_of), i))
    return ibis.cases(*branches, else_=ibis.null("int64")) if branches else ibis.null("int64")


def grade(scheme: RiskSchemeSpec, features: ir.Table, *, as_of: date) -> ir.Table:
    """Score every customer, cut the score into levels, then apply ceilings and floors."""
    import ibis

    total = sum(f.weight for f in scheme.factors)
    points = {f"pts_{f.indicator}": _points(f, features[f.indicator]) for f in scheme.factors}
    score = rounded(sum((points[f"pts_{f.indicator}"] * (f.weight / total)
                         for f in scheme.factors), ibis.literal(0.0)), 6)
    ranks = {t.key: i + 1 for i, t in enumerate(scheme.tiers)}
    table = features.mutate(
        _score=score,
        _ceiling=_limit(scheme.ceilings, ranks, features, as_of, floor=False),
        _floor_at=_limit(scheme.floors, ranks, features, as_of, floor=True),
        **points,
    )
    table = cut_by_score(table, scheme.tiers)
    rank: Any = table._rank
    if scheme.ceilings:
        cap = table._ceiling.cases(*((i, ranks[c.level()]) for i, c in enumerate(scheme.ceilings)),
                                   else_=None)
        rank = ibis.ifelse(cap.notnull() & (cap > rank), cap, rank)
    if scheme.floors:
        lift = table._floor_at.cases(*((i, ranks[f.level()]) for i, f in enumerate(scheme.floors)),
                                     else_=None)
        rank = ibis.ifelse(lift.notnull() & (lift < rank), lift, rank)
    table = table.mutate(_final=rank)
    tiers = scheme.tiers
    diligence = table._final.cases(*((i + 1, t.due_diligence) for i, t in enumerate(tiers)),
                                   else_=None)
    details: dict[str, Any] = {name: table[name] for name in points}
    details |= {
        "score_rank": table._rank.cast("int32"),
        # Only the limits that moved the level: a floor at or below the score's level is moot.
        "ceiling_at": ibis.ifelse(table._final > table._rank, table._ceiling, ibis.null("int64")),
        "floor_at": ibis.ifelse(table._final < table._rank, table._floor_at, ibis.null("int64")),
        "due_diligence": diligence.cast("string"),
        "next_at": table._floor,
        # What the review schedule reads (tierwise.policies.reviews), null when not declared.
        "data_reviewed_on": _date(table, scheme.reviews.last_review),
        "onboarded_on": _date(table, scheme.reviews.onboarded),
    }
    return select_grades(
        table,
        tier=table._final.cases(*((i + 1, t.key) for i, t in enumerate(tiers)), else_=None),
        rank=table._final,
        score=table._score,
        details=details,
        value=scheme.value,
    )


def _date(table: ir.Table, indicator: str | None) -> ir.DateValue:
    import ibis

    return (table[indicator] if indicator else ibis.null("date")).cast("date")


def texts(scheme: RiskSchemeSpec, table: ir.Table) -> tuple[ir.StringValue, ir.StringValue]:
    """Reasons and gap of graded customers.

    The reasons give each factor's points, the level by score, the limit that moved it and the
    due diligence; the gap, the points short of the next higher level when the score decides.
    """
    import ibis

    total = sum(f.weight for f in scheme.factors)
    lang = current()
    terms: list[Any] = []
    for i, factor in enumerate(scheme.factors):
        w = factor.weight / total
        pts = table[f"pts_{factor.indicator}"]
        name = factor.label_text(lang) or wording.name(factor.indicator)
        terms += [" + " if i else "", wording.sentence(
            _("{indicator} {value} -> {points} pts x {weight} = {contribution}"),
            indicator=name, value=fmt(table[factor.indicator]),
            points=fmt(pts, 1), weight=f"{w:g}", contribution=fmt(pts * w))]
    words = {t.key: wording.tier_word(t.key, t.label_text(lang)) for t in scheme.tiers}
    by_score = table.score_rank.cases(*((i + 1, words[t.key]) for i, t in enumerate(scheme.tiers)),
                                      else_="")
    parts: list[Any] = [
        wording.sentence(_("score {score} = {terms}"), score=fmt(table.score), terms=concat(terms)),
        wording.sentence(_("; level by score: {level}"), level=by_score),
    ]
    for field, limits, message in (
            ("ceiling_at", scheme.ceilings, _("; capped at {level}: {reason}")),
            ("floor_at", scheme.floors, _("; raised to at least {level}: {reason}"))):
        if limits:
            said = table[field].cases(
                *((i, message.format(level=words[limit.level()], reason=limit.reason_text(lang)))
                  for i, limit in enumerate(limits)), else_="")
            parts.append(said)
    diligence = table.due_diligence.cases(
        *((key, _("; {diligence}").format(diligence=_(text))) for key, text in DILIGENCE.items()),
        else_="")
    parts.append(diligence)
    if "review_due" in table.columns:  # the review schedule of a run (policies.reviews)
        parts.append(ibis.ifelse(table.review_due.isnull(), "", wording.sentence(
            _("; review due {due} (last review {last})"), due=fmt(table.review_due),
            last=fmt(table.reviewed_on))))
    reasons = concat(parts)
    need = table.next_at - table.score
    target = table.tier_rank.cases(
        *((i + 2, words[t.key]) for i, t in enumerate(scheme.tiers)), else_="")
    gap = ibis.ifelse(
        table.next_at.isnull() | (need <= 0) | (table.tier_rank != table.score_rank),
        ibis.null("string"),
        wording.sentence(_("to reach {tier}: +{points} points"), tier=target, points=fmt(need)))
    return reasons, gap


def criteria_of(spec: RiskSchemeSpec) -> Criteria:
    """The factors and their weights, the score bands, the limits and the cadence per level."""
    total = sum(f.weight for f in spec.factors)
    lang = current()
    lines = [_("A risk score from 0 to 100: the weighted mean of the risk factors' points.")]
    for factor in spec.factors:
        name = factor.label_text(lang) or wording.name(factor.indicator)
        how = (_("points by value ({n} values listed, {default} for any other)").format(
                   n=len(factor.table), default=f"{factor.default or 0:g}")
               if factor.table is not None else _("points by range"))
        lines.append(_("{factor}: weight {weight}, {how}.").format(
            factor=name, weight=f"{factor.weight / total:.0%}", how=how))
    words = {t.key: wording.tier_word(t.key, t.label_text(lang)) for t in spec.tiers}
    lines += [_("At most {level} when {condition} ({reason}).").format(
        level=words[c.level()], condition=wording.condition(expr.parse(c.when)),
        reason=c.reason_text(lang)) for c in spec.ceilings]
    lines += [_("At least {level} when {condition} ({reason}); a floor always wins.").format(
        level=words[f.level()], condition=wording.condition(expr.parse(f.when)),
        reason=f.reason_text(lang)) for f in spec.floors]
    bands = cuts(list(spec.tiers), _("score"))
    tiers = {t.key: _("{band}. Review every {months} months; {diligence}.").format(
        band=bands.get(t.key, ""), months=t.review_months,
        diligence=_(DILIGENCE[t.due_diligence])).strip() for t in spec.tiers}
    return Criteria(tuple(lines), tiers)


class RiskMethod(Method[RiskSchemeSpec]):
    """``method: risk``: weighted risk factors, levels by score, floors and ceilings."""

    name = "risk"
    spec = RiskSchemeSpec

    def reads(self, spec: RiskSchemeSpec) -> list[str]:
        """Each factor's indicator, the review dates, and what the limits test."""
        names = spec.reads()
        for limit in [*spec.floors, *spec.ceilings]:
            names += sorted(expr.names(expr.parse(limit.when)))
        return list(dict.fromkeys(names))

    def tiers(self, spec: RiskSchemeSpec) -> list[TierSpec]:
        """The levels, highest risk first."""
        return list(spec.tiers)

    def criteria(self, spec: RiskSchemeSpec) -> Criteria:
        """The scheme in words."""
        return criteria_of(spec)

    def grade(self, spec: RiskSchemeSpec, features: ir.Table, *, as_of: date,
              model: FittedModel | None) -> ir.Table:
        """Levels by score, capped by ceilings and lifted by floors."""
        del model
        return grade(spec, features, as_of=as_of)

    def texts(self, spec: RiskSchemeSpec, table: ir.Table, *, as_of: date
              ) -> tuple[ir.StringValue, ir.Value]:
        """Reasons and gap."""
        del as_of
        return texts(spec, table)
