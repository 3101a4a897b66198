"""Synthetic retail-bank customers: month-end balances and transactions.

Wealth is a mixture by segment (mass, affluent, private banking), each lognormal, so assets span
from a few yuan to tens of millions. Monthly balances follow a random walk with a personal drift
that ends at the customer's current level; a share of mass customers hold no investments, some
customers carry an amortising loan. Transaction counts are Poisson with a gamma-distributed
personal rate, and dormant customers stop transacting 6 to 24 months before the as-of date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tierwise.demo._common import (
    Ints,
    cents,
    dates,
    day,
    ids,
    money,
    month_ends,
    person_names,
    pick,
    table,
)

MONTHS = 24
HISTORY_DAYS = 730  # two years of transactions, ending at the as-of date
SEGMENTS = ["mass", "affluent", "private"]
SEGMENT_SHARES = [0.80, 0.17, 0.03]
# Median total assets (deposits + investments, CNY) and lognormal sigma per segment.
WEALTH = {"mass": (25_000.0, 1.5), "affluent": (900_000.0, 0.75), "private": (8_000_000.0, 0.55)}
NO_INVESTMENT = {"mass": 0.55, "affluent": 0.1, "private": 0.0}
INVEST_SHARE = {"mass": (2.0, 5.0), "affluent": (3.0, 3.0), "private": (5.0, 3.0)}  # beta
HAS_LOAN = {"mass": 0.18, "affluent": 0.3, "private": 0.25}
TXN_PER_MONTH = (1.0, 2.0)  # gamma shape, scale: mean 2 transactions a month
DORMANT_SHARE = 0.12
EMPTY_SHARE = 0.04
CHANNELS = ["mobile", "online", "atm", "branch", "pos"]
CHANNEL_WEIGHTS = [0.52, 0.16, 0.12, 0.08, 0.12]
# The planted credit risk (log-odds of arrears within a year; see _arrears).
ARREARS_LOGIT = {"intercept": -4.0, "loan_to_assets": 0.6, "no_txns_6m": 1.2,
                 "tenure_under_2y": 1.2}
OCCUPATIONS = ["employee", "civil_servant", "retired", "student", "self_employed",
               "cash_business", "jewellery_dealer", "money_service"]
OCCUPATION_SHARES = [0.52, 0.1, 0.14, 0.06, 0.1, 0.05, 0.015, 0.015]
# ISO codes; the last four stand for higher-risk jurisdictions of the synthetic world.
COUNTRIES = ["CN", "HK", "SG", "US", "GB", "XA", "XB", "XC", "XD"]
COUNTRY_SHARES = [0.86, 0.04, 0.02, 0.02, 0.01, 0.02, 0.015, 0.01, 0.005]


def build(count: int, *, as_of: date, seed: int) -> tuple[Any, Any, Any, Any]:
    """The customers, balances, transactions and arrears tables (Arrow)."""
    if count < 1:
        raise ValueError(f"customers must be at least 1, got {count}")
    rng = np.random.default_rng(seed)
    end = day(as_of)
    ends = month_ends(as_of, MONTHS)
    segment = pick(rng, SEGMENTS, count, SEGMENT_SHARES)
    seg = {s: segment == s for s in SEGMENTS}

    # Private-banking clients are older; everyone opened the account as an adult.
    birth_year = np.where(seg["private"], rng.integers(1950, 1985, count),
                          rng.integers(1950, 2005, count))
    adult_year = (birth_year + 18 - 1970).astype("datetime64[Y]")
    adult = adult_year.astype("datetime64[D]").astype(np.int64)
    new = rng.random(count) < 0.1  # opened within the two years of balances
    opened = np.where(new, end - rng.integers(20, HISTORY_DAYS, count),
                      end - rng.integers(HISTORY_DAYS, 25 * 365, count))
    opened = np.maximum(opened, np.minimum(adult, end - 20))
    customers = table({
        "customer_id": ids("B", count, 6),
        "name": person_names(rng, count, latin_share=0.05),
        "segment": segment,
        "open_date": dates(opened),
        "birth_year": birth_year.astype(np.int64),
    })
    balances = _balances(rng, segment, opened, ends, customers["customer_id"])
    transactions = _transactions(rng, segment, opened, end, customers["customer_id"])
    # The know-your-customer facts draw from a stream of their own, so adding them left the
    # balances and transactions of a seed as they were.
    for name, column in _kyc(np.random.default_rng([seed, 16]), segment, birth_year, opened, end).items():
        customers = customers.append_column(name, column)
    arrears = _arrears(np.random.default_rng([seed, 17]), customers, balances, transactions,
                       as_of)
    return customers, balances, transactions, arrears


def _arrears(rng: np.random.Generator, customers: Any, balances: Any, transactions: Any,
             as_of: date) -> Any:
    """Payment arrears in the 12 months before ``as_of``, planted on the facts a year earlier.

    As of the start of that year (T - 12 months) each customer's log-odds of falling into
    arrears is :data:`ARREARS_LOGIT`'s intercept plus its weight times log(1 + loans / assets),
    plus the weight of having no transaction in the six months before, plus the weight of an
    account younger than two years. Nothing else counts (the cash share and the investment
    share do not), so a credit scorecard fitted on these data should find exactly those three.
    """
    import pandas as pd

    start = day(as_of) - 365
    bal = balances.to_pandas()
    bal["day"] = pd.to_datetime(bal["balance_date"]).values.astype("datetime64[D]").astype(
        np.int64)
    window = bal[(bal["day"] > start - 91) & (bal["day"] <= start)]
    assets = (window.assign(a=window["deposits"].astype(float) + window["investments"].astype(
        float)).groupby("customer_id")["a"].mean())
    last = window.sort_values("day").groupby("customer_id")["loans"].last().astype(float)
    ids = customers["customer_id"].to_pandas()
    ratio = (last.reindex(ids).fillna(0.0) / (assets.reindex(ids).fillna(0.0) + 1000.0)).values
    txn = transactions.select(["customer_id", "txn_date"]).to_pandas()
    txn_day = pd.to_datetime(txn["txn_date"]).values.astype("datetime64[D]").astype(np.int64)
    active = set(txn["customer_id"][(txn_day > start - 183) & (txn_day <= start)])
    idle = ~ids.isin(active).values
    opened = pd.to_datetime(customers["open_date"].to_pandas()).values.astype(
        "datetime64[D]").astype(np.int64)
    young = (start - opened) < 730
    w = ARREARS_LOGIT
    logit = (w["intercept"] + w["loan_to_assets"] * np.log1p(ratio) + w["no_txns_6m"] * idle
             + w["tenure_under_2y"] * young)
    bad = (rng.random(len(ids)) < 1 / (1 + np.exp(-logit))) & (opened <= start)
    who = np.flatnonzero(bad)
    return table({
        "customer_id": pa.array(ids.values[who]),
        "arrears_date": dates(start + rng.integers(1, 366, who.size)),
        "days_past_due": pa.array(rng.choice([30, 60, 90], who.size, p=[0.5, 0.3, 0.2])),
    })


def _kyc(rng: np.random.Generator, segment: Any, birth_year: Ints, opened: Ints, end: int
         ) -> dict[str, Any]:
    """Occupation, country, PEP and sanctions flags, and the last KYC review of each customer.

    About 1% are politically exposed persons (more among private-banking clients), 0.3% have a
    tie to a sanctioned country, and 5% live in a higher-risk jurisdiction. The last review lies
    in the last half year for 70%, up to 18 months back for 20% and up to three years for the
    rest (never before the account opened); 8% have none on record.
    """
    count = segment.size
    occupation = pick(rng, OCCUPATIONS, count, OCCUPATION_SHARES)
    # Retired people were born before 1967 and students after 1997; the others work.
    occupation = np.where(((occupation == "retired") & (birth_year > 1966))
                          | ((occupation == "student") & (birth_year < 1998)), "employee",
                          occupation)
    country = pick(rng, COUNTRIES, count, COUNTRY_SHARES)
    pep = rng.random(count) < np.where(segment == "private", 0.06, 0.008)
    sanction = rng.random(count) < 0.003
    # Most were reviewed in the last half year, some in the year before, a few long ago.
    back = np.where(rng.random(count) < 0.7, rng.integers(0, 183, count),
                    np.where(rng.random(count) < 0.67, rng.integers(183, 548, count),
                             rng.integers(548, 3 * 365, count)))
    reviewed = np.maximum(end - back, opened)
    missing = rng.random(count) < 0.08
    review = pa.array(reviewed.astype("datetime64[D]"), mask=missing)
    return {"occupation": pa.array(occupation), "country": pa.array(country),
            "pep": pa.array(pep), "sanction_tie": pa.array(sanction), "last_review": review}


def _balances(rng: np.random.Generator, segment: Any, opened: Ints, ends: Ints,
              customer_id: Any) -> Any:
    count, months = segment.size, ends.size
    median = np.array([WEALTH[s][0] for s in segment])
    sigma = np.array([WEALTH[s][1] for s in segment])
    assets_now = median * rng.lognormal(0.0, sigma)
    # Accounts kept open with almost nothing in them: common, and they must not break ratios.
    empty = rng.random(count) < EMPTY_SHARE
    assets_now = np.where(empty, rng.uniform(0.0, 50.0, count), assets_now)
    # A random walk pinned to today's level: earlier months drift back by the personal trend.
    drift = rng.normal(0.04, 0.15, count) / 12
    steps = rng.normal(0.0, 0.05, (count, months))
    walk = np.cumsum(steps, axis=1)
    walk -= walk[:, -1:]
    offset = np.arange(months) - (months - 1)
    assets = assets_now[:, None] * np.exp(walk + drift[:, None] * offset[None, :])

    alpha = np.array([INVEST_SHARE[s][0] for s in segment])
    beta = np.array([INVEST_SHARE[s][1] for s in segment])
    share = rng.beta(alpha, beta) * (rng.random(count) >= [NO_INVESTMENT[s] for s in segment])
    wobble = np.clip(share[:, None] + rng.normal(0, 0.02, (count, months)), 0, 1) * (share > 0)[
        :, None]
    investments = assets * wobble
    deposits = assets - investments

    has_loan = rng.random(count) < [HAS_LOAN[s] for s in segment]
    principal = rng.lognormal(np.log(400_000.0), 0.8, count) * np.where(segment == "private", 3, 1)
    start = rng.integers(-120, months, count)  # the month the loan was drawn (negative: before)
    term = rng.choice([60, 120, 240, 360], count)
    elapsed = np.arange(months)[None, :] - start[:, None]
    loans = np.where((elapsed >= 0) & has_loan[:, None],
                     principal[:, None] * np.clip(1 - elapsed / term[:, None], 0, 1), 0.0)

    open_ok = ends[None, :] >= opened[:, None]  # no snapshot before the account existed
    who, month = np.nonzero(open_ok)
    return table({
        "customer_id": pc.take(customer_id, pa.array(who)),
        "balance_date": dates(ends[month]),
        "deposits": money(cents(deposits[who, month])),
        "investments": money(cents(investments[who, month])),
        "loans": money(cents(loans[who, month])),
    })


def _transactions(rng: np.random.Generator, segment: Any, opened: Ints, end: int,
                  customer_id: Any) -> Any:
    count = segment.size
    first = np.maximum(opened, end - HISTORY_DAYS + 1)
    dormant = rng.random(count) < DORMANT_SHARE
    # Dormant customers' last activity lies 6 to 24 months back (some never transacted at all).
    last = np.where(dormant, end - rng.integers(183, HISTORY_DAYS, count), end)
    span = np.maximum(last - first + 1, 0)
    rate = rng.gamma(*TXN_PER_MONTH, count) * np.where(segment == "mass", 1.0, 1.4)
    n = rng.poisson(rate * span / 30.4)
    who = np.repeat(np.arange(count), n)
    when = first[who] + np.floor(rng.random(who.size) * span[who]).astype(np.int64)
    # Richer customers move larger sums; amounts are lognormal around a personal typical amount.
    typical = np.where(segment == "mass", 300.0, np.where(segment == "affluent", 2_000.0, 12_000.0))
    amount = typical[who] * rng.lognormal(0.0, 1.1, who.size)
    order = np.lexsort((np.arange(who.size), who, when))
    who, when, amount = who[order], when[order], amount[order]
    return table({
        "customer_id": pc.take(customer_id, pa.array(who)),
        "txn_date": dates(when),
        "amount": money(np.maximum(cents(amount), 100)),
        "channel": pick(rng, CHANNELS, who.size, CHANNEL_WEIGHTS),
    })
