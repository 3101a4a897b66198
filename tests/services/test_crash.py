"""A run killed with SIGKILL at any of 21 points leaves nothing visible; the re-run equals an
uninterrupted run."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.services.conftest import write_months
from tierwise.services import history as history_service
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.store import audit
from tierwise.store import runs as store_runs

SCHEMES = ["tier", "steady"]
BEFORE, DAY = date(2025, 5, 31), date(2025, 6, 30)
POINTS = ["in_start", "after_start", "after_features"] + [
    f"{point}:{scheme}" for scheme in SCHEMES for point in (
        "after_policy", "after_grade", "written_grades", "written_changes.parquet",
        "before_rename", "after_write", "in_commit", "before_commit", "after_commit")]


def _project(folder: Path) -> Project:
    write_months(folder)
    project = Project.open(folder)
    # The killed run has a run before it, so policies and changes read a previous run.
    runs.backfill(project, SCHEMES, [BEFORE])
    return project


def _grades(project: Project, scheme: str) -> pa.Table:
    store = runs.open_store(project)
    try:
        run = history_service.latest_run(store, scheme, DAY)
    finally:
        store.close()
    return pq.read_table(Path(run.folder or "") / "grades.parquet").sort_by("customer_id")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    project = _project(tmp_path_factory.mktemp("reference"))
    runs.backfill(project, SCHEMES, [DAY])
    return {s: _grades(project, s) for s in SCHEMES}


def _committed(point: str) -> set[str]:
    """The schemes whose run had committed when the process died at ``point``.

    The schemes of one call share the load and features, then each is graded, written and
    committed in turn: each scheme's run is atomic on its own.
    """
    if ":" not in point:
        return set()
    scheme = point.split(":", 1)[1]
    done = set(SCHEMES[:SCHEMES.index(scheme)])
    return done | {scheme} if point.startswith("after_commit") else done


def test_there_are_twenty_points() -> None:
    assert len(set(POINTS)) >= 20


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_a_killed_run_leaves_nothing_visible(point: str, tmp_path: Path,
                                             reference: dict[str, pa.Table],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)
    project = _project(tmp_path / "project")
    env = {**os.environ, runs.FAULT_ENV: point}
    env.pop("TIERWISE_STORE_URL", None)
    killed = subprocess.run(
        [sys.executable, "-c", "from tierwise.cli.main import main; main()", "backfill",
         *SCHEMES, "--from", str(DAY), "--to", str(DAY), "-p", str(project.root)],
        env=env, capture_output=True, text=True, timeout=120, check=False)
    assert killed.returncode == -9, (point, killed.stdout, killed.stderr)

    store = runs.open_store(project)
    try:
        with store.connect() as conn:
            assert audit.verify(conn).ok
            for scheme in SCHEMES:
                done = store_runs.listing(conn, scheme, statuses=(store_runs.DONE,), as_of=DAY)
                assert bool(done) == (scheme in _committed(point)), (point, scheme)
                for run in done:  # a visible run is complete
                    grades = pq.read_table(Path(run.folder or "") / "grades.parquet")
                    counts = store_runs.tier_counts(conn, run.id)
                    assert grades.num_rows == run.customers == sum(c.customers for c in counts)
                    assert (Path(run.folder or "") / "changes.parquet").exists()
                if scheme not in _committed(point):
                    # Readers still see the grade of the run before.
                    spell = history_service.tier_on(store, scheme, "C2", DAY)
                    assert spell is not None and spell.valid_from == BEFORE
    finally:
        store.close()

    again = runs.backfill(project, SCHEMES, [DAY])
    assert sorted(o.scheme for o in again if o.status == "done") == sorted(
        set(SCHEMES) - _committed(point))
    for scheme in SCHEMES:
        assert _grades(project, scheme).equals(reference[scheme]), (point, scheme)
    store = runs.open_store(project)
    try:
        with store.connect() as conn:
            leftovers = [r for s in SCHEMES for r in store_runs.listing(conn, s)
                         if r.status == store_runs.RUNNING]
            assert leftovers == []
    finally:
        store.close()
