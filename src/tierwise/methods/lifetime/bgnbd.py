"""The BG/NBD model of repeat purchases and dropout (Fader, Hardie & Lee 2005).

Assumptions, as in "'Counting Your Customers' the Easy Way: An Alternative to the Pareto/NBD
Model" (Marketing Science 24(2), 2005):

1. While active, a customer buys at the times of a Poisson process with rate lambda.
2. lambda varies across customers as a gamma distribution with shape r and rate alpha.
3. Right after each repeat purchase, a customer drops out for good with probability p.
4. p varies across customers as a beta distribution with parameters a and b.
5. lambda and p are independent across customers.

A customer is summarised by ``frequency`` x (repeat purchases), ``recency`` t_x (time from the
first to the last purchase) and ``T`` (time from the first purchase to the as-of date), all in
one time unit; the parameter alpha is in that unit. The likelihood, E[X(t)] and the conditional
expectation are the paper's; P(alive) follows from the likelihood's two terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np
import numpy.typing as npt

from tierwise.methods.lifetime._fit import Floats, per_customer, scipy_special
from tierwise.methods.lifetime._transaction import TransactionFitter

MODEL = "BG/NBD"


@dataclass(frozen=True)
class _Rows:
    """A summary indexed by its distinct values: per-value work runs once, then is gathered."""

    x: Floats
    w: Floats
    total: float
    x_values: Floats
    x_index: npt.NDArray[np.intp]
    x_weight: Floats
    T_values: Floats
    T_index: npt.NDArray[np.intp]
    t_values: Floats
    t_index: npt.NDArray[np.intp]

    @classmethod
    def build(cls, x: Floats, t_x: Floats, age: Floats, w: Floats) -> _Rows:
        x_values, x_index = np.unique(x, return_inverse=True)
        T_values, T_index = np.unique(age, return_inverse=True)
        t_values, t_index = np.unique(t_x, return_inverse=True)
        return cls(
            x=x,
            w=w,
            total=float(w.sum()),
            x_values=x_values,
            x_index=x_index,
            x_weight=np.bincount(x_index, weights=w, minlength=x_values.size).astype(np.float64),
            T_values=T_values,
            T_index=T_index,
            t_values=t_values,
            t_index=t_index,
        )


def _log_likelihood(
    params: Floats, rows: _Rows, *, with_gradient: bool
) -> tuple[float, Floats | None]:
    """Summed log-likelihood (FHL 2005) and its gradient in the natural parameters."""
    sp = scipy_special()
    r, alpha, a, b = params
    xv = rows.x_values
    repeat_v = xv > 0
    log_beta_ab = sp.betaln(a, b)
    # L = B(a, b+x)/B(a, b) * G * (alpha+T)^-(r+x)
    #     + [x > 0] * B(a+1, b+x-1)/B(a, b) * G * (alpha+t_x)^-(r+x),
    # G = Gamma(r+x) alpha^r / Gamma(r); both terms in logs, added with logaddexp.
    log_a_v = sp.betaln(a, b + xv) - log_beta_ab
    log_b_v = np.full_like(xv, -np.inf)
    log_b_v[repeat_v] = sp.betaln(a + 1, b + xv[repeat_v] - 1) - log_beta_ab
    log_alpha_T = np.log(alpha + rows.T_values)[rows.T_index]
    log_alpha_t = np.log(alpha + rows.t_values)[rows.t_index]
    rx = r + rows.x
    term_a = log_a_v[rows.x_index] - rx * log_alpha_T
    term_b = log_b_v[rows.x_index] - rx * log_alpha_t
    both = np.logaddexp(term_a, term_b)
    log_g_v = sp.gammaln(r + xv) - sp.gammaln(r) + r * np.log(alpha)
    total = float(rows.x_weight @ log_g_v + rows.w @ both)
    if not with_gradient:
        return total, None
    # Share of the likelihood from "dropped out after the last purchase" (0 when x = 0).
    share_b = np.exp(term_b - both)
    share_a = 1.0 - share_b
    wx, w = rows.x_weight, rows.w
    psi_ab, psi_abx = sp.digamma(a + b), sp.digamma(a + b + xv)
    psi_bx1 = np.where(repeat_v, sp.digamma(np.where(repeat_v, b + xv - 1, 1.0)), 0.0)
    shares_b_v = np.bincount(rows.x_index, weights=w * share_b, minlength=xv.size)
    shares_a_v = wx - shares_b_v
    d_r = (
        wx @ sp.digamma(r + xv)
        + rows.total * (np.log(alpha) - sp.digamma(r))
        - w @ (share_a * log_alpha_T + share_b * log_alpha_t)
    )
    d_alpha = rows.total * r / alpha - w @ (
        rx
        * (
            share_a / (alpha + rows.T_values[rows.T_index])
            + share_b / (alpha + rows.t_values[rows.t_index])
        )
    )
    d_a = wx @ (psi_ab - psi_abx) + shares_b_v.sum() / a
    d_b = (
        wx @ (psi_ab - psi_abx)
        - rows.total * sp.digamma(b)
        + shares_a_v @ sp.digamma(b + xv)
        + shares_b_v @ psi_bx1
    )
    return total, np.array([d_r, d_alpha, d_a, d_b])


class BetaGeoFitter(TransactionFitter):
    """Fit the BG/NBD model by maximum likelihood; predict purchases and P(alive).

    Args:
        penalizer: L2 penalty on the parameters added to the mean negative log-likelihood; 0
            (the default) is plain maximum likelihood, small values (0.001) steady sparse data.
        initial: Starting values by parameter name (r, alpha, a, b); the rest are guessed from
            the data.
        tol: Accept the fit when the Newton step still left is below ``tol`` standard errors
            for every parameter.
        max_iter: Iteration budget of the L-BFGS-B search.

    Example:
        >>> model = BetaGeoFitter().fit(frequency, recency, T)  # doctest: +SKIP
        >>> model.expected_purchases(52, frequency, recency, T)  # doctest: +SKIP
    """

    param_names = ("r", "alpha", "a", "b")
    model_name = MODEL

    def _fit_rows(
        self, x: Floats, t_x: Floats, age: Floats, w: Floats, guess: dict[str, float]
    ) -> Self:
        rows = _Rows.build(x, t_x, age, w)
        mean_x = float(rows.w @ rows.x) / rows.total
        mean_T = float(rows.w @ rows.T_values[rows.T_index]) / rows.total
        start = {"r": 1.0, "alpha": mean_T / max(mean_x, 0.1), "a": 1.0, "b": 3.0} | guess
        return self._maximise(
            start, lambda values, grad: _log_likelihood(values, rows, with_gradient=grad),
            rows.total, analytic=True)

    def _alive(self, params: tuple[float, ...], x: Floats, t_x: Floats, age: Floats) -> Floats:
        """1 for customers without repeat purchases, else from the likelihood (FHL 2005).

        Under BG/NBD a customer can drop out only right after a repeat purchase, so one who
        has made none is alive for sure. Otherwise
        ``1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x))``.
        """
        r, alpha, a, b = params
        repeat = x > 0
        with np.errstate(divide="ignore"):
            log_odds = (
                np.log(a)
                - np.log(np.where(repeat, b + x - 1, 1.0))
                + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x))
            )
        odds_alive = np.where(repeat, -log_odds, np.inf)
        return np.asarray(scipy_special().expit(odds_alive), dtype=np.float64)

    def _expected(
        self, params: tuple[float, ...], t: Floats, x: Floats, t_x: Floats, age: Floats
    ) -> Floats:
        """FHL 2005, the conditional expectation.

        ``(a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]
        * P(alive)`` with ``z = t/(alpha+T+t)``. Euler's transformation of 2F1 turns the
        bracket into ``1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``, whose parameters do not
        grow with x, so heavy buyers do not overflow.
        """
        return self._conditional(t, x, age) * self._alive(params, x, t_x, age)

    def expected_purchases_new(self, t: npt.ArrayLike) -> Floats:
        """Expected purchases by a new customer in ``(0, t]``, E[X(t)] (FHL 2005)."""
        horizon = per_customer("t", t, None, model=MODEL)
        zeros = np.zeros_like(horizon)
        return self._conditional(horizon, zeros, zeros)

    def _conditional(self, t: Floats, x: Floats, age: Floats) -> Floats:
        """Expected purchases in (T, T+t] if alive at T: the conditional expectation / P(alive).

        With x = 0 and T = 0 it is E[X(t)].
        """
        r, alpha, a, b = self._params()
        out = _smooth_bracket(r, alpha, a, b, t, x, age)
        bad = ~np.isfinite(out)
        if bad.any():
            # scipy's hyp2f1 returns NaN or inf in its degenerate case (c - a - b a whole number,
            # as with whole r and a) when z is near 1. The expectation is smooth in r: the mean
            # of r -+ 1e-7 r matched 40-digit mpmath to 1e-11 on such cases.
            h = 1e-7 * max(r, 1.0)
            low = _smooth_bracket(r - h, alpha, a, b, t[bad], x[bad], age[bad])
            high = _smooth_bracket(r + h, alpha, a, b, t[bad], x[bad], age[bad])
            out[bad] = (low + high) / 2
        return out


def _smooth_bracket(
    r: float, alpha: float, a: float, b: float, t: Floats, x: Floats, age: Floats
) -> Floats:
    """:func:`_bracket`, which divides by a - 1; continuous at a = 1, so interpolated there."""
    step = 1e-6
    if abs(a - 1) < step:
        low = _bracket(r, alpha, 1 - step, b, t, x, age)
        high = _bracket(r, alpha, 1 + step, b, t, x, age)
        return low + (a - (1 - step)) / (2 * step) * (high - low)
    return _bracket(r, alpha, a, b, t, x, age)


def _bracket(
    r: float, alpha: float, a: float, b: float, t: Floats, x: Floats, age: Floats
) -> Floats:
    sp = scipy_special()
    base = alpha + age
    z = t / (base + t)
    # Euler's transformation of the paper's 2F1(r+x, b+x; a+b+x-1; z); see expected_purchases.
    c = a + b + x - 1
    with np.errstate(all="ignore"):
        hyper = sp.hyp2f1(a + b - 1 - r, a - 1, c, z)
        left = np.exp((a - 1) * np.log(base / (base + t)))
        return np.asarray(c / (a - 1) * (1 - left * hyper), dtype=np.float64)
