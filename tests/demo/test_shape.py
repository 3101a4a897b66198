"""The statistical shape of the demo data: what makes the example schemes worth running."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .conftest import read

AS_OF = pd.Timestamp("2026-06-30")


def _per_customer(values: pd.Series, ids: pd.Series) -> pd.Series:
    return values.reindex(ids, fill_value=0)


def _retail_indicators(orders: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    """The retail example's indicators, by pandas: windows are (as_of - n months, as_of]."""
    sales = orders[orders["kind"] == "sale"]

    def count(months: int) -> pd.Series:
        since = AS_OF - pd.DateOffset(months=months)
        return _per_customer(sales[sales["order_date"] > since].groupby("customer_id").size(), ids)

    year = orders[orders["order_date"] > AS_OF - pd.DateOffset(months=12)]
    return pd.DataFrame({
        "orders_24m": count(24),
        "orders_12m": count(12),
        "orders_6m": count(6),
        "spend_12m": _per_customer(year.groupby("customer_id")["amount"].sum(), ids),
    })


def test_order_counts_are_heavily_tied_at_small_values(orders: pd.DataFrame,
                                                       retail_customers: pd.DataFrame) -> None:
    ind = _retail_indicators(orders, retail_customers["customer_id"])
    counts = ind["orders_24m"].value_counts()
    share = counts / len(ind)
    # Negative-binomial counts: 1 order is the most common non-zero count, then 2, then 3.
    assert 0.12 < share[1] < 0.30
    assert counts[1] > counts[2] > counts[3] > counts[5]
    assert share[[1, 2, 3]].sum() > 0.3
    # Some customers never ordered, but not most of them.
    assert 0.05 < share[0] < 0.30
    # ...and a long tail of frequent buyers.
    assert ind["orders_24m"].max() >= 40


