"""The ``rules`` method: ordered tiers with conditions; the first match wins; a fallback catches the rest.

The conditions compile to one ``CASE`` in the engine. A customer's reason names the rule that
matched with the indicator values it tested, and the lower-priority rules that also matched (an
overlap the order resolved). Conditions are tried in the scheme's evaluation order (``priority``,
then as listed); the value ladder is the listed order of the tiers that are not statuses. The
gap only points up the ladder (or out of a status): see :mod:`tierwise.methods.rules_gap`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from tierwise import expr
from tierwise.i18n import _, current
from tierwise.methods import criteria, rules_gap, wording
from tierwise.methods import margin as margins
from tierwise.methods.base import column, concat, drop_lead, fmt, select_grades
from tierwise.methods.criteria import Criteria
from tierwise.methods.fitted import FittedModel
from tierwise.methods.protocol import Analysis, Method
from tierwise.spec.ladder import Ladder
from tierwise.spec.models import RulesSchemeSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import TierSpec


def conditions(
    scheme: RulesSchemeSpec,
    features: ir.Table,
    *,
    as_of: date,
) -> list[tuple[TierSpec, ir.BooleanValue]]:
    """Each tier with a condition, in the order conditions are tried, as a never-null boolean."""
    out = []
    for tier in scheme.evaluation_order():
        node = expr.parse(str(tier.when))
        env = {name: column(features, name) for name in expr.names(node)}
        out.append((tier, expr.compile_condition(node, env, as_of=as_of)))
    return out


def grade(scheme: RulesSchemeSpec, features: ir.Table, *, as_of: date) -> ir.Table:
    """Grade every customer by the first tier whose condition holds, in evaluation order.

    ``tier_rank`` is the tier's rank on the value ladder (0 for a status, see
    :class:`~tierwise.spec.ladder.Ladder`), whatever order the conditions are tried in.
    """
    import ibis

    ladder = Ladder.of(scheme.tiers)
    position_of = ladder.positions
    conds = conditions(scheme, features, as_of=as_of)
    # A scheme of the fallback tier alone (a new blank scheme) has no condition to try.
    position = ibis.cases(
        *((cond, position_of[t.key]) for t, cond in conds), else_=position_of[scheme.fallback]
    ) if conds else ibis.literal(position_of[scheme.fallback], type="int64")
    # The tier from the position: the conditions are evaluated once, not once per column.
    tier = position.cases(*((i, key) for key, i in position_of.items()), else_=None)
    rank = position
    if ladder.has_statuses:
        rank = position.cases(*((i, ladder.rank(key)) for key, i in position_of.items()),
                              else_=None)
    return select_grades(features, tier=tier, rank=rank, score=None, value=scheme.value)


def texts(
    scheme: RulesSchemeSpec, table: ir.Table, *, as_of: date
) -> tuple[ir.StringValue, ir.Value]:
    """Reasons and gaps of graded customers (``table``: grade columns and indicator values).

    Both describe the tier the rules computed (``computed_tier`` when a policy or an override
    changed the tier, else ``tier``): the rule that matched is the computed tier's.
    """
    import ibis

    conds = conditions(scheme, table, as_of=as_of)
    computed = table.computed_tier if "computed_tier" in table.columns else table.tier
    reasons = ibis.cases(
        *(
            (computed == t.key, _reason(t, table, conds[i + 1 :]))
            for i, (t, _c) in enumerate(conds)
        ),
        else_=_fallback_reason(scheme, conds, table),
    ) if conds else _fallback_reason(scheme, conds, table)
    return reasons, rules_gap.gap(scheme, table, computed, as_of=as_of)


def _values(features: ir.Table, names: list[str]) -> ir.StringValue:
    """E.g. "orders_12m=9; spend_12m=10000": each indicator's value (labels in Chinese)."""
    parts: list[Any] = []
    for i, name in enumerate(names):
        parts += [(_("; ") if i else "") + wording.name(name) + "=",
                  fmt(column(features, name))]
    return concat(parts)


def _reason(
    tier: TierSpec,
    features: ir.Table,
    later: list[tuple[TierSpec, ir.BooleanValue]],
) -> ir.StringValue:
    import ibis

    assert tier.when is not None
    node = expr.parse(tier.when)
    names = sorted(expr.names(node))
    text = wording.sentence(_("rule {tier} matched: {condition} [{values}]"),
                            tier=wording.tier_name(tier.key, tier.label_text(current())),
                            condition=wording.condition(node), values=_values(features, names))
    if not later:
        return text
    sep = _(", ")
    also = [ibis.ifelse(cond, sep + wording.tier_name(t.key, t.label_text(current()))
                        .strip("'"), "") for t, cond in later]
    # coalesce over a null instead of "if empty then ... else ...": each text is then
    # written once in the SQL (see drop_lead).
    also_text = drop_lead(concat(also), sep)
    more = wording.sentence(_("; also matched lower-priority {tiers}"), tiers=also_text)
    return concat([text, ibis.coalesce(more, "")])


def _fallback_reason(
    scheme: RulesSchemeSpec, conds: list[tuple[TierSpec, ir.BooleanValue]], features: ir.Table
) -> ir.StringValue:
    names = sorted({n for t, _c in conds for n in expr.names(expr.parse(str(t.when)))})
    fallback = next(t for t in scheme.tiers if t.key == scheme.fallback)
    return wording.sentence(_("no rule matched; fallback {tier} [{values}]"),
                            tier=wording.tier_name(fallback.key, fallback.label_text(current())),
                            values=_values(features, names))


