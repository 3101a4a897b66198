"""The CLV fitters against published CDNOW results, simulations and their refusals.

Reference figures and where they come from:

* BG/NBD on the 2,357-customer CDNOW sample, 39-week calibration: r = 0.243, alpha = 4.414,
  a = 0.793, b = 2.426, LL = -9582.4. Fader, Hardie & Lee (2005), "'Counting Your Customers' the
  Easy Way", Marketing Science 24(2); the same figures are CLVTools' reference test
  (tests/testthat/test_correctness_bgnbd.R, "As reported in Fader, Hardie, Lee (2005)").
  Standard errors 0.012557, 0.378221, 0.185719, 0.705345: the lifetimes package's
  ``BetaGeoFitter.summary`` on the same data (its docs and public READMEs; no paper gives them).
* Pareto/NBD on the same data: r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669,
  LL = -9595.0. Fader, Hardie & Lee (2005), "A Note on Implementing the Pareto/NBD Model in
  MATLAB", as used by CLVTools (test_correctness_pnbd_nocovstaticcov.R), whose standard errors
  0.0476264, 0.8427222, 0.1872594, 6.2105448 are checked too.
* Gamma-Gamma on the 946 repeat buyers: p = 6.25, q = 3.74, gamma (our v) = 15.44,
  LL = -4055.9177. Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value"; the LL is
  CLVTools' reference (test_correctness_gg.R). lifetimes' docs show 6.25 / 3.74 / 15.45.

The data come from the files the ``lifetimes`` package ships (a test dependency): located with
importlib without importing lifetimes, whose code breaks on pandas 3 (docs/architecture.md section 7).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special

from tierwise.errors import (
    ConvergenceError,
    DataError,
    MethodError,
    NotFittedError,
    SpecError,
    TierwiseError,
)
from tierwise.methods.lifetime import (
    BetaGeoFitter,
    GammaGammaFitter,
    ParetoNBDFitter,
    collapse,
)
from tierwise.methods.lifetime.paretonbd import _log_parts

BGNBD_PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
BGNBD_LL = -9582.4
BGNBD_SE_LIFETIMES = {"r": 0.012557, "alpha": 0.378221, "a": 0.185719, "b": 0.705345}
PARETO_PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
PARETO_LL = -9595.0
PARETO_SE_CLVTOOLS = {"r": 0.0476264, "alpha": 0.8427222, "s": 0.1872594, "beta": 6.2105448}
GAMMA_GAMMA_PUBLISHED = {"p": 6.25, "q": 3.74, "v": 15.44}
GAMMA_GAMMA_LL = -4055.9177


def _datasets() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.submodule_search_locations, "pip install '.[test]'"
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"


@pytest.fixture(scope="module")
def cdnow() -> dict[str, np.ndarray]:
    """The calibration summary: x, t_x, T (weeks) of the 2,357 customers."""
    table = pd.read_csv(_datasets() / "cdnow_customers_summary_with_transactions.csv")
    return {name: table[name].to_numpy(dtype=float) for name in ("x", "t_x", "T")}


@pytest.fixture(scope="module")
def cdnow_spend(cdnow: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Repeat transactions and their exact mean value per customer, from the raw sample.

    The summary file rounds the mean to cents; the published figures use exact means. As in
    the papers, the calibration period is 1997-01-01 to 1997-09-30 and purchases on one day
    are one transaction.
    """
    raw = pd.read_csv(
        _datasets() / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "id", "date", "cds", "amount"],
    )
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    days = (
        raw[raw["date"] <= "1997-09-30"]
        .groupby(["id", "date"], as_index=False)["amount"]
        .sum()
        .sort_values(["id", "date"])
    )
    repeat = days[days.groupby("id").cumcount() > 0].groupby("id")["amount"].agg(["count", "mean"])
    frequency = repeat["count"].reindex(range(1, 2358), fill_value=0).to_numpy(dtype=float)
    spend = repeat["mean"].reindex(range(1, 2358), fill_value=0.0).to_numpy(dtype=float)
    # The raw sample and the summary agree on every customer's repeat purchases.
    assert np.array_equal(frequency, cdnow["x"])
    return {"x": frequency, "m": spend}


