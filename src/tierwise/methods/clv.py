"""The ``clv`` method: customer lifetime value from BG/NBD or Pareto/NBD and Gamma-Gamma.

From four indicators per customer (purchase occasions so far, days since the first and since
the last, spend so far; optionally the first purchase's spend) it builds each customer's
summary in the model's time unit (weeks by default):

* ``x``: repeat purchase occasions (occasions - 1),
* ``t_x``: time from the first to the last purchase, ``T``: time since the first purchase,
* ``m``: the mean spend of the repeat purchases (with ``first_spend``), else of all purchases.

:func:`fit` estimates the transaction model on every customer with a purchase (identical
summaries collapsed) and Gamma-Gamma on the repeat buyers; :func:`grade` predicts, per
customer: expected purchases over the horizon, the probability of being alive, the expected
spend per purchase, the discounted CLV (monthly discounting over the horizon) and the
undiscounted ``predicted_value`` that ``tierwise evaluate`` calibrates. Tiers cut the
``rank_by`` figure (CLV by default, or P(alive) for churn risk) by ``min_score`` or
``top_share``, like a scorecard.

Uncertainty is shown, not hidden: the parameters' standard errors are in the model, and where
the data are small (at most ``interval_rows`` distinct summaries) each customer's CLV gets a
90% interval from parameter draws. BG/NBD says P(alive) = 1 for a customer without a repeat
purchase: true under the model and uninformative, so the reasons say so.

Predictions run in NumPy on the summaries pulled from the engine, then join back as a table.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from tierwise.errors import MethodError
from tierwise.i18n import _
from tierwise.methods import criteria, wording
from tierwise.methods.base import cut_by_score, fmt, select_grades
from tierwise.methods.criteria import Criteria
from tierwise.methods.families import LearningMethod
from tierwise.methods.fitted import ClvModel, FittedModel, LifetimeFit
from tierwise.spec.columns import CUSTOMER
from tierwise.spec.models import ClvSchemeSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import TierSpec

Floats = npt.NDArray[np.float64]
DAYS_PER_MONTH = 365.25 / 12
DRAWS = 40
_DETAILS = ("clv", "clv_low", "clv_high", "expected_purchases", "p_alive", "expected_spend",
            "predicted_value", "repeat_purchases")


def tiers(scheme: ClvSchemeSpec) -> list[TierSpec]:
    """The scheme's tiers, best first."""
    return list(scheme.tiers)


def _indicators(scheme: ClvSchemeSpec) -> list[str]:
    names = [scheme.purchases, scheme.first, scheme.last, scheme.spend]
    if scheme.first_spend:
        names.append(scheme.first_spend)
    return names


def _pull(scheme: ClvSchemeSpec, features: ir.Table) -> tuple[Any, dict[str, Floats]]:
    """Customer ids and the summary indicators as float arrays (NaN for missing)."""
    names = list(dict.fromkeys(_indicators(scheme)))
    table = features.select(CUSTOMER, *(features[n].cast("float64").name(n) for n in names))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "fetch_record_batch", DeprecationWarning)
        arrow = table.to_pyarrow()
    data = {n: arrow[n].to_numpy(zero_copy_only=False).astype(np.float64) for n in names}
    return arrow[CUSTOMER].combine_chunks(), data


def _summaries(scheme: ClvSchemeSpec, data: dict[str, Floats]
               ) -> tuple[npt.NDArray[np.bool_], Floats, Floats, Floats, Floats]:
    """Who has a purchase, and (x, t_x, T, m) in the model's time unit; zeros for the rest."""
    occasions = np.nan_to_num(data[scheme.purchases], nan=0.0)
    first, last = data[scheme.first], data[scheme.last]
    bought = (occasions >= 1) & np.isfinite(first) & np.isfinite(last)
    unit = float(scheme.unit_days)
    x = np.where(bought, np.maximum(occasions - 1, 0), 0.0)
    age = np.where(bought, np.maximum(first, 0) / unit, 0.0)
    t_x = np.where(bought & (x > 0), np.clip(first - last, 0, None) / unit, 0.0)
    spend = np.nan_to_num(data[scheme.spend], nan=0.0)
    if scheme.first_spend:
        repeat = spend - np.nan_to_num(data[scheme.first_spend], nan=0.0)
        m = np.where(x > 0, repeat / np.maximum(x, 1), 0.0)
    else:
        m = np.where(bought, spend / np.maximum(occasions, 1), 0.0)
    # Net refunds can leave a negative average; as expected spend that means nothing to gain.
    return bought, x, t_x, age, np.maximum(m, 0.0)


