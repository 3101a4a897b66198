"""Scheme governance: overrides never touch versions, approval is versioned, runs keep texts,
backdating is limited and approved, overrides only for graded customers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tierwise.errors import NotFoundError, SpecError
from tierwise.services import overrides as override_service
from tierwise.services import runs
from tierwise.services import versions as version_service
from tierwise.services.grading import Project
from tierwise.services.overrides import OverrideRequest
from tierwise.store import audit
from tierwise.store import schemes as store_schemes

MAY, JUNE = date(2026, 5, 31), date(2026, 6, 30)


def _edit(months: Path, old: str, new: str) -> Project:
    path = months / "tierwise.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return Project.open(months)


def _events(project: Project) -> list[str]:
    store = runs.open_store(project)
    try:
        with store.connect() as conn:
            return [e.action for e in audit.events(conn, limit=1000)]
    finally:
        store.close()


def _versions(project: Project, scheme: str) -> list[store_schemes.Version]:
    store = runs.open_store(project)
    try:
        with store.connect() as conn:
            return store_schemes.versions(conn, scheme)
    finally:
        store.close()


def test_an_override_never_rewrites_the_schemes_texts(months: Path) -> None:
    project = Project.open(months)
    runs.run(project, ["tier"], as_of=JUNE)
    before = _versions(project, "tier")
    edited = _edit(months, "label: Gold,", "label: Platinum,")  # a label edit on disk
    override_service.create(edited, OverrideRequest("tier", "C2", kind="pin", tier="gold",
                                                    reason="key account",
                                                    valid_from=JUNE), actor="manager")
    assert _versions(edited, "tier") == before
    assert "version.texts_updated" not in _events(edited)


def test_a_run_leaves_texts_to_someone_with_edit_rights(months: Path) -> None:
    project = Project.open(months)
    runs.backfill(project, ["tier"], [MAY])
    edited = _edit(months, "label: Gold,", "label: Platinum,")
    outcome = runs.run(edited, ["tier"], as_of=JUNE)[0]
    assert any("labels or texts differ" in n and "scheme save tier" in n for n in outcome.notes)
    assert _versions(edited, "tier")[0].spec["tiers"][0]["label"]["en"] == "Gold"
    store = runs.open_store(edited)
    try:
        version_service.save(store, edited, "tier", actor="supervisor")  # `tierwise scheme save`
    finally:
        store.close()
    assert _versions(edited, "tier")[0].spec["tiers"][0]["label"]["en"] == "Platinum"
    assert "version.texts_updated" in _events(edited)


def test_switching_approval_is_a_new_version_activated_like_any_other(months: Path) -> None:
    project = Project.open(months)
    runs.run(project, ["tier"], as_of=JUNE)
    lax = _edit(months, "    fallback: bronze\n  steady:",
                "    fallback: bronze\n    overrides: {require_approval: true}\n  steady:")
    outcome = runs.run(lax, ["tier"], as_of=JUNE, force=True)[0]
    assert outcome.version == 1 and any("tierwise.yaml is version 2" in n for n in outcome.notes)
    versions = _versions(lax, "tier")
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].fingerprint != versions[1].fingerprint
    # Version 1 is still active: its rule (no approval) governs.
    made = override_service.create(lax, OverrideRequest("tier", "C2", kind="pin", tier="gold",
                                                        reason="r",
                                                        valid_from=JUNE), actor="manager")
    assert made.status == "active"
    store = runs.open_store(lax)
    try:
        version_service.activate(store, "tier", 2, actor="supervisor")
    finally:
        store.close()
    override_service.revoke(lax, made.id, actor="manager")
    again = override_service.create(lax, OverrideRequest("tier", "C3", kind="pin", tier="gold",
                                                         reason="r",
                                                         valid_from=JUNE), actor="manager")
    assert again.status == "pending"


def test_backdating_is_limited_and_needs_approval(months: Path) -> None:
    project = Project.open(months)
    runs.backfill(project, ["tier"], [MAY, JUNE])
    with pytest.raises(SpecError, match=r"9,677 days before the latest run's as-of date "
                                        r"2026-06-30; scheme 'tier' allows at most 31"):
        override_service.create(project, OverrideRequest("tier", "C2", kind="pin", tier="gold",
                                                         reason="old",
                                                         valid_from=date(2000, 1, 1)),
                                actor="manager")
    back = override_service.create(project, OverrideRequest("tier", "C2", kind="pin", tier="gold",
                                                            reason="missed last month",
                                                            valid_from=MAY), actor="manager")
    assert back.status == "pending"  # the scheme needs no approval, but this rewrites history
    store = runs.open_store(project)
    try:
        with store.connect() as conn:
            created = [e for e in audit.events(conn, object_type="override")
                       if e.action == "override.created"]
    finally:
        store.close()
    assert created[0].after["backdated"] is True
    ahead = override_service.create(project, OverrideRequest("tier", "C3", kind="pin", tier="gold",
                                                             reason="r",
                                                             valid_from=JUNE), actor="manager")
    assert ahead.status == "active"


def test_overrides_only_for_graded_customers(months: Path) -> None:
    project = Project.open(months)
    with pytest.raises(NotFoundError, match="not in the store yet"):
        override_service.create(project, OverrideRequest("tier", "C1", kind="pin", tier="gold",
                                                         reason="r"))
    runs.run(project, ["tier"], as_of=JUNE)
    with pytest.raises(NotFoundError, match=r"'C404' is not among the 5 customers of 'tier'"):
        override_service.create(project, OverrideRequest("tier", "C404", kind="pin", tier="gold",
                                                         reason="r"))