@pytest.fixture(scope="module")
def bgf(cdnow: dict[str, np.ndarray]) -> BetaGeoFitter:
    return BetaGeoFitter().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])


@pytest.fixture(scope="module")
def pnbd(cdnow: dict[str, np.ndarray]) -> ParetoNBDFitter:
    return ParetoNBDFitter().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])


@pytest.fixture(scope="module")
def ggf(cdnow_spend: dict[str, np.ndarray]) -> GammaGammaFitter:
    return GammaGammaFitter().fit(cdnow_spend["x"], cdnow_spend["m"])


def _relative(estimates: dict[str, float], published: dict[str, float]) -> dict[str, float]:
    return {k: abs(estimates[k] - v) / v for k, v in published.items()}


# -- CDNOW parity -------------------------------------------------------------------------------


def test_cdnow_files_are_where_lifetimes_ships_them() -> None:
    names = {path.name for path in _datasets().iterdir()}
    assert {"cdnow_customers_summary_with_transactions.csv", "CDNOW_sample.txt"} <= names


def test_bgnbd_matches_fader_hardie_lee_2005(bgf: BetaGeoFitter) -> None:
    assert max(_relative(bgf.params_, BGNBD_PUBLISHED).values()) < 0.01
    # The paper rounds the log-likelihood to one decimal.
    assert bgf.log_likelihood_ == pytest.approx(BGNBD_LL, abs=0.05)
    assert bgf.n_customers_ == 2357


def test_bgnbd_standard_errors_match_lifetimes(bgf: BetaGeoFitter) -> None:
    assert max(_relative(bgf.standard_errors_, BGNBD_SE_LIFETIMES).values()) < 0.01


def test_paretonbd_matches_the_matlab_note(pnbd: ParetoNBDFitter) -> None:
    assert max(_relative(pnbd.params_, PARETO_PUBLISHED).values()) < 0.01
    assert pnbd.log_likelihood_ == pytest.approx(PARETO_LL, abs=0.05)


def test_paretonbd_standard_errors_match_clvtools(pnbd: ParetoNBDFitter) -> None:
    assert max(_relative(pnbd.standard_errors_, PARETO_SE_CLVTOOLS).values()) < 0.01


def test_gamma_gamma_matches_fader_hardie_2013(ggf: GammaGammaFitter) -> None:
    assert max(_relative(ggf.params_, GAMMA_GAMMA_PUBLISHED).values()) < 0.01
    assert ggf.log_likelihood_ == pytest.approx(GAMMA_GAMMA_LL, abs=0.001)
    assert ggf.n_customers_ == 946  # the repeat buyers; the others carry no spend information


def test_summary_has_positive_errors_and_intervals_around_the_estimate(
    bgf: BetaGeoFitter, pnbd: ParetoNBDFitter, ggf: GammaGammaFitter
) -> None:
    for model in (bgf, pnbd, ggf):
        table = model.summary()
        assert list(table) == list(model.param_names)
        for row in table.values():
            assert row["se"] > 0
            assert 0 < row["lower_95"] < row["estimate"] < row["upper_95"]
            # Log-scale interval: the estimate is its geometric midpoint.
            assert row["estimate"] == pytest.approx(np.sqrt(row["lower_95"] * row["upper_95"]))


# -- weights --------------------------------------------------------------------------------------


def test_collapse_counts_identical_rows() -> None:
    x, t_x, age, w = collapse([1, 0, 1, 1, 0], [2.0, 0, 2.0, 3.0, 0], [5, 5, 5, 5, 6])
    assert x.tolist() == [0, 0, 1, 1]
    assert t_x.tolist() == [0, 0, 2, 3]
    assert age.tolist() == [5, 6, 5, 5]
    assert w.tolist() == [1, 1, 2, 1]
    # Already-weighted rows add up their weights.
    assert collapse([1, 1], [2, 2], [5, 5], weights=[3, 4])[3].tolist() == [7]
    assert all(part.size == 0 for part in collapse([], [], []))


