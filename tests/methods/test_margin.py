"""Downgrade margins: loosened rule thresholds and score cut-offs."""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
import pytest

from tests.methods.conftest import AS_OF, scheme
from tierwise import expr
from tierwise.engine import connect
from tierwise.errors import MethodError
from tierwise.methods import grade, within_margin
from tierwise.methods.margin import loosen

ENGINE = connect()


@pytest.mark.parametrize(("text", "loosened"), [
    # lower bounds move down by 10% of the literal, upper bounds up
    ("orders >= 10 and spend > 1000", "orders >= 9 and spend > 900"),
    ("x <= 5", "x <= 5.5"),
    ("x < 200", "x < 220"),
    ("10 <= x", "9 <= x"),
    ("10 >= x", "11 >= x"),
    ("x >= -10", "x >= -11"),  # -10 - 10% of |-10| = -11
    ("x between 10 and 20", "x between 9 and 22"),
    # under a negation the inner condition tightens, so the whole one loosens
    ("not x >= 10", "not x >= 11"),
    ("x not between 10 and 20", "x not between 11 and 18"),
    ("(a >= 3 or b < 2.5) and not (c > 100 or d <= 4)",
     "(a >= 2.7 or b < 2.75) and not (c > 110 or d <= 3.6)"),
    ("days_since(last_order) <= 30", "days_since(last_order) <= 33"),
    ("div(spend, orders, 0) >= 50", "div(spend, orders, 0) >= 45"),
    # untouched: equality, lists, text, two columns, zero, comparisons inside functions
    ("x == 5 and y != 3", "x == 5 and y != 3"),
    ("x in (1, 2)", "x in (1, 2)"),
    ("channel == 'web'", "channel == 'web'"),
    ("x >= y", "x >= y"),
    ("x > 0", "x > 0"),
    ("if(x >= 5, 1, 0) == 1", "if(x >= 5, 1, 0) == 1"),
])
def test_loosen_moves_thresholds_towards_easier(text: str, loosened: str) -> None:
    node = expr.parse(text)
    assert expr.render(loosen(node, 0.1)) == loosened
    assert loosen(node, 0) == node


def test_loosen_is_exact_in_decimal() -> None:
    # 0.1 * 0.3 in binary is 0.030000000000000002; the decimal shift keeps 0.33
    assert expr.render(loosen(expr.parse("x <= 0.3"), 0.1)) == "x <= 0.33"


RULES = {
    "method": "rules",
    "tiers": [
        {"key": "gold", "when": "orders >= 10 and spend >= 10000"},
        {"key": "silver", "when": "orders between 5 and 9 or spend >= 5000"},
        {"key": "basic"},
    ],
    "fallback": "basic",
}


def run_margin(body: dict[str, Any], features: dict[str, list[Any]], held: dict[str, str],
               margin: float, *, reuse_scores: bool = False) -> dict[str, bool]:
    spec = scheme(body)
    table = ibis.memtable(pd.DataFrame(features))
    held_t = ibis.memtable(pd.DataFrame({"customer_id": list(held),
                                         "held_tier": list(held.values())}))
    scores = grade(spec, table, as_of=AS_OF) if reuse_scores else None
    out = ENGINE.execute(within_margin(spec, table, held_t, margin, as_of=AS_OF, scores=scores))
    assert list(out.columns) == ["customer_id", "within_margin"]
    return {c: bool(v) for c, v in zip(out.customer_id, out.within_margin, strict=True)}


def test_rules_within_loosened_held_tier() -> None:
    features = {
        "customer_id": ["a", "b", "c", "d", "e", "f", "g"],
        "orders": [9, 8, 10, 4, 0, 10, 3],
        "spend": [9000.0, 9500.0, 8999.0, 4500.0, 0.0, None, 100.0],
    }
    held = {"a": "gold", "b": "gold", "c": "gold", "d": "silver", "e": "basic", "f": "gold",
            "g": "platinum"}
    got = run_margin(RULES, features, held, 0.1)
    assert got == {
        "a": True,   # orders 9 >= 9 (10 - 10%), spend 9000 >= 9000
        "b": False,  # orders 8 < 9
        "c": False,  # spend 8999 < 9000
        "d": True,   # orders 4 is outside 4.5..9.9, but spend 4500 >= 4500 (5000 - 10%)
        "e": True,   # the fallback takes everyone
        "f": False,  # a missing value never meets a threshold
        "g": False,  # a tier the scheme does not have
    }


def test_rules_margin_zero_is_the_tier_condition() -> None:
    features = {"customer_id": ["a", "b"], "orders": [10, 9], "spend": [10000.0, 10000.0]}
    assert run_margin(RULES, features, {"a": "gold", "b": "gold"}, 0.0) == {
        "a": True, "b": False}


SCORECARD = {
    "method": "scorecard",
    "dimensions": [{"indicator": "pts", "weight": 1,
                    "normalize": {"method": "bins",
                                  "bins": [[None, 0], [50, 50], [72, 72], [73, 73], [80, 80]]}}],
    "tiers": [{"key": "gold", "min_score": 80}, {"key": "silver", "min_score": 50},
              {"key": "rest"}],
}


@pytest.mark.parametrize("reuse_scores", [False, True])
def test_scorecard_within_loosened_min_score(reuse_scores: bool) -> None:
    # bins map pts onto the same score: 73, 72 and 0 points
    features = {"customer_id": ["a", "b", "c", "d"], "pts": [73.0, 72.0, 71.0, 0.0]}
    held = {"a": "gold", "b": "gold", "c": "gold", "d": "rest"}
    got = run_margin(SCORECARD, features, held, 0.1, reuse_scores=reuse_scores)
    # gold's cut-off 80 loosened by 10% is 72: 73 and 72 are within, 50 (c scores 50) is not
    assert got == {"a": True, "b": True, "c": False, "d": True}


@pytest.mark.parametrize("body", [
    {"method": "rfm", "recency": "days", "frequency": "orders", "monetary": "spend"},
    {"method": "abc", "value": "spend", "tiers": [{"key": "A", "cumulative": 0.8}, {"key": "B"}]},
    {**SCORECARD, "tiers": [{"key": "gold", "top_share": 0.2}, {"key": "rest"}]},
])
def test_ranking_methods_have_no_margin(body: dict[str, Any]) -> None:
    features = {"customer_id": ["a"], "days": [1], "orders": [1], "spend": [1.0], "pts": [1.0]}
    with pytest.raises(MethodError, match="no fixed thresholds to loosen"):
        run_margin(body, features, {"a": "A"}, 0.1)
