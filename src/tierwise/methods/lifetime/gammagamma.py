"""The Gamma-Gamma model of spend per purchase, and discounted customer lifetime value.

Assumptions, as in Fader & Hardie, "The Gamma-Gamma Model of Monetary Value" (2013), after
Colombo & Jiang (1999):

1. The value of each of a customer's purchases is gamma distributed with shape p and rate nu.
2. nu varies across customers as a gamma distribution with shape q and rate v (the note's gamma).
3. A customer's spend per purchase does not depend on how often they buy (check this on your
   data: the model is wrong where frequency and average spend are correlated).

A customer with x purchases of average value m_x has the note's likelihood, and expected
spend per purchase ``p (v + x m_x) / (p x + q - 1)``: a weighted mean of the
population mean ``p v / (q - 1)`` and the customer's own average. The model is fitted on repeat
buyers, with x their number of repeat purchases and m_x the average value of those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Self

import numpy as np
import numpy.typing as npt

from tierwise.errors import DataError, MethodError
from tierwise.methods.lifetime._fit import (
    FALLBACK,
    MIN_REPEAT_BUYERS,
    Floats,
    check_frequency,
    check_hyper,
    check_weights,
    distinct_rows,
    floats,
    scipy_special,
)
from tierwise.methods.lifetime._model import FittedModel

MODEL = "Gamma-Gamma"
#: Days in an average month (365.25 / 12): CLV sums over months.
DAYS_PER_MONTH = 30.4375


class TransactionModel(Protocol):
    """A fitted purchase model: :class:`BetaGeoFitter`, :class:`ParetoNBDFitter` or alike."""

    def expected_purchases(
        self, t: npt.ArrayLike, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
    ) -> Floats:
        """Expected purchases in the next ``t`` periods given each customer's history."""
        ...


@dataclass(frozen=True)
class _Spend:
    """Repeat buyers' spend with the sums that do not depend on the parameters."""

    x: Floats
    m: Floats
    w: Floats
    total: float
    x_values: Floats
    x_weight: Floats
    sum_log_m: float
    sum_x_log_mx: float

    @classmethod
    def build(cls, x: Floats, m: Floats, w: Floats) -> _Spend:
        x_values, x_index = np.unique(x, return_inverse=True)
        return cls(
            x=x,
            m=m,
            w=w,
            total=float(w.sum()),
            x_values=x_values,
            x_weight=np.bincount(x_index, weights=w, minlength=x_values.size).astype(np.float64),
            sum_log_m=float(w @ np.log(m)),
            sum_x_log_mx=float(w @ (x * np.log(m * x))),
        )


def _log_likelihood(
    params: Floats, spend: _Spend, *, with_gradient: bool
) -> tuple[float, Floats | None]:
    """Summed log-likelihood of the Gamma-Gamma note and its gradient in (p, q, v).

    Per customer: ``-log B(p x, q) + q log v + (p x - 1) log m + p x log x
    - (p x + q) log(v + m x)``.
    """
    sp = scipy_special()
    p, q, v = params
    xv, wx = spend.x_values, spend.x_weight
    log_vmx = np.log(v + spend.m * spend.x)
    weighted_log = spend.w * log_vmx
    total = float(
        -wx @ sp.betaln(p * xv, q)
        + spend.total * q * np.log(v)
        + p * spend.sum_x_log_mx
        - spend.sum_log_m
        - p * float(weighted_log @ spend.x)
        - q * float(weighted_log.sum())
    )
    if not with_gradient:
        return total, None
    psi_pxq = sp.digamma(p * xv + q)
    d_p = wx @ (-xv * (sp.digamma(p * xv) - psi_pxq)) + spend.sum_x_log_mx
    d_p -= float(weighted_log @ spend.x)
    d_q = wx @ (psi_pxq - sp.digamma(q)) + spend.total * np.log(v) - float(weighted_log.sum())
    d_v = spend.total * q / v - float(spend.w @ ((p * spend.x + q) / (v + spend.m * spend.x)))
    return total, np.array([d_p, d_q, d_v])


