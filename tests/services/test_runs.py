"""Recorded runs, scheme versions and overrides, on SQLite and PostgreSQL stores."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tierwise.errors import ConflictError, NotFoundError, PermissionDenied, StoreError
from tierwise.services import history as history_service
from tierwise.services import overrides as override_service
from tierwise.services import runs, versions
from tierwise.services.grading import Project
from tierwise.services.overrides import OverrideRequest
from tierwise.store import audit
from tierwise.store import runs as store_runs
from tierwise.store import schemes as store_schemes

DAY = date(2026, 6, 30)


def _grades(outcome: runs.RunOutcome) -> list[dict[str, object]]:
    assert outcome.folder is not None
    return pq.read_table(outcome.folder / "grades.parquet").sort_by("customer_id").to_pylist()


def test_a_date_done_is_skipped_unless_forced(months: Path) -> None:
    project = Project.open(months)
    first = runs.run(project, ["tier"])[0]
    assert first.status == "done" and first.run.official and first.version == 1
    assert first.run.started_by == "analyst" and first.run.data_fingerprint
    again = runs.run(project, ["tier"])[0]
    assert again.status == "skipped" and again.run.id == first.run.id
    assert "already done" in again.notes[-1]
    forced = runs.run(project, ["tier"], force=True)[0]
    assert forced.status == "done" and forced.run.id != first.run.id
    # Same version, same data: identical grades.
    assert _grades(forced) == _grades(first)
    store = runs.open_store(project)
    try:
        with store.connect() as conn:
            assert store_runs.get(conn, first.run.id).status == "superseded"
            assert audit.verify(conn).ok
            actions = [e.action for e in audit.events(conn, object_type="run", limit=20)]
            assert actions.count("run.done") == 2 and actions.count("run.started") == 2
        assert history_service.latest_run(store, "tier").id == forced.run.id
    finally:
        store.close()


def test_label_edits_keep_the_version_and_threshold_edits_make_one(months: Path) -> None:
    project = Project.open(months)
    runs.run(project, ["tier"])
    yaml = months / "tierwise.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("label: Gold", "label: Golden"),
                    encoding="utf-8")
    store = runs.open_store(project)
    try:
        saved, created = versions.save(store, Project.open(months), "tier", actor="analyst")
        assert (saved.number, created, saved.revision) == (1, False, 2)
        yaml.write_text(yaml.read_text(encoding="utf-8").replace(
            'when: "orders_3m >= 3"}', 'when: "orders_3m >= 2"}', 1), encoding="utf-8")
        edited = Project.open(months)
        outcome = runs.run(edited, ["tier"], force=True)[0]
        # Saved as version 2, but version 1 is active and grades; the run says so.
        assert outcome.version == 1
        assert any("version 2" in n and "activate" in n for n in outcome.notes)
        preview = history_service.preview(edited, "tier")
        assert (preview.active, preview.candidate) == (1, 2)
        # orders_3m >= 2 lifts the customers with exactly two orders: none as of June 2026,
        # and C4 (one order) stays silver.
        assert preview.transitions.counts["down"] == 0
        v1, v2 = (store_schemes.version(c, "tier", n) for c in [store.engine.connect()]
                  for n in (1, 2))
        changes = versions.diff(v1, v2)
        assert [(d.path, d.grading) for d in changes] == [
            ("scheme.tiers[0].when", True)]
        versions.activate(store, "tier", 2, actor="supervisor")
        assert runs.run(edited, ["tier"], force=True)[0].version == 2
        versions.rollback(store, "tier", actor="supervisor")
        assert runs.run(edited, ["tier"], force=True)[0].version == 1
        later = date.today() + timedelta(days=30)
        versions.activate(store, "tier", 2, actor="supervisor", effective_from=later)
        with store.connect() as conn:
            assert store_schemes.active_version(conn, "tier").number == 1  # type: ignore[union-attr]
            assert store_schemes.active_version(conn, "tier", later).number == 2  # type: ignore[union-attr]
            kinds = [a.kind for a in store_schemes.activation_list(conn, "tier")]
            assert kinds == ["activate", "activate", "rollback", "schedule"]
            assert audit.verify(conn).ok
    finally:
        store.close()


def test_an_inactive_version_runs_unofficially(months: Path) -> None:
    project = Project.open(months)
    runs.run(project, ["tier"])
    yaml = months / "tierwise.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace(
        'when: "orders_3m >= 3"}', 'when: "orders_3m >= 4"}', 1), encoding="utf-8")
    edited = Project.open(months)
    runs.run(edited, ["tier"], force=True)  # saves version 2
    run, grade = history_service.what_version_gives(edited, "tier", 2, "C1", DAY)
    assert not run.official and run.version == 2
    assert grade is not None and grade["tier"] == "silver"  # three orders are no longer gold
    again, _ = history_service.what_version_gives(edited, "tier", 2, "C1", DAY + timedelta(9))
    assert again.id == run.id  # answered from the run already made
    store = runs.open_store(edited)
    try:
        official = history_service.tier_on(store, "tier", "C1", DAY)
        assert official is not None and official.tier == "gold" and official.version == 1
    finally:
        store.close()


def test_overrides_need_a_second_person_and_expire(months: Path) -> None:
    project = Project.open(months)
    runs.backfill(project, ["steady"], [date(2024, 12, 31)])
    with pytest.raises(StoreError, match="needs a reason"):
        override_service.create(project, OverrideRequest("steady", "C5", kind="pin", tier="gold",
                                                         reason=" "))
    made = override_service.create(project, OverrideRequest("steady", "C5", kind="pin",
                                                            tier="gold",
                                                            reason="key account, contract renewal",
                                                            valid_from=date(2025, 1, 1),
                                                            expires=date(2025, 3, 1)))
    assert made.status == "pending"
    with pytest.raises(ConflictError, match="already has override"):
        override_service.create(project, OverrideRequest("steady", "C5", kind="floor",
                                                         tier="silver", reason="again",
                                                         valid_from=date(2025, 1, 1)))
    runs.backfill(project, ["steady"], [date(2025, 1, 31)])
    with pytest.raises(PermissionDenied, match="cannot approve"):
        override_service.approve(project, made.id)  # TIERWISE_USER is its author
    approved = override_service.approve(project, made.id, actor="supervisor")
    assert approved.status == "active" and approved.decided_by == "supervisor"
    outcomes = runs.backfill(project, ["steady"], [date(2025, 1, 31), date(2025, 2, 28),
                                                   date(2025, 3, 31)], force=True)
    c5 = {o.as_of: next(g for g in _grades(o) if g["customer_id"] == "C5") for o in outcomes}
    assert c5[date(2025, 1, 31)]["tier"] == "gold"
    assert c5[date(2025, 1, 31)]["source"] == "override"
    assert c5[date(2025, 1, 31)]["override_flag"] is True  # bronze -> gold is two tiers
    assert c5[date(2025, 2, 28)]["tier"] == "gold"
    assert (c5[date(2025, 3, 31)]["tier"], c5[date(2025, 3, 31)]["source"]) == (
        "bronze", "computed")  # expired: back to the computed tier
    overridden = {o.as_of: sum(c.overridden for c in o.counts) for o in outcomes}
    assert overridden == {date(2025, 1, 31): 1, date(2025, 2, 28): 1, date(2025, 3, 31): 0}
    with pytest.raises(ConflictError, match="only a pending"):
        override_service.reject(project, made.id, actor="supervisor")
    revoked = override_service.revoke(project, made.id, actor="supervisor")
    assert revoked.status == "revoked"


def test_exclude_floor_and_ceiling(months: Path) -> None:
    project = Project.open(months)
    runs.backfill(project, ["tier"], [date(2026, 5, 31)])
    override_service.create(project, OverrideRequest("tier", "C1", kind="exclude", tier=None,
                                                     reason="staff", valid_from=DAY))
    override_service.create(project, OverrideRequest("tier", "C5", kind="floor", tier="silver",
                                                     reason="new branch", valid_from=DAY))
    override_service.create(project, OverrideRequest("tier", "C2", kind="ceiling", tier="silver",
                                                     reason="credit hold", valid_from=DAY))
    with pytest.raises(StoreError, match="not a tier of"):
        override_service.create(project, OverrideRequest("tier", "C3", kind="pin", tier="platinum",
                                                         reason="typo", valid_from=DAY))
    outcome = runs.run(project, ["tier"])[0]
    tiers = {g["customer_id"]: g["tier"] for g in _grades(outcome)}
    assert "C1" not in tiers and tiers["C5"] == "silver" and tiers["C2"] == "bronze"
    store = runs.open_store(project)
    try:
        spells = history_service.history(store, "tier", "C1")
        # Excluded: the grade ends with this run.
        assert [(s.tier, s.valid_from, s.valid_to) for s in spells] == [
            ("gold", date(2026, 5, 31), DAY)]
    finally:
        store.close()
    with pytest.raises(NotFoundError):
        override_service.approve(project, 999, actor="supervisor")
