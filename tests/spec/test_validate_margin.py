"""A downgrade margin needs fixed thresholds: rules, or scorecards cut by min_score."""

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
  transactions:
    path: orders.csv
    time: order_date
indicators:
  orders_12m: {source: transactions, agg: count, window: 12m}
  spend_12m: {source: transactions, agg: sum, column: amount, window: 12m}
  days: {source: transactions, agg: days_since_last}
schemes:
  rules:
    method: rules
    stability: {downgrade_margin: 0.1}
    tiers: [{key: gold, when: "spend_12m >= 10000"}, {key: rest}]
    fallback: rest
  by_score:
    method: scorecard
    stability: {downgrade_margin: 0.1}
    dimensions: [{indicator: spend_12m, weight: 1}]
    tiers: [{key: top, min_score: 50}, {key: rest}]
  by_share:
    method: scorecard
    stability:
      downgrade_after: 2
      downgrade_margin: 0.1
    dimensions: [{indicator: spend_12m, weight: 1}]
    tiers: [{key: top, top_share: 0.2}, {key: rest}]
  pareto:
    method: abc
    value: spend_12m
    stability: {downgrade_margin: 0.05}
    tiers: [{key: A, cumulative: 0.8}, {key: B}]
  segments:
    method: rfm
    recency: days
    frequency: orders_12m
    monetary: spend_12m
    stability: {downgrade_after: 2, downgrade_margin: 0}
"""


def test_margin_only_on_fixed_thresholds(tmp_path: Path) -> None:
    write(tmp_path, "tierwise.yaml", PROJECT)
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    found = {p.path: p for p in info.value.problems}
    # rules and the min_score scorecard pass; a zero margin on rfm is no margin at all
    assert sorted(found) == ["schemes.by_share.stability.downgrade_margin",
                             "schemes.pareto.stability.downgrade_margin"]
    share = found["schemes.by_share.stability.downgrade_margin"]
    assert share.message == (
        "downgrade_margin needs fixed thresholds (rules conditions or scorecard `min_score` "
        "cut-offs), but a scorecard cut by `top_share` ranks customers, so there is no threshold "
        "to loosen; remove `downgrade_margin` and use `downgrade_after: 2` (a grace period of "
        "runs) instead"
    )
    lines = PROJECT.lstrip("\n").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "downgrade_margin: 0.1" in text
                and i > next(j for j, t in enumerate(lines, 1) if "by_share:" in t))
    assert share.where.endswith(f"tierwise.yaml:{line}")
    assert "method 'abc' ranks customers" in found["schemes.pareto.stability.downgrade_margin"].message


def test_margin_on_rules_and_min_score_loads(tmp_path: Path) -> None:
    text = PROJECT.split("  by_share:")[0]
    write(tmp_path, "tierwise.yaml", text)
    spec, _ = load_project(tmp_path)
    assert spec.schemes["rules"].stability is not None
    assert spec.schemes["rules"].stability.downgrade_margin == 0.1