def _models() -> tuple[Any, Any, Any]:
    from tierwise.methods.lifetime import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

    return BetaGeoFitter, ParetoNBDFitter, GammaGammaFitter


def fit(scheme: ClvSchemeSpec, features: ir.Table) -> ClvModel:
    """Fit the transaction and spend models; the model with estimates and errors.

    Raises:
        MethodError: too few customers with purchases or repeat purchases, or spend data that
            cannot support Gamma-Gamma; the message suggests a method that needs no model.
    """
    bgnbd, pareto, gamma = _models()
    _table, data = _pull(scheme, features)
    bought, x, t_x, age, m = _summaries(scheme, data)
    n = int(bought.sum())
    if n < 50:
        raise MethodError(
            _("clv: only {n} customers have a purchase ({total} in all); a lifetime model needs "
              "at least 50 buyers and 20 repeat buyers. Use method: rfm or rules").format(n=n,
                total=len(bought)))
    transactions = (bgnbd if scheme.model == "bgnbd" else pareto)(penalizer=scheme.penalizer)
    transactions.fit(x[bought], t_x[bought], age[bought])
    repeat = bought & (x > 0) & (m > 0)
    spend = gamma(penalizer=scheme.penalizer).fit(x[repeat], m[repeat])
    lone = float(((x == 0) & bought).sum()) / n
    return ClvModel(model=scheme.model, unit_days=scheme.unit_days, customers=n,
                    repeat_buyers=int(repeat.sum()), transactions=_described(transactions),
                    spend=_described(spend),
                    one_time=lone if scheme.model == "bgnbd" and lone > 0 else None)


def _described(fitted: Any) -> LifetimeFit:
    return LifetimeFit(params=dict(fitted.params_),
                       standard_errors=dict(fitted.standard_errors_),
                       covariance_log=fitted.covariance_log_.tolist(),
                       log_likelihood=float(fitted.log_likelihood_))


def _rebuilt(model: ClvModel, transactions: dict[str, float], spend: dict[str, float]
             ) -> tuple[Any, Any]:
    bgnbd, pareto, gamma = _models()
    kind = bgnbd if model.model == "bgnbd" else pareto
    return kind.from_params(transactions), gamma.from_params(spend)


def horizon_days(length: str) -> float:
    """A horizon such as ``12m`` or ``39w`` in days (a month is 365.25 / 12 days)."""
    import re

    found = re.fullmatch(r"\s*(\d+)\s*([dwmy])[a-z]*\s*", length)
    if not found:
        raise MethodError(_("clv: horizon {length!r} is not a length like 90d, 39w, 12m or 1y").format(
            length=length))
    count = int(found.group(1))
    return count * {"d": 1.0, "w": 7.0, "m": DAYS_PER_MONTH, "y": 365.25}[found.group(2)]


def _discounted(model: Any, x: Floats, t_x: Floats, age: Floats, value: _Valuation
                ) -> tuple[Floats, Floats]:
    """Per row: expected purchases over the horizon, and the same discounted monthly."""
    horizon, unit, rate = value.horizon, value.unit, value.rate
    steps = max(1, math.ceil(horizon / DAYS_PER_MONTH - 1e-9))
    before = np.zeros_like(x)
    total = np.zeros_like(x)
    for i in range(1, steps + 1):
        t = min(i * DAYS_PER_MONTH, horizon) / unit
        now = model.expected_purchases(t, x, t_x, age)
        total += (now - before) / (1 + rate) ** i
        before = now
    return before, total


@dataclass(frozen=True)
class _Buyers:
    """Buyers' summaries: the distinct (x, t_x, T) rows, each buyer's row code, x and m."""

    ux: Floats
    ut: Floats
    ua: Floats
    codes: npt.NDArray[np.int64]
    x: Floats
    m: Floats


@dataclass(frozen=True)
class _Valuation:
    """What a CLV values: ``horizon`` days, in model units of ``unit`` days, at a monthly ``rate``."""

    horizon: float
    unit: float
    rate: float


