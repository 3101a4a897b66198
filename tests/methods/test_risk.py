"""The risk method: factor points, levels by score, ceilings, and floors that always win."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.methods.conftest import scheme

RISK: dict[str, Any] = {
    "method": "risk",
    "factors": [
        {"indicator": "occupation", "weight": 40, "default": 100,
         "table": {"cash_business": 90, "clerk": 10, "student": 20}},
        {"indicator": "cash_share", "weight": 40, "default": 0,
         "bins": [[None, 0], [0.3, 50], [0.6, 100]]},
        {"indicator": "pep", "weight": 20, "table": {"true": 100, "false": 0}, "default": 0},
    ],
    "tiers": [
        {"key": "high", "min_score": 60, "review_months": 6, "due_diligence": "enhanced"},
        {"key": "medium", "min_score": 30, "review_months": 12},
        {"key": "low", "review_months": 24, "due_diligence": "simplified"},
    ],
    "floors": [{"when": "pep", "at_least": "high", "reason": "politically exposed person"},
               {"when": "sanctioned", "at_least": "medium"}],
    "ceilings": [{"when": "state_owned", "at_most": "medium", "reason": "state-owned entity"}],
}

FEATURES: dict[str, list[Any]] = {
    "customer_id": ["a", "b", "c", "d", "e", "f"],
    "occupation": ["clerk", "cash_business", "mystery", "student", "cash_business", None],
    "cash_share": [0.1, 0.7, 0.5, 0.0, 0.9, None],
    "pep": [False, False, False, True, False, False],
    "sanctioned": [False, False, False, False, True, True],
    "state_owned": [False, False, False, False, True, False],
}


def test_points_score_and_levels(run_grades: Any) -> None:
    out = run_grades(RISK, FEATURES)
    # a: clerk 10 x .4 + cash 0.1 -> 0 x .4 + pep 0 = 4 -> low
    assert out.score["a"] == pytest.approx(4.0) and out.tier["a"] == "low"
    # b: 90 x .4 + 100 x .4 = 76 -> high, enhanced due diligence
    assert out.score["b"] == pytest.approx(76.0) and out.tier["b"] == "high"
    assert out.due_diligence["b"] == "enhanced" and out.due_diligence["a"] == "simplified"
    # c: an occupation the table does not list scores the default 100: 40 + 20 = 60 -> high
    assert out.pts_occupation["c"] == 100 and out.tier["c"] == "high"
    # f: a missing occupation scores the default too; a missing number its factor's default
    assert out.pts_occupation["f"] == 100 and out.pts_cash_share["f"] == 0
    assert "level by score: high" in out.reasons["b"]
    assert "enhanced due diligence" in out.reasons["b"]


def test_floor_wins_over_score_and_ceiling(run_grades: Any) -> None:
    out = run_grades(RISK, FEATURES)
    # d: student 8 + cash 0 + pep 20 = 28 -> low by score; the PEP floor lifts it to high
    assert out.score_rank["d"] == 3 and out.tier["d"] == "high" and out.floor_at["d"] == 0
    assert "raised to at least high: politically exposed person" in out.reasons["d"]
    assert pd.isna(out.gap["d"])  # the score does not decide: no points to gain
    # e: 76 -> high by score; state-owned caps at medium; sanctioned floors at medium: medium
    assert out.score_rank["e"] == 1 and out.tier["e"] == "medium"
    assert out.ceiling_at["e"] == 0 and "capped at medium: state-owned entity" in out.reasons["e"]
    # f: 40 -> medium by score; the sanctioned floor (medium) does not move it, so no floor
    assert out.tier["f"] == "medium" and pd.isna(out.floor_at["f"])


def test_gap_to_the_next_higher_level(run_grades: Any) -> None:
    out = run_grades(RISK, FEATURES)
    assert out.gap["a"] == "to reach medium: +26 points"
    assert pd.isna(out.gap["b"])  # at the top already


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # stateless
@given(st.lists(st.tuples(st.floats(0, 1), st.booleans(), st.booleans(), st.booleans(),
                          st.sampled_from(["clerk", "cash_business", "student", "other"])),
                min_size=1, max_size=30))
def test_a_matching_floor_is_never_undercut(run_grades: Any, rows: list[Any]) -> None:
    features = {
        "customer_id": [f"c{i}" for i in range(len(rows))],
        "cash_share": [r[0] for r in rows], "pep": [r[1] for r in rows],
        "sanctioned": [r[2] for r in rows], "state_owned": [r[3] for r in rows],
        "occupation": [r[4] for r in rows],
    }
    out = run_grades(RISK, features)
    for i, row in enumerate(rows):
        rank = out.tier_rank[f"c{i}"]
        if row[1]:
            assert rank == 1  # PEP: high, whatever the score and the ceiling
        elif row[2]:
            assert rank <= 2  # sanctioned: at least medium
        elif row[3]:
            assert rank >= 2  # state-owned, no floor: at most medium


def test_scheme_mistakes_are_refused() -> None:
    with pytest.raises(ValidationError, match="default: 100"):
        scheme({**RISK, "factors": [{"indicator": "occupation", "weight": 1,
                                     "table": {"clerk": 10}}]})
    with pytest.raises(ValidationError, match="either `table:`"):
        scheme({**RISK, "factors": [{"indicator": "x", "weight": 1}]})
    with pytest.raises(ValidationError, match="points run from 0 to 100"):
        scheme({**RISK, "factors": [{"indicator": "x", "weight": 1, "default": 0,
                                     "table": {"a": 150}}]})
    with pytest.raises(ValidationError, match="a missing value scores"):
        scheme({**RISK, "factors": [{"indicator": "x", "weight": 1, "bins": [[None, 1]]}]})
    with pytest.raises(ValidationError, match="differ only in case"):
        scheme({**RISK, "factors": [{"indicator": "x", "weight": 1, "default": 0,
                                     "table": {"CN": 1, "cn ": 2}}]})
    with pytest.raises(ValidationError, match="weekend day 'fr'"):
        scheme({**RISK, "reviews": {"calendar": {"weekend": ["fr"]}}})
