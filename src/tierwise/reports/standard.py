"""The classification standard (客户分级标准) of a scheme version, as a document model.

Staff follow it: the classes in value order (the ladder best first, then the statuses), each with
its definition, criteria in words and strategy, and the customers of the latest run; how the
scheme grades; the review policy; the version, who saved it and when it went live; and the
indicators with their definitions and units, assembled from a stored version
in the current language (:mod:`tierwise.services.standard` builds it); the renderers
(:mod:`tierwise.reports.standard_text` and :mod:`tierwise.services.standard_files`) only lay
it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from tierwise import i18n
from tierwise.i18n import _
from tierwise.store.schemes import FOREVER


@dataclass(frozen=True)
class ClassEntry:
    """One class of the standard."""

    key: str
    label: str
    #: Rank on the value ladder (1 = best); None for a status outside it.
    rank: int | None
    definition: str | None
    criteria: str | None
    strategy: str | None
    customers: int | None
    share: float | None

    @property
    def status(self) -> bool:
        """Whether the class is a status outside the value ladder."""
        return self.rank is None


@dataclass(frozen=True)
class IndicatorEntry:
    """One indicator the scheme reads."""

    name: str
    label: str
    definition: str
    unit: str
    description: str | None


@dataclass(frozen=True)
class VersionFacts:
    """What the store says about the version and its latest run.

    Attributes:
        number: The version number.
        saved_by: Who saved it; saved_at: when.
        active: Whether it is the version active today.
        go_live: The date it takes (or took) effect from; None when never activated.
        activated_by: Who activated it (its latest activation).
        run_as_of: The as-of date of the latest official run graded with it, if any.
        counts: Customers per class of that run.

    """

    number: int
    saved_by: str
    saved_at: datetime
    active: bool
    go_live: date | None
    activated_by: str | None
    run_as_of: date | None
    counts: Mapping[str, int] | None


@dataclass(frozen=True)
class Standard:
    """The classification standard of a scheme version, worded in one language."""

    lang: str
    title: str
    scheme: str
    scheme_label: str
    description: str | None
    method: tuple[str, ...]
    classes: tuple[ClassEntry, ...]
    policy: tuple[tuple[str, str], ...]
    indicators: tuple[IndicatorEntry, ...]
    facts: VersionFacts

    @property
    def graded(self) -> int | None:
        """Customers of the latest run, None without one."""
        return sum(self.facts.counts.values()) if self.facts.counts is not None else None

    def version_lines(self) -> list[tuple[str, str]]:
        """The version block as (field, value) pairs, in the current language."""
        facts = self.facts
        never = _("not activated")
        lines = [
            (_("Scheme"), self.scheme_label if self.scheme_label == self.scheme
             else f"{self.scheme_label} ({self.scheme})"),
            (_("Version"), str(facts.number)),
            (_("Status"), _("active") if facts.active else (
                _("scheduled") if facts.go_live and facts.go_live > date.today()
                else _("not active"))),
            (_("Saved"), _("{when} by {who}").format(when=i18n.date(facts.saved_at),
                                                     who=facts.saved_by)),
            (_("Go-live date"), _("from the first graded date")
             if facts.go_live == FOREVER else (
                i18n.date(facts.go_live) if facts.go_live else never)),
        ]
        if facts.activated_by:
            lines.append((_("Activated by"), facts.activated_by))
        lines.append((_("Latest run"), _("{customers} customers graded as of {day}").format(
            customers=i18n.number(self.graded), day=i18n.date(facts.run_as_of))
            if facts.run_as_of else _("no run of this version yet")))
        return lines


__all__ = ["ClassEntry", "IndicatorEntry", "Standard", "VersionFacts"]
