from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tierwise.methods.rfm import CN8, STANDARD11

RFM = {"method": "rfm", "recency": "days", "frequency": "orders", "monetary": "spend"}

# Ten customers; frequency heavily tied (four customers with 1 order, three with 2).
FEATURES: dict[str, list[Any]] = {
    "customer_id": list("abcdefghij"),
    "days":   [5,   10,  20,  40,  80,  160, 320, 400, 500, None],
    "orders": [9,   7,   5,   2,   2,   2,   1,   1,   1,   1],
    "spend":  [900, 700, 500, 300, 200, 200, 100, 90,  80,  0],
}


def test_quantile_scores_are_tie_aware(run_grades: Any) -> None:
    out = run_grades(RFM, FEATURES)
    # F: value 1 -> 0 customers below -> 1 + floor(5*0/10) = 1 (all four ties together)
    #    value 2 -> 4 below -> 1 + floor(20/10) = 3; 5 -> 7 below -> 1 + floor(35/10) = 4
    #    7 -> 8 below -> 1 + 4 = 5; 9 -> 9 below -> 1 + floor(45/10) = 5
    assert out.f_score.to_dict() == {"a": 5, "b": 5, "c": 4, "d": 3, "e": 3, "f": 3, "g": 1,
                                     "h": 1, "i": 1, "j": 1}
    # R: fewer days is better; j never bought (null) counts as the worst value.
    # a (5 days): 9 customers have more days -> 1 + floor(45/10) = 5; i (500): 1 below (j) -> 1
    assert out.r_score["a"] == 5 and out.r_score["i"] == 1 and out.r_score["j"] == 1
    # M: e and f tie at 200 -> both have 4 below (100, 90, 80, 0) -> 1 + floor(20/10) = 3
    assert out.m_score["e"] == out.m_score["f"] == 3
    assert out.rfm_code["a"] == "555"
    assert out.score["a"] == 15


def test_equal_values_get_equal_scores_whatever_the_order(run_grades: Any) -> None:
    shuffled = {k: list(reversed(v)) for k, v in FEATURES.items()}
    a, b = run_grades(RFM, FEATURES), run_grades(RFM, shuffled)
    pd.testing.assert_frame_equal(a, b)


def test_standard11_partitions_all_cells() -> None:
    cells = [c for seg in STANDARD11 for c in seg.cells]
    assert len(cells) == 25 and len(set(cells)) == 25
    cn = [c for seg in CN8 for c in seg.cells]
    assert len(cn) == 8 and len(set(cn)) == 8


def test_segment_and_gap(run_grades: Any) -> None:
    out = run_grades(RFM, FEATURES)
    assert out.tier["a"] == "champions"  # R5, FM ceil((5+5)/2) = 5
    # d: F 3 -> next score 4 is reached at 5 orders (the least value scoring 4)
    assert "F 3->4: orders >= 5" in out.gap["d"]
    assert pd.isna(out.gap["a"])


def test_cn8_high_low_rule(run_grades: Any) -> None:
    out = run_grades({**RFM, "segments": "cn8"}, FEATURES)
    # a has every score 5, above every mean -> 重要价值 (important_value)
    assert out.tier["a"] == "important_value"
    assert "R high, F high, M high" in out.reasons["a"]
    assert out.tier["j"] == "general_winback"


def test_fixed_cuts(run_grades: Any) -> None:
    body = {**RFM, "cuts": {"recency": [30, 90, 180, 365], "frequency": [2, 3, 5, 8],
                            "monetary": [100, 200, 500, 800]}}
    out = run_grades(body, FEATURES)
    # recency: <= 30 days scores 5; 40 -> 4; 160 -> 3; 320 -> 2; 400 -> 1; never -> 1
    assert out.r_score[["a", "c", "d", "f", "g", "h", "j"]].tolist() == [5, 5, 4, 3, 2, 1, 1]
    # frequency: 1 + #cuts <= value: 9 -> 5; 5 -> 4; 2 -> 2; 1 -> 1
    assert out.f_score[["a", "c", "d", "g"]].tolist() == [5, 4, 2, 1]


ABC = {"method": "abc", "value": "spend",
       "tiers": [{"key": "A", "cumulative": 0.8}, {"key": "B", "cumulative": 0.95}, {"key": "C"}]}


def test_abc_by_value(run_grades: Any) -> None:
    out = run_grades(ABC, FEATURES)
    # total 3070. Share above a: 0 -> A; b: 900/3070=.293 -> A; c: 1600/3070=.521 -> A;
    # d: 2100/3070=.684 -> A (crosses 80%); e and f tie: 2400/3070=.782 -> both A;
    # g: 2800/3070=.912 -> B; h: 2900/3070=.945 -> B; i: 2990/3070=.974 -> C; j -> C
    assert out.tier.to_dict() == {"a": "A", "b": "A", "c": "A", "d": "A", "e": "A", "f": "A",
                                  "g": "B", "h": "B", "i": "C", "j": "C"}
    # g needs to reach the least A value, 200: +100
    assert out.gap["g"] == "to reach A: spend +100"


def test_abc_by_customers(run_grades: Any) -> None:
    body = {**ABC, "by": "customers",
            "tiers": [{"key": "A", "cumulative": 0.2}, {"key": "B", "cumulative": 0.5},
                      {"key": "C"}]}
    out = run_grades(body, FEATURES)
    # a: 0 above -> A; b: 1/10 -> A; c: 2/10 -> B; d: 3/10 -> B; e,f: 4/10 -> B; g: 6/10 -> C
    assert "".join(out.tier.tolist()) == "AABBBBCCCC"


SCORE = {
    "method": "scorecard",
    "dimensions": [
        {"indicator": "spend", "weight": 0.6},
        {"indicator": "days", "weight": 0.4, "normalize": {"method": "minmax", "invert": True}},
    ],
    "tiers": [{"key": "top", "min_score": 60}, {"key": "mid", "min_score": 30}, {"key": "rest"}],
}


def test_scorecard_min_score(run_grades: Any) -> None:
    out = run_grades(SCORE, FEATURES)
    # a: spend 900 -> 100 pts; days 5 -> 100 - 100*(5-5)/(500-5) = 100 -> score 100
    assert out.score["a"] == pytest.approx(100)
    # c: spend 500 -> 100*500/900 = 55.556; days 20 -> 100 - 100*15/495 = 96.970
    #    score = .6*55.556 + .4*96.970 = 33.333 + 38.788 = 72.121
    assert out.score["c"] == pytest.approx(72.121212, abs=1e-5)
    assert out.tier["c"] == "top"
    # j: no recency -> 0 points; spend 0 -> 0 -> score 0 -> rest
    assert out.tier["j"] == "rest"
    assert "spend 500 -> 55.6 pts x 0.6 = 33.33" in out.reasons["c"]


def test_scorecard_top_share_and_gap(run_grades: Any) -> None:
    body = {**SCORE, "tiers": [{"key": "vip", "top_share": 0.2}, {"key": "mid", "top_share": 0.5},
                               {"key": "rest"}]}
    out = run_grades(body, FEATURES)
    assert (out.tier == "vip").sum() == 2 and (out.tier == "mid").sum() == 3
    # the gap of the best 'mid' customer is the distance to the lowest vip score
    best_mid = out[out.tier == "mid"].score.max()
    lowest_vip = out[out.tier == "vip"].score.min()
    row = out[out.score == best_mid].iloc[0]
    assert row.gap.startswith(f"to reach vip: +{round(lowest_vip - best_mid, 2):g} points")
