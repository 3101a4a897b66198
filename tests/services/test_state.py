"""Kept state: a re-grade from new files gives the features and grades of a full run.

Every test compares the incremental run with a full run over the same files, customer by
customer and indicator by indicator (exact equality: the sums are whole numbers either way).
"""

from __future__ import annotations

import json
import os
import random
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tierwise.errors import DataError
from tierwise.services.features import prepare_features
from tierwise.services.project import Project, open_engine
from tierwise.services.state import state_dir

INDICATORS = """
indicators:
  orders_12m: {source: transactions, agg: count, window: 12m}
  orders_1m: {source: transactions, agg: count, window: 1m}
  orders_last_year: {source: transactions, agg: count, window: {length: 12m, offset: 12m}}
  spend_12m: {source: transactions, agg: sum, column: amount, window: 12m}
  sales_3m: {source: transactions, agg: sum, column: amount, window: 3m, where: "kind == 'sale'"}
  basket_90d: {source: transactions, agg: avg, column: amount, window: 90d}
  units: {source: transactions, agg: sum, column: units}
  days_since_last: {source: transactions, agg: days_since_last, where: "kind == 'sale'"}
  days_since_first: {source: transactions, agg: days_since_first}
  purchase_days: {source: transactions, agg: count_distinct, column: order_date}
  purchase_days_6m: {source: transactions, agg: count_distinct, column: order_date, window: 6m}
  biggest: {source: transactions, agg: max, column: amount}
  smallest: {source: transactions, agg: min, column: amount}
"""


def _project(root: Path, *, incremental: bool, extra: str = "") -> Project:
    root.mkdir(parents=True, exist_ok=True)
    (root / "tierwise.yaml").write_text(f"""
name: state-test
incremental: {str(incremental).lower()}
sources:
  customers: {{path: customers.parquet, id: customer_id}}
  transactions:
    path: ../tx
    format: parquet
    id: customer_id
    time: order_date
    refunds: "kind == 'refund'"
{INDICATORS}{extra}
schemes:
  value:
    method: rules
    fallback: low
    tiers:
      - {{key: high, when: "spend_12m >= 500"}}
      - {{key: low}}
""", encoding="utf-8")
    return Project.open(root)


def _rows(seed: int, start: date, days: int, count: int, customers: int) -> pa.Table:
    rng = random.Random(seed)
    ids, when, amount, kind, units = [], [], [], [], []
    for _ in range(count):
        ids.append(f"C{rng.randrange(customers):04d}")
        when.append(start + timedelta(days=rng.randrange(days)))
        refund = rng.random() < 0.1
        amount.append(round(-rng.uniform(1, 50) if refund else rng.uniform(0.01, 400), 2))
        kind.append("refund" if refund else "sale")
        units.append(rng.randrange(1, 5))
    return pa.table({"customer_id": ids, "order_date": pa.array(when, pa.date32()),
                     "amount": amount, "kind": kind, "units": units})


def _setup(root: Path, customers: int = 300, extra: str = "") -> None:
    """Two projects over the same files in ``root/tx``: ``inc`` keeps state, ``cold`` not."""
    (root / "tx").mkdir(parents=True, exist_ok=True)
    for sub in ("inc", "cold"):
        folder = root / sub
        _project(folder, incremental=sub == "inc", extra=extra)
        pq.write_table(pa.table({"customer_id": [f"C{i:04d}" for i in range(customers)]}),
                       folder / "customers.parquet")


def _add(root: Path, name: str, table: pa.Table) -> None:
    pq.write_table(table, root / "tx" / f"{name}.parquet", row_group_size=500)


def _features(project: Project, day: date) -> tuple[dict[str, dict[str, object]], tuple[str, ...]]:
    with open_engine(project) as engine:
        built = prepare_features(project, engine, as_of=day,
                                 indicators=list(project.spec.indicators), keep_state=True)
        frame = engine.to_arrow(built.table).to_pylist()
    return {r["customer_id"]: r for r in frame}, tuple(built.quality.state.values())


