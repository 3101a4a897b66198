"""``tierwise actions``: the project's actions, their ledger, and delivering what is due.

``list`` shows each action with what its latest planned run holds (to deliver, sent, failed,
dead, held out, over budget). ``deliver NAME`` sends the due rows (webhooks, file drops); its
exit code is 0 when nothing is left failing, 1 when a row failed or went to the dead letter.
``ledger NAME`` lists rows, e.g. the dead letter (``--status dead``). ``review NAME`` lists
the reassignments an assign action with approval holds back; ``approve`` and ``reject`` decide
them (a supervisor or an administrator).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tierwise.cli.common import acting, console, open_project, parse_date, reported, store_of
from tierwise.cli.formats import day, moment
from tierwise.cli.formats import day as day_text
from tierwise.cli.options import AsOfOpt, ProjectOpt
from tierwise.cli.render import listing_table
from tierwise.i18n import _

actions_app = typer.Typer(
    help="Actions on tiers: list them, deliver what is due, read the ledger.",
    no_args_is_help=True)

#: Ledger statuses in the order a listing shows them.
SHOWN = ("planned", "sent", "failed", "dead", "review", "holdout", "over_budget")


def _edge(spec: object, tiers: dict[str, str]) -> str:
    """The edge an action fires on, its tiers by label (``tiers``: key -> label)."""
    from tierwise.services.actions import EDGE_NAMES

    on = str(getattr(spec, "on", ""))
    named = _(", ").join(tiers.get(t, t) for t in getattr(spec, "tiers", []) or []) \
        or _("any tier")
    edge = f"{_(EDGE_NAMES.get(on, on))} {named}"
    return edge if on != "stay" else f"{edge} ({getattr(spec, 'runs', '')})"


def _state(code: str) -> str:
    from tierwise.services.actions import LEDGER_NAMES

    return _(LEDGER_NAMES.get(code, code))


@actions_app.command("list")
def actions_list(
    scheme: Annotated[str | None, typer.Argument(help="only this scheme's actions")] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """List the actions: kind, edge, holdout, budget, and the ledger of the latest run."""
    from tierwise import i18n
    from tierwise.services import actions, catalog

    with reported():
        proj = open_project(project)
        store = store_of(proj)
        found = actions.states(proj, store, scheme)
        labels = {a.spec.scheme: catalog.tier_labels(store, a.spec.scheme, i18n.current())
                  for a in found if a.run is not None}
    if not found:
        console.print(_("no action yet; declare them under `actions:` in tierwise.yaml"))
        return
    table = listing_table(_("tier actions"), _("tier action"), _("scheme"), _("kind"), _("on"),
                          _("holdout"), _("budget"), _("latest run"), *(_state(s) for s in SHOWN))
    for a in found:
        budget = a.spec.budget
        cap = "/".join(str(c) for c in (budget.per_run, budget.per_month)) if budget else ""
        title = a.name if a.title == a.name else f"{a.title} ({a.name})"
        table.add_row(title, a.spec.scheme, _(actions.KIND_NAMES.get(a.spec.kind, a.spec.kind)),
                      _edge(a.spec, labels.get(a.spec.scheme, {})),
                      f"{a.spec.holdout:.0%}", cap, day(a.run.as_of) if a.run else "",
                      *(str(a.counts.get(s, 0)) for s in SHOWN))
    console.print(table)


@actions_app.command("deliver")
def actions_deliver(
    name: Annotated[str, typer.Argument(help="the action to deliver")],
    project: ProjectOpt = Path("."),
) -> None:
    """Deliver the action's due rows: planned ones, and failed ones whose retry is due."""
    from tierwise.services import access, delivery

    with reported():
        proj, store, _actor = acting(project, access.RUN)
        done = delivery.deliver(proj, store, name)
    console.print(_("action {name}: {sent} sent, {failed} failed (tried again later), {dead} "
                    "in the dead letter").format(name=name, sent=done.sent, failed=done.failed,
                                                  dead=done.dead))
    if done.review:
        console.print(_("{count} reassignments wait for approval: `tierwise actions review "
                        "{name}`").format(count=done.review, name=name))
    for path in done.files:
        console.print(_("wrote {path}").format(path=path))
    if done.failed or done.dead:
        raise typer.Exit(1)


@actions_app.command("ledger")
def actions_ledger(
    name: Annotated[str, typer.Argument(help="the action")],
    status: Annotated[str | None, typer.Option(
        help="only rows in this state: planned, sent, failed, dead, holdout, over_budget, "
             "review, rejected")] = None,
    run: Annotated[int | None, typer.Option(help="only this run")] = None,
    limit: Annotated[int, typer.Option(help="at most this many rows")] = 50,
    project: ProjectOpt = Path("."),
) -> None:
    """List an action's ledger rows (``--status dead``: the dead letter)."""
    from tierwise.services import actions

    with reported():
        proj = open_project(project)
        rows = actions.ledger(store_of(proj), name, run_id=run, status=status, limit=limit)
    table = listing_table(_("ledger of {name}").format(name=name), _("run"), _("as of"),
                          _("customer"), _("from"), _("to"), _("state"), _("tries"),
                          _("sent at"), _("error"))
    for e in rows:
        table.add_row(str(e.run_id), day(e.as_of), e.customer_id, e.from_tier or "",
                      e.to_tier or "", _state(e.status), str(e.attempts),
                      moment(e.sent_at) if e.sent_at else "", e.last_error or "")
    console.print(table)


