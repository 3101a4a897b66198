"""Working-day calendars in tierwise.yaml, for deadlines counted in working days.

A calendar names its weekend days, its holidays (days off on weekdays) and its make-up working
days (weekend days worked, 调休). The lists may also come from a CSV (columns ``date,kind``,
kind ``holiday`` or ``workday``) that :func:`inline_calendar` reads in when the project loads,
so a stored version keeps the days it counted with. Risk reviews (first-rating deadlines) and
action follow-ups (due in N working days) use it.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from tierwise.i18n import _
from tierwise.spec.base import Spec

#: Day names a calendar's ``weekend`` accepts, Monday first.
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CalendarSpec(Spec):
    """Working days for deadlines: weekdays outside ``weekend`` and ``holidays``, plus ``workdays``."""

    weekend: list[str] = Field(default_factory=lambda: ["sat", "sun"])
    holidays: list[date] = Field(default_factory=list, description="days off on working days")
    workdays: list[date] = Field(
        default_factory=list, description="make-up working days on weekend days (调休)")
    file: str | None = Field(
        default=None,
        description="a CSV with columns date,kind (holiday or workday), read in at load")

    @field_validator("weekend")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        wrong = [d for d in value if d.lower() not in DAY_NAMES]
        if wrong:
            raise ValueError(_("weekend day {day} is not one of {days}").format(
                day=repr(wrong[0]), days=_(", ").join(DAY_NAMES)))
        if len(set(value)) >= len(DAY_NAMES):
            raise ValueError(_("a calendar needs at least one working weekday"))
        return [d.lower() for d in value]

    @model_validator(mode="after")
    def _apart(self) -> CalendarSpec:
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise ValueError(_("{day} is both a holiday and a working day; keep it in one "
                               "list").format(day=both[0].isoformat()))
        return self


def inline_calendar(calendar: object, folder: Path) -> tuple[object, str | None]:
    """``calendar`` (as parsed YAML) with the days of its ``file:`` added to its lists.

    Returns the calendar (unchanged when it names no file or the file is wrong) and the problem
    with the file, if any. The file name stays, so people see where the days came from.
    """
    if not isinstance(calendar, dict) or not isinstance(calendar.get("file"), str):
        return calendar, None
    days, wrong = _calendar_file(folder / str(calendar["file"]))
    if wrong is not None:
        return calendar, wrong
    return {**calendar,
            "holidays": [*list(calendar.get("holidays") or []), *days["holiday"]],
            "workdays": [*list(calendar.get("workdays") or []), *days["workday"]]}, None


def read_pairs(path: Path, columns: tuple[str, str]
               ) -> tuple[list[tuple[int, str, str]], str | None]:
    """The rows of a two-column CSV (line number, first, second), or why it cannot be read."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or []]
            if any(c not in header for c in columns):
                return [], _("{path}: the header must name the columns {columns}; it has "
                             "{header}").format(path=path, columns=_(", ").join(columns),
                                                header=_(", ").join(header) or "-")
            reader.fieldnames = header
            return [(reader.line_num, (row[columns[0]] or "").strip(),
                     (row[columns[1]] or "").strip()) for row in reader], None
    except FileNotFoundError:
        return [], _("no file at {path}; check the path (it is relative to the project "
                     "folder)").format(path=path)
    except (UnicodeDecodeError, csv.Error) as exc:
        return [], _("{path} cannot be read as a UTF-8 CSV: {reason}").format(path=path,
                                                                              reason=exc)


def _calendar_file(path: Path) -> tuple[dict[str, list[str]], str | None]:
    rows, wrong = read_pairs(path, ("date", "kind"))
    days: dict[str, list[str]] = {"holiday": [], "workday": []}
    for line, day, kind in rows:
        if kind not in days:
            return days, _("{path}, line {line}: kind {kind} is neither holiday nor "
                           "workday").format(path=path, line=line, kind=repr(kind))
        try:
            date.fromisoformat(day)
        except ValueError:
            return days, _("{path}, line {line}: {value} is not a date like 2026-10-01").format(
                path=path, line=line, value=repr(day))
        days[kind].append(day)
    return days, wrong
