"""KPI series per tier, checked against the runs' own grades and the data by hand; bands mark
a tier for review."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.services.test_action_plans import DATES, MEASURED, write_shop
from tierwise.errors import NotFoundError, SpecError
from tierwise.services import kpis, runs
from tierwise.services.grading import Project

KPIS = """
kpis:
  repurchase:
    scheme: tier
    measure: rate
    indicator: orders_1m
    bands: {gold: [0.9, 1.0], bronze: [0.0, 0.5]}
  orders:
    scheme: tier
    measure: mean
    indicator: orders_1m
  kept:
    scheme: tier
    measure: retention
  raised:
    scheme: tier
    measure: up
"""


@pytest.fixture
def shop(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("TIERWISE_STORE_URL", store_url)
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    text = MEASURED
    project = write_shop(tmp_path / "shop", text + KPIS)
    runs.backfill(project, ["tier"], DATES)
    return project


def _grades(run: runs.Run) -> dict[str, tuple[str, int]]:
    rows = pq.read_table(Path(run.folder or "") / "grades.parquet").to_pylist()
    return {r["customer_id"]: (r["tier"], r["tier_rank"]) for r in rows}


def _orders_in_month(project: Project, month: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in (project.root / "orders.csv").read_text().splitlines()[1:]:
        _oid, customer, day, _amount = line.split(",")
        if day.startswith(f"2026-{month:02d}"):
            counts[customer] = counts.get(customer, 0) + 1
    return counts


def test_series_per_tier_against_the_grades(shop: Project) -> None:
    store = runs.open_store(shop)
    with store.read() as tx:
        history = tx.runs.history_runs("tier")
    points = {(p.as_of, p.tier): p for p in kpis.series(shop, store, "repurchase")}
    orders = {(p.as_of, p.tier): p for p in kpis.series(shop, store, "orders")}
    kept = {(p.as_of, p.tier): p for p in kpis.series(shop, store, "kept")}
    raised = {(p.as_of, p.tier): p for p in kpis.series(shop, store, "raised")}
    store.close()
    assert {a for a, _t in points} == {DATES[0], DATES[1]}  # the last run has no next run yet
    for run, after in pairwise(history):
        now, later = _grades(run), _grades(after)
        bought = _orders_in_month(shop, after.as_of.month)
        for tier in {t for t, _r in now.values()}:
            members = [c for c, (t, _r) in now.items() if t == tier]
            point = points[(run.as_of, tier)]
            assert point.customers == len(members) and point.measured_as_of == after.as_of
            rate = sum(bought.get(c, 0) > 0 for c in members) / len(members)
            assert point.value == pytest.approx(rate)
            assert orders[(run.as_of, tier)].value == pytest.approx(
                sum(bought.get(c, 0) for c in members) / len(members))
            assert kept[(run.as_of, tier)].value == pytest.approx(
                sum(later.get(c, ("", 0))[0] == tier for c in members) / len(members))
            ups = sum(1 for c in members if now[c][1] > 0 and later.get(c, ("", 0))[1] > 0
                      and later[c][1] < now[c][1])
            assert raised[(run.as_of, tier)].value == pytest.approx(ups / len(members))
            band = {"gold": (0.9, 1.0), "bronze": (0.0, 0.5)}.get(tier)
            assert point.review == (band is not None and not band[0] <= rate <= band[1])
    assert any(p.review for p in points.values())  # a band was left somewhere


def test_a_kpi_needs_two_runs_and_a_known_name(tmp_path: Path, store_url: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_STORE_URL", store_url)
    text = MEASURED
    project = write_shop(tmp_path / "shop", text + KPIS)
    runs.backfill(project, ["tier"], DATES[:1])
    store = runs.open_store(project)
    with pytest.raises(NotFoundError, match="needs two official runs"):
        kpis.series(project, store, "kept")
    with pytest.raises(SpecError, match="no KPI 'churn'"):
        kpis.series(project, store, "churn")
    store.close()
