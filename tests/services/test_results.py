"""The results service on a real recorded store: per-tier figures, value, change, moves."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tierwise.errors import SpecError
from tierwise.services import runs
from tierwise.services.customers import NOT_GRADED, CustomerQuery, search
from tierwise.services.grading import Project
from tierwise.services.results import FROM_PROJECT, FROM_SCHEME, Results, _joined, results

MAY, JUNE = date(2026, 5, 31), date(2026, 6, 30)


def _recorded(folder: Path, schemes: list[str], days: list[date]) -> Project:
    project = Project.open(folder)
    runs.backfill(project, schemes, days)
    return project


def _results(folder: Path, scheme: str, days: list[date]) -> Results:
    """The results of ``scheme`` after recorded runs on ``days``."""
    project = _recorded(folder, [scheme], days)
    store = runs.open_store(project)
    try:
        return results(store, scheme, project=project.spec)
    finally:
        store.close()


def test_counts_shares_values_and_change_since_previous_run(months: Path) -> None:
    found = _results(months, "tier", [MAY, JUNE])
    # June: C1 gold (orders in Apr, May, Jun); C2, C3, C4, C5 bronze (none in Apr-Jun for them).
    # May: C1 gold, C4 silver (its March order), C2, C3, C5 bronze.
    assert found.run.as_of == JUNE and found.previous is not None
    assert found.previous.as_of == MAY
    by_key = {t.key: t for t in found.tiers}
    assert [t.key for t in found.tiers] == ["gold", "silver", "bronze"]
    assert found.customers == 5
    assert (by_key["gold"].customers, by_key["silver"].customers,
            by_key["bronze"].customers) == (1, 0, 4)
    assert by_key["bronze"].share == pytest.approx(0.8)  # 4 / 5
    # Value: the scheme's spend_3m, 3 orders x 100 = 300, all of it gold's.
    assert found.measure.indicator == "spend_3m" and found.measure.origin == FROM_SCHEME
    assert found.value == pytest.approx(300.0) and by_key["gold"].value_share == 1.0
    assert by_key["bronze"].value == 0.0 and found.note is None
    # Since May: silver 1 -> 0 (-20 points of 5), bronze 3 -> 4 (+20 points), gold unchanged.
    assert (by_key["silver"].change, by_key["silver"].change_points) == (-1, pytest.approx(-20))
    assert (by_key["bronze"].change, by_key["bronze"].change_points) == (1, pytest.approx(20))
    assert by_key["gold"].change == 0
    assert found.moves["down"] == 1 and found.moves["up"] == 0 and found.moves["same"] == 4
    # Rows: May's gold, silver, bronze, not graded; columns: June's.
    assert found.matrix == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 3, 0], [0, 0, 0, 0]]
    # The matrix from June's change file (movers only) is the one of joining both runs' grades.
    assert found.previous.folder and found.run.folder
    joined = _joined(found.previous.folder, found.run.folder)
    assert joined.matrix(found.keys) == found.matrix and joined.counts == found.moves
    assert [d for d, _counts in found.trend] == [MAY, JUNE]
    assert found.trend[0][1] == {"gold": 1, "silver": 1, "bronze": 3}


def test_first_run_has_no_change(months: Path) -> None:
    found = _results(months, "tier", [JUNE])
    assert found.previous is None and found.moves == {} and found.matrix == []
    assert all(t.change is None and t.change_points is None for t in found.tiers)


def _with_reporting(months: Path) -> None:
    yaml = months / "tierwise.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace(
        "indicators:\n", "reporting: {value: spend_3m}\nindicators:\n", 1), encoding="utf-8")


def test_project_value_is_recorded_by_runs_and_summed(months: Path) -> None:
    # `steady` names no value of its own: the project's reporting value is summed for it,
    # from the run's features (runs record the reporting indicator beside the scheme's).
    _with_reporting(months)
    found = _results(months, "steady", [JUNE])
    assert found.measure.origin == FROM_PROJECT and found.note is None
    assert {t.key: t.value for t in found.tiers} == {"gold": 300.0, "silver": 0.0,
                                                      "bronze": 0.0}


def test_no_value_says_how_to_set_one(months: Path) -> None:
    project = _recorded(months, ["steady"], [JUNE])
    store = runs.open_store(project)
    try:
        found = results(store, "steady", project=project.spec)
        assert found.value is None and all(t.value is None for t in found.tiers)
        assert found.note is not None and "reporting: {value: spend_12m}" in found.note
        # The setting added after the run: the run did not record it, and the note says so.
        _with_reporting(months)
        later = results(store, "steady", project=Project.open(months).spec)
    finally:
        store.close()
    assert later.value is None
    assert later.note is not None and "did not record spend_3m" in later.note


def test_reporting_value_must_be_a_numeric_indicator(months: Path) -> None:
    yaml = months / "tierwise.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace(
        "indicators:\n", "reporting: {value: spend_3mm}\nindicators:\n", 1), encoding="utf-8")
    with pytest.raises(SpecError, match=r"reporting\.value.*unknown indicator 'spend_3mm'; "
                                        r"did you mean 'spend_3m'"):
        Project.open(months)


def test_customers_who_moved_between_the_two_runs(months: Path) -> None:
    project = _recorded(months, ["tier"], [MAY, JUNE])
    store = runs.open_store(project)
    try:
        def ids(**moved: str) -> list[str]:
            page = search(store, CustomerQuery("tier", **moved))  # type: ignore[arg-type]
            return [r["customer_id"] for r in page.rows]

        assert ids(from_tier="silver", to_tier="bronze") == ["C4"]
        assert ids(from_tier="bronze", to_tier="bronze") == ["C2", "C3", "C5"]
        assert ids(from_tier="gold") == ["C1"]
        assert ids(from_tier="silver", to_tier="gold") == []
        assert ids(from_tier=NOT_GRADED) == []  # everyone was graded in May too
    finally:
        store.close()
