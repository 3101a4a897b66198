"""What the lifetime fitters share: input checks, row collapsing and hyper-parameter checks.

The optimiser and its Hessian are in ``_optimize``, the fitted-model base class in ``_model``.

scipy is an optional dependency (``pip install 'tierwise[ml]'``) and is imported when used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from tierwise.errors import DataError, MethodError, SpecError
from tierwise.i18n import N_, _

Floats: TypeAlias = npt.NDArray[np.float64]

#: Below this many repeat buyers the dropout and purchase processes cannot be told apart.
MIN_REPEAT_BUYERS = 20
#: What to use instead when a CLV model cannot be fitted.
FALLBACK = N_("use method: rfm or rules, which need no fitted model")


def scipy_special() -> Any:
    """``scipy.special``, or a clear error naming the extra that installs it."""
    try:
        from scipy import special
    except ImportError:  # pragma: no cover - exercised only without the [ml] extra
        raise MethodError(
            _("CLV models need scipy: pip install 'tierwise[ml]'; or {fallback}").format(
                fallback=_(FALLBACK))
        ) from None
    return special


def floats(name: str, values: npt.ArrayLike, *, model: str) -> Floats:
    """``values`` as a 1-D float array with no missing or infinite entries."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{model}: {name} must be numbers; got {values!r:.80}") from None
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise DataError(f"{model}: {name} must be one value per customer; got shape {array.shape}")
    bad = ~np.isfinite(array)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(
            f"{model}: {name} is missing or infinite at row {row} ({array[row]}); "
            "fill or drop such customers before fitting"
        )
    return array


def _refuse_rows(mask: npt.NDArray[np.bool_], message: Callable[[int], str]) -> None:
    if mask.any():
        raise DataError(message(int(np.argmax(mask))))


def per_customer(name: str, values: npt.ArrayLike, n: int | None, *, model: str) -> Floats:
    """A non-negative quantity such as a future period: one value for all, or one per customer."""
    array = floats(name, values, model=model)
    _refuse_rows(
        array < 0, lambda i: f"{model}: {name} cannot be negative: value {i} is {array[i]:g}"
    )
    if n is None or array.size == n:
        return array
    if array.size == 1:
        return np.full(n, array[0])
    raise DataError(f"{model}: {name} has {array.size} values for {n} customers; pass 1 or {n}")


def check_frequency(x: Floats, *, model: str) -> None:
    """Frequency counts repeat purchases: whole numbers, never negative."""
    _refuse_rows(x < 0, lambda i: f"{model}: frequency cannot be negative: row {i} has {x[i]:g}")
    _refuse_rows(
        x != np.floor(x),
        lambda i: (
            f"{model}: frequency counts repeat purchases and must be a whole number: "
            f"row {i} has {x[i]:g}"
        ),
    )


def check_weights(weights: npt.ArrayLike | None, n: int, *, model: str) -> Floats:
    """Row weights (customers per row): default 1, finite, not negative, one per row."""
    if weights is None:
        return np.ones(n)
    w = floats("weights", weights, model=model)
    if w.shape[0] != n:
        raise DataError(f"{model}: weights has {w.shape[0]} values for {n} customers")
    _refuse_rows(w < 0, lambda i: f"{model}: weights cannot be negative: row {i} has {w[i]:g}")
    return w


def check_summary(
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    *,
    model: str,
) -> tuple[Floats, Floats, Floats, Floats]:
    """Validate an RFM summary (frequency, recency, T) and return it as float arrays.

    Frequency is the number of repeat purchases, recency the time from the first to the last
    purchase, and T the time from the first purchase to the as-of date, all in one time unit.

    Raises:
        DataError: naming the first row that breaks a rule and the value it holds.
    """
    x = floats("frequency", frequency, model=model)
    t_x = floats("recency", recency, model=model)
    age = floats("T", T, model=model)
    if not x.shape == t_x.shape == age.shape:
        raise DataError(
            f"{model}: frequency, recency and T must have one value per customer; got "
            f"{x.shape[0]}, {t_x.shape[0]} and {age.shape[0]} values"
        )
    check_frequency(x, model=model)
    _refuse_rows(t_x < 0, lambda i: f"{model}: recency cannot be negative: row {i} has {t_x[i]:g}")
    _refuse_rows(age < 0, lambda i: f"{model}: T cannot be negative: row {i} has {age[i]:g}")
    _refuse_rows(
        t_x > age,
        lambda i: (
            f"{model}: recency cannot exceed T: row {i} has recency {t_x[i]:g} > "
            f"T {age[i]:g}; recency is the time from the first to the last purchase, T the time "
            "from the first purchase to the as-of date"
        ),
    )
    _refuse_rows(
        (x == 0) & (t_x > 0),
        lambda i: (
            f"{model}: a customer without repeat purchases has recency 0: row {i} has "
            f"frequency 0 and recency {t_x[i]:g}"
        ),
    )
    return x, t_x, age, check_weights(weights, x.shape[0], model=model)


