"""Account-manager placement: capacity is never exceeded, the current manager is kept where
possible, territories hold, new accounts go to the least loaded manager in turn."""

from __future__ import annotations

import random

import pytest

from tierwise.actions.assign import Account, Manager, place


def test_keep_then_balance_then_report_the_rest() -> None:
    managers = [Manager("ann", 2), Manager("bob", 2), Manager("cy", 1, frozenset({"north"}))]
    accounts = [Account("A", "south", 90.0), Account("B", "south", 80.0),
                Account("C", "north", 70.0), Account("D", "south", 60.0),
                Account("E", "north", 50.0), Account("F", "west", 40.0),
                Account("G", "south", None)]
    # A is ann's and stays; C is cy's and stays (north); bob already holds one account.
    placed = place(accounts, managers, {"A": "ann", "C": "cy"}, {"bob": 1})
    assert placed.kept == ["A", "C"] and placed.moved == ["B", "D"]
    # B: ann and bob both hold one, ann first by name; D: ann is full, bob has room.
    assert placed.to == {"A": "ann", "B": "ann", "C": "cy", "D": "bob"}
    assert placed.load == {"ann": 2, "bob": 2, "cy": 1}
    # Everyone who could take E, F and G (no value: last) is full.
    assert placed.unplaced == {"E": "full", "F": "full", "G": "full"}


def test_a_manager_outside_the_territory_or_full_is_not_kept() -> None:
    managers = [Manager("ann", 1, frozenset({"north"})), Manager("bob", 5)]
    placed = place([Account("A", "south", 1.0), Account("B", "north", 2.0)],
                   managers, {"A": "ann", "B": "ann"}, {"ann": 1})
    # ann serves only the north and is full: both go to bob.
    assert placed.to == {"A": "bob", "B": "bob"} and placed.kept == []
    nobody = place([Account("X", "east", 1.0)], [Manager("ann", 3, frozenset({"north"}))],
                   {}, {})
    assert nobody.unplaced == {"X": "no manager serves this territory"}


def test_new_accounts_go_round_the_managers() -> None:
    managers = [Manager(n, 10) for n in ("ann", "bob", "cy")]
    placed = place([Account(f"C{i}", None, float(100 - i)) for i in range(6)], managers, {}, {})
    assert [placed.to[f"C{i}"] for i in range(6)] == ["ann", "bob", "cy"] * 2


@pytest.mark.parametrize("seed", range(30))
def test_capacity_holds_and_the_current_manager_is_kept_where_possible(seed: int) -> None:
    rng = random.Random(seed)
    regions = ["north", "south", "east"]
    managers = [Manager(f"m{i}", rng.randint(1, 8),
                        frozenset(rng.sample(regions, rng.randint(0, 2))))
                for i in range(rng.randint(1, 5))]
    accounts = [Account(f"C{i:03d}", rng.choice([*regions, None]),
                        rng.choice([None, rng.random() * 100])) for i in range(rng.randint(0, 40))]
    current = {a.customer_id: rng.choice(managers).name for a in accounts if rng.random() < 0.5}
    load = {m.name: rng.randint(0, m.capacity) for m in managers}
    placed = place(accounts, managers, current, load)
    by_name = {m.name: m for m in managers}
    assert all(placed.load[m.name] <= m.capacity for m in managers)
    assert placed.load == {m.name: load[m.name] + sum(1 for t in placed.to.values()
                                                       if t == m.name) for m in managers}
    assert set(placed.to) | set(placed.unplaced) == {a.customer_id for a in accounts}
    territory = {a.customer_id: a.territory for a in accounts}
    for customer, manager in placed.to.items():
        assert by_name[manager].serves(territory[customer])
    # Anyone moved away from a current manager who serves them: that manager was full then.
    for customer in placed.moved:
        mine = current.get(customer)
        if mine and by_name[mine].serves(territory[customer]):
            assert placed.load[mine] == by_name[mine].capacity
    # Anyone left unplaced: every manager serving them is full.
    for customer in placed.unplaced:
        assert all(placed.load[m.name] == m.capacity for m in managers
                   if m.serves(territory[customer]))
