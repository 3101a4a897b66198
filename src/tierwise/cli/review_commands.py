"""``tierwise reviews``: who is due for a periodic review of their risk level.

Reads the latest official run of a ``method: risk`` scheme: the customers per level and review
state, the overdue and due-soon customers (most overdue first), and the first ratings of that run
that came after their deadline. Exit code 0; 1 when a review is overdue or a first rating came
late (for a scheduler that alerts on it).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tierwise.cli.common import console, open_project, reported, store_of
from tierwise.cli.formats import day, when_due
from tierwise.cli.options import ProjectOpt
from tierwise.cli.render import listing_table
from tierwise.i18n import _
from tierwise.services.reviews import DILIGENCE_SHORT, STATE_NAMES

if TYPE_CHECKING:
    from tierwise.services.reviews import ReviewList


def reviews(
    scheme: Annotated[str, typer.Argument(help="the risk scheme whose reviews to list")],
    today: Annotated[str | None, typer.Option(
        "--today", help="the day to judge due dates on, YYYY-MM-DD (default: today)")] = None,
    soon: Annotated[int | None, typer.Option(
        "--soon", min=0, max=366,
        help="days ahead a review counts as due soon (default: the scheme's due_soon_days)")]
    = None,
    every: Annotated[bool, typer.Option("--all", help="list every customer, not only the due")]
    = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="customers listed at most")] = 50,
    project: ProjectOpt = Path("."),
) -> None:
    """Customers due for review of their risk level: overdue, due soon, and late first ratings."""
    from tierwise.services import reviews as service

    with reported():
        proj = open_project(project)
        store = store_of(proj)
        day_asked = parse_day(today)
        states = service.STATES if every else ("overdue", "due_soon")
        found = service.due(proj, store, scheme, today=day_asked, soon_days=soon, states=states,
                            limit=limit)
    print_reviews(found, limit=limit)
    overdue = sum(n for (_level, state), n in found.counts.items() if state == "overdue")
    if overdue or found.late_first:
        raise typer.Exit(1)


def parse_day(text: str | None) -> date | None:
    """The ``--today`` option as a date (None: not given)."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(_("{value} is not a date like 2026-06-30").format(
            value=repr(text)), param_hint="--today") from None


def print_reviews(found: ReviewList, *, limit: int) -> None:
    """The counts per level and state, the reviews to do and the late first ratings."""
    names = found.levels
    console.print(_("{scheme}: reviews as of {today} (run #{run} as of {as_of}; due soon = "
                    "within {soon} days)").format(scheme=found.scheme, today=day(found.today),
                                                  run=found.run_id, as_of=day(found.as_of),
                                                  soon=found.soon_days))
    levels = list(dict.fromkeys(level for level, _state in found.counts))
    table = listing_table(_("customers per level and review state"), _("level"),
                          *(_(STATE_NAMES[s]) for s in STATE_NAMES))
    for level in sorted(levels, key=lambda k: list(names).index(k) if k in names else 99):
        table.add_row(names.get(level, level),
                      *(f"{found.counts.get((level, s), 0):,}" for s in STATE_NAMES))
    console.print(table)
    if found.reviews:
        listed = listing_table(_("reviews to do (most urgent first, {n} at most)").format(n=limit),
                               _("customer"), _("level"), _("last review"), _("due"),
                               _("when"), _("due diligence"))
        for r in found.reviews:
            listed.add_row(r.customer_id, names.get(r.level, r.level), day(r.reviewed_on),
                           day(r.review_due), when_due(r.days),
                           _(DILIGENCE_SHORT[r.due_diligence]) if r.due_diligence else "")
        console.print(listed)
    else:
        console.print(_("no review is overdue or due soon"))
    if found.late_first:
        late = listing_table(_("first ratings after their deadline"), _("customer"),
                             _("deadline"), _("rated on"))
        for customer, due_on, rated in found.late_first[:limit]:
            late.add_row(customer, day(due_on), day(rated))
        console.print(late)
        console.print(_("{n} customers were rated after their first-rating deadline: run the "
                        "scheme at least as often as the deadline allows").format(
                            n=len(found.late_first)))