def predict(scheme: ClvSchemeSpec, model: ClvModel, x: Floats, t_x: Floats, age: Floats,
            m: Floats) -> dict[str, Floats]:
    """Per customer (buyers only): the figures of :data:`_DETAILS` but the id."""
    from tierwise.methods.lifetime._fit import factorize_rows

    transactions, spend = _rebuilt(model, model.transactions.params, model.spend.params)
    value = _Valuation(horizon=horizon_days(scheme.horizon), unit=float(model.unit_days),
                       rate=scheme.discount_rate)
    # Predictions depend on (x, t_x, T) only: compute each distinct summary once.
    codes, first = factorize_rows((x, t_x, age))
    ux, ut, ua = x[first], t_x[first], age[first]
    purchases, discounted = _discounted(transactions, ux, ut, ua, value)
    alive = transactions.probability_alive(ux, ut, ua)
    per_purchase = spend.conditional_expected_average_profit(x, m)
    out = {
        "expected_purchases": purchases[codes], "p_alive": alive[codes],
        "expected_spend": per_purchase, "clv": discounted[codes] * per_purchase,
        "predicted_value": purchases[codes] * per_purchase, "repeat_purchases": x,
    }
    low = high = np.full_like(x, np.nan)
    if len(ux) <= scheme.interval_rows:
        low, high = _interval(scheme, model, _Buyers(ux, ut, ua, codes, x, m), value)
    out["clv_low"], out["clv_high"] = low, high
    return out


def _interval(scheme: ClvSchemeSpec, model: ClvModel, buyers: _Buyers, value: _Valuation
              ) -> tuple[Floats, Floats]:
    """5% and 95% CLV over parameter draws from the estimates' (log-scale) covariance."""
    rng = np.random.default_rng(scheme.seed)
    draws = []
    x = buyers.x
    for _draw in range(DRAWS):
        picked = []
        for described in (model.transactions, model.spend):
            names = list(described.params)
            centre = np.log([described.params[k] for k in names])
            theta = rng.multivariate_normal(centre, np.asarray(described.covariance_log))
            picked.append(dict(zip(names, np.exp(theta).tolist(), strict=True)))
        try:
            transactions, spend = _rebuilt(model, picked[0], picked[1])
            _, discounted = _discounted(transactions, buyers.ux, buyers.ut, buyers.ua, value)
            draws.append(discounted[buyers.codes]
                         * spend.conditional_expected_average_profit(x, buyers.m))
        except MethodError:
            continue  # a draw with an infinite mean spend (q <= 1) is left out
    if len(draws) < DRAWS // 2:
        nan = np.full_like(x, np.nan)
        return nan, nan
    stacked = np.vstack(draws)
    return np.quantile(stacked, 0.05, axis=0), np.quantile(stacked, 0.95, axis=0)


def grade(scheme: ClvSchemeSpec, features: ir.Table, model: ClvModel) -> ir.Table:
    """Predict every customer's CLV with ``model`` and cut the tiers by ``rank_by``.

    Customers without a purchase get a CLV of 0 and the lowest tier.
    """
    import ibis
    import pyarrow as pa

    ids, data = _pull(scheme, features)
    bought, x, t_x, age, m = _summaries(scheme, data)
    figures = {k: np.full(len(x), np.nan) for k in _DETAILS}
    if bought.any():
        found = predict(scheme, model, x[bought], t_x[bought], age[bought], m[bought])
        for k, values in found.items():
            figures[k][bought] = values
    for k in ("clv", "expected_purchases", "predicted_value"):
        figures[k] = np.where(bought, figures[k], 0.0)
    figures["repeat_purchases"] = np.where(bought, x, np.nan)
    predicted = ibis.memtable(pa.table({
        "_cid": ids, **{k: pa.array(v, pa.float64(), from_pandas=True) for k, v in figures.items()},
    }))
    table = features.join(predicted, features[CUSTOMER] == predicted._cid)
    score = table[scheme.rank_by].fill_null(0.0)
    table = cut_by_score(table.mutate(_score=score), scheme.tiers)
    tier = table._rank.cases(*((i + 1, t.key) for i, t in enumerate(scheme.tiers)), else_=None)
    details = {k: table[k] for k in _DETAILS}
    details["next_at"] = table._floor
    return select_grades(table, tier=tier, rank=table._rank, score=table._score,
                         details=details, value=scheme.value)


