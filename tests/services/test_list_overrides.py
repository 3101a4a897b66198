"""The customer list and its exports show an override saved after the run at once, as the
customer's page does (services.overlay): a customer pinned to a tier is listed in it, one
excluded is left out, and a revoked override stops showing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.services.listed import record_two_runs, write_listed
from tierwise.services import overrides as override_service
from tierwise.services import runs
from tierwise.services.customer_list import ListQuery, listing
from tierwise.services.grading import Project
from tierwise.services.list_actions import export_list
from tierwise.services.list_table import forget
from tierwise.store import Store
from tierwise.store.overrides import OverrideRequest

JUNE = date(2026, 6, 30)


@pytest.fixture
def listed(tmp_path: Path) -> Iterator[tuple[Project, Store]]:
    project = record_two_runs(write_listed(tmp_path / "p", f"sqlite:///{tmp_path / 'store.db'}"),
                              ("tier",))
    store = runs.open_store(project)
    yield project, store
    store.close()
    forget()


def _ids(project: Project, store: Store, tier: str) -> list[str]:
    found = listing(project, store, ListQuery("tier", tier=tier, per_page=100))
    return [str(r["customer_id"]) for r in found.rows]


def test_overrides_saved_after_the_run_show_in_the_list_and_the_export(
        listed: tuple[Project, Store]) -> None:
    project, store = listed
    assert _ids(project, store, "gold") == ["C1"]
    bronze = _ids(project, store, "bronze")
    assert "C3" in bronze and "C5" in bronze
    pinned = override_service.create(project, OverrideRequest(
        "tier", "C5", kind="pin", tier="gold", reason="corporate account", valid_from=JUNE),
        actor="sam", store=store)
    override_service.create(project, OverrideRequest(
        "tier", "C3", kind="exclude", tier=None, reason="disputed", valid_from=JUNE),
        actor="sam", store=store)
    assert _ids(project, store, "gold") == ["C1", "C5"]
    assert "C3" not in _ids(project, store, "bronze") + _ids(project, store, "gold")
    made = export_list(project, store, ListQuery("tier", tier="gold"), "xlsx", visible=None,
                       actor="sam")
    sheet = load_workbook(io.BytesIO(made.content), read_only=True).worksheets[0]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["C1", "C5"]
    override_service.revoke(project, pinned.id, actor="sam", store=store)
    assert _ids(project, store, "gold") == ["C1"]
