"""Backfill 24 months and answer point-in-time questions; transitions; stability across runs."""

from __future__ import annotations

import itertools
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.services.conftest import CUSTOMERS, expected_tier
from tierwise.engine import Engine
from tierwise.errors import ConflictError, QueryTimeout
from tierwise.services import history as history_service
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.store import runs as store_runs

DATES = runs.backfill_dates(date(2024, 7, 1), date(2026, 6, 30))


def test_backfill_dates_are_month_ends() -> None:
    assert len(DATES) == 24
    assert DATES[0] == date(2024, 7, 31) and DATES[7] == date(2025, 2, 28)
    assert DATES[-1] == date(2026, 6, 30)
    assert runs.backfill_dates(date(2026, 1, 1), date(2026, 1, 22), "7d") == [
        date(2026, 1, 1), date(2026, 1, 8), date(2026, 1, 15), date(2026, 1, 22)]


def test_point_in_time_answers_match_the_hand_computed_tiers(months: Path) -> None:
    project = Project.open(months)
    outcomes = runs.backfill(project, ["tier"], DATES)
    assert [o.status for o in outcomes] == ["done"] * 24
    store = runs.open_store(project)
    try:
        for customer in CUSTOMERS:
            spells = history_service.history(store, "tier", customer)
            # Spells tile the history: each ends where the next starts, tiers alternate.
            assert spells[0].valid_from == DATES[0]
            for a, b in itertools.pairwise(spells):
                assert a.valid_to == b.valid_from and a.tier != b.tier
            assert spells[-1].valid_to is None
            # Every day from the first run on answers with the tier of the run in force.
            day = DATES[0]
            while day <= date(2026, 7, 31):
                in_force = max(d for d in DATES if d <= day)
                got = history_service.tier_on(store, "tier", customer, day)
                assert got is not None and got.tier == expected_tier(customer, in_force), (
                    customer, day)
                day += timedelta(days=9)
            assert history_service.tier_on(store, "tier", customer, date(2024, 7, 30)) is None
        # Spelled out for one customer: monthly buyer until June 2025.
        c2 = [(s.tier, s.valid_from, s.valid_to) for s in history_service.history(
            store, "tier", "C2")]
        assert c2 == [("gold", date(2024, 7, 31), date(2025, 7, 31)),
                      ("silver", date(2025, 7, 31), date(2025, 9, 30)),
                      ("bronze", date(2025, 9, 30), None)]
        # The run summary counts per tier equal the grades file.
        last = history_service.latest_run(store, "tier")
        summary = history_service.summary(store, last.id)
        assert {t.tier: t.customers for t in summary.tiers} == {
            "gold": 1, "silver": 0, "bronze": 4}
        assert sum(t.value_sum or 0 for t in summary.tiers) == 300.0
    finally:
        store.close()


def test_transitions_between_two_runs(months: Path) -> None:
    project = Project.open(months)
    runs.backfill(project, ["tier"], [date(2025, 6, 30), date(2025, 7, 31)])
    store = runs.open_store(project)
    try:
        new = history_service.latest_run(store, "tier", date(2025, 7, 31))
        old = history_service.previous_run(store, new)
        moves = history_service.compare_runs(store, old, new)
        # C2 gold -> silver (one order in the window left); C3 gold -> bronze? No: C3's
        # January orders left the window in April. Hand: June: C1 gold, C2 gold, C3 bronze,
        # C4 bronze, C5 bronze; July: C1 gold, C2 silver, rest bronze.
        assert moves.counts == {"up": 0, "down": 1, "status_entry": 0, "status_exit": 0,
                                "entry": 0, "exit": 0, "same": 4}
        down = moves.movers["down"]
        assert [(m["customer_id"], m["from_tier"], m["to_tier"]) for m in down] == [
            ("C2", "gold", "silver")]
        assert down[0]["orders_3m_before"] == 3 and down[0]["orders_3m_after"] == 2
        assert moves.matrix(["gold", "silver", "bronze"])[0] == [1, 1, 0, 0]
        assert moves.samples[("gold", "silver")] == ["C2"]
    finally:
        store.close()


