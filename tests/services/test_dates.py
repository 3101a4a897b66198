"""As-of dates and windows out of range, and dates no version covers: clear errors, no asserts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.conftest import write
from tests.sources.shop import YAML, shop
from tierwise.errors import SpecError
from tierwise.services import evaluation, history, runs, versions
from tierwise.services.grading import Project
from tierwise.spec.limits import EARLIEST_AS_OF, LATEST_AS_OF
from tierwise.store import schemes as store_schemes

BOUNDS = "give a date from 1900-01-01 to 2999-12-31"


def test_the_earliest_as_of_date_is_when_first_versions_become_active() -> None:
    assert EARLIEST_AS_OF == store_schemes.FOREVER


@pytest.mark.parametrize(("day", "why"), [
    (date(1, 1, 1), "is before 1900-01-01, the earliest date tierwise grades (a scheme's first "
                    "version is active from 1900-01-01 on"),
    (date(1899, 12, 31), "is before 1900-01-01"),
    (date(9999, 12, 31), "is after 2999-12-31, the latest date tierwise grades"),
])
def test_a_run_as_of_a_date_out_of_range_is_a_spec_error(tmp_path: Path, day: date,
                                                          why: str) -> None:
    project = Project.open(shop(tmp_path))
    with pytest.raises(SpecError) as info:
        runs.run(project, ["value"], as_of=day)
    assert info.value.problems[0].message.startswith(f"as-of date {day} {why}")
    assert str(info.value).endswith(BOUNDS)
    with pytest.raises(SpecError, match=f"as-of date {day} "):
        history.preview(project, "value", as_of=day)
    with pytest.raises(SpecError, match=f"--as-of {day} "):
        evaluation.evaluate(project, ["value"], as_of=day, horizon="12m", outcome="spend_12m")


def test_the_bounds_themselves_are_graded(tmp_path: Path) -> None:
    project = Project.open(shop(tmp_path))
    assert project.as_of(EARLIEST_AS_OF) == EARLIEST_AS_OF
    assert project.as_of(LATEST_AS_OF) == LATEST_AS_OF


def test_backfill_dates_out_of_range_are_refused() -> None:
    with pytest.raises(SpecError, match=r"--from 0001-01-31 is before 1900-01-01"):
        runs.backfill_dates(date(1, 1, 31), date(2026, 6, 30))
    with pytest.raises(SpecError, match=r"--to 9999-12-31 is after 2999-12-31"):
        runs.backfill_dates(date(2026, 1, 31), date(9999, 12, 31))


def test_the_project_file_as_of_is_checked_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, "tierwise.yaml", YAML.replace("as_of: 2026-06-30", "as_of: 0001-01-01"))
    with pytest.raises(SpecError) as info:
        Project.open(tmp_path)
    [problem] = info.value.problems
    assert problem.where.endswith("tierwise.yaml:2") and problem.path == "as_of"
    assert problem.message.startswith("as-of date 0001-01-01 is before 1900-01-01")


@pytest.mark.parametrize("window", ["5000y", "{length: 12m, offset: 201y}", "80000d", "2401m"])
def test_windows_longer_than_200_years_are_refused(tmp_path: Path, window: str) -> None:
    write(tmp_path, "tierwise.yaml", YAML.replace("agg: count, where: \"kind == 'sale'\", "
                                                  "window: 12m", "agg: count, where: \"kind == "
                                                  f"'sale'\", window: {window}"))
    with pytest.raises(SpecError) as info:
        Project.open(tmp_path)
    problem = info.value.problems[0]
    assert problem.path.startswith("indicators.orders_12m.window")
    assert "is longer than 200 years, the longest window, offset or horizon" in problem.message


def test_a_horizon_longer_than_200_years_is_refused(tmp_path: Path) -> None:
    project = Project.open(shop(tmp_path))
    with pytest.raises(SpecError, match=r"--horizon: '5000y' is longer than 200 years"):
        evaluation.evaluate(project, ["value"], as_of=date(2025, 6, 30), horizon="5000y",
                            outcome="spend_12m")


def test_a_date_before_the_first_go_live_names_it(tmp_path: Path) -> None:
    project = Project.open(shop(tmp_path))
    store = runs.open_store(project)
    try:
        # Saved as an edit (not activated), then scheduled to go live on 2026-07-01.
        spec = versions.dump_scheme(project.scheme("value"))
        versions.save_edit(store, project, "value", spec, actor="ann", base=None)
        versions.activate(store, "value", 1, actor="ann", effective_from=date(2026, 7, 1))
    finally:
        store.close()
    expected = (
        "no version of scheme 'value' is active on 2026-06-30; the first version is active "
        "from 2026-07-01 (version 1); grade a date from 2026-07-01 on, or activate a version "
        "from 2026-06-30 with `tierwise scheme activate value 1 --on 2026-06-30`"
    )
    with pytest.raises(SpecError) as info:
        runs.run(project, ["value"], as_of=date(2026, 6, 30))
    assert info.value.problems[0].message == expected
    with pytest.raises(SpecError) as info:
        history.preview(project, "value", as_of=date(2026, 6, 30))
    assert info.value.problems[0].message == expected
    # From the go-live date on, the version grades.
    assert runs.run(project, ["value"], as_of=date(2026, 7, 1))[0].status == "done"


def test_a_queued_run_refuses_a_date_out_of_range_at_once(tmp_path: Path) -> None:
    from tierwise.services.jobs import Jobs

    project = Project.open(shop(tmp_path))
    with pytest.raises(SpecError, match=r"as-of date 0001-01-01 is before 1900-01-01"):
        Jobs().start(project, ["value"], as_of=date(1, 1, 1), force=False, actor="ann")