def _same(root: Path, day: date) -> tuple[str, ...]:
    inc, notes = _features(Project.open(root / "inc"), day)
    cold, cold_notes = _features(Project.open(root / "cold"), day)
    assert cold_notes == ()
    assert inc.keys() == cold.keys()
    differ = [(c, k, inc[c][k], cold[c][k]) for c in cold for k in cold[c]
              if inc[c][k] != cold[c][k]]
    assert differ == [], differ[:5]
    return notes


def test_daily_files_brought_forward_equal_a_full_run(tmp_path: Path) -> None:
    _setup(tmp_path)
    _add(tmp_path, "history", _rows(1, date(2024, 1, 1), 900, 20_000, 300))
    day = date(2026, 6, 18)
    notes = _same(tmp_path, day)
    assert "no state yet" in notes[0]
    for step in range(1, 6):
        new_day = day + timedelta(days=step * 3)
        _add(tmp_path, f"day{step}", _rows(10 + step, day + timedelta(days=1 + (step - 1) * 3),
                                          3, 200, 320 if step == 3 else 300))
        notes = _same(tmp_path, new_day) if step != 3 else notes
        if step == 3:  # unknown customers in the new file: the same error as a full run
            for sub in ("inc", "cold"):
                with pytest.raises(DataError, match=r"missing from the customers .*\(11 rows\)"):
                    _features(Project.open(tmp_path / sub), new_day)
            os.remove(tmp_path / "tx" / "day3.parquet")
            _add(tmp_path, "day3", _rows(13, day + timedelta(days=7), 3, 200, 300))
            notes = _same(tmp_path, new_day)
            assert "removed" in notes[0] or "brought forward" in notes[0]
        else:
            assert "brought forward" in notes[0], notes


def test_a_jump_longer_than_a_window_equals_a_full_run(tmp_path: Path) -> None:
    _setup(tmp_path)
    _add(tmp_path, "history", _rows(2, date(2024, 1, 1), 800, 10_000, 300))
    _same(tmp_path, date(2026, 3, 10))
    _add(tmp_path, "later", _rows(3, date(2026, 3, 11), 120, 2_000, 300))
    notes = _same(tmp_path, date(2026, 7, 9))
    assert "brought forward" in notes[0]


def test_a_rewritten_file_rebuilds(tmp_path: Path) -> None:
    _setup(tmp_path)
    _add(tmp_path, "history", _rows(4, date(2025, 1, 1), 500, 5_000, 300))
    _same(tmp_path, date(2026, 5, 20))
    changed = _rows(4, date(2025, 1, 1), 500, 5_000, 300)
    changed = changed.set_column(2, "amount", pa.array([a + 1.0 for a in
                                                        changed["amount"].to_pylist()]))
    _add(tmp_path, "history", changed)
    notes = _same(tmp_path, date(2026, 5, 21))
    assert "state rebuilt" in notes[0] and "changed" in notes[0]


def test_a_backdated_event_rebuilds(tmp_path: Path) -> None:
    _setup(tmp_path)
    _add(tmp_path, "history", _rows(5, date(2025, 1, 1), 500, 5_000, 300))
    _same(tmp_path, date(2026, 5, 20))
    late = _rows(6, date(2026, 5, 21), 2, 100, 300)
    dates = late["order_date"].to_pylist()
    dates[7] = date(2026, 5, 2)
    _add(tmp_path, "late", late.set_column(1, "order_date", pa.array(dates, pa.date32())))
    notes = _same(tmp_path, date(2026, 5, 22))
    assert "dated on or before 2026-05-20" in notes[0]
    # ... and the rebuilt state carries on from there
    _add(tmp_path, "next", _rows(7, date(2026, 5, 23), 1, 100, 300))
    assert "brought forward" in _same(tmp_path, date(2026, 5, 23))[0]


