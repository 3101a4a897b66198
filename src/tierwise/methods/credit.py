"""The ``credit`` method: a credit scorecard in points, with reason codes and monitoring.

A scheme either learns its points table each run from a labelled outcome
(:mod:`tierwise.methods.credit_fit`: weight-of-evidence binning, logistic regression, points
scaling) or grades by the frozen ``points_table`` of its version, without refitting. Grading
looks each characteristic's value up in its bins (a missing value takes the table's ``missing``
points) and adds the points up; grades cut the score by ``min_score`` (higher is better).

Reason codes: for each customer, the characteristics that cost the most points against their
best bin (``reason_1`` ... ``reason_n``; none for one that costs under pdo / 20 points). Monitoring, every
run: the PSI of the score bands and of each characteristic's bins against the development
sample (``monitoring`` in the model), beside the development sample's AUC, Gini and KS.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from tierwise.i18n import _, current
from tierwise.methods import margin as margins
from tierwise.methods import wording
from tierwise.methods.base import concat, cut_by_score, fmt, rounded, select_grades
from tierwise.methods.credit_fit import LABEL, CreditModel, fit, frozen, psi
from tierwise.methods.criteria import Criteria, cuts
from tierwise.methods.families import LearningMethod
from tierwise.methods.fitted import FittedModel
from tierwise.methods.protocol import OutcomeTraining
from tierwise.spec.credit import CharacteristicPoints, CreditSchemeSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import ScorecardSchemeSpec, TierSpec

__all__ = ["LABEL", "CreditMethod", "CreditModel", "grade", "texts"]


def _number(value: ir.Value) -> ir.FloatingValue:
    """``value`` as a double, NaN (e.g. a 0/0 ratio) as missing, as the fit saw it."""
    import ibis

    number = value.cast("float64")
    return ibis.ifelse(number.isnan(), ibis.null("float64"), number)


def _points(char: CharacteristicPoints, value: ir.Value) -> ir.FloatingValue:
    """Each customer's points on one characteristic."""
    import ibis

    number = _number(value)
    found = ibis.cases(
        *((number >= b.lower, float(b.points)) if b.lower is not None
          else (number.notnull(), float(b.points)) for b in reversed(char.bins)),
        else_=float(char.missing))
    return found.cast("float64")


def _bin(char: CharacteristicPoints, value: ir.Value) -> ir.IntegerValue:
    """Each customer's bin index on one characteristic (-1 when missing)."""
    import ibis

    number = _number(value)
    last = len(char.bins) - 1
    return ibis.cases(
        *((number >= b.lower, last - i) if b.lower is not None else (number.notnull(), last - i)
          for i, b in enumerate(reversed(char.bins))), else_=-1).cast("int64")


def _best(char: CharacteristicPoints) -> float:
    return max([b.points for b in char.bins] + [char.missing])


def grade(scheme: CreditSchemeSpec, features: ir.Table, model: CreditModel) -> ir.Table:
    """Points per characteristic, the score, reason codes and the grade."""
    import ibis

    chars = model.table.characteristics
    points = {f"pts_{c.indicator}": _points(c, features[c.indicator]) for c in chars}
    score = rounded(sum(points.values(), ibis.literal(0.0)), 6)
    table = features.mutate(_score=score, **points)
    lost = {c.indicator: _best(c) - table[f"pts_{c.indicator}"] for c in chars}
    table = cut_by_score(table, scheme.tiers)
    details: dict[str, Any] = {name: table[name] for name in points}
    details |= _reason_codes(lost, scheme.reasons, scheme.scaling.pdo / 20)
    details["next_at"] = table._floor
    tier = table._rank.cases(*((i + 1, t.key) for i, t in enumerate(scheme.tiers)), else_=None)
    return select_grades(table, tier=tier, rank=table._rank, score=table._score,
                         details=details, value=scheme.value)


