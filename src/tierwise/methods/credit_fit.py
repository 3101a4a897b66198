"""Fitting a credit scorecard: weight-of-evidence binning, logistic regression, points.

optbinning (the field's library for scorecards) bins each characteristic optimally under a
monotonic bad-rate constraint, computes its weights of evidence and information value, fits a
logistic regression on the WoE values and scales the points: a customer's points add up to
``points + pdo / ln 2 * ln(odds_good_bad / odds)``. A share of the training customers
(``holdout``, stratified) is kept out of the fit to measure the scorecard's power on customers it
did not see: AUC, Gini (2 AUC - 1) and KS (the largest gap between the cumulative score
distributions of good and bad customers).

The result is a :class:`CreditModel`: the points table (bins with points and development shares,
the information values) and the development score bands the PSI compares each run with. It is
all JSON: the table *is* the model, readable by people and frozen into a scheme version by
pasting it under ``points_table:``.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from tierwise.errors import MethodError
from tierwise.i18n import _
from tierwise.methods.fitted import FittedModel
from tierwise.spec.columns import CUSTOMER
from tierwise.spec.credit import (
    CharacteristicPoints,
    CreditSchemeSpec,
    PointsBin,
    PointsTableSpec,
    ScoreBand,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

Floats = npt.NDArray[np.float64]
#: The training table's label column: 1 for a good customer (none of the outcome).
LABEL = "_label"
#: Score bands of the development sample kept for the PSI.
BANDS = 10
_TRENDS = {"auto": "auto_asc_desc", "ascending": "ascending", "descending": "descending",
           "none": None}


@dataclass(frozen=True)
class CreditModel(FittedModel):
    """A credit scheme's points table, fitted or frozen.

    Attributes:
        table: The points table (bins, points, development shares, information values).
        frozen: Whether it came from the scheme's ``points_table`` (no fit).
        metrics: Development and hold-out power (``auc``, ``gini``, ``ks`` on ``holdout``
            and ``train``), rows and bad rates; empty for a frozen table.
        fingerprint: SHA-256 of the training data (empty for a frozen table).
    """

    table: PointsTableSpec
    frozen: bool
    metrics: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""

    def to_json(self, *, artifact_file: str | None = None) -> dict[str, Any]:
        """The model as ``run.json`` holds it."""
        del artifact_file
        return {"kind": "credit", "frozen": self.frozen, "metrics": self.metrics,
                "fingerprint": self.fingerprint,
                "table": self.table.model_dump(mode="json")}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], artifact: bytes | None = None
                  ) -> CreditModel | None:
        """The model from its JSON form; None for another kind."""
        del artifact
        if data.get("kind") != "credit":
            return None
        return cls(PointsTableSpec.model_validate(data["table"]), bool(data.get("frozen")),
                   dict(data.get("metrics") or {}), str(data.get("fingerprint") or ""))


def frozen(scheme: CreditSchemeSpec) -> CreditModel:
    """The model of a scheme's frozen points table."""
    assert scheme.points_table is not None
    return CreditModel(scheme.points_table, frozen=True)


def _optbinning() -> Any:
    try:
        import optbinning
    except ImportError:
        raise MethodError(_("the credit method fits its scorecard with optbinning: pip install "
                            "'tierwise[ml]'; or grade with a frozen `points_table:`")) from None
    return optbinning


def _frame(table: ir.Table, names: list[str]) -> Any:
    """The training rows as a pandas frame of floats (NaN for missing), sorted by customer."""
    cols = [table[n].cast("float64").name(n) for n in names]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "fetch_record_batch", DeprecationWarning)
        frame = table.select(CUSTOMER, *cols, LABEL).order_by(CUSTOMER).to_pandas()
    return frame


def fit(scheme: CreditSchemeSpec, training: ir.Table) -> CreditModel:
    """Fit the scorecard on ``training`` (characteristics as of T - horizon, ``_label`` 1 good).

    Raises:
        MethodError: optbinning is missing, or the data hold too few bad (or good) customers
            to split off a hold-out and bin.

    """
    optbinning = _optbinning()
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    names = list(scheme.characteristics)
    frame = _frame(training, names)
    bad = (1 - frame[LABEL].to_numpy(dtype=np.int64)).astype(np.int64)
    n_bad, n = int(bad.sum()), len(bad)
    least = max(20, int(2 / scheme.holdout))
    if n_bad < least or n - n_bad < least:
        raise MethodError(_(
            "credit: the training data hold {bad} bad and {good} good customers; a scorecard "
            "needs at least {least} of each (a longer history, a wider outcome, or a frozen "
            "points_table)").format(bad=n_bad, good=n - n_bad, least=least))
    x = frame[names]
    x_train, x_test, y_train, y_test = train_test_split(
        x, bad, test_size=scheme.holdout, stratify=bad, random_state=scheme.seed)
    binning = scheme.binning
    process = optbinning.BinningProcess(
        names, max_n_bins=binning.max_bins, min_bin_size=binning.min_bin_share,
        binning_fit_params={c: {"monotonic_trend": _TRENDS[binning.monotonic]} for c in names})
    card = optbinning.Scorecard(
        binning_process=process, estimator=LogisticRegression(max_iter=1000),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": scheme.scaling.pdo, "odds": scheme.scaling.odds,
                               "scorecard_points": scheme.scaling.points})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        card.fit(x_train, y_train)
    # Scored with the table as grading reads it (points to the cent), so the development bands
    # and the power are those of the points people see.
    table = _table(card, names)
    train_score, test_score = score(table, x_train), score(table, x_test)
    table = table.model_copy(update={"scores": bands(train_score)})
    metrics = {"train": power(train_score, y_train), "holdout": power(test_score, y_test),
               "rows": n, "bad": n_bad, "bad_rate": n_bad / n,
               "scaling": scheme.scaling.model_dump()}
    digest = hashlib.sha256(frame.to_csv(index=False).encode("utf-8")).hexdigest()
    return CreditModel(table, frozen=False, metrics=metrics, fingerprint=digest)


