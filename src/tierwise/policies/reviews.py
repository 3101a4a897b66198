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
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.engine import Engine
    from tierwise.spec.calendar import CalendarSpec
    from tierwise.spec.schemes import SchemeBase

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


@dataclass(frozen=True)
class ReviewPlan:
    """What a scheme with periodic reviews asks: the cadence per level and the deadlines.

    Attributes:
        cadence: Level key -> months between two reviews.
        first_rating_days: Working days from onboarding to the first rating.
        due_soon_days: Days ahead a review counts as due soon.
        calendar: The working days.
        onboarding: Whether the data says when customers were onboarded (for the deadline).
        diligence: Level key -> the due diligence it calls for.
    """

    cadence: Mapping[str, int]
    first_rating_days: int
    due_soon_days: int
    calendar: WorkCalendar
    onboarding: bool = False
    diligence: Mapping[str, str] = field(default_factory=dict)


#: Columns :func:`schedule` adds to the grade table (carried from run to run).
REVIEW_COLUMNS = ("rated_on", "reviewed_on", "review_due", "first_due")
#: How far back onboarding dates get a first-rating deadline (older ones predate the rating).
DEADLINE_YEARS = 3


def deadlines(plan: ReviewPlan, as_of: date) -> dict[str, np.ndarray[Any, Any]]:
    """Every day of the last :data:`DEADLINE_YEARS` years with its first-rating deadline.

    The table the grade table joins on the onboarding date (a few thousand rows, whatever the
    number of customers).
    """
    days = np.arange(np.datetime64(as_of - timedelta(days=366 * DEADLINE_YEARS), "D"),
                     np.datetime64(as_of, "D") + 1)
    return {"_onboarded": days, "_first_due": plan.calendar.add(days, plan.first_rating_days)}


def _plus_months(day: Any, months: int) -> Any:
    """``day`` plus ``months`` calendar months (the month's end when the day does not exist)."""
    import ibis

    # ibis types date + interval as a date, so a cast to date would be dropped, while DuckDB
    # returns a timestamp: through a timestamp, the cast is written out.
    return (day + ibis.interval(months=months)).cast("timestamp").date()


def _by_level(level: Any, cadence: Mapping[str, int], day: Any) -> Any:
    """``day`` plus the cadence of each customer's ``level``."""
    import ibis

    return ibis.cases(*((level == key, _plus_months(day, months))
                        for key, months in cadence.items()), else_=ibis.null("date"))