@actions_app.command("review")
def actions_review(
    name: Annotated[str, typer.Argument(help="the assign action")],
    project: ProjectOpt = Path("."),
) -> None:
    """List the reassignments waiting for approval: who has the customer, who would, and why."""
    from tierwise.services import reassignments

    with reported():
        proj = open_project(project)
        rows = reassignments.pending(proj, store_of(proj), name)
    if not rows:
        console.print(_("no reassignment of {name} waits for approval").format(name=name))
        return
    table = listing_table(_("reassignments of {name} waiting for approval").format(name=name),
                          _("number"), _("as of"), _("customer"), _("tier"), _("manager now"),
                          _("proposed"), _("why"))
    for r in rows:
        table.add_row(str(r.id), day(r.as_of), r.customer_id, r.tier or "",
                      r.manager_now or "-", r.proposed or _("(none)"), r.why)
    console.print(table)
    console.print(_("decide with `tierwise actions approve {name} NUMBER...` or `tierwise "
                    "actions reject {name} NUMBER...`").format(name=name))


def _decide(name: str, numbers: list[int], note: str | None, project: Path,
            approve: bool) -> None:
    from tierwise.services import access, reassignments

    with reported():
        proj, store, actor = acting(project, access.ASSIGN)
        count = reassignments.decide(proj, store, name, numbers, approve=approve,
                                     actor=actor.name, note=note)
    console.print((_("approved {count} reassignments of {name}") if approve else
                   _("rejected {count} reassignments of {name}; the customers keep their "
                     "manager")).format(count=count, name=name))


NumbersArg = Annotated[list[int], typer.Argument(help="the numbers `actions review` shows")]
NoteOpt = Annotated[str | None, typer.Option(help="why, for the audit log")]


@actions_app.command("approve")
def actions_approve(name: Annotated[str, typer.Argument(help="the assign action")],
                    numbers: NumbersArg, note: NoteOpt = None,
                    project: ProjectOpt = Path(".")) -> None:
    """Approve reassignments: each customer moves to the proposed manager, within capacity."""
    _decide(name, numbers, note, project, approve=True)


@actions_app.command("reject")
def actions_reject(name: Annotated[str, typer.Argument(help="the assign action")],
                   numbers: NumbersArg, note: NoteOpt = None,
                   project: ProjectOpt = Path(".")) -> None:
    """Reject reassignments: the customers keep their manager."""
    _decide(name, numbers, note, project, approve=False)


@actions_app.command("effect")
def actions_effect(
    name: Annotated[str, typer.Argument(help="the action")],
    outcome: Annotated[str | None, typer.Option(
        help="the indicator measured, e.g. orders_1m (default: the action's `effect:`)")] = None,
    rate: Annotated[bool | None, typer.Option(
        "--rate/--mean", help="compare the shares of customers with an outcome above zero, "
        "or the means (default: as the action's `effect:` says, else the means)")] = None,
    as_of: AsOfOpt = None,
    run: Annotated[int | None, typer.Option(help="the action's run (default: the latest "
                                                 "one with a later run)")] = None,
    pooled: Annotated[bool, typer.Option(
        "--pooled", help="every run with a later run, each measured at its next run")] = False,
    project: ProjectOpt = Path("."),
) -> None:
    """The action's effect: treated customers against its holdout, with a 95% interval.

    Measured as of --as-of, else the scheme's next official run after the action's run;
    --pooled joins every measured run in one comparison.
    """
    from tierwise.services import effects

    with reported():
        proj = open_project(project)
        day = parse_date(as_of) if as_of else None
        found = effects.effect(proj, store_of(proj), name, outcome, run_id=run, as_of=day,
                               rate=rate, pooled=pooled)
    what = _("share with {outcome} above 0") if found.rate else _("mean {outcome}")
    title = _("{action}: {count} runs from {first} to {last}, each measured at the next").format(
        action=name, count=found.runs, first=day_text(found.first_as_of or found.run_as_of),
        last=day_text(found.run_as_of)) if found.runs > 1 else _(
        "{action}: run of {run}, measured as of {day}").format(
        action=name, run=day_text(found.run_as_of), day=day_text(found.measured_as_of))
    table = listing_table(title,
        _("group"), _("customers"), what.format(outcome=found.outcome))
    for label, group in ((_("treated"), found.treated), (_("holdout"), found.holdout)):
        table.add_row(label, str(group.customers),
                      "" if group.mean is None else f"{group.mean:.4f}")
    console.print(table)
    if found.uplift is None or found.low is None or found.high is None:
        console.print(_("no uplift yet: a group is empty (holdout {held}, treated {treated})")
                      .format(held=found.holdout.customers, treated=found.treated.customers))
        return
    relative = "" if found.relative is None else f" ({found.relative:+.1%})"
    console.print(_("uplift {uplift}{relative}, {level} interval {low} to {high}").format(
        uplift=f"{found.uplift:+.4f}", relative=relative, level=f"{found.confidence:.0%}",
        low=f"{found.low:+.4f}", high=f"{found.high:+.4f}"))
