"""KPI series per tier: what each tier's customers did in the period after each run.

For every official run of the KPI's scheme that has a next official run, the customers are
grouped by the tier they got on the run and measured at the next run's date (``spec/kpis.py``):
an indicator's mean, sum or rate, or the share who kept, raised or lowered their tier. A value
outside the tier's band marks the tier for review. The grouping and the sums run in the engine,
so a million customers per run is one query per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path

from tierwise.engine import Engine, connect
from tierwise.errors import NotFoundError, SpecError
from tierwise.i18n import N_, _
from tierwise.services.effects import measuring
from tierwise.services.features import prepare_features
from tierwise.services.project import Project
from tierwise.spec.columns import CUSTOMER
from tierwise.spec.kpis import KpiSpec
from tierwise.store import Store
from tierwise.store.runs import Run

#: What each KPI measure computes, as people call it.
MEASURE_NAMES = {"mean": N_("mean"), "sum": N_("sum"), "rate": N_("rate"),
                 "retention": N_("kept the tier"), "up": N_("moved up"),
                 "down": N_("moved down")}


@dataclass(frozen=True)
class KpiPoint:
    """One tier's KPI for one run, measured at the next run."""

    run_id: int
    as_of: date
    measured_as_of: date
    tier: str
    customers: int
    value: float | None
    band: tuple[float, float] | None
    review: bool


def series(project: Project, store: Store, name: str) -> list[KpiPoint]:
    """The KPI ``name`` per run and tier, oldest run first.

    Raises:
        SpecError: no such KPI.
        NotFoundError: its scheme has fewer than two official runs.
    """
    kpi = project.spec.kpis.get(name)
    if kpi is None:
        raise SpecError(_("no KPI {name} in tierwise.yaml; its KPIs are {known}").format(
            name=repr(name), known=_(", ").join(project.spec.kpis) or "-"))
    with store.read() as tx:
        history = tx.runs.history_runs(kpi.scheme)
    if len(history) < 2:
        raise NotFoundError(_("KPI {name} needs two official runs of {scheme}: it measures "
                              "each run at the next one").format(name=repr(name),
                                                                 scheme=repr(kpi.scheme)))
    out: list[KpiPoint] = []
    engine = connect()
    try:
        for run, after in pairwise(history):
            out += _points(project, engine, kpi, run, after)
    finally:
        engine.close()
    return out


def _points(project: Project, engine: Engine, kpi: KpiSpec, run: Run, after: Run
            ) -> list[KpiPoint]:
    import ibis

    grades = engine.read_parquet("grades", Path(run.folder or "") / "grades.parquet")
    base = grades.select(_id=grades[CUSTOMER], tier=grades.tier, rank=grades.tier_rank)
    if kpi.indicator is not None:
        features = prepare_features(measuring(project), engine, as_of=after.as_of,
                                    indicators=[kpi.indicator]).table
        joined = base.left_join(features, base._id == features[CUSTOMER])
        value = joined[kpi.indicator].cast("float64").fill_null(0.0)
        x = (value > 0).cast("float64") if kpi.measure == "rate" else value
        agg = x.sum() if kpi.measure == "sum" else x.mean()
    else:
        later = engine.read_parquet("after", Path(after.folder or "") / "grades.parquet")
        nxt = later.select(_nid=later[CUSTOMER], next_tier=later.tier, next_rank=later.tier_rank)
        joined = base.left_join(nxt, base._id == nxt._nid)
        ladder = (joined["rank"] > 0) & (joined.next_rank > 0)
        flag = {"retention": joined.next_tier == joined.tier,
                "up": ladder & (joined.next_rank < joined["rank"]),
                "down": ladder & (joined.next_rank > joined["rank"])}[kpi.measure]
        agg = flag.fill_null(False).cast("float64").mean()
    table = joined.group_by("tier").aggregate(customers=ibis._.count(), value=agg)
    rows = engine.to_arrow(table.order_by("tier")).to_pylist()
    out = []
    for row in rows:
        band = kpi.bands.get(row["tier"])
        value = row["value"]
        review = band is not None and value is not None and not band[0] <= value <= band[1]
        out.append(KpiPoint(run.id, run.as_of, after.as_of, row["tier"], int(row["customers"]),
                            value, band, review))
    return out
