"""Training data a method asks the service for: features of a past date, labelled by outcome."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from tierwise.indicators import CUSTOMER, window_bounds
from tierwise.methods.protocol import OutcomeTraining
from tierwise.services.features import prepare_features_many
from tierwise.services.project import Project
from tierwise.spec.models import AggregateIndicatorSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.engine import Engine


def outcome_training(project: Project, engine: Engine, need: OutcomeTraining, as_of: date,
                     *, current: ir.Table | None = None) -> ir.Table:
    """Features as of T - horizon with ``_label``, the outcome by T in 1 or 0.

    1: the customer reached the outcome's top share (or, for ``event: none``, had none of the
    outcome over the window: a churn). ``current``: the run's own features as of T; when they
    hold the outcome (it is also a feature), only the features of T - horizon are computed.
    """
    import ibis
    import numpy as np
    import pyarrow as pa

    from tierwise.reports.evaluation import future_top

    outcome = need.outcome
    spec = project.spec.indicators[outcome]
    assert isinstance(spec, AggregateIndicatorSpec) and spec.window is not None  # validated
    start, _ = window_bounds(spec.window, as_of)
    assert start is not None
    shared = current is not None and outcome in current.columns
    dates = [start] if shared else [start, as_of]
    indicators = list(need.features) if shared else [*dict.fromkeys([*need.features, outcome])]
    # Checked as of T, as the run is: the customers are the run's, events to T are not errors.
    # With the outcome from the run, only the events up to T - horizon are read.
    tables = prepare_features_many(project.for_past_dates(), engine, dates=dates,
                                   indicators=indicators, checked=as_of,
                                   events_upto=start if shared else None)
    then = tables[start].table
    ending = current if shared and current is not None else tables[as_of].table
    now = engine.to_arrow(ending.select(CUSTOMER, outcome))
    values = np.nan_to_num(now.column(outcome).to_numpy(zero_copy_only=False)
                           .astype(np.float64), nan=0.0)
    if need.event == "none":  # churn: nothing at all over the window
        top = values <= 0
    else:
        top, _ = future_top(values, need.top_share)
    labels = ibis.memtable(pa.table({"_lid": now.column(CUSTOMER).combine_chunks(),
                                     "_label": pa.array(top.astype(np.int64))}))
    joined = then.join(labels, then[CUSTOMER] == labels._lid)
    return engine.materialize(f"training_{id(need)}",
                              joined.select(CUSTOMER, *need.features, "_label"))
