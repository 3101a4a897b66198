"""Review due dates of a risk rating: working days over a holiday calendar, cadence per level.

Anti-money-laundering practice asks for a first rating within a number of working days of
onboarding and a periodic review whose interval depends on the level (the highest level at
least every six months, the lower ones less often). This module computes those dates for many
customers at once:

* :class:`WorkCalendar`: which days are working days. A weekday is one unless it is a holiday;
  a weekend day is one when it is a make-up working day (调休: China moves working days onto
  weekends around its public holidays, so a weekday mask with holidays is not enough).
* :meth:`WorkCalendar.add` : the N-th working day after each date (the first-rating deadline).
* :func:`next_due`: the last review plus the level's cadence in calendar months (the end of a
  shorter month when the day does not exist: 31 August + 6 months is 28 or 29 February).
* :func:`after_change`: the due date after a level change on a day: a rise takes the shorter
  cadence from that day when that is sooner; a fall keeps the due date (the next review sets the
  longer cadence).
* :func:`status`: ``overdue``, ``due_soon`` or ``ok`` on a day.

Dates are numpy ``datetime64[D]`` arrays, so 10M customers are a few vector operations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

#: Day names as a calendar spec writes them, Monday = 0 as numpy and Python count.
WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: weekdays outside ``weekend`` and ``holidays``, plus ``workdays``.

    Attributes:
        weekend: Weekday numbers that are not working days (Monday = 0; default Saturday and
            Sunday).
        holidays: Days off that would otherwise be working days.
        workdays: Make-up working days that would otherwise be days off (a Saturday or Sunday).
    """

    weekend: frozenset[int] = frozenset({5, 6})
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        both = sorted(self.holidays & self.workdays)
        if both:
            raise ValueError(f"{both[0]} is both a holiday and a working day in the calendar")
        if len(self.weekend) >= 7:
            raise ValueError("a calendar needs at least one working weekday")

    def is_working(self, day: date) -> bool:
        """Whether ``day`` is a working day."""
        if day in self.workdays:
            return True
        return day.weekday() not in self.weekend and day not in self.holidays

    def working_days(self, start: date, end: date) -> np.ndarray[Any, Any]:
        """Every working day from ``start`` to ``end`` (both included), ascending."""
        days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
        weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday
        working = ~np.isin(weekday, sorted(self.weekend))
        if self.holidays:
            working &= ~np.isin(days, _days(self.holidays))
        if self.workdays:
            working |= np.isin(days, _days(self.workdays))
        return days[working]

    def add(self, starts: np.ndarray[Any, Any], count: int) -> np.ndarray[Any, Any]:
        """The ``count``-th working day after each of ``starts`` (the start day not counted).

        ``count`` 0 gives the start itself when it is a working day, else the next one.
        """
        if count < 0:
            raise ValueError(f"a number of working days cannot be negative, got {count}")
        starts = np.asarray(starts, dtype="datetime64[D]")
        if starts.size == 0:
            return starts
        first, last = starts.min().item(), starts.max().item()
        # Working days are at least one in seven after the weekend, holidays aside: ask for a
        # margin and widen it when a long holiday swallows it.
        span = count * 7 // max(7 - len(self.weekend), 1) + 31
        while True:
            working = self.working_days(first, last + timedelta(days=span))
            if count:
                at = np.searchsorted(working, starts, side="right") + (count - 1)
            else:
                at = np.searchsorted(working, starts, side="left")
            if at.max() < working.size:
                found: np.ndarray[Any, Any] = working[at]
                return found
            span *= 2


def _days(values: Iterable[date]) -> np.ndarray[Any, Any]:
    return np.array(sorted(values), dtype="datetime64[D]")


def next_due(last_review: np.ndarray[Any, Any], months: int) -> np.ndarray[Any, Any]:
    """Each last review plus ``months`` calendar months (a missing day: the month's end)."""
    if months <= 0:
        raise ValueError(f"a review cadence is a positive number of months, got {months}")
    reviews = np.asarray(last_review, dtype="datetime64[D]")
    month = reviews.astype("datetime64[M]")
    day = (reviews - month.astype("datetime64[D]")).astype("int64")
    target = month + months
    month_days = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")
                  ).astype("int64")
    due: np.ndarray[Any, Any] = target.astype("datetime64[D]") + np.minimum(day, month_days - 1)
    return due


def after_change(due: np.ndarray[Any, Any], day: date, old_months: np.ndarray[Any, Any],
                 new_months: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The due dates after a level change on ``day`` from cadences ``old`` to ``new`` months.

    A rise (a shorter cadence) counts the new cadence from ``day`` and keeps the sooner of that
    and the current due date; anything else keeps the current due date.
    """
    due = np.asarray(due, dtype="datetime64[D]")
    old = np.asarray(old_months)
    new = np.asarray(new_months)
    out = due.copy()
    rises = new < old
    for months in np.unique(new[rises]):
        chosen = rises & (new == months)
        start = np.full(int(chosen.sum()), np.datetime64(day, "D"))
        out[chosen] = np.minimum(due[chosen], next_due(start, int(months)))
    return out


def cadence_months(levels: np.ndarray[Any, Any], cadence: Mapping[str, int]
                   ) -> np.ndarray[Any, Any]:
    """Each level's review cadence in months.

    Raises:
        ValueError: a level has no cadence.
    """
    levels = np.asarray(levels, dtype=object)
    missing = sorted(set(levels.tolist()) - set(cadence))
    if missing:
        raise ValueError(f"no review cadence for level {missing[0]!r}; the cadence names "
                         f"{', '.join(cadence) or '-'}")
    return np.array([cadence[level] for level in levels.tolist()], dtype="int64")


def status(due: np.ndarray[Any, Any], today: date, soon_days: int) -> np.ndarray[Any, Any]:
    """``overdue`` (due before ``today``), ``due_soon`` (within ``soon_days``) or ``ok``."""
    due = np.asarray(due, dtype="datetime64[D]")
    now = np.datetime64(today, "D")
    return np.where(due < now, "overdue",
                    np.where(due <= now + np.timedelta64(soon_days, "D"), "due_soon", "ok"))
