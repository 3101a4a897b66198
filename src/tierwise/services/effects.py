"""The effect of an action: treated customers against its control group, one period later.

For one run of an action, the customers it reached (sent, or still to send) are the treated
group and its holdout the control group; both were on the same edge, and the holdout was drawn
by a hash, so the two differ only by the action. The outcome is an indicator of the project
computed as of a later date (by default the scheme's next official run), over the window the
indicator declares: ``orders_1m`` as of 2026-07-31 is the orders of July. The effect is the
difference of the two groups' means (for ``rate``: the shares of customers with an outcome
above zero), with a normal-approximation confidence interval (Welch's standard error).

``pooled`` takes every run of the action that has a later run, each measured at its next run,
into one treated and one holdout group: a control group of 10% is small on one run. A customer
the action reached on several runs (a ``stay`` edge fires every run; a customer may enter a
tier again) counts once, at their first run, so the groups hold independent customers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist

from tierwise.engine import connect
from tierwise.errors import NotFoundError, SpecError
from tierwise.i18n import _
from tierwise.services.features import prepare_features
from tierwise.services.project import Project
from tierwise.spec.columns import CUSTOMER
from tierwise.spec.validate import indicator_types
from tierwise.store import Store
from tierwise.store.action_ledger import TREATED
from tierwise.store.runs import Run

#: The confidence of the interval around an uplift.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Group:
    """One group's size and outcome: its mean and the variance of the values."""

    customers: int
    mean: float | None
    variance: float | None


@dataclass(frozen=True)
class Effect:
    """Treated against holdout for one run of an action.

    Attributes:
        uplift: Treated mean minus holdout mean (None when a group is empty).
        low, high: The confidence interval of the uplift.
        relative: The uplift as a share of the holdout's mean (None when that mean is 0).
        runs: How many runs the groups pool; ``first_as_of`` is the earliest of them, and
            ``run_as_of``/``measured_as_of`` belong to the latest.
    """

    action: str
    run_id: int
    run_as_of: date
    outcome: str
    measured_as_of: date
    rate: bool
    confidence: float
    treated: Group
    holdout: Group
    uplift: float | None
    low: float | None
    high: float | None
    relative: float | None
    runs: int = 1
    first_as_of: date | None = None


def effect(project: Project, store: Store, name: str, outcome: str | None = None, *,
           run_id: int | None = None, as_of: date | None = None, rate: bool | None = None,
           pooled: bool = False) -> Effect:
    """The effect of action ``name`` on indicator ``outcome``.

    Without ``outcome``, the action's declared ``effect:`` (its outcome, and ``rate`` unless
    given) is measured.

    Args:
        project: The project.
        store: Its store.
        name: The action.
        outcome: The indicator measured, e.g. ``orders_1m``.
        run_id: The action's run (default: its latest run with a later official run).
        as_of: When to measure (default: the scheme's next official run after that run).
        rate: Compare the shares of customers whose outcome is above zero, not the means.
        pooled: Pool every run that has a later run, each measured at its next run (not with
            ``run_id`` or ``as_of``).

    Raises:
        SpecError: no such action or indicator, or a date that is not after the run.
        NotFoundError: the action has no run with a holdout to compare yet.
    """
    action = project.spec.actions.get(name)
    if action is None:
        raise SpecError(_("no action {name} in tierwise.yaml; its actions are {known}").format(
            name=repr(name), known=_(", ").join(project.spec.actions) or "-"))
    if outcome is None:
        if action.effect is None:
            raise SpecError(_("say which indicator to measure action {name} on (--outcome, or "
                              "outcome= in the API), or declare `effect: {{outcome: ...}}` on "
                              "the action").format(name=repr(name)))
        outcome = action.effect.outcome
        rate = action.effect.rate if rate is None else rate
    rate = bool(rate)
    if outcome not in project.spec.indicators:
        raise SpecError(_("unknown indicator {name}; the project's indicators are {known}").format(
            name=repr(outcome), known=_(", ").join(project.spec.indicators)))
    kind = indicator_types(project.spec).get(outcome, "number")
    if kind != "number":
        raise SpecError(_("indicator {name} is a {kind}, not a number: an effect compares "
                          "numbers; choose a count, a sum or a share").format(
            name=repr(outcome), kind=kind))
    if pooled and (run_id is not None or as_of is not None):
        raise SpecError(_("a pooled effect measures every run at its next run: leave out the "
                          "run and the date, or do not pool"))
    with store.read() as tx:
        history = tx.runs.history_runs(action.scheme)
        planned = [r for r in history if tx.actions.recorded(name, r.id)]
        chosen = [_chosen(name, planned, history, run_id, as_of)]
        if pooled:
            chosen = [r for r in planned if r.as_of < chosen[0].as_of] + chosen
        measured = [(r, as_of or min(h.as_of for h in history if h.as_of > r.as_of),
                     tx.actions.entries(name, run_id=r.id, limit=10_000_000)) for r in chosen]
    treated: list[float | None] = []
    held: list[float | None] = []
    seen: set[str] = set()
    for run, day, rows in measured:
        if day <= run.as_of:
            raise SpecError(_("measure after the run: {day} is not after {run}").format(
                day=day, run=run.as_of))
        rows = [r for r in rows if r.customer_id not in seen]
        seen.update(r.customer_id for r in rows)
        groups = {"treated": [r.customer_id for r in rows if r.status in TREATED],
                  "holdout": [r.customer_id for r in rows if r.status == "holdout"]}
        values = _outcomes(project, outcome, day, groups["treated"] + groups["holdout"])
        treated += [values.get(c) for c in groups["treated"]]
        held += [values.get(c) for c in groups["holdout"]]
    run, day, _rows = measured[-1]
    return _compared(name, run, outcome, day, rate, (_group(treated, rate), _group(held, rate)),
                     runs=len(measured), first_as_of=measured[0][0].as_of)


