"""Shared data and expected results for the compile tests on DuckDB and on Spark.

Five customers, as of 2026-01-31, with nulls in every column and zero / negative divisors. Rows in
each expected list follow ``id`` 1..5.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from typing import Any

import pyarrow as pa

AS_OF = datetime.date(2026, 1, 31)
D = datetime.date
T = datetime.datetime

CUSTOMERS = pa.table(
    {
        "id": pa.array([1, 2, 3, 4, 5], pa.int64()),
        "orders_12m": pa.array([12, 5, None, 0, 7], pa.int64()),
        "spend_12m": pa.array([15000.0, 7000.0, 300.0, 0.0, None], pa.float64()),
        "margin": pa.array([200.0, None, -50.0, 10.0, 5.0], pa.float64()),
        "revenue": pa.array([1000.0, 0.0, None, 4.0, -2.0], pa.float64()),
        "balance": pa.array(
            [Decimal("1000.50"), Decimal("0.00"), None, Decimal("-3.33"), Decimal("10.00")],
            pa.decimal128(18, 2),
        ),
        # Doubles just below a rounding tie: 1.005 is stored as 1.00499999999999989...
        "price": pa.array([1.005, 0.285, 2.675, -2.5, None], pa.float64()),
        "channel": pa.array(["web", "app", None, "store", "web"], pa.string()),
        "status": pa.array(["ok", "cancelled", None, "ok", "refund"], pa.string()),
        "is_vip": pa.array([True, False, None, False, True], pa.bool_()),
        "signup_date": pa.array(
            [D(2025, 1, 31), D(2024, 2, 29), None, D(2026, 1, 31), D(2020, 6, 15)], pa.date32()
        ),
        "last_order_at": pa.array(
            [T(2026, 1, 30, 23, 30), T(2025, 7, 4, 8), None, T(2026, 1, 31), T(2019, 12, 31, 12)],
            pa.timestamp("us"),
        ),
    }
)

# (expression, expected per row). SQL three-valued logic: null AND false is false, null AND true
# is null; comparisons with null are null.
CASES: list[tuple[str, list[Any]]] = [
    # 12>=10 and 15000>=10000; row 3: null and (300>=10000 = false) = false
    ("orders_12m >= 10 and spend_12m >= 10000", [True, False, False, False, False]),
    ("orders_12m between 5 and 9", [False, True, None, False, True]),
    # row 3: orders null and (false or 300 < 10000) = null and true = null; row 5: spend null
    (
        "orders_12m between 5 and 9 and (spend_12m between 5000 and 9999 or spend_12m < 10000)",
        [False, True, None, False, None],
    ),
    ("spend_12m not between 100 and 10000", [True, False, False, True, None]),
    ("channel in ('web', 'app')", [True, True, None, False, True]),
    ("channel not in ('web', 'app')", [False, False, None, True, False]),
    ("orders_12m in (0, 12)", [True, False, None, True, False]),
    ("not is_vip", [False, True, None, True, False]),
    ("status == 'refund'", [False, False, None, False, True]),
    # ok != cancelled and 15000 > 0; row 3: null and true = null; row 5: true and null = null
    ("status != 'cancelled' and spend_12m > 0", [True, False, None, False, None]),
    ("channel is null or spend_12m is not null", [True, True, True, True, False]),
    ("is_null(margin)", [False, True, False, False, False]),
    # 200/max(1000,1) = 0.2; 0/max(0,1) = 0; -50/greatest(null,1) = -50 (greatest skips nulls);
    # 10/max(4,1) = 2.5; 5/max(-2,1) = 5
    ("coalesce(margin, 0) / greatest(revenue, 1)", [0.2, 0.0, -50.0, 2.5, 5.0]),
    # 200/1000; null/0 -> null; -50/null -> null; 10/4; 5/-2
    ("margin / revenue", [0.2, None, None, 2.5, -2.5]),
    # 7000/0 is null, not an error or infinity
    ("spend_12m / revenue", [15.0, None, None, 0.0, None]),
    # b = 0 or null -> default -1; a null -> null
    ("div(spend_12m, revenue, -1)", [15.0, -1.0, -1.0, 0.0, None]),
    ("div(spend_12m, revenue)", [15.0, None, None, 0.0, None]),
    # division of whole numbers is true division: 12/8 = 1.5, 5/8 = 0.625, 7/8 = 0.875
    ("orders_12m / 8", [1.5, 0.625, None, 0.0, 0.875]),
    # 12 % 7 = 5; 5 % 0 -> null; 0 % -5 = 0; 7 % 2 = 1
    ("orders_12m % (orders_12m - 5)", [5, None, None, 0, 1]),
    # SQL remainder takes the sign of the dividend: -12 % 5 = -2 (Python would say 3)
    ("-orders_12m % 5", [-2, 0, None, 0, -2]),
    # -12 + 2*3 = -6; -5 + 6 = 1; 0 + 6 = 6; -7 + 6 = -1
    ("-orders_12m + 2 * 3", [-6, 1, None, 6, -1]),
    # 2025-01-31 + 365 = 2024-02-29 + 702 = 2020-06-15 + 2056 = 2026-01-31
    ("days_since(signup_date)", [365, 702, None, 0, 2056]),
    # calendar days: 2026-01-30 23:30 is 1 day before 2026-01-31; 2025-07-04 + 211;
    # 2019-12-31 + 2223
    ("days_since(last_order_at)", [1, 211, None, 0, 2223]),
    # 365 / 365.25 = 0.99931...; 702 / 365.25 = 1.92197...
    ("days_since(signup_date) / 365.25", [365 / 365.25, 702 / 365.25, None, 0.0, 2056 / 365.25]),
    # 2025-01-31 -> 2026-01-30 = 364; 2024-02-29 -> 2025-07-04 = 491;
    # 2020-06-15 -> 2019-12-31 = -167 (the time of day is dropped)
    ("days_between(signup_date, last_order_at)", [364, 491, None, 0, -167]),
    # 2025*100 + 1; 2024*100 + 7; 2026*100 + 1; 2020*100 + 12
    ("year(signup_date) * 100 + month(last_order_at)", [202501, 202407, None, 202601, 202012]),
    ("last_order_at >= date('2026-01-30')", [True, False, None, True, False]),
    (
        "least(signup_date, date('2025-01-01'))",
        [D(2025, 1, 1), D(2024, 2, 29), D(2025, 1, 1), D(2025, 1, 1), D(2020, 6, 15)],
    ),
    ("if(is_vip, 'vip', lower(channel))", ["vip", "app", None, "store", "vip"]),
    # 12 > 6 -> null; row 3: null > 6 is null, so the else branch (300)
    ("if(orders_12m > 6, null, spend_12m)", [None, 7000.0, 300.0, 0.0, None]),
    ("coalesce(channel, 'none')", ["web", "app", "none", "store", "web"]),
    ("upper(channel) == 'WEB' and length(channel) == 3", [True, False, None, False, True]),
    # 15000/7 = 2142.857.. -> 2142.86; 7000/7 = 1000; 300/7 = 42.857.. -> 42.86
    ("round(spend_12m / 7, 2)", [2142.86, 1000.0, 42.86, 0.0, None]),
    # 200/3 = 66.67 -> 67; -50/3 = -16.67 -> -17; 10/3 -> 3; 5/3 -> 2
    ("round(margin / 3)", [67, None, -17, 3, 2]),
    # floor + ceil: 66+67; -17 + -16; 3+4; 1+2
    ("floor(margin / 3) + ceil(margin / 3)", [133, None, -33, 7, 3]),
    ("abs(margin)", [200.0, None, 50.0, 10.0, 5.0]),
    # Doubles round x * 10^d (computed in doubles) half away from zero: 1.005 * 100 =
    # 100.49999999999999 -> 1.0; 0.285 * 100 = 28.499999999999996 -> 0.28; 2.675 * 100 = 267.5
    # -> 2.68; -2.5 has 1 digit already. (Spark alone would say 1.01 and 0.29.)
    ("round(price, 2)", [1.0, 0.28, 2.68, -2.5, None]),
    # 1.005 * 10 = 10.049999999999999 -> 10 -> 1.0; 0.285 * 10 = 2.8499999999999996 -> 3 -> 0.3;
    # 2.675 * 10 = 26.75 -> 27 -> 2.7
    ("round(price, 1)", [1.0, 0.3, 2.7, -2.5, None]),
    # a whole-number tie rounds away from zero: -2.5 -> -3
    ("round(price)", [1, 0, 3, -3, None]),
    # 0 digits is a whole number too (int64), as in ibis
    ("round(price, 0)", [1, 0, 3, -3, None]),
    # decimals round their exact value: 1000.50 -> 1000.5, -3.33 -> -3.3
    (
        "round(balance, 1)",
        [Decimal("1000.5"), Decimal("0.0"), None, Decimal("-3.3"), Decimal("10.0")],
    ),
    # decimal division is done in doubles: 1000.5/3 = 333.5; -3.33/3 = -1.11; 10/3 = 3.333..
    ("balance / 3", [333.5, 0.0, None, -3.33 / 3, 10 / 3]),
    # 1000.5/12 = 83.375; 0/5; -3.33/0 -> null; 10/7
    ("balance / orders_12m", [83.375, 0.0, None, None, 10 / 7]),
    # a decimal literal is a double: 12 * 0.1 / 3 = 0.4000000000000001 (not a 6-place decimal)
    ("orders_12m * 0.1 / 3", [12 * 0.1 / 3, 5 * 0.1 / 3, None, 0.0, 7 * 0.1 / 3]),
    ("price * 2.5", [1.005 * 2.5, 0.285 * 2.5, 2.675 * 2.5, -6.25, None]),
    # roots and logarithms out of range give null, not an error or NaN
    ("sqrt(margin)", [math.sqrt(200), None, None, math.sqrt(10), math.sqrt(5)]),
    ("ln(revenue)", [math.log(1000), None, None, math.log(4), None]),
    ("log10(revenue)", [3.0, None, None, math.log10(4), None]),
    # a quote inside text stays text: no row has this channel, and nothing else runs
    ("channel == 'x''; drop table t; --'", [False, False, None, False, False]),
    ("1 + 2", [3, 3, 3, 3, 3]),
    # Arguments too large to repeat are bound once through a one-element list (compile.py);
    # the results are those the repeating compiler gave. Directly nested calls share one list:
    # 1.005 -> 1.005 -> 1.0 -> 1.0; 0.285 -> 0.285 -> 0.28 -> 0.3 (2.8000000000000003 + 0.5);
    # 2.675 -> 2.675 -> 2.68 -> 2.7
    ("round(round(round(price, 3), 2), 1)", [1.0, 0.3, 2.7, -2.5, None]),
    # 1.0*3 = 3.0; 0.28*3 = 0.84 -> 0.8; 2.68*3 = 8.04 -> 8.0; -2.5*3 = -7.5
    ("round(round(price, 2) * 3, 1)", [3.0, 0.8, 8.0, -7.5, None]),
    # divisors 200-10 = 190, null, -60, 0, -5: 15000/190; null -> -1; 300/-60; 0 -> -1; a null
    ("div(spend_12m, round(margin, 1) - 10, -1)", [15000 / 190, -1.0, -5.0, -1.0, None]),
    ("div(spend_12m, round(margin, 1) - 10)", [15000 / 190, None, -5.0, None, None]),
    ("1 / (round(margin, 1) - 10)", [1 / 190, None, -1 / 60, None, -0.2]),
    # 12 % 190 = 12; 0 % 0 -> null; 7 % -5 = 2 (the sign of the dividend)
    ("orders_12m % (round(margin, 1) - 10)", [12.0, None, None, None, 2.0]),
    # 1000-3 = 997; 0-3 < 0 -> null; 4-3 = 1 -> 0; -2-3 < 0 -> null
    ("ln(round(revenue, 1) - 3)", [math.log(997), None, None, 0.0, None]),
    ("log10(round(revenue, 1) * 10)", [4.0, None, None, math.log10(40), None]),
    ("sqrt(round(margin, 1) - 10)", [math.sqrt(190), None, None, 0.0, None]),
    ("sqrt(sqrt(round(margin, 1)))", [200**0.25, None, None, 10**0.25, 5**0.25]),
    # balance / (orders - 5) * 3, default 0: 1000.5/7*3 = 428.79; 0/0 -> 0; null divisor -> 0;
    # -3.33/-5*3 = 1.998 -> 2.0; 10/2*3 = 15
    ("round(div(balance, orders_12m - 5, 0) * 3, 2)", [428.79, 0.0, 0.0, 2.0, 15.0]),
]


def same(left: Any, right: Any) -> bool:
    """Equal, with floats compared to 12 significant digits (engines differ in the last bit)."""
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-12, abs_tol=1e-12)
    return bool(left == right) and type(left) is type(right)