def test_grace_period_holds_downgrades_and_says_so(months: Path) -> None:
    project = Project.open(months)
    runs.backfill(project, ["steady"], DATES)
    store = runs.open_store(project)
    try:
        c2 = [(s.tier, s.valid_from) for s in history_service.history(store, "steady", "C2")]
        # Computed silver from July 2025 and bronze from September: each downgrade waits for a
        # second run below.
        assert c2 == [("gold", date(2024, 7, 31)), ("silver", date(2025, 8, 31)),
                      ("bronze", date(2025, 10, 31))]
        with store.connect() as conn:
            july = store_runs.listing(conn, "steady", as_of=date(2025, 7, 31))[0]
        grades = pq.read_table(Path(july.folder or "") / "grades.parquet").to_pylist()
        row = next(g for g in grades if g["customer_id"] == "C2")
        assert (row["tier"], row["computed_tier"], row["policy"]) == ("gold", "silver", "grace")
        assert (row["policy_n"], row["policy_of"]) == (1, 2)
        with store.connect() as conn:
            held = {t.tier: t.held for t in store_runs.tier_counts(conn, july.id)}
        assert held["gold"] == 1
    finally:
        store.close()
    from tierwise.services.explain_run import explain

    exp = explain(project, "steady", "C2", as_of=date(2025, 7, 31))
    assert "held in gold: grace period 1 of 2" in exp.grade["reasons"].lower()


def test_history_is_built_forward(months: Path) -> None:
    project = Project.open(months)
    runs.backfill(project, ["tier"], [date(2025, 6, 30)])
    with pytest.raises(ConflictError, match="history is built forward"):
        runs.run(project, ["tier"], as_of=date(2025, 5, 31))
    # A forced backfill from the earlier date rebuilds the later run too.
    again = runs.backfill(project, ["tier"], [date(2025, 5, 31)], force=True)
    assert [o.as_of for o in again] == [date(2025, 5, 31), date(2025, 6, 30)]
    store = runs.open_store(project)
    try:
        with store.connect() as conn:
            statuses = sorted((r.as_of, r.status) for r in store_runs.listing(conn, "tier"))
        assert statuses == [(date(2025, 5, 31), "done"), (date(2025, 6, 30), "done"),
                            (date(2025, 6, 30), "superseded")]
    finally:
        store.close()


def test_a_shared_scan_backfill_equals_one_scan_per_date(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.services.conftest import write_months

    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)
    dates = DATES[-9:]
    tables: dict[str, list[tuple[list[dict[str, object]], list[dict[str, object]]]]] = {}
    for label, per_scan in (("shared", 32), ("alone", 1)):
        monkeypatch.setattr(runs, "_METRICS_PER_SCAN", per_scan)
        project = Project.open(write_months(tmp_path / label))
        assert len(runs._batches(project, [project.scheme("tier"), project.scheme("steady")],
                                 dates)) == (
            1 if per_scan == 32 else 9)
        outcomes = runs.backfill(project, ["tier", "steady"], dates)
        tables[label] = [
            (pq.read_table(Path(o.folder or "") / "grades.parquet").sort_by(
                "customer_id").to_pylist(),
             pq.read_table(Path(o.folder or "") / "features.parquet").sort_by(
                 "customer_id").to_pylist())
            for o in outcomes]
    assert len(tables["shared"]) == 18
    assert tables["shared"] == tables["alone"]


def test_compacted_history_answers_like_the_change_files(months: Path) -> None:
    from tierwise.services.history_files import COMPACT_AFTER, history_files

    project = Project.open(months)
    dates = DATES[:COMPACT_AFTER + 1]
    runs.backfill(project, ["tier"], dates)
    store = runs.open_store(project)
    try:
        with store.connect() as conn:
            history_runs = store_runs.history_runs(conn, "tier")
        files = history_files(history_runs)
        # One merged file for the first eight runs, one change file for the ninth.
        assert len(files) == 2 and Path(files[0]).parent.name == "history"
        # Re-grade from the eighth date: its merged run is superseded, the new runs are read
        # from their own files, and the superseded rows in the merged file are ignored.
        runs.backfill(project, ["tier"], [dates[-2]], force=True)
        with store.connect() as conn:
            history_runs = store_runs.history_runs(conn, "tier")
        assert len(history_files(history_runs)) == 3
        for customer in CUSTOMERS:
            for day in dates:
                got = history_service.tier_on(store, "tier", customer, day)
                assert got is not None and got.tier == expected_tier(customer, day)
                assert got.run_id in {r.id for r in history_runs}
    finally:
        store.close()


def test_a_preview_past_its_time_limit_is_stopped(
    months: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Project.open(months)
    runs.run(project, ["tier"])
    assert history_service.preview(project, "tier", timeout=60).active == 1  # in time
    # Five customers grade in milliseconds; a query taking minutes stands in for a big base.
    materialize = Engine.materialize

    def slow(self: Engine, name: str, expr: Any) -> Any:
        self.backend.con.execute(
            "SELECT sum(a.range % 7 * b.range) FROM range(100000000) a, range(100) b"
        ).fetchall()
        return materialize(self, name, expr)

    monkeypatch.setattr(Engine, "materialize", slow)
    start = time.perf_counter()
    with pytest.raises(QueryTimeout, match=r"^the preview took longer than 0.5 s and was "
                       r"stopped; preview from the command line"):
        history_service.preview(project, "tier", timeout=0.5)
    assert time.perf_counter() - start < 10
