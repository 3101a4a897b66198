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


def test_rfm_code_writes_each_score_out(run_grades: Any) -> None:
    out = run_grades({**RFM, "segments": "cn8", "scores": 10}, FEATURES)
    # ten scores: a is best on every dimension, and each 10 keeps both digits
    assert out.rfm_code["a"] == "101010"
    assert out.rfm_code["j"] == f"1{out.f_score['j']}1"
    five = run_grades({**RFM, "segments": "cn8"}, FEATURES)
    assert five.rfm_code["j"] == f"1{five.f_score['j']}{five.m_score['j']}"


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


def _one_dimension(normalize: Any) -> dict[str, Any]:
    return {"method": "scorecard",
            "dimensions": [{"indicator": "x", "weight": 1, "normalize": normalize}],
            "tiers": [{"key": "top", "min_score": 50}, {"key": "rest"}]}


@pytest.mark.parametrize(
    ("normalize", "values", "points"),
    [
        # Every present value is 5: max = min -> 50 points; c has no value -> 0 points.
        ("minmax", [5, 5, None], [50, 50, 0]),
        ({"method": "minmax", "invert": True}, [5, 5, None], [50, 50, 0]),  # 100 - 50 = 50
        # Standard deviation 0 -> z = 0 -> 50 + 50 * 0 / 3 = 50; c missing -> 0.
        ("zscore", [5, 5, None], [50, 50, 0]),
        ({"method": "zscore", "invert": True}, [5, 5, None], [50, 50, 0]),
        # mean of 1 and 3 = 2, population std 1: a z = -1 -> 50 - 50/3 = 33.33; b 66.67; c 0.
        ("zscore", [1, 3, None], [100 / 3, 200 / 3, 0]),
        # cap [2, -]: a 5 and b 5 stay 5 (c stays missing, not 2): max = min -> 50, c 0.
        ({"method": "minmax", "cap": [2, None]}, [5, 5, None], [50, 50, 0]),
        # cap [2, -]: a 1 -> 2, b 3: a 100 - 0 = 100, b 100 - 100 = 0 (inverted); c 0.
        ({"method": "minmax", "cap": [2, None], "invert": True}, [1, 3, None], [100, 0, 0]),
        # cap [6, -]: a 1 -> 6, b 3 -> 6, both in the bin from 5: 50 points; c below every bin.
        ({"method": "bins", "bins": [[None, 10], [5, 50]], "cap": [6, None]}, [1, 3, None],
         [50, 50, 0]),
    ],
)
def test_scorecard_missing_value_scores_zero(run_grades: Any, normalize: Any, values: list[Any],
                                             points: list[float]) -> None:
    out = run_grades(_one_dimension(normalize), {"customer_id": list("abc"), "x": values})
    assert out.pts_x.tolist() == pytest.approx(points, abs=1e-6)
    assert out.tier["c"] == "rest"  # 0 points < 50


def test_abc_refunds_hold_no_share(run_grades: Any) -> None:
    features = {"customer_id": list("abcdef"), "spend": [900, 500, 100, -100, -300, 0]}
    out = run_grades(ABC, features)
    # Counted as max(spend, 0): total 900 + 500 + 100 = 1500 (not 1100 with the refunds).
    # a: 0 above -> A; b: 900/1500 = 60% -> A; c: 1400/1500 = 93.33% -> B (< 95%);
    # d, e (net refunders) and f (0) hold no share: C.
    assert "".join(out.tier.tolist()) == "AABCCC"
    assert out.share_before.max() <= 1
    assert out.reasons["c"] == (
        "spend=100; share of value ranked above: 93.33% (class limit < 0.95)"
    )
    assert out.reasons["e"] == "spend=-300; not above 0, so it holds no share of value: the last class"
    # e needs to reach the least B value, 100: -300 + 400
    assert out.gap["e"] == "to reach B: spend +400"


def test_abc_by_customers_puts_no_value_last(run_grades: Any) -> None:
    body = {**ABC, "by": "customers",
            "tiers": [{"key": "A", "cumulative": 0.2}, {"key": "B", "cumulative": 0.5},
                      {"key": "C"}]}
    features = {"customer_id": list("abcdefghij"),
                "spend": [900, 500, 300, 0, 0, 0, 0, -50, None, 0]}
    out = run_grades(body, features)
    # a: 0/10 above -> A; b: 1/10 -> A; c: 2/10 -> B. The six at 0 (i missing counts as 0) have
    # 3/10 above, below the B limit, but contribute no value: C, like h at -50.
    assert "".join(out.tier.tolist()) == "AAB" + "C" * 7


def test_abc_without_positive_value_puts_everyone_last(run_grades: Any) -> None:
    out = run_grades(ABC, {"customer_id": list("abc"), "spend": [0, -10, None]})
    # Positive total 0: nothing to share out, everyone in the last class, no class to reach.
    assert out.tier.tolist() == ["C", "C", "C"]
    assert out.reasons["b"] == (
        "spend=-10; no customer has a positive value: everyone is in the last class"
    )
    assert out.gap.isna().all()
