"""The customer list service: columns, sorting, filters, search, since and change, exports and
bulk assignment, on a real store with two recorded runs (tests/services/listed.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.services.listed import record_two_runs, write_listed
from tierwise import i18n
from tierwise.errors import ExprError, PermissionDenied, SpecError
from tierwise.services import runs
from tierwise.services.auth import Actor
from tierwise.services.customer_list import ListQuery, listing, page_numbers
from tierwise.services.grading import Project
from tierwise.services.list_actions import assign_listed, export_list, file_name, managers
from tierwise.services.list_columns import phone_digits, phone_query
from tierwise.services.list_table import forget
from tierwise.store import Store
from tierwise.store import users as store_users


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, Store]]:
    folder = tmp_path_factory.mktemp("listed")
    project = record_two_runs(write_listed(folder / "p", f"sqlite:///{folder / 'store.db'}"))
    store = runs.open_store(project)
    with store.begin() as conn:
        for name, role in (("sam", "supervisor"), ("max", "manager"), ("mia", "manager"),
                           ("aud", "auditor")):
            store_users.create(conn, name, role=role, password="correct horse battery",
                               actor="setup")
        store_users.assign(conn, ["C1", "C4"], "max", actor="setup")
    yield project, store
    store.close()
    forget()


def ids(project: Project, store: Store, query: ListQuery, **kw: object) -> list[str]:
    return [r["customer_id"] for r in listing(project, store, query, **kw).rows]  # type: ignore[arg-type]


def user(store: Store, name: str) -> Actor:
    with store.read() as tx:
        return Actor(name, tx.users.by_name(name))


def test_columns_labels_and_defaults(listed: tuple[Project, Store]) -> None:
    project, store = listed
    page = listing(project, store, ListQuery("tier"))
    keys = [c.key for c in page.view.available]
    assert keys[:3] == ["tier", "since", "change"]
    assert {"a.name", "a.phone", "a.city", "i.orders_3m", "i.spend_3m"} <= set(keys)
    # Name, tier, since, change and two indicators, the scheme's value measure first.
    assert page.view.defaults == ["a.name", "tier", "since", "change", "i.spend_3m",
                                  "i.orders_3m"]
    assert [c.key for c in page.view.shown] == page.view.defaults
    with i18n.use("zh-Hans"):
        labels = {c.key: c.label for c in listing(project, store, ListQuery("tier")).view.shown}
    assert labels["a.name"] == "姓名" and labels["tier"] == "等级"
    chosen = listing(project, store, ListQuery("tier", columns=("a.city", "nope", "tier")))
    assert [c.key for c in chosen.view.shown] == ["a.city", "tier"]
    assert chosen.rows[0]["a.city"] == "上海"


def test_since_and_change_against_two_runs(listed: tuple[Project, Store]) -> None:
    project, store = listed
    rows = {r["customer_id"]: r for r in listing(project, store, ListQuery("tier")).rows}
    assert (rows["C1"]["tier"], rows["C1"]["since"], rows["C1"]["change"]) == (
        "gold", date(2026, 5, 31), "same")
    assert (rows["C4"]["tier"], rows["C4"]["since"], rows["C4"]["change"]) == (
        "bronze", date(2026, 6, 30), "down")
    assert rows["C5"]["since"] == date(2026, 5, 31)
    assert ids(project, store, ListQuery("tier", change="down")) == ["C4"]
    assert ids(project, store, ListQuery("tier", change="up")) == []
    assert len(ids(project, store, ListQuery("tier", change="same", per_page=100))) == 39
    # The first run of the history: every customer is new.
    first = listing(project, store, ListQuery("tier", as_of=date(2026, 5, 31), change="entry"))
    assert first.total == 40 and first.view.first_run
    assert {r["since"] for r in first.rows} == {date(2026, 5, 31)}


def test_from_and_to_tier_between_the_last_two_runs(listed: tuple[Project, Store]) -> None:
    project, store = listed
    assert ids(project, store, ListQuery("tier", from_tier="silver", to_tier="bronze")) == ["C4"]
    assert ids(project, store, ListQuery("tier", from_tier="gold", to_tier="gold")) == ["C1"]
    assert ids(project, store, ListQuery("tier", from_tier="silver")) == ["C4"]
    assert listing(project, store, ListQuery("tier", to_tier="bronze")).total == 39


def test_sorting_is_stable_by_customer_id(listed: tuple[Project, Store]) -> None:
    project, store = listed
    by_spend = ids(project, store, ListQuery("tier", sort="i.spend_3m", descending=True))
    # C1 spent 300; everyone else 0, in id order (text order: C10 before C2).
    assert by_spend[:4] == ["C1", "C10", "C11", "C12"]
    assert ids(project, store, ListQuery("tier", sort="tier"))[:2] == ["C1", "C10"]
    assert ids(project, store, ListQuery("tier", sort="tier", descending=True))[0] == "C10"
    by_name = ids(project, store, ListQuery("tier", sort="a.name", per_page=100))
    assert by_name[0] == "C2"  # "=HYPERLINK..." sorts first, as text
    assert by_name.index("C3") < by_name.index("C5")  # Li Lei before Zhang Wei
    by_since = ids(project, store, ListQuery("tier", sort="since", descending=True))
    assert by_since[0] == "C4"
    # An unknown sort key (a link from another scheme) sorts by id.
    assert ids(project, store, ListQuery("tier", sort="i.nope"))[:2] == ["C1", "C10"]


def test_filters_by_tier_and_condition(listed: tuple[Project, Store]) -> None:
    project, store = listed
    assert ids(project, store, ListQuery("tier", tier="gold")) == ["C1"]
    assert ids(project, store, ListQuery("tier", where="spend_3m >= 300")) == ["C1"]
    assert listing(project, store, ListQuery("tier", tier="bronze",
                                             where="orders_3m == 0")).total == 39
    with pytest.raises(ExprError):
        listing(project, store, ListQuery("tier", where="orders_3m >>> 1"))
    with pytest.raises(ExprError):
        listing(project, store, ListQuery("tier", where="name == 'x'"))  # not an indicator
    with pytest.raises(SpecError, match="unknown change 'sideways'"):
        listing(project, store, ListQuery("tier", change="sideways"))
    with pytest.raises(SpecError, match="25, 50, 100"):
        listing(project, store, ListQuery("tier", per_page=1000))


@pytest.mark.parametrize("text", ["+86 138 0013 8000", "13800138000", "0086-138-0013-8000",
                                  "8613800138000", "(138) 0013 8000", "0013 8000"])
def test_search_by_phone_in_any_format(listed: tuple[Project, Store], text: str) -> None:
    project, store = listed
    assert ids(project, store, ListQuery("tier", q=text)) == ["C1"]


def test_search_by_id_and_name(listed: tuple[Project, Store]) -> None:
    project, store = listed
    assert ids(project, store, ListQuery("tier", q="王芳")) == ["C1"]
    assert ids(project, store, ListQuery("tier", q="li lei")) == ["C3"]
    assert ids(project, store, ListQuery("tier", q="zhang")) == ["C5"]
    assert ids(project, store, ListQuery("tier", q="c39")) == ["C39"]
    assert ids(project, store, ListQuery("tier", q="0086 137 0000 1234")) == ["C3"]
    assert ids(project, store, ListQuery("tier", q="158 0015 8000")) == ["C4"]
    assert ids(project, store, ListQuery("tier", q="nobody")) == []


def test_phone_normalisation() -> None:
    for given in ("+86 138-0013-8000", "0086 13800138000", "8613800138000", "138 0013 8000"):
        assert phone_digits(given) == "13800138000"
    assert phone_digits("86123") == "86123"  # a short number keeps its 86
    assert phone_query("Li Lei") is None and phone_query("12") is None
    assert phone_query("+86 1380") == "1380"


def test_pages(listed: tuple[Project, Store]) -> None:
    project, store = listed
    second = listing(project, store, ListQuery("tier", per_page=25, page=2))
    assert (second.total, second.pages, second.page, len(second.rows)) == (40, 2, 2, 15)
    beyond = listing(project, store, ListQuery("tier", per_page=25, page=99))
    assert beyond.page == 2  # a page past the end shows the last one
    assert page_numbers(7, 20) == [1, None, 5, 6, 7, 8, 9, None, 20]
    assert page_numbers(1, 1) == [1]
    assert page_numbers(4, 7) == [1, 2, 3, 4, 5, 6, 7]


def test_manager_lists_only_assigned_customers(listed: tuple[Project, Store]) -> None:
    project, store = listed
    assert ids(project, store, ListQuery("tier"), visible={"C1", "C4"}) == ["C1", "C4"]
    assert ids(project, store, ListQuery("tier", q="张伟"), visible={"C1"}) == []


def test_export_csv_has_bom_chinese_headers_and_no_formulas(listed: tuple[Project, Store]
                                                            ) -> None:
    project, store = listed
    query = ListQuery("tier", tier="bronze", per_page=25, sort="a.name")
    with i18n.use("zh-Hans"):
        made = export_list(project, store, query, "csv", visible=None, actor="sam")
    assert made.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(made.content.decode("utf-8-sig"))))
    assert rows[0] == ["客户", "姓名", "等级", "进入当前等级日期", "较上次运行的变化",
                       "spend_3m", "orders_3m"]
    assert len(rows) == 1 + 39  # every page of the filtered list, not the first 25
    assert rows[1][:3] == ["C2", "'=HYPERLINK(\"http://evil.example\",\"x\")", "Bronze"]
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["C4"][3:5] == ["2026-06-30", "降级"]
    assert made.filename == "customers-tier-2026-06-30-tier_bronze.csv"
    with store.read() as tx:
        event = tx.audit.events(limit=1)[0]
    assert (event.action, event.actor, event.after["customers"]) == ("customers.exported", "sam", 39)
    assert event.after["filter"] == {"tier": "bronze"}


def test_export_xlsx_reads_back(listed: tuple[Project, Store], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    project, store = listed
    query = ListQuery("tier", columns=("tier", "a.phone", "i.spend_3m"), q="1380")
    made = export_list(project, store, query, "xlsx", visible={"C1", "C2"}, actor="max")
    (tmp_path / "x.xlsx").write_bytes(made.content)
    sheet = load_workbook(tmp_path / "x.xlsx").active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values == [["Customer", "Tier", "Mobile", "spend_3m"],
                      # A text starting with + would be a formula: quoted, as every export does.
                      ["C1", "Gold", "'+86 138-0013-8000", 300]]
    assert made.filename == "customers-tier-2026-06-30-q_1380.xlsx"
    with pytest.raises(SpecError, match="unknown export format"):
        export_list(project, store, query, "pdf", visible=None, actor="sam")


def test_file_name_keeps_the_filter_readable() -> None:
    query = ListQuery("tier", from_tier="gold", to_tier="silver", where="spend_3m >= 5,000")
    assert file_name(query, "2026-06-30", "csv") == (
        "customers-tier-2026-06-30-from_tier_gold-to_tier_silver-where_spend_3m_5_000.csv")
    assert file_name(ListQuery("tier", q="王/芳"), "2026-06-30", "xlsx") == (
        "customers-tier-2026-06-30-q_王_芳.xlsx")


def test_assign_ticked_and_all_filtered(listed: tuple[Project, Store]) -> None:
    project, store = listed
    sam = user(store, "sam")
    assert [m for m, _ in managers(store, sam)] == ["max", "mia"]
    # Ticked ids the filter does not find (C1 is gold; C999 is nobody) are left out.
    n = assign_listed(project, store, sam, ListQuery("tier", tier="bronze"), "mia",
                      ticked=["C5", "C6", "C1", "C999"])
    assert n == 2
    with store.read() as tx:
        event = tx.audit.events(limit=1)[0]
        assert tx.users.assigned(tx.users.by_name("mia")) == {"C5", "C6"}
    assert (event.action, event.actor, event.object_id) == ("customers.assigned", "sam", "mia")
    n = assign_listed(project, store, sam, ListQuery("tier", change="down"), "mia", ticked=None)
    assert n == 1
    with store.read() as tx:
        assert tx.users.assigned(tx.users.by_name("mia")) == {"C4", "C5", "C6"}
        assert tx.users.assigned(tx.users.by_name("max")) == {"C1"}
    with pytest.raises(SpecError, match="no customer to assign"):
        assign_listed(project, store, sam, ListQuery("tier", tier="gold"), "mia", ticked=[])


@pytest.mark.parametrize("who", ["max", "aud"])
def test_assign_is_refused_to_managers_and_auditors(listed: tuple[Project, Store], who: str
                                                    ) -> None:
    project, store = listed
    actor = user(store, who)
    with pytest.raises(PermissionDenied):
        assign_listed(project, store, actor, ListQuery("tier"), "mia", ticked=["C7"])
    with pytest.raises(PermissionDenied):
        managers(store, actor)
    with store.read() as tx:
        assert "C7" not in tx.users.assigned(tx.users.by_name("mia"))


def test_assign_only_to_a_manager(listed: tuple[Project, Store]) -> None:
    project, store = listed
    with pytest.raises(PermissionDenied, match="only managers get customers"):
        assign_listed(project, store, user(store, "sam"), ListQuery("tier"), "aud",
                      ticked=["C8"])


def test_an_unreadable_customers_source_leaves_the_grades_listed(
        listed: tuple[Project, Store]) -> None:
    project, store = listed
    moved = project.spec.sources["customers"].model_copy(update={"path": "gone.csv"})
    broken = project.with_spec(project.spec.model_copy(
        update={"sources": {**project.spec.sources, "customers": moved}}))
    page = listing(broken, store, ListQuery("tier", q="C1", sort="a.name"))
    assert page.view.problem is not None and "gone.csv" in page.view.problem
    assert [c.key for c in page.view.shown] == ["tier", "since", "change", "i.spend_3m",
                                                "i.orders_3m"]
    assert [r["customer_id"] for r in page.rows][:2] == ["C1", "C10"]


def test_the_list_follows_a_changed_customers_file_and_a_new_run(tmp_path: Path) -> None:
    folder = write_listed(tmp_path / "p", f"sqlite:///{tmp_path / 'store.db'}")
    project = Project.open(folder)
    runs.backfill(project, ["tier"], [date(2026, 5, 31)])
    store = runs.open_store(project)
    try:
        first = listing(project, store, ListQuery("tier", q="C1", columns=("a.name",)))
        assert first.rows[0]["a.name"] == "王芳" and first.view.first_run
        text = (folder / "customers.csv").read_text(encoding="utf-8")
        (folder / "customers.csv").write_text(text.replace("王芳", "王芳芳"), encoding="utf-8")
        renamed = listing(project, store, ListQuery("tier", q="C1", columns=("a.name",)))
        assert renamed.rows[0]["a.name"] == "王芳芳"
        runs.backfill(project, ["tier"], [date(2026, 6, 30)])
        later = listing(project, store, ListQuery("tier", change="down"))
        assert [r["customer_id"] for r in later.rows] == ["C4"]
        assert later.view.run.as_of == date(2026, 6, 30) and not later.view.first_run
    finally:
        store.close()