def test_weighted_fit_equals_the_fit_on_repeated_rows(cdnow: dict[str, np.ndarray]) -> None:
    rng = np.random.default_rng(3)
    counts = rng.integers(1, 4, size=cdnow["x"].size)
    repeated = {k: np.repeat(v, counts) for k, v in cdnow.items()}
    for fitter in (BetaGeoFitter, ParetoNBDFitter):
        weighted = fitter().fit(cdnow["x"], cdnow["t_x"], cdnow["T"], weights=counts)
        plain = fitter().fit(repeated["x"], repeated["t_x"], repeated["T"])
        for name in fitter.param_names:
            assert weighted.params_[name] == pytest.approx(plain.params_[name], rel=1e-6)
        assert weighted.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-9)
        assert weighted.n_customers_ == counts.sum()


def test_collapsed_rows_give_the_same_estimates(cdnow: dict[str, np.ndarray]) -> None:
    x, t_x, age, w = collapse(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert x.size < cdnow["x"].size and w.sum() == cdnow["x"].size
    collapsed = BetaGeoFitter().fit(x, t_x, age, weights=w)
    plain = BetaGeoFitter().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    for name in BetaGeoFitter.param_names:
        assert collapsed.params_[name] == pytest.approx(plain.params_[name], rel=1e-9)


# -- predictions ------------------------------------------------------------------------------


def test_bgnbd_alive_for_sure_without_repeat_purchases(bgf: BetaGeoFitter) -> None:
    # BG/NBD drops customers only right after a repeat purchase.
    assert bgf.probability_alive([0, 0], [0, 0], [10.0, 39.0]).tolist() == [1.0, 1.0]
    alive = bgf.probability_alive([2, 2], [30.0, 5.0], [39.0, 39.0])
    assert 0 < alive[1] < alive[0] < 1  # a long silence since the last purchase lowers it


def test_paretonbd_can_be_dead_without_repeat_purchases(pnbd: ParetoNBDFitter) -> None:
    alive = pnbd.probability_alive([0, 0, 0], [0, 0, 0], [0.0, 10.0, 39.0])
    assert alive[0] == pytest.approx(1.0)
    assert 1 > alive[1] > alive[2] > 0


def test_bgnbd_conditional_expectation_matches_the_papers_form(
    bgf: BetaGeoFitter, cdnow: dict[str, np.ndarray]
) -> None:
    """FHL 2005's conditional expectation as printed (no Euler transformation), all of CDNOW."""
    r, alpha, a, b = (bgf.params_[k] for k in ("r", "alpha", "a", "b"))
    x, t_x, age, t = cdnow["x"], cdnow["t_x"], cdnow["T"], 39.0
    hyper = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + age + t))
    bracket = 1 - ((alpha + age) / (alpha + age + t)) ** (r + x) * hyper
    odds = np.where(
        x > 0, a / np.maximum(b + x - 1, 1e-12) * ((alpha + age) / (alpha + t_x)) ** (r + x), 0
    )
    printed = (a + b + x - 1) / (a - 1) * bracket / (1 + odds)
    np.testing.assert_allclose(bgf.expected_purchases(t, x, t_x, age), printed, rtol=1e-9)


def test_bgnbd_new_customer_expectation_matches_the_papers_form(bgf: BetaGeoFitter) -> None:
    """FHL 2005's E[X(t)] as printed."""
    r, alpha, a, b = (bgf.params_[k] for k in ("r", "alpha", "a", "b"))
    t = np.array([1.0, 39.0, 78.0, 500.0])
    hyper = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
    printed = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyper)
    np.testing.assert_allclose(bgf.expected_purchases_new(t), printed, rtol=1e-9)


def test_paretonbd_expectations_match_their_integrals(pnbd: ParetoNBDFitter) -> None:
    """E[purchases in (T, T+t)] = P(alive) (r+x)/(alpha+T) * integral of survival to T+u."""
    r, alpha, s, beta = (pnbd.params_[k] for k in ("r", "alpha", "s", "beta"))
    x, t_x, age, t = np.array([0.0, 2.0, 7.0]), np.array([0.0, 30.0, 12.0]), np.full(3, 39.0), 26.0
    alive = pnbd.probability_alive(x, t_x, age)
    survival = [
        integrate.quad(lambda u, T=T: ((beta + T) / (beta + T + u)) ** s, 0, t)[0] for T in age
    ]
    expected = alive * (r + x) / (alpha + age) * np.array(survival)
    np.testing.assert_allclose(pnbd.expected_purchases(t, x, t_x, age), expected, rtol=1e-9)
    new = r / alpha * integrate.quad(lambda u: (beta / (beta + u)) ** s, 0, t)[0]
    assert pnbd.expected_purchases_new(t)[0] == pytest.approx(new, rel=1e-9)