@dataclass(frozen=True)
class RuleAnalysis:
    """How a rule set behaves on the data at hand.

    Attributes:
        customers: customers graded.
        matches: per tier, customers whose condition holds (whatever the order).
        wins: per tier, customers who got the tier (first match, or the fallback).
        overlaps: (tier, tier, customers) for pairs of conditions that hold together.
        fallback_only: customers no condition caught.
        never_match: tiers whose condition holds for nobody in the data.
        unsatisfiable: tiers whose condition can hold for nobody at all (e.g. x >= 10 and x < 5).

    """

    customers: int
    matches: dict[str, int]
    wins: dict[str, int]
    overlaps: list[tuple[str, str, int]]
    fallback_only: int
    never_match: list[str]
    unsatisfiable: list[str]


def analysis_expr(
    scheme: RulesSchemeSpec,
    features: ir.Table,
    *,
    as_of: date,
) -> tuple[ir.Table, list[tuple[TierSpec, ir.BooleanValue]]]:
    """One aggregate computing every count the analysis needs, in a single scan."""
    import ibis

    conds = conditions(scheme, features, as_of=as_of)
    metrics: dict[str, Any] = {"n": features.count()}
    for i, (_t, cond) in enumerate(conds):
        metrics[f"m{i}"] = features.count(where=cond)
        for j in range(i + 1, len(conds)):
            metrics[f"o{i}_{j}"] = features.count(where=cond & conds[j][1])
    caught = ibis.or_(*(c for _, c in conds)) if conds else ibis.literal(False)
    metrics["fallback_only"] = features.count(where=~caught)
    return features.aggregate(**metrics), conds


def analyse(
    scheme: RulesSchemeSpec,
    counts: dict[str, int],
    wins: dict[str, int],
    conds: list[tuple[TierSpec, Any]],
) -> RuleAnalysis:
    """Assemble the analysis from the counts of :func:`analysis_expr` and the tier counts."""
    matches = {t.key: counts[f"m{i}"] for i, (t, _c) in enumerate(conds)}
    overlaps = [
        (conds[i][0].key, conds[j][0].key, counts[f"o{i}_{j}"])
        for i in range(len(conds))
        for j in range(i + 1, len(conds))
        if counts[f"o{i}_{j}"]
    ]
    unsat = []
    for tier, _c in conds:
        dnf = expr.atoms(expr.parse(str(tier.when)))
        if dnf is not None and all(expr.unsatisfiable(c) for c in dnf):
            unsat.append(tier.key)
    return RuleAnalysis(
        customers=counts["n"],
        matches=matches,
        wins={t.key: wins.get(t.key, 0) for t in scheme.tiers},
        overlaps=overlaps,
        fallback_only=counts["fallback_only"],
        never_match=[k for k, v in matches.items() if v == 0],
        unsatisfiable=unsat,
    )


@dataclass(frozen=True)
class RuleCounts(Analysis[RuleAnalysis]):
    """The rule analysis as the services run it: one count query, then :meth:`finish`."""

    scheme: RulesSchemeSpec
    counts: ir.Table
    conds: list[tuple[TierSpec, Any]]

    @property
    def query(self) -> ir.Table:
        """Every count of :func:`analysis_expr`, in one row."""
        return self.counts

    def finish(self, counts: Mapping[str, int], wins: Mapping[str, int]) -> RuleAnalysis:
        """The analysis from the counts and the customers per computed tier."""
        return analyse(self.scheme, dict(counts), dict(wins), self.conds)


class RulesMethod(Method[RulesSchemeSpec]):
    """``method: rules``: ordered conditions, the first match wins, a fallback catches the rest."""

    name = "rules"
    spec = RulesSchemeSpec
    # Rules give no score (it is null): nothing orders customers within a tier.
    score_ranks = False

    def reads(self, spec: RulesSchemeSpec) -> list[str]:
        """The indicators every condition tests, tier by tier."""
        names: list[str] = []
        for tier in spec.tiers:
            if tier.when:
                names += sorted(expr.names(expr.parse(tier.when)))
        return names

    def tiers(self, spec: RulesSchemeSpec) -> list[TierSpec]:
        """The scheme's tiers in value order: the ladder best first, then the statuses."""
        return list(Ladder.of(spec.tiers).tiers)

    def criteria(self, spec: RulesSchemeSpec) -> Criteria:
        """The scheme in words (:mod:`tierwise.methods.criteria`)."""
        return criteria.rules(spec)

    def grade(self, spec: RulesSchemeSpec, features: ir.Table, *, as_of: date,
              model: FittedModel | None) -> ir.Table:
        """The first tier whose condition holds."""
        del model
        return grade(spec, features, as_of=as_of)

    def texts(self, spec: RulesSchemeSpec, table: ir.Table, *, as_of: date
              ) -> tuple[ir.StringValue, ir.Value]:
        """The rule that matched with its values; what the next tier's condition needs."""
        return texts(spec, table, as_of=as_of)

    def analysis(self, spec: RulesSchemeSpec, features: ir.Table, *, as_of: date
                 ) -> RuleCounts:
        """Matches, overlaps, rules that never match (:class:`RuleAnalysis`)."""
        counts, conds = analysis_expr(spec, features, as_of=as_of)
        return RuleCounts(spec, counts, conds)

    def within_margin(self, spec: RulesSchemeSpec, features: ir.Table, held: ir.Table,
                      margin: float, *, as_of: date, scores: ir.Table | None) -> ir.Table:
        """The held tier's condition with its thresholds loosened by ``margin``."""
        del scores
        return margins.rules_within(spec, features, held, margin, as_of=as_of)
