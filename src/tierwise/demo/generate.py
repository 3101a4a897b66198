"""Deterministic synthetic data for the example projects: retail, bank and B2B.

Every generator is seeded (numpy ``default_rng``), so the same arguments write byte-identical
files; the files are UTF-8 CSV with a header row, ISO dates (YYYY-MM-DD) and dot decimals with two
places. numpy and pyarrow are imported inside the functions, so importing this module is cheap.

The data is shaped for grading, not uniform noise: purchase counts are heavily tied at 1, 2 and 3,
spend is heavy tailed, customers churn, some never buy, and a few percent of order rows are
refunds with negative amounts. See the private modules for the models and their sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from tierwise.i18n import _

if TYPE_CHECKING:
    from tierwise.demo._systems import Systems

AS_OF = date(2026, 6, 30)
#: The retail demo's win-back email (``winback_email`` in examples/retail): its control group,
#: and the share of the other customers it reaches who buy again within the month. The demo
#: data plants this effect so that ``tierwise kpi value`` has an uplift to find.
WINBACK_ACTION = "winback_email"
WINBACK_HOLDOUT = 0.10
WINBACK_RESPONSE = 0.30


def graded_month_ends(as_of: date = AS_OF) -> list[date]:
    """The month ends the retail demo grades its value scheme on.

    Six month ends before ``as_of``'s month, then that month's end (those not after ``as_of``).
    """
    from dateutil.relativedelta import relativedelta

    first = date(as_of.year, as_of.month, 1) - relativedelta(months=6)
    ends = [first + relativedelta(months=k, day=31) for k in range(7)]
    return [d for d in ends if d <= as_of]


@dataclass(frozen=True)
class DirtyRow:
    """One deliberately broken row of the dirty retail data.

    Attributes:
        file: ``customers.csv`` or ``orders.csv``.
        row: 1-based data row (the header is not counted), as the data-quality report numbers
            rows.
        column: the broken column.
        value: the text written there.
        check: the data-quality check that must report it: ``unparseable``, ``duplicate_id``,
            ``unknown_customer``, ``negative`` or ``future_event``.

    """

    file: str
    row: int
    column: str
    value: str
    check: str


def write_retail(folder: Path, *, customers: int = 5000, as_of: date = AS_OF,
                 seed: int = 7) -> None:
    """Write a shop's customers and two years of orders.

    Files: ``customers.csv`` (customer_id ``C000001``..., name, city, channel, signup_date,
    email at example.com, language ``zh`` or ``en``) and ``orders.csv`` (order_id, customer_id,
    order_date, amount, kind), orders sorted by date. The orders include the planted effect of
    the demo's win-back email (:data:`WINBACK_RESPONSE` of the customers it reaches on the
    demo's month ends buy again within a month; its control group does not).
    ``kind`` is ``sale`` or ``refund``; refunds (about 3% of rows) have negative amounts and follow
    their sale by 1-20 days. No order is dated after ``as_of``. With the defaults about 18% of
    customers have no order at all and about 2% have at least 10 orders and 10,000 CNY net spend
    in the last 12 months.

    Args:
        folder: where to write; created if missing.
        customers: number of customers (at least 1).
        as_of: last day of the history.
        seed: random seed; the same seed gives the same files.

    """
    from tierwise.demo import _common, _retail

    cust, orders = _retail.build(customers, as_of=as_of, seed=seed)
    _common.write_csvs(Path(folder), {"customers.csv": cust, "orders.csv": orders})


def write_dirty_retail(folder: Path, *, customers: int = 5000, as_of: date = AS_OF,
                       seed: int = 7) -> list[DirtyRow]:
    """Write the retail data of :func:`write_retail` with one broken row per data-quality check.

    The breaks, at fixed early rows so the report is easy to follow: an amount ``12,5`` (decimal
    comma), an order date ``<as_of year>-02-30``, an order of the unknown customer ``C999999``, a
    sale with a negative amount, a sale dated 3 days after ``as_of`` (the last sale), and a
    customer id that appears twice in ``customers.csv`` (a second registration inserted right
    after the first; the check flags both rows). Every other row is as :func:`write_retail`
    writes it, except that ``customers.csv`` has the one extra row.

    Args:
        folder: where to write ``customers.csv`` and ``orders.csv``; created if missing.
        customers: number of customers (at least 50, so there are rows enough to break).
        as_of: last day of the clean history.
        seed: random seed.

    Returns:
        One :class:`DirtyRow` per break: file, 1-based data row (the header is not
        counted), column, value written, and the check that must report it.

    """
    from tierwise.demo import _retail

    if customers < 50:
        raise ValueError(_("the dirty retail data needs at least 50 customers, got {customers}").format(
            customers=customers))
    cust, orders = _retail.build(customers, as_of=as_of, seed=seed)
    cust_rows, order_rows, cases = _retail.dirty(cust, orders, as_of=as_of)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _retail.write_text(folder / "customers.csv", cust.column_names, cust_rows)
    _retail.write_text(folder / "orders.csv", orders.column_names, order_rows)
    return cases


def write_bank(folder: Path, *, customers: int = 3000, as_of: date = AS_OF,
               seed: int = 11) -> None:
    """Write a retail bank's customers, 24 month-end balances and two years of transactions.

    Files: ``customers.csv`` (customer_id ``B000001``..., name, segment mass / affluent / private,
    open_date, birth_year, and the KYC facts occupation, country, pep, sanction_tie and
    last_review, empty for 8%), ``arrears.csv`` (customer_id, arrears_date, days_past_due: the
    payment arrears of the last 12 months, planted on three facts a year earlier, see
    ``_bank.ARREARS_LOGIT``), ``balances.csv`` (customer_id, balance_date, deposits, investments,
    loans; one row per month end from the account's opening, the last on the last month end not
    after ``as_of``) and ``transactions.csv`` (customer_id, txn_date, amount, channel). Assets are
    heavy tailed (about 2% of customers hold 6 million CNY or more; 4% hold under 50), and about
    12% of customers stopped transacting 6-24 months ago (dormant).

    Args:
        folder: where to write; created if missing.
        customers: number of customers (at least 1).
        as_of: last day of the history.
        seed: random seed; the same seed gives the same files.

    """
    from tierwise.demo import _bank, _common

    cust, balances, transactions, arrears = _bank.build(customers, as_of=as_of, seed=seed)
    _common.write_csvs(Path(folder), {"customers.csv": cust, "balances.csv": balances,
                                      "transactions.csv": transactions,
                                      "arrears.csv": arrears})


def write_b2b(folder: Path, *, accounts: int = 600, as_of: date = AS_OF, seed: int = 13) -> None:
    """Write a supplier's business accounts, two years of invoices, and referrals.

    Files: ``accounts.csv`` (customer_id ``A0001``..., company, industry, since_date,
    strategic_fit 1-5, region), ``invoices.csv`` (invoice_id, customer_id, invoice_date, revenue,
    margin), ``referrals.csv`` (customer_id, referral_date, referred_company) and
    ``interactions.csv`` (interaction_id, customer_id, contact_date, kind call/email/visit/quote,
    stated_intent interested/hesitating/not_now or empty, expected_purchase or empty, owner;
    about a third of the accounts have an open deal). Account sizes
    are lognormal (about a fifth of the accounts make 80% of revenue), about 12% of accounts have a
    low margin rate (around 3%), and about 12% were lost during the two years.

    Args:
        folder: where to write; created if missing.
        accounts: number of accounts, 1 to 9999.
        as_of: last day of the history.
        seed: random seed; the same seed gives the same files.

    """
    from tierwise.demo import _b2b, _common

    acc, invoices, referrals = _b2b.build(accounts, as_of=as_of, seed=seed)
    contacts = _b2b.interactions(acc["region"].to_numpy(zero_copy_only=False), as_of=as_of,
                                 seed=seed)
    _common.write_csvs(Path(folder), {"accounts.csv": acc, "invoices.csv": invoices,
                                      "referrals.csv": referrals,
                                      "interactions.csv": contacts})


def write_linked(folder: Path, *, people: int = 2000, as_of: date = AS_OF,
                 seed: int = 7) -> Systems:
    """Write three systems' members and a year of their orders, with planted duplicates.

    Files: ``shop_members.csv``, ``app_users.csv``, ``store_members.csv`` (member_id, name,
    mobile, email, id_card, address, birth_date: one person written differently in each
    system) and ``shop_orders.csv``, ``app_orders.csv``, ``store_sales.csv`` (order_id,
    member_id, order_date, amount). Returns the tables with the planted truth (each record's
    person), against which linkage is scored.
    """
    from tierwise.demo import _systems

    return _systems.write_linked(Path(folder), people=people, as_of=as_of, seed=seed)

