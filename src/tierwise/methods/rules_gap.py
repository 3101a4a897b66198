"""The gap of a rules customer: the smallest change that moves them up the value ladder.

A gap only points up. For a customer in a ladder tier it names the nearest tier above that
they can reach by changing indicators in the direction that tier needs; for a customer in a
status tier, the change that takes them out of it and the tier they would then have.

* **Direction of an indicator.** The best ladder tier whose condition tests the indicator with
  thresholds of one kind decides: only lower bounds (``>=``, ``>``) make it an indicator where
  more is better, only upper bounds one where less is better. An indicator no ladder tier
  decides (e.g. one only a status tests) may move either way. A step against the direction is
  never proposed: no "spend less" to move up.
* **Reaching a tier.** Each alternative of the tier's condition (its disjunctive normal form)
  is reachable when every unmet threshold can be met in the indicator's direction and, with the
  indicators moved to the thresholds, no condition tried before the tier's (a status with a
  higher priority, say) would still catch the customer.
* **Leaving a status.** A status with a condition is left by breaking the condition (its
  negation, equalities broken upwards unless less is better); a status that is the fallback by
  reaching any ladder tier, the lowest first. The text names the tier the customer would have.
  A status whose condition is not a set of thresholds gets no gap, and the text says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from tierwise import expr
from tierwise.errors import ExprError
from tierwise.i18n import _, current
from tierwise.methods import wording
from tierwise.methods.base import concat, drop_lead, fmt
from tierwise.spec.ladder import Ladder

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import RulesSchemeSpec, TierSpec

#: The most alternatives a status's negated condition may have before it counts as not computable.
MAX_ESCAPES = 16

_LOWER = (">=", ">")
_UPPER = ("<=", "<")


def directions(ladder: Ladder) -> dict[str, str]:
    """Per indicator, ``"more"`` or ``"less"`` where the ladder says which is better."""
    out: dict[str, str] = {}
    for tier in ladder.tiers[: ladder.size]:
        dnf = expr.atoms(expr.parse(tier.when)) if tier.when else None
        ops: dict[str, set[str]] = {}
        for atom in (a for conj in dnf or [] for a in conj):
            ops.setdefault(atom.name, set()).add(atom.op)
        for name, seen in ops.items():
            if name in out:
                continue
            if seen <= set(_LOWER):
                out[name] = "more"
            elif seen <= set(_UPPER):
                out[name] = "less"
    return out


@dataclass(frozen=True)
class _Rules:
    """What every gap of a scheme reads: the scheme, its table, ladder and conditions."""

    scheme: RulesSchemeSpec
    table: ir.Table
    as_of: date
    ladder: Ladder
    order: list[TierSpec]
    direction: dict[str, str]

    def caught(self, env: dict[str, Any], before: TierSpec | None) -> ir.StringValue:
        """The tier the rules give with ``env``'s values, trying conditions up to ``before``.

        Null when no condition tried before ``before`` holds (all of them with None).
        """
        import ibis

        tried = self.order if before is None else self.order[: self.order.index(before)]
        if not tried:
            return ibis.null("string")
        branches = []
        for tier in tried:
            node = expr.parse(str(tier.when))
            values = {n: env.get(n, self.table[n]) for n in expr.names(node)}
            try:
                holds = expr.compile_condition(node, values, as_of=self.as_of)
            except ExprError:  # a moved number where the condition wants another type
                holds = expr.compile_condition(
                    node, {n: self.table[n] for n in values}, as_of=self.as_of)
            branches.append((holds, tier.key))
        if not branches:
            return ibis.null("string")
        return ibis.cases(*branches, else_=ibis.null("string"))


def gap(scheme: RulesSchemeSpec, table: ir.Table, tier: ir.StringValue, *, as_of: date
        ) -> ir.Value:
    """The gap text of every customer of ``table`` in ``tier`` (the computed tier)."""
    import ibis

    ladder = Ladder.of(scheme.tiers)
    rules = _Rules(scheme, table, as_of, ladder, scheme.evaluation_order(), directions(ladder))
    reach = {t.key: r for t in ladder.tiers[: ladder.size] if (r := _reach(rules, t))}
    # Per held tier, the targets in order of preference: the ladder tiers above, nearest
    # first; for the fallback status, the ladder from the bottom.
    wanted: dict[str, list[str]] = {}
    branches = []
    for held in ladder.tiers:
        if held.status and held.when is not None:
            text = _leave(rules, held)
            if text is not None:
                branches.append((tier == held.key, text))
            continue
        order = (reversed(ladder.tiers[: ladder.size]) if held.status
                 else ladder.above(held.key))
        wanted[held.key] = [t.key for t in order if t.key in reach]
    # Each target's text once, chosen where it is the first reachable target of the held
    # tier: a text per (held tier, target) pair made the query ten times larger.
    for key, (text, ok) in reach.items():
        chosen = [ibis.and_(tier == held, ok, *(~reach[k][1] for k in keys[: keys.index(key)]))
                  for held, keys in wanted.items() if key in keys]
        if chosen:
            branches.append((ibis.or_(*chosen), text))
    if not branches:
        return ibis.null("string")
    return ibis.cases(*branches, else_=ibis.null("string"))


def _moved(rules: _Rules, conj: list[expr.Atom]
           ) -> tuple[dict[str, Any], ir.BooleanValue, ir.StringValue]:
    """Indicators moved to meet ``conj``, whether it can be met that way, and the steps.

    It can when some threshold is unmet and every unmet one moves its indicator's way.
    """
    import ibis

    env: dict[str, Any] = {}
    allowed: list[ir.BooleanValue] = []
    met: list[ir.BooleanValue] = []
    parts: list[Any] = []
    for atom in conj:
        # Each threshold is tested on the customer's own value; the moved value of an
        # indicator with two thresholds (between) is the value clamped to both.
        value = rules.table[atom.name].cast("float64")
        holds = ibis.coalesce(_holds(value, atom.op, atom.value), False)
        unit = 1.0 if rules.table[atom.name].type().is_integer() else 0.01
        target = {">": atom.value + unit, "<": atom.value - unit}.get(atom.op, atom.value)
        way = _way(atom, value, rules.direction.get(atom.name))
        if way is not None:  # None: any move is the indicator's way
            allowed.append(holds | way)
        met.append(holds)
        moved = env.get(atom.name, value)
        bound = ibis.literal(target)
        env[atom.name] = (ibis.greatest(moved, bound) if atom.op in _LOWER
                          else ibis.least(moved, bound) if atom.op in _UPPER else bound)
        parts.append(ibis.ifelse(holds, "", concat([_(", "), _step(atom, value, target)])))
    possible = ibis.and_(*allowed, ~ibis.and_(*met))
    return env, possible, drop_lead(concat(parts), _(", "))


def _way(atom: expr.Atom, value: ir.NumericValue, direction: str | None
         ) -> ir.BooleanValue | None:
    """Whether meeting ``atom`` moves the indicator its ``direction``; None when always.

    Worked out in Python where the threshold alone decides, to keep the query small.
    """
    import ibis

    if direction is None:
        return None
    if atom.op == "==":
        up = ibis.coalesce(value, 0.0) < atom.value
        return up if direction == "more" else ~up
    if (atom.op in _LOWER) == (direction == "more"):
        return None
    return ibis.literal(False)


def _reach(rules: _Rules, target: TierSpec
           ) -> tuple[ir.StringValue, ir.BooleanValue] | None:
    """"to reach 'gold': ..." with every alternative the customer can take, and whether any.

    None when the tier has no condition of thresholds.
    """
    import ibis

    if target.when is None:
        return None
    dnf = expr.atoms(expr.parse(target.when))
    options = []
    oks = []
    for conj in dnf or []:
        if expr.unsatisfiable(conj):
            continue
        env, possible, steps = _moved(rules, conj)
        before = rules.order.index(target) if target in rules.order else 0
        ok = possible & rules.caught(env, target).isnull() if before else possible
        oks.append(ok)
        options.append(ibis.ifelse(ok, concat([_("; or "), steps]), ""))
    if not options:
        return None
    text = wording.sentence(_("to reach {tier}: {steps}"), tier=_tier(target),
                            steps=drop_lead(concat(options), _("; or ")))
    return text, ibis.or_(*oks)


def _escapes(status: TierSpec, direction: dict[str, str]) -> list[list[expr.Atom]] | None:
    """The alternatives that break ``status``'s condition; None when it has no numeric form."""
    dnf = expr.atoms(expr.parse(str(status.when)))
    if dnf is None:
        return None
    flip = {">=": "<", ">": "<=", "<=": ">", "<": ">="}
    out: list[list[expr.Atom]] = [[]]
    for conj in dnf:
        broken = [expr.Atom(a.name, flip.get(a.op) or ("<" if direction.get(a.name) == "less"
                                                      else ">"), a.value) for a in conj]
        out = [[*alt, atom] for alt in out for atom in broken]
        if len(out) > MAX_ESCAPES:
            return None
    return [alt for alt in out if not expr.unsatisfiable(alt)]


