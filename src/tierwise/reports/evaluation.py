"""How well a grading foretold what customers did next: metrics on graded customers' outcomes.

A scheme graded with data up to a date T is compared with each customer's realised value in
(T, T + horizon]. The "future top" customers are those whose realised value is in the top
``top_share`` (20% by default) of everyone graded; ties at the cut are all in, and a customer who
bought nothing is never in it. Measures, per scheme:

* the top tier (rank 1) as a prediction of the future top: precision (share of the top tier that
  is future top) and recall (share of the future top found in the top tier);
* per tier: customers, realised value, value share, mean value and lift (the tier's mean over the
  mean of everyone), and the share of future-top customers in the tier;
* AUC of the scheme's ordering for the future top, and Gini = 2 AUC - 1. The ordering is the
  scheme's score where it has one, else its tier rank (tied within a tier, which lowers the AUC
  the way it would lower a campaign's hit rate; status tiers, off the value ladder, below every
  ladder tier); ties count half, as in the Mann-Whitney U;
* Spearman's rank correlation between that ordering and the realised value;
* for schemes that predict a value (``predicted`` given): calibration by decile of the
  prediction, mean predicted against mean realised, and their ratio overall.

Everything here works on NumPy arrays of graded customers; the service computes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt

from tierwise.i18n import N_

Floats = npt.NDArray[np.float64]
#: The name of the recency baseline among the schemes; shown with ``_(BASELINE)``.
BASELINE = N_("recency baseline")


@dataclass(frozen=True)
class TierOutcome:
    """What the customers of one tier went on to do."""

    tier: str
    rank: int
    customers: int
    share: float
    value: float
    value_share: float | None
    mean: float
    lift: float | None
    top: int
    top_share: float


@dataclass(frozen=True)
class CalibrationBin:
    """One decile of a predicted value: mean predicted against mean realised."""

    bin: int
    customers: int
    predicted: float
    realised: float


@dataclass(frozen=True)
class SchemeEvaluation:
    """One scheme's grades against the realised outcome."""

    name: str
    customers: int
    top_tier: str
    top_tier_customers: int
    precision: float | None
    recall: float | None
    auc: float | None
    gini: float | None
    spearman: float | None
    ordered_by: str
    tiers: list[TierOutcome]
    calibration: list[CalibrationBin] = field(default_factory=list)
    predicted_total: float | None = None
    realised_total: float | None = None
    gains: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Evaluation:
    """Several schemes and the recency baseline on the same customers and outcome."""

    as_of: date
    horizon: str
    end: date
    outcome: str
    top_share: float
    customers: int
    future_top: int
    cut: float
    schemes: list[SchemeEvaluation]
    baseline: SchemeEvaluation


def future_top(outcome: Floats, share: float) -> tuple[npt.NDArray[np.bool_], float]:
    """Who is in the top ``share`` of realised value, and the value at the cut.

    Customers tied with the cut value are all in (equal outcomes, equal membership); zero or
    negative outcomes are never in. The realised share can therefore differ from ``share``.
    """
    if not 0 < share < 1:
        raise ValueError(f"top share must be between 0 and 1, got {share}")
    n = len(outcome)
    if n == 0:
        return np.zeros(0, dtype=bool), float("nan")
    order = np.sort(outcome)[::-1]
    cut = float(order[max(0, int(np.ceil(share * n)) - 1)])
    return (outcome >= cut) & (outcome > 0), cut


def auc(score: Floats, positive: npt.NDArray[np.bool_]) -> float | None:
    """Area under the ROC curve of ``score`` for ``positive``; ties count half. None if one class."""
    from scipy.stats import rankdata

    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(score)
    u = float(ranks[positive].sum()) - n_pos * (n_pos + 1) / 2
    return u / (n_pos * n_neg)


def spearman(score: Floats, outcome: Floats) -> float | None:
    """Spearman's rank correlation (ties averaged); None when either side is constant."""
    from scipy.stats import spearmanr

    if len(score) < 3 or np.ptp(score) == 0 or np.ptp(outcome) == 0:
        return None
    return float(spearmanr(score, outcome).statistic)