def test_spend_is_heavy_tailed(orders: pd.DataFrame) -> None:
    spend = orders[orders["kind"] == "sale"].groupby("customer_id")["amount"].sum()
    spend = spend.sort_values(ascending=False)
    top = spend.iloc[: len(spend) // 5].sum() / spend.sum()
    assert top > 0.5  # the top 20% of buyers bring more than half of the spend
    values = orders.loc[orders["kind"] == "sale", "amount"]
    assert values.quantile(0.99) > 5 * values.median()  # lognormal order values
    assert values.min() >= 5


def test_refunds_are_about_three_percent_and_negative(orders: pd.DataFrame) -> None:
    refunds = orders[orders["kind"] == "refund"]
    assert set(orders["kind"]) == {"sale", "refund"}
    assert 0.02 < len(refunds) / len(orders) < 0.04
    assert (refunds["amount"] < 0).all()
    assert (orders.loc[orders["kind"] == "sale", "amount"] > 0).all()
    # A refund never exceeds what its customer bought before it.
    bought = orders[orders["kind"] == "sale"].groupby("customer_id")["amount"].sum()
    returned = -refunds.groupby("customer_id")["amount"].sum()
    assert (returned <= bought.reindex(returned.index)).all()


def test_history_covers_two_years(orders: pd.DataFrame) -> None:
    first, last = orders["order_date"].min(), orders["order_date"].max()
    assert first >= AS_OF - pd.Timedelta(days=729)
    assert first <= AS_OF - pd.Timedelta(days=720)
    assert last >= AS_OF - pd.Timedelta(days=3)


def test_customers_churn(orders: pd.DataFrame, retail_customers: pd.DataFrame) -> None:
    ind = _retail_indicators(orders, retail_customers["customer_id"])
    # Bought in the first year but not in the last 12 months: customers lost along the way.
    lost = (ind["orders_24m"] > 0) & (ind["orders_12m"] == 0)
    assert lost.mean() > 0.1


def test_every_retail_value_tier_is_populated(orders: pd.DataFrame,
                                              retail_customers: pd.DataFrame) -> None:
    ind = _retail_indicators(orders, retail_customers["customer_id"])
    o12, s12, o6 = ind["orders_12m"], ind["spend_12m"], ind["orders_6m"]
    high = (o12 >= 10) & (s12 >= 10000)
    medium = (o12.between(5, 9) & s12.between(5000, 9999)) | ((o12 >= 10) & (s12 < 10000))
    low = o12.between(1, 4) & (s12 < 5000)
    churn = o6 == 0
    tier = np.select([high, medium, low, churn], ["high", "medium", "low", "churn_risk"],
                     "unclassified")
    sizes = pd.Series(tier).value_counts()
    # With the defaults: about 120 high, 380 medium, 1960 low, 1960 churn risk, 580 unclassified.
    assert 60 <= sizes["high"] <= 250
    assert sizes["medium"] >= 150
    assert sizes["low"] >= 1000
    assert sizes["churn_risk"] >= 1000
    assert sizes["unclassified"] >= 100
    # The overlap and the gaps the example's comments point at exist in the data.
    assert (high & churn).sum() >= 1
    assert (o12.between(5, 9) & (s12 >= 10000)).sum() >= 5
    assert (o12.between(1, 4) & (s12 >= 5000)).sum() >= 5


def test_retail_customers_look_real(retail_customers: pd.DataFrame) -> None:
    names = retail_customers["name"]
    latin = names.str.match(r"^[A-Za-zÀ-ÿ]+ [A-Za-zÀ-ÿ]+$")
    assert 0.05 < latin.mean() < 0.3  # mostly Chinese names, some Latin ones
    assert names[~latin].str.match(r"^[\u4e00-\u9fff]{2,3}$").all()
    assert {"上海", "北京", "深圳"} <= set(retail_customers["city"])
    assert set(retail_customers["channel"]) == {"web", "app", "store"}
    # Some signed up before the two years of orders, some during them.
    signup = retail_customers["signup_date"]
    assert 0.3 < (signup < "2024-07-01").mean() < 0.8


def test_bank_balances_are_month_end_snapshots(bank_dir: Path) -> None:
    balances = read(bank_dir, "balances.csv")
    days = pd.to_datetime(balances["balance_date"], format="%Y-%m-%d")
    assert days.dt.is_month_end.all()
    assert days.nunique() == 24
    assert days.max() == AS_OF
    per_customer = balances.groupby("customer_id").size()
    assert per_customer.max() == 24
    assert (per_customer < 24).sum() > 100  # accounts opened during the two years
    assert not balances.duplicated(["customer_id", "balance_date"]).any()


def test_bank_assets_are_heavy_tailed_with_empty_accounts(bank_dir: Path) -> None:
    balances = read(bank_dir, "balances.csv")
    for col in ("deposits", "investments", "loans"):
        balances[col] = balances[col].astype(float)
    assert (balances[["deposits", "investments", "loans"]] >= 0).all().all()
    recent = balances[balances["balance_date"] > "2026-04-01"]  # April, May, June
    aum = (recent["deposits"] + recent["investments"]).groupby(recent["customer_id"]).mean()
    assert 20 <= (aum >= 6_000_000).sum() <= 150  # high net worth: about 2%
    assert (aum >= 500_000).sum() >= 200
    assert (aum < 100).sum() >= 50  # near-empty accounts
    assert aum.max() > 100 * aum.median()
    assert (recent["investments"] == 0).mean() > 0.2  # many mass customers hold no investments
    assert (recent["loans"] > 0).mean() > 0.05


def test_bank_activity_varies_and_some_customers_are_dormant(bank_dir: Path) -> None:
    customers = read(bank_dir, "customers.csv")
    txns = read(bank_dir, "transactions.csv")
    when = pd.to_datetime(txns["txn_date"], format="%Y-%m-%d")
    ids = customers["customer_id"]
    last_6m = _per_customer(txns[when > AS_OF - pd.DateOffset(months=6)]
                            .groupby("customer_id").size(), ids)
    assert 0.1 < (last_6m == 0).mean() < 0.3  # dormant: no transaction in 6 months
    per_year = _per_customer(txns[when > AS_OF - pd.DateOffset(months=12)]
                             .groupby("customer_id").size(), ids)
    assert per_year.quantile(0.9) > 3 * max(per_year.median(), 1)
    assert set(txns["channel"]) == {"mobile", "online", "atm", "branch", "pos"}
    assert set(customers["segment"]) == {"mass", "affluent", "private"}
    birth = customers["birth_year"].astype(int)
    assert birth.between(1940, 2008).all()
    # Nobody opened an account before turning 18.
    assert (customers["open_date"].str[:4].astype(int) >= birth + 18).all()


def test_b2b_volume_is_concentrated_and_margins_vary(b2b_dir: Path) -> None:
    accounts = read(b2b_dir, "accounts.csv")
    invoices = read(b2b_dir, "invoices.csv")
    for col in ("revenue", "margin"):
        invoices[col] = invoices[col].astype(float)
    assert (invoices["margin"] <= invoices["revenue"]).all()
    year = invoices[invoices["invoice_date"] > "2025-06-30"]
    revenue = _per_customer(year.groupby("customer_id")["revenue"].sum(),
                            accounts["customer_id"]).sort_values(ascending=False)
    cumulative = revenue.cumsum() / revenue.sum()
    a_share = ((cumulative <= 0.8).sum() + 1) / len(revenue)
    assert 0.1 < a_share < 0.35  # a fifth of the accounts make 80% of the volume
    assert (revenue == 0).sum() > 10  # lost accounts: no invoice in the last year
    margin = year.groupby("customer_id")["margin"].sum()
    rate = margin / year.groupby("customer_id")["revenue"].sum()
    assert (rate < 0.06).mean() > 0.05  # a low-margin group
    assert rate.median() > 0.15


def test_b2b_accounts_and_referrals(b2b_dir: Path) -> None:
    accounts = read(b2b_dir, "accounts.csv")
    referrals = read(b2b_dir, "referrals.csv")
    assert accounts["company"].is_unique
    assert accounts["company"].str.endswith("有限公司").all()
    assert set(accounts["strategic_fit"].astype(int)) == {1, 2, 3, 4, 5}
    years = (AS_OF - pd.to_datetime(accounts["since_date"], format="%Y-%m-%d")).dt.days / 365.25
    assert years.min() < 1 and years.max() > 10
    per_account = referrals.groupby("customer_id").size()
    assert 0.1 < len(per_account) / len(accounts) < 0.5  # most accounts never refer anyone
    assert per_account.max() >= 2
    # A referral happens during the cooperation.
    since = accounts.set_index("customer_id")["since_date"]
    assert (referrals["referral_date"] >= since.reindex(referrals["customer_id"]).values).all()
