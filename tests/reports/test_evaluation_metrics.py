"""Evaluation metrics against hand-computed values and scikit-learn's reference AUC."""

from __future__ import annotations

import numpy as np
import pytest

from tierwise.reports.evaluation import auc, calibrate, evaluate_grades, future_top, gains, spearman


def test_future_top_includes_ties_and_never_zero() -> None:
    values = np.array([0.0, 0.0, 5.0, 5.0, 10.0])
    top, cut = future_top(values, 0.2)
    assert cut == 10 and top.tolist() == [False, False, False, False, True]
    top, cut = future_top(values, 0.4)
    assert cut == 5 and top.tolist() == [False, False, True, True, True]  # the tie at 5 is in
    top, _ = future_top(np.zeros(4), 0.5)
    assert not top.any()  # nobody who bought nothing is "top"
    with pytest.raises(ValueError, match="between 0 and 1"):
        future_top(values, 1.5)


def test_auc_counts_ties_half_like_scikit_learn() -> None:
    from sklearn.metrics import roc_auc_score

    positive = np.array([True, False, False])
    assert auc(np.array([3.0, 2.0, 1.0]), positive) == 1.0
    assert auc(np.array([1.0, 2.0, 3.0]), positive) == 0.0
    assert auc(np.array([1.0, 1.0, 1.0]), positive) == 0.5
    assert auc(np.array([1.0, 2.0]), np.array([True, True])) is None
    rng = np.random.default_rng(7)
    score = rng.integers(0, 5, 500).astype(float)  # heavily tied, like tier ranks
    label = rng.random(500) < 0.3 + 0.1 * score
    assert auc(score, label) == pytest.approx(roc_auc_score(label, score), abs=1e-12)


def test_spearman_and_gains_by_hand() -> None:
    # ranks x = [2.5, 2.5, 1], y = [3, 2, 1]: cov 1.5, var 1.5 and 2 -> 1.5 / sqrt(3)
    assert spearman(np.array([-1.0, -1.0, -3.0]), np.array([300.0, 100.0, 0.0])) == \
        pytest.approx(1.5 / np.sqrt(3))
    assert spearman(np.array([1.0, 1.0, 1.0]), np.array([1.0, 2.0, 3.0])) is None
    assert gains(np.array([3.0, 2.0, 1.0, 0.0]), np.array([10.0, 0, 0, 0]), 4)[1] == (0.25, 1.0)
    # All tied: the value is spread evenly, the curve is the diagonal.
    assert gains(np.ones(4), np.array([10.0, 0, 0, 0]), 4) == [
        (0.0, 0.0), (0.25, 0.25), (0.5, 0.5), (0.75, 0.75), (1.0, 1.0)]
    assert gains(np.ones(3), np.zeros(3)) == []


def test_one_scheme_by_hand() -> None:
    # C1 and C2 in gold, C3 in bronze; realised 300, 100, 0; the future top is C1 alone.
    outcome = np.array([300.0, 100.0, 0.0])
    top, _ = future_top(outcome, 0.2)
    got = evaluate_grades("tier", ["gold", "silver", "bronze"],
                          np.array(["gold", "gold", "bronze"], dtype=object),
                          np.array([1, 1, 3]), None, outcome, top)
    assert (got.precision, got.recall) == (0.5, 1.0)
    assert got.ordered_by == "tier rank" and got.auc == 0.75 and got.gini == 0.5
    gold, silver, bronze = got.tiers
    assert (gold.customers, gold.value, gold.mean) == (2, 400.0, 200.0)
    assert gold.lift == pytest.approx(200 / (400 / 3)) and gold.value_share == 1.0
    assert (silver.customers, silver.lift, bronze.lift) == (0, None, 0.0)


def test_a_status_tier_orders_below_the_ladder() -> None:
    # C3 is in churn risk (a status, rank 0): it must not count as better than gold.
    outcome = np.array([300.0, 100.0, 0.0])
    top, _ = future_top(outcome, 0.2)
    got = evaluate_grades("tier", ["gold", "silver", "churn_risk"],
                          np.array(["gold", "silver", "churn_risk"], dtype=object),
                          np.array([1, 2, 0]), None, outcome, top)
    assert got.auc == 1.0 and got.spearman == pytest.approx(1.0)
    assert [t.rank for t in got.tiers] == [1, 2, 0]


def test_calibration_by_decile() -> None:
    predicted = np.arange(20, dtype=float)
    bins = calibrate(predicted, predicted * 2)
    assert len(bins) == 10 and bins[0].customers == 2
    assert (bins[0].predicted, bins[0].realised) == (0.5, 1.0)
    assert bins[-1].predicted == 18.5
    assert calibrate(np.array([np.nan]), np.array([1.0])) == []
