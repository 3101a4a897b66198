"""The ``rfm`` method: recency, frequency and monetary scores, an RFM code, and a segment map.

Scoring rule (quantiles, the default). For frequency and monetary, a customer's score is

    score = 1 + floor(n * below / N)

where ``n`` is the number of scores, ``N`` the number of customers and ``below`` the number of
customers with a strictly lower value; for recency ``below`` counts customers with strictly *more*
days since their last purchase. Customers with equal values therefore always get equal scores
(frequency is heavily tied: an arbitrary tie-break would grade identical customers differently),
and the score depends only on counts per distinct value, which the engine gets from a grouped
count: no sort of all customers. A missing value (never bought) counts as the worst value.

With fixed ``cuts`` (ascending): frequency and monetary score ``1 + #{cuts <= value}``; recency
cut points are day limits, scoring ``n - #{cuts < days}`` (with 30/90/180/365 and n = 5, a purchase
at most 30 days ago scores 5).

Segment maps:

* ``standard11`` (n = 5): on R and FM = ceil((F + M) / 2), a partition of the 25 (R, FM) cells:
  champions R5 FM4-5; loyal_customers R3-4 FM4-5; potential_loyalists R4-5 FM2-3;
  new_customers R5 FM1; promising R4 FM1; need_attention R3 FM3; about_to_sleep R3 FM1-2;
  cant_lose_them R1-2 FM5; at_risk R1-2 FM3-4; hibernating R2 FM1-2; lost R1 FM1-2.
* ``cn8``, the Chinese 8-class value map (RFM 客户价值八分类): each of R, F, M is *high* when the
  customer's score is strictly above the mean score of all graded customers, else *low*;
  重要价值 = R F M high; 重要保持 = R low, F M high; 重要发展 = R high, F low, M high;
  重要挽留 = R F low, M high; 一般价值 = R F high, M low; 一般保持 = R low, F high, M low;
  一般发展 = R high, F M low; 一般挽留 = R F M low.

A scheme's ``tiers`` relabel segments by key; ``status: true`` takes a segment off the value
ladder (e.g. ``lost``): its ``tier_rank`` is 0 and moves into it are not downgrades.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tierwise.i18n import _
from tierwise.methods import criteria, wording
from tierwise.methods.base import concat, drop_lead, fmt, select_grades
from tierwise.methods.criteria import Criteria
from tierwise.methods.families import DirectMethod
from tierwise.spec.ladder import Ladder
from tierwise.spec.models import Label, RfmSchemeSpec, TierSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir


@dataclass(frozen=True)
class Segment:
    """One segment of a map: its key, labels and the cells it takes."""

    key: str
    en: str
    zh: str
    cells: frozenset[tuple[int, ...]]


def _grid(spec: dict[str, tuple[str, str, list[tuple[int, int]]]]) -> list[Segment]:
    return [Segment(k, en, zh, frozenset(cells)) for k, (en, zh, cells) in spec.items()]


def _cells(rs: range, fms: range) -> list[tuple[int, int]]:
    return [(r, fm) for r in rs for fm in fms]


STANDARD11 = _grid(
    {
        "champions": ("Champions", "冠军客户", _cells(range(5, 6), range(4, 6))),
        "loyal_customers": ("Loyal customers", "忠诚客户", _cells(range(3, 5), range(4, 6))),
        "potential_loyalists": (
            "Potential loyalists",
            "潜力忠诚客户",
            _cells(range(4, 6), range(2, 4)),
        ),
        "new_customers": ("New customers", "新客户", _cells(range(5, 6), range(1, 2))),
        "promising": ("Promising", "有潜力客户", _cells(range(4, 5), range(1, 2))),
        "need_attention": ("Need attention", "需关注客户", _cells(range(3, 4), range(3, 4))),
        "about_to_sleep": ("About to sleep", "即将沉睡客户", _cells(range(3, 4), range(1, 3))),
        "cant_lose_them": ("Can't lose them", "不能失去的客户", _cells(range(1, 3), range(5, 6))),
        "at_risk": ("At risk", "流失风险客户", _cells(range(1, 3), range(3, 5))),
        "hibernating": ("Hibernating", "休眠客户", _cells(range(2, 3), range(1, 3))),
        "lost": ("Lost", "已流失客户", _cells(range(1, 2), range(1, 3))),
    }
)

# (R high, F high, M high) -> segment; 1 = high.
CN8 = [
    Segment("important_value", "Important value", "重要价值客户", frozenset({(1, 1, 1)})),
    Segment("important_retain", "Important to retain", "重要保持客户", frozenset({(0, 1, 1)})),
    Segment("important_develop", "Important to develop", "重要发展客户", frozenset({(1, 0, 1)})),
    Segment("important_winback", "Important to win back", "重要挽留客户", frozenset({(0, 0, 1)})),
    Segment("general_value", "General value", "一般价值客户", frozenset({(1, 1, 0)})),
    Segment("general_retain", "General to retain", "一般保持客户", frozenset({(0, 1, 0)})),
    Segment("general_develop", "General to develop", "一般发展客户", frozenset({(1, 0, 0)})),
    Segment("general_winback", "General to win back", "一般挽留客户", frozenset({(0, 0, 0)})),
]


def segment_map(scheme: RfmSchemeSpec) -> list[Segment]:
    """The scheme's segment map."""
    return STANDARD11 if scheme.segments == "standard11" else CN8


