"""Who an action reaches: edges from a run's moves, a stable holdout, a budget by value."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from tierwise.actions.select import choose, fired
from tierwise.spec.actions import ActionSpec, holdout_point

# Moves of one run, as changes.parquet has them (customers whose tier changed).
CHANGES = pa.table({
    "customer_id": ["A", "B", "C", "D", "E", "F"],
    "tier": ["gold", "silver", "bronze", None, "gold", "churn"],
    "prev_tier": [None, "gold", "silver", "gold", "silver", "bronze"],
    "change": ["entry", "down", "down", "exit", "up", "status_entry"],
})
GRADES = pa.table({"customer_id": ["A", "B", "C", "E", "F", "G"],
                   "tier": ["gold", "silver", "bronze", "gold", "churn", "gold"]})


def action(**fields: Any) -> ActionSpec:
    return ActionSpec.model_validate({"scheme": "tier", "kind": "file", **fields})


def ids(table: pa.Table) -> list[str]:
    return sorted(table.column("customer_id").to_pylist())


@pytest.mark.parametrize(("fields", "expected"), [
    ({"on": "enter", "tiers": ["gold"]}, ["A", "E"]),
    ({"on": "enter"}, ["A", "B", "C", "E", "F"]),
    ({"on": "leave", "tiers": ["gold"]}, ["B", "D"]),  # D left the book altogether
    ({"on": "leave"}, ["B", "C", "D", "E", "F"]),
    ({"on": "down"}, ["B", "C"]),
    ({"on": "down", "tiers": ["bronze"]}, ["C"]),
    ({"on": "up", "tiers": ["gold"]}, ["E"]),
    ({"on": "up", "tiers": ["silver"]}, []),
])
def test_edges_from_the_moves(fields: dict[str, Any], expected: list[str]) -> None:
    assert ids(fired(action(**fields), CHANGES, GRADES)) == expected


def test_the_edge_carries_both_tiers() -> None:
    rows = fired(action(on="down"), CHANGES, GRADES).to_pylist()
    assert {"customer_id": "B", "from_tier": "gold", "to_tier": "silver"} in rows


def test_stay_needs_the_same_tier_over_the_runs_and_a_first_run_enters_everyone() -> None:
    stayed = pa.array(["G", "C"])  # the service finds them in the history
    assert ids(fired(action(on="stay", tiers=["gold"], runs=3), CHANGES, GRADES,
                     stayed)) == ["G"]
    assert ids(fired(action(on="enter", tiers=["gold"]), None, GRADES)) == ["A", "E", "G"]
    assert ids(fired(action(on="down"), None, GRADES)) == []


def test_the_holdout_is_stable_and_about_the_share_asked() -> None:
    customers = [f"C{i:06d}" for i in range(20_000)]
    points = [holdout_point("coupon", c) for c in customers]
    assert points == [holdout_point("coupon", c) for c in customers]  # every run the same
    share = sum(p < 0.1 for p in points) / len(points)
    assert 0.09 < share < 0.11
    # Another action draws its own control group, independent of the first.
    other = {c for c in customers if holdout_point("winback", c) < 0.1}
    mine = {c for c, p in zip(customers, points, strict=True) if p < 0.1}
    assert 0.005 < len(mine & other) / len(customers) < 0.015
    # Independent of the tier: the same customer is held out whatever edge fires.
    chosen = choose("coupon", action(on="enter", holdout=0.1), customers)
    assert set(chosen.holdout) == mine and not set(chosen.holdout) & set(chosen.treated)
    again = choose("coupon", action(on="up", holdout=0.1), customers[::2])
    assert set(again.holdout) == mine & set(customers[::2])


def test_the_budget_goes_to_the_highest_value_first() -> None:
    values = {"A": 10.0, "B": 50.0, "C": None, "D": 50.0, "E": 5.0}
    capped = action(on="enter", budget={"per_run": 3, "per_month": 10})
    chosen = choose("gold", capped, ["A", "B", "C", "D", "E"], values)
    assert chosen.treated == ["B", "D", "A"]  # ties by id; no value ranks last
    assert chosen.over_budget == ["C", "E"] and chosen.holdout == []
    # What the month already used counts: 8 of 10 gone leaves 2.
    late = choose("gold", capped, ["A", "B", "C", "D", "E"], values, used_this_month=8)
    assert late.treated == ["B", "D"] and len(late.over_budget) == 3
    spent = choose("gold", capped, ["A"], values, used_this_month=12)
    assert spent.treated == [] and spent.over_budget == ["A"]
    assert choose("gold", action(on="enter"), ["B", "A"]).treated == ["A", "B"]
