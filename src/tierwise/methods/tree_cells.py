"""A fitted classifier's probabilities, computed once per group of rows it cannot tell apart.

A histogram gradient boosting model sends a row left at a node when the row's value is at most
the node's threshold, right when it is greater, and a missing value the side the node learnt.
Two rows whose values lie between the same two thresholds of every feature therefore reach the
same leaf of every tree, and the model gives them the same probability, bit for bit (the trees'
values are summed in the same order, and calibration works row by row). Such a group is a
*cell*. Customers fall into far fewer cells than there are customers (1.7M cells for the 10M
customers of the benchmark), so predicting one row per cell and handing its probabilities to
every row of the cell gives exactly what predicting every row gives, in a fraction of the time.
The occlusion factors of :mod:`tierwise.methods.model` (one feature set to its median) are
cells as well: the rows that agree on every other feature's cell.

Only scikit-learn's ``HistGradientBoostingClassifier`` inside ``CalibratedClassifierCV`` (the
model the ``model`` method fits) on numeric features has cells read here: its trees are read
from the fitted model's ``_predictors``. For any other estimator (the logistic regression pipeline,
categorical splits, a scikit-learn whose trees look different) :class:`CellPredictor` predicts
every row, as :meth:`CellPredictor.exact` tells.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from tierwise.methods.lifetime._fit import factorize_rows

Floats = npt.NDArray[np.float64]
Codes = npt.NDArray[np.int64]

#: Rows predicted at a time, so the estimator's working copies stay small.
CHUNK = 500_000


def _trees(estimator: Any) -> list[Any] | None:
    """The boosted tree ensembles behind ``estimator``, or None when it is not only those."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier

    # Only inside the calibration: a bare multi-class model's softmax of 9 classes or more
    # rounds a batch of one row differently from the same row in a larger batch.
    if not isinstance(estimator, CalibratedClassifierCV):
        return None
    inner = [c.estimator for c in getattr(estimator, "calibrated_classifiers_", [])]
    if not inner or not all(isinstance(e, HistGradientBoostingClassifier) for e in inner):
        return None
    return inner


def thresholds(estimator: Any, features: int) -> list[Floats] | None:
    """Per feature, the sorted distinct thresholds the model's trees split it at.

    None when the model's cells cannot be read: not a histogram gradient boosting model,
    categorical splits, or trees stored in another layout than the one read here.
    """
    models = _trees(estimator)
    if models is None:
        return None
    found: list[list[Floats]] = [[] for _ in range(features)]
    try:
        for model in models:
            if getattr(model, "is_categorical_", None) is not None \
                    and np.any(model.is_categorical_):
                return None
            for predictors in model._predictors:
                for predictor in predictors:
                    nodes = predictor.nodes
                    splits = nodes[nodes["is_leaf"] == 0]
                    if np.any(splits["is_categorical"]):
                        return None
                    for j in np.unique(splits["feature_idx"]):
                        found[int(j)].append(splits["num_threshold"][splits["feature_idx"] == j])
    except (AttributeError, KeyError, ValueError, IndexError):
        return None
    return [np.unique(np.concatenate(f)) if f else np.empty(0) for f in found]


def cells(x: Floats, cuts: list[Floats]) -> npt.NDArray[np.int32]:
    """Each row's cell per feature: how many thresholds lie below its value (missing: its own).

    A value equal to a threshold goes left at that threshold's nodes, so it counts only the
    thresholds strictly below it, as a value just under the threshold does.
    """
    out = np.empty(x.shape, dtype=np.int32)
    for j, cut in enumerate(cuts):
        column = x[:, j]
        out[:, j] = np.searchsorted(cut, column, side="left")
        out[np.isnan(column), j] = len(cut) + 1
    return out