def _table(card: Any, names: list[str]) -> PointsTableSpec:
    """The fitted scorecard as a points table with development shares and IVs."""
    detailed = card.table(style="detailed")
    process = card.binning_process_
    chars = []
    for name in names:
        rows = detailed[detailed["Variable"] == name]
        splits = list(process.get_binned_variable(name).splits)
        regular = rows[~rows["Bin"].astype(str).isin(["Special", "Missing"])]
        missing = rows[rows["Bin"].astype(str) == "Missing"]
        # Cut points to 6 significant digits: optbinning computes them in single precision.
        bins = [PointsBin(lower=None if i == 0 else float(f"{float(splits[i - 1]):.6g}"),
                          points=round(float(r["Points"]), 2),
                          share=round(float(r["Count (%)"]), 6))
                for i, (_idx, r) in enumerate(regular.iterrows())]
        chars.append(CharacteristicPoints(
            indicator=name, bins=bins,
            missing=round(float(missing["Points"].iloc[0]), 2),
            missing_share=round(float(missing["Count (%)"].iloc[0]), 6),
            iv=round(float(rows["IV"].sum()), 6)))
    return PointsTableSpec(characteristics=chars)


def score(table: PointsTableSpec, frame: Any) -> Floats:
    """The table's score of each row of ``frame`` (a column per characteristic).

    As grading computes it: each value's bin points (a missing value's points), summed, to 6
    decimals.
    """
    total = np.zeros(len(frame), dtype=np.float64)
    for char in table.characteristics:
        values = frame[char.indicator].to_numpy(dtype=np.float64)
        lowers = np.array([b.lower if b.lower is not None else -np.inf for b in char.bins])
        points = np.array([b.points for b in char.bins])
        at = np.clip(np.searchsorted(lowers, values, side="right") - 1, 0, len(lowers) - 1)
        total += np.where(np.isnan(values), char.missing, points[at])
    return np.round(total, 6)


def bands(scores: Floats) -> list[ScoreBand]:
    """The development score distribution in :data:`BANDS` bands (deciles, ties together)."""
    edges = np.unique(np.quantile(scores, np.linspace(0, 1, BANDS + 1)[1:-1],
                                  method="inverted_cdf"))
    lowers: list[float | None] = [None, *(float(e) for e in edges)]
    counts = np.bincount(np.searchsorted(edges, scores, side="right"), minlength=len(lowers))
    return [ScoreBand(lower=low, share=round(float(c) / len(scores), 6))
            for low, c in zip(lowers, counts, strict=True)]


def power(score: Floats, bad: npt.NDArray[np.int64]) -> dict[str, float]:
    """AUC, Gini and KS of ``score`` (higher = better) against the bad flags."""
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(bad, -score))
    order = np.argsort(score, kind="stable")
    ranked = bad[order]
    cum_bad = np.cumsum(ranked) / max(int(ranked.sum()), 1)
    cum_good = np.cumsum(1 - ranked) / max(int((1 - ranked).sum()), 1)
    return {"auc": round(auc, 4), "gini": round(2 * auc - 1, 4),
            "ks": round(float(np.max(np.abs(cum_bad - cum_good))), 4), "rows": len(bad)}


def psi(expected: list[float], actual: list[float]) -> float:
    """Population stability index of two distributions over the same bins.

    Sum of (actual - expected) * ln(actual / expected), each share floored at 0.0001 so an
    empty bin counts without dividing by zero. Under 0.1 is read as stable, 0.1 to 0.25 as a
    shift to watch, above 0.25 as a population the scorecard was not built for.
    """
    e = np.maximum(np.asarray(expected, dtype=np.float64), 1e-4)
    a = np.maximum(np.asarray(actual, dtype=np.float64), 1e-4)
    return round(float(np.sum((a - e) * np.log(a / e))), 6)
