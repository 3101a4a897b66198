"""Live counts of edited rules on a real store: matches, value share, winners, overlaps, gaps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tierwise.errors import NotFoundError
from tierwise.services import runs, versions
from tierwise.services.condition_fields import condition_fields, is_share, value_indicator
from tierwise.services.grading import Project
from tierwise.services.rule_counts import (
    DraftCounts,
    RuleDraft,
    RuleDrafts,
    count_drafts,
    tried_order,
)
from tierwise.spec.models import DerivedIndicatorSpec
from tierwise.store import Store

# As of 2026-03-31 the 3-month window is January to March 2026 (tests/services/conftest.py):
# C1 orders every month (3 orders, spend 300), C4 once in March (1, 100), C2, C3, C5 none.
DAY = date(2026, 3, 31)


@pytest.fixture
def graded(months: Path) -> Iterator[tuple[Project, Store]]:
    project = Project.open(months)
    runs.backfill(project, ["tier", "steady"], [DAY])
    store = runs.open_store(project)
    yield project, store
    store.close()


def _count(project: Project, store: Store, drafts: list[RuleDraft], scheme: str = "tier", *,
           value: str | None = None, visible: set[str] | None = None) -> DraftCounts:
    return count_drafts(project, store, RuleDrafts(scheme, drafts, "bronze", value),
                        visible=visible)


def test_matches_winners_value_share_and_overlaps(graded: tuple[Project, Store]) -> None:
    project, store = graded
    drafts = [RuleDraft("gold", "orders_3m >= 1"), RuleDraft("silver", "spend_3m > 50"),
              RuleDraft("bronze", None)]
    counts = _count(project, store, drafts, value="spend_3m")
    assert counts.as_of == DAY and counts.customers == 5
    assert counts.value_indicator == "spend_3m" and counts.total_value == 400.0
    gold, silver, bronze = counts.tiers
    # gold: C1 and C4 match and win, with all the value (300 + 100 of 400).
    assert (gold.matches, gold.wins, gold.value, counts.share(gold.win_value)) == (2, 2, 400.0, 1.0)
    # silver: the same two customers match, but gold is tried first and takes them.
    assert (silver.matches, silver.wins, silver.win_value) == (2, 0, 0.0)
    assert counts.overlaps == [("gold", "silver", 2)]
    # C2, C3 and C5 match nothing: they fall to bronze.
    assert (counts.unmatched, counts.fallback) == (3, "bronze")
    assert (bronze.matches, bronze.wins, bronze.win_value) == (None, 3, 0.0)
    assert counts.order == ["gold", "silver"]


def test_priority_decides_who_wins_an_overlap(graded: tuple[Project, Store]) -> None:
    project, store = graded
    drafts = [RuleDraft("gold", "orders_3m >= 1"), RuleDraft("silver", "spend_3m > 150", 1),
              RuleDraft("bronze", None)]
    counts = _count(project, store, drafts, value="spend_3m")
    assert counts.order == ["silver", "gold"]
    gold, silver, _bronze = counts.tiers
    assert (silver.matches, silver.wins) == (1, 1)  # C1 (spend 300)
    assert (gold.matches, gold.wins) == (2, 1)  # C4 only: C1 went to silver
    assert counts.overlaps == [("silver", "gold", 1)]
    assert tried_order(drafts, "bronze") == [1, 0]


def test_conditions_that_cannot_be_counted_say_why(graded: tuple[Project, Store]) -> None:
    project, store = graded
    drafts = [RuleDraft("gold", "nope > 1"), RuleDraft("silver", "orders_3m >= "),
              RuleDraft("iron", "orders_3m >= 1"), RuleDraft("bronze", None)]
    counts = _count(project, store, drafts)
    gold, silver, iron, bronze = counts.tiers
    assert gold.matches is None and "unknown name 'nope'" in (gold.error or "")
    assert silver.matches is None and "unexpected end of input" in (silver.error or "")
    assert (iron.matches, iron.wins, iron.error) == (2, 2, None)
    assert counts.order == ["iron"] and bronze.wins == 3
    # The steady scheme's run computed orders_3m only: spend_3m is computed from the sources
    # as of the run's date; no money indicator is in its features, so no value share.
    steady = _count(project, store, [RuleDraft("gold", "spend_3m > 50"),
                                     RuleDraft("bronze", None)], scheme="steady")
    assert steady.computed == ["spend_3m"] and steady.tiers[0].matches == 2  # C1 and C4
    assert steady.value_indicator == "spend_3m"
    plain = _count(project, store, [RuleDraft("gold", "orders_3m > 2"),
                                    RuleDraft("bronze", None)], scheme="steady")
    assert plain.computed == [] and plain.value_indicator is None
    assert plain.share(plain.tiers[1].win_value) is None and plain.tiers[0].wins == 1


def test_a_managers_count_sees_only_their_customers(graded: tuple[Project, Store]) -> None:
    project, store = graded
    counts = _count(project, store, [RuleDraft("gold", "orders_3m >= 1"),
                                     RuleDraft("bronze", None)], visible={"C1", "C2"})
    assert counts.customers == 2 and counts.tiers[0].wins == 1 and counts.unmatched == 1


def test_a_scheme_not_run_yet_counts_on_the_data_as_of_the_project_date(months: Path) -> None:
    project = Project.open(months)
    store = runs.open_store(project)
    try:
        with pytest.raises(NotFoundError, match="is not in the store yet"):
            _count(project, store, [RuleDraft("gold", "orders_3m >= 1")])
        versions.save(store, project, "tier", actor="sam")  # saved, never run
        counts = _count(project, store, [RuleDraft("gold", "orders_3m >= 1"),
                                         RuleDraft("bronze", None)])
    finally:
        store.close()
    # As of the project's 2026-06-30: only C1 ordered in April to June (three orders).
    assert counts.unrun and counts.as_of == date(2026, 6, 30) and counts.customers == 5
    assert (counts.tiers[0].matches, counts.tiers[0].wins, counts.unmatched) == (1, 1, 4)
    assert counts.value_indicator == "spend_3m" and counts.computed == ["orders_3m"]


def test_fields_in_the_users_language_and_which_are_shares(months: Path) -> None:
    fields = condition_fields(Project.open(months))
    assert list(fields) == ["orders_3m", "spend_3m"]
    assert fields["orders_3m"].kind == "number" and not fields["orders_3m"].money
    assert fields["spend_3m"].money and not fields["spend_3m"].share
    assert value_indicator(fields, ["customer_id", "spend_3m"], None) == "spend_3m"
    assert value_indicator(fields, ["customer_id", "orders_3m"], "orders_3m") == "orders_3m"
    assert value_indicator(fields, ["customer_id"], "spend_3m") is None
    assert is_share("repeat_rate", None) and is_share("x", DerivedIndicatorSpec(expr="a / b"))
    assert is_share("x", DerivedIndicatorSpec(expr="div(a, b, 0)"))
    assert not is_share("x", DerivedIndicatorSpec(expr="a * b"))
    assert not is_share("x", DerivedIndicatorSpec(expr="a +"))
