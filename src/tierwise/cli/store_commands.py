"""CLI commands over the store: scheme versions, runs, history, transitions, overrides, audit."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from tierwise import i18n
from tierwise.cli.common import (
    EXIT_SKIPPED,
    acting,
    console,
    open_project,
    open_store,
    parse_date,
    reported,
    required_date,
    store_of,
)
from tierwise.cli.options import ActorOpt, AsOfOpt, NoteOpt, ProjectOpt
from tierwise.cli.render import backfill_summary, listing_table
from tierwise.errors import SpecError
from tierwise.i18n import N_, _, ngettext

scheme_app = typer.Typer(help="Scheme versions: save, list, diff, preview, activate, roll back.",
                         no_args_is_help=True)
runs_app = typer.Typer(help="Recorded runs: list and summarise.", no_args_is_help=True)
override_app = typer.Typer(help="Manual overrides: add, list, approve, reject, revoke.",
                           no_args_is_help=True)
audit_app = typer.Typer(help="The audit log: list events, verify the hash chain.",
                        no_args_is_help=True)

# -- schemes -----------------------------------------------------------------------------------


@scheme_app.command("save")
def scheme_save(
    name: Annotated[str, typer.Argument(help="scheme in tierwise.yaml")],
    project: ProjectOpt = Path("."),
    note: Annotated[str | None, typer.Option(help="what changed and why")] = None,
) -> None:
    """Save tierwise.yaml's scheme as a version (a new one only when grading changed).

    When only labels, descriptions or strategies changed, they replace the texts of the current
    version. Needs the right to edit schemes (`tierwise login`).
    """
    from tierwise.services import access, versions

    with reported():
        proj, store, actor = acting(project, access.EDIT_SCHEMES)
        saved, created = versions.save(store, proj, name, actor=actor.name, note=note)
    state = "new version" if created else "unchanged grading: version"
    console.print(f"{name}: {state} {saved.number} (fingerprint {saved.fingerprint[:12]})")


@scheme_app.command("list")
def scheme_list(name: Annotated[str, typer.Argument()], project: ProjectOpt = Path(".")) -> None:
    """List a scheme's versions and activations."""
    from tierwise.services import versions

    with reported():
        found, acts = versions.listing(open_store(project), name)
    today = date.today()
    active = [a.version for a in acts if a.effective_from <= today]
    table = listing_table(f"versions of {name}", "version", "fingerprint", "created", "by",
                          "note", "state")
    for v in found:
        state = "active" if active and active[-1] == v.number else ""
        scheduled = [a for a in acts if a.version == v.number and a.effective_from > today]
        if scheduled:
            state = f"goes live {scheduled[-1].effective_from}"
        table.add_row(str(v.number), v.fingerprint[:12], f"{v.created_at:%Y-%m-%d %H:%M}",
                      v.created_by, Text(v.note or ""), state)
    console.print(table)


@scheme_app.command("diff")
def scheme_diff(
    name: Annotated[str, typer.Argument()],
    a: Annotated[int, typer.Argument(help="version")],
    b: Annotated[int, typer.Argument(help="version")],
    project: ProjectOpt = Path("."),
) -> None:
    """Show what differs between two versions of a scheme."""
    from tierwise.services import catalog, versions

    with reported():
        store = open_store(project)
        changes = versions.diff(catalog.version(store, name, a), catalog.version(store, name, b))
    if not changes:
        console.print(f"versions {a} and {b} of {name} are identical")
        return
    table = listing_table(f"{name}: version {a} -> {b}", "field", f"v{a}", f"v{b}", "grading")
    for d in changes:
        table.add_row(d.path, Text(json.dumps(d.before, ensure_ascii=False)),
                      Text(json.dumps(d.after, ensure_ascii=False)), "yes" if d.grading else "texts")
    console.print(table)