def tiers(scheme: RfmSchemeSpec) -> list[TierSpec]:
    """The scheme's tiers: the segment map's, relabelled where the scheme lists the same keys.

    In value order: the map's order, with the segments the scheme declares statuses last.
    """
    given = {t.key: t for t in scheme.tiers or []}
    return list(Ladder.of(
        given.get(s.key) or TierSpec(key=s.key, label=Label(en=s.en, zh=s.zh))
        for s in segment_map(scheme)
    ).tiers)


def _oriented(value: ir.NumericValue, *, lower_is_better: bool) -> ir.FloatingValue:
    """The value as a key where larger is better and a missing value is the worst."""
    import ibis

    key = (-value if lower_is_better else value).cast("float64")
    return ibis.coalesce(key, ibis.literal(float("-inf")))


def _thresholds(keys: ir.FloatingValue, *, n: int) -> ir.Table:
    """One row: ``_min{s}``, the least key scoring ``s``, for each score (null when none does).

    Built from counts per distinct value, so the engine sorts distinct values, not customers;
    scores then follow from at most ``n`` comparisons per customer, with no join of customers.
    """
    import ibis

    keyed = keys.name("_k").as_table()
    counts = keyed.group_by("_k").aggregate(_c=keyed.count())
    total = counts._c.sum().over(ibis.window())
    below = counts._c.sum().over(ibis.cumulative_window(order_by=counts._k)) - counts._c
    counts = counts.mutate(_s=(1 + (n * below / total).floor()).cast("int64"))
    return counts.aggregate(
        **{f"_min{s}": counts._k.min(where=counts._s == s) for s in range(1, n + 1)}
    )


def _from_thresholds(key: ir.FloatingValue, table: ir.Table, *, n: int
                     ) -> tuple[ir.IntegerValue, ir.Value, ir.Value]:
    """Score, next score and the least key reaching it, from the ``_min{s}`` columns."""
    import ibis

    mins = {s: table[f"_min{s}"] for s in range(1, n + 1)}
    score = ibis.cases(*((key >= mins[s], s) for s in range(n, 1, -1)), else_=1)

    def first_after(s: int, pick: Any) -> Any:
        later = [(mins[t].notnull(), pick(t)) for t in range(s + 1, n + 1)]
        return ibis.cases(*later, else_=None) if later else ibis.null()

    nxt = score.cases(*((s, first_after(s, lambda t: t)) for s in range(1, n)), else_=None)
    nkey = score.cases(*((s, first_after(s, lambda t: mins[t])) for s in range(1, n)),
                       else_=None)
    return score.cast("int64"), nxt.cast("int64"), nkey.cast("float64")


