"""The base class of the lifetime fitters: hyper-parameters, fitting, estimates and summary."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Self

import numpy as np

from tierwise.errors import NotFittedError, SpecError
from tierwise.methods.lifetime._fit import Floats
from tierwise.methods.lifetime._optimize import Optimum, minimize

_Z95 = 1.959963984540054


class FittedModel:
    """What every lifetime fitter has after ``fit``: estimates, standard errors, log-likelihood.

    Attributes:
        params_: The maximum-likelihood estimates by parameter name.
        standard_errors_: Their standard errors, from the inverse Hessian (delta method).
        log_likelihood_: The log-likelihood at the estimates, summed over customers.
        n_customers_: The number of customers fitted on (the sum of weights).
        n_iterations_: Optimiser iterations taken.
    """

    param_names: tuple[str, ...] = ()
    model_name = ""

    params_: dict[str, float]
    _se_log: dict[str, float]
    #: Covariance of the log-parameter estimates (inverse Hessian), for parameter draws.
    covariance_log_: Floats

    standard_errors_: dict[str, float]
    log_likelihood_: float
    n_customers_: float
    n_iterations_: int

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        initial: Mapping[str, float] | None = None,
        tol: float = 1e-4,
        max_iter: int = 2000,
    ) -> None:
        """Hyper-parameters only (scikit-learn style); see the fitter's class docstring."""
        self.penalizer = penalizer
        self.initial = initial
        self.tol = tol
        self.max_iter = max_iter

    def _params(self) -> tuple[float, ...]:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet: call fit() before predicting"
            )
        return tuple(self.params_[name] for name in self.param_names)

    def _store(self, optimum: Optimum, *, log_likelihood: float, total: float) -> None:
        values = np.exp(optimum.theta)
        se_log = np.sqrt(np.diag(optimum.cov))
        self._se_log = dict(zip(self.param_names, se_log.tolist(), strict=True))
        self.covariance_log_ = np.asarray(optimum.cov, dtype=np.float64)
        self.params_ = dict(zip(self.param_names, values.tolist(), strict=True))
        self.standard_errors_ = dict(zip(self.param_names, (values * se_log).tolist(), strict=True))
        self.log_likelihood_ = log_likelihood
        self.n_customers_ = total
        self.n_iterations_ = optimum.iterations

    def _maximise(
        self,
        start: Mapping[str, float],
        log_likelihood: Callable[[Floats, bool], tuple[float, Floats | None]],
        total: float,
        *,
        analytic: bool,
    ) -> Self:
        """Maximise the likelihood over log parameters from ``start``, and store the result.

        ``log_likelihood(values, with_gradient)`` gives the log-likelihood summed over
        customers and, with ``analytic``, its gradient in the parameters; without it the
        optimiser takes numerical derivatives. The objective is the mean negative
        log-likelihood plus the L2 penalty, so its scale does not grow with the data.
        """
        theta0 = np.log([start[name] for name in self.param_names])

        def objective(theta: Floats) -> float:
            values = np.exp(theta)
            ll, _ = log_likelihood(values, False)
            return -ll / total + penalty(values, self.penalizer)[0]

        def gradient(theta: Floats) -> Floats:
            values = np.exp(theta)
            _, grad = log_likelihood(values, True)
            assert grad is not None
            return -grad * values / total + penalty(values, self.penalizer)[1]

        optimum = minimize(
            objective,
            theta0,
            grad=gradient if analytic else None,
            names=self.param_names,
            total=total,
            tol=self.tol,
            max_iter=self.max_iter,
            model=self.model_name,
        )
        ll, _ = log_likelihood(np.exp(optimum.theta), False)
        self._store(optimum, log_likelihood=ll, total=total)
        return self

    @classmethod
    def from_params(cls, params: Mapping[str, float]) -> Self:
        """A model with known parameters, e.g. estimates stored from an earlier fit.

        Its standard errors and log-likelihood are unknown (NaN).

        Args:
            params: A positive value for every parameter of the model.
        """
        names = set(cls.param_names)
        if set(params) != names:
            raise SpecError(
                f"{cls.__name__}.from_params: expected the parameters {list(cls.param_names)}; "
                f"got {sorted(params)}"
            )
        model = cls()
        for name in cls.param_names:
            value = float(params[name])
            if not (np.isfinite(value) and value > 0):
                raise SpecError(f"{cls.__name__}.from_params: {name} must be positive; got {value}")
        nan = dict.fromkeys(cls.param_names, float("nan"))
        model.params_ = {name: float(params[name]) for name in cls.param_names}
        model.standard_errors_, model._se_log = dict(nan), dict(nan)
        model.log_likelihood_, model.n_customers_, model.n_iterations_ = float("nan"), 0.0, 0
        return model

    def summary(self) -> dict[str, dict[str, float]]:
        """Estimates with standard errors and 95% confidence intervals, by parameter.

        The intervals are built on the log scale the model was fitted on,
        ``exp(log(estimate) +- 1.96 * se_log)``, so they stay positive like the parameters.

        Returns:
            ``{name: {"estimate", "se", "lower_95", "upper_95"}}`` in parameter order.
        """
        self._params()
        table: dict[str, dict[str, float]] = {}
        for name in self.param_names:
            estimate, se_log = self.params_[name], self._se_log[name]
            table[name] = {
                "estimate": estimate,
                "se": self.standard_errors_[name],
                "lower_95": estimate * float(np.exp(-_Z95 * se_log)),
                "upper_95": estimate * float(np.exp(_Z95 * se_log)),
            }
        return table

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"{type(self).__name__}(not fitted)"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({shown}, customers={self.n_customers_:g})"


def penalty(values: Floats, penalizer: float) -> tuple[float, Floats]:
    """An L2 penalty on the parameters, and its gradient in log parameters."""
    if penalizer == 0:
        return 0.0, np.zeros_like(values)
    return float(penalizer * np.sum(values**2)), 2 * penalizer * values**2