class CellPredictor:
    """``estimator.predict_proba`` of ``x``, and of ``x`` with one feature moved to a value.

    Exact: the probabilities are the ones predicting every row gives, bit for bit; with cells
    the model predicts one row per cell instead.
    """

    def __init__(self, estimator: Any, x: Floats, *, pack: bool = True) -> None:
        """``pack=False`` keeps the cells as columns even when they fit in one integer."""
        self.estimator = estimator
        self.x = x
        cuts = thresholds(estimator, x.shape[1]) if x.shape[0] else None
        self._cells = cells(x, cuts) if cuts is not None else None
        self._key: npt.NDArray[np.int64] | None = None
        self._fields: list[tuple[int, int]] = []
        if cuts is not None and pack:
            self._pack([len(c) + 2 for c in cuts])

    def _pack(self, sizes: list[int]) -> None:
        """Every row's cells as one integer when they fit in 63 bits (one hash per grouping)."""
        assert self._cells is not None
        widths = [max(1, int(size - 1).bit_length()) for size in sizes]
        if sum(widths) > 63:
            return
        key = np.zeros(self._cells.shape[0], dtype=np.int64)
        offset = 0
        for j, width in enumerate(widths):
            key |= self._cells[:, j].astype(np.int64) << offset
            self._fields.append((offset, width))
            offset += width
        self._key, self._cells = key, None

    @property
    def exact(self) -> bool:
        """Whether the model's cells are read (False: every row is predicted)."""
        return self._cells is not None or self._key is not None

    def groups(self, without: int | None = None) -> tuple[Codes, Codes] | None:
        """Each row's cell group and the first row of each (ignoring feature ``without``)."""
        if self._key is not None:
            key = self._key
            if without is not None:
                offset, width = self._fields[without]
                key = key & ~np.int64(((1 << width) - 1) << offset)
            return factorize_rows([key])
        if self._cells is None:
            return None
        k = self._cells.shape[1]
        columns = [self._cells[:, j] for j in range(k) if j != without]
        if not columns:
            n = self._cells.shape[0]
            return np.zeros(n, dtype=np.int64), np.zeros(min(n, 1), dtype=np.int64)
        return factorize_rows(columns)

    def proba(self, *, column: int | None = None, value: float = 0.0) -> tuple[Floats, Codes]:
        """Probabilities per distinct row, and each row's index into them.

        With ``column``, that feature is ``value`` in every row (occlusion).
        """
        grouped = self.groups(without=column)
        if grouped is None:
            return (self._predict(None, column, value),
                    np.arange(self.x.shape[0], dtype=np.int64))
        codes, rows = grouped
        return self._predict(rows, column, value), codes

    def target_proba(self, target: npt.NDArray[np.int64], *, column: int | None = None,
                     value: float = 0.0) -> Floats:
        """Each row's probability of its ``target`` class, ``column`` moved as in :meth:`proba`.

        Holds one probability per row, never every class of every row at once.
        """
        grouped = self.groups(without=column)
        if grouped is not None:
            codes, rows = grouped
            return self._predict(rows, column, value)[codes, target]
        out = np.empty(self.x.shape[0])
        for start, part in self._chunks(None, column, value):
            stop = start + len(part)
            out[start:stop] = part[np.arange(len(part)), target[start:stop]]
        return out

    def _predict(self, rows: Codes | None, column: int | None, value: float) -> Floats:
        parts = [part for _, part in self._chunks(rows, column, value)]
        if not parts:
            return np.zeros((0, len(self.estimator.classes_)))
        return np.concatenate(parts)

    def _chunks(self, rows: Codes | None, column: int | None, value: float
                ) -> Iterator[tuple[int, Floats]]:
        """The probabilities of ``rows`` (every row: None), :data:`CHUNK` rows at a time."""
        n = self.x.shape[0] if rows is None else len(rows)
        for start in range(0, n, CHUNK):
            stop = min(start + CHUNK, n)
            part = self.x[start:stop] if rows is None else self.x[rows[start:stop]]
            if column is not None:
                part = part.copy()
                part[:, column] = value
            yield start, np.asarray(self.estimator.predict_proba(part), dtype=np.float64)