def schedule(grades: Any, previous: Any | None, plan: ReviewPlan, as_of: date,
             deadline_table: Any | None) -> Any:
    """The grade table with each customer's review dates (:data:`REVIEW_COLUMNS`).

    ``grades`` holds the held level (``tier``) and the method's ``data_reviewed_on`` (the last
    review the data records, may be null) and ``onboarded_on``; ``previous`` is the previous
    official run's grade table (None on the first run). Per customer:

    * ``rated_on``: the first run that rated them (carried);
    * ``reviewed_on``: the latest of the data's review and the carried one, else ``rated_on``;
    * ``review_due``: after a new review (or on the first rating), the review plus the level's
      cadence; else after a rise to a shorter cadence, the sooner of the due date and this
      day plus the new cadence (:func:`after_change`); else the carried due date;
    * ``first_due``: on the first rating in a run after the scheme's first, the onboarding
      date plus the working days the scheme allows (``deadline_table``: :func:`deadlines`);
      then carried. The first run rates everyone at once, so its ratings have no deadline.
    """
    import ibis

    day = ibis.literal(as_of, type="date")
    g = grades
    data_review = ibis.ifelse(g.data_reviewed_on <= day, g.data_reviewed_on, ibis.null("date"))
    carried = previous is not None and all(
        c in previous.columns for c in (*REVIEW_COLUMNS, "tier"))
    # The first run of a scheme rates every customer at once (a roll-out), so deadlines are
    # checked from the second run on (one that kept review dates): for the customers it rates
    # for the first time.
    if deadline_table is not None and carried:
        g = g.left_join(deadline_table, g.onboarded_on == deadline_table._onboarded).drop(
            "_onboarded")
        new_first = g._first_due
    else:
        new_first = ibis.null("date")
    if carried:
        assert previous is not None
        carried_rows = previous.select(
            "customer_id", _p_tier=previous.tier, _p_rated=previous.rated_on,
            _p_reviewed=previous.reviewed_on, _p_due=previous.review_due,
            _p_first=previous.first_due)
        g = g.left_join(carried_rows, "customer_id").drop("customer_id_right")
    else:
        g = g.mutate(_p_tier=ibis.null("string"), _p_rated=ibis.null("date"),
                     _p_reviewed=ibis.null("date"), _p_due=ibis.null("date"),
                     _p_first=ibis.null("date"))
    rated = ibis.coalesce(g._p_rated, day)
    reviewed = ibis.coalesce(ibis.greatest(data_review, g._p_reviewed), rated)
    g = g.mutate(_rated=rated, _reviewed=reviewed)
    months = g.tier.cases(*plan.cadence.items(), else_=ibis.null("int64"))
    old = g._p_tier.cases(*plan.cadence.items(), else_=ibis.null("int64"))
    fresh = g._p_due.isnull() | g._p_reviewed.isnull() | (g._reviewed > g._p_reviewed)
    due = ibis.cases(
        (fresh, _by_level(g.tier, plan.cadence, g._reviewed)),
        (months < old, ibis.least(g._p_due, _by_level(g.tier, plan.cadence, day))),
        else_=g._p_due,
    )
    first = ibis.ifelse(g._p_rated.isnull(), new_first, g._p_first)
    out = g.mutate(rated_on=g._rated, reviewed_on=g._reviewed, review_due=due.cast("date"),
                   first_due=first.cast("date"))
    if plan.diligence and "due_diligence" in out.columns:
        # The due diligence of the level held (an override or a policy may hold another level
        # than the one computed).
        out = out.mutate(due_diligence=out.tier.cases(*plan.diligence.items(),
                                                      else_=ibis.null("string")))
    return out.drop(*(c for c in out.columns if c.startswith("_p_") or c in (
        "_rated", "_reviewed", "_first_due")))


def calendar_of(spec: CalendarSpec) -> WorkCalendar:
    """The working days a calendar section declares."""
    from tierwise.spec.calendar import DAY_NAMES

    return WorkCalendar(weekend=frozenset(DAY_NAMES.index(d) for d in spec.weekend),
                        holidays=frozenset(spec.holidays), workdays=frozenset(spec.workdays))


def plan_of(scheme: SchemeBase) -> ReviewPlan | None:
    """The review plan of a risk scheme; None for a scheme without periodic reviews."""
    from tierwise.spec.risk import RiskSchemeSpec

    if not isinstance(scheme, RiskSchemeSpec):
        return None
    spec = scheme.reviews
    calendar = calendar_of(spec.calendar)
    return ReviewPlan({t.key: t.review_months for t in scheme.tiers}, spec.first_rating_days,
                      spec.due_soon_days, calendar, onboarding=spec.onboarded is not None,
                      diligence={t.key: t.due_diligence for t in scheme.tiers})


def with_reviews(engine: Engine, spec: SchemeBase, grades: ir.Table, previous: ir.Table | None,
                 day: date, tag: str) -> ir.Table:
    """``grades`` with the review dates of a scheme that has a review plan (else unchanged)."""
    plan = plan_of(spec)
    if plan is None:
        return grades
    deadline_table = None
    if plan.onboarding:
        import pyarrow as pa

        deadline_table = engine.register_arrow(f"deadlines_{tag}",
                                               pa.table(deadlines(plan, day)))
    return schedule(grades, previous, plan, day, deadline_table)
