"""Record linkage: normal forms, the trained model on three systems, a person's decisions."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from tests.conftest import write
from tierwise.demo._systems import SYSTEMS, build
from tierwise.errors import SpecError
from tierwise.sources import linkage, normalise
from tierwise.spec import load_project
from tierwise.spec.linkage import LinkageSpec

pytest.importorskip("splink")

SPEC = LinkageSpec.model_validate({
    "systems": {s: {"source": f"{s}_members"} for s in SYSTEMS},
    "fields": {"name": "name", "mobile": "phone", "email": "email", "id_card": "id",
               "address": "address", "birth_date": "date"},
})


@pytest.mark.parametrize(("written", "keys"), [
    ("张伟", {"zhangwei", "weizhang"}), ("張 偉", {"zhangwei", "weizhang"}),
    ("Zhang Wei", {"zhangwei", "weizhang"}), ("WEI ZHANG", {"weizhang", "zhangwei"}),
    ("ＺＨＡＮＧ　Ｗｅｉ", {"zhangwei", "weizhang"}), ("zhangwei", {"zhangwei"}),
    # Every reading of a one-character surname: 曾 is zeng as a surname, ceng elsewhere.
    ("曾伟", {"zengwei", "weizeng", "cengwei", "weiceng"}),
    # A compound surname stays whole: 欧阳 + 娜娜.
    ("欧阳娜娜", {"ouyangnana", "nanaouyang"}), ("Nana Ouyang", {"nanaouyang", "ouyangnana"}),
])
def test_name_keys_meet_across_scripts_and_orders(written: str, keys: set[str]) -> None:
    assert set(normalise.name_keys(written)) == keys


@pytest.mark.parametrize("written", ["+86 138-0013-8000", "0086 13800138000", "8613800138000",
                                     "１３８００１３８０００", "138 0013 8000", "(+86)13800138000"])
def test_phone_notations_have_one_form(written: str) -> None:
    assert normalise.phone(written) == "+8613800138000"


def test_other_normal_forms() -> None:
    assert normalise.phone("(010) 6552 9988") == "+861065529988"  # a Beijing line
    assert normalise.phone("9123 4567", "HK") == "+85291234567"
    assert normalise.phone("no number") is None
    assert normalise.phone(" ") is None
    assert normalise.email(" Zhang.Wei@Example.COM ") == "zhang.wei@example.com"
    assert normalise.email("not-an-address") is None
    assert normalise.identifier("110105 19491231 002x") == "11010519491231002X"
    assert normalise.address("北京市 朝陽區，建國路８８號") == "北京市朝阳区建国路88号"
    assert normalise.name("張-偉") == "张伟"
    assert normalise.name(None) is None and normalise.name_keys("  ") == []


@pytest.fixture(scope="module")
def systems() -> object:
    return build(600, seed=11)


def _truth(systems: object) -> dict[str, str]:
    truth = systems.truth  # type: ignore[attr-defined]
    return {linkage.record_id(s, i): p for s, i, p in zip(
        truth["system"].to_pylist(), truth["source_id"].to_pylist(),
        truth["person"].to_pylist(), strict=True)}


@pytest.fixture(scope="module")
def records(systems: object) -> pa.Table:
    return linkage.records(SPEC, systems.tables,  # type: ignore[attr-defined]
                           {s: "member_id" for s in SYSTEMS})


@pytest.fixture(scope="module")
def linked(records: pa.Table) -> linkage.Linked:
    return linkage.link(SPEC, records)


def test_three_systems_link_with_high_precision_and_recall(
        systems: object, records: pa.Table, linked: linkage.Linked) -> None:
    found = linkage.accuracy(linked.mapping, _truth(systems))
    assert found.true_pairs > 300  # the data plants many duplicates
    assert found.precision >= 0.95, found
    assert found.recall >= 0.95, found
    # Every record has a customer: the smallest record id of its cluster.
    mapping = linked.mapping.to_pylist()
    assert len(mapping) == records.num_rows
    clusters: dict[str, list[str]] = {}
    for row in mapping:
        clusters.setdefault(row["customer_id"], []).append(row["unique_id"])
    assert all(c == min(ids) for c, ids in clusters.items())
    assert all(row["records"] == len(clusters[row["customer_id"]]) for row in mapping)
    # Review holds only uncertain pairs between two different customers.
    customer = {row["unique_id"]: row["customer_id"] for row in mapping}
    for row in linked.review.to_pylist():
        assert SPEC.review <= row["match_probability"] < SPEC.match
        assert customer[row["unique_id_l"]] != customer[row["unique_id_r"]]


def test_one_person_written_three_ways_is_one_customer(systems: object,
                                                       linked: linkage.Linked) -> None:
    """A person in all three systems whose app name is in pinyin and whose store name is in
    Traditional characters (the generator plants such people; this finds one)."""
    truth = _truth(systems)
    tables = systems.tables  # type: ignore[attr-defined]
    names = {linkage.record_id(s, i): n for s in SYSTEMS for i, n in zip(
        tables[s]["member_id"].to_pylist(), tables[s]["name"].to_pylist(), strict=True)}
    by_person: dict[str, list[str]] = {}
    for record, person in truth.items():
        by_person.setdefault(person, []).append(record)
    customer = dict(zip(linked.mapping["unique_id"].to_pylist(),
                        linked.mapping["customer_id"].to_pylist(), strict=True))
    wanted = [rs for rs in by_person.values()
              if {r.split(":")[0] for r in rs} == set(SYSTEMS)
              and any(r.startswith("app:") and names[r].isascii() for r in rs)
              and any(r.startswith("store:") and names[r] != normalise.name(names[r])
                      for r in rs)]
    assert wanted, "the generator planted no such person"
    assert len({customer[r] for r in wanted[0]}) == 1, [names[r] for r in wanted[0]]


def test_a_persons_decisions_outrank_the_model_and_survive_retraining(
        records: pa.Table, linked: linkage.Linked) -> None:
    customer = dict(zip(linked.mapping["unique_id"].to_pylist(),
                        linked.mapping["customer_id"].to_pylist(), strict=True))
    # Two records the model linked directly (a pair above `match`), and two it kept apart.
    together = next(r for r in linked.mapping.to_pylist() if r["records"] == 2)
    pair = sorted(u for u, c in customer.items() if c == together["customer_id"])
    apart = sorted(customer)[:2]
    assert customer[apart[0]] != customer[apart[1]]
    again = linkage.link(SPEC.model_copy(update={"seed": 5}), records,
                         accepted=[(apart[0], apart[1])], rejected=[(pair[0], pair[1])])
    after = dict(zip(again.mapping["unique_id"].to_pylist(),
                     again.mapping["customer_id"].to_pylist(), strict=True))
    assert after[apart[0]] == after[apart[1]]
    assert after[pair[0]] != after[pair[1]]
    decided = {frozenset(p) for p in [(apart[0], apart[1]), (pair[0], pair[1])]}
    assert not [r for r in again.review.to_pylist()
                if frozenset((r["unique_id_l"], r["unique_id_r"])) in decided]


def test_accuracy_counts_pairs() -> None:
    mapping = pa.table({"unique_id": ["a", "b", "c", "d"], "customer_id": ["a", "a", "a", "d"]})
    # Linked pairs: ab ac bc (3); true pairs: ab, cd (2); correct: ab (1).
    found = linkage.accuracy(mapping, {"a": "P1", "b": "P1", "c": "P2", "d": "P2"})
    assert (found.linked_pairs, found.true_pairs, found.correct_pairs) == (3, 2, 1)
    assert found.precision == pytest.approx(1 / 3) and found.recall == pytest.approx(1 / 2)


def test_too_few_agreeing_pairs_say_what_linkage_learns_from() -> None:
    table = pa.table({"member_id": ["1", "2", "3"], "name": ["张伟", "張偉", "李娜"],
                      "mobile": ["13800138000", "+86 138 0013 8000", "13900139000"]})
    empty = pa.table({"member_id": pa.array([], pa.string())})
    few = linkage.records(SPEC, {"shop": table, "app": empty, "store": empty},
                          {s: "member_id" for s in SYSTEMS})
    with pytest.raises(SpecError, match="needs at least 20 such pairs on one of them"):
        linkage.link(SPEC, few)


def test_too_few_records_is_an_error() -> None:
    one = linkage.records(SPEC, {s: pa.table({"member_id": ["X1"] if s == "shop" else []},
                                             schema=pa.schema([("member_id", pa.string())]))
                                 for s in SYSTEMS}, {s: "member_id" for s in SYSTEMS})
    with pytest.raises(SpecError, match="at least two customer records; the systems hold 1"):
        linkage.link(SPEC, one)


PROJECT = """
name: shops
sources:
  customers: {path: c.csv}
  shop_members:
    path: shop.csv
    id: member_id
    columns: {member_id: {type: string}, name: {type: string}, mobile: {type: string}}
  app_users:
    path: app.csv
    id: user_id
    columns: {user_id: {type: string}, name: {type: string}}
  orders:
    path: orders.csv
    time: order_date