def texts(scheme: ClvSchemeSpec, table: ir.Table) -> tuple[ir.StringValue, ir.Value]:
    """Reasons (the prediction and what it rests on) and the gap to the next tier."""
    import ibis

    unit = _("weeks") if scheme.unit_days == 7 else _("x{days} days").format(
        days=scheme.unit_days)
    interval = ibis.ifelse(
        table.clv_low.isnull(), "",
        wording.sentence(_(" (90% {low} to {high})"), low=fmt(table.clv_low),
                         high=fmt(table.clv_high)))
    lone = scheme.model == "bgnbd"
    alive = ibis.ifelse(
        (table.repeat_purchases == 0) & ibis.literal(lone),
        _("P(alive) 1 by assumption: no repeat purchase yet"),
        wording.sentence(_("P(alive) {p}"), p=fmt(table.p_alive, 3)))
    reasons = ibis.ifelse(
        table.repeat_purchases.isnull(), _("no purchase yet: CLV 0"),
        wording.sentence(
            _("CLV {horizon} {clv}{interval}: {purchases} purchases expected, {alive}, {spend} "
              "per purchase; repeat purchases so far: {repeats} ({unit} unit)"),
            horizon=scheme.horizon, clv=fmt(table.clv), interval=interval,
            purchases=fmt(table.expected_purchases), alive=alive,
            spend=fmt(table.expected_spend),
            repeats=table.repeat_purchases.cast("int64").cast("string"), unit=unit))
    what = "CLV" if scheme.rank_by == "clv" else scheme.rank_by
    gap = ibis.ifelse(
        table.next_at.isnull() | (table.next_at <= table.score), ibis.null("string"),
        wording.sentence(_("{figure} +{amount} to the next tier ({at})"), figure=what,
                         amount=fmt(table.next_at - table.score), at=fmt(table.next_at)))
    return reasons, gap


def describe(model: ClvModel) -> list[tuple[str, str]]:
    """The fitted model in a few lines for people: estimates with standard errors, notes."""
    def params(part: LifetimeFit) -> str:
        se = part.standard_errors
        return _(", ").join(_("{name} {value} (se {se})").format(
            name=k, value=f"{v:.4g}", se=f"{se[k]:.2g}") for k, v in part.params.items())

    name = "BG/NBD" if model.model == "bgnbd" else "Pareto/NBD"
    lines = [(_("customers"), _("{buyers} with a purchase, {repeat} repeat buyers").format(
                 buyers=f"{model.customers:,}", repeat=f"{model.repeat_buyers:,}")),
             (name, params(model.transactions)),
             ("Gamma-Gamma", params(model.spend))]
    notes = list(model.notes)
    if model.one_time is not None:
        notes.insert(0, _("{lone:.0%} of buyers have no repeat purchase: BG/NBD gives them "
                          "P(alive) = 1, which says nothing about them").format(
                              lone=model.one_time))
    return lines + [(_("note"), note) for note in notes]


class ClvMethod(LearningMethod[ClvSchemeSpec]):
    """``method: clv``: customer lifetime value from BG/NBD (Pareto/NBD) and Gamma-Gamma."""

    name = "clv"
    spec = ClvSchemeSpec
    model_type = ClvModel
    grade_with = grade
    texts_with = texts
    describe_with = describe

    def reads(self, spec: ClvSchemeSpec) -> list[str]:
        """The purchase history's indicators."""
        return _indicators(spec)

    def tiers(self, spec: ClvSchemeSpec) -> list[TierSpec]:
        """The scheme's tiers, best first."""
        return tiers(spec)

    def criteria(self, spec: ClvSchemeSpec) -> Criteria:
        """The scheme in words (:mod:`tierwise.methods.criteria`)."""
        return criteria.clv(spec)

    def fit(self, spec: ClvSchemeSpec, features: ir.Table, *, as_of: date,
            previous: FittedModel | None, training: ir.Table | None) -> FittedModel:
        """Fit the lifetime models on this run's data (a previous model is not reused)."""
        del as_of, previous, training
        return fit(spec, features)
