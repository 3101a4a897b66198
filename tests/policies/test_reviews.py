"""Review due dates: working days over a holiday calendar with make-up working days, a cadence
in calendar months per level, a rise taking the shorter cadence from its day, and the status
lists; checked against a day-by-day count."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np
import pytest
from dateutil.relativedelta import relativedelta

from tierwise.policies.reviews import (
    WorkCalendar,
    after_change,
    cadence_months,
    next_due,
    status,
)

# Around China's 2026 Spring Festival as an example calendar: a week off, and two weekend days
# worked to make up for it (the dates are the test's, not an official list).
FESTIVAL = WorkCalendar(
    holidays=frozenset(date(2026, 2, 15) + timedelta(days=i) for i in range(9)),
    workdays=frozenset({date(2026, 2, 14), date(2026, 2, 28)}))
CADENCE = {"high": 6, "medium": 12, "low": 24}


def _by_hand(calendar: WorkCalendar, start: date, count: int) -> date:
    """The count-th working day after start, one day at a time."""
    day, seen = start, 0
    if count == 0:
        while not calendar.is_working(day):
            day += timedelta(days=1)
        return day
    while seen < count:
        day += timedelta(days=1)
        seen += calendar.is_working(day)
    return day


def _dates(values: list[date]) -> np.ndarray:  # type: ignore[type-arg]
    return np.array(values, dtype="datetime64[D]")


def test_ten_working_days_skip_the_festival_and_count_the_makeup_days() -> None:
    onboarded = date(2026, 2, 10)  # a Tuesday
    due = FESTIVAL.add(_dates([onboarded]), 10)[0].item()
    # 11, 12, 13 (Wed-Fri), 14 (a worked Saturday), then 15-23 off, 24, 25, 26, 27, 28 (a
    # worked Saturday), 2 March: the tenth.
    assert due == date(2026, 3, 2)
    assert FESTIVAL.is_working(date(2026, 2, 14)) and not FESTIVAL.is_working(date(2026, 2, 16))


@pytest.mark.parametrize("count", [0, 1, 5, 10, 30])
def test_working_days_agree_with_a_day_by_day_count(count: int) -> None:
    rng = random.Random(count)
    starts = [date(2026, 1, 1) + timedelta(days=rng.randrange(120)) for _ in range(300)]
    got = FESTIVAL.add(_dates(starts), count)
    assert [d.item() for d in got] == [_by_hand(FESTIVAL, s, count) for s in starts]


def test_a_long_holiday_widens_the_search() -> None:
    closed = WorkCalendar(holidays=frozenset(date(2026, 1, 1) + timedelta(days=i)
                                             for i in range(200)))
    assert closed.add(_dates([date(2026, 1, 1)]), 3)[0].item() == _by_hand(
        closed, date(2026, 1, 1), 3)


def test_a_calendar_that_contradicts_itself_is_refused() -> None:
    with pytest.raises(ValueError, match="both a holiday and a working day"):
        WorkCalendar(holidays=frozenset({date(2026, 2, 14)}),
                     workdays=frozenset({date(2026, 2, 14)}))
    with pytest.raises(ValueError, match="cannot be negative"):
        FESTIVAL.add(_dates([date(2026, 1, 5)]), -1)


def test_the_cadence_adds_calendar_months_and_stops_at_a_months_end() -> None:
    reviews = [date(2026, 8, 31), date(2027, 8, 31), date(2026, 1, 15), date(2025, 12, 31)]
    assert [d.item() for d in next_due(_dates(reviews), 6)] == [
        date(2027, 2, 28), date(2028, 2, 29), date(2026, 7, 15), date(2026, 6, 30)]
    rng = random.Random(7)
    many = [date(2024, 1, 1) + timedelta(days=rng.randrange(1500)) for _ in range(500)]
    for months in (6, 12, 24):
        assert [d.item() for d in next_due(_dates(many), months)] == [
            d + relativedelta(months=months) for d in many]


def test_a_rise_takes_the_shorter_cadence_from_that_day_and_a_fall_keeps_the_date() -> None:
    last = _dates([date(2026, 1, 10)] * 3)
    levels = np.array(["low", "low", "high"], dtype=object)
    due = next_due(last, 24)  # all low at the last review: 2028-01-10
    due[2] = next_due(last[2:], 6)[0]  # the third was high: 2026-07-10
    after = np.array(["high", "medium", "low"], dtype=object)
    moved = after_change(due, date(2026, 3, 5), cadence_months(levels, CADENCE),
                         cadence_months(after, CADENCE))
    assert [d.item() for d in moved] == [
        date(2026, 9, 5),    # low -> high on 5 March: six months from that day
        date(2027, 3, 5),    # low -> medium: twelve months from that day, sooner than 2028
        date(2026, 7, 10),   # high -> low: the due date stays until the next review
    ]
    # A rise never pushes a due date later: a review already due sooner keeps its date.
    soon = _dates([date(2026, 4, 1)])
    assert after_change(soon, date(2026, 3, 5), np.array([24]), np.array([6]))[0].item() == \
        date(2026, 4, 1)


def test_a_level_without_a_cadence_is_named() -> None:
    with pytest.raises(ValueError, match="no review cadence for level 'severe'"):
        cadence_months(np.array(["high", "severe"], dtype=object), CADENCE)


def test_overdue_and_due_soon_lists() -> None:
    due = _dates([date(2026, 6, 29), date(2026, 6, 30), date(2026, 7, 30), date(2026, 7, 31)])
    assert status(due, date(2026, 6, 30), 30).tolist() == [
        "overdue", "due_soon", "due_soon", "ok"]