class GammaGammaFitter(FittedModel):
    """Fit the Gamma-Gamma spend model; predict spend per purchase and customer lifetime value.

    Args:
        penalizer: L2 penalty on the parameters added to the mean negative log-likelihood; 0
            (the default) is plain maximum likelihood.
        initial: Starting values by parameter name (p, q, v); the rest are guessed from the data.
        tol: Accept the fit when the Newton step still left is below ``tol`` standard errors
            for every parameter.
        max_iter: Iteration budget of the L-BFGS-B search.
    """

    param_names = ("p", "q", "v")
    model_name = MODEL

    def fit(
        self,
        frequency: npt.ArrayLike,
        monetary_value: npt.ArrayLike,
        weights: npt.ArrayLike | None = None,
    ) -> Self:
        """Estimate p, q and v from repeat buyers' purchase counts and average spend.

        Customers with frequency 0 carry no spend information and are left out.

        Args:
            frequency: Repeat purchases per customer (whole numbers).
            monetary_value: Average value of those repeat purchases per customer.
            weights: Customers per row; 1 each when omitted.

        Returns:
            The fitter, with ``params_``, ``standard_errors_`` and ``log_likelihood_`` set.

        Raises:
            DataError: negative, missing or non-whole frequencies; a repeat buyer whose average
                spend is not positive.
            MethodError: fewer than 20 repeat buyers, or every one spends the same.
            ConvergenceError: the optimiser found no proper maximum.
        """
        guess = check_hyper(self.param_names, self.penalizer, self.initial, self.tol)
        x, m = self._inputs(frequency, monetary_value)
        w = check_weights(weights, x.shape[0], model=MODEL)
        repeat = (x > 0) & (w > 0)
        _refuse_rows_nonpositive(m, repeat)
        x, m, w = x[repeat], m[repeat], w[repeat]
        # Spend in cents repeats a lot: one likelihood term per distinct (x, m_x).
        rows, w = distinct_rows((x, m), w)
        x, m = x[rows], m[rows]
        buyers = float(w.sum())
        if buyers < MIN_REPEAT_BUYERS:
            raise MethodError(
                f"{MODEL}: needs at least {MIN_REPEAT_BUYERS} repeat buyers (frequency > 0) to "
                f"fit spend; the data have {buyers:g}; {FALLBACK}"
            )
        if np.ptp(m) == 0:
            raise MethodError(
                f"{MODEL}: every repeat buyer has the same average spend ({m[0]:g}), so spend "
                f"has no spread to model; {FALLBACK}"
            )
        spend = _Spend.build(x, m, w)
        start = _moment_guess(m, w) | guess
        return self._maximise(
            start, lambda values, grad: _log_likelihood(values, spend, with_gradient=grad),
            spend.total, analytic=True)

    def conditional_expected_average_profit(
        self, frequency: npt.ArrayLike, monetary_value: npt.ArrayLike
    ) -> Floats:
        """Expected spend per future purchase given x purchases averaging m_x (FH 2013).

        ``p (v + x m_x) / (p x + q - 1)``; for a customer without repeat purchases that is the
        population mean ``p v / (q - 1)`` (their monetary value is not used).

        Raises:
            MethodError: q <= 1, where the population mean spend is infinite, and some
                customers have no repeat purchases.
        """
        p, q, v = self._params()
        x, m = self._inputs(frequency, monetary_value)
        m = np.where(x > 0, m, 0.0)
        denominator = p * x + q - 1
        if (denominator <= 0).any():
            raise MethodError(
                f"{MODEL}: the fitted q = {q:.4g} is <= 1, so the mean spend of a customer "
                f"without repeat purchases is infinite (heavy-tailed spend); {FALLBACK}"
            )
        return np.asarray(p * (v + x * m) / denominator, dtype=np.float64)

    def customer_lifetime_value(
        self,
        transaction_model: TransactionModel,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,
        monetary_value: npt.ArrayLike,
        *,
        time: int = 12,
        discount_rate: float = 0.01,
        freq_unit_days: float = 7,
    ) -> Floats:
        """Discounted value of each customer's expected purchases over the next ``time`` months.

        ``sum over i = 1..time of (E[Y(i months)] - E[Y(i-1 months)]) * spend / (1+d)^i``:
        the expected purchases of month i (from the transaction model) times the expected spend
        per purchase (:meth:`conditional_expected_average_profit`), discounted monthly.

        Args:
            transaction_model: A fitted BG/NBD or Pareto/NBD model, fitted on the same
                time unit as ``recency`` and ``T``.
            frequency: Repeat purchases per customer.
            recency: Time from first to last purchase per customer, in the model's unit.
            T: Time from first purchase to the as-of date per customer, in the model's unit.
            monetary_value: Average value of the repeat purchases per customer.
            time: Months to sum over.
            discount_rate: Monthly discount rate (0.01 is about 12.7% a year).
            freq_unit_days: Days in the model's time unit (7 for weeks, 1 for days).

        Returns:
            The lifetime value of each customer, in the currency of ``monetary_value``.
        """
        if time < 1 or int(time) != time:
            raise DataError(f"{MODEL}: time is a whole number of months >= 1; got {time!r}")
        if not discount_rate > -1 or not np.isfinite(discount_rate):
            raise DataError(f"{MODEL}: discount_rate must be above -1; got {discount_rate!r}")
        if not freq_unit_days > 0 or not np.isfinite(freq_unit_days):
            raise DataError(f"{MODEL}: freq_unit_days must be positive; got {freq_unit_days!r}")
        spend = self.conditional_expected_average_profit(frequency, monetary_value)
        month = DAYS_PER_MONTH / freq_unit_days
        value = np.zeros_like(spend)
        before = np.zeros_like(spend)
        for i in range(1, int(time) + 1):
            upto = transaction_model.expected_purchases(i * month, frequency, recency, T)
            value += (upto - before) * spend / (1 + discount_rate) ** i
            before = upto
        return value

    @staticmethod
    def _inputs(frequency: npt.ArrayLike, monetary_value: npt.ArrayLike) -> tuple[Floats, Floats]:
        x = floats("frequency", frequency, model=MODEL)
        m = floats("monetary_value", monetary_value, model=MODEL)
        if x.shape != m.shape:
            raise DataError(
                f"{MODEL}: frequency and monetary_value must have one value per customer; got "
                f"{x.shape[0]} and {m.shape[0]} values"
            )
        check_frequency(x, model=MODEL)
        return x, m


def _moment_guess(m: Floats, w: Floats) -> dict[str, float]:
    """A starting point from the spread of average spend across customers.

    For customers with many purchases m_x is close to p / nu, whose squared coefficient of
    variation across customers is 1 / (q - 2) and mean p v / (q - 1); with p = 1 that gives q
    and v. Only a start: the likelihood decides.
    """
    mean = float(w @ m) / float(w.sum())
    cv2 = float(w @ (m - mean) ** 2) / float(w.sum()) / mean**2
    q = 2.0 + 1.0 / max(cv2, 0.05)
    return {"p": 1.0, "q": q, "v": mean * (q - 1.0)}


def _refuse_rows_nonpositive(m: Floats, repeat: npt.NDArray[np.bool_]) -> None:
    bad = repeat & (m <= 0)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(
            f"{MODEL}: a repeat buyer's average spend must be positive: row {row} has "
            f"{m[row]:g}; net out returns per purchase and drop zero-value purchases, or "
            f"{FALLBACK}"
        )
