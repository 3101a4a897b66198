"""Synthetic retail customers and orders, from a BG/NBD-like buy-till-you-die process.

Each customer buys at a personal Poisson rate drawn from a gamma distribution (the
heterogeneity that makes purchase counts negative-binomial, so most customers have 1, 2 or 3
orders and a few have dozens) and, after every purchase, drops out for good with a personal
probability drawn from a beta distribution (Fader, Hardie and Lee, "Counting your customers the
easy way", Marketing Science 24(2), 2005). Order values are lognormal around a personal mean that
is itself lognormal, as in the gamma-gamma spend model, with a mild positive link to the purchase
rate (frequent buyers of a shop tend to be its bigger spenders), so spend is heavy tailed.
"""

from __future__ import annotations

import csv
import itertools
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tierwise.demo._common import (
    CITIES,
    CITY_WEIGHTS,
    Ints,
    cents,
    dates,
    day,
    ids,
    money,
    person_names,
    pick,
    table,
)
from tierwise.demo.generate import DirtyRow, graded_month_ends

HISTORY_DAYS = 730  # two years of orders, ending at the as-of date
OLD_SHARE = 0.55  # customers who signed up before the history starts
OLD_STILL_BUYING = 0.82  # of those, the share not yet lost when the history starts
NEW_EVER_BUYING = 0.92  # new sign-ups who place a first order at all
RATE_SHAPE, RATE_SCALE, RATE_CAP = 0.9, 7.0, 60.0  # gamma purchase rate, orders per year
DROP_A, DROP_B = 0.7, 9.0  # beta dropout probability after each purchase (mean about 7%)
SPEND_MEDIAN, SPEND_SIGMA, ORDER_SIGMA = 320.0, 0.85, 0.5  # CNY, lognormal
SPEND_RATE_LINK = 0.45  # correlation of log mean order value with log purchase rate
REFUND_SHARE = 0.03  # of sales, refunded within 20 days
UNKNOWN_CUSTOMER = "C999999"


def customer_ids(count: int) -> Any:
    """``C000001``...; wider past 999998 customers, so ``C999999`` stays unknown."""
    if count < 1:
        raise ValueError(f"customers must be at least 1, got {count}")
    return ids("C", count, 6 if count < 999_999 else len(str(count)) + 1)


def build(count: int, *, as_of: date, seed: int) -> tuple[Any, Any]:
    """The customers and orders tables (Arrow), orders sorted by date."""
    rng = np.random.default_rng(seed)
    end = day(as_of)
    start = end - HISTORY_DAYS + 1

    old = rng.random(count) < OLD_SHARE
    age = np.where(old, rng.integers(HISTORY_DAYS, 7 * 365, count),
                   rng.integers(3, HISTORY_DAYS, count))
    signup = end - age
    names = person_names(rng, count, latin_share=0.15)
    customers = table({
        "customer_id": customer_ids(count),
        "name": names,
        "city": pick(rng, CITIES, count, CITY_WEIGHTS),
        "channel": pick(rng, ["app", "web", "store"], count, [0.5, 0.3, 0.2]),
        "signup_date": dates(signup),
    })
    customers = _contacts(customers)

    rate = np.minimum(rng.gamma(RATE_SHAPE, RATE_SCALE, count), RATE_CAP)
    drop = rng.beta(DROP_A, DROP_B, count)
    buys = rng.random(count) < np.where(old, OLD_STILL_BUYING, NEW_EVER_BUYING)
    # Customers known before the history are observed from its first day: by memorylessness their
    # next purchase is an exponential wait away. New customers buy first soon after signing up.
    first = np.where(old, start + rng.exponential(365.0 / rate),
                     signup + rng.exponential(8.0, count))
    cust, when = _purchases(rng, rate, drop, first, buys, end=end)

    log_rate = np.log(rate)
    z = (SPEND_RATE_LINK * (log_rate - log_rate.mean()) / log_rate.std()
         + np.sqrt(1 - SPEND_RATE_LINK**2) * rng.standard_normal(count))
    mean_value = SPEND_MEDIAN * np.exp(SPEND_SIGMA * z)
    value = mean_value[cust] * rng.lognormal(-ORDER_SIGMA**2 / 2, ORDER_SIGMA, cust.size)
    amount = cents(np.maximum(value, 5.0))

    refunded = np.flatnonzero(rng.random(cust.size) < REFUND_SHARE)
    full = rng.random(refunded.size) < 0.6
    part = np.where(full, 1.0, rng.uniform(0.2, 0.8, refunded.size))
    refund_amount = -np.round(amount[refunded] * part).astype(np.int64)
    refund_day = when[refunded] + rng.integers(1, 21, refunded.size)
    keep = refund_day <= end

    # The win-back email's effect, drawn apart so the rest of the data stays as it was.
    won = np.random.default_rng([seed, 1])
    back, back_day = _winback(customers["customer_id"].to_pylist(), cust, when,
                              graded_month_ends(as_of), won)
    back_amount = cents(np.maximum(mean_value[back] * won.lognormal(
        -ORDER_SIGMA**2 / 2, ORDER_SIGMA, back.size), 5.0))

    all_cust = np.concatenate([cust, cust[refunded][keep], back])
    all_day = np.concatenate([when, refund_day[keep], back_day])
    all_amount = np.concatenate([amount, refund_amount[keep], back_amount])
    is_refund = np.concatenate([np.zeros(cust.size, bool), np.ones(int(keep.sum()), bool),
                                np.zeros(back.size, bool)])
    order = np.lexsort((np.arange(all_cust.size), all_cust, all_day))
    orders = table({
        "order_id": ids("O", order.size, 7),
        "customer_id": pc.take(customers["customer_id"], pa.array(all_cust[order])),
        "order_date": dates(all_day[order]),
        "amount": money(all_amount[order]),
        "kind": np.where(is_refund[order], "refund", "sale"),
    })
    return customers, orders


