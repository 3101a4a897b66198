"""Grading linked customers: each person graded once on every system's events.

The example project `examples/linked` on 300 synthetic people in three systems, linked once
(splink on DuckDB) for the module; each test grades a copy of that project.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tierwise.demo import write_linked
from tierwise.errors import DataError, SpecError
from tierwise.services import linkage
from tierwise.services.explain_run import explain
from tierwise.services.grading import Project, check
from tierwise.services.runs import open_store, run
from tierwise.spec import load_project

pytest.importorskip("splink")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "linked"
AS_OF = date(2026, 6, 30)
ORDERS = {"shop": "shop_orders.csv", "app": "app_orders.csv", "store": "store_sales.csv"}
ORDERS_SOURCES = ("shop_orders", "app_orders", "store_sales")


def _link(folder: Path) -> None:
    project = Project.open(folder)
    store = open_store(project)
    try:
        linkage.run(project, store, actor="test")
    finally:
        store.close()


@pytest.fixture(scope="module")
def linked_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("linked")
    shutil.copyfile(EXAMPLE / "tierwise.yaml", folder / "tierwise.yaml")
    write_linked(folder / "data", people=300, as_of=AS_OF, seed=3)
    _link(folder)
    return folder


@pytest.fixture
def project(linked_once: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "linked"
    shutil.copytree(linked_once, folder)
    return folder


def _version(folder: Path) -> str:
    return (folder / "output" / "linkage" / "CURRENT").read_text(encoding="utf-8").strip()


def _mapping(folder: Path) -> dict[str, str]:
    table = pq.read_table(folder / "output" / "linkage" / _version(folder) / "mapping.parquet")
    return dict(zip(table["unique_id"].to_pylist(), table["customer_id"].to_pylist(),
                    strict=True))


def _expected_orders(folder: Path) -> dict[str, int]:
    """Per linked customer, the orders of all its records, counted from the files."""
    mapping = _mapping(folder)
    counts = dict.fromkeys(mapping.values(), 0)
    for system, name in ORDERS.items():
        ids = pacsv.read_csv(folder / "data" / name)["member_id"].to_pylist()
        for member in ids:
            counts[mapping[f"{system}:{member}"]] += 1
    return counts


def test_each_person_is_graded_once_on_every_systems_orders(project: Path) -> None:
    outcome = run(Project.open(project), ["value"], actor="test")[0]
    folder = Path(outcome.folder or "")
    features = pq.read_table(folder / "features.parquet").to_pylist()
    grades = pq.read_table(folder / "grades.parquet")
    mapping = _mapping(project)
    # One grade per linked customer, none per record.
    assert grades.num_rows == len(set(mapping.values())) < len(mapping)
    assert pc.count_distinct(grades["customer_id"]).as_py() == grades.num_rows
    expected = _expected_orders(project)
    assert {f["customer_id"]: f["orders_12m"] for f in features} == expected
    # The grade names every record of the customer, in the systems' order.
    records: dict[str, list[str]] = {}
    for record, customer in mapping.items():
        records.setdefault(customer, []).append(record)
    order = {"shop": 0, "app": 1, "store": 2}
    for f in features:
        want = sorted(records[f["customer_id"]], key=lambda r: (order[r.split(":")[0]], r))
        assert f["source_ids"] == ", ".join(want)
    # The linked customers' file names the systems in the same order; the run names the
    # version it graded.
    people = pq.read_table(project / "output" / "linkage" / "v0001" / "customers.parquet")
    for row in people.select(["source_ids", "systems"]).to_pylist():
        systems = list(dict.fromkeys(r.split(":")[0] for r in row["source_ids"].split(", ")))
        assert row["systems"] == ", ".join(systems)
    info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert info["linkage_version"] == _version(project) == "v0001"
    # Some customers have records in all three systems, and their orders add up.
    three = [f for f in features if f["source_ids"].count(",") == 2]
    assert three and any(f["shop_orders_12m"] and f["app_orders_12m"] and f["store_orders_12m"]
                         for f in three)


def test_a_record_id_finds_its_customer(project: Path) -> None:
    proj = Project.open(project)
    run(proj, ["value"], actor="test")
    mapping = _mapping(project)
    record, customer = next((r, c) for r, c in sorted(mapping.items()) if r != c)
    for given in (record, record.split(":", 1)[1], customer):
        assert explain(proj, "value", given).customer_id == customer
    assert customer != record


def test_a_member_the_linkage_has_not_seen_is_named_with_the_fix(project: Path) -> None:
    orders = project / "data" / ORDERS["shop"]
    with orders.open("a", encoding="utf-8") as out:
        out.write("SO9999999,S9999999,2026-06-01,120.0\n")
    with pytest.raises(DataError) as caught:
        run(Project.open(project), ["value"], actor="test")
    report = caught.value.report
    found = [f for f in report.findings if f.check == "unknown_customer"]
    assert [f.source for f in found] == ["shop_orders"]
    assert "S9999999" in found[0].samples[0]
    assert "system shop" in found[0].message and "tierwise link run" in found[0].message
    # Grading without the row until the next linkage run keeps every grade's records.
    outcome = run(Project.open(project), ["value"], actor="test", drop_bad_rows=True)[0]
    features = pq.read_table(Path(outcome.folder or "") / "features.parquet")
    assert "source_ids" in features.column_names
    assert features.num_rows == len(set(_mapping(project).values()))


def test_the_linked_customers_are_declared_and_checked(project: Path) -> None:
    spec = Project.open(project).spec
    columns = spec.sources["customers"].columns
    assert columns["birth_date"].type == "date" and columns["source_ids"].type == "string"
    assert columns["name"].label is not None and columns["name"].label.zh == "姓名"
    report = check(Project.open(project))
    # The members' tables are no customers' events: only the customers and the orders.
    assert report.ok, report.findings
    assert set(report.rows) == {"customers", *ORDERS_SOURCES}


def test_grading_before_any_linkage_says_to_link_first(tmp_path: Path) -> None:
    shutil.copyfile(EXAMPLE / "tierwise.yaml", tmp_path / "tierwise.yaml")
    write_linked(tmp_path / "data", people=20, as_of=AS_OF, seed=3)
    with pytest.raises(DataError, match=r"no linkage version is in .*run `tierwise link run`"):
        run(Project.open(tmp_path), ["value"], actor="test")


def _incremental(folder: Path) -> None:
    """The orders as Parquet folders, with kept state."""
    text = (folder / "tierwise.yaml").read_text(encoding="utf-8")
    for name in ORDERS.values():
        stem = name.removesuffix(".csv")
        table = pacsv.read_csv(folder / "data" / name, convert_options=pacsv.ConvertOptions(
            column_types={"member_id": pa.string(), "order_id": pa.string()}))
        (folder / "data" / stem).mkdir()
        pq.write_table(table, folder / "data" / stem / "part-0.parquet")
        text = text.replace(f"path: data/{name}", f"path: data/{stem}\n    format: parquet")
    (folder / "tierwise.yaml").write_text(text.replace("as_of: 2026-06-30",
                                                       "as_of: 2026-06-30\nincremental: true"),
                                          encoding="utf-8")


def test_kept_state_is_rebuilt_for_a_new_linkage_version(project: Path) -> None:
    _incremental(project)
    proj = Project.open(project)
    run(proj, ["value"], actor="test")
    # A person decides that two uncertain records are one customer; the next version links
    # them, so the kept per-customer aggregates no longer match the customers.
    before = _mapping(project)
    store = open_store(proj)
    try:
        _count, pairs = linkage.review(proj, store, limit=1)
        assert pairs, "the data plants uncertain pairs"
        linkage.decide(proj, store, pairs[0].left.id, pairs[0].right.id, decision="link",
                       reason="same person", actor="test")
        linkage.run(proj, store, actor="test")
    finally:
        store.close()
    again = run(proj, ["value"], force=True, actor="test")[0]
    info = json.loads((Path(again.folder or "") / "run.json").read_text(encoding="utf-8"))
    assert all("linked anew (linkage v0001 is now v0002)" in how
               for how in info["sources_read"].values()), info
    merged = _mapping(project)
    # The two customers are one now, under the smaller of their ids; every other customer
    # keeps its id (and so its history).
    left, right = before[pairs[0].left.id], before[pairs[0].right.id]
    assert merged[pairs[0].left.id] == merged[pairs[0].right.id] == min(left, right)
    assert {r: c for r, c in merged.items() if before[r] not in (left, right)} == {
        r: c for r, c in before.items() if c not in (left, right)}
    features = pq.read_table(Path(again.folder or "") / "features.parquet")
    assert dict(zip(features["customer_id"].to_pylist(), features["orders_12m"].to_pylist(),
                    strict=True)) == _expected_orders(project)


def test_linked_projects_are_checked_at_load(tmp_path: Path) -> None:
    text = (EXAMPLE / "tierwise.yaml").read_text(encoding="utf-8")
    cases = {
        "sources:\n": ("sources:\n  customers: {path: data/c.csv, id: member_id}\n",
                       "remove `sources.customers`"),
        "events: [app_orders]": ("events: []", "event source 'app_orders' belongs to no system"),
        "events: [store_sales]": ("events: [store_sale]", "unknown source 'store_sale'"),
    }
    for old, (new, message) in cases.items():
        (tmp_path / "tierwise.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
        with pytest.raises(SpecError, match=message.replace("`", ".")):
            load_project(tmp_path)


def test_the_dashboard_shows_a_linked_customer_with_every_systems_orders(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.web.clients import dashboard, login

    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)  # the project's own, linked store
    run(Project.open(project), ["value"], actor="test")
    features = pq.read_table(next((project / "output" / "value" / "runs").glob(
        "*/features.parquet"))).to_pylist()
    person = next(f for f in features if f["source_ids"].count(",") == 2 and f[
        "shop_orders_12m"] and f["app_orders_12m"] and f["store_orders_12m"])
    record = person["source_ids"].split(", ")[-1]  # its store record
    with dashboard(project, {"boss": "supervisor"}) as client:
        login(client, "boss")
        page = client.get(f"/customers/{record}")
        assert page.status_code == 200, page.text
        assert person["customer_id"] in page.text and person["source_ids"] in page.text
        for label in ("Online shop orders", "App orders", "Store sales"):
            assert label in page.text
        for label in ("Online shop members", "App users", "Store members"):  # not events
            assert label not in page.text
        # The review queue links each record of a pair to the customer it belongs to now.
        queue = client.get("/linkage").text
        assert 'href="/customers/' in queue and "link-pair" in queue
        # Each system's orders of the person are listed under it (newest first).
        mine = {r.split(":")[1] for r in person["source_ids"].split(", ")}
        for name in ORDERS.values():
            orders = pacsv.read_csv(project / "data" / name).to_pylist()
            latest = max((o for o in orders if o["member_id"] in mine),
                         key=lambda o: (o["order_date"], o["order_id"]))
            assert latest["order_id"] in page.text, name
