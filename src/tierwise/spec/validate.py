"""Cross-reference checks of a parsed project: names, expressions, tiers, weights.

These run after every section parsed, so they see the whole project: an indicator naming an unknown
source, a rule testing an unknown indicator, a fallback naming no tier, weights that do not add up.
A scheme's method-specific checks are its section model's (:meth:`SchemeBase.problems`), so a
method registered at run time brings its own; this module tests no method types.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping

from tierwise import expr
from tierwise.errors import ExprError, Problem
from tierwise.i18n import N_, _
from tierwise.spec.actions import ActionSpec, FollowUpSpec
from tierwise.spec.columns import PREVIOUS_TIER
from tierwise.spec.linkage import LINKED_COLUMNS
from tierwise.spec.loader import Located, dotted
from tierwise.spec.models import (
    AggregateIndicatorSpec,
    AttributeIndicatorSpec,
    DerivedIndicatorSpec,
    ProjectSpec,
    SchemeSpec,
    SourceSpec,
)
from tierwise.spec.schemes import SchemeContext

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


#: An indicator's type as a person reads it.
_TYPE_NAMES = {"bool": N_("a bool"), "date": N_("a date"), "string": N_("a string"),
               "number": N_("a number")}


def _suggest(name: str, options: Mapping[str, object] | set[str]) -> str:
    close = difflib.get_close_matches(name, list(options), n=1)
    return _("; did you mean {name}?").format(name=repr(close[0])) if close else ""


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


def _source_problems(project: ProjectSpec, located: Located,
                     problem: Callable[..., Problem]) -> Iterator[Problem]:
    """Sources: customers exist, events are dated, refunds check, linked systems hold customers."""
    linked = project.linkage is not None and project.linkage.grades_linked
    given = CUSTOMERS in (located.doc.get("sources") or {})
    if not given and not linked:
        yield problem(_("a project needs a `customers` source (one row per customer)"), "sources")
    if given and linked:
        yield problem(_(
            "the systems list their `events:`, so the customers are the linked customers "
            "(built by `tierwise link run`); remove `sources.customers`, or remove the "
            "systems' `events:` to grade this source's customers"), "sources", CUSTOMERS)
    systems = {s.source for s in project.linkage.systems.values()} if project.linkage else set()
    for name, source in project.sources.items():
        if name != CUSTOMERS and name not in systems and source.time is None:
            yield problem(
                _("event source {name} needs `time:` (the column dating each row)").format(
                    name=repr(name)), "sources", name
            )
        if source.refunds and source.columns:
            col_types = {c: _COLUMN_TYPES[s.type] for c, s in source.columns.items()}
            yield from _expr_problems(
                source.refunds, col_types, ("sources", name, "refunds"), located, condition=True
            )
    yield from _linkage_problems(project, problem)



def _linkage_problems(project: ProjectSpec, problem: Callable[..., Problem]
                      ) -> Iterator[Problem]:
    """Each system's source exists and holds customers; each field is in some system."""
    if project.linkage is None:
        return
    sources = project.linkage.systems
    for system, spec in sources.items():
        at = ("linkage", "systems", system, "source")
        found = project.sources.get(spec.source)
        if found is None:
            yield problem(_("unknown source {name}{suggestion}").format(
                name=repr(spec.source), suggestion=_suggest(spec.source, project.sources)), *at)
        elif found.time is not None:
            yield problem(_(
                "source {name} is an event source (it has `time:`); a system's source holds "
                "its customers, one row each").format(name=repr(spec.source)), *at)
    yield from _linked_event_problems(project, problem)
    declared = [project.sources[s.source].columns for s in sources.values()
                if s.source in project.sources]
    if not declared or not all(declared):
        return  # columns not declared: the data checks find a missing column
    for name in project.linkage.fields:
        if not any(name in columns for columns in declared):
            yield problem(_(
                "no system's source has a column {name}; declare it in a system's `columns:` "
                "(`from:` renames a column)").format(name=repr(name)),
                "linkage", "fields", name)


def _linked_event_problems(project: ProjectSpec, problem: Callable[..., Problem]
                           ) -> Iterator[Problem]:
    """Each system's events are event sources; every event source belongs to a system."""
    linkage = project.linkage
    if linkage is None or not linkage.grades_linked:
        return
    systems = {s.source for s in linkage.systems.values()}
    for system, spec in linkage.systems.items():
        for i, name in enumerate(spec.events):
            at = ("linkage", "systems", system, "events", i)
            if name not in project.sources:  # (an undated one is named among the sources)
                yield problem(_("unknown source {name}{suggestion}").format(
                    name=repr(name), suggestion=_suggest(name, project.sources)), *at)
    for spec in linkage.systems.values():
        found = project.sources.get(spec.source)
        taken = [c for c in found.columns if c in LINKED_COLUMNS and c != found.id
                 ] if found else []
        if taken:
            yield problem(_(
                "column {column} of source {source} has a name the linked customers give their "
                "own column ({names}); rename it with `from:`").format(
                column=repr(taken[0]), source=repr(spec.source),
                names=_(", ").join(LINKED_COLUMNS)), "sources", spec.source, "columns", taken[0])
    for name in project.sources:
        if name != CUSTOMERS and name not in systems and linkage.system_of(name) is None:
            yield problem(_(
                "event source {name} belongs to no system; list it under the `events:` of "
                "the system whose customer ids its rows carry").format(name=repr(name)),
                "sources", name)


