"""Assign actions: customers entering the top tier go to account managers within capacity and
territory, the current manager kept; the managers then see exactly their customers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import write
from tests.services.test_action_plans import PROJECT, edited, write_shop
from tierwise.errors import SpecError
from tierwise.services import delivery, runs
from tierwise.services.grading import Project
from tierwise.store import Store

PASSWORD = "correct horse battery staple"
VIP = """  vip_managers:
    scheme: tier
    kind: assign
    on: enter
    tiers: [gold]
    assign:
      capacity: 4
      territory: region
      managers:
        north_mgr: {territories: [north]}
        any_mgr: {capacity: 6}
"""


def write_regions(folder: Path, *, approval: bool = False) -> Project:
    """The shop with a region per customer (every third one north) and the VIP action."""
    text = PROJECT.replace(
        "      customer_id: {type: string}\n  transactions:",
        "      customer_id: {type: string}\n      region: {type: string}\n  transactions:", 1)
    vip = VIP.replace("territory: region\n", "territory: region\n      approval: true\n") \
        if approval else VIP
    project = write_shop(folder, text.replace("\nactions:\n", "\nactions:\n" + vip, 1))
    write(project.root, "customers.csv", "customer_id,region\n" + "".join(
        f"C{i:03d},{'north' if i % 3 == 0 else 'south'}\n" for i in range(300)))
    return Project.open(project.root)


def misplaced(store: Store, manager: str = "north_mgr") -> list[str]:
    """The two most valuable south VIPs of the planned run, given to ``manager`` (north only)."""
    with store.read() as tx:
        planned = tx.actions.entries("vip_managers", status="planned")
    south = [e.customer_id for e in sorted(planned, key=lambda e: -(e.value or 0))
             if int(e.customer_id[1:]) % 3][:2]
    with store.write() as tx:
        tx.users.assign(south, manager, actor="setup")
    return south


@pytest.fixture
def shop(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("TIERWISE_STORE_URL", store_url)
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    project = write_regions(tmp_path / "shop")
    store = runs.open_store(project)
    try:
        with store.write() as tx:
            for name, role in (("north_mgr", "manager"), ("any_mgr", "manager"),
                               ("boss", "supervisor")):
                tx.users.create(name, role=role, password=PASSWORD, actor="setup")
    finally:
        store.close()
    return Project.open(project.root)


def test_vips_go_to_managers_within_capacity_and_territory(shop: Project) -> None:
    first = runs.backfill(shop, ["tier"], [date(2026, 5, 31)])[0]
    store = runs.open_store(shop)
    gold = {r["customer_id"] for r in pq.read_table(
        Path(first.folder or "") / "grades.parquet").to_pylist() if r["tier"] == "gold"}
    assert len(gold) > 10  # more gold customers than the managers can take
    # A south customer already with any_mgr keeps them.
    south = sorted(c for c in gold if int(c[1:]) % 3)[0]
    with store.write() as tx:
        tx.users.assign([south], "any_mgr", actor="setup")
    done = delivery.deliver(shop, store, "vip_managers")
    with store.read() as tx:
        north = tx.users.assigned(tx.users.by_name("north_mgr"))
        anyone = tx.users.assigned(tx.users.by_name("any_mgr"))
        dead = tx.actions.entries("vip_managers", status="dead")
        sent = tx.actions.entries("vip_managers", status="sent")
    assert south in anyone
    assert len(north) == 4 and len(anyone) == 6  # both full, never over
    assert all(int(c[1:]) % 3 == 0 for c in north)  # the north manager: north only
    assert done.sent == len(sent) == 10 and done.dead == len(dead) == len(gold) - 10
    assert {e.customer_id for e in sent} == north | anyone
    assert all("at capacity" in (e.last_error or "") for e in dead)
    # Who got a manager is worth at least as much as who did not, within a territory.
    worth = {e.customer_id: e.value or 0 for e in sent + dead}
    south_left = [worth[e.customer_id] for e in dead if int(e.customer_id[1:]) % 3]
    assert not south_left or min(worth[c] for c in anyone if c != south) >= max(south_left)
    store.close()


def test_a_manager_over_capacity_keeps_the_most_valuable(shop: Project) -> None:
    first = runs.backfill(shop, ["tier"], [date(2026, 5, 31)])[0]
    rows = pq.read_table(Path(first.folder or "") / "grades.parquet").to_pylist()
    south = sorted(r["customer_id"] for r in rows
                   if r["tier"] == "gold" and int(r["customer_id"][1:]) % 3)[:8]
    store = runs.open_store(shop)
    with store.write() as tx:  # eight south VIPs with any_mgr, who may hold six
        tx.users.assign(south, "any_mgr", actor="setup")
    delivery.deliver(shop, store, "vip_managers")
    with store.read() as tx:
        anyone = tx.users.assigned(tx.users.by_name("any_mgr"))
        dead = {e.customer_id: e.last_error for e in tx.actions.entries(
            "vip_managers", status="dead")}
    assert len(anyone) == 6 and anyone < set(south)  # six of the eight kept, nobody new
    dropped = set(south) - anyone
    assert all("was with any_mgr" in (dead[c] or "") for c in dropped)
    store.close()


def test_a_manager_who_is_not_a_manager_is_refused(shop: Project) -> None:
    project = edited(shop, "any_mgr: {capacity: 6}", "boss: {capacity: 6}")
    runs.backfill(project, ["tier"], [date(2026, 5, 31)])
    with pytest.raises(SpecError, match="boss is not an enabled user with the manager role"):
        delivery.deliver(project, runs.open_store(project), "vip_managers")