def _reason_codes(lost: dict[str, Any], n: int, least: float) -> dict[str, Any]:
    """``reason_1``..``reason_n``: the characteristics costing the most points, most first.

    A characteristic's place is 1 + the number that cost more (ties: the one listed first
    ranks first). One that costs less than ``least`` points (a twentieth of the points that
    double the odds: one point at pdo 20) is no reason: a few hundredths of a point do not
    explain a grade.
    """
    import ibis

    names = list(lost)
    place = {}
    for i, name in enumerate(names):
        ahead = [(lost[o] > lost[name]) | ((lost[o] == lost[name]) & ibis.literal(j < i))
                 for j, o in enumerate(names) if o != name]
        place[name] = sum((a.cast("int64") for a in ahead), ibis.literal(1))
    out = {}
    for k in range(1, min(n, len(names)) + 1):
        out[f"reason_{k}"] = ibis.cases(
            *(((place[name] == k) & (lost[name] >= least), name) for name in names),
            else_=ibis.null("string"))
    return out


def texts(scheme: CreditSchemeSpec, table: ir.Table) -> tuple[ir.StringValue, ir.Value]:
    """Reasons (each characteristic's value and points, the reason codes) and the gap."""
    import ibis

    names = [c for c in scheme.characteristics if f"pts_{c}" in table.columns]
    terms: list[Any] = []
    for i, name in enumerate(names):
        terms += [" + " if i else "", wording.sentence(
            _("{indicator} {value} -> {points} pts"), indicator=wording.name(name),
            value=fmt(table[name]), points=fmt(table[f"pts_{name}"], 1))]
    codes = [table[f"reason_{k}"] for k in range(1, scheme.reasons + 1)
             if f"reason_{k}" in table.columns]
    said = [ibis.ifelse(code.isnull(), "", concat([_(", ") if k else "", code.cases(
        *((n, wording.name(n)) for n in names), else_=code)])) for k, code in enumerate(codes)]
    reasons = concat([
        wording.sentence(_("score {score} = {terms}"), score=fmt(table.score),
                         terms=concat(terms)),
        ibis.ifelse(codes[0].isnull(), "", wording.sentence(
            _("; costs the most points: {reasons}"), reasons=concat(said))) if codes else "",
    ])
    need = table.next_at - table.score
    words = {t.key: wording.tier_word(t.key, t.label_text(current())) for t in scheme.tiers}
    target = table.tier_rank.cases(*((i + 2, words[t.key]) for i, t in enumerate(scheme.tiers)),
                                   else_="")
    gap = ibis.ifelse(table.next_at.isnull() | (need <= 0), ibis.null("string"),
                      wording.sentence(_("to reach {tier}: +{points} points"), tier=target,
                                       points=fmt(need)))
    return reasons, gap


def monitor(model: CreditModel, features: ir.Table) -> dict[str, Any]:
    """This run's PSI of the score bands and of each characteristic against development.

    One aggregate query over the features: customers per bin and per score band.
    """
    import ibis

    table = model.table
    counts: dict[str, Any] = {"_n": features.count()}
    for i, char in enumerate(table.characteristics):
        b = _bin(char, features[char.indicator])
        for j in range(-1, len(char.bins)):
            counts[f"c{i}_{j + 1}"] = (b == j).cast("int64").sum()
    if table.scores:
        score = sum((_points(c, features[c.indicator]) for c in table.characteristics),
                    ibis.literal(0.0))
        band = _band(table.scores, score)
        for j in range(len(table.scores)):
            counts[f"s{j}"] = (band == j).cast("int64").sum()
    row = features.aggregate(**counts).to_pyarrow().to_pylist()[0]
    n = max(int(row["_n"]), 1)
    out: dict[str, Any] = {"customers": int(row["_n"]), "characteristics": {}}
    for i, char in enumerate(table.characteristics):
        if char.missing_share is None or any(b.share is None for b in char.bins):
            continue
        expected = [char.missing_share, *(b.share or 0.0 for b in char.bins)]
        actual = [row[f"c{i}_{j}"] / n for j in range(len(char.bins) + 1)]
        out["characteristics"][char.indicator] = psi(expected, actual)
    if table.scores:
        out["psi"] = psi([s.share for s in table.scores],
                         [row[f"s{j}"] / n for j in range(len(table.scores))])
    return out


