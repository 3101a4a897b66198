"""Evaluate schemes against the future: grade as of T, measure what customers did in (T, T + h].

``evaluate(project, ["value", "rfm"], as_of=T, horizon="12m", outcome="spend_12m")`` grades each
scheme with the data up to T (later events are ignored, as in a run of that date), measures the
outcome indicator (an aggregate: its source, filter and function) over exactly (T, T + h], and
compares.

Who is evaluated: the customers with an event on or before T (their recency indicator is known
as of T). Customers who arrived later were not there to be graded.

Every evaluation includes a recency baseline: customers ordered by days since their last event
as of T, in five groups of equal size (equal values in one group); its top group plays the top
tier. A scheme that cannot beat how recently customers bought adds little.

Methods that fit a model to the data (cluster, clv) are fitted on the data as of T.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import numpy as np

from tierwise import methods
from tierwise.errors import DataError, SpecError
from tierwise.i18n import _
from tierwise.indicators import CUSTOMER, after
from tierwise.reports.evaluation import (
    BASELINE,
    Evaluation,
    SchemeEvaluation,
    evaluate_grades,
    future_top,
)
from tierwise.services.features import prepare_features_many
from tierwise.services.pipeline import grade_scheme
from tierwise.services.project import Project, open_engine
from tierwise.sources.read import load_source
from tierwise.spec.limits import check_as_of, window_length_problem
from tierwise.spec.models import AggregateIndicatorSpec, Window

# Columns a method may carry with a predicted value over the horizon, for calibration.
PREDICTED = ("predicted_value",)


def evaluate(project: Project, scheme_names: list[str], *, as_of: date, horizon: str,
             outcome: str, top_share: float = 0.2, recency: str | None = None) -> Evaluation:
    """Grade ``scheme_names`` as of ``as_of`` and measure them on ``outcome`` over ``horizon``.

    Args:
        project: the project.
        scheme_names: schemes to compare side by side (champion and challengers).
        as_of: the date T the schemes grade at.
        horizon: the length h of the future measured, e.g. ``12m`` or ``39w``.
        outcome: an aggregate indicator whose window is ``horizon`` (realised value).
        top_share: the share of customers counted as the future top (default 20%).
        recency: the days-since-last-event indicator of the baseline (default: the first such
            indicator of the project).

    Raises:
        SpecError: unknown scheme or indicator, an outcome whose window is not the horizon, or
            a project without a recency indicator.
        DataError: when the data ends before T + h (the outcome would be incomplete), or no
            customer had an event by T.

    """
    if not scheme_names:
        raise SpecError(_("name at least one scheme to evaluate"))
    schemes = {name: project.scheme(name) for name in dict.fromkeys(scheme_names)}
    if not 0 < top_share < 1:
        raise SpecError(_("--top-share must be between 0 and 1 (e.g. 0.2), got {top_share}").format(
            top_share=top_share))
    check_as_of(as_of, what="--as-of")
    length = re.match(r"^\s*(\d+)\s*([dwmy])", horizon)
    too_long = length and window_length_problem(int(length.group(1)), length.group(2), horizon)
    if too_long:
        raise SpecError(f"--horizon: {too_long}")
    try:
        end = after(as_of, horizon)
    except ValueError as exc:
        raise SpecError(f"--horizon: {exc}") from None
    source, project = _check_outcome(project, outcome, horizon, as_of, end)
    project = project.for_past_dates()
    recency = recency or _recency_indicator(project)
    wanted = list(dict.fromkeys([*(n for s in schemes.values()
                                   for n in methods.scheme_indicators(s)), recency]))
    with open_engine(project) as engine:
        _check_data_reaches(project, engine, source, end)
        tables = prepare_features_many(project, engine, dates=[as_of, end],
                                       indicators=list(dict.fromkeys([*wanted, outcome])))
        features = engine.materialize("eval_features", tables[as_of].table.select(
            CUSTOMER, *wanted))
        known = features.filter(features[recency].notnull())
        later = tables[end].table
        ids_t = known.select(CUSTOMER)
        out_h = later.select(_oid=later[CUSTOMER], _outcome=later[outcome])
        realised = engine.to_arrow(
            ids_t.left_join(out_h, ids_t[CUSTOMER] == out_h._oid)
            .select(CUSTOMER, "_outcome").order_by(CUSTOMER))
        ids = realised.column(CUSTOMER)
        if len(ids) == 0:
            raise DataError(_("no customer has an event on or before {as_of}; choose a later "
                              "--as-of").format(as_of=as_of))
        values = np.nan_to_num(realised.column("_outcome").to_numpy(zero_copy_only=False)
                               .astype(np.float64), nan=0.0)
        top, cut = future_top(values, top_share)
        results = []
        for name, scheme in schemes.items():
            graded, _model = grade_scheme(project, engine, scheme, known, as_of=as_of)
            cols = ["tier", "tier_rank", "score",
                    *(c for c in PREDICTED if c in graded.columns)]
            table = engine.to_arrow(graded.select(CUSTOMER, *cols).order_by(CUSTOMER))
            results.append(_measure(name, [t.key for t in methods.scheme_tiers(scheme)],
                                    table, values, top, by_score=methods.score_ranks(scheme)))
        recent = engine.to_arrow(known.select(CUSTOMER, recency).order_by(CUSTOMER))
        days = recent.column(recency).to_numpy(zero_copy_only=False).astype(np.float64)
    return Evaluation(as_of, horizon, end, outcome, top_share, len(values), int(top.sum()), cut,
                      results, _baseline(days, values, top))


def _measure(name: str, tiers: list[str], table: Any, values: np.ndarray[Any, Any],
             top: np.ndarray[Any, Any], *, by_score: bool) -> SchemeEvaluation:
    tier = np.asarray(table.column("tier").to_pylist(), dtype=object)
    rank = table.column("tier_rank").to_numpy(zero_copy_only=False).astype(np.int64)
    score = table.column("score").to_numpy(zero_copy_only=False).astype(np.float64)
    predicted = None
    for column in PREDICTED:
        if column in table.column_names:
            predicted = table.column(column).to_numpy(zero_copy_only=False).astype(np.float64)
    ordered = by_score and bool(np.isfinite(score).any())
    return evaluate_grades(name, tiers, tier, rank, score if ordered else None, values, top,
                           predicted=predicted)


def _baseline(days: np.ndarray[Any, Any], values: np.ndarray[Any, Any],
              top: np.ndarray[Any, Any]) -> SchemeEvaluation:
    """Five recency groups by rank, R1 the most recent fifth; equal days share a group."""
    from scipy.stats import rankdata

    # The share of customers strictly more recent: ties get the same, so never straddle groups.
    ahead = (rankdata(days, method="min") - 1) / len(days)
    group = np.minimum(np.floor(ahead * 5).astype(np.int64) + 1, 5)
    keys = [f"R{i}" for i in range(1, 6)]
    tier = np.asarray([keys[g - 1] for g in group], dtype=object)
    return evaluate_grades(BASELINE, keys, tier, group, -days, values, top)


def _check_outcome(project: Project, outcome: str, horizon: str, as_of: date, end: date
                   ) -> tuple[str, Project]:
    """The outcome's source, and the project with the outcome measured over (T, T + h] exactly.

    The outcome's window becomes the horizon in days, so month ends cannot shift it by a day
    (2025-12-31 + 6m - 6m is 2025-12-30) and an outcome declared over another window still
    measures the horizon.
    """
    spec = project.spec.indicators.get(outcome)
    if spec is None:
        known = _(", ").join(sorted(project.spec.indicators))
        raise SpecError(_("--outcome {outcome!r} is not an indicator of the project; "
                          "indicators: {known}").format(outcome=outcome, known=known))
    if not isinstance(spec, AggregateIndicatorSpec):
        raise SpecError(_("--outcome {outcome!r} must be an aggregate of events (e.g. agg: "
                          "sum, column: amount), measured over the horizon {horizon}").format(
                              outcome=outcome,
                            horizon=horizon))
    exact = Window(length=f"{(end - as_of).days}d")
    indicators = {**project.spec.indicators,
                  outcome: spec.model_copy(update={"window": exact})}
    return spec.source, Project(project.spec.model_copy(update={"indicators": indicators}),
                                project.root)


def _recency_indicator(project: Project) -> str:
    for name, spec in project.spec.indicators.items():
        if isinstance(spec, AggregateIndicatorSpec) and spec.agg == "days_since_last":
            return name
    raise SpecError(_("the recency baseline needs an indicator with agg: days_since_last; add "
                      "one, or name it with --recency"))


def _check_data_reaches(project: Project, engine: Any, source: str, end: date) -> None:
    """Refuse when the outcome's source has no event in the horizon's last month."""
    spec = project.spec.sources[source]
    loaded = load_source(source, spec, engine, base=project.root)
    last = engine.execute(loaded.typed[spec.time].max()) if spec.time else None
    if last is None:
        return
    last_day = last.date() if hasattr(last, "date") else last
    if (end - last_day).days > 31:
        raise DataError(
            _("{source}: the last event is on {last_day}, more than a month before the end of "
              "the horizon {end}; the realised values would be incomplete. Choose an earlier "
              "--as-of or a shorter --horizon").format(source=source, last_day=last_day, end=end))
