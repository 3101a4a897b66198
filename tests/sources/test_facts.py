"""Checks a Parquet footer rules out are not evaluated on the rows; the others still are."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sources.shop import GRADES, YAML, run_fails, shop, tiers
from tests.sources.test_databases import ORDER_ROWS, PARQUET_YAML, _parquet
from tierwise.engine import connect
from tierwise.errors import DataError
from tierwise.services.grading import Project, run
from tierwise.sources.facts import ColumnFacts, parquet_facts
from tierwise.sources.flags import row_flags
from tierwise.sources.read import load_source

AS_OF = date(2026, 6, 30)


def _write(path: Path, columns: dict[str, pa.Array], **options: object) -> Path:
    pq.write_table(pa.table(columns), path, row_group_size=2, **options)
    return path


def test_footer_facts_cover_every_row_group(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "t.parquet",
        {
            "id": pa.array(["a", "b", None, "d", "e"]),
            "amount": pa.array([5.0, -2.5, 7.0, None, 1.0]),
            # the second row group (rows 3-4) is all null: it states no bounds, the others do
            "day": pa.array([date(2026, 1, 1), date(2026, 2, 1), None, None,
                             date(2026, 3, 1)], pa.date32()),
        },
    )
    facts = parquet_facts(path, {"customer_id": "id", "amount": "amount", "when": "day",
                                 "gone": "missing"})
    assert facts["customer_id"].nulls == 1 and not facts["customer_id"].no_nulls()
    assert facts["amount"] == ColumnFacts(1, -2.5, 7.0)
    # each row group's days come after the one before (the all-null group states nothing)
    assert facts["when"] == ColumnFacts(2, date(2026, 1, 1), date(2026, 3, 1), ascending=True)
    assert "gone" not in facts
    assert not facts["amount"].never_below(0) and facts["amount"].never_below(-2.5)
    assert facts["when"].never_after(date(2026, 3, 1))
    assert not facts["when"].never_after(date(2026, 2, 28))


def test_a_footer_without_statistics_proves_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.parquet", {"amount": pa.array([1.0, 2.0, 3.0])},
                  write_statistics=False)
    assert parquet_facts(path, {"amount": "amount"}) == {}
    assert parquet_facts(tmp_path / "nothing.parquet", {"amount": "amount"}) == {}


def test_timestamps_compare_as_whole_days_and_only_when_naive(tmp_path: Path) -> None:
    on_the_day = ColumnFacts(0, datetime(2026, 1, 1), datetime(2026, 6, 30, 15, 0))
    next_day = ColumnFacts(0, datetime(2026, 1, 1), datetime(2026, 7, 1, 0, 0))
    aware = ColumnFacts(0, None, datetime(2026, 1, 1, tzinfo=UTC))
    end = datetime(2026, 7, 1)  # the exclusive end of the as-of date
    assert on_the_day.never_after(end)
    assert not next_day.never_after(end)
    assert not aware.never_after(end)
    assert not ColumnFacts(0, None, datetime(2026, 6, 1)).never_after(date(2026, 6, 30))
    assert not ColumnFacts(0, "a", "z").never_below(0)


def _ruled_out(folder: Path) -> set[str]:
    project = Project.open(folder)
    engine = connect()
    try:
        source = load_source("transactions", project.spec.sources["transactions"], engine,
                             base=project.root)
        return {f"{f.check}:{f.column}" for f in row_flags(source, as_of=AS_OF, customer_ids=None)
                if f.ruled_out}
    finally:
        engine.close()


def test_clean_parquet_rules_out_nulls_and_future_dates_but_not_refund_signs(
    tmp_path: Path,
) -> None:
    folder = _parquet(shop(tmp_path, yaml=PARQUET_YAML, orders=None), ORDER_ROWS)
    # the refund's -10 leaves the negative check to the rows
    assert _ruled_out(folder) == {
        "missing:order_id", "missing:customer_id", "missing:order_date", "missing:amount",
        "missing:kind", "future_event:order_date",
    }
    assert tiers(run(Project.open(folder), "value")) == GRADES


def test_a_cast_column_gets_no_facts(tmp_path: Path) -> None:
    yaml = PARQUET_YAML.replace("amount: {type: float,", "amount: {type: int,")
    folder = _parquet(shop(tmp_path, yaml=yaml, orders=None),
                      [r for r in ORDER_ROWS if r[3] >= 0])
    # a double read as an integer can fail the cast: its nulls are not the file's nulls
    assert "missing:amount" not in _ruled_out(folder)
    assert "negative:amount" not in _ruled_out(folder)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("o2", "c1", "2026-07-02", 50.0, "sale"), "order_date: events after the as-of date"),
        (("o2", "c1", "2026-03-10", -50.0, "sale"), "amount: negative values that are not"),
        (("o2", None, "2026-03-10", 50.0, "sale"), "customer_id: empty values"),
    ],
)
def test_problems_the_footer_shows_are_still_found_on_the_rows(
    tmp_path: Path, change: tuple[object, ...], expected: str
) -> None:
    rows = [*ORDER_ROWS]
    rows[1] = change  # type: ignore[assignment]
    folder = _parquet(shop(tmp_path, yaml=PARQUET_YAML, orders=None), rows)
    error = run_fails(folder)
    assert f"orders.parquet: {expected}" in str(error)
    assert "(1 row)" in str(error)


def test_without_statistics_every_check_runs_on_the_rows(tmp_path: Path) -> None:
    folder = shop(tmp_path, yaml=PARQUET_YAML, orders=None)
    rows = [*ORDER_ROWS, ("o6", "c1", "2026-08-01", 5.0, "sale")]
    columns = list(zip(*rows, strict=True))
    table = pa.table({
        "order_id": pa.array(columns[0]),
        "customer_id": pa.array(columns[1]),
        "order_date": pa.array([date.fromisoformat(str(d)) for d in columns[2]], pa.date32()),
        "amount": pa.array(columns[3], pa.float64()),
        "kind": pa.array(columns[4]),
    })
    pq.write_table(table, folder / "orders.parquet", write_statistics=False)
    assert _ruled_out(folder) == set()
    assert "order_date: events after the as-of date" in str(run_fails(folder))


def test_csv_sources_have_no_facts(tmp_path: Path) -> None:
    folder = shop(tmp_path, yaml=YAML)
    assert _ruled_out(folder) == set()


# -------------------------------------------------------------------- facts never change a report

_ORDER = st.tuples(
    st.sampled_from(["c1", "c2", "c3", None]),
    st.sampled_from([date(2025, 1, 5), date(2026, 3, 1), date(2026, 6, 30), date(2026, 7, 1),
                     None]),
    st.sampled_from([10.0, 0.0, -5.0, 250.0, None]),
    st.sampled_from(["sale", "refund", None]),
)


def _report_lines(folder: Path) -> list[str]:
    from tierwise.services.grading import check

    report = check(Project.open(folder))
    found = sorted(f"{f.source} {f.check} {f.column} {f.count} {f.samples}"
                   for f in report.findings)
    return [*found, str(sorted(report.rows.items()))]


def _write_orders(folder: Path, orders: list[tuple[object, ...]], group: int) -> None:
    """The orders as the shop's Parquet source, ``group`` rows per row group."""
    columns = list(zip(*orders, strict=True))
    pq.write_table(pa.table({
        "order_id": pa.array([f"o{i}" for i in range(len(orders))]),
        "customer_id": pa.array(columns[0], pa.string()),
        "order_date": pa.array(columns[1], pa.date32()),
        "amount": pa.array(columns[2], pa.float64()),
        "kind": pa.array(columns[3], pa.string()),
    }), folder / "orders.parquet", row_group_size=group)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=st.lists(_ORDER, min_size=1, max_size=12), group=st.integers(1, 4))
