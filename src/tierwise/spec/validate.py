"""Cross-reference checks of a parsed project: names, expressions, tiers, weights.

These run after every section parsed, so they see the whole project: an indicator naming an unknown
source, a rule testing an unknown indicator, a fallback naming no tier, weights that do not add up.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping

from tierwise import expr
from tierwise.errors import ExprError, Problem
from tierwise.spec.loader import Located, dotted
from tierwise.spec.models import (
    AbcSchemeSpec,
    AggregateIndicatorSpec,
    AttributeIndicatorSpec,
    ClusterSchemeSpec,
    ClvSchemeSpec,
    DerivedIndicatorSpec,
    ModelSchemeSpec,
    ProjectSpec,
    RfmSchemeSpec,
    RulesSchemeSpec,
    SchemeSpec,
    ScorecardSchemeSpec,
    SourceSpec,
    TierSpec,
)

CUSTOMERS = "customers"
_COLUMN_TYPES = {
    "string": "string",
    "int": "number",
    "float": "number",
    "decimal": "number",
    "date": "date",
    "timestamp": "date",
    "bool": "bool",
}


def column_type(source: SourceSpec, column: str) -> str | None:
    """Expression type of a declared column, or None when the source declares no columns."""
    spec = source.columns.get(column)
    return _COLUMN_TYPES[spec.type] if spec else None


def _suggest(name: str, options: Mapping[str, object] | set[str]) -> str:
    close = difflib.get_close_matches(name, list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def indicator_types(project: ProjectSpec) -> dict[str, str]:
    """Expression type of every indicator that can be typed (derived ones in dependency order)."""
    types: dict[str, str] = {}
    customers = project.sources.get(CUSTOMERS)
    for name, ind in project.indicators.items():
        if isinstance(ind, AggregateIndicatorSpec):
            source = project.sources.get(ind.source)
            col = column_type(source, ind.column) if source and ind.column else None
            if ind.agg in ("min", "max", "first", "last"):
                types[name] = col or "number"
            else:
                types[name] = "number"
        elif isinstance(ind, AttributeIndicatorSpec):
            types[name] = (column_type(customers, ind.attribute) if customers else None) or "string"
    pending = {n: i for n, i in project.indicators.items() if isinstance(i, DerivedIndicatorSpec)}
    while pending:
        progressed = False
        for name, ind in list(pending.items()):
            try:
                node = expr.parse(ind.expr)
                if expr.names(node) <= types.keys():
                    types[name] = expr.check(node, types)
                    del pending[name]
                    progressed = True
            except ExprError:
                del pending[name]
                progressed = True
        if not progressed:
            break
    return types


def semantic_problems(project: ProjectSpec, located: Located) -> list[Problem]:
    """Every cross-reference problem in ``project``, located in the file."""
    return list(_problems(project, located))


def _expr_problems(
    text: str,
    types: Mapping[str, str],
    path: tuple[str | int, ...],
    located: Located,
    *,
    condition: bool,
) -> Iterator[Problem]:
    """Problems of one expression; a ``condition`` (a rule, a ``where``) must be true/false."""
    try:
        node = expr.parse(text)
        if condition:
            expr.check_condition(node, types)
        else:
            expr.check(node, types)
    except ExprError as exc:
        for p in exc.problems:
            yield Problem(p.message, where=located.where(path), path=dotted(path))


def _problems(project: ProjectSpec, located: Located) -> Iterator[Problem]:
    def problem(message: str, *path: str | int) -> Problem:
        return Problem(message, where=located.where(path), path=dotted(path))

    if CUSTOMERS not in (located.doc.get("sources") or {}):
        yield problem("a project needs a `customers` source (one row per customer)", "sources")
    for name, source in project.sources.items():
        if name != CUSTOMERS and source.time is None:
            yield problem(
                f"event source {name!r} needs `time:` (the column dating each row)", "sources", name
            )
        if source.refunds and source.columns:
            col_types = {c: _COLUMN_TYPES[s.type] for c, s in source.columns.items()}
            yield from _expr_problems(
                source.refunds, col_types, ("sources", name, "refunds"), located, condition=True
            )

    types = indicator_types(project)
    customers = project.sources.get(CUSTOMERS)
    for name, ind in project.indicators.items():
        at = ("indicators", name)
        if isinstance(ind, AggregateIndicatorSpec):
            found = project.sources.get(ind.source)
            if found is None:
                yield problem(
                    f"unknown source {ind.source!r}{_suggest(ind.source, project.sources)}",
                    *at,
                    "source",
                )
                continue
            source = found
            if ind.source == CUSTOMERS:
                yield problem(
                    "aggregates run over event sources; use `attribute:` for customer columns",
                    *at,
                    "source",
                )
            if source.columns and ind.column and ind.column not in source.columns:
                yield problem(
                    f"source {ind.source!r} has no column {ind.column!r}"
                    f"{_suggest(ind.column, source.columns)}",
                    *at,
                    "column",
                )
            if (
                source.columns
                and ind.column
                and ind.agg in ("sum", "avg")
                and column_type(source, ind.column) != "number"
            ):
                yield problem(
                    f"agg {ind.agg!r} needs a numeric column; {ind.column!r} is "
                    f"{source.columns[ind.column].type}",
                    *at,
                    "agg",
                )
            if ind.where and source.columns:
                col_types = {c: _COLUMN_TYPES[s.type] for c, s in source.columns.items()}
                yield from _expr_problems(
                    ind.where, col_types, (*at, "where"), located, condition=True
                )
        elif isinstance(ind, AttributeIndicatorSpec):
            if customers and customers.columns and ind.attribute not in customers.columns:
                yield problem(
                    f"the customers source has no column {ind.attribute!r}"
                    f"{_suggest(ind.attribute, customers.columns)}",
                    *at,
                    "attribute",
                )
        else:
            yield from _derived_problems(name, ind, project, types, located)

    for name, scheme in project.schemes.items():
        at = ("schemes", name)
        # (field path under the scheme, indicator, what uses it): each must name a number.
        refs: list[tuple[tuple[str | int, ...], str, str]] = []
        if scheme.value:
            use = "the abc value" if isinstance(scheme, AbcSchemeSpec) else "the scheme's value"
            refs.append((("value",), scheme.value, use))
        if isinstance(scheme, RulesSchemeSpec | ScorecardSchemeSpec | AbcSchemeSpec):
            yield from _tier_key_problems(scheme.tiers, at, problem)
        if isinstance(scheme, ModelSchemeSpec):
            yield from _tier_key_problems(scheme.tiers, at, problem)
            refs += [(("features", i), name, "a model feature")
                     for i, name in enumerate(scheme.features)]
            if scheme.target.outcome:
                yield from _cutoff_problems(scheme.tiers, at, problem)
                outcome = project.indicators.get(scheme.target.outcome)
                if outcome is not None and not (
                        isinstance(outcome, AggregateIndicatorSpec) and outcome.window
                        and not outcome.window.offset):
                    yield problem(
                        f"the outcome {scheme.target.outcome!r} must be an aggregate with a "
                        "window and no offset: the window is the horizon the model predicts",
                        *at, "target", "outcome")
                refs.append((("target", "outcome"), scheme.target.outcome, "the outcome"))
            elif any(t.min_score is not None or t.top_share is not None for t in scheme.tiers):
                yield problem("with `labels` each customer gets the most probable tier; remove "
                              "`min_score` / `top_share` from the tiers", *at, "tiers")
            elif scheme.target.labels not in project.indicators:
                yield problem(f"labels {scheme.target.labels!r} is not an indicator",
                              *at, "target", "labels")
        if isinstance(scheme, ClvSchemeSpec):
            yield from _tier_key_problems(scheme.tiers, at, problem)
            yield from _cutoff_problems(scheme.tiers, at, problem)
            refs += [((field,), name, f"the clv {field}") for field, name in (
                ("purchases", scheme.purchases), ("first", scheme.first), ("last", scheme.last),
                ("spend", scheme.spend), ("first_spend", scheme.first_spend)) if name]
        if isinstance(scheme, ClusterSchemeSpec):
            yield from _tier_key_problems(scheme.tiers or [], at, problem)
            refs += [(("indicators", i), name, "a clustered indicator")
                     for i, name in enumerate(scheme.indicators)]
        if isinstance(scheme, RulesSchemeSpec):
            keys = [t.key for t in scheme.tiers]
            if scheme.fallback not in keys:
                yield problem(
                    f"fallback {scheme.fallback!r} is not a tier key; tiers are {', '.join(keys)}",
                    *at,
                    "fallback",
                )
            for i, tier in enumerate(scheme.tiers):
                if scheme.fallback not in keys:
                    if tier.when:
                        yield from _expr_problems(
                            tier.when, types, (*at, "tiers", i, "when"), located, condition=True
                        )
                elif tier.key == scheme.fallback:
                    if tier.when:
                        yield problem(
                            "the fallback tier takes every customer no rule matched; "
                            "remove its `when:`",
                            *at,
                            "tiers",
                            i,
                            "when",
                        )
                elif not tier.when:
                    yield problem(
                        f"tier {tier.key!r} needs `when:` (only the fallback has none)",
                        *at,
                        "tiers",
                        i,
                    )
                else:
                    yield from _expr_problems(
                        tier.when, types, (*at, "tiers", i, "when"), located, condition=True
                    )
        elif isinstance(scheme, ScorecardSchemeSpec):
            total = sum(d.weight for d in scheme.dimensions)
            if abs(total - 1) > 1e-9 and abs(total - 100) > 1e-6:
                yield problem(
                    f"dimension weights add up to {total:g}; make them add up to 1 (or 100)",
                    *at,
                    "dimensions",
                )
            seen: set[str] = set()
            for i, dim in enumerate(scheme.dimensions):
                refs.append(
                    (("dimensions", i, "indicator"), dim.indicator, "a scorecard dimension")
                )
                if dim.indicator in seen:
                    # Points and reasons are kept per indicator (pts_<indicator>).
                    yield problem(
                        f"indicator {dim.indicator!r} is scored twice; keep one dimension "
                        "for it and add up the weights",
                        *at,
                        "dimensions",
                        i,
                        "indicator",
                    )
                seen.add(dim.indicator)
            yield from _cutoff_problems(scheme.tiers, at, problem)
        elif isinstance(scheme, RfmSchemeSpec):
            refs += [
                ((part,), getattr(scheme, part), f"rfm {part}")
                for part in ("recency", "frequency", "monetary")
            ]
        elif isinstance(scheme, AbcSchemeSpec):
            shares = [t.cumulative for t in scheme.tiers]
            if shares[-1] is not None:
                yield problem(
                    "the last class takes the rest; remove its `cumulative:`",
                    *at,
                    "tiers",
                    len(shares) - 1,
                )
            given = [s for s in shares[:-1] if s is not None]
            if len(given) != len(shares) - 1:
                yield problem(
                    "every class but the last needs `cumulative:` (e.g. 0.8)", *at, "tiers"
                )
            elif given != sorted(given) or len(set(given)) != len(given):
                yield problem(f"cumulative shares must increase, got {given}", *at, "tiers")
        yield from _margin_problems(scheme, at, problem)
        for field, ref, use in refs:
            if ref not in project.indicators:
                yield problem(
                    f"unknown indicator {ref!r}{_suggest(ref, project.indicators)}", *at, *field
                )
            elif types.get(ref, "number") != "number":
                fix = (
                    f"derive a number with `expr: days_since({ref})`"
                    if types[ref] == "date"
                    else "use a count, sum or average, or a numeric column"
                )
                yield problem(
                    f"indicator {ref!r} is a {types[ref]}, but {use} needs a number; {fix}",
                    *at,
                    *field,
                )


def _derived_problems(
    name: str,
    ind: DerivedIndicatorSpec,
    project: ProjectSpec,
    types: Mapping[str, str],
    located: Located,
) -> Iterator[Problem]:
    at = ("indicators", name, "expr")
    try:
        node = expr.parse(ind.expr)
    except ExprError as exc:
        for p in exc.problems:
            yield Problem(p.message, where=located.where(at), path=dotted(at))
        return
    if name in _reachable(name, project):
        yield Problem(
            f"indicator {name!r} depends on itself through its expression",
            where=located.where(at),
            path=dotted(at),
        )
        return
    known = {n: t for n, t in types.items() if n != name}
    missing = sorted(expr.names(node) - project.indicators.keys())
    if missing:
        yield Problem(
            f"unknown indicator {missing[0]!r}{_suggest(missing[0], project.indicators)}"
            f" in {ind.expr!r}",
            where=located.where(at),
            path=dotted(at),
        )
    elif expr.names(node) <= known.keys():  # else a referenced indicator is broken: reported there
        yield from _expr_problems(ind.expr, known, at, located, condition=False)


def _reachable(start: str, project: ProjectSpec) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        ind = project.indicators.get(stack.pop())
        if isinstance(ind, DerivedIndicatorSpec):
            try:
                refs = expr.names(expr.parse(ind.expr))
            except ExprError:
                continue
            for ref in refs - seen:
                seen.add(ref)
                stack.append(ref)
    return seen


def _tier_key_problems(
    tiers: list[TierSpec],
    at: tuple[str, ...],
    problem: Callable[..., Problem],
) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, tier in enumerate(tiers):
        if tier.key in seen:
            yield problem(
                f"tier key {tier.key!r} is used twice; tier keys must be unique",
                *at,
                "tiers",
                i,
                "key",
            )
        seen.add(tier.key)


def _cutoff_problems(
    tiers: list[TierSpec],
    at: tuple[str, ...],
    problem: Callable[..., Problem],
) -> Iterator[Problem]:
    scores = [t.min_score for t in tiers]
    shares = [t.top_share for t in tiers]
    if any(s is not None for s in scores) and any(s is not None for s in shares):
        yield problem("cut tiers either by `min_score` or by `top_share`, not both", *at, "tiers")
        return
    cut = scores if any(s is not None for s in scores) else shares
    name = "min_score" if cut is scores else "top_share"
    if cut[-1] is not None:
        yield problem(
            f"the last tier takes the rest; remove its `{name}:`", *at, "tiers", len(cut) - 1
        )
    given = [c for c in cut[:-1] if c is not None]
    if len(given) != len(cut) - 1:
        yield problem(f"every tier but the last needs `{name}:`", *at, "tiers")
        return
    ordered = sorted(given, reverse=True) if cut is scores else sorted(given)
    if given != ordered or len(set(given)) != len(given):
        want = "decrease" if cut is scores else "increase"
        yield problem(f"{name} values must {want} down the tier list, got {given}", *at, "tiers")


def _margin_problems(
    scheme: SchemeSpec,
    at: tuple[str, ...],
    problem: Callable[..., Problem],
) -> Iterator[Problem]:
    """A downgrade margin loosens fixed thresholds: rules conditions or scorecard ``min_score``."""
    if scheme.stability is None or scheme.stability.downgrade_margin <= 0:
        return
    if isinstance(scheme, RulesSchemeSpec):
        return
    if isinstance(scheme, ScorecardSchemeSpec):
        if all(t.top_share is None for t in scheme.tiers):
            return
        how = "a scorecard cut by `top_share` ranks customers"
    else:
        how = f"method {scheme.method!r} ranks customers"
    yield problem(
        f"downgrade_margin needs fixed thresholds (rules conditions or scorecard `min_score` "
        f"cut-offs), but {how}, so there is no threshold to loosen; remove "
        "`downgrade_margin` and use `downgrade_after: 2` (a grace period of runs) instead",
        *at,
        "stability",
        "downgrade_margin",
    )