def evaluate_grades(
    name: str,
    tiers: list[str],
    tier: npt.NDArray[np.object_],
    rank: npt.NDArray[np.int64],
    score: Floats | None,
    outcome: Floats,
    top: npt.NDArray[np.bool_],
    *,
    predicted: Floats | None = None,
) -> SchemeEvaluation:
    """Measure one scheme's grades of the same customers as ``outcome`` and ``top``.

    Args:
        name: the scheme's name.
        tiers: the scheme's tier keys, best first (tiers nobody holds still get a row).
        tier: each customer's tier key.
        rank: each customer's tier rank (1 = best; 0 for a status tier, off the ladder).
        score: the scheme's score where it has one (higher is better), else None.
        outcome: each customer's realised value.
        top: who is in the future top (see :func:`future_top`).
        predicted: a predicted value to calibrate (e.g. CLV over the same horizon).

    """
    n = len(outcome)
    has_score = score is not None and bool(np.isfinite(score).any())
    if has_score and score is not None:
        # A customer without a score (no data) ranks below everyone scored.
        ordering = np.where(np.isfinite(score), score, -np.inf)
        ordered_by = "score"
    else:
        # A status tier (rank 0) is off the value ladder: it claims no value, so it orders
        # below every ladder tier (all statuses tied).
        ordering = np.where(rank > 0, -rank.astype(np.float64), -np.inf)
        ordered_by = "tier rank"
    total_value = float(outcome.sum())
    overall_mean = total_value / n if n else 0.0
    rows = []
    keys = list(dict.fromkeys([*tiers, *sorted(set(tier.tolist()) - set(tiers))]))
    for i, key in enumerate(keys):
        members = tier == key
        count = int(members.sum())
        value = float(outcome[members].sum())
        mean = value / count if count else 0.0
        hits = int((top & members).sum())
        found = rank[members]
        rows.append(TierOutcome(
            tier=key, rank=int(found[0]) if count else i + 1, customers=count,
            share=count / n if n else 0.0, value=value,
            value_share=value / total_value if total_value > 0 else None, mean=mean,
            lift=mean / overall_mean if overall_mean > 0 and count else None, top=hits,
            top_share=hits / count if count else 0.0))
    first = rank == 1
    chosen = int(first.sum())
    hits = int((first & top).sum())
    positives = int(top.sum())
    area = auc(ordering, top)
    calibration: list[CalibrationBin] = []
    predicted_total = realised_total = None
    if predicted is not None:
        calibration = calibrate(predicted, outcome)
        predicted_total, realised_total = float(np.nansum(predicted)), total_value
    return SchemeEvaluation(
        name=name, customers=n, top_tier=keys[0] if keys else "", top_tier_customers=chosen,
        precision=hits / chosen if chosen else None,
        recall=hits / positives if positives else None,
        auc=area, gini=2 * area - 1 if area is not None else None,
        spearman=spearman(ordering, outcome), ordered_by=ordered_by, tiers=rows,
        calibration=calibration, predicted_total=predicted_total, realised_total=realised_total,
        gains=gains(ordering, outcome))


def gains(ordering: Floats, outcome: Floats, points: int = 20) -> list[tuple[float, float]]:
    """The cumulative gains curve: (share of customers taken best first, share of value found).

    Customers tied in the ordering share their group's value evenly: what targeting part of a
    tied group would find on average. ``points`` + 1 points from (0, 0) to (1, 1).
    """
    n = len(outcome)
    total = float(outcome.sum())
    if n == 0 or total <= 0:
        return []
    keys, group = np.unique(-ordering, return_inverse=True)  # ascending: best first
    sums = np.bincount(group, weights=outcome, minlength=len(keys))
    sizes = np.bincount(group, minlength=len(keys))
    spread = np.sort(group)
    found = np.cumsum((sums / sizes)[spread]) / total
    out = [(0.0, 0.0)]
    for k in range(1, points + 1):
        at = max(0, int(np.ceil(k / points * n)) - 1)
        out.append((k / points, float(found[at])))
    return out


def calibrate(predicted: Floats, outcome: Floats, bins: int = 10) -> list[CalibrationBin]:
    """Mean predicted and mean realised value per decile of the prediction (lowest first)."""
    known = np.isfinite(predicted)
    pred, real = predicted[known], outcome[known]
    if len(pred) == 0:
        return []
    order = np.argsort(pred, kind="stable")
    out = []
    for i, part in enumerate(np.array_split(order, min(bins, len(pred)))):
        if len(part):
            out.append(CalibrationBin(i + 1, len(part), float(pred[part].mean()),
                                      float(real[part].mean())))
    return out