def _compared(name: str, run: Run, outcome: str, day: date, rate: bool,
              groups: tuple[Group, Group], *, runs: int, first_as_of: date) -> Effect:
    """The uplift of the treated group over the holdout with its interval."""
    treated, holdout = groups
    confidence = CONFIDENCE
    uplift = low = high = relative = None
    if treated.mean is not None and holdout.mean is not None:
        uplift = treated.mean - holdout.mean
        se = math.sqrt((treated.variance or 0) / treated.customers
                       + (holdout.variance or 0) / holdout.customers)
        z = NormalDist().inv_cdf(0.5 + confidence / 2)
        low, high = uplift - z * se, uplift + z * se
        relative = uplift / holdout.mean if holdout.mean else None
    return Effect(name, run.id, run.as_of, outcome, day, rate, confidence, treated, holdout,
                  uplift, low, high, relative, runs, first_as_of)


def _chosen(name: str, planned: list[Run], history: list[Run], run_id: int | None,
            as_of: date | None) -> Run:
    if run_id is not None:
        found = [r for r in planned if r.id == run_id]
        if not found:
            raise NotFoundError(_("action {name} has no plan for run {run}").format(
                name=repr(name), run=run_id))
        return found[0]
    last = history[-1].as_of if history else None
    usable = [r for r in planned if as_of is not None or (last is not None and r.as_of < last)]
    if not usable:
        raise NotFoundError(_("action {name} has no run to measure yet: it needs a planned run "
                              "and a later official run of its scheme (or --as-of)").format(
            name=repr(name)))
    return usable[-1]


def _outcomes(project: Project, outcome: str, day: date, ids: list[str]) -> dict[str, float]:
    """The outcome indicator of ``ids`` as of ``day``."""
    import pyarrow as pa

    engine = connect()
    try:
        features = prepare_features(measuring(project), engine, as_of=day,
                                    indicators=[outcome]).table
        wanted = engine.register_arrow("wanted", pa.table({"_id": ids}))
        rows = features.filter(features[CUSTOMER].isin(wanted._id))
        table = engine.to_arrow(rows.select(CUSTOMER, outcome))
    finally:
        engine.close()
    return {c: v for c, v in zip(table[CUSTOMER].to_pylist(), table[outcome].to_pylist(),
                                 strict=True) if v is not None}


def measuring(project: Project) -> Project:
    """The project for measuring a past period: events after the date are expected there."""
    sources = {n: s.model_copy(update={"future_events": "ignore"})
               for n, s in project.spec.sources.items()}
    return Project(project.spec.model_copy(update={"sources": sources}), project.root)


def _group(values: list[float | None], rate: bool) -> Group:
    """A group's mean and variance; a customer without a value counts as 0."""
    xs = [1.0 if rate and (v or 0) > 0 else float(v or 0) for v in values]
    n = len(xs)
    if n == 0:
        return Group(0, None, None)
    mean = sum(xs) / n
    variance = sum((x - mean) ** 2 for x in xs) / (n - 1) if n > 1 else 0.0
    return Group(n, mean, variance)
