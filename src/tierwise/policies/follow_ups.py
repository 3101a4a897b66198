"""Due dates of follow-up tasks: working days after a run, or days ahead of a customer's date.

A follow-up (``follow_up:`` of an action) is due ``within_days`` working days after the run's
as-of date, or ``days_before`` calendar days before a date of the customer's (the expected
purchase date), never before the as-of date: a date already that close makes the task due at
once. A customer without that date falls back to ``within_days``, else to the as-of date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

from tierwise.policies.reviews import WorkCalendar


def due_dates(as_of: date, before: Sequence[date | None] | None, *, within_days: int | None,
              days_before: int, calendar: WorkCalendar, count: int) -> list[date]:
    """The due date of each of ``count`` tasks set on ``as_of``.

    Args:
        as_of: The run's as-of date.
        before: Each customer's date the task is due ahead of (None: the action has none).
        within_days: Working days after ``as_of`` (None: the as-of date itself).
        days_before: Calendar days ahead of the ``before`` date.
        calendar: The working days ``within_days`` counts.
        count: How many tasks (the length of ``before`` when given).
    """
    if within_days is None:
        soon = as_of
    else:
        found = calendar.add(np.array([np.datetime64(as_of, "D")]), within_days)[0]
        soon = date.fromisoformat(str(found))
    if before is None:
        return [soon] * count
    ahead = timedelta(days=days_before)
    # Compared before subtracting: a placeholder such as 0001-01-01 cannot underflow.
    return [soon if day is None else as_of if day <= as_of + ahead else day - ahead
            for day in before]
