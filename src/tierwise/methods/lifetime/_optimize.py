"""The optimiser the lifetime fitters share, and its numerical derivatives.

Every fitter maximises its log-likelihood over the logarithms of its parameters (so they stay
positive without constraints), first with L-BFGS-B, then polished with Newton steps on a
numerical Hessian. A fit is accepted only where the Hessian is positive definite and the Newton
step still left is below ``tol`` standard errors for every parameter: a statement about the
estimate, not about the optimiser's internal tolerances. Standard errors come from the inverse of
that Hessian (the observed information), mapped back from log parameters by the delta method.

scipy is an optional dependency (``pip install 'tierwise[ml]'``) and is imported when used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from tierwise.errors import ConvergenceError
from tierwise.methods.lifetime._fit import FALLBACK, Floats

Objective: TypeAlias = Callable[[Floats], float]
Gradient: TypeAlias = Callable[[Floats], Floats]

#: Log-parameter bounds: e^-20 to e^20. An estimate on a bound is a parameter the data do not pin.
LOG_BOUND = 20.0


@dataclass(frozen=True)
class Optimum:
    """Where the optimiser stopped, on the log-parameter scale.

    Attributes:
        theta: The log parameters.
        nll: The negative log-likelihood (plus penalty) summed over customers.
        cov: The inverse Hessian of ``nll`` in log parameters.
        iterations: L-BFGS-B iterations plus Newton steps taken.
    """

    theta: Floats
    nll: float
    cov: Floats
    iterations: int


def numerical_gradient(f: Objective, theta: Floats, step: float = 1e-5) -> Floats:
    """Central-difference gradient of ``f`` at ``theta``."""
    grad = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = step
        grad[i] = (f(theta + e) - f(theta - e)) / (2 * step)
    return grad


def numerical_hessian(
    f: Objective, theta: Floats, *, grad: Gradient | None = None, step: float = 1e-4
) -> Floats:
    """Symmetric finite-difference Hessian: from an exact gradient when one is given."""
    k = theta.size
    hess = np.empty((k, k))
    if grad is not None:
        for j in range(k):
            e = np.zeros(k)
            e[j] = step
            hess[:, j] = (grad(theta + e) - grad(theta - e)) / (2 * step)
        return (hess + hess.T) / 2
    f0 = f(theta)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = step
        hess[i, i] = (f(theta + ei) - 2 * f0 + f(theta - ei)) / step**2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = step
            value = (
                f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej) + f(theta - ei - ej)
            ) / (4 * step**2)
            hess[i, j] = hess[j, i] = value
    return hess


def _inverse_if_positive(hess: Floats) -> Floats | None:
    if not np.all(np.isfinite(hess)):
        return None
    try:
        lower = np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        return None
    inv_lower = np.linalg.inv(lower)
    cov: Floats = inv_lower.T @ inv_lower
    return cov


@dataclass(frozen=True)
class _Target:
    """What is being fitted: for the acceptance test and for messages."""

    names: Sequence[str]
    total: float
    tol: float
    model: str


def minimize(
    f: Objective,
    theta0: Floats,
    *,
    grad: Gradient | None,
    names: Sequence[str],
    total: float,
    tol: float,
    max_iter: int,
    model: str,
) -> Optimum:
    """Minimise a mean negative log-likelihood over log parameters.

    Args:
        f: The negative log-likelihood (plus penalty) divided by ``total``, of log parameters.
        theta0: The starting log parameters.
        grad: The exact gradient of ``f``, or None for central differences.
        names: Parameter names, for messages.
        total: The number of customers (sum of weights) ``f`` was divided by.
        tol: Accept when the Newton step left is below ``tol`` standard errors everywhere.
        max_iter: Iteration budget for L-BFGS-B (the Newton polish adds at most 50 steps).
        model: The model's name, for messages.

    Raises:
        ConvergenceError: the optimiser did not reach a proper maximum of the likelihood.
    """

    def safe(theta: Floats) -> float:
        with np.errstate(all="ignore"):
            value = f(theta)
        return value if np.isfinite(value) else np.inf

    def gradient(theta: Floats) -> Floats:
        with np.errstate(all="ignore"):
            return grad(theta) if grad is not None else numerical_gradient(f, theta)

    start = safe(theta0)
    if not np.isfinite(start):
        raise ConvergenceError(
            f"{model} fit did not start: the log-likelihood is not finite at the initial guess "
            f"{dict(zip(names, np.exp(theta0).round(6).tolist(), strict=True))}; "
            f"pass another `initial` guess or {FALLBACK}"
        )
    exact = gradient if grad is not None else None
    theta, steps, hess = _search(safe, theta0, exact=exact, max_iter=max_iter)
    target = _Target(names=names, total=total, tol=tol, model=model)
    return _polish(safe, gradient, theta, hess=hess, steps=steps, exact=exact, target=target)


def _search(
    f: Objective, theta0: Floats, *, exact: Gradient | None, max_iter: int
) -> tuple[Floats, int, Floats | None]:
    """L-BFGS-B from ``theta0``: where it stopped, its iterations, and the Hessian there.

    The Hessian is None where it was not positive definite: then a derivative-free search has
    moved on from where L-BFGS-B stopped.
    """
    from scipy import optimize

    bounds = [(-LOG_BOUND, LOG_BOUND)] * theta0.size
    result = optimize.minimize(
        f,
        theta0,
        jac=(exact if exact is not None else "3-point"),
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-10},
    )
    theta = np.clip(np.asarray(result.x, dtype=np.float64), -LOG_BOUND, LOG_BOUND)
    steps = int(result.nit)
    hess = numerical_hessian(f, theta, grad=exact)
    if _inverse_if_positive(hess) is not None:
        return theta, steps, hess
    # L-BFGS-B can stop on a ridge; a derivative-free search walks off it before polishing.
    simplex = optimize.minimize(
        f,
        theta,
        method="Nelder-Mead",
        bounds=bounds,
        options={"maxiter": max_iter, "xatol": 1e-8, "fatol": 1e-13},
    )
    return np.asarray(simplex.x, dtype=np.float64), steps + int(simplex.nit), None


def _polish(
    f: Objective,
    gradient: Gradient,
    theta: Floats,
    *,
    hess: Floats | None,
    steps: int,
    exact: Gradient | None,
    target: _Target,
) -> Optimum:
    """Newton steps with backtracking until the step left is below ``tol`` standard errors.

    ``hess`` is the Hessian at ``theta`` when the caller has it already; ``exact`` is the exact
    gradient the Hessian is differenced from (None: from ``f`` alone).
    """
    names, total, tol, model = target.names, target.total, target.tol, target.model
    _check_bounds(theta, names, model)
    value = f(theta)
    for _ in range(50):
        if hess is None:
            hess = numerical_hessian(f, theta, grad=exact)
        cov = _inverse_if_positive(hess)
        if cov is None:
            raise ConvergenceError(
                f"{model} fit did not converge: the likelihood is flat or curved the wrong way "
                f"at {_describe(names, theta)} (Hessian not positive definite), so the data do "
                f"not identify the model; pass another `initial` guess or a small `penalizer`, "
                f"or {FALLBACK}"
            )
        newton = cov @ gradient(theta)
        se = np.sqrt(np.diag(cov) / total)
        if np.all(np.abs(newton) <= tol * se):
            _check_bounds(theta, names, model)
            return Optimum(theta=theta, nll=value * total, cov=cov / total, iterations=steps)
        scale = 1.0
        while scale > 1e-10:
            trial = np.clip(theta - scale * newton, -LOG_BOUND, LOG_BOUND)
            trial_value = f(trial)
            if trial_value <= value:
                break
            scale /= 2
        else:
            break
        theta, value, steps, hess = trial, trial_value, steps + 1, None
    _check_bounds(theta, names, model)
    raise ConvergenceError(
        f"{model} fit did not converge: at {_describe(names, theta)} the Newton step is still "
        f"more than {tol:g} standard errors; pass another `initial` guess or a small "
        f"`penalizer`, or {FALLBACK}"
    )


def _check_bounds(theta: Floats, names: Sequence[str], model: str) -> None:
    edge = np.abs(theta) >= LOG_BOUND - 0.5
    if edge.any():
        i = int(np.argmax(edge))
        raise ConvergenceError(
            f"{model} fit did not converge: parameter {names[i]} ran to {np.exp(theta[i]):.3g}, "
            f"so the data do not pin it down (e.g. no sign of customers dropping out); {FALLBACK}"
        )


def _describe(names: Sequence[str], theta: Floats) -> str:
    return ", ".join(f"{n}={v:.4g}" for n, v in zip(names, np.exp(theta), strict=True))

