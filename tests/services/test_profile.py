"""The profile service: attributes and bounded recent events from files and databases, and a
grade read with the overrides in force now (an override saved after the run shows at once)."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import write
from tierwise import i18n
from tierwise.demo import write_retail
from tierwise.engine import connect
from tierwise.services import overrides as override_service
from tierwise.services import profile, runs
from tierwise.services.demo import copy_example
from tierwise.services.explain_run import explain
from tierwise.services.grading import Project
from tierwise.services.overrides import OverrideRequest
from tierwise.sources.lookup import MAX_ROWS, customer_rows


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Project:
    folder = tmp_path_factory.mktemp("profile") / "retail"
    copy_example("retail", folder)
    write_retail(folder / "data", customers=300)
    return Project.open(folder)


def _orders_by_hand(project: Project, customer: str) -> list[tuple[date, str]]:
    with (project.root / "data" / "orders.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["customer_id"] == customer]
    return sorted(((date.fromisoformat(r["order_date"]), r["order_id"]) for r in rows),
                  reverse=True)


def test_retail_attributes_with_labels(retail: Project) -> None:
    with (retail.root / "data" / "customers.csv").open(encoding="utf-8") as handle:
        first = next(csv.DictReader(handle))
    found = {a.column.name: a for a in profile.attributes(retail, first["customer_id"])}
    assert list(found) == ["name", "city", "channel", "signup_date", "email", "language"]
    assert found["name"].value == first["name"] and found["city"].value == first["city"]
    assert found["signup_date"].value == date.fromisoformat(first["signup_date"])
    assert found["signup_date"].column.kind == "date"
    assert found["name"].column.label == "Name"
    with i18n.use("zh-Hans"):
        zh = {a.column.name: a.column.label for a in profile.attributes(
            retail, first["customer_id"])}
    assert zh == {"name": "姓名", "city": "城市", "channel": "渠道", "signup_date": "注册日期",
                  "email": "邮箱", "language": "语言"}
    with pytest.raises(Exception, match="not in the customers source"):
        profile.attributes(retail, "NOBODY")


def test_retail_events_are_the_latest_orders_newest_first(retail: Project) -> None:
    with (retail.root / "data" / "orders.csv").open(encoding="utf-8") as handle:
        counts: dict[str, int] = {}
        for r in csv.DictReader(handle):
            counts[r["customer_id"]] = counts.get(r["customer_id"], 0) + 1
    busy = max(counts, key=lambda c: counts[c])
    assert counts[busy] > 5
    [orders] = profile.recent_events(retail, busy, limit=5)
    assert orders.source == "transactions" and orders.label == "Transactions"
    assert [c.name for c in orders.columns] == ["order_id", "order_date", "amount", "kind"]
    assert [c.kind for c in orders.columns] == ["string", "date", "decimal", "string"]
    # Five rows (the bound), the five latest by hand: dates descending.
    expected = _orders_by_hand(retail, busy)[:5]
    got = [(r["order_date"], r["order_id"]) for r in orders.rows]
    assert len(got) == 5 and [d for d, _ in got] == [d for d, _ in expected]
    assert isinstance(orders.rows[0]["amount"], float)
    with i18n.use("zh-Hans"):
        [zh] = profile.recent_events(retail, busy, limit=1)
    assert zh.label == "交易" and [c.label for c in zh.columns] == [
        "订单号", "下单日期", "金额", "类型"]
    assert profile.recent_events(retail, "NOBODY")[0].rows == []


def test_a_lookup_never_returns_more_than_its_bound(retail: Project) -> None:
    spec = retail.spec.sources["transactions"]
    engine = connect()
    try:
        some = customer_rows("transactions", spec, engine, "C000001", base=retail.root,
                             limit=10**9, columns=["order_date", "amount", "nope"])
    finally:
        engine.close()
    assert some.column_names == ["order_date", "amount"]
    assert some.num_rows <= MAX_ROWS


DATABASE_PROJECT = """
name: db
as_of: 2026-06-30
sources:
  customers:
    url: {url}
    table: people
    id: customer_id
    columns:
      customer_id: {{from: cust_no, type: string}}
      full_name: {{type: string, label: {{en: Full name, zh: 客户名称}}}}
      email: {{type: string, required: false}}
  balances:
    label: {{en: Balances, zh: 余额}}
    url: {url}
    query: "SELECT cust_no, day, balance FROM daily_balances WHERE balance IS NOT NULL"
    id: customer_id
    time: day
    columns:
      customer_id: {{from: cust_no, type: string}}
      day: {{type: date}}
      balance: {{type: decimal}}
indicators:
  latest_balance: {{source: balances, agg: last, column: balance}}
schemes:
  s:
    method: rules
    tiers:
      - {{key: rich, when: "latest_balance >= 1000"}}
      - {{key: other}}
    fallback: other
