"""The Pareto/NBD model of repeat purchases and dropout (Schmittlein, Morrison & Colombo 1987).

Assumptions:

1. While active, a customer buys at the times of a Poisson process with rate lambda.
2. lambda varies across customers as a gamma distribution with shape r and rate alpha.
3. A customer's unobserved lifetime is exponential with rate mu: dropout can happen at any time.
4. mu varies across customers as a gamma distribution with shape s and rate beta.
5. lambda and mu are independent across customers.

The likelihood follows Fader, Hardie & Lee, "A Note on Implementing the Pareto/NBD Model in
MATLAB" (2005), with its case split on alpha >= beta versus alpha < beta; P(alive)
and the conditional expectation follow Fader & Hardie, "A Note on Deriving the Pareto/NBD Model
and Related Expressions" (2005), as does E[X(t)].

For numerical stability everything is evaluated in logs, the hypergeometric function through
Euler's transformation (see :func:`_log_hyp`), which keeps the large powers of the note's form
(that overflow for heavy buyers) out of it; and where its argument comes near 1, where scipy's
hyp2f1 can fail, by a quadrature of its integral representation.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import numpy.typing as npt

from tierwise.methods.lifetime._fit import Floats, per_customer, scipy_special
from tierwise.methods.lifetime._transaction import TransactionFitter

MODEL = "Pareto/NBD"


#: Up to this argument scipy's hyp2f1 matched mpmath (50 digits) to ~1e-14 on the functions
#: used here, integer parameters included; closer to 1 it returned NaN (2F1(1, 16; 318; 0.906)
#: for one) or lost digits, so a quadrature takes over there.
_HYP2F1_SAFE = 0.8
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(20)
_PANELS = 40


def _log_tail(params: Floats, x: Floats, t: Floats) -> Floats:
    """``log A(t)``, ``A(t) = integral over (t, oo) of (alpha+u)^-(r+x) (beta+u)^-(s+1) du``.

    The part of the likelihood where the customer died between the last purchase and T is
    ``s * (A(t_x) - A(T))``. The MATLAB note's case split gives
    ``A(t) = 2F1(q, p; p+1; z) / (p * m^p)`` with ``p = r+s+x`` and

    * alpha >= beta: ``m = alpha+t``, ``q = s+1``, ``z = (alpha-beta)/(alpha+t)``;
    * alpha < beta: ``m = beta+t``, ``q = r+x``, ``z = (beta-alpha)/(beta+t)``;

    so ``0 <= z < 1`` in both cases.
    """
    r, alpha, s, beta = params
    p = r + s + x
    if alpha >= beta:
        base, q, z = alpha + t, np.full_like(x, s + 1), (alpha - beta) / (alpha + t)
    else:
        base, q, z = beta + t, r + x, (beta - alpha) / (beta + t)
    return np.asarray(-p * np.log(base) + _log_hyp(p, q, z) - np.log(p), dtype=np.float64)


def _log_hyp(p: Floats, q: Floats, z: Floats) -> Floats:
    """``log 2F1(q, p; p+1; z) = log(p * integral over (0, 1) of v^(p-1) (1 - z v)^-q dv)``.

    For ``z <= 0.8`` Euler's transformation ``(1-z)^(1-q) 2F1(1, p+1-q; p+1; z)`` keeps the
    large power (which overflows for heavy buyers in the note's form) out of hyp2f1, and the
    transformed function stays of moderate size. Closer to 1, see :func:`_log_hyp_quadrature`.
    """
    sp = scipy_special()
    p, q, z = np.broadcast_arrays(p, q, z)
    out = np.empty(p.shape)
    easy = z <= _HYP2F1_SAFE
    pe, qe, ze = p[easy], q[easy], z[easy]
    with np.errstate(divide="ignore", invalid="ignore"):
        out[easy] = (1 - qe) * np.log1p(-ze) + np.log(sp.hyp2f1(1.0, pe + 1 - qe, pe + 1, ze))
    hard = ~np.isfinite(out) | ~easy
    if hard.any():
        out[hard] = _log_hyp_quadrature(p[hard], q[hard], z[hard])
    return out


def _log_hyp_quadrature(p: Floats, q: Floats, z: Floats) -> Floats:
    """``log 2F1(q, p; p+1; z)`` for z near 1, by Gauss-Legendre quadrature in logs.

    With ``v = exp(-u)`` the integral is ``p * integral over (0, oo) of exp(g(u)) du``,
    ``g(u) = -p u - q log(1 - z e^-u)``: log-convex and decreasing, with a drop over a scale
    ``1 / (p + q z / (1-z))`` at 0, a power-law middle and an ``exp(-p u)`` tail. Panels grow
    geometrically from that first scale to where ``q z e^-u`` is negligible; the tail beyond is
    integrated in ``w = exp(-p (u - end))``, in which it is smooth. Every weight and value stays in
    logs, so nothing overflows.
    """
    sp = scipy_special()
    with np.errstate(divide="ignore"):
        end = np.maximum(np.log(np.maximum(q * z, 1.0)) + 8.0, 1.0)
        first = np.minimum(1.0 / (p + q * z / (1.0 - z)), end / 2)
        grid = first[:, None] * (end / first)[:, None] ** (np.arange(_PANELS + 1) / _PANELS)
        edges = np.concatenate([np.zeros((p.size, 1)), grid], axis=1)
        low, half = edges[:, :-1], np.diff(edges, axis=1) / 2
        u = low[..., None] + half[..., None] * (_GL_NODES + 1)
        log_w = np.log(half)[..., None] + np.log(_GL_WEIGHTS)
        pp, qq, zz = p[:, None, None], q[:, None, None], z[:, None, None]
        body = sp.logsumexp(-pp * u - qq * np.log1p(-zz * np.exp(-u)) + log_w, axis=(1, 2))
        w = (_GL_NODES + 1) / 2
        u_tail = end[:, None] - np.log(w) / p[:, None]
        tail_terms = -p[:, None] * end[:, None] - q[:, None] * np.log1p(
            -z[:, None] * np.exp(-u_tail)
        )
        tail = sp.logsumexp(tail_terms + np.log(_GL_WEIGHTS / 2), axis=1) - np.log(p)
    return np.asarray(np.log(p) + np.logaddexp(body, tail), dtype=np.float64)


def _log_parts(params: Floats, x: Floats, t_x: Floats, age: Floats) -> tuple[Floats, Floats]:
    """The two parts of the likelihood, in logs, without the common factor.

    ``alive``: still active at T, ``(alpha+T)^-(r+x) (beta+T)^-s``.
    ``died``: dropped out in (t_x, T], ``s * (A(t_x) - A(T))``; minus infinity when t_x = T.
    """
    r, alpha, s, beta = params
    alive = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
    at_last, at_end = _log_tail(params, x, t_x), _log_tail(params, x, age)
    with np.errstate(divide="ignore"):
        # A(t_x) >= A(T); the difference in logs is A(t_x) + log(1 - A(T)/A(t_x)).
        died = np.log(s) + at_last + np.log(-np.expm1(np.minimum(at_end - at_last, 0.0)))
    return alive, died


def _log_likelihood(params: Floats, x: Floats, t_x: Floats, age: Floats, w: Floats) -> float:
    """Summed log-likelihood of the MATLAB note, weighted by customers per row."""
    sp = scipy_special()
    r, alpha, s, beta = params
    alive, died = _log_parts(params, x, t_x, age)
    common = sp.gammaln(r + x) - sp.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    return float(w @ (common + np.logaddexp(alive, died)))


def _lomax_integral(s: float, base: Floats, t: Floats) -> Floats:
    """``integral over (0, t] of (base/(base+u))^s du = base/(s-1) * [1 - (base/(base+t))^(s-1)]``.

    The survival-weighted time alive in the next t periods; its limit at s = 1 is
    ``base * log(1 + t/base)``.
    """
    log_ratio = np.log1p(t / base)
    if abs(s - 1) < 1e-12:
        return np.asarray(base * log_ratio, dtype=np.float64)
    return np.asarray(base * -np.expm1(-(s - 1) * log_ratio) / (s - 1), dtype=np.float64)


class ParetoNBDFitter(TransactionFitter):
    """Fit the Pareto/NBD model by maximum likelihood; predict purchases and P(alive).

    Args:
        penalizer: L2 penalty on the parameters added to the mean negative log-likelihood; 0
            (the default) is plain maximum likelihood.
        initial: Starting values by parameter name (r, alpha, s, beta); the rest are guessed
            from the data.
        tol: Accept the fit when the Newton step still left is below ``tol`` standard errors
            for every parameter.
        max_iter: Iteration budget of the L-BFGS-B search.
    """

    param_names = ("r", "alpha", "s", "beta")
    model_name = MODEL

    def _fit_rows(
        self, x: Floats, t_x: Floats, age: Floats, w: Floats, guess: dict[str, float]
    ) -> Self:
        total = float(w.sum())
        mean_x, mean_T = float(w @ x) / total, float(w @ age) / total
        start = {"r": 1.0, "alpha": mean_T / max(mean_x, 0.1), "s": 1.0, "beta": mean_T} | guess
        return self._maximise(
            start, lambda values, _: (_log_likelihood(values, x, t_x, age, w), None), total,
            analytic=False)

    def _alive(self, params: tuple[float, ...], x: Floats, t_x: Floats, age: Floats) -> Floats:
        """The "alive" share of the customer's likelihood (Fader & Hardie 2005 derivations note).

        Unlike BG/NBD, a customer without repeat purchases may have dropped out already, so it
        is below 1 for T > 0.
        """
        alive, died = _log_parts(np.array(params), x, t_x, age)
        return np.asarray(np.exp(alive - np.logaddexp(alive, died)), dtype=np.float64)

    def _expected(
        self, params: tuple[float, ...], t: Floats, x: Floats, t_x: Floats, age: Floats
    ) -> Floats:
        """Fader & Hardie (2005 derivations note).

        ``(r+x)(beta+T) / ((alpha+T)(s-1)) * [1 - ((beta+T)/(beta+T+t))^(s-1)] * P(alive)``.
        """
        r, alpha, s, beta = params
        rate = (r + x) / (alpha + age)
        alive = self._alive(params, x, t_x, age)
        return rate * _lomax_integral(s, beta + age, t) * alive

    def expected_purchases_new(self, t: npt.ArrayLike) -> Floats:
        """Expected purchases by a new customer in ``(0, t]``, E[X(t)] (derivations note).

        ``r beta / (alpha (s-1)) * [1 - (beta/(beta+t))^(s-1)]``.
        """
        r, alpha, s, beta = self._params()
        horizon = per_customer("t", t, None, model=MODEL)
        return r / alpha * _lomax_integral(s, np.full_like(horizon, beta), horizon)