def _problems(project: ProjectSpec, located: Located) -> Iterator[Problem]:
    def problem(message: str, *path: str | int) -> Problem:
        return Problem(message, where=located.where(path), path=dotted(path))

    yield from _source_problems(project, located, problem)
    types = indicator_types(project)
    customers = project.sources.get(CUSTOMERS)
    for name, ind in project.indicators.items():
        at = ("indicators", name)
        if isinstance(ind, AggregateIndicatorSpec):
            found = project.sources.get(ind.source)
            if found is None:
                yield problem(
                    _("unknown source {name}{suggestion}").format(
                        name=repr(ind.source), suggestion=_suggest(ind.source, project.sources)),
                    *at,
                    "source",
                )
                continue
            source = found
            if ind.source == CUSTOMERS:
                yield problem(
                    _("aggregates run over event sources; use `attribute:` for customer columns"),
                    *at,
                    "source",
                )
            if source.columns and ind.column and ind.column not in source.columns:
                yield problem(
                    _("source {source} has no column {column}{suggestion}").format(
                        source=repr(ind.source), column=repr(ind.column),
                        suggestion=_suggest(ind.column, source.columns)),
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
                    _("agg {agg} needs a numeric column; {column} is {type}").format(
                        agg=repr(ind.agg), column=repr(ind.column),
                        type=source.columns[ind.column].type),
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
                    _("the customers source has no column {column}{suggestion}").format(
                        column=repr(ind.attribute),
                        suggestion=_suggest(ind.attribute, customers.columns)),
                    *at,
                    "attribute",
                )
        else:
            yield from _derived_problems(name, ind, project, types, located)

    if PREVIOUS_TIER in project.indicators:
        yield problem(_("{name} is the tier a customer held in the previous run, which "
                        "conditions read as it is; give the indicator another name").format(
                            name=repr(PREVIOUS_TIER)), "indicators", PREVIOUS_TIER)
    context = SchemeContext(
        indicators=frozenset(project.indicators),
        types={**types, PREVIOUS_TIER: "string"},
        horizons=frozenset(n for n, i in project.indicators.items()
                           if isinstance(i, AggregateIndicatorSpec) and i.window is not None
                           and not i.window.offset))
    for name, scheme in project.schemes.items():
        yield from _scheme_problems(name, scheme, context, problem)
    if project.reporting.value is not None:
        yield from _number_problems(project.reporting.value, _("the reported value"),
                                    ("reporting", "value"), context, problem)
    yield from _doing_problems(project, located, context, problem)


def _doing_problems(project: ProjectSpec, located: Located, context: SchemeContext,
                    problem: Callable[..., Problem]) -> Iterator[Problem]:
    """What the KPIs and actions refer to exists: schemes, indicators, the SMTP server."""
    for name, kpi in project.kpis.items():
        if kpi.scheme not in project.schemes:
            yield problem(_("unknown scheme {name}{suggestion}").format(
                name=repr(kpi.scheme), suggestion=_suggest(kpi.scheme, project.schemes)),
                "kpis", name, "scheme")
        if kpi.indicator:
            yield from _number_problems(kpi.indicator, _("the KPI"), ("kpis", name, "indicator"),
                                        context, problem)
    for name, action in project.actions.items():
        yield from _action_problems(name, action, project, located, context, problem)
        if action.kind == "email" and project.smtp is None:
            yield problem(_("email action {name} needs the project's `smtp:` server (host, "
                            "port, from)").format(name=repr(name)), "actions", name, "kind")