def test_footer_facts_never_change_the_report(
    orders: list[tuple[object, ...]], group: int, tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = shop(tmp_path_factory.mktemp("facts"), yaml=PARQUET_YAML, orders=None)
    _write_orders(folder, orders, group)
    with_facts = _report_lines(folder)
    with monkeypatch.context() as patched:
        patched.setattr("tierwise.sources.read.parquet_facts", lambda *a, **k: {})
        assert _report_lines(folder) == with_facts


def test_a_file_replaced_after_its_footer_was_read_fails_the_run(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    folder = _parquet(shop(tmp_path, yaml=PARQUET_YAML, orders=None), ORDER_ROWS)
    import tierwise.sources.read as read

    original = read.parquet_facts

    def then_replaced(path: Path, columns: dict[str, str]) -> dict[str, ColumnFacts]:
        facts = original(path, columns)
        # An export lands while the run is reading: a future date the old footer did not show.
        _parquet(folder, [*ORDER_ROWS, ("o9", "c1", "2026-07-15", 5.0, "sale")])
        return facts

    monkeypatch.setattr(read, "parquet_facts", then_replaced)
    error = run_fails(folder)
    assert "orders.parquet: the file changed while it was being read; run again" in str(error)
    assert not (folder / "output").exists()


def test_the_report_says_which_checks_the_statistics_answered(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tierwise.cli import main
    from tierwise.services.grading import check

    folder = _parquet(shop(tmp_path, yaml=PARQUET_YAML, orders=None), ORDER_ROWS)
    report = check(Project.open(folder))
    assert report.ok
    assert report.by_statistics == {"transactions": [
        "missing: order_id", "missing: customer_id", "missing: order_date", "missing: amount",
        "missing: kind", "future_event: order_date"]}
    printed = " ".join(CliRunner().invoke(main.app, ["check", "-p", str(folder)]).output.split())
    assert "transactions: answered by the Parquet file's statistics, no row read:" in printed
    assert "order_date: events after the as-of date" in printed
    assert "amount: empty values" in printed and "missing:" not in printed
    # The checks are named in the reader's language, not by their keys.
    zh = "".join(CliRunner().invoke(main.app, ["check", "-p", str(folder), "--lang", "zh-Hant"]
                                    ).output.split())
    assert "transactions：以下檢查由Parquet檔案的統計資訊直接得出" in zh
    assert "order_date：晚於基準日的記錄" in zh and "amount：空值" in zh
    assert "future_event" not in zh and "missing" not in zh


# ------------------------------------------------------- windows that end after the last event

_WINDOWED = PARQUET_YAML.replace(
    "  spend_12m: {source: transactions, agg: sum, column: amount, window: 12m}\n",
    "  spend_12m: {source: transactions, agg: sum, column: amount, window: 12m}\n"
    "  last_days: {source: transactions, agg: days_since_last}\n"
    "  avg_3m: {source: transactions, agg: avg, column: amount, window: 3m}\n"
    "  sales_6m_before: {source: transactions, agg: count, where: \"kind == 'sale'\",\n"
    "                    window: {length: 6m, offset: 6m}}\n",
)
_ALL = ["orders_12m", "spend_12m", "last_days", "avg_3m", "sales_6m_before"]


def _features(folder: Path) -> tuple[list[dict[str, object]], str]:
    """Every indicator's value per customer, and the SQL of the transactions' aggregates."""
    from tierwise.services.features import FeaturePlan, prepare_features

    project = Project.open(folder)
    engine = connect()
    try:
        built = prepare_features(project, engine, as_of=AS_OF, indicators=_ALL)
        rows = sorted(engine.to_arrow(built.table.select("customer_id", *_ALL)).to_pylist(),
                      key=lambda r: str(r["customer_id"]))
        plan = FeaturePlan(project, _ALL, [AS_OF])
        table = plan.load(engine)["transactions"].typed
        sql = engine.sql(table.aggregate(**plan.metrics("transactions", table)))
        return rows, sql
    finally:
        engine.close()


def test_a_window_ending_after_the_files_last_event_tests_no_end_per_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The footer proves no order after 2026-03-10, so the windows ending on the as-of date
    test only their start; the one ending 6 months back (2025-12-30) still tests its end."""
    folder = _parquet(shop(tmp_path, yaml=_WINDOWED, orders=None), ORDER_ROWS)
    rows, sql = _features(folder)
    assert "2026-06-30" not in sql and "2026, 6, 30" not in sql
    assert "2025, 12, 30" in sql or "2025-12-30" in sql
    with monkeypatch.context() as patched:
        patched.setattr("tierwise.sources.read.parquet_facts", lambda *a, **k: {})
        tested_rows, tested_sql = _features(folder)
    assert "2026, 6, 30" in tested_sql or "2026-06-30" in tested_sql
    assert rows == tested_rows
    assert {r["customer_id"]: r["last_days"] for r in rows} == {"c1": 112, "c2": 130, "c3": 486}


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=st.lists(st.tuples(
    st.sampled_from(["c1", "c2", "c3"]),
    st.sampled_from([date(2025, 1, 5), date(2025, 6, 30), date(2025, 7, 1), date(2025, 12, 30),
                     date(2025, 12, 31), date(2026, 3, 31), date(2026, 4, 1), date(2026, 6, 30)]),
    st.sampled_from([10.0, 0.0, 0.125, 250.0]),
    st.sampled_from(["sale", "refund"]),
), min_size=1, max_size=12), group=st.integers(1, 4))
def test_footer_facts_never_change_an_indicator(
    orders: list[tuple[object, ...]], group: int, tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = shop(tmp_path_factory.mktemp("windows"), yaml=_WINDOWED, orders=None)
    _write_orders(folder, orders, group)
    with_facts, _ = _features(folder)
    with monkeypatch.context() as patched:
        patched.setattr("tierwise.sources.read.parquet_facts", lambda *a, **k: {})
        assert _features(folder)[0] == with_facts


@pytest.mark.parametrize("last", [datetime(2026, 6, 30, 15, 0), datetime(2026, 7, 1, 0, 0)])
def test_timestamps_on_the_as_of_date_need_no_end_test_and_later_ones_keep_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, last: datetime
) -> None:
    """An order at 15:00 on the as-of date is inside the windows: the footer proves none is
    later, so no end test. One at midnight after it (ignored as a future event) is outside:
    the end test stays and leaves it out."""
    yaml = _WINDOWED.replace("order_date: {type: date}", "order_date: {type: timestamp}")
    yaml = yaml.replace("    refunds: \"kind == 'refund'\"\n",
                        "    refunds: \"kind == 'refund'\"\n    future_events: ignore\n")
    assert "future_events: ignore" in yaml and "{type: timestamp}" in yaml
    folder = shop(tmp_path, yaml=yaml, orders=None)
    pq.write_table(pa.table({
        "order_id": pa.array(["o1", "o2", "o3"]),
        "customer_id": pa.array(["c1", "c1", "c2"]),
        "order_date": pa.array([datetime(2026, 1, 5, 9, 30), last, datetime(2026, 2, 11)],
                               pa.timestamp("us")),
        "amount": pa.array([80.0, 50.0, 30.0]),
        "kind": pa.array(["sale", "sale", "sale"]),
    }), folder / "orders.parquet")
    rows, sql = _features(folder)
    inside = last.date() == AS_OF
    assert ("2026-07-01" in sql or "2026, 7, 1" in sql) is not inside, sql
    with monkeypatch.context() as patched:
        patched.setattr("tierwise.sources.read.parquet_facts", lambda *a, **k: {})
        assert _features(folder)[0] == rows
    c1 = next(r for r in rows if r["customer_id"] == "c1")
    assert c1["orders_12m"] == (2 if inside else 1)
    assert c1["last_days"] == (0 if inside else 176)


# ------------------------------------------------------------------- a folder of Parquet files

_FOLDER_YAML = _WINDOWED.replace("path: orders.parquet", "path: orders\n    format: parquet")


def _folder(tmp_path: Path, parts: list[list[tuple[str, str, str, float, str]]]) -> Path:
    """The shop with its orders as a folder of files, one per list of rows."""
    folder = shop(tmp_path, yaml=_FOLDER_YAML, orders=None)
    (folder / "orders").mkdir()
    for i, rows in enumerate(parts):
        _parquet(folder, rows)
        (folder / "orders.parquet").rename(folder / "orders" / f"part-{i}.parquet")
    return folder


def test_a_folders_files_state_facts_together(tmp_path: Path) -> None:
    """Every file's row groups count: a bound is the widest, and a column one file says nothing
    about (no statistics, or not in it) has no fact."""
    one = _write(tmp_path / "a.parquet", {"amount": pa.array([5.0, 7.0]),
                                          "day": pa.array([date(2026, 1, 1)] * 2)})
    two = _write(tmp_path / "b.parquet", {"amount": pa.array([-1.0, None, 2.0])})
    mute = _write(tmp_path / "c.parquet", {"amount": pa.array([1.0]),
                                           "day": pa.array([date(2026, 2, 1)])},
                  write_statistics=["day"])
    columns = {"amount": "amount", "when": "day"}
    assert parquet_facts([one, two], columns) == {"amount": ColumnFacts(1, -1.0, 7.0)}
    assert parquet_facts([one, mute], columns) == {"when": ColumnFacts(
        0, date(2026, 1, 1), date(2026, 2, 1), ascending=True)}
    assert parquet_facts([], columns) == {}
    assert parquet_facts([one, tmp_path / "gone.parquet"], columns) == {}


def test_a_folder_source_is_checked_by_its_footers_and_grades_as_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path, [ORDER_ROWS[:3], ORDER_ROWS[3:]])
    from tierwise.services.grading import check

    report = check(Project.open(folder))
    assert report.ok
    assert "future_event: order_date" in report.by_statistics["transactions"]
    rows, sql = _features(folder)
    assert "2026, 6, 30" not in sql and "2026-06-30" not in sql
    single, _ = _features(_parquet(shop(tmp_path / "one", yaml=_WINDOWED, orders=None),
                                   ORDER_ROWS))
    assert rows == single
    assert tiers(run(Project.open(folder), "value")) == GRADES


def test_a_folders_file_replaced_after_its_footer_was_read_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path, [ORDER_ROWS[:3], ORDER_ROWS[3:]])
    import tierwise.sources.read as read

    original = read.parquet_facts

    def then_replaced(paths: list[Path], columns: dict[str, str]) -> dict[str, ColumnFacts]:
        facts = original(paths, columns)
        late = shop(tmp_path / "late", yaml=PARQUET_YAML, orders=None)
        _parquet(late, [*ORDER_ROWS[3:], ("o9", "c1", "2026-07-15", 5.0, "sale")])
        (late / "orders.parquet").replace(folder / "orders" / "part-1.parquet")
        return facts

    monkeypatch.setattr(read, "parquet_facts", then_replaced)
    error = run_fails(folder)
    assert ("orders/part-1.parquet: the file changed while it was being read; run again"
            in str(error)), str(error)


def test_a_hive_partition_column_gets_no_facts_from_the_files(tmp_path: Path) -> None:
    """DuckDB takes `order_date` from an `order_date=...` folder, not from the file: the file's
    footer (2026-03-10 at most) says nothing of the dates read (2026-07-05), so the future
    date is still found on the rows."""
    folder = shop(tmp_path, yaml=_FOLDER_YAML, orders=None)
    _parquet(folder, ORDER_ROWS)
    (folder / "orders" / "order_date=2026-07-05").mkdir(parents=True)
    (folder / "orders.parquet").rename(folder / "orders" / "order_date=2026-07-05" / "p.parquet")
    paths = [folder / "orders" / "order_date=2026-07-05" / "p.parquet"]
    assert set(parquet_facts(paths, {"day": "order_date", "amount": "amount"})) == {"amount"}
    assert "order_date: events after the as-of date" in str(run_fails(folder))


def test_a_replaced_file_in_a_subfolder_is_named_from_the_folder_down(tmp_path: Path) -> None:
    from tierwise.sources.read import LoadedSource

    path = tmp_path / "orders" / "2026" / "part-0.parquet"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x")
    loaded = LoadedSource("transactions", Project.open(
        _parquet(shop(tmp_path / "p", yaml=PARQUET_YAML, orders=None), ORDER_ROWS)
    ).spec.sources["transactions"], "orders", None, None,  # type: ignore[arg-type]
        stamp=((path, "orders/2026/part-0.parquet", 0, 0),))
    with pytest.raises(DataError) as failed:
        loaded.check_facts_hold()
    assert str(failed.value).startswith("orders/2026/part-0.parquet: the file changed")
