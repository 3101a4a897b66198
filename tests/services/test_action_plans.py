"""A run plans its scheme's actions into the ledger: the edge, the condition, the holdout and
the budget, checked against the runs' own grades; planning twice writes nothing twice."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.conftest import write
from tierwise.errors import SpecError
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.spec.actions import holdout_point

DATES = [date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30)]
PROJECT = """
name: shop
as_of: 2026-06-30
sources:
  customers:
    path: customers.csv
    columns:
      customer_id: {type: string}
  transactions:
    path: orders.csv
    time: order_date
    columns:
      order_id: {type: string}
      customer_id: {type: string}
      order_date: {type: date}
      amount: {type: float}
indicators:
  orders_3m: {source: transactions, agg: count, window: 3m}
  spend_3m: {source: transactions, agg: sum, column: amount, window: 3m, default: 0}
schemes:
  tier:
    method: rules
    value: spend_3m
    tiers:
      - {key: gold, label: {en: Gold, zh: 金卡}, when: "orders_3m >= 6"}
      - {key: silver, when: "orders_3m >= 2"}
      - {key: bronze}
    fallback: bronze
actions:
  gold_coupon:
    scheme: tier
    label: {en: Gold coupon, zh: 金卡优惠券}
    kind: file
    on: enter
    tiers: [gold]
    holdout: 0.2
    budget: {per_run: 15, per_month: 25}
  rich_downgrades:
    scheme: tier
    kind: file
    on: down
    where: "spend_3m >= 400"
  loyal:
    scheme: tier
    kind: tag
    tag: {name: loyal}
    on: stay
    tiers: [gold]
    runs: 3
"""


def write_shop(folder: Path, project: str = PROJECT) -> Project:
    """The shop: 300 customers whose monthly orders move them between tiers from run to run."""
    write(folder, "tierwise.yaml", project)
    customers = [f"C{i:03d}" for i in range(300)]
    write(folder, "customers.csv", "customer_id\n" + "\n".join(customers) + "\n")
    rows = ["order_id,customer_id,order_date,amount"]
    for i, c in enumerate(customers):
        for month in range(1, 7):
            n = (i * 7 + month * (i % 3)) % 4  # 0..3 orders a month, moving between months
            rows += [f"{c}-{month}-{k},{c},2026-{month:02d}-10,{50 + i % 40 * 5}"
                     for k in range(n)]
    write(folder, "orders.csv", "\n".join(rows) + "\n")
    return Project.open(folder)


@pytest.fixture
def shop(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("TIERWISE_STORE_URL", store_url)
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    return write_shop(tmp_path / "shop")


def _grades(run: runs.Run) -> dict[str, str]:
    table = pq.read_table(Path(run.folder or "") / "grades.parquet", columns=["customer_id",
                                                                              "tier"])
    return dict(zip(table["customer_id"].to_pylist(), table["tier"].to_pylist(), strict=True))


def _spend(run: runs.Run) -> dict[str, float]:
    table = pq.read_table(Path(run.folder or "") / "features.parquet")
    return dict(zip(table["customer_id"].to_pylist(), table["spend_3m"].to_pylist(),
                    strict=True))


def test_runs_plan_their_actions_against_the_grades(shop: Project) -> None:
    outcomes = runs.backfill(shop, ["tier"], DATES)
    assert any("action gold_coupon:" in n for o in outcomes for n in o.notes)
    store = runs.open_store(shop)
    try:
        with store.read() as tx:
            made = [tx.runs.get(o.run.id) for o in outcomes]
            ledger: dict[tuple[str, int], list[Any]] = {}
            for name in ("gold_coupon", "rich_downgrades", "loyal"):
                for e in tx.actions.entries(name):
                    ledger.setdefault((name, e.run_id), []).append(e)
    finally:
        store.close()
    grades = [_grades(r) for r in made]
    statuses = {e.status for k, rows in ledger.items() if k[0] == "gold_coupon" for e in rows}
    assert statuses == {"planned", "holdout", "over_budget"}  # every branch was taken
    assert any(k[0] == "rich_downgrades" and rows for k, rows in ledger.items())
    used = 0
    for i, run in enumerate(made):
        before = grades[i - 1] if i else {}
        entered = {c for c, t in grades[i].items() if t == "gold" and before.get(c) != "gold"}
        rows = ledger.get(("gold_coupon", run.id), [])
        assert {e.customer_id for e in rows} == entered, run.as_of
        held = {e.customer_id for e in rows if e.status == "holdout"}
        assert held == {c for c in entered if holdout_point("gold_coupon", c) < 0.2}
        treated = [e for e in rows if e.status == "planned"]
        over = [e for e in rows if e.status == "over_budget"]
        # The budget: 15 a run, 25 a month (April and May, June are separate months).
        cap = min(15, 25 - (used if run.as_of.month == DATES[0].month else 0))
        assert len(treated) == min(cap, len(entered) - len(held))
        if over:  # who got it is worth at least as much as who did not
            assert min(e.value or 0 for e in treated) >= max(e.value or 0 for e in over)
        spend = _spend(run)
        assert all(e.value == spend[e.customer_id] for e in rows)
        used = len(treated)
        # Downgrades of customers spending at least 400 over 3 months.
        down = {e.customer_id for e in ledger.get(("rich_downgrades", run.id), [])}
        rank = {"gold": 1, "silver": 2, "bronze": 3}
        assert down == {c for c, t in grades[i].items() if c in before
                        and rank[t] > rank[before[c]] and spend[c] >= 400}
    # Gold in all three runs: tagged once, on the third run only.
    loyal = {(e.run_id, e.customer_id) for rows in ledger.values() for e in rows
             if e.action == "loyal"}
    always = {c for c in grades[0] if all(g.get(c) == "gold" for g in grades)}
    assert loyal == {(made[2].id, c) for c in always} and always
    # Planning again (a re-run of a done date is skipped) writes nothing twice.
    again = runs.backfill(shop, ["tier"], DATES[-1:])
    assert again[0].status == "skipped"
    store = runs.open_store(shop)
    try:
        with store.read() as tx:
            assert len(tx.actions.entries("gold_coupon")) == sum(
                len(v) for k, v in ledger.items() if k[0] == "gold_coupon")
    finally:
        store.close()


#: The shop with orders_1m, the month after a run: what effects and KPIs measure.
MEASURED = PROJECT.replace("indicators:\n", "indicators:\n  orders_1m: {source: transactions, "
                           "agg: count, window: 1m}\n", 1)


def edited(project: Project, old: str, new: str) -> Project:
    """The project with ``old`` replaced by ``new`` in its tierwise.yaml, opened again."""
    yaml = project.root / "tierwise.yaml"
    text = yaml.read_text(encoding="utf-8")
    assert old in text
    yaml.write_text(text.replace(old, new), encoding="utf-8")
    return Project.open(project.root)


def test_an_action_on_a_tier_the_scheme_lacks_is_refused(shop: Project) -> None:
    project = edited(shop, "tiers: [gold]\n    holdout", "tiers: [golden]\n    holdout")
    with pytest.raises(SpecError, match="names tiers 'golden' that scheme 'tier' does not have"):
        runs.backfill(project, ["tier"], DATES[:1])