def require_fit_support(x: Floats, age: Floats, w: Floats, *, model: str) -> None:
    """Refuse data that cannot identify a purchase-and-dropout model.

    Raises:
        MethodError: too few repeat buyers, no variation in frequency, or no observation time.
    """
    counted = w > 0
    if not counted.any():
        raise MethodError(_("{model}: there are no customers to fit on; {fallback}").format(
            model=model,
                              fallback=_(FALLBACK)))
    if not np.any(age[counted] > 0):
        raise MethodError(
            _("{model}: every customer has T = 0 (first purchase on the as-of date), so there "
              "is no observation time to fit on; move the as-of date later or {fallback}").format(
                  model=model,
                fallback=_(FALLBACK))
        )
    repeat = float(w[x > 0].sum())
    if repeat < MIN_REPEAT_BUYERS:
        raise MethodError(
            _("{model}: needs at least {min_repeat_buyers} repeat buyers (frequency > 0) to "
              "fit; the data have {repeat:g}; {fallback}").format(model=model,
                min_repeat_buyers=MIN_REPEAT_BUYERS, repeat=repeat, fallback=_(FALLBACK))
        )
    seen = np.unique(x[counted])
    if seen.size < 2:
        raise MethodError(
            _("{model}: frequency does not vary (every customer has {seen:g}), so purchase "
              "rate and dropout cannot be told apart; {fallback}").format(model=model,
                seen=seen[0], fallback=_(FALLBACK))
        )


def collapse(
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
) -> tuple[Floats, Floats, Floats, Floats]:
    """Merge identical (frequency, recency, T) rows into one row each with a weight.

    The likelihood of identical rows is the same, so fitting the collapsed rows with their
    counts as ``weights`` gives the same estimates with one term per distinct row. Recency and
    T measured in whole days (or weeks of days) leave few distinct rows even for millions of
    customers. The fitters collapse their input themselves; collapsing first saves memory when
    the summaries are built in batches.

    Args:
        frequency: Repeat purchases per customer.
        recency: Time from first to last purchase per customer.
        T: Time from first purchase to the as-of date per customer.
        weights: Customers per row when the rows are already partly merged; 1 each if omitted.

    Returns:
        The distinct ``(frequency, recency, T)`` rows, sorted, and the customers each stands for.
    """
    x = floats("frequency", frequency, model="collapse")
    t_x = floats("recency", recency, model="collapse")
    age = floats("T", T, model="collapse")
    w = None if weights is None else floats("weights", weights, model="collapse")
    if not x.shape == t_x.shape == age.shape or (w is not None and w.shape != x.shape):
        sizes = [a.shape[0] for a in (x, t_x, age, w) if a is not None]
        raise DataError(
            f"collapse: frequency, recency, T (and weights) must have one value per customer; "
            f"got {sizes} values"
        )
    rows, counts = distinct_rows((x, t_x, age), w)
    return x[rows], t_x[rows], age[rows], counts


def distinct_rows(
    columns: Sequence[Floats], weights: Floats | None
) -> tuple[npt.NDArray[np.int64], Floats]:
    """One row index per distinct combination of ``columns``, sorted by them, and its weight."""
    n = columns[0].shape[0]
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    group, first = factorize_rows(columns)
    counts = np.bincount(group, weights=weights, minlength=len(first)).astype(np.float64)
    order = np.lexsort(tuple(column[first] for column in reversed(columns)))
    return first[order], counts[order]


def factorize_rows(
    columns: Sequence[npt.NDArray[Any]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each row's group of equal ``columns`` values, and the first row of every group.

    Groups are numbered in order of first appearance. Hash-based factorising is linear in the
    rows: sorting 10M rows three columns deep (as np.unique(axis=0) does) took 4-9 times
    longer, and a pandas MultiIndex 2-3 times longer. Columns are combined two at a time, so
    the combined codes stay below n**2 and never overflow.
    """
    import pandas as pd

    n = columns[0].shape[0]
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    group, _ = pd.factorize(columns[0])
    for column in columns[1:]:
        codes, uniques = pd.factorize(column)
        group, _ = pd.factorize(group.astype(np.int64) * len(uniques) + codes)
    # A row opens a group when its code exceeds every code before it.
    opens = np.empty(n, dtype=bool)
    opens[0] = True
    opens[1:] = group[1:] > np.maximum.accumulate(group)[:-1]
    return group.astype(np.int64), np.flatnonzero(opens)


def check_hyper(
    names: Sequence[str], penalizer: float, initial: Mapping[str, float] | None, tol: float
) -> dict[str, float]:
    """Validate constructor hyper-parameters; return the initial guess given (may be empty)."""
    if not np.isfinite(penalizer) or penalizer < 0:
        raise SpecError(f"penalizer must be a number >= 0; got {penalizer!r}")
    if not np.isfinite(tol) or tol <= 0:
        raise SpecError(f"tol must be a number > 0; got {tol!r}")
    guess = dict(initial or {})
    for name, value in guess.items():
        if name not in names:
            raise SpecError(f"initial: unknown parameter {name!r}; expected some of {list(names)}")
        if not (np.isfinite(value) and value > 0):
            raise SpecError(f"initial: {name} must be a positive number; got {value!r}")
    return guess
