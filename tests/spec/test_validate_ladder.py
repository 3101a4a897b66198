"""Status tiers and rule priorities: what a scheme may say, with located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write
from tierwise.errors import SpecError
from tierwise.spec import load_project

PROJECT = """
name: shop
sources:
  customers:
    path: customers.csv
    columns:
      customer_id: {type: string}
  transactions:
    path: orders.csv
    time: order_date
    columns:
      customer_id: {type: string}
      order_date: {type: date}
      amount: {type: float}
indicators:
  orders_6m: {source: transactions, agg: count, window: 6m}
  spend_12m: {source: transactions, agg: sum, column: amount, window: 12m}
schemes:
  value:
    method: rules
    fallback: FALLBACK
    tiers:
      - {key: churn_risk, when: orders_6m == 0, status: true, priority: P1}
      - {key: high, when: spend_12m >= 1000, priority: P2}
      - {key: low, when: spend_12m >= 1}
      - {key: other, status: OTHER_STATUS}
  pareto:
    method: abc
    value: spend_12m
    tiers: [{key: A, cumulative: 0.8, STATUS_OR_PRIORITY}, {key: B}]
  segments:
    method: rfm
    recency: orders_6m
    frequency: orders_6m
    monetary: spend_12m
    tiers: [{key: lost, status: true}]
"""


def _load(tmp_path: Path, **parts: str) -> str:
    text = PROJECT
    defaults = {"FALLBACK": "other", "P1": "1", "P2": "2", "OTHER_STATUS": "true",
                "STATUS_OR_PRIORITY": "label: A"}
    for key, value in {**defaults, **parts}.items():
        text = text.replace(key, value)
    write(tmp_path, "tierwise.yaml", text)
    return text


def _line(text: str, needle: str) -> int:
    lines = text.lstrip("\n").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_statuses_and_priorities_load(tmp_path: Path) -> None:
    _load(tmp_path)
    spec, _ = load_project(tmp_path)
    rules = spec.schemes["value"]
    assert [t.key for t in rules.evaluation_order()] == ["churn_risk", "high", "low"]  # type: ignore[union-attr]
    # A ladder tier may be the fallback too.
    _load(tmp_path, FALLBACK="low", OTHER_STATUS="false")
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    # ... but then `other` needs a condition, and low must lose its own.
    assert {p.path for p in info.value.problems} == {"schemes.value.tiers[2].when",
                                                     "schemes.value.tiers[3]"}


def test_duplicate_priority_is_located(tmp_path: Path) -> None:
    text = _load(tmp_path, P2="1")
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    (problem,) = info.value.problems
    assert problem.path == "schemes.value.tiers[1].priority"
    assert problem.message == ("priority 1 is also tier 'churn_risk''s; give each tier its own "
                               "priority so the order conditions are tried in is clear")
    assert problem.where.endswith(f"tierwise.yaml:{_line(text, 'key: high')}")


def test_priority_on_the_fallback_and_status_outside_rules_are_refused(tmp_path: Path) -> None:
    _load(tmp_path, OTHER_STATUS="true, priority: 3", STATUS_OR_PRIORITY="status: true")
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    found = {p.path: p.message for p in info.value.problems}
    assert sorted(found) == ["schemes.pareto.tiers[0].status", "schemes.value.tiers[3].priority"]
    assert "is the fallback" in found["schemes.value.tiers[3].priority"]
    assert "only rules and rfm tiers can be a status" in found["schemes.pareto.tiers[0].status"]


def test_a_scheme_of_statuses_only_has_no_ladder(tmp_path: Path) -> None:
    text = PROJECT.replace("{key: high, when: spend_12m >= 1000, priority: P2}",
                           "{key: high, when: spend_12m >= 1000, status: true}")
    text = text.replace("{key: low, when: spend_12m >= 1}",
                        "{key: low, when: spend_12m >= 1, status: true}")
    write(tmp_path, "tierwise.yaml", text.replace("FALLBACK", "other").replace("P1", "1")
          .replace("OTHER_STATUS", "true").replace("STATUS_OR_PRIORITY", "label: A"))
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    (problem,) = info.value.problems
    assert problem.path == "schemes.value.tiers"
    assert problem.message.startswith("every tier is a status, so the scheme has no value ladder")