"""


def test_database_source_reads_one_customer_bounded(tmp_path: Path, store_url: str) -> None:
    # A SQLite file or a PostgreSQL database (the store_url fixture), read through SQLAlchemy.
    engine = sa.create_engine(store_url)
    start = date(2026, 1, 1)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE people (cust_no VARCHAR(20), full_name VARCHAR(50), "
                             "email VARCHAR(50))")
        conn.exec_driver_sql("CREATE TABLE daily_balances (cust_no VARCHAR(20), day DATE, "
                             "balance NUMERIC(12, 2))")
        conn.execute(sa.text("INSERT INTO people VALUES (:c, :n, :e)"), [
            {"c": "K1", "n": "王芳", "e": "wang@example.com"}, {"c": "K2", "n": "Bo", "e": None}])
        conn.execute(sa.text("INSERT INTO daily_balances VALUES (:c, :d, :b)"), [
            {"c": c, "d": start + timedelta(days=i), "b": 100 * i + (5 if c == "K1" else 0)}
            for i in range(60) for c in ("K1", "K2")])
    engine.dispose()
    write(tmp_path, "tierwise.yaml", DATABASE_PROJECT.format(url=store_url))
    project = Project.open(tmp_path)
    found = {a.column.name: (a.column.label, a.column.kind, a.value)
             for a in profile.attributes(project, "K1")}
    assert found == {"full_name": ("Full name", "string", "王芳"),
                     "email": ("Email", "email", "wang@example.com")}
    [balances] = profile.recent_events(project, "K1", limit=3)
    assert balances.label == "Balances"
    # The three latest days of K1 only: 59, 58, 57 days after January 1st (5,905.00 ...).
    assert [(r["day"], r["balance"]) for r in balances.rows] == [
        (start + timedelta(days=i), 100 * i + 5) for i in (59, 58, 57)]
    assert [c.name for c in balances.columns] == ["day", "balance"]


GBK_PROJECT = """
name: gbk
as_of: 2026-06-30
sources:
  customers:
    path: customers.parquet
  interactions:
    path: calls.csv
    time: day
    columns:
      customer_id: {type: string}
      day: {type: date}
      note: {type: string}
indicators:
  calls: {source: interactions, agg: count}
schemes:
  s:
    method: rules
    tiers:
      - {key: a, when: "calls >= 1"}
      - {key: b}
    fallback: b
"""


def test_parquet_customers_and_gbk_events(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    write(tmp_path, "tierwise.yaml", GBK_PROJECT)
    pq.write_table(pa.table({"customer_id": ["A", "B"], "phone": ["138 0000 0001", None]}),
                   tmp_path / "customers.parquet")
    write(tmp_path, "calls.csv", "customer_id,day,note\nA,2026-05-01,咨询积分\n"
          "B,2026-05-02,投诉\nA,2026-06-01,续费\n", encoding="gbk")
    project = Project.open(tmp_path)
    [phone] = profile.attributes(project, "A")
    assert (phone.column.name, phone.column.kind, phone.value) == ("phone", "phone",
                                                                   "138 0000 0001")
    [calls] = profile.recent_events(project, "A")
    assert [(r["day"], r["note"]) for r in calls.rows] == [(date(2026, 6, 1), "续费"),
                                                            (date(2026, 5, 1), "咨询积分")]


def test_broken_source_is_a_problem_not_a_failure(tmp_path: Path) -> None:
    write(tmp_path, "tierwise.yaml", GBK_PROJECT)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"customer_id": ["A"]}), tmp_path / "customers.parquet")
    project = Project.open(tmp_path)
    [calls] = profile.recent_events(project, "A")
    assert calls.rows == [] and calls.problem and "calls.csv" in calls.problem


def test_override_saved_after_the_run_shows_when_read(months: Path) -> None:
    project = Project.open(months)
    june = date(2026, 6, 30)
    runs.backfill(project, ["tier"], [date(2026, 5, 31), june])
    store = runs.open_store(project)
    try:
        assert explain(project, "tier", "C3", store=store).grade["tier"] == "bronze"
        made = override_service.create(project, OverrideRequest(
            "tier", "C3", kind="pin", tier="gold", reason="key account"), store=store)
        # No start given: the latest graded date, so the class read as of it changes now.
        assert made.valid_from == june and made.status == "active"
        assert override_service.effect(made, june) == override_service.SHOWN
        now = explain(project, "tier", "C3", store=store).grade
        assert (now["tier"], now["source"], now["override_id"]) == ("gold", "override", made.id)
        assert now["override_after_run"] is True
        assert f"override #{made.id} (pin gold) by analyst: key account" in now["reasons"]
        shown = profile.scheme_class(project, store, "tier", "C3")
        assert shown.since == june and shown.history[-1].tier == "bronze"
        override_service.revoke(project, made.id, store=store)
        assert explain(project, "tier", "C3", store=store).grade["tier"] == "bronze"
        # An exclusion saved after the run leaves no tier, and says by which override.
        gone = override_service.create(project, OverrideRequest(
            "tier", "C1", kind="exclude", tier=None, reason="staff"), store=store)
        out = explain(project, "tier", "C1", store=store).grade
        assert out["tier"] is None and out["override_id"] == gone.id
        assert "staff" in out["reasons"]
        # The next run records it, and reading no longer changes anything.
        runs.run(project, ["tier"], as_of=june, force=True)
        again = explain(project, "tier", "C3", store=store).grade
        assert again["tier"] == "bronze" and again["override_after_run"] is False
        rule = override_service.start_rule(store, "tier")
        assert (rule.graded, rule.earliest) == (june, june - timedelta(
            days=rule.max_backdate_days))
        later = override_service.create(project, OverrideRequest(
            "tier", "C4", kind="pin", tier="gold", reason="promo",
            valid_from=june + timedelta(days=31)), store=store)
        assert override_service.effect(later, june) == override_service.LATER
        assert explain(project, "tier", "C4", store=store).grade["override_after_run"] is False
    finally:
        store.close()