def test_bgnbd_expectations_are_continuous_at_a_equal_1() -> None:
    near = [
        BetaGeoFitter.from_params({"r": 0.3, "alpha": 5, "a": a, "b": 2.5})
        for a in (1 - 1e-4, 1.0, 1 + 1e-4)
    ]
    values = [m.expected_purchases(20, [0, 3], [0, 20], [30, 30]) for m in near]
    np.testing.assert_allclose(values[1], (values[0] + values[2]) / 2, rtol=1e-6)
    new = [m.expected_purchases_new(20)[0] for m in near]
    assert new[1] == pytest.approx((new[0] + new[2]) / 2, rel=1e-6)


def test_bgnbd_expectations_with_whole_number_parameters() -> None:
    """scipy's hyp2f1 gives NaN for whole r and a near z = 1; the result must stay smooth."""
    args = ([3000.0, 100.0, 0.0], [38.0, 30.0, 0.0], [39.0, 39.0, 0.0])
    models = [
        BetaGeoFitter.from_params({"r": r, "alpha": 0.5, "a": 2.0, "b": 0.5})
        for r in (1 - 1e-3, 1.0, 1 + 1e-3)
    ]
    low, whole, high = (m.expected_purchases(500.0, *args) for m in models)
    assert np.all(np.isfinite(whole))
    np.testing.assert_allclose(whole, (low + high) / 2, rtol=1e-5)


def _simulate_bgnbd(params: dict[str, float], n: int, age: float, horizon: float, seed: int) -> Any:
    """x, t_x, alive at T and purchases in (T, T + horizon] from the BG/NBD story."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    dropout_after = rng.geometric(rng.beta(params["a"], params["b"], n))
    bought = rng.poisson(lam * age)
    x = np.minimum(dropout_after, bought)
    t_x = np.where(x > 0, age * rng.beta(np.maximum(x, 1), bought - x + 1), 0.0)
    alive = dropout_after > bought
    later = np.where(alive, np.minimum(rng.poisson(lam * horizon), dropout_after - bought), 0)
    return x.astype(float), t_x, np.full(n, age), alive, later


def _simulate_pareto(
    params: dict[str, float], n: int, age: float, horizon: float, seed: int
) -> Any:
    """x, t_x, alive at T and purchases in (T, T + horizon] from the Pareto/NBD story."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    lifetime = rng.exponential(1 / rng.gamma(params["s"], 1 / params["beta"], n))
    seen = np.minimum(lifetime, age)
    x = rng.poisson(lam * seen)
    t_x = np.where(x > 0, seen * rng.beta(np.maximum(x, 1), 1), 0.0)
    later = rng.poisson(lam * np.clip(lifetime - age, 0, horizon))
    return x.astype(float), t_x, np.full(n, age), lifetime > age, later


def _within_noise(observed: np.ndarray, predicted: np.ndarray) -> None:
    """The mean outcome equals the mean prediction within 4 standard errors of the mean."""
    noise = observed.std() / np.sqrt(observed.size)
    assert abs(observed.mean() - predicted.mean()) < 4 * noise


@pytest.mark.parametrize(
    ("fitter", "params", "simulate"),
    [
        (BetaGeoFitter, {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}, _simulate_bgnbd),
        (ParetoNBDFitter, {"r": 0.6, "alpha": 8.0, "s": 0.7, "beta": 10.0}, _simulate_pareto),
    ],
)
def test_expectations_match_a_simulation(
    fitter: Any, params: dict[str, float], simulate: Any
) -> None:
    model = fitter.from_params(params)
    x, t_x, age, alive, later = simulate(params, 100_000, 30.0, 20.0, seed=11)
    predicted_alive = model.probability_alive(x, t_x, age)
    predicted_later = model.expected_purchases(20.0, x, t_x, age)
    _within_noise(alive.astype(float), predicted_alive)
    _within_noise(later.astype(float), predicted_later)
    for k in (0, 1, 2, 5):  # conditional on the history, not only on average
        _within_noise(later[x == k].astype(float), predicted_later[x == k])
    _within_noise(x, model.expected_purchases_new(30.0))