def _band(bands: list[Any], score: ir.FloatingValue) -> ir.IntegerValue:
    import ibis

    last = len(bands) - 1
    return ibis.cases(*((score >= b.lower, last - i) for i, b in enumerate(reversed(bands))
                        if b.lower is not None), else_=0).cast("int64")


def describe(model: CreditModel) -> list[tuple[str, str]]:
    """The table's information values, the development power and this run's stability."""
    lines = [(_("information value"), _(", ").join(
        f"{c.indicator} {c.iv:.3f}" for c in sorted(model.table.characteristics,
                                                    key=lambda c: -(c.iv or 0))
        if c.iv is not None) or "-")]
    held = model.metrics.get("holdout")
    if held:
        lines.append((_("hold-out power"), _("AUC {auc}, Gini {gini}, KS {ks} on {rows} "
                                             "customers").format(**held)))
    watch = model.metrics.get("monitoring") or {}
    if "psi" in watch:
        lines.append((_("population stability (PSI)"), f"{watch['psi']:.4f}"))
    lines.append((_("points table"), _("frozen in the scheme") if model.frozen
                  else _("fitted this run")))
    return lines


def criteria_of(spec: CreditSchemeSpec) -> Criteria:
    """How the points are made and the grade bands."""
    s = spec.scaling
    lines = [_("Credit scorecard: each characteristic's bin gives points; {points} points at "
               "good:bad odds of {odds}:1, {pdo} more points each time the odds double.").format(
                   points=f"{s.points:g}", odds=f"{s.odds:g}", pdo=f"{s.pdo:g}"),
             _("Characteristics: {names}.").format(
                 names=_(", ").join(wording.name(c) for c in spec.characteristics))]
    return Criteria(tuple(lines), cuts(list(spec.tiers), _("points")))


class CreditMethod(LearningMethod[CreditSchemeSpec]):
    """``method: credit``: a credit scorecard (WoE binning, logistic regression, points)."""

    name = "credit"
    spec = CreditSchemeSpec
    model_type = CreditModel
    grade_with = grade
    texts_with = texts
    describe_with = describe

    def reads(self, spec: CreditSchemeSpec) -> list[str]:
        """The characteristics."""
        return list(spec.characteristics)

    def tiers(self, spec: CreditSchemeSpec) -> list[TierSpec]:
        """The grades, best first."""
        return list(spec.tiers)

    def criteria(self, spec: CreditSchemeSpec) -> Criteria:
        """The scheme in words."""
        return criteria_of(spec)

    def training_need(self, spec: CreditSchemeSpec) -> OutcomeTraining | None:
        """Good customers: none of the outcome over its window (none for a frozen table)."""
        if spec.points_table is not None or spec.target is None:
            return None
        return OutcomeTraining(outcome=spec.target.outcome,
                               features=tuple(spec.characteristics), top_share=0.5,
                               event="none")

    def fit(self, spec: CreditSchemeSpec, features: ir.Table, *, as_of: date,
            previous: FittedModel | None, training: ir.Table | None) -> FittedModel:
        """The frozen table, or a fit on the training table; then this run's stability."""
        del as_of, previous
        if spec.points_table is not None:
            model = frozen(spec)
        elif training is None:
            from tierwise.errors import MethodError

            raise MethodError(_("credit: fitting needs the training table the service builds "
                                "(characteristics as of T - horizon with the outcome)"))
        else:
            model = fit(spec, training)
        metrics = {**model.metrics, "monitoring": monitor(model, features)}
        return dataclasses.replace(model, metrics=metrics)

    def within_margin(self, spec: CreditSchemeSpec, features: ir.Table, held: ir.Table,
                      margin: float, *, as_of: date, scores: ir.Table | None) -> ir.Table:
        """Points cut-offs loosened by ``margin``."""
        if scores is None:
            from tierwise.errors import MethodError

            raise MethodError("credit: the downgrade margin reads the run's grades")
        return margins.scores_within(cast("ScorecardSchemeSpec", spec), scores, held, margin)
