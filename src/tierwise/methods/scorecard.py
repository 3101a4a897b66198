"""The ``scorecard`` method: weighted dimensions normalised to 0..100 points, summed into a score.

Normalisations (``cap`` clips the raw value first):

* ``minmax``: 100 * (v - min) / (max - min); 50 when every customer has the same value.
* ``percentile``: 100 * (customers with a strictly lower value) / (N - 1); ties score equally.
* ``zscore``: clamp(50 + 50 * z / 3, 0, 100): three standard deviations span the scale; 50 when
  the standard deviation is 0.
* ``bins``: the points of the last bin whose lower bound is at most the value; 0 below the first.

``invert`` scores lower raw values higher (100 - points). A missing value scores 0 points under
every normalisation, inverted or not, capped or not; min, max, mean, standard deviation and
percentiles are taken over the customers that have a value. The score is the weighted mean of the
points (weights may add up to 1 or 100), rounded to 6 decimals so that engines agree on ties.
Tiers take customers by ``min_score`` (first tier whose minimum the score reaches), or by
``top_share`` (first tier whose cumulative share from the top is above the share of customers with
a strictly higher score).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from tierwise.i18n import _, current
from tierwise.methods import criteria, wording
from tierwise.methods import margin as margins
from tierwise.methods.base import concat, cut_by_score, drop_lead, fmt, rounded, select_grades
from tierwise.methods.criteria import Criteria
from tierwise.methods.families import DirectMethod
from tierwise.spec.models import ScorecardSchemeSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import DimensionSpec, TierSpec


def _points(dim: DimensionSpec, table: ir.Table) -> ir.Table:
    """Add ``_p`` (points 0..100) for one dimension to ``table``, keeping every row."""
    import ibis

    norm = dim.normalize
    value = table[dim.indicator].cast("float64")
    if norm.cap is not None:
        low, high = norm.cap
        # Not greatest/least: they skip nulls, so a missing value would become the cap.
        if low is not None:
            value = ibis.ifelse(value < low, float(low), value)
        if high is not None:
            value = ibis.ifelse(value > high, float(high), value)
    whole = ibis.window()
    if norm.method == "minmax":
        lo, hi = value.min().over(whole), value.max().over(whole)
        pts = ibis.ifelse(hi == lo, 50.0, 100 * (value - lo) / (hi - lo))
        table = table.mutate(_span=hi - lo)
    elif norm.method == "zscore":
        mean, std = value.mean().over(whole), value.std(how="pop").over(whole)
        z = ibis.ifelse(std == 0, 0.0, (value - mean) / std)
        pts = ibis.greatest(ibis.least(50 + 50 * z / 3, 100.0), 0.0)
    elif norm.method == "bins":
        assert norm.bins is not None
        pts = ibis.cases(
            *(
                (value >= low, float(p)) if low is not None else (value.notnull(), float(p))
                for low, p in reversed(norm.bins)
            ),
            else_=0.0,
        )
    else:  # percentile, from counts per distinct value: ties score equally, no global sort
        keyed = table.mutate(_x=value)
        present = keyed.filter(keyed._x.notnull())
        per = present.group_by("_x").aggregate(_c=present.count())
        n = per._c.sum().over(whole)
        below = per._c.sum().over(ibis.cumulative_window(order_by=per._x)) - per._c
        per = per.mutate(_p=ibis.ifelse(n <= 1, 100.0, 100 * below / (n - 1)))
        out = keyed.left_join(per.select("_x", "_p"), "_x").drop("_x", "_x_right")
        pts = out._p
        if norm.invert:
            pts = 100 - pts
        return out.mutate(_p=ibis.coalesce(pts, 0.0))
    if norm.invert and norm.method != "bins":
        pts = 100 - pts
    # Checked last: the constant-value 50 and least/greatest in zscore would score a null.
    return table.mutate(_p=ibis.ifelse(value.isnull(), 0.0, ibis.coalesce(pts, 0.0)))


def grade(scheme: ScorecardSchemeSpec, features: ir.Table) -> ir.Table:
    """Score every customer and cut the score into tiers."""
    import ibis

    total_weight = sum(d.weight for d in scheme.dimensions)
    table = features
    cols = []
    for i, dim in enumerate(scheme.dimensions):
        table = _points(dim, table).rename(**{f"pts_{i}": "_p"})
        if "_span" in table.columns:
            table = table.rename(**{f"span_{i}": "_span"})
        cols.append(f"pts_{i}")
    score = rounded(
        sum(
            (
                table[c] * (d.weight / total_weight)
                for c, d in zip(cols, scheme.dimensions, strict=True)
            ),
            ibis.literal(0.0),
        ),
        6,
    )
    table = table.mutate(_score=score)
    tiers = scheme.tiers
    # The lowest score of each tier is what the tier below must reach (``_floor``).
    table = cut_by_score(table, tiers)
    tier = table._rank.cases(*((i + 1, t.key) for i, t in enumerate(tiers)), else_=None)
    details = {f"pts_{d.indicator}": table[c] for c, d in zip(cols, scheme.dimensions, strict=True)}
    for i, dim in enumerate(scheme.dimensions):
        if _closes_gap(dim):
            details[f"span_{dim.indicator}"] = table[f"span_{i}"]
    details["next_at"] = table._floor
    return select_grades(
        table,
        tier=tier,
        rank=table._rank,
        score=table._score,
        details=details,
        value=scheme.value,
    )


def _closes_gap(dim: DimensionSpec) -> bool:
    """Whether the gap names the raw change of this dimension: min-max, higher is better."""
    return dim.normalize.method == "minmax" and not dim.normalize.invert


def texts(scheme: ScorecardSchemeSpec, table: ir.Table) -> tuple[ir.StringValue, ir.StringValue]:
    """Reasons and gaps of graded customers (``table``: grade columns, details, indicator values).

    The reasons show each dimension's points and weighted share of the score. The gap is the
    points short of the next tier (``next_at`` is its lowest score, or its ``min_score``) and,
    for each min-max dimension with room left, the raw change that alone would close it.
    """
    import ibis

    total_weight = sum(d.weight for d in scheme.dimensions)
    terms: list[Any] = []
    for i, dim in enumerate(scheme.dimensions):
        w = dim.weight / total_weight
        pts = table[f"pts_{dim.indicator}"]
        terms += [" + " if i else "", wording.sentence(
            _("{indicator} {value} -> {points} pts x {weight} = {contribution}"),
            indicator=wording.name(dim.indicator), value=fmt(table[dim.indicator]),
            points=fmt(pts, 1), weight=f"{w:g}", contribution=fmt(pts * w))]
    reasons = wording.sentence(_("score {score} = {terms}"), score=fmt(table.score),
                               terms=concat(terms))

    need = table.next_at - table.score
    target = table.tier_rank.cases(
        *((i + 2, wording.tier_word(t.key, t.label_text(current())))
          for i, t in enumerate(scheme.tiers)), else_="")
    options: list[Any] = []
    for dim in scheme.dimensions:
        if not _closes_gap(dim):
            continue
        w = dim.weight / total_weight
        span = table[f"span_{dim.indicator}"]
        delta = need / w * span / 100
        # Only when the dimension has room left: its points cannot pass 100.
        room = table[f"pts_{dim.indicator}"] + need / w <= 100
        step = wording.sentence(_("{indicator} +{amount}"), indicator=wording.name(dim.indicator),
                                amount=fmt(delta))
        options.append(ibis.ifelse(room & (span > 0), concat([_("; or "), step]), ""))
    alt = concat(options) if options else ibis.literal("")
    example = wording.sentence(_(" (e.g. {options})"), options=drop_lead(alt, _("; or ")))
    text = concat([wording.sentence(_("to reach {tier}: +{points} points"), tier=target,
                                    points=fmt(need)),
                   ibis.coalesce(example, "")])
    gap = ibis.ifelse(table.next_at.isnull() | (need <= 0), ibis.null("string"), text)
    return reasons, gap


class ScorecardMethod(DirectMethod[ScorecardSchemeSpec]):
    """``method: scorecard``: weighted, normalised dimensions summed into a 0..100 score."""

    name = "scorecard"
    spec = ScorecardSchemeSpec
    grade_with = grade
    texts_with = texts

    def reads(self, spec: ScorecardSchemeSpec) -> list[str]:
        """Each dimension's indicator."""
        return [d.indicator for d in spec.dimensions]

    def tiers(self, spec: ScorecardSchemeSpec) -> list[TierSpec]:
        """The scheme's tiers, best first."""
        return list(spec.tiers)

    def criteria(self, spec: ScorecardSchemeSpec) -> Criteria:
        """The scheme in words (:mod:`tierwise.methods.criteria`)."""
        return criteria.scorecard(spec)

    def within_margin(self, spec: ScorecardSchemeSpec, features: ir.Table, held: ir.Table,
                      margin: float, *, as_of: date, scores: ir.Table | None) -> ir.Table:
        """``min_score`` cut-offs loosened by ``margin``; ``top_share`` cuts have none."""
        if any(t.top_share is not None for t in spec.tiers):
            return super().within_margin(spec, features, held, margin, as_of=as_of,
                                         scores=scores)
        graded = scores if scores is not None else grade(spec, features)
        return margins.scores_within(spec, graded, held, margin)