@pytest.mark.parametrize(
    ("fitter", "params", "simulate"),
    [
        (BetaGeoFitter, {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}, _simulate_bgnbd),
        (ParetoNBDFitter, {"r": 0.6, "alpha": 8.0, "s": 0.7, "beta": 10.0}, _simulate_pareto),
    ],
)
def test_fit_recovers_simulated_parameters(
    fitter: Any, params: dict[str, float], simulate: Any
) -> None:
    x, t_x, age, _, _ = simulate(params, 20_000, 30.0, 0.0, seed=5)
    t_x = np.round(t_x * 7) / 7  # whole days, as real logs have
    model = fitter().fit(x, t_x, age)
    for name, true in params.items():
        assert abs(model.params_[name] - true) < 4 * model.standard_errors_[name], name


def test_gamma_gamma_expected_spend_matches_a_simulation() -> None:
    """E[mean spend | x, m_x] equals the simulated customers' true mean within bins of m_x."""
    p, q, v = 6.0, 4.0, 15.0
    rng = np.random.default_rng(2)
    nu = rng.gamma(q, 1 / v, 200_000)
    x = rng.integers(1, 6, nu.size).astype(float)
    m = rng.gamma(p * x, 1 / nu) / x
    predicted = GammaGammaFitter.from_params({"p": p, "q": q, "v": v})
    expected = predicted.conditional_expected_average_profit(x, m)
    true_mean = p / nu
    for low, high in ((0, 10), (10, 20), (20, 40)):
        rows = (m >= low) & (m < high)
        _within_noise(true_mean[rows], expected[rows])
    fitted = GammaGammaFitter().fit(x[:20_000], m[:20_000])
    for name, true in {"p": p, "q": q, "v": v}.items():
        assert abs(fitted.params_[name] - true) < 4 * fitted.standard_errors_[name], name


def test_gamma_gamma_new_customers_get_the_population_mean(ggf: GammaGammaFitter) -> None:
    p, q, v = (ggf.params_[k] for k in ("p", "q", "v"))
    spend = ggf.conditional_expected_average_profit([0, 0, 1], [0.0, 99.0, 30.0])
    assert spend[0] == spend[1] == pytest.approx(p * v / (q - 1))
    # One purchase of 30 pulls the estimate from the mean towards 30: p (v + 30) / (p + q - 1).
    assert spend[2] == pytest.approx(p * (v + 30) / (p + q - 1))


class _Linear:
    """A transaction model in which everyone buys ``rate`` times per week."""

    def __init__(self, rate: float) -> None:
        self.rate = rate

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        return np.full(np.asarray(frequency).shape, self.rate * float(t))


def test_clv_is_the_discounted_sum_of_monthly_value(ggf: GammaGammaFitter) -> None:
    spend = ggf.conditional_expected_average_profit([2], [40.0])[0]
    clv = ggf.customer_lifetime_value(
        _Linear(0.5), [2], [10.0], [20.0], [40.0], time=3, discount_rate=0.02
    )
    # 0.5 purchases a week, 30.4375 / 7 weeks a month; months discounted by 1.02, 1.02^2, 1.02^3.
    per_month = 0.5 * 30.4375 / 7 * spend
    assert clv[0] == pytest.approx(per_month * (1 / 1.02 + 1 / 1.02**2 + 1 / 1.02**3))


