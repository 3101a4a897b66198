"""What the purchase-and-dropout models (BG/NBD, Pareto/NBD) share.

Both are fitted on customer summaries (frequency, recency, T) and predict from them: the checks
of those summaries, the merging of identical rows and the order of the steps live here, the
likelihood and the formulas in each model's module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self

import numpy.typing as npt

from tierwise.methods.lifetime._fit import (
    Floats,
    check_hyper,
    check_summary,
    collapse,
    per_customer,
    require_fit_support,
)
from tierwise.methods.lifetime._model import FittedModel


class TransactionFitter(FittedModel, ABC):
    """A model of repeat purchases and dropout, fitted on (frequency, recency, T) summaries.

    A model implements :meth:`_fit_rows` (maximum likelihood on checked, merged rows),
    :meth:`_alive` and :meth:`_expected` (on checked arrays).
    """

    def fit(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,
        weights: npt.ArrayLike | None = None,
    ) -> Self:
        """Estimate the model's parameters (``param_names``) from customer summaries.

        Args:
            frequency: Repeat purchases per customer (whole numbers).
            recency: Time from the first to the last purchase (0 without repeat purchases).
            T: Time from the first purchase to the as-of date.
            weights: Customers per row, e.g. from :func:`collapse`; 1 each when omitted.

        Returns:
            The fitter, with ``params_``, ``standard_errors_`` and ``log_likelihood_`` set.

        Raises:
            DataError: the summaries break a rule (negative, missing, recency > T, ...).
            MethodError: the data cannot identify the model (too few repeat buyers, ...).
            ConvergenceError: the optimiser found no proper maximum.
        """
        model = self.model_name
        guess = check_hyper(self.param_names, self.penalizer, self.initial, self.tol)
        x, t_x, age, w = check_summary(frequency, recency, T, weights, model=model)
        require_fit_support(x, age, w, model=model)
        x, t_x, age, w = collapse(x, t_x, age, w)
        keep = w > 0
        return self._fit_rows(x[keep], t_x[keep], age[keep], w[keep], guess)

    def probability_alive(
        self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
    ) -> Floats:
        """P(still active at T | x, t_x, T) for each customer; the model's class says how."""
        params = self._params()
        x, t_x, age, _ = check_summary(frequency, recency, T, model=self.model_name)
        return self._alive(params, x, t_x, age)

    def expected_purchases(
        self, t: npt.ArrayLike, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
    ) -> Floats:
        """Expected purchases in the next ``t`` periods, given each customer's history.

        Args:
            t: Length of the future period, in the fitting time unit (scalar or per customer).
            frequency: Repeat purchases per customer.
            recency: Time from first to last purchase per customer.
            T: Time from first purchase to the as-of date per customer.
        """
        params = self._params()
        x, t_x, age, _ = check_summary(frequency, recency, T, model=self.model_name)
        horizon = per_customer("t", t, x.shape[0], model=self.model_name)
        return self._expected(params, horizon, x, t_x, age)

    @abstractmethod
    def _fit_rows(
        self, x: Floats, t_x: Floats, age: Floats, w: Floats, guess: dict[str, float]
    ) -> Self:
        """Maximise the likelihood of distinct summary rows ``w`` customers each stand for."""

    @abstractmethod
    def _alive(self, params: tuple[float, ...], x: Floats, t_x: Floats, age: Floats) -> Floats:
        """P(alive) of checked summaries under ``params``."""

    @abstractmethod
    def _expected(
        self, params: tuple[float, ...], t: Floats, x: Floats, t_x: Floats, age: Floats
    ) -> Floats:
        """Expected purchases in (T, T+t] of checked summaries under ``params``."""
