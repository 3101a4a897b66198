"""``tierwise schedule``: scheduled runs (list, add, pause, resume) and ``run-due`` for cron.

``tierwise serve`` runs due schedules by itself; ``run-due`` is for a project graded without a
server (cron, systemd timers). Its exit codes are those of ``tierwise run``: 0 when a scheduled
run graded something, 3 when every due schedule was skipped (its date already done) or none was
due, 1 when one failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from tierwise.cli.common import EXIT_SKIPPED, acting, console, err, open_project, reported, store_of
from tierwise.cli.formats import day, moment, word
from tierwise.cli.options import ProjectOpt
from tierwise.cli.render import listing_table
from tierwise.i18n import N_, _

#: The cadences as a listing says them.
CADENCE_WORDS = {"monthly": N_("monthly"), "weekly": N_("weekly"), "daily": N_("daily")}


def _cadence(code: str) -> str:
    return _(CADENCE_WORDS[code]) if code in CADENCE_WORDS else code


schedule_app = typer.Typer(
    help="Scheduled runs: list, add, pause, resume; run-due runs those due (for cron). "
         "Times are UTC.", no_args_is_help=True)


@schedule_app.command("list")
def schedule_list(project: ProjectOpt = Path(".")) -> None:
    """List the schedules: schemes, cadence, time (UTC), next run, and how the last run ended."""
    from tierwise.services import schedules

    with reported():
        found = schedules.listing(store_of(open_project(project)))
    if not found:
        console.print(_("no schedule yet; add one with `tierwise schedule add NAME --scheme S "
                        "--every monthly --at 02:00`"))
        return
    table = listing_table(_("schedules (times in UTC)"), _("name"), _("schemes"), _("every"),
                          _("at"), _("state"), _("next run"), _("last run"), _("error"))
    for s in found:
        last = (_("{status} as of {day}").format(status=word(s.last_status),
                                                 day=day(s.last_as_of))
                if s.last_status else "")
        table.add_row(s.name, _(", ").join(s.schemes), _cadence(s.cadence), s.at_time,
                      _("on") if s.enabled else _("paused"),
                      moment(s.next_due_at) if s.enabled else "", last, s.last_error or "")
    console.print(table)


@schedule_app.command("add")
def schedule_add(
    name: Annotated[str, typer.Argument(help="a name for the schedule, e.g. month-end")],
    scheme: Annotated[list[str], typer.Option("--scheme", help="a scheme to run (repeat)")],
    every: Annotated[str, typer.Option(
        help="monthly (the 1st, grading the last day of the previous month), weekly (Mondays, "
             "grading the Sunday before) or daily (grading yesterday)")] = "monthly",
    at: Annotated[str, typer.Option(help="time of day, HH:MM in UTC")] = "02:00",
    paused: Annotated[bool, typer.Option("--paused", help="add it paused")] = False,
    project: ProjectOpt = Path("."),
) -> None:
    """Add a schedule; the server (or `tierwise schedule run-due`) runs it when it is due."""
    from tierwise.services import access, schedules

    with reported():
        proj, store, actor = acting(project, access.RUN)
        made = schedules.add(store, proj, name,
                             schedules.Settings(scheme, every, at, enabled=not paused),
                             actor=actor.name)
    console.print(_("schedule {name}: {schemes} {every} at {at} UTC; next run {next}").format(
        name=made.name, schemes=_(", ").join(made.schemes), every=_cadence(made.cadence), at=made.at_time,
        next=moment(made.next_due_at)) if made.enabled else
        _("schedule {name} added, paused").format(name=made.name))


def _switch(name: str, project: Path, *, on: bool) -> None:
    from tierwise.services import access, schedules

    with reported():
        _proj, store, actor = acting(project, access.RUN)
        if on:
            done = schedules.resume(store, name, actor=actor.name)
            console.print(_("schedule {name} resumed; next run {next}").format(
                name=name, next=moment(done.next_due_at)))
        else:
            schedules.pause(store, name, actor=actor.name)
            console.print(_("schedule {name} paused").format(name=name))


@schedule_app.command("pause")
def schedule_pause(name: Annotated[str, typer.Argument()],
                   project: ProjectOpt = Path(".")) -> None:
    """Stop a schedule from running until it is resumed."""
    _switch(name, project, on=False)


@schedule_app.command("resume")
def schedule_resume(name: Annotated[str, typer.Argument()],
                    project: ProjectOpt = Path(".")) -> None:
    """Let a paused schedule run again, from its next time (missed periods are not run)."""
    _switch(name, project, on=True)


@schedule_app.command("run-due")
def schedule_run_due(project: ProjectOpt = Path(".")) -> None:
    """Run every schedule that is due now, each once, and record how it ended.

    For cron and systemd timers, when no server runs the schedules. Exit code 0 when a run
    graded something, 3 when every due schedule was skipped or none was due, 1 when one failed.
    """
    from tierwise.services import schedules

    with reported():
        proj = open_project(project)
        ran = schedules.run_due(proj, store_of(proj))
    if not ran:
        console.print(_("no schedule is due"))
    for r in ran:
        text = _("{name}: {status} as of {day}").format(name=r.schedule, status=word(r.status),
                                                       day=day(r.as_of))
        if r.error:
            err.print(Text.assemble((text + ": ", "red"), r.error), soft_wrap=True,
                      highlight=False)
        else:
            console.print(text, highlight=False)
    if any(r.status == "failed" for r in ran):
        raise typer.Exit(1)
    if not any(r.status == "done" for r in ran):
        raise typer.Exit(EXIT_SKIPPED)
