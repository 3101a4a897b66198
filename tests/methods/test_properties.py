"""Invariants every method keeps, on generated feature tables (docs/architecture.md section 6)."""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.methods.conftest import AS_OF, scheme
from tierwise.methods import grade

CON = ibis.duckdb.connect()
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

rows = st.lists(
    st.tuples(st.integers(0, 400) | st.none(), st.integers(0, 15), st.integers(-50, 20000)),
    min_size=1, max_size=40)

SCHEMES: dict[str, dict[str, Any]] = {
    "rules": {"method": "rules", "tiers": [
        {"key": "high", "when": "orders >= 10 and spend >= 10000"},
        {"key": "mid", "when": "orders between 5 and 9 or spend >= 5000"},
        {"key": "churn", "when": "days > 180"},
        {"key": "other"}], "fallback": "other"},
    "rfm": {"method": "rfm", "recency": "days", "frequency": "orders", "monetary": "spend"},
    "rfm_cn8": {"method": "rfm", "recency": "days", "frequency": "orders", "monetary": "spend",
                "segments": "cn8"},
    "abc": {"method": "abc", "value": "spend", "tiers": [
        {"key": "A", "cumulative": 0.8}, {"key": "B", "cumulative": 0.95}, {"key": "C"}]},
    "scorecard_share": {"method": "scorecard", "dimensions": [
        {"indicator": "spend", "weight": 0.5, "normalize": "percentile"},
        {"indicator": "orders", "weight": 0.3, "normalize": "zscore"},
        {"indicator": "days", "weight": 0.2, "normalize": {"method": "minmax", "invert": True}}],
        "tiers": [{"key": "vip", "top_share": 0.1}, {"key": "mid", "top_share": 0.5},
                  {"key": "rest"}]},
}


def frame(data: list[tuple[Any, int, int]]) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [f"c{i:03d}" for i in range(len(data))],
        "days": pd.array([d for d, _, _ in data], dtype="Int64"),
        "orders": [o for _, o, _ in data],
        "spend": [float(s) for _, _, s in data],
    })


def grades(body: dict[str, Any], df: pd.DataFrame) -> pd.DataFrame:
    out = CON.execute(grade(scheme(body), ibis.memtable(df), as_of=AS_OF))
    return out.sort_values("customer_id").reset_index(drop=True)


@SETTINGS
@given(rows, st.sampled_from(sorted(SCHEMES)), st.randoms(use_true_random=False))
def test_one_grade_per_customer_independent_of_row_order(data: Any, name: str, rnd: Any) -> None:
    df = frame(data)
    out = grades(SCHEMES[name], df)
    assert len(out) == len(df) and out.customer_id.is_unique
    assert out.tier.notna().all() and out.tier_rank.notna().all()
    shuffled = df.sample(frac=1, random_state=rnd.randint(0, 10_000))
    again = grades(SCHEMES[name], shuffled)
    pd.testing.assert_frame_equal(out, again)


@SETTINGS
@given(rows, st.integers(1, 5), st.integers(0, 5000))
def test_raising_a_threshold_never_moves_a_customer_up(data: Any, more_orders: int,
                                                       more_spend: int) -> None:
    df = frame(data)
    base = SCHEMES["rules"]
    raised = {**base, "tiers": [
        {"key": "high", "when": f"orders >= {10 + more_orders} and spend >= {10000 + more_spend}"},
        *base["tiers"][1:]]}
    before, after = grades(base, df), grades(raised, df)
    # A larger rank is a lower tier: nobody may get a smaller (better) rank.
    assert (after.tier_rank >= before.tier_rank).all()
