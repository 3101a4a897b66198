"""Review dates of a risk rating carried across recorded runs, and the list of reviews due."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.conftest import write
from tierwise.errors import TierwiseError
from tierwise.services import reviews, runs
from tierwise.services.grading import Project

YAML = """
name: aml
sources:
  customers:
    path: customers.csv
    id: customer_id
    columns:
      customer_id: {type: string}
      score: {type: int}
      opened: {type: date}
      reviewed: {type: date, required: false}
indicators:
  score: {attribute: score}
  opened: {attribute: opened}
  reviewed: {attribute: reviewed}
schemes:
  aml:
    method: risk
    factors: [{indicator: score, weight: 1, default: 100, bins: [[null, 0], [1, 1], [50, 50], [90, 90]]}]
    tiers:
      - {key: high, min_score: 80, review_months: 6, due_diligence: enhanced}
      - {key: medium, min_score: 40, review_months: 12}
      - {key: low, review_months: 24, due_diligence: simplified}
    reviews:
      last_review: reviewed
      onboarded: opened
      first_rating_days: 10
      calendar:
        holidays: [2026-10-01, 2026-10-02, 2026-10-05, 2026-10-06, 2026-10-07]
        workdays: [2026-10-10]
"""


def _data(folder: Path, rows: list[str]) -> None:
    write(folder, "customers.csv", "customer_id,score,opened,reviewed\n" + "\n".join(rows) + "\n")


def _dates(project: Project, day: date) -> dict[str, tuple[str, date, date, date | None]]:
    import pyarrow.parquet as pq

    outcome, = runs.run(project, ["aml"], as_of=day, force=True)
    assert outcome.status == "done", outcome
    table = pq.read_table(Path(str(outcome.folder)) / "grades.parquet").to_pylist()
    return {r["customer_id"]: (r["tier"], r["reviewed_on"], r["review_due"], r["first_due"])
            for r in table}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    write(tmp_path, "tierwise.yaml", YAML)
    return Project.open(tmp_path)


def test_due_dates_follow_the_level_across_runs(project: Project) -> None:
    folder = project.root
    # A: low, reviewed 10 January. B: medium, never reviewed: due a year after its rating.
    # Z: a 31 August review at high: 6 months on is the end of February.
    _data(folder, ["A,10,2020-01-01,2026-01-10", "B,50,2020-01-01,", "Z,95,2020-01-01,2025-08-31"])
    first = _dates(project, date(2026, 1, 31))
    assert first["A"] == ("low", date(2026, 1, 10), date(2028, 1, 10), None)
    assert first["B"] == ("medium", date(2026, 1, 31), date(2027, 1, 31), None)
    assert first["Z"][2] == date(2026, 2, 28)
    # Run 2: A rises to high -> the 6-month cadence counts from this run's day (sooner);
    # B falls to low -> keeps its due date. C and D are new: their deadlines count 10 working
    # days from onboarding; D's spans National Day (1-7 October off, 10 October worked).
    _data(folder, ["A,95,2020-01-01,2026-01-10", "B,10,2020-01-01,", "Z,95,2020-01-01,2025-08-31",
                   "C,10,2026-10-26,", "D,10,2026-09-28,"])
    second = _dates(project, date(2026, 10, 31))
    assert second["A"] == ("high", date(2026, 1, 10), date(2027, 4, 30), None)
    assert second["B"] == ("low", date(2026, 1, 31), date(2027, 1, 31), None)
    # 28 Sep (Mon) + 10 working days: 29, 30 Sep, 8, 9, 10 (Sat, worked), 12..16 Oct.
    assert second["D"][3] == date(2026, 10, 16)
    assert second["C"][3] == date(2026, 11, 9)
    # Run 3: A's review is recorded in the data -> a fresh 6-month cadence from it.
    _data(folder, ["A,95,2020-01-01,2026-11-15", "B,10,2020-01-01,", "Z,95,2020-01-01,2025-08-31",
                   "C,10,2026-10-26,", "D,10,2026-09-28,"])
    third = _dates(project, date(2026, 11, 30))
    assert third["A"] == ("high", date(2026, 11, 15), date(2027, 5, 15), None)
    assert third["D"][3] == date(2026, 10, 16)  # carried


def test_reviews_due_lists_overdue_first_and_late_first_ratings(project: Project) -> None:
    folder = project.root
    _data(folder, ["A,10,2020-01-01,2026-01-10", "B,95,2020-01-01,2025-01-05",
                   "Z,50,2020-01-01,2026-01-20"])
    _dates(project, date(2026, 1, 31))
    _data(folder, ["A,10,2020-01-01,2026-01-10", "B,95,2020-01-01,2025-01-05",
                   "Z,50,2020-01-01,2026-01-20", "D,10,2026-09-28,"])
    _dates(project, date(2026, 10, 31))
    store = runs.open_store(project)
    try:
        found = reviews.due(project, store, "aml", today=date(2027, 1, 1), soon_days=30)
        # B: high, reviewed 5 Jan 2025 -> due 5 Jul 2025, overdue; Z: medium, due 20 Jan 2027.
        assert [(r.customer_id, r.state, r.days) for r in found.reviews] == [
            ("B", "overdue", 545), ("Z", "due_soon", -19)]
        assert found.counts[("low", "ok")] == 2
        assert found.late_first == [("D", date(2026, 10, 16), date(2026, 10, 31))]
        everyone = reviews.due(project, store, "aml", today=date(2027, 1, 1),
                               states=reviews.STATES)
        assert len(everyone.reviews) == 4
        with pytest.raises(TierwiseError, match="unknown review state 'late'"):
            reviews.due(project, store, "aml", states=("late",))
    finally:
        store.close()


def test_the_reviews_command_lists_them_and_fails_when_one_is_overdue(project: Project) -> None:
    from tests.cli.running import invoke

    folder = project.root
    _data(folder, ["A,10,2020-01-01,2026-01-10", "B,95,2020-01-01,2025-01-05"])
    _dates(project, date(2026, 1, 31))
    result = invoke("reviews", "aml", "--today", "2026-02-01", "-p", folder)
    assert result.exit_code == 1, result.output
    assert "B" in result.output and "overdue" in result.output
    assert "enhanced" in result.output
    zh = invoke("--lang", "zh", "reviews", "aml", "--today", "2026-02-01", "-p", folder)
    assert "已逾期" in zh.output and "强化" in zh.output
    calm = invoke("reviews", "aml", "--today", "2025-01-01", "-p", folder)
    assert calm.exit_code == 0 and "no review is overdue or due soon" in calm.output
    wrong = invoke("reviews", "aml", "--today", "2026-13-01", "-p", folder)
    assert wrong.exit_code == 2 and "not a date like 2026-06-30" in wrong.output


def test_explain_names_the_review_dates(project: Project) -> None:
    from tests.cli.running import invoke

    _data(project.root, ["A,10,2020-01-01,2026-01-10"])
    _dates(project, date(2026, 1, 31))
    shown = invoke("explain", "-s", "aml", "A", "-p", project.root)
    flat = " ".join(shown.output.replace("│", " ").split())
    assert "review due 2028-01-10 (last review 2026-01-10)" in flat, shown.output


def test_an_override_to_another_level_takes_its_due_diligence_and_cadence(
        project: Project) -> None:
    from tierwise.services import overrides
    from tierwise.store.overrides import OverrideRequest

    _data(project.root, ["A,10,2020-01-01,2026-01-10"])
    _dates(project, date(2026, 1, 31))
    store = runs.open_store(project)
    try:
        overrides.create(project, OverrideRequest("aml", "A", "pin", "high", "adverse media"),
                         actor="ada", store=store)
    finally:
        store.close()
    import pyarrow.parquet as pq

    [done] = runs.run(project, ["aml"], as_of=date(2026, 2, 28))
    [row] = pq.read_table(Path(str(done.folder)) / "grades.parquet").to_pylist()
    # Held high by the override: enhanced due diligence, and the 6-month cadence from the day
    # the level rose (sooner than the low level's 2028-01-10).
    assert (row["tier"], row["due_diligence"]) == ("high", "enhanced")
    assert row["review_due"] == date(2026, 8, 28)