def test_clv_with_bgnbd_grows_with_the_horizon(
    bgf: BetaGeoFitter,
    ggf: GammaGammaFitter,
    cdnow_spend: dict[str, np.ndarray],
    cdnow: dict[str, np.ndarray],
) -> None:
    args = (bgf, cdnow["x"], cdnow["t_x"], cdnow["T"], cdnow_spend["m"])
    year = ggf.customer_lifetime_value(*args, time=12)
    two = ggf.customer_lifetime_value(*args, time=24)
    assert np.all(year > 0) and np.all(two > year)
    # Without discounting a year is spend x expected purchases in 12 months (52.18 weeks).
    flat = ggf.customer_lifetime_value(*args, time=12, discount_rate=0.0)
    weeks = 12 * 30.4375 / 7
    expected = ggf.conditional_expected_average_profit(cdnow_spend["x"], cdnow_spend["m"]) * (
        bgf.expected_purchases(weeks, cdnow["x"], cdnow["t_x"], cdnow["T"])
    )
    np.testing.assert_allclose(flat, expected, rtol=1e-10)


# -- numerical stability of Pareto/NBD -----------------------------------------------------


def _died_by_quadrature(
    r: float, alpha: float, s: float, beta: float, x: float, t_x: float, age: float
) -> float:
    """log of s * integral over (t_x, T) of (alpha+u)^-(r+x) (beta+u)^-(s+1) du, by scipy.quad."""
    top = (r + x) * np.log(alpha + t_x) + (s + 1) * np.log(beta + t_x)
    value, _ = integrate.quad(
        lambda u: np.exp(top - (r + x) * np.log(alpha + u) - (s + 1) * np.log(beta + u)),
        t_x,
        age,
        epsabs=0,
        epsrel=1e-12,
        limit=500,
    )
    return float(np.log(s) + np.log(value) - top)


@pytest.mark.parametrize(
    "params",
    [
        (0.55, 10.6, 0.61, 11.7),  # CDNOW-like, alpha < beta
        (0.55, 11.7, 0.61, 10.6),  # alpha > beta
        (0.5, 1e-3, 0.5, 1e4),  # hypergeometric argument within 1e-5 of 1: quadrature branch
        (0.5, 1e4, 0.5, 1e-3),
        (2.0, 3.0, 15.0, 400.0),  # whole numbers: scipy's hyp2f1 returns NaN at z = 0.906
    ],
)
@pytest.mark.parametrize(
    ("x", "t_x", "age"), [(0, 0, 39), (2, 30, 39), (300, 38, 39), (3000, 299, 300)]
)
def test_paretonbd_likelihood_is_stable(
    params: tuple[float, ...], x: float, t_x: float, age: float
) -> None:
    _, died = _log_parts(
        np.array(params), np.array([float(x)]), np.array([float(t_x)]), np.array([float(age)])
    )
    assert died[0] == pytest.approx(_died_by_quadrature(*params, x, t_x, age), rel=1e-9)


def test_paretonbd_branches_agree_where_alpha_meets_beta() -> None:
    x, t_x, age = np.array([0.0, 4.0, 40.0]), np.array([0.0, 20.0, 35.0]), np.full(3, 39.0)
    below = _log_parts(np.array([0.6, 10.0 - 1e-9, 0.7, 10.0]), x, t_x, age)
    above = _log_parts(np.array([0.6, 10.0 + 1e-9, 0.7, 10.0]), x, t_x, age)
    np.testing.assert_allclose(below, above, rtol=1e-8)


def test_heavy_buyers_do_not_overflow(bgf: BetaGeoFitter, pnbd: ParetoNBDFitter) -> None:
    # 5000 purchases in 39 weeks, the last on the as-of date; and a silent week after the last.
    x, t_x, age = [5000.0, 5000.0, 0.0], [39.0, 38.0, 0.0], [39.0, 39.0, 39.0]
    for model in (bgf, pnbd):
        expected = model.expected_purchases(10, x, t_x, age)
        alive = model.probability_alive(x, t_x, age)
        assert np.all(np.isfinite(expected)) and np.all(np.isfinite(alive))
        # Just bought: alive, and buying about (r + x) / (alpha + T) ~ 115 times a week.
        assert alive[0] > 0.99 and expected[0] > 500
        # At ~130 purchases a week, a silent week is near-certain death: P(no buy) ~ e^-130.
        assert alive[1] < 1e-30