def test_a_changed_definition_rebuilds(tmp_path: Path) -> None:
    _setup(tmp_path)
    _add(tmp_path, "history", _rows(8, date(2025, 1, 1), 500, 5_000, 300))
    _same(tmp_path, date(2026, 5, 20))
    for sub in ("inc", "cold"):
        path = tmp_path / sub / "tierwise.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace(
            "window: 12m}\n  orders_1m", "window: 11m}\n  orders_1m"), encoding="utf-8")
    notes = _same(tmp_path, date(2026, 5, 21))
    assert "indicator orders_12m changed" in notes[0]


def test_a_damaged_manifest_or_state_file_rebuilds(tmp_path: Path) -> None:
    _setup(tmp_path)
    _add(tmp_path, "history", _rows(9, date(2025, 1, 1), 500, 5_000, 300))
    _same(tmp_path, date(2026, 5, 20))
    folder = state_dir(Project.open(tmp_path / "inc"))
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / manifest["sources"]["transactions"]["file"]).unlink()
    assert "state file is missing" in _same(tmp_path, date(2026, 5, 21))[0]
    (folder / "manifest.json").write_text("{not json")
    assert "no state yet" in _same(tmp_path, date(2026, 5, 22))[0]
    # A state that does not stand for the rows its files hold is caught before it is kept.
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["sources"]["transactions"]["rows"] -= 1
    (folder / "manifest.json").write_text(json.dumps(manifest))
    _add(tmp_path, "more", _rows(12, date(2026, 5, 23), 1, 50, 300))
    notes = _same(tmp_path, date(2026, 5, 23))
    assert "5050 rows read where the files hold 5049" in notes[0], notes


def test_an_earlier_date_is_read_in_full_and_keeps_the_state(tmp_path: Path) -> None:
    _setup(tmp_path)
    _add(tmp_path, "history", _rows(10, date(2025, 1, 1), 400, 5_000, 300))
    _same(tmp_path, date(2026, 5, 20))
    notes = _same(tmp_path, date(2026, 4, 1))
    assert "later date, 2026-05-20" in notes[0]
    assert "brought forward from the state of 2026-05-20" in _same(tmp_path,
                                                                   date(2026, 5, 25))[0]


def test_indicators_that_cannot_be_brought_forward_read_everything(tmp_path: Path) -> None:
    _setup(tmp_path, extra="  top_12m: {source: transactions, agg: max, column: amount, "
                           "window: 12m}\n")
    _add(tmp_path, "history", _rows(11, date(2025, 1, 1), 500, 5_000, 300))
    inc, notes = _features(Project.open(tmp_path / "inc"), date(2026, 5, 20))
    cold, _ = _features(Project.open(tmp_path / "cold"), date(2026, 5, 20))
    assert inc == cold
    assert "read in full" in notes[0] and "top_12m" in notes[0]


