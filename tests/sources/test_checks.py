"""Bad input, one case per test: the message says what, where, the value seen and the fix, and a
failed run writes nothing. Row numbers are data rows: row 1 is the first line after the header."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.sources.shop import CUSTOMERS, GRADES, ORDERS, YAML, features, run_fails, shop, tiers
from tierwise.engine import connect
from tierwise.errors import DataError
from tierwise.services.grading import Project, check, load_inputs, run
from tierwise.sources.checks import QualityReport

AS_OF = date(2026, 6, 30)


def test_clean_shop_grades_as_computed_by_hand(tmp_path: Path) -> None:
    result = run(Project.open(shop(tmp_path)), "value")
    assert tiers(result) == GRADES
    values = features(result)
    assert values["c1"] == {"orders_12m": 2, "spend_12m": 130.0}  # 80 + 50
    assert values["c2"] == {"orders_12m": 1, "spend_12m": 20.0}  # 30 - 10 (refund)
    assert result.quality.ok and result.quality.findings == []
    assert result.quality.rows == {"customers": 3, "transactions": 5}
    assert result.quality.dropped == {}


# ------------------------------------------------------------------------------------- columns


def test_missing_column_lists_the_columns_found(tmp_path: Path) -> None:
    orders = "\n".join(line.rsplit(",", 1)[0] for line in ORDERS.strip().splitlines())
    error = run_fails(shop(tmp_path, orders=orders))
    message = str(error)
    assert "orders.csv: missing column(s) 'kind' for kind;" in message
    assert "the columns there are order_id, customer_id, order_date, amount" in message
    assert "did you mean" not in message  # nothing in the file is close to "kind"


def test_misnamed_column_in_the_file_suggests_the_close_match(tmp_path: Path) -> None:
    error = run_fails(shop(tmp_path, orders=ORDERS.replace(",amount,", ",amout,")))
    assert "orders.csv: missing column(s) 'amount' for amount (did you mean 'amout'? " in str(error)
    assert "set `from: amout`" in str(error)


def test_misnamed_column_in_the_spec_suggests_the_close_match(tmp_path: Path) -> None:
    yaml = YAML.replace("amount: {type: float,", "amount: {from: amnt, type: float,")
    error = run_fails(shop(tmp_path, yaml=yaml))
    assert "orders.csv: missing column(s) 'amnt' for amount (did you mean 'amount'? " in str(error)
    assert "set `from: amount`" in str(error)


# ---------------------------------------------------------------------------------------- values


def test_unparseable_number_names_row_value_and_decimal_setting(tmp_path: Path) -> None:
    orders = ORDERS.replace("o3,c2,2026-02-11,30.00", 'o3,c2,2026-02-11,"12,5"')
    error = run_fails(shop(tmp_path, orders=orders))
    assert str(error).splitlines()[1] == (
        "orders.csv: amount: values that are not a valid float; use a dot as decimal separator "
        '(or set sources.transactions.decimal: ",") and no thousands separators or currency '
        "signs (1 row)"
    )
    assert "    row 3: amount '12,5' is not a valid float" in str(error).splitlines()
    assert isinstance(error.report, QualityReport)
    assert [f.check for f in error.report.errors] == ["unparseable"]


def test_decimal_comma_setting_parses_12_5(tmp_path: Path) -> None:
    yaml = YAML.replace("    refunds:", '    decimal: ","\n    delimiter: ";"\n    refunds:', 1)
    orders = ORDERS.replace(",", ";").replace(".", ",")  # 80,00 50,00 30,00 -10,00 500,00
    orders = orders.replace("30,00", "12,5").replace("80,00", "1.080,00")
    result = run(Project.open(shop(tmp_path, yaml=yaml, orders=orders)), "value")
    values = features(result)
    assert values["c2"]["spend_12m"] == pytest.approx(2.5)  # 12.5 - 10
    assert values["c1"]["spend_12m"] == pytest.approx(1130.0)  # 1080 ("1.080,00") + 50


def test_decimal_comma_setting_rejects_a_dot_decimal_instead_of_reading_125(
    tmp_path: Path,
) -> None:
    yaml = YAML.replace("    refunds:", '    decimal: ","\n    delimiter: ";"\n    refunds:', 1)
    orders = ORDERS.replace(",", ";").replace(".", ",").replace("80,00", "12.5")
    error = run_fails(shop(tmp_path, yaml=yaml, orders=orders))
    assert "orders.csv: amount: values that are not a valid float; " in str(error)
    assert 'sources.transactions.decimal is ","' in str(error)
    assert "    row 1: amount '12.5' is not a valid float" in str(error)


def test_unparseable_date_names_row_and_format_setting(tmp_path: Path) -> None:
    orders = ORDERS.replace("o4,c2,2026-02-20", "o4,c2,2026-02-30")
    error = run_fails(shop(tmp_path, orders=orders))
    message = str(error)
    assert (
        "orders.csv: order_date: values that are not a valid date; write dates as YYYY-MM-DD or "
        'set sources.transactions.columns.order_date.format (e.g. "%d/%m/%Y") (1 row)'
    ) in message
    assert "    row 4: order_date '2026-02-30' is not a valid date" in message.splitlines()


def test_date_format_setting_parses_day_first_dates(tmp_path: Path) -> None:
    yaml = YAML.replace("order_date: {type: date}", 'order_date: {type: date, format: "%d/%m/%Y"}')
    orders = ORDERS.replace("2026-01-05", "05/01/2026").replace("2026-03-10", "10/03/2026")
    orders = orders.replace("2026-02-11", "11/02/2026").replace("2026-02-20", "20/02/2026")
    error = run_fails(shop(tmp_path, yaml=yaml, orders=orders))  # o5 is still ISO
    assert "    row 5: order_date '2025-03-01' is not a valid date" in str(error).splitlines()
    orders = orders.replace("2025-03-01", "01/03/2025")
    assert tiers(run(Project.open(shop(tmp_path, yaml=yaml, orders=orders)), "value")) == GRADES


# ------------------------------------------------------------------------------------ integrity


def test_duplicate_customer_ids_show_every_row(tmp_path: Path) -> None:
    error = run_fails(shop(tmp_path, customers=CUSTOMERS + "c1,Ann again,2025-01-01\n"))
    lines = str(error).splitlines()
    assert lines[1] == (
        "customers.csv: customer_id: the same customer id on several rows; merge the rows or "
        "give each customer its own id (2 rows)"
    )
    assert lines[2:4] == [
        "    row 1: customer_id 'c1' appears more than once",
        "    row 4: customer_id 'c1' appears more than once",
    ]


def test_transactions_of_unknown_customers(tmp_path: Path) -> None:
    error = run_fails(shop(tmp_path, orders=ORDERS + "o6,c9,2026-04-01,15.00,sale\n"))
    message = str(error)
    assert (
        "orders.csv: customer_id: rows of customers missing from the customers source; add "
        "those customers or remove the rows (1 row)"
    ) in message
    assert "    row 6: customer_id 'c9' is not in customers" in message.splitlines()


def test_unknown_customers_count_their_rows(tmp_path: Path) -> None:
    # Found in the join of the customers to the per-customer aggregate: c9's rows, not c9.
    orders = ORDERS + "o6,c9,2026-04-01,15.00,sale\no7,c9,2026-04-02,5.00,sale\n"
    error = run_fails(shop(tmp_path, orders=orders + "o8,c8,2024-01-01,1.00,sale\n"))
    assert isinstance(error.report, QualityReport)
    found = {(f.source, f.check): f.count for f in error.report.findings}
    assert found == {("transactions", "unknown_customer"): 3}
    assert error.report.rows == {"customers": 3, "transactions": 8}


def test_orders_without_a_customer_id_grade_no_extra_customer(tmp_path: Path) -> None:
    # An optional customer id: rows without one are no unknown customer and no customer at all.
    yaml = YAML.replace("      customer_id: {type: string}\n      order_date",
                        "      customer_id: {type: string, required: false}\n      order_date")
    assert yaml != YAML
    result = run(Project.open(shop(tmp_path, yaml=yaml,
                                   orders=ORDERS + "o6,,2026-04-01,15.00,sale\n")), "value")
    assert tiers(result) == GRADES
    assert result.quality.ok and result.quality.rows == {"customers": 3, "transactions": 6}
    assert features(result)["c1"] == {"orders_12m": 2, "spend_12m": 130.0}


def test_unknown_customers_are_found_even_when_a_customer_id_is_empty(tmp_path: Path) -> None:
    # SQL's NOT IN over a list holding a null is never true; the empty id must not hide c9.
    folder = shop(
        tmp_path,
        customers=CUSTOMERS + ",Nobody,2024-01-01\n",
        orders=ORDERS + "o6,c9,2026-04-01,15.00,sale\n",
    )
    report = check(Project.open(folder))
    found = {(f.source, f.check): f.count for f in report.findings}
    assert found == {("customers", "missing"): 1, ("transactions", "unknown_customer"): 1}


def test_negative_sale_is_an_error(tmp_path: Path) -> None:
    error = run_fails(
        shop(tmp_path, orders=ORDERS.replace("o3,c2,2026-02-11,30.00", "o3,c2,2026-02-11,-30.00"))
    )
    message = str(error)
    assert (
        "orders.csv: amount: negative values that are not declared refunds; declare refund rows "
        "with sources.transactions.refunds (e.g. \"kind == 'refund'\") or correct the amounts "
        "(1 row)"
    ) in message
    assert "    row 3: amount '-30.00' is negative" in message.splitlines()


def test_negative_refund_is_allowed_only_when_refunds_are_declared(tmp_path: Path) -> None:
    # The shop's o4 is a refund of -10: fine with `refunds:` (the clean run shows it) ...
    assert tiers(run(Project.open(shop(tmp_path / "declared")), "value")) == GRADES
    # ... an error without it.
    yaml = YAML.replace("    refunds: \"kind == 'refund'\"\n", "")
    error = run_fails(shop(tmp_path / "undeclared", yaml=yaml))
    assert "    row 4: amount '-10.00' is negative" in str(error).splitlines()


def test_events_after_the_as_of_date_are_an_error_by_default(tmp_path: Path) -> None:
    error = run_fails(shop(tmp_path, orders=ORDERS + "o6,c3,2026-07-01,5000.00,sale\n"))
    message = str(error)
    assert (
        "orders.csv: order_date: events after the as-of date 2026-06-30; fix the dates, or set "
        "sources.transactions.future_events: ignore to grade a past date from a later extract "
        "(1 row)"
    ) in message
    assert "    row 6: order_date 2026-07-01 is after the as-of date 2026-06-30" in message


def test_future_events_ignore_excludes_them_and_reports_info(tmp_path: Path) -> None:
    yaml = YAML.replace("    refunds:", "    future_events: ignore\n    refunds:", 1)
    folder = shop(tmp_path, yaml=yaml, orders=ORDERS + "o6,c3,2026-07-01,5000.00,sale\n")
    result = run(Project.open(folder), "value")
    assert tiers(result) == GRADES  # c3's 5000 on 2026-07-01 would make c3 high
    assert features(result)["c3"] == {"orders_12m": 0, "spend_12m": 0.0}
    quality = result.quality
    assert quality.ok and quality.dropped == {}
    [finding] = quality.findings
    assert (finding.check, finding.severity, finding.count) == ("future_event", "info", 1)
    assert finding.samples == ("row 6: order_date 2026-07-01 is after the as-of date 2026-06-30",)
    # The clean table handed to the indicators no longer holds the row.
    engine = connect()
    try:
        tables, _ = load_inputs(Project.open(folder), engine, as_of=AS_OF)
        assert engine.execute(tables["transactions"].count()) == 5
    finally:
        engine.close()


# ------------------------------------------------------------------------------- empty, missing


def test_file_with_only_a_header(tmp_path: Path) -> None:
    orders = ORDERS.strip().splitlines()[0] + "\n"
    folder = shop(tmp_path, orders=orders)
    lines = str(run_fails(folder)).splitlines()
    assert lines[1] == "orders.csv: the source has no rows; check the path or the export"
    assert "--drop-bad-rows" not in lines[-1]
    # There are no bad rows to drop: dropping does not turn an empty export into a run.
    error = run_fails(folder, drop_bad_rows=True)
    assert str(error).splitlines()[-1] == (
        "Fix the data; dropping bad rows does not help a source without rows."
    )


def test_zero_byte_file(tmp_path: Path) -> None:
    folder = shop(tmp_path, orders=None)
    (folder / "orders.csv").write_bytes(b"")
    error = run_fails(folder)
    assert str(error) == (
        "orders.csv: the file is empty (no header row); export it again with a header naming "
        "the columns"
    )


def test_missing_file_names_the_source_and_the_setting(tmp_path: Path) -> None:
    error = run_fails(shop(tmp_path, orders=None))
    assert str(error) == (
        f"source 'transactions': file {tmp_path / 'orders.csv'} does not exist; fix "
        "`sources.transactions.path` (relative paths start at the project folder)"
    )


def test_required_column_with_empty_values_says_how_to_make_it_optional(tmp_path: Path) -> None:
    customers = CUSTOMERS.replace("c2,Bob,", "c2,,")
    error = run_fails(shop(tmp_path, customers=customers))
    assert (
        "customers.csv: name: empty values; fill them in or set "
        "sources.customers.columns.name.required: false (1 row)"
    ) in str(error)
    assert "    row 2: name is empty" in str(error).splitlines()
    # Following the advice makes the run pass.
    yaml = YAML.replace("name: {type: string}", "name: {type: string, required: false}")
    result = run(Project.open(shop(tmp_path, yaml=yaml, customers=customers)), "value")
    assert tiers(result) == GRADES


# ---------------------------------------------------------------------------------- drop bad rows

# Each row-level case above, run with drop_bad_rows: (customers, orders, dropped, grades).
DROP_CASES = {
    "unparseable number": (
        CUSTOMERS,
        ORDERS.replace("o3,c2,2026-02-11,30.00", 'o3,c2,2026-02-11,"12,5"'),
        {"transactions": 1},
        {**GRADES, "c2": "other"},  # c2 keeps only the -10 refund: no sale, spend -10
    ),
    "unparseable date": (
        CUSTOMERS,
        ORDERS.replace("o4,c2,2026-02-20", "o4,c2,2026-02-30"),
        {"transactions": 1},
        GRADES,  # c2 loses the refund: 1 sale, spend 30 -> still mid
    ),
    "duplicate id": (
        CUSTOMERS + "c1,Ann again,2025-01-01\n",
        ORDERS,
        {"customers": 2, "transactions": 2},  # both c1 rows, then c1's two orders (now unknown)
        {"c2": "mid", "c3": "other"},
    ),
    "unknown customer": (
        CUSTOMERS,
        ORDERS + "o6,c9,2026-04-01,15.00,sale\n",
        {"transactions": 1},
        GRADES,
    ),
    "negative sale": (
        CUSTOMERS,
        ORDERS.replace("o3,c2,2026-02-11,30.00", "o3,c2,2026-02-11,-30.00"),
        {"transactions": 1},
        {**GRADES, "c2": "other"},  # as for the unparseable number
    ),
    "future event": (
        CUSTOMERS,
        ORDERS + "o6,c3,2026-07-01,5000.00,sale\n",
        {"transactions": 1},
        GRADES,
    ),
    "empty required value": (
        CUSTOMERS.replace("c2,Bob,", "c2,,"),
        ORDERS,
        {"customers": 1, "transactions": 2},  # c2, then c2's two orders (now unknown)
        {"c1": "high", "c3": "other"},
    ),
}


@pytest.mark.parametrize("case", DROP_CASES)
def test_drop_bad_rows_grades_without_the_bad_rows(tmp_path: Path, case: str) -> None:
    customers, orders, dropped, grades = DROP_CASES[case]
    folder = shop(tmp_path, customers=customers, orders=orders)
    run_fails(folder)
    result = run(Project.open(folder), "value", drop_bad_rows=True)
    assert result.quality.dropped == dropped
    assert tiers(result) == grades
    assert not result.quality.ok  # the report still lists what was wrong


BAD_ORDERS = ORDERS + (
    'o6,c1,2026-04-01,"12,5",sale\n'  # row 6: unparseable amount
    "o7,c2,2026-04-02,-99.00,sale\n"  # row 7: negative sale
    "o8,c9,2026-04-03,15.00,sale\n"  # row 8: unknown customer
)


def test_drop_bad_rows_grades_without_them_and_counts_them(tmp_path: Path) -> None:
    folder = shop(tmp_path, orders=BAD_ORDERS, customers=CUSTOMERS + "c4,Dee,2026-02-31\n")
    error = run_fails(folder)
    assert isinstance(error.report, QualityReport)
    assert len(error.report.errors) == 4
    result = run(Project.open(folder), "value", drop_bad_rows=True)
    assert result.quality.dropped == {"customers": 1, "transactions": 3}
    assert tiers(result) == GRADES  # c4 (bad signup date) is dropped, not graded
    # The bad rows are not in the indicators: c1 keeps 80 + 50, c2 keeps 30 - 10.
    values = features(result)
    assert values["c1"] == {"orders_12m": 2, "spend_12m": 130.0}
    assert values["c2"] == {"orders_12m": 1, "spend_12m": 20.0}
    assert (tmp_path / "output" / "value" / "2026-06-30" / "grades.parquet").exists()


def test_drop_bad_rows_keeps_rows_a_check_cannot_judge(tmp_path: Path) -> None:
    # An empty optional amount is neither negative nor fine; "negative" is null there, and
    # filtering on "not bad" must not drop the row unseen (it would vanish from orders_12m).
    yaml = YAML.replace("nonnegative: true}", "nonnegative: true, required: false}")
    orders = ORDERS + "o6,c2,2026-04-01,,sale\no7,c2,2026-04-02,-99.00,sale\n"
    result = run(
        Project.open(shop(tmp_path, yaml=yaml, orders=orders)), "value", drop_bad_rows=True
    )
    assert result.quality.dropped == {"transactions": 1}  # o7 only
    assert features(result)["c2"] == {"orders_12m": 2, "spend_12m": 20.0}  # o3 and o6; 30 - 10


def test_drop_bad_rows_does_not_count_ignored_future_events(tmp_path: Path) -> None:
    yaml = YAML.replace("    refunds:", "    future_events: ignore\n    refunds:", 1)
    orders = ORDERS + "o6,c3,2026-07-01,5000.00,sale\no7,c2,2026-04-02,-99.00,sale\n"
    result = run(
        Project.open(shop(tmp_path, yaml=yaml, orders=orders)), "value", drop_bad_rows=True
    )
    assert result.quality.dropped == {"transactions": 1}  # o7; o6 is ignored, not a bad row
    assert {(f.check, f.severity) for f in result.quality.findings} == {
        ("negative", "error"),
        ("future_event", "info"),
    }
    assert tiers(result) == GRADES


# ------------------------------------------------------------------------------------ the report


def test_check_returns_counts_and_samples_instead_of_raising(tmp_path: Path) -> None:
    folder = shop(
        tmp_path,
        customers=CUSTOMERS + "c1,Ann again,2025-01-01\n",
        orders=BAD_ORDERS + "o9,c3,2026-04-04,oops,sale\n",
    )
    report = check(Project.open(folder))
    assert not report.ok
    assert report.rows == {"customers": 4, "transactions": 9}
    found = {(f.source, f.check, f.column): (f.count, f.samples) for f in report.findings}
    assert found == {
        ("customers", "duplicate_id", "customer_id"): (
            2,
            (
                "row 1: customer_id 'c1' appears more than once",
                "row 4: customer_id 'c1' appears more than once",
            ),
        ),
        ("transactions", "unparseable", "amount"): (
            2,
            (
                "row 6: amount '12,5' is not a valid float",
                "row 9: amount 'oops' is not a valid float",
            ),
        ),
        ("transactions", "negative", "amount"): (1, ("row 7: amount '-99.00' is negative",)),
        ("transactions", "unknown_customer", "customer_id"): (
            1,
            ("row 8: customer_id 'c9' is not in customers",),
        ),
    }
    assert report.encodings == {"customers": "utf-8", "transactions": "utf-8"}
    assert not (tmp_path / "output").exists()


def test_check_shows_at_most_five_samples_but_counts_all(tmp_path: Path) -> None:
    extra = "".join(f"x{i},c1,2026-04-01,n/a,sale\n" for i in range(8))  # rows 6..13
    report = check(Project.open(shop(tmp_path, orders=ORDERS + extra)))
    [finding] = report.findings
    assert finding.count == 8
    assert finding.samples == tuple(
        f"row {n}: amount 'n/a' is not a valid float" for n in range(6, 11)
    )


def test_check_of_clean_data_is_ok(tmp_path: Path) -> None:
    report = check(Project.open(shop(tmp_path)))
    assert report.ok and report.findings == []
    assert report.rows == {"customers": 3, "transactions": 5}


def test_check_still_raises_when_a_source_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"file .*orders\.csv does not exist"):
        check(Project.open(shop(tmp_path, orders=None)))


def test_bool_columns_read_the_usual_spellings() -> None:
    import ibis

    from tierwise.sources.read import cast_column
    from tierwise.spec.models import ColumnSpec

    words = ["true", "False", " yes ", "N", "1", "0", "", "maybe"]
    table = ibis.memtable({"v": words})
    out = ibis.duckdb.connect().execute(
        table.select(b=cast_column(table.v, ColumnSpec(type="bool"))))
    assert out.b.tolist()[:6] == [True, False, True, False, True, False]
    assert out.b.isna().tolist()[6:] == [True, True]  # empty and unreadable: no value
