"""Reassignments in review: with ``approval: true`` an assign action applies new accounts at
once, but a customer who would change manager waits for a supervisor; approving respects the
capacity and is audited, rejecting keeps the manager."""

from __future__ import annotations

from datetime import date

import pytest

from tests.services.test_action_plans import edited
from tests.services.test_assign_actions import (  # noqa: F401 (shop: a fixture)
    PASSWORD,
    misplaced,
    shop,
)
from tierwise.errors import ConflictError, NotFoundError, SpecError
from tierwise.services import delivery, reassignments, runs
from tierwise.services.grading import Project


@pytest.fixture
def reviewed(shop: Project) -> tuple[Project, list[str]]:  # noqa: F811
    """The shop with approval on, one run, and two gold customers with the wrong manager."""
    project = edited(shop, "territory: region\n", "territory: region\n      approval: true\n")
    runs.backfill(project, ["tier"], [date(2026, 5, 31)])
    store = runs.open_store(project)
    with store.write() as tx:
        tx.users.create("outside_mgr", role="manager", password=PASSWORD, actor="setup")
    south = misplaced(store)
    with store.write() as tx:  # the second one with a manager the action does not name
        tx.users.assign([south[1]], "outside_mgr", actor="setup")
    store.close()
    return project, south


def test_a_reassignment_waits_and_the_manager_keeps_the_customer(
        reviewed: tuple[Project, list[str]]) -> None:
    project, south = reviewed
    store = runs.open_store(project)
    done = delivery.deliver(project, store, "vip_managers")
    assert done.review == 2
    with store.read() as tx:
        assert tx.users.holders(south) == {south[0]: "north_mgr", south[1]: "outside_mgr"}
        anyone = tx.users.assigned(tx.users.by_name("any_mgr"))
    waiting = {r.customer_id: r for r in reassignments.pending(project, store, "vip_managers")}
    assert set(waiting) == set(south)
    assert waiting[south[0]].proposed == "any_mgr"
    assert "north_mgr does not serve territory south" in waiting[south[0]].why
    assert "outside_mgr is not one of this action's managers" in waiting[south[1]].why
    # The proposal holds a place: the new accounts leave room for the two in review.
    assert len(anyone) == 6 - 2
    # The one in review still counts for north_mgr, who is never over capacity.
    with store.read() as tx:
        assert len(tx.users.assigned(tx.users.by_name("north_mgr"))) <= 4
    store.close()


def test_a_proposal_whose_manager_changed_is_refused(reviewed: tuple[Project, list[str]]
                                                     ) -> None:
    project, south = reviewed
    store = runs.open_store(project)
    delivery.deliver(project, store, "vip_managers")
    rows = {r.customer_id: r.id for r in reassignments.pending(project, store, "vip_managers")}
    with store.write() as tx:  # a supervisor moves the customer by hand meanwhile
        tx.users.assign([south[0]], "any_mgr", actor="setup")
    with pytest.raises(ConflictError, match="manager changed since reassignment"):
        reassignments.decide(project, store, "vip_managers", [rows[south[0]]], approve=True,
                             actor="boss")
    assert len(reassignments.pending(project, store, "vip_managers")) == 2
    store.close()


def test_approving_moves_rejecting_keeps_and_both_are_audited(
        reviewed: tuple[Project, list[str]]) -> None:
    project, south = reviewed
    store = runs.open_store(project)
    delivery.deliver(project, store, "vip_managers")
    rows = {r.customer_id: r.id for r in reassignments.pending(project, store, "vip_managers")}
    assert reassignments.decide(project, store, "vip_managers", [rows[south[0]]], approve=True,
                                actor="boss", note="north does not serve the south") == 1
    reassignments.decide(project, store, "vip_managers", [rows[south[1]]], approve=False,
                         actor="boss", note="keeps the outside manager")
    with store.read() as tx:
        assert tx.users.holders(south) == {south[0]: "any_mgr", south[1]: "outside_mgr"}
        events = tx.audit.events(object_type="action", object_id="vip_managers")
        statuses = {e.customer_id: (e.status, e.last_error)
                    for e in tx.actions.by_ids("vip_managers", list(rows.values()))}
    assert [e.action for e in events] == ["action.reassignment_rejected",
                                          "action.reassignment_approved"]
    assert all(e.actor == "boss" for e in events)
    assert statuses == {
        south[0]: ("sent", "north_mgr does not serve territory south | north does not serve "
                           "the south"),
        south[1]: ("rejected", "outside_mgr is not one of this action's managers | keeps the "
                               "outside manager")}
    assert reassignments.pending(project, store, "vip_managers") == []
    with pytest.raises(ConflictError, match="already decided"):
        reassignments.decide(project, store, "vip_managers", [rows[south[0]]], approve=False,
                             actor="boss")
    store.close()


def test_an_approval_over_capacity_changes_nothing(reviewed: tuple[Project, list[str]]) -> None:
    project, south = reviewed
    store = runs.open_store(project)
    delivery.deliver(project, store, "vip_managers")
    rows = [r.id for r in reassignments.pending(project, store, "vip_managers")]
    with store.read() as tx:  # a supervisor fills any_mgr by hand in the meantime
        free = sorted(e.customer_id for e in tx.actions.entries("vip_managers", status="dead")
                      if int(e.customer_id[1:]) % 3)[0]
    with store.write() as tx:
        tx.users.assign([free], "any_mgr", actor="setup")
    with pytest.raises(ConflictError, match=r"any_mgr 7 accounts, over their capacity of 6 "
                                            r"\(5 now\); approve at most 1"):
        reassignments.decide(project, store, "vip_managers", rows, approve=True, actor="boss")
    with store.read() as tx:
        assert tx.users.holders(south) == {south[0]: "north_mgr", south[1]: "outside_mgr"}
    assert len(reassignments.pending(project, store, "vip_managers")) == 2
    store.close()


def test_review_needs_an_assign_action(shop: Project) -> None:  # noqa: F811
    store = runs.open_store(shop)
    assert reassignments.pending(shop, store, "vip_managers") == []  # approval off: none
    with pytest.raises(SpecError, match="does not ask for approval"):
        reassignments.pending(shop, store, "gold_coupon")
    with pytest.raises(NotFoundError, match="no action 'vip'"):
        reassignments.pending(shop, store, "vip")
    store.close()


def test_unknown_ids_are_named(reviewed: tuple[Project, list[str]]) -> None:
    project, _south = reviewed
    store = runs.open_store(project)
    delivery.deliver(project, store, "vip_managers")
    with pytest.raises(NotFoundError, match="no reassignment #999999"):
        reassignments.decide(project, store, "vip_managers", [999999], approve=True,
                             actor="boss")
    with pytest.raises(SpecError, match="say which reassignments"):
        reassignments.decide(project, store, "vip_managers", [], approve=True, actor="boss")
    store.close()
