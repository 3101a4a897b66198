"""Predicting once per cell of rows a boosted model cannot tell apart gives, bit for bit, what
predicting every row gives: plainly, with one feature moved, on missing values and on values
that sit exactly on a split threshold; estimators without readable cells predict every row."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from tierwise.methods.tree_cells import CellPredictor, cells, thresholds


def data(n: int = 4000, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Orders (small integers), spend (continuous, some missing) and days since the last order."""
    rng = np.random.default_rng(seed)
    orders = rng.poisson(3, n).astype(float)
    spend = rng.gamma(2.0, 300.0, n) * (orders + 1)
    spend[rng.random(n) < 0.05] = np.nan
    days = rng.integers(0, 400, n).astype(float)
    y = (np.nan_to_num(spend, nan=0.0) / 200 + orders - days / 60 + rng.normal(0, 2, n) > 6)
    return np.column_stack([orders, spend, days]), y.astype(int)


def boosted(x: np.ndarray, y: np.ndarray, classes: int = 2) -> Any:
    if classes > 2:
        y = np.digitize(x[:, 2], [130, 260])
    base = HistGradientBoostingClassifier(random_state=0, max_iter=40)
    return CalibratedClassifierCV(base, method="sigmoid", cv=3, ensemble=False).fit(x, y)


def on_thresholds(x: np.ndarray, model: Any) -> np.ndarray:
    """``x`` with a third of its rows moved onto the thresholds the trees split at."""
    cuts = thresholds(model, x.shape[1])
    assert cuts is not None
    rng = np.random.default_rng(1)
    moved = x.copy()
    for j, cut in enumerate(cuts):
        rows = rng.random(len(x)) < 0.33
        moved[rows, j] = rng.choice(cut, rows.sum())
    return moved


@pytest.mark.parametrize(("classes", "pack"), [(2, True), (3, True), (2, False)])
def test_cells_give_the_probabilities_of_every_row_bit_for_bit(classes: int, pack: bool) -> None:
    x, y = data()
    model = boosted(x, y, classes)
    x = on_thresholds(x, model)
    predictor = CellPredictor(model, x, pack=pack)
    assert predictor.exact
    distinct, codes = predictor.proba()
    assert len(distinct) < len(x)
    assert np.array_equal(distinct[codes], model.predict_proba(x))
    medians = np.nanmedian(x, axis=0)
    for j in range(x.shape[1]):
        distinct, codes = predictor.proba(column=j, value=float(medians[j]))
        moved = x.copy()
        moved[:, j] = medians[j]
        assert np.array_equal(distinct[codes], model.predict_proba(moved)), j


def test_a_value_on_a_threshold_shares_the_cell_below_it() -> None:
    cut = [np.array([1.0, 2.5])]
    got = cells(np.array([[0.5], [1.0], [1.2], [2.5], [2.6], [np.nan]]), cut)[:, 0]
    # <= 1.0 goes left at the first split; (1.0, 2.5] between them; > 2.5 right of both.
    assert got.tolist() == [0, 0, 1, 1, 2, 3]


def test_a_model_without_readable_cells_predicts_every_row() -> None:
    x, y = data(600)
    x = np.nan_to_num(x)
    model = CalibratedClassifierCV(LogisticRegression(max_iter=500), cv=3).fit(x, y)
    assert thresholds(model, x.shape[1]) is None
    predictor = CellPredictor(model, x)
    assert not predictor.exact
    distinct, codes = predictor.proba(column=1, value=0.0)
    moved = x.copy()
    moved[:, 1] = 0.0
    assert len(distinct) == len(x)
    assert np.array_equal(distinct[codes], model.predict_proba(moved))


def test_categorical_splits_and_bare_models_are_not_read_as_cells() -> None:
    x, y = data(600)
    x[:, 0] = np.minimum(x[:, 0], 5)
    base = HistGradientBoostingClassifier(categorical_features=[0], max_iter=10)
    model = CalibratedClassifierCV(base, cv=3, ensemble=False).fit(x, y)
    assert thresholds(model, x.shape[1]) is None
    assert not CellPredictor(model, x).exact
    # Outside the calibration a softmax of many classes is not row by row to the last bit.
    bare = HistGradientBoostingClassifier(max_iter=10).fit(np.nan_to_num(x), y)
    assert thresholds(bare, x.shape[1]) is None


@pytest.mark.parametrize("readable", [True, False])
def test_each_rows_target_probability_is_its_own(readable: bool) -> None:
    x, y = data()
    model = boosted(x, y, 3)
    if not readable:
        x = np.nan_to_num(x)
        classes = np.digitize(x[:, 2], [130, 260])
        model = CalibratedClassifierCV(LogisticRegression(max_iter=500), cv=3).fit(x, classes)
    target = np.random.default_rng(3).integers(0, 3, len(x))
    predictor = CellPredictor(model, x)
    assert predictor.exact is readable
    moved = x.copy()
    moved[:, 2] = 100.0
    want = model.predict_proba(moved)[np.arange(len(x)), target]
    assert np.array_equal(predictor.target_proba(target, column=2, value=100.0), want)


def test_no_rows_predict_nothing() -> None:
    x, y = data(600)
    model = boosted(x, y)
    distinct, codes = CellPredictor(model, x[:0]).proba(column=0, value=1.0)
    assert distinct.shape == (0, 2) and codes.shape == (0,)