def _fixed(value: ir.NumericValue, cuts: list[float], *, n: int, lower: bool
           ) -> tuple[ir.IntegerValue, ir.Value, ir.Value]:
    """Score, next score and the oriented key reaching it, under fixed cut points."""
    import ibis

    if lower:
        score = n - sum(
            (ibis.ifelse(ibis.coalesce(value > c, True), 1, 0) for c in cuts), ibis.literal(0)
        )
        # days <= cuts[n - 1 - s] reaches score s + 1; the oriented key is -days
        steps = [(s, -cuts[n - 1 - s]) for s in range(1, n)]
    else:
        score = 1 + sum(
            (ibis.ifelse(ibis.coalesce(value >= c, False), 1, 0) for c in cuts), ibis.literal(0)
        )
        steps = [(s, cuts[s - 1]) for s in range(1, n)]  # value >= cuts[s - 1] reaches s + 1
    score = score.cast("int64")
    nxt = ibis.ifelse(score < n, score + 1, ibis.null("int64"))
    nkey = score.cases(*((s, float(k)) for s, k in steps), else_=ibis.null("float64"))
    return score, nxt, nkey


def grade(scheme: RfmSchemeSpec, features: ir.Table) -> ir.Table:
    """Score R, F and M, build the RFM code and place each customer in the segment map."""
    import ibis

    n = scheme.scores
    cuts = scheme.cuts or {}
    dims = {
        "r": (scheme.recency, True, cuts.get("recency")),
        "f": (scheme.frequency, False, cuts.get("frequency")),
        "m": (scheme.monetary, False, cuts.get("monetary")),
    }
    table = features
    for dim, (name, lower, dim_cuts) in dims.items():
        if dim_cuts is not None:
            score, nxt, nkey = _fixed(table[name], dim_cuts, n=n, lower=lower)
            table = table.mutate(
                **{f"{dim}_score": score, f"{dim}_ns": nxt, f"{dim}_nk": nkey}
            )
            continue
        # Thresholds from the feature table itself, so each is one aggregate of it.
        limits = _thresholds(_oriented(features[name], lower_is_better=lower), n=n)
        table = table.cross_join(limits)
        key = _oriented(table[name], lower_is_better=lower)
        score, nxt, nkey = _from_thresholds(key, table, n=n)
        table = table.mutate(
            **{f"{dim}_score": score, f"{dim}_ns": nxt, f"{dim}_nk": nkey}
        ).drop(*(f"_min{s}" for s in range(1, n + 1)))
    r, f, m = table.r_score, table.f_score, table.m_score
    segs = segment_map(scheme)
    keys: list[Any]
    details: dict[str, Any] = {}
    if scheme.segments == "standard11":
        keys = [r, ((f + m + 1) / 2).floor().cast("int64")]
    else:
        highs = [(s > s.mean().over(ibis.window())) for s in (r, f, m)]
        keys = [ibis.ifelse(h, 1, 0) for h in highs]
        details = {f"{d}_high": h for d, h in zip("rfm", highs, strict=True)}
    # One integer per cell (keys are below 16), then one lookup for the rank and a short one
    # for the tier: a CASE of conjunctions per cell, evaluated twice, cost a second at 10M.
    def code_of(cell: tuple[int, ...]) -> int:
        return sum(v * 16**i for i, v in enumerate(reversed(cell)))

    code = sum((k * 16**i for i, k in enumerate(reversed(keys))), ibis.literal(0))
    # The segment's position in value order (a status segment sorts after the ladder).
    ladder = Ladder.of(tiers(scheme))
    position_of = ladder.positions
    position = code.cases(
        *((code_of(cell), position_of[seg.key]) for seg in segs for cell in seg.cells),
        else_=None,
    )
    tier = position.cases(*((i, key) for key, i in position_of.items()), else_=None)
    rank = ladder.stored_rank(position)
    for dim in "rfm":
        nkey = table[f"{dim}_nk"]
        details[f"{dim}_next_score"] = table[f"{dim}_ns"].cast("int32")
        # The raw value reaching the next score: days at most this for R, at least this else.
        details[f"{dim}_next_at"] = -nkey if dim == "r" else nkey
    # Single-digit scores make the code one number written out (0.4 s less than three strings
    # joined, at 10M customers); with 10 scores a "10" takes two characters. ``codes`` lists
    # the same strings.
    rfm_code = (
        (r * 100 + f * 10 + m).cast("string")
        if n <= 9
        else concat([r.cast("string"), f.cast("string"), m.cast("string")])
    )
    return select_grades(
        table,
        tier=tier,
        rank=rank,
        score=(r + f + m),
        details={
            "r_score": r.cast("int32"),
            "f_score": f.cast("int32"),
            "m_score": m.cast("int32"),
            "rfm_code": rfm_code,
            **details,
        },
        value=scheme.value,
    )


