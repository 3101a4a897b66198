"""The credit scorecard: planted structure recovered, a frozen table, reason codes, PSI."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.methods.conftest import scheme
from tierwise.methods.credit_fit import bands, power, psi, score
from tierwise.spec.credit import PointsTableSpec

TABLE: dict[str, Any] = {
    "characteristics": [
        {"indicator": "debt", "missing": 50, "bins": [
            {"lower": None, "points": 100}, {"lower": 0.5, "points": 60},
            {"lower": 1.0, "points": 20}]},
        {"indicator": "txns", "missing": 30, "bins": [
            {"lower": None, "points": 10}, {"lower": 1, "points": 40}, {"lower": 5, "points": 70}]},
    ],
}
CREDIT: dict[str, Any] = {
    "method": "credit", "characteristics": ["debt", "txns"], "points_table": TABLE,
    "scaling": {"pdo": 20},
    "reasons": 2,
    "tiers": [{"key": "A", "min_score": 150}, {"key": "B", "min_score": 100}, {"key": "C"}],
}


def test_a_frozen_table_grades_by_its_bins(run_grades: Any) -> None:
    out = run_grades(CREDIT, {"customer_id": ["a", "b", "c", "d"],
                              "debt": [0.2, 0.7, None, 3.0], "txns": [6, 0, 2, 1]})
    # a: 100 + 70 = 170 (A); b: 60 + 10 = 70 (C); c: missing 50 + 40 = 90 (C); d: 20 + 40 (C)
    assert out.score.to_dict() == {"a": 170.0, "b": 70.0, "c": 90.0, "d": 60.0}
    assert out.tier.to_dict() == {"a": "A", "b": "C", "c": "C", "d": "C"}
    # Reason codes: what costs most against the best bin (debt best 100, txns best 70).
    assert pd.isna(out.reason_1["a"])  # at the best bin of both: no reason
    assert (out.reason_1["b"], out.reason_2["b"]) == ("txns", "debt")  # lost 60, 40
    assert (out.reason_1["d"], out.reason_2["d"]) == ("debt", "txns")  # lost 80, 30
    assert "costs the most points: debt, txns" in out.reasons["d"]
    assert out.gap["b"] == "to reach B: +30 points"


def test_the_numpy_score_matches_the_engine() -> None:
    table = PointsTableSpec.model_validate(TABLE)
    frame = pd.DataFrame({"debt": [0.2, 0.7, float("nan"), 3.0, 0.5],
                          "txns": [6, 0, 2, 1, 5]})
    assert score(table, frame).tolist() == [170.0, 70.0, 90.0, 60.0, 130.0]


def test_power_and_stability_measures() -> None:
    import numpy as np

    s = np.array([1.0, 2, 3, 4, 5, 6, 7, 8])
    bad = np.array([1, 1, 1, 0, 1, 0, 0, 0])
    found = power(s, bad)
    # Ranks: 15 good-bad pairs of 16 ordered right -> AUC 15/16; KS: 3/4 bad vs 0 good.
    assert found["auc"] == pytest.approx(15 / 16) and found["ks"] == pytest.approx(0.75)
    assert found["gini"] == pytest.approx(2 * 15 / 16 - 1)
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert psi([0.5, 0.5], [0.9, 0.1]) == pytest.approx(0.4 * np.log(1.8) + 0.4 * np.log(5), 1e-6)
    shares = [b.share for b in bands(np.arange(100, dtype=float))]
    assert len(shares) == 10 and sum(shares) == pytest.approx(1.0)


def test_scheme_problems() -> None:
    from tierwise.spec.loader import load_project  # noqa: F401  (the section registers)
    from tierwise.spec.schemes import SchemeContext

    spec = scheme({**CREDIT, "points_table": None})
    context = SchemeContext(frozenset({"debt", "txns"}), {"debt": "number", "txns": "number"},
                            frozenset())
    messages = [m for _path, m in spec.problems(context)]
    assert any("target: {outcome" in m for m in messages)
    other = scheme({**CREDIT, "characteristics": ["debt"]})
    assert any("the points table scores debt, txns" in m for _p, m in other.problems(context))


@pytest.mark.slow
def test_the_scorecard_recovers_the_planted_structure(tmp_path: Path) -> None:
    """20,000 synthetic bank customers whose arrears depend on three facts only."""
    pytest.importorskip("optbinning")
    from tierwise.demo import write_bank
    from tierwise.services import credit, runs
    from tierwise.services.demo import copy_example
    from tierwise.services.grading import Project

    copy_example("bank", tmp_path)
    write_bank(tmp_path / "data", customers=20_000)
    project = Project.open(tmp_path)
    [done] = runs.run(project, ["credit_grade"], force=True)
    assert done.status == "done"
    store = runs.open_store(project)
    try:
        fitted = credit.points_table(store, "credit_grade")
    finally:
        store.close()
    ivs = {c.indicator: c.iv or 0.0 for c in fitted.model.table.characteristics}
    top = sorted(ivs, key=lambda k: -ivs[k])
    # Planted: loans to assets, no transactions in 6 months, a young account; not the
    # investment share.
    assert set(top[:3]) == {"loan_to_assets", "txns_6m", "tenure_years"}, ivs
    assert ivs["investment_share"] < 0.02 < ivs["tenure_years"]
    held = fitted.model.metrics["holdout"]
    assert held["rows"] >= 5000 and held["auc"] > 0.65, held
    assert fitted.model.metrics["monitoring"]["psi"] < 0.1
    # Monotonic bins: more debt never earns points, more transactions never cost them.
    debt = [b.points for b in fitted.model.table.characteristics[0].bins]
    assert debt == sorted(debt, reverse=True)


@pytest.mark.slow
def test_a_frozen_table_grades_like_the_fit_without_refitting(tmp_path: Path) -> None:
    pytest.importorskip("optbinning")
    import pyarrow.parquet as pq

    from tierwise.demo import write_bank
    from tierwise.services import credit, runs
    from tierwise.services.demo import copy_example
    from tierwise.services.grading import Project

    copy_example("bank", tmp_path)
    write_bank(tmp_path / "data")
    project = Project.open(tmp_path)
    [fitted_run] = runs.run(project, ["credit_grade"], force=True)
    store = runs.open_store(project)
    try:
        frozen_text = credit.frozen_yaml(credit.points_table(store, "credit_grade"))
    finally:
        store.close()
    path = tmp_path / "tierwise.yaml"
    block = "\n".join("    " + line for line in frozen_text.splitlines()
                      if not line.startswith("#"))
    path.write_text(path.read_text(encoding="utf-8").replace(
        "    target: {outcome: arrears_12m}\n", block + "\n"), encoding="utf-8")
    project = Project.open(tmp_path)
    [frozen_run] = runs.run(project, ["credit_grade"], as_of=date(2026, 6, 30), force=True,
                            version=2)
    before = pq.read_table(Path(str(fitted_run.folder)) / "grades.parquet").to_pandas()
    after = pq.read_table(Path(str(frozen_run.folder)) / "grades.parquet").to_pandas()
    assert before.set_index("customer_id").score.round(4).equals(
        after.set_index("customer_id").score.round(4))
    store = runs.open_store(project)
    try:
        # Version 2 is saved, not active: its run answers "what would it give", unofficial.
        again = credit.points_table(store, "credit_grade", run_id=frozen_run.run.id)
    finally:
        store.close()
    assert again.model.frozen and "holdout" not in again.model.metrics
    assert "psi" in again.model.metrics["monitoring"]


def test_a_nan_value_scores_as_missing(run_grades: Any) -> None:
    out = run_grades(CREDIT, {"customer_id": ["a"], "debt": [float("nan")], "txns": [6]})
    assert out.score["a"] == 50 + 70  # debt's missing points, not its last bin's
