from __future__ import annotations

from typing import Any

import pandas as pd

from tests.methods.conftest import AS_OF, scheme
from tierwise.methods import rules

RETAIL = {
    "method": "rules",
    "tiers": [
        {"key": "high", "when": "orders_12m >= 10 and spend_12m >= 10000"},
        {"key": "medium", "when": "(orders_12m between 5 and 9 and spend_12m between 5000 and 9999)"
                                  " or (orders_12m >= 10 and spend_12m < 10000)"},
        {"key": "low", "when": "orders_12m between 1 and 4 and spend_12m < 5000"},
        {"key": "churn_risk", "when": "orders_6m == 0"},
        {"key": "unclassified"},
    ],
    "fallback": "unclassified",
}

FEATURES: dict[str, list[Any]] = {
    #               high   medium  med(>=10) low    churn  gap(5-9,>=10k) gap(1-4,>=5k) high+churn
    "customer_id": ["a",   "b",    "c",      "d",   "e",   "f",           "g",          "h"],
    "orders_12m":  [12,    7,      11,       3,     0,     6,             2,            10],
    "spend_12m":   [15000, 6000,   8000,     900,   0,     12000,         7000,         10000],
    "orders_6m":   [4,     2,      5,        1,     0,     3,             1,            0],
}


def test_first_match_wins_and_fallback_catches_gaps(run_grades: Any) -> None:
    out = run_grades(RETAIL, FEATURES)
    assert out.tier.to_dict() == {
        "a": "high", "b": "medium", "c": "medium", "d": "low", "e": "churn_risk",
        "f": "unclassified", "g": "unclassified", "h": "high"}
    assert out.tier_rank.to_dict() == {"a": 1, "b": 2, "c": 2, "d": 3, "e": 4, "f": 5, "g": 5,
                                       "h": 1}


def test_reason_names_rule_values_and_overlap(run_grades: Any) -> None:
    out = run_grades(RETAIL, FEATURES)
    assert out.reasons["h"] == ("rule 'high' matched: orders_12m >= 10 and spend_12m >= 10000 "
                                "[orders_12m=10; spend_12m=10000]; also matched lower-priority "
                                "churn_risk")
    assert out.reasons["f"].startswith("no rule matched; fallback 'unclassified' [")
    assert "orders_12m=6" in out.reasons["f"]


def test_gap_is_smallest_change_to_next_tier(run_grades: Any) -> None:
    out = run_grades(RETAIL, FEATURES)
    # b: 7 orders, 6000 spend -> high needs orders +3 (10 - 7) and spend +4000 (10000 - 6000)
    assert out.gap["b"] == "to reach 'high': orders_12m +3 (>= 10), spend_12m +4000 (>= 10000)"
    # c: 11 orders, 8000 -> high needs only spend +2000
    assert out.gap["c"] == "to reach 'high': spend_12m +2000 (>= 10000)"
    # d (low, rank 3: 3 orders, 900 spend) -> medium has two alternatives: 5-9 orders and
    # 5000-9999 spend (orders +2, spend +4100), or >= 10 orders and < 10000 spend (orders +7).
    assert out.gap["d"] == ("to reach 'medium': orders_12m +2 (>= 5), spend_12m +4100 (>= 5000)"
                            "; or orders_12m +7 (>= 10)")
    assert pd.isna(out.gap["a"])


def test_analysis_counts_overlaps_gaps_and_dead_rules(con: Any) -> None:
    import ibis

    body = {**RETAIL, "tiers": [*RETAIL["tiers"][:4],
                                {"key": "never", "when": "orders_12m >= 10 and orders_12m < 5"},
                                RETAIL["tiers"][4]]}
    spec = scheme(body)
    features = ibis.memtable(pd.DataFrame(FEATURES))
    counts_expr, conds = rules.analysis_expr(spec, features, as_of=AS_OF)
    row = con.execute(counts_expr).iloc[0]
    counts = {k: int(row[k]) for k in row.index}
    grades = con.execute(rules.grade(spec, features, as_of=AS_OF))
    wins = grades.tier.value_counts().to_dict()
    result = rules.analyse(spec, counts, wins, conds)
    assert result.matches == {"high": 2, "medium": 2, "low": 1, "churn_risk": 2, "never": 0}
    assert ("high", "churn_risk", 1) in result.overlaps
    assert result.fallback_only == 2  # f and g
    assert result.never_match == ["never"]
    assert result.unsatisfiable == ["never"]
