"""The clv method on customers simulated from BG/NBD: predictions against the simulated future,
tiers, honest uncertainty for a small business, churn risk by P(alive), refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tierwise.errors import MethodError

TRUE = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}
HORIZON_WEEKS = 39


def simulate(n: int, seed: int = 1) -> tuple[dict[str, list[Any]], np.ndarray]:
    """Indicators as of week T per customer (T between 20 and 60 weeks after their first
    purchase), and each customer's purchases in the 39 weeks after, from the BG/NBD story."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[Any]] = {k: [] for k in (
        "customer_id", "purchase_days", "days_since_first", "days_since_last", "spend_all",
        "first_spend")}
    future = np.zeros(n)
    for i in range(n):
        lam = rng.gamma(TRUE["r"], 1 / TRUE["alpha"])
        p = rng.beta(TRUE["a"], TRUE["b"])
        age = int(rng.integers(20, 61))
        t, times = 0.0, []
        while True:  # repeat purchases until dropout (after each purchase, with chance p)
            t += rng.exponential(1 / lam)
            if t > age + HORIZON_WEEKS:
                break
            times.append(t)
            if rng.random() < p:
                break
        past = [s for s in times if s <= age]
        future[i] = len(times) - len(past)
        # Gamma-Gamma spend: each customer's own scale nu, drawn from Gamma(q=4, 1/gamma=1/15).
        nu = rng.gamma(4.0, 1 / 15.0)
        amount = rng.gamma(6.0, 1 / nu, size=len(past) + 1)
        rows["customer_id"].append(f"C{i:05d}")
        rows["purchase_days"].append(len(past) + 1)
        rows["days_since_first"].append(age * 7)
        rows["days_since_last"].append(round((age - (past[-1] if past else 0)) * 7))
        rows["spend_all"].append(float(amount.sum()))
        rows["first_spend"].append(float(amount[0]))
    return rows, future


def clv_scheme(**extra: Any) -> dict[str, Any]:
    return {"method": "clv", "purchases": "purchase_days", "first": "days_since_first",
            "last": "days_since_last", "spend": "spend_all", "first_spend": "first_spend",
            "horizon": f"{HORIZON_WEEKS}w", "tiers": [{"key": "top", "top_share": 0.2},
                                                     {"key": "rest"}], **extra}


Grades = Callable[[dict[str, Any], dict[str, list[Any]]], pd.DataFrame]


def test_predictions_match_the_simulated_future(run_grades: Grades) -> None:
    features, future = simulate(4000)
    got = run_grades(clv_scheme(interval_rows=0), features)
    # Over all customers the expected purchases of the next 39 weeks add up to what happened.
    assert got["expected_purchases"].sum() == pytest.approx(future.sum(), rel=0.08)
    # And they rank customers: the top fifth by predicted purchases buys far more than the rest.
    order = np.argsort(-got["expected_purchases"].to_numpy())
    top = future[order[: len(order) // 5]].mean()
    assert top > 3 * future[order[len(order) // 5:]].mean()
    # Tiers by share: the top 20% hold the largest CLVs, and tier ranks follow.
    assert (got["tier"] == "top").mean() == pytest.approx(0.2, abs=0.01)
    assert got.loc[got.tier == "top", "clv"].min() >= got.loc[got.tier == "rest", "clv"].max()
    assert (got["clv"] >= 0).all() and got["predicted_value"].ge(got["clv"] * 0.95).all()


def test_one_time_buyers_are_marked_and_non_buyers_get_zero(run_grades: Grades) -> None:
    features, _ = simulate(600)
    for k, v in (("customer_id", "Z-none"), ("purchase_days", 0), ("days_since_first", None),
                 ("days_since_last", None), ("spend_all", 0.0), ("first_spend", None)):
        features[k].append(v)
    got = run_grades(clv_scheme(rank_by="p_alive", tiers=[
        {"key": "active", "min_score": 0.5}, {"key": "at_risk"}]), features)
    once = got[got.repeat_purchases == 0]
    assert (once.p_alive == 1).all() and (once.tier == "active").all()
    assert once.reasons.str.contains("P\\(alive\\) 1 by assumption").all()
    gone = got[(got.repeat_purchases > 0) & (got.p_alive < 0.5)]
    assert len(gone) > 0 and (gone.tier == "at_risk").all()
    assert gone.gap.str.startswith("p_alive +").all()
    none = got.loc["Z-none"]
    assert none.clv == 0 and none.tier == "at_risk" and none.reasons == "no purchase yet: CLV 0"


def test_a_small_business_gets_intervals(run_grades: Grades) -> None:
    features, _ = simulate(300, seed=3)
    got = run_grades(clv_scheme(), features)
    buyers = got[got.clv > 0]
    assert buyers.clv_low.notna().all()
    inside = (buyers.clv_low <= buyers.clv * 1.0001) & (buyers.clv <= buyers.clv_high * 1.0001)
    assert inside.mean() > 0.95
    assert ((buyers.clv_high - buyers.clv_low) / buyers.clv).median() > 0.05  # honest widths
    assert got.reasons.str.contains("90% ").any()
    # Large data: no intervals (too many distinct summaries to redraw) but the same CLV.
    plain = run_grades(clv_scheme(interval_rows=0), features)
    assert plain.clv_low.isna().all()
    assert np.allclose(plain.clv.to_numpy(), got.clv.to_numpy())


def test_too_few_buyers_is_refused_with_a_method_that_fits(run_grades: Grades) -> None:
    features, _ = simulate(30)
    with pytest.raises(MethodError, match="method: rfm or rules"):
        run_grades(clv_scheme(), features)


def test_spec_checks() -> None:
    from tests.methods.conftest import scheme

    with pytest.raises(ValueError, match="horizon"):
        scheme(clv_scheme(horizon="soon"))
    with pytest.raises(ValueError, match="rank_by"):
        scheme(clv_scheme(rank_by="luck"))