def _contacts(customers: Any) -> Any:
    """Each customer's email address (at example.com) and language: English for a Latin name."""
    ids_ = customers["customer_id"].to_pylist()
    names = customers["name"].to_pylist()
    return customers.append_column("email", pa.array(
        [f"{c.lower()}@example.com" for c in ids_], pa.string())).append_column(
        "language", pa.array(["en" if n.isascii() else "zh" for n in names], pa.string()))


def _winback(ids_: list[str], cust: Ints, when: Ints, runs: list[date],
             rng: np.random.Generator) -> tuple[Ints, Ints]:
    """The win-back email's synthetic effect: (customer index, day) of the purchases it brings.

    On each graded month end but the last, the customers entering churn risk there (a sale
    before, none in the 12 months up to it; on the first run every such customer) and outside
    the email's control group (the same hash the action uses) buy again within the next month
    with probability ``WINBACK_RESPONSE``; the control group does not. Everything else about
    them is as the model drew it.
    """
    from dateutil.relativedelta import relativedelta

    from tierwise.demo.generate import WINBACK_ACTION, WINBACK_HOLDOUT, WINBACK_RESPONSE
    from tierwise.spec.actions import holdout_point

    reached = np.array([holdout_point(WINBACK_ACTION, c) >= WINBACK_HOLDOUT for c in ids_])
    who, days = cust, when
    extra: list[tuple[Ints, Ints]] = []
    before: Any = None
    for run, following in itertools.pairwise(runs):
        end, cut = day(run), day(run - relativedelta(months=12))
        last = np.full(len(ids_), np.iinfo(np.int64).min)
        upto = days <= end
        np.maximum.at(last, who[upto], days[upto])
        lapsed = (last > np.iinfo(np.int64).min) & (last <= cut)
        entering = lapsed if before is None else lapsed & ~before
        buyers = np.flatnonzero(entering & reached & (rng.random(len(ids_)) < WINBACK_RESPONSE))
        on = end + rng.integers(1, day(following) - end + 1, buyers.size)
        extra.append((buyers.astype(np.int64), on.astype(np.int64)))
        who, days = np.concatenate([who, buyers]), np.concatenate([days, on])
        before = lapsed
    if not extra:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return (np.concatenate([c for c, _ in extra]), np.concatenate([d for _, d in extra]))


def _purchases(rng: np.random.Generator, rate: Any, drop: Any, first: Any, buys: Any, *,
               end: int) -> tuple[Ints, Ints]:
    """Simulate every customer's purchases up to ``end``: (customer index, day) arrays.

    All customers advance one purchase per round, so the loop runs as many rounds as the busiest
    customer has purchases, each a few vector operations.
    """
    t = first.astype(np.float64)
    alive = buys & (t < end + 1)
    who: list[Ints] = []
    when: list[Ints] = []
    while alive.any():
        idx = np.flatnonzero(alive)
        who.append(idx)
        when.append(np.floor(t[idx]).astype(np.int64))
        alive &= rng.random(rate.size) >= drop  # dropout happens right after a purchase
        t = t + rng.exponential(365.0 / rate)
        alive &= t < end + 1
    if not who:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(who).astype(np.int64), np.concatenate(when)


# ------------------------------------------------------------------------------------ dirty copy


def dirty(customers: Any, orders: Any, *, as_of: date) -> tuple[list[list[str]], list[list[str]],
                                                                list[DirtyRow]]:
    """Text rows of both files with one broken row per data-quality check, and what was broken."""
    cust_rows = _text_rows(customers)
    order_rows = _text_rows(orders)
    col = {name: i for i, name in enumerate(orders.column_names)}
    sales = [i for i, row in enumerate(order_rows) if row[col["kind"]] == "sale"]
    # Fixed, early positions (from data row 18 on), so the report's rows are easy to look up.
    early = [i for i in sales if i >= 17][:4] or sales[:4]
    if len(early) < 4 or sales[-1] in early:
        raise ValueError(f"only {len(sales)} sales: too few to break five distinct rows; "
                         "generate more customers")
    cases: list[DirtyRow] = []

    def breaks(index: int, column: str, value: str, check: str) -> None:
        order_rows[index][col[column]] = value
        cases.append(DirtyRow("orders.csv", index + 1, column, value, check))

    breaks(early[0], "amount", "12,5", "unparseable")
    breaks(early[1], "order_date", f"{as_of.year}-02-30", "unparseable")
    breaks(early[2], "customer_id", UNKNOWN_CUSTOMER, "unknown_customer")
    breaks(early[3], "amount", "-" + order_rows[early[3]][col["amount"]], "negative")
    breaks(sales[-1], "order_date", (as_of + timedelta(days=3)).isoformat(), "future_event")

    # A customer registered twice (a second sign-up from another city), right after the first.
    at = min(5, len(cust_rows) - 1)
    twin = list(cust_rows[at])
    city = customers.column_names.index("city")
    twin[city] = "北京" if twin[city] != "北京" else "上海"
    cust_rows.insert(at + 1, twin)
    cases.insert(0, DirtyRow("customers.csv", at + 2, "customer_id", twin[0], "duplicate_id"))
    return cust_rows, order_rows, cases


def _text_rows(tbl: Any) -> list[list[str]]:
    columns = [pc.cast(tbl[name], pa.string()).to_pylist() for name in tbl.column_names]
    return [list(row) for row in zip(*columns, strict=True)]


def write_text(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """Write text rows as UTF-8 CSV, quoting only where needed (``"12,5"``)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