def _action_problems(name: str, action: ActionSpec, project: ProjectSpec, located: Located,
                     context: SchemeContext, problem: Callable[..., Problem]
                     ) -> Iterator[Problem]:
    """An action's scheme, condition, budget ranking and customer columns exist."""
    at = ("actions", name)
    if action.scheme not in project.schemes:
        yield problem(_("unknown scheme {name}{suggestion}").format(
            name=repr(action.scheme), suggestion=_suggest(action.scheme, project.schemes)),
            *at, "scheme")
    elif project.schemes[action.scheme].confidential is not None:
        yield problem(_("scheme {name} is confidential: its levels never leave tierwise in an "
                        "action (a file, an email, a webhook or a tag); act on it inside the "
                        "compliance process instead, or remove the action").format(
                            name=repr(action.scheme)), *at, "scheme")
    if action.where:
        yield from _expr_problems(action.where, context.types, (*at, "where"), located,
                                  condition=True)
    if action.budget is not None and action.budget.order_by:
        yield from _number_problems(action.budget.order_by, _("the budget's ranking"),
                                    (*at, "budget", "order_by"), context, problem)
    if action.effect is not None:
        yield from _number_problems(action.effect.outcome, _("the effect's outcome"),
                                    (*at, "effect", "outcome"), context, problem)
        if action.holdout == 0:
            yield problem(_("an effect is measured against the control group, and this action "
                            "has none; set `holdout:` (e.g. 0.1) or remove `effect:`"),
                          *at, "effect")
    if action.follow_up is not None:
        yield from _follow_up_problems(action.follow_up, (*at, "follow_up"), context, problem)
    customers = project.sources.get(CUSTOMERS)
    columns = set(customers.columns) if customers is not None else set()
    wanted: list[tuple[str, tuple[str, ...]]] = []
    if action.email is not None:
        wanted += [(action.email.to, ("email", "to"))]
        if action.email.language:
            wanted += [(action.email.language, ("email", "language"))]
    if action.assign is not None and action.assign.territory:
        wanted += [(action.assign.territory, ("assign", "territory"))]
    for column, path in wanted:
        if column not in columns:
            yield problem(_("unknown customer column {name}{suggestion}; the customers source "
                            "declares {known}").format(
                name=repr(column), suggestion=_suggest(column, columns),
                known=_(", ").join(sorted(columns)) or "-"), *at, *path)


def _follow_up_problems(follow: FollowUpSpec, at: tuple[str, ...], context: SchemeContext,
                        problem: Callable[..., Problem]) -> Iterator[Problem]:
    """A follow-up's owner is an indicator, its ``before`` a date indicator."""
    refs = [(follow.owner, "owner", "string"), (follow.before, "before", "date")]
    for ref, field, kind in refs:
        if ref is None:
            continue
        if ref not in context.indicators:
            yield problem(_("unknown indicator {name}{suggestion}").format(
                name=repr(ref), suggestion=_suggest(ref, set(context.indicators))), *at, field)
        elif context.types.get(ref, kind) != kind:
            seen = _(_TYPE_NAMES.get(context.types[ref], context.types[ref]))
            yield problem(
                _("{field} must be a date indicator; {name} is {kind}").format(
                    field="follow_up.before", name=repr(ref), kind=seen) if kind == "date"
                else _("follow_up.owner must be a text indicator (the owner's user name); {name} "
                       "is {kind}; declare its column `type: string`").format(
                    name=repr(ref), kind=seen), *at, field)


def _scheme_problems(
    name: str,
    scheme: SchemeSpec,
    context: SchemeContext,
    problem: Callable[..., Problem],
) -> Iterator[Problem]:
    """A scheme's own checks (:meth:`SchemeBase.problems`), its margin, and its indicators."""
    at = ("schemes", name)
    for path, message in scheme.problems(context):
        yield problem(message, *at, *path)
    refusal = scheme.margin_refusal()
    if refusal is not None and scheme.stability is not None \
            and scheme.stability.downgrade_margin > 0:
        yield problem(
            _("downgrade_margin needs fixed thresholds (rules conditions or scorecard "
              "`min_score` cut-offs), but {refusal}, so there is no threshold to loosen; remove "
              "`downgrade_margin` and use `downgrade_after: 2` (a grace period of runs) "
              "instead").format(refusal=refusal),
            *at, "stability", "downgrade_margin")
    for field, ref, use in scheme.indicator_refs():
        yield from _number_problems(ref, use, (*at, *field), context, problem)


def _number_problems(ref: str, use: str, at: tuple[str | int, ...], context: SchemeContext,
                     problem: Callable[..., Problem]) -> Iterator[Problem]:
    """``ref`` must be a declared indicator whose values are numbers (``use`` reads them)."""
    types = context.types
    if ref not in context.indicators:
        yield problem(
            _("unknown indicator {name}{suggestion}").format(
                name=repr(ref), suggestion=_suggest(ref, set(context.indicators))),
            *at
        )
    elif types.get(ref, "number") != "number":
        fix = (
            _("derive a number with `expr: days_since({name})`").format(name=ref)
            if types[ref] == "date"
            else _("use a count, sum or average, or a numeric column")
        )
        yield problem(
            _("indicator {name} is {type}, but {use} needs a number; {fix}").format(
                name=repr(ref), type=_(_TYPE_NAMES.get(types[ref], types[ref])), use=use, fix=fix),
            *at,
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
            _("indicator {name} depends on itself through its expression; remove the "
              "reference to it").format(name=repr(name)),
            where=located.where(at),
            path=dotted(at),
        )
        return
    known = {n: t for n, t in types.items() if n != name}
    missing = sorted(expr.names(node) - project.indicators.keys())
    if missing:
        yield Problem(
            _("unknown indicator {name}{suggestion} in {expr}").format(
                name=repr(missing[0]), suggestion=_suggest(missing[0], project.indicators),
                expr=repr(ind.expr)),
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
