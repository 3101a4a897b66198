"""``tierwise tasks``: the open follow-ups of the actions, per owner, most urgent first.

Reads the action ledger (actions with ``follow_up:``) against each scheme's latest official run:
a follow-up is open while its customer holds the tier it was set for. Exit code 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tierwise.cli.common import console, open_project, reported, store_of
from tierwise.cli.formats import day, when_due
from tierwise.cli.options import ProjectOpt
from tierwise.cli.render import listing_table
from tierwise.cli.review_commands import parse_day
from tierwise.i18n import _
from tierwise.services.reviews import STATE_NAMES

if TYPE_CHECKING:
    from tierwise.services.tasks import TaskList


def tasks(
    owner: Annotated[str | None, typer.Option(
        "--owner", help="only this owner's follow-ups (as the data names them)")] = None,
    scheme: Annotated[str | None, typer.Option(
        "--scheme", help="only the follow-ups of this scheme's actions")] = None,
    today: Annotated[str | None, typer.Option(
        "--today", help="the day to judge due dates on, YYYY-MM-DD (default: today)")] = None,
    soon: Annotated[int, typer.Option(
        "--soon", min=0, max=366, help="days ahead a follow-up counts as due soon")] = 7,
    limit: Annotated[int, typer.Option("--limit", min=1, help="follow-ups listed per owner")]
    = 20,
    project: ProjectOpt = Path("."),
) -> None:
    """Open follow-ups per owner: what to do, for which customer, by when."""
    from tierwise.services import tasks as service

    with reported():
        proj = open_project(project)
        found = service.open_tasks(proj, store_of(proj), scheme=scheme, owner=owner,
                                   today=parse_day(today), soon_days=soon)
    print_tasks(found, limit=limit)


def print_tasks(found: TaskList, *, limit: int) -> None:
    """The follow-ups per owner and state, then each owner's list, most urgent first."""
    console.print(_("open follow-ups on {today} (due soon = within {soon} days)").format(
        today=day(found.today), soon=found.soon_days))
    if not found.tasks:
        console.print(_("no follow-up is open"))
        return
    owners = list(dict.fromkeys(t.owner for t in found.tasks))
    table = listing_table(_("follow-ups per owner"), _("owner"),
                          *(_(STATE_NAMES[s]) for s in STATE_NAMES))
    for owner in owners:
        table.add_row(owner or _("(unassigned)"),
                      *(f"{found.counts.get((owner, s), 0):,}" for s in STATE_NAMES))
    console.print(table)
    for owner in owners:
        mine = [t for t in found.tasks if t.owner == owner]
        listed = listing_table(_("{owner}: {n} follow-ups ({shown} shown)").format(
            owner=owner or _("(unassigned)"), n=len(mine), shown=min(len(mine), limit)),
            _("due"), _("when"), _("customer"), _("tier"), _("task"))
        for t in mine[:limit]:
            listed.add_row(day(t.due_on), when_due(t.days), t.customer_id, t.tier_label, t.task)
        console.print(listed)
    if found.closed:
        console.print(_("{n} earlier follow-ups are closed: their customers have moved to "
                        "another tier since").format(n=found.closed))