@scheme_app.command("activate")
def scheme_activate(
    name: Annotated[str, typer.Argument()],
    version: Annotated[int, typer.Argument()],
    project: ProjectOpt = Path("."),
    on: Annotated[str | None, typer.Option("--on", help="go-live date (default today)")] = None,
) -> None:
    """Activate a version now, or schedule its go-live date with --on."""
    from tierwise.services import access, versions

    with reported():
        _, store, actor = acting(project, access.EDIT_SCHEMES)
        act = versions.activate(store, name, version, actor=actor.name,
                                effective_from=parse_date(on))
    console.print(f"{name}: version {act.version} active from {act.effective_from} ({act.kind})")


@scheme_app.command("rollback")
def scheme_rollback(name: Annotated[str, typer.Argument()], project: ProjectOpt = Path(".")
                    ) -> None:
    """Re-activate the version that was active before the current one."""
    from tierwise.services import access, versions

    with reported():
        _, store, actor = acting(project, access.EDIT_SCHEMES)
        act = versions.rollback(store, name, actor=actor.name)
    console.print(f"{name}: rolled back to version {act.version} from {act.effective_from}")


@scheme_app.command("preview")
def scheme_preview(
    name: Annotated[str, typer.Argument()],
    project: ProjectOpt = Path("."),
    version: Annotated[int | None, typer.Option(help="candidate (default: tierwise.yaml's)")
                       ] = None,
    as_of: AsOfOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Compare a candidate version with the active one on the same data, before activating."""
    from tierwise.services.history import preview

    with reported():
        p = preview(open_project(project), name, candidate=version, as_of=parse_date(as_of),
                    actor=actor)
    console.print(f"{name} as of {p.as_of}: version {p.candidate} against active version "
                  f"{p.active}: {p.transitions.headline()}")
    _matrix(p.transitions, p.tiers, f"active v{p.active} (rows) -> v{p.candidate} (columns)")
    for (src, dst), ids in sorted(p.transitions.samples.items(), key=lambda kv: str(kv[0])):
        console.print(f"  {src or '-'} -> {dst or '-'}: {', '.join(ids)}")


def _matrix(moves: Any, tiers: list[str], title: str) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("from \\ to")
    labels = [*tiers, "(none)"]
    for key in labels:
        table.add_column(key, justify="right")
    for key, row in zip(labels, moves.matrix(tiers), strict=True):
        table.add_row(key, *[f"{n:,}" if n else "." for n in row])
    console.print(table)


# -- runs, backfill, history, transitions ------------------------------------------------------


def backfill(
    schemes: Annotated[list[str], typer.Argument(help="schemes")],
    start: Annotated[str, typer.Option("--from", help="first as-of date")],
    end: Annotated[str, typer.Option("--to", help="last as-of date")],
    every: Annotated[str, typer.Option(help="month (month ends) or a number of days, e.g. 7d")
                     ] = "month",
    force: Annotated[bool, typer.Option(help="re-run dates already done, and every later one")
                     ] = False,
    project: ProjectOpt = Path("."),
    actor: ActorOpt = None,
) -> None:
    """Run schemes for a series of as-of dates, oldest first, building their history."""
    from tierwise.services.runs import backfill as backfill_service
    from tierwise.services.runs import backfill_dates

    with reported():
        dates = backfill_dates(required_date(start, "--from"), required_date(end, "--to"),
                               every)
        outcomes = backfill_service(open_project(project), schemes, dates, force=force, actor=actor,
                                    progress=lambda s: console.print(f"[dim]{s}[/dim]")
                                    if s.startswith("as of") else None)
    for line in backfill_summary(outcomes):
        console.print(line, highlight=False)
    if not any(o.status == "done" for o in outcomes):
        raise typer.Exit(EXIT_SKIPPED)


@runs_app.command("list")
def runs_list(name: Annotated[str, typer.Argument()], project: ProjectOpt = Path("."),
              all_runs: Annotated[bool, typer.Option("--all", help="also failed, superseded "
                                                                  "and unofficial runs")] = False
              ) -> None:
    """List a scheme's runs."""
    from tierwise.services import catalog

    with reported():
        found = catalog.runs(open_store(project), name, every=all_runs)
    table = listing_table(f"runs of {name}", "run", "as of", "version", "status", "official",
                          "customers", "by", "finished")
    for r in found:
        table.add_row(str(r.id), str(r.as_of), str(r.version), r.status,
                      "yes" if r.official else "no", f"{r.customers:,}" if r.customers else "",
                      r.started_by, f"{r.finished_at:%Y-%m-%d %H:%M}" if r.finished_at else "")
    console.print(table)


@runs_app.command("show")
def runs_show(run_id: Annotated[int, typer.Argument()], project: ProjectOpt = Path(".")) -> None:
    """A run's summary: per tier, customers by how they got their tier."""
    from tierwise.services.history import summary

    with reported():
        s = summary(open_store(project), run_id)
    r = s.run
    console.print(f"run {r.id}: {r.scheme} v{r.version} as of {r.as_of}, {r.status}, "
                  f"{'official' if r.official else 'unofficial'}, by {r.started_by}; data "
                  f"{(r.data_fingerprint or '')[:12]}")
    if r.error:
        console.print(Text.assemble(("error: ", "red"), r.error))
    table = Table(title_justify="left")
    for col in ("tier", "customers", "computed", "held by policy", "overridden", "entered",
                "left", "value"):
        table.add_column(col, justify="right")
    for t in s.tiers:
        table.add_row(t.tier, f"{t.customers:,}", f"{t.computed:,}", f"{t.held:,}",
                      f"{t.overridden:,}", f"{t.entered:,}", f"{t.left:,}",
                      f"{t.value_sum:,.0f}" if t.value_sum is not None else "")
    console.print(table)


def history(
    customer: Annotated[str, typer.Argument(help="customer id")],
    scheme: Annotated[str, typer.Option("--scheme", "-s")],
    project: ProjectOpt = Path("."),
    on: Annotated[str | None, typer.Option("--on", help="only the tier held on this date")
                  ] = None,
    version: Annotated[int | None, typer.Option(
        help="with --on: what this version gives on that date (graded if never run)")] = None,
    actor: ActorOpt = None,
) -> None:
    """A customer's tiers over time (valid from / to), or on one date."""
    from tierwise.services import history as history_service

    with reported():
        proj = open_project(project)
        day = parse_date(on)
        if version is not None:
            if day is None:
                raise SpecError("--version needs --on DATE: the date to grade the version as of")
            run, grade = history_service.what_version_gives(proj, scheme, version, customer, day,
                                                            actor=actor)
            shown = f"{grade['tier']} (rank {grade['tier_rank']})" if grade else "not graded"
            console.print(f"{customer} in {scheme} version {version} as of {run.as_of} "
                          f"(run {run.id}): {shown}")
            return
        store = store_of(proj)
        spells = history_service.history(store, scheme, customer)
    if day is not None:
        now = [s for s in spells if s.valid_from <= day and (s.valid_to is None or
                                                              day < s.valid_to)]
        if not now:
            console.print(f"{customer} had no grade in {scheme} on {day}")
            raise typer.Exit(1)
        s = now[0]
        console.print(f"{customer} in {scheme} on {day}: {s.tier} (since {s.valid_from}, run "
                      f"{s.run_id}, version {s.version}, {s.source})")
        return
    if not spells:
        console.print(f"{customer} has no history in {scheme}")
        raise typer.Exit(1)
    table = listing_table(f"{customer} in {scheme}", "tier", "valid from", "valid to", "change",
                          "source", "run", "version")
    for s in spells:
        table.add_row(s.tier, str(s.valid_from), str(s.valid_to or ""), s.change, s.source,
                      str(s.run_id), str(s.version))
    console.print(table)


def transitions(
    scheme: Annotated[str, typer.Argument()],
    project: ProjectOpt = Path("."),
    from_run: Annotated[int | None, typer.Option("--from", help="run id (default: the one "
                                                                 "before --to)")] = None,
    to_run: Annotated[int | None, typer.Option("--to", help="run id (default: latest)")] = None,
    limit: Annotated[int, typer.Option(help="customers listed per kind of move")] = 10,
) -> None:
    """Who moved between two runs: the tier matrix and the movers with their indicator changes."""
    from tierwise.services import catalog
    from tierwise.services import history as history_service

    with reported():
        store = open_store(project)
        old, new = catalog.runs_to_compare(store, scheme=scheme, to_run=to_run,
                                           from_run=from_run)
        grading = catalog.grading_of(store, new)
        moves = history_service.compare_runs(store, old, new, limit=limit)
    console.print(f"{scheme}: run {old.id} ({old.as_of}) -> run {new.id} ({new.as_of}): "
                  f"{moves.headline()}")
    _matrix(moves, grading.tiers, "from (rows) -> to (columns)")
    names = grading.indicators
    for kind, rows in moves.movers.items():
        if not rows:
            continue
        table = listing_table(f"{kind}: first {len(rows)} by id", "customer", "move", *names)
        for r in rows:
            table.add_row(r["customer_id"], f"{r['from_tier'] or '-'} -> {r['to_tier'] or '-'}",
                          *[f"{_show(r.get(f'{n}_before'))} -> {_show(r.get(f'{n}_after'))}"
                            for n in names])
        console.print(table)


def _show(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


# -- overrides ---------------------------------------------------------------------------------


@override_app.command("add")
def override_add(
    customer: Annotated[str, typer.Argument()],
    scheme: Annotated[str, typer.Option("--scheme", "-s")],
    kind: Annotated[str, typer.Option(help="pin, floor, ceiling or exclude")],
    reason: Annotated[str, typer.Option(help="why (required)")],
    tier: Annotated[str | None, typer.Option(help="tier key (not for exclude)")] = None,
    start: Annotated[str | None, typer.Option("--from", help="first date (default today)")
                     ] = None,
    expires: Annotated[str | None, typer.Option(help="first date it no longer applies")] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Override one customer's grade, with a reason; pending when the scheme needs approval."""
    from tierwise.services import access
    from tierwise.services.overrides import OverrideRequest, create

    with reported():
        proj, store, actor = acting(project, access.OVERRIDE)
        if actor.user is not None:
            access.require_customer(store, actor.user, customer)
        asked = OverrideRequest(scheme, customer, kind=kind, tier=tier, reason=reason,
                                valid_from=parse_date(start), expires=parse_date(expires))
        o = create(proj, asked, actor=actor.name, store=store)
    console.print(f"override #{o.id}: {customer} {o.kind} {o.tier or ''} in {scheme}, {o.status}")


@override_app.command("list")
def override_list(
    project: ProjectOpt = Path("."),
    scheme: Annotated[str | None, typer.Option("--scheme", "-s")] = None,
    status: Annotated[str | None, typer.Option(help="pending, active, rejected, revoked")
                      ] = None,
) -> None:
    """List overrides, newest first (the approval queue: --status pending)."""
    from tierwise.services import overrides as override_service

    with reported():
        found = override_service.listing(open_store(project), scheme=scheme, status=status)
    table = listing_table("overrides", "#", "scheme", "customer", "kind", "tier", "status",
                          "from", "expires", "author", "decided by", "reason")
    for o in found:
        table.add_row(str(o.id), o.scheme, o.customer_id, o.kind, o.tier or "", o.status,
                      str(o.valid_from), str(o.expires or ""), o.author, o.decided_by or "",
                      Text(o.reason))
    console.print(table)


def _decide(action: str, override_id: int, project: Path, note: str | None) -> None:
    from tierwise.services import access
    from tierwise.services import overrides as override_service

    with reported():
        proj, store, actor = acting(project, access.OVERRIDE)
        target = override_service.decidable(store, actor.user, action, override_id)
        o = override_service.decide(proj, target, override_service.Decision(action, note),
                                    actor=actor.name, store=store)
    console.print(f"override #{o.id}: {o.status} by {o.decided_by}")


@override_app.command("approve")
def override_approve(override_id: int, project: ProjectOpt = Path("."), note: NoteOpt = None
                     ) -> None:
    """Approve a pending override (never by its author)."""
    _decide("approve", override_id, project, note)


@override_app.command("reject")
def override_reject(override_id: int, project: ProjectOpt = Path("."), note: NoteOpt = None
                    ) -> None:
    """Reject a pending override (never by its author)."""
    _decide("reject", override_id, project, note)


@override_app.command("revoke")
def override_revoke(override_id: int, project: ProjectOpt = Path("."), note: NoteOpt = None
                    ) -> None:
    """End a pending or active override now."""
    _decide("revoke", override_id, project, note)


# -- audit -------------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(project: ProjectOpt = Path(".")) -> None:
    """Check the audit log's hash chain: exit 1 when any event was edited or deleted."""
    from tierwise.services import audit_trail

    with reported():
        report = audit_trail.verify(open_store(project))
    if report.ok:
        console.print(_("audit log intact: {n} events, hash chain verified").format(
            n=i18n.number(report.events)), highlight=False)
        return
    first = report.problems[0]
    console.print(Text(ngettext(
        "audit log broken: {n} problem in {events} events; the first broken event is seq "
        "{seq} ({kind})",
        "audit log broken: {n} problems in {events} events; the first broken event is seq "
        "{seq} ({kind})", len(report.problems)).format(
            n=len(report.problems), events=i18n.number(report.events), seq=first.seq,
            kind=_(_PROBLEM_KINDS.get(first.kind, first.kind))), style="red"), soft_wrap=True)
    for problem in report.problems:
        console.print(Text(_("  seq {seq}, {kind}: {message}").format(
            seq=problem.seq, kind=_(_PROBLEM_KINDS.get(problem.kind, problem.kind)),
            message=problem.message)), soft_wrap=True)
    raise typer.Exit(1)


#: What each kind of broken link of the audit chain is called.
_PROBLEM_KINDS = {"edited": N_("edited"), "deleted": N_("deleted"), "reordered": N_("reordered"),
                  "head_mismatch": N_("head mismatch")}


@audit_app.command("list")
def audit_list(
    project: ProjectOpt = Path("."),
    object_type: Annotated[str | None, typer.Option("--type")] = None,
    object_id: Annotated[str | None, typer.Option("--id")] = None,
    limit: int = 50,
) -> None:
    """The latest audit events, newest first."""
    from tierwise.services import audit_trail

    with reported():
        found = audit_trail.events(open_store(project), object_type=object_type,
                                   object_id=object_id, limit=limit)
    table = listing_table("audit log", "#", "at", "actor", "action", "object")
    for e in found:
        table.add_row(str(e.seq), f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.action, f"{e.object_type} {e.object_id}")
    console.print(table)


@audit_app.command("access")
def audit_access(
    project: ProjectOpt = Path("."),
    user: Annotated[str | None, typer.Option("--user", help="one user's reads")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="reads of one customer")
                        ] = None,
    limit: int = 50,
) -> None:
    """The access log: who read which customers, searched, logged in or used a token."""
    from tierwise.services import access, audit_trail

    with reported():
        _, store, _ = acting(project, access.READ_AUDIT)
        found = audit_trail.reads(store, actor=user, object_id=customer, limit=limit)
    table = listing_table("access log", "at", "who", "what", "object", "client")
    for a in found:
        table.add_row(f"{a.at:%Y-%m-%d %H:%M:%S}", Text(a.actor), a.action,
                      Text(f"{a.object_type} {a.object_id}"), Text(a.client or ""))
    console.print(table)


@audit_app.command("prune-access")
def audit_prune_access(
    before: Annotated[str, typer.Option("--before", help="delete entries older than this date, "
                                                         "YYYY-MM-DD")],
    project: ProjectOpt = Path("."),
) -> None:
    """Delete access-log entries older than a date (after your retention period).

    The audit chain is never pruned; the pruning itself is recorded in it.
    """
    from tierwise.services import access, audit_trail

    with reported():
        day = required_date(before, "--before")
        _, store, actor = acting(project, access.USERS)
        n = audit_trail.prune_reads(store, actor, day)
    console.print(f"deleted {n:,} access-log entries from before {day}")