def texts(scheme: RfmSchemeSpec, table: ir.Table) -> tuple[ir.StringValue, ir.StringValue]:
    """Reasons and gaps of graded customers (``table``: grade columns and indicator values)."""
    r, f, m = table.r_score, table.f_score, table.m_score
    if scheme.segments == "standard11":
        fm = ((f + m + 1) / 2).floor().cast("int64")
        basis = wording.sentence(_("R {r}, FM {fm} (FM = ceil((F+M)/2))"), r=r.cast("string"),
                                 fm=fm.cast("string"))
    else:
        basis = wording.sentence(_("R {r}, F {f}, M {m} (high = score above the mean score)"),
                                 r=_hl(table.r_high), f=_hl(table.f_high), m=_hl(table.m_high))
    reasons = wording.sentence(
        _("R {r} ({recency}={recency_value}), F {f} ({frequency}={frequency_value}), "
          "M {m} ({monetary}={monetary_value}); code {code}; {basis}"),
        r=r.cast("string"), recency=wording.name(scheme.recency),
        recency_value=fmt(table[scheme.recency]), f=f.cast("string"),
        frequency=wording.name(scheme.frequency), frequency_value=fmt(table[scheme.frequency]),
        m=m.cast("string"), monetary=wording.name(scheme.monetary),
        monetary_value=fmt(table[scheme.monetary]), code=table.rfm_code, basis=basis)
    return reasons, _gap(scheme, table)


def _hl(high: ir.BooleanValue) -> ir.StringValue:
    import ibis

    return ibis.ifelse(high, _("high"), _("low"))


def _gap(scheme: RfmSchemeSpec, table: ir.Table) -> ir.StringValue:
    """Per dimension below the top score, the value that reaches the next score."""
    import ibis

    parts = []
    labels = {
        "r": (scheme.recency, "<="),
        "f": (scheme.frequency, ">="),
        "m": (scheme.monetary, ">="),
    }
    sep = _("; ")
    for dim, (name, op) in labels.items():
        score, nxt = table[f"{dim}_score"], table[f"{dim}_next_score"]
        need = wording.sentence(
            _("{dimension} {score}->{next}: {indicator} {operator} {value}"),
            dimension=dim.upper(), score=score.cast("string"), next=nxt.cast("string"),
            indicator=wording.name(name), operator=wording.operator(op),
            value=fmt(table[f"{dim}_next_at"]))
        parts.append(ibis.ifelse(nxt.isnull(), "", concat([sep, need])))
    return drop_lead(concat(parts), sep)


def codes(scheme: RfmSchemeSpec) -> list[str]:
    """Every RFM code :func:`grade` can give, as it spells them (scores 1..n each)."""
    n = scheme.scores
    scores = range(1, n + 1)
    if n <= 9:
        return [str(r * 100 + f * 10 + m) for r in scores for f in scores for m in scores]
    return [f"{r}{f}{m}" for r in scores for f in scores for m in scores]


class RfmMethod(DirectMethod[RfmSchemeSpec]):
    """``method: rfm``: recency, frequency and monetary scores mapped to named segments."""

    name = "rfm"
    spec = RfmSchemeSpec
    grade_with = grade
    texts_with = texts

    def reads(self, spec: RfmSchemeSpec) -> list[str]:
        """Recency, frequency and monetary."""
        return [spec.recency, spec.frequency, spec.monetary]

    def tiers(self, spec: RfmSchemeSpec) -> list[TierSpec]:
        """The segment map's tiers (relabelled by the scheme's ``tiers``)."""
        return tiers(spec)

    def criteria(self, spec: RfmSchemeSpec) -> Criteria:
        """The scheme in words (:mod:`tierwise.methods.criteria`)."""
        return criteria.rfm(spec)

    def closed_details(self, spec: RfmSchemeSpec) -> dict[str, list[str]]:
        """The RFM code: one of the n * n * n combinations of scores."""
        return {"rfm_code": codes(spec)}