linkage:
  systems:
    shop: {source: shop_members}
    app: {source: app_users}
  fields: {name: name, mobile: phone}
"""


def test_a_linkage_section_loads(tmp_path: Path) -> None:
    write(tmp_path, "tierwise.yaml", PROJECT)
    spec, _root = load_project(tmp_path)
    assert spec.linkage is not None
    assert spec.linkage.fields["mobile"].kind == "phone"
    assert spec.linkage.blocking_rules() == [["name"], ["mobile"]]


@pytest.mark.parametrize(("change", "message"), [
    ("  fields: {name: name, mobile: phone}\n  review: 0.97\n",
     r"review \(0\.97\) must be below match \(0\.95\)"),
    ("  fields: {name: name, mobile: phone}\n  blocking: [[email]]\n",
     "blocking field 'email' is not among `fields:`"),
    ("  fields: {address: address}\n", "compare at least one field of kind name, phone"),
    ("  fields: {name: name, mobile: fax}\n", "'fax' is not allowed here; use one of 'name'"),
    ("  fields: {name: name, mobile: phone, email: email}\n",
     "no system's source has a column 'email'"),
    ("  fields: {name: name, mobile: phone}\n  region: China\n",
     "region 'China' is not a two-letter country code"),
    ("  fields: {name: name, mobile: phone, system: text}\n",
     "field 'system' would take the place of a column linkage adds"),
    ("  fields: {name: name, mobile: phone, name_keys: text}\n",
     "field 'name_keys' would take the place of a column linkage adds"),
])
def test_linkage_mistakes_say_the_fix(tmp_path: Path, change: str, message: str) -> None:
    write(tmp_path, "tierwise.yaml",
          PROJECT.replace("  fields: {name: name, mobile: phone}\n", change))
    with pytest.raises(SpecError, match=message):
        load_project(tmp_path)


def test_one_source_for_two_systems_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "tierwise.yaml", PROJECT.replace("shop: {source: shop_members}",
                                                     "shop: {source: app_users}"))
    with pytest.raises(SpecError, match="source 'app_users' is named by several systems"):
        load_project(tmp_path)


def test_an_event_source_is_no_system(tmp_path: Path) -> None:
    write(tmp_path, "tierwise.yaml", PROJECT.replace("app: {source: app_users}",
                                                     "app: {source: orders}"))
    with pytest.raises(SpecError, match="source 'orders' is an event source"):
        load_project(tmp_path)


def test_customers_keep_their_ids_from_the_previous_version() -> None:
    def mapping(pairs: dict[str, str]) -> pa.Table:
        return pa.table({linkage.RECORD: list(pairs), linkage.CUSTOMER: list(pairs.values())})

    previous = {"shop:S2": "shop:S2", "app:A9": "shop:S2", "store:M5": "store:M5",
                "store:M7": "store:M5", "app:A3": "app:A3", "app:A4": "app:A3"}
    now = mapping({
        # A record with a smaller id joins: the customer stays shop:S2.
        "app:A1": "app:A1", "shop:S2": "app:A1", "app:A9": "app:A1",
        # Two previous customers are now one: the smaller id goes on.
        "app:A3": "app:A3", "app:A4": "app:A3", "store:M5": "app:A3", "store:M7": "app:A3",
        # A new member alone, and a record that left its customer (store:M7's id was never
        # a customer's): they keep their own smallest ids.
        "shop:S8": "shop:S8"})
    kept = linkage.keep_ids(now, previous)
    assert dict(zip(kept[linkage.RECORD].to_pylist(), kept[linkage.CUSTOMER].to_pylist(),
                    strict=True)) == {
        "app:A1": "shop:S2", "shop:S2": "shop:S2", "app:A9": "shop:S2",
        "app:A3": "app:A3", "app:A4": "app:A3", "store:M5": "app:A3", "store:M7": "app:A3",
        "shop:S8": "shop:S8"}
    # A previous customer split in two: only the part holding the record of its id keeps it.
    split = linkage.keep_ids(mapping({"app:A3": "app:A3", "app:A4": "app:A4"}), previous)
    assert split[linkage.CUSTOMER].to_pylist() == ["app:A3", "app:A4"]
    # Before any version, nothing changes.
    assert linkage.keep_ids(now, {}).equals(now)