def test_recorded_runs_say_how_each_source_was_read(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.cli.running import flat, invoke

    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    monkeypatch.setenv("COLUMNS", "200")
    _setup(tmp_path)
    _add(tmp_path, "history", _rows(13, date(2025, 1, 1), 500, 5_000, 300))
    first = invoke("run", "value", "-p", tmp_path / "inc", "--as-of", "2026-05-20")
    assert first.exit_code == 0, first.output
    assert "state rebuilt from every file (no state yet)" in flat(first.output)
    _add(tmp_path, "next", _rows(14, date(2026, 5, 21), 1, 80, 300))
    second = invoke("run", "value", "-p", tmp_path / "inc", "--as-of", "2026-05-21",
                    "--lang", "zh")
    assert second.exit_code == 0, second.output
    assert "transactions：由 2026-05-20 的保存状态增量更新（1 个新文件）" in flat(second.output)
    runs = sorted((tmp_path / "inc" / "output" / "value" / "runs").iterdir(),
                  key=lambda p: int(p.name))
    info = json.loads((runs[-1] / "run.json").read_text(encoding="utf-8"))
    assert info["sources_read"]["transactions"].startswith("transactions: brought forward")
    # The recorded grades equal a full run's
    cold = invoke("run", "value", "-p", tmp_path / "cold", "--as-of", "2026-05-21")
    assert cold.exit_code == 0, cold.output
    cold_runs = sorted((tmp_path / "cold" / "output" / "value" / "runs").iterdir(),
                       key=lambda p: int(p.name))
    mine, theirs = (pq.read_table(r[-1] / "grades.parquet").sort_by("customer_id")
                    for r in (runs, cold_runs))
    assert mine.select(["customer_id", "tier"]) == theirs.select(["customer_id", "tier"])


def test_customers_without_events_keep_the_default(tmp_path: Path) -> None:
    _setup(tmp_path, customers=320,
           extra="  n_default: {source: transactions, agg: count, window: 12m, default: -1}\n")
    _add(tmp_path, "history", _rows(15, date(2025, 1, 1), 500, 5_000, 300))
    _same(tmp_path, date(2026, 5, 20))
    _add(tmp_path, "next", _rows(16, date(2026, 5, 21), 1, 50, 300))
    assert "brought forward" in _same(tmp_path, date(2026, 5, 21))[0]
    inc, _notes = _features(Project.open(tmp_path / "inc"), date(2026, 5, 21))
    assert inc["C0310"]["n_default"] == -1


def test_rows_without_a_customer_do_not_unsettle_the_state(tmp_path: Path) -> None:
    _setup(tmp_path)
    history = _rows(17, date(2025, 1, 1), 500, 3_000, 300)
    ids = history["customer_id"].to_pylist()
    ids[5] = None
    _add(tmp_path, "history", history.set_column(0, "customer_id", pa.array(ids, pa.string())))
    _same(tmp_path, date(2026, 5, 20))
    later = _rows(18, date(2026, 5, 21), 1, 40, 300)
    ids = later["customer_id"].to_pylist()
    ids[0] = None
    _add(tmp_path, "next", later.set_column(0, "customer_id", pa.array(ids, pa.string())))
    assert "brought forward" in _same(tmp_path, date(2026, 5, 21))[0]


def test_a_column_read_with_another_type_rebuilds(tmp_path: Path) -> None:
    _setup(tmp_path)
    _add(tmp_path, "history", _rows(19, date(2025, 1, 1), 500, 3_000, 300))
    _same(tmp_path, date(2026, 5, 20))
    # A new file sorting first, whose units are doubles: the files are now read with doubles
    later = _rows(20, date(2026, 5, 21), 1, 40, 300)
    later = later.set_column(4, "units", pa.array([float(u) + 0.5 for u in
                                                    later["units"].to_pylist()]))
    _add(tmp_path, "0-first", later)
    assert "the source's definition changed" in _same(tmp_path, date(2026, 5, 21))[0]


def test_files_a_folder_read_leaves_out_are_left_out_in_both_ways(tmp_path: Path) -> None:
    _setup(tmp_path)
    _add(tmp_path, "history", _rows(21, date(2025, 1, 1), 500, 3_000, 300))
    _add(tmp_path, "_being_written", _rows(22, date(2025, 1, 1), 500, 3_000, 300))
    (tmp_path / "tx" / "nested").mkdir()
    pq.write_table(_rows(23, date(2025, 1, 1), 500, 100, 300),
                   tmp_path / "tx" / "nested" / "part.parquet")
    _same(tmp_path, date(2026, 5, 20))
    inc, _notes = _features(Project.open(tmp_path / "inc"), date(2026, 5, 20))
    assert sum(r["orders_12m"] for r in inc.values()) < 3_100 * 0.9  # not 6,100 rows' worth


def test_a_manifest_of_another_layout_rebuilds(tmp_path: Path) -> None:
    _setup(tmp_path)
    _add(tmp_path, "history", _rows(24, date(2025, 1, 1), 500, 3_000, 300))
    _same(tmp_path, date(2026, 5, 20))
    folder = state_dir(Project.open(tmp_path / "inc"))
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["sources"]["transactions"]["members"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    notes = _same(tmp_path, date(2026, 5, 21))
    assert "unreadable or from another version" in notes[0]