# -- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "message"),
    [
        ([1, 2], [3.0, 5.0], [4.0, 4.0], "recency cannot exceed T: row 1 has recency 5 > T 4"),
        ([1, -1], [3.0, 0.0], [4.0, 4.0], "frequency cannot be negative: row 1 has -1"),
        ([1.5, 1], [3.0, 1.0], [4.0, 4.0], "must be a whole number: row 0 has 1.5"),
        ([1, 1], [float("nan"), 1.0], [4.0, 4.0], "recency is missing or infinite at row 0"),
        ([0, 1], [2.0, 1.0], [4.0, 4.0], "frequency 0 and recency 2"),
        ([1, 1], [1.0, 1.0], [4.0, -4.0], "T cannot be negative: row 1 has -4"),
        ([1, 1, 1], [1.0, 1.0], [4.0, 4.0], "one value per customer; got 3, 2 and 2"),
    ],
)
def test_bad_summaries_are_refused_with_the_row_and_value(
    frequency: list[float], recency: list[float], T: list[float], message: str
) -> None:
    for fitter in (BetaGeoFitter(), ParetoNBDFitter()):
        with pytest.raises(DataError, match=message.replace("(", r"\(")):
            fitter.fit(frequency, recency, T)


def test_too_few_repeat_buyers_suggests_another_method() -> None:
    x = [1.0] * 19 + [0.0] * 100
    t_x = [5.0] * 19 + [0.0] * 100
    with pytest.raises(
        MethodError, match=r"at least 20 repeat buyers .* have 19; use method: rfm or rules"
    ):
        BetaGeoFitter().fit(x, t_x, [30.0] * 119)


def test_no_variation_in_frequency_is_refused() -> None:
    with pytest.raises(
        MethodError, match=r"frequency does not vary \(every customer has 1\).*use method: rfm"
    ):
        ParetoNBDFitter().fit([1.0] * 50, [5.0] * 50, [30.0] * 50)


def test_no_observation_time_is_refused() -> None:
    with pytest.raises(MethodError, match="every customer has T = 0"):
        BetaGeoFitter().fit([0.0] * 50, [0.0] * 50, [0.0] * 50)


def test_a_fit_that_does_not_converge_is_refused() -> None:
    """Poisson buyers who never drop out: BG/NBD's dropout parameters run away."""
    rng = np.random.default_rng(5)
    age = np.full(3000, 40.0)
    bought = rng.poisson(rng.gamma(2.0, 1 / 4.0, age.size) * age)
    t_x = np.where(bought > 0, age * rng.beta(np.maximum(bought, 1), 1), 0.0)
    with pytest.raises(
        ConvergenceError, match=r"BG/NBD fit did not converge: .*use method: rfm or rules"
    ):
        BetaGeoFitter().fit(bought, t_x, age)


def test_gamma_gamma_refusals() -> None:
    x = np.array([1.0, 2.0, 3.0] * 10)
    with pytest.raises(DataError, match="average spend must be positive: row 1 has 0"):
        GammaGammaFitter().fit(x, [5.0, 0.0, 7.0] * 10)
    with pytest.raises(MethodError, match="same average spend"):
        GammaGammaFitter().fit(x, [5.0] * 30)
    with pytest.raises(MethodError, match="at least 20 repeat buyers"):
        GammaGammaFitter().fit([1.0] * 10 + [0.0] * 40, [5.0] * 50)


def test_errors_share_the_tierwise_base_and_unfitted_models_say_so() -> None:
    assert issubclass(DataError, TierwiseError) and issubclass(MethodError, TierwiseError)
    with pytest.raises(NotFittedError, match=r"not fitted yet: call fit\(\)"):
        BetaGeoFitter().expected_purchases(1, [1], [1.0], [2.0])
    with pytest.raises(SpecError, match="penalizer must be a number >= 0"):
        BetaGeoFitter(penalizer=-1).fit([1], [1.0], [2.0])
    with pytest.raises(SpecError, match="unknown parameter 'gamma'"):
        GammaGammaFitter(initial={"gamma": 1.0}).fit([1], [2.0])
    with pytest.raises(SpecError, match="expected the parameters"):
        ParetoNBDFitter.from_params({"r": 1.0})