def _leave(rules: _Rules, status: TierSpec) -> ir.StringValue | None:
    """How a customer leaves ``status`` (a status with a condition), or why no change can."""
    import ibis

    escapes = _escapes(status, rules.direction)
    if escapes is None:
        return ibis.literal(_("no gap: the condition of {tier} is not a set of thresholds, so "
                              "the change that leaves it cannot be computed").format(
                                  tier=_tier(status)))
    options = []
    fallback = ibis.literal(rules.scheme.fallback)
    for conj in escapes:
        env, possible, steps = _moved(rules, conj)
        lands = ibis.coalesce(rules.caught(env, None), fallback)
        ok = possible & (lands != status.key)
        named = lands.cases(*((t.key, _tier(t)) for t in rules.ladder.tiers), else_=lands)
        then = wording.sentence(_("{steps}, then {tier}"), steps=steps, tier=named)
        options.append(ibis.ifelse(ok, concat([_("; or "), then]), ""))
    if not options:
        return None
    return wording.sentence(_("to leave {tier}: {steps}"), tier=_tier(status),
                            steps=drop_lead(concat(options), _("; or ")))


def _tier(tier: TierSpec) -> str:
    return wording.tier_name(tier.key, tier.label_text(current()))


def _holds(value: ir.NumericValue, op: str, bound: float) -> ir.BooleanValue:
    return {
        ">=": value >= bound,
        ">": value > bound,
        "<=": value <= bound,
        "<": value < bound,
        "==": value == bound,
        "!=": value != bound,
    }[op]


def _step(atom: expr.Atom, value: ir.NumericValue, target: float) -> ir.StringValue:
    """E.g. "orders_12m +1 (>= 10)": the change to ``target``, the nearest value meeting ``atom``."""
    import ibis

    bound = ibis.literal(float(target))
    name = wording.name(atom.name)
    limit = f"{wording.operator(atom.op)} {_num(atom.value)}"
    if atom.op in _LOWER:
        return wording.sentence(_("{indicator} +{amount} ({limit})"), indicator=name,
                                amount=fmt(ibis.coalesce(bound - value, bound)), limit=limit)
    if atom.op in _UPPER:
        return wording.sentence(_("{indicator} -{amount} ({limit})"), indicator=name,
                                amount=fmt(ibis.coalesce(value - bound, ibis.literal(0.0))),
                                limit=limit)
    return wording.sentence(_("{indicator} to {value} ({limit})"), indicator=name,
                            value=fmt(bound), limit=limit)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
