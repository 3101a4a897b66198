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
from tierwise.cli.formats import day, indicator, moment, num, tier_names, word, yes
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
    said = (_("{scheme}: new version {version} (fingerprint {fingerprint})") if created
            else _("{scheme}: unchanged grading: version {version} (fingerprint {fingerprint})"))
    console.print(said.format(scheme=name, version=saved.number,
                              fingerprint=saved.fingerprint[:12]))


@scheme_app.command("list")
def scheme_list(name: Annotated[str, typer.Argument()], project: ProjectOpt = Path(".")) -> None:
    """List a scheme's versions and activations."""
    from tierwise.services import versions

    with reported():
        found, acts = versions.listing(open_store(project), name)
    today = date.today()
    active = [a.version for a in acts if a.effective_from <= today]
    table = listing_table(_("versions of {scheme}").format(scheme=name), _("version"),
                          _("fingerprint"), _("created"), _("by"), _("note"), _("state"))
    for v in found:
        state = word("active") if active and active[-1] == v.number else ""
        scheduled = [a for a in acts if a.version == v.number and a.effective_from > today]
        if scheduled:
            state = _("goes live {day}").format(day=day(scheduled[-1].effective_from))
        table.add_row(str(v.number), v.fingerprint[:12], moment(v.created_at),
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
        console.print(_("versions {a} and {b} of {scheme} are identical").format(
            a=a, b=b, scheme=name))
        return
    table = listing_table(_("{scheme}: version {a} -> {b}").format(scheme=name, a=a, b=b),
                          _("field"), f"v{a}", f"v{b}", _("grading"))
    for d in changes:
        table.add_row(d.path, Text(json.dumps(d.before, ensure_ascii=False)),
                      Text(json.dumps(d.after, ensure_ascii=False)),
                      yes(True) if d.grading else _("texts"))
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
        _proj, store, actor = acting(project, access.EDIT_SCHEMES)
        act = versions.activate(store, name, version, actor=actor.name,
                                effective_from=parse_date(on))
    console.print(_("{scheme}: version {version} active from {day} ({kind})").format(
        scheme=name, version=act.version, day=day(act.effective_from), kind=word(act.kind)))


@scheme_app.command("rollback")
def scheme_rollback(name: Annotated[str, typer.Argument()], project: ProjectOpt = Path(".")
                    ) -> None:
    """Re-activate the version that was active before the current one."""
    from tierwise.services import access, versions

    with reported():
        _proj, store, actor = acting(project, access.EDIT_SCHEMES)
        act = versions.rollback(store, name, actor=actor.name)
    console.print(_("{scheme}: rolled back to version {version} from {day}").format(
        scheme=name, version=act.version, day=day(act.effective_from)))


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
        proj = open_project(project)
        p = preview(proj, name, candidate=version, as_of=parse_date(as_of), actor=actor)
    console.print(_("{scheme} as of {day}: version {candidate} against active version {active}: "
                    "{moves}").format(scheme=name, day=day(p.as_of), candidate=p.candidate,
                                      active=p.active, moves=p.transitions.headline()))
    _matrix(p.transitions, p.tiers, _("active v{active} (rows) -> v{candidate} (columns)")
            .format(active=p.active, candidate=p.candidate))
    for (src, dst), ids in sorted(p.transitions.samples.items(), key=lambda kv: str(kv[0])):
        console.print(f"  {src or '-'} -> {dst or '-'}: {_(', ').join(ids)}")


def _matrix(moves: Any, tiers: list[str], title: str) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column(_("from \\ to"))
    labels = [*tiers, _("(none)")]
    for key in labels:
        table.add_column(key, justify="right")
    for key, row in zip(labels, moves.matrix(tiers), strict=True):
        table.add_row(key, *[num(n) if n else "." for n in row])
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
    table = listing_table(_("runs of {scheme}").format(scheme=name), _("run"), _("as of"),
                          _("version"), _("status"), _("official"), _("customers"), _("by"),
                          _("finished"))
    for r in found:
        table.add_row(str(r.id), day(r.as_of), str(r.version), word(r.status),
                      yes(r.official, _("no")), num(r.customers) if r.customers else "",
                      r.started_by, moment(r.finished_at))
    console.print(table)


@runs_app.command("show")
def runs_show(run_id: Annotated[int, typer.Argument()], project: ProjectOpt = Path(".")) -> None:
    """A run's summary: per tier, customers by how they got their tier."""
    from tierwise.services.history import summary

    with reported():
        s = summary(open_store(project), run_id)
    r = s.run
    said = (_("run {run}: {scheme} v{version} as of {day}, {status}, official, by {actor}; "
              "data {data}") if r.official else
            _("run {run}: {scheme} v{version} as of {day}, {status}, unofficial, by {actor}; "
              "data {data}"))
    console.print(said.format(run=r.id, scheme=r.scheme, version=r.version, day=day(r.as_of),
                              status=word(r.status), actor=r.started_by,
                              data=(r.data_fingerprint or "")[:12]))
    if r.error:
        console.print(Text.assemble((_("error: "), "red"), r.error))
    table = Table(title_justify="left")
    for col in (_("tier"), _("customers"), _("computed"), _("held by policy"), _("overridden"),
                _("entered"), _("left"), _("value")):
        table.add_column(col, justify="right")
    for t in s.tiers:
        table.add_row(t.tier, num(t.customers), num(t.computed), num(t.held),
                      num(t.overridden), num(t.entered), num(t.left),
                      num(t.value_sum) if t.value_sum is not None else "")
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
    from tierwise.services import runs as runs_service

    with reported():
        proj = open_project(project)
        on_day = parse_date(on)
        if version is not None:
            if on_day is None:
                raise SpecError(_("--version needs --on DATE: the date to grade the version "
                                  "as of"))
            run, grade = history_service.what_version_gives(proj, scheme, version, customer, on_day,
                                                            actor=actor)
            shown = (_("{tier} (rank {rank})").format(tier=grade["tier"],
                                                       rank=grade["tier_rank"])
                     if grade else _("not graded"))
            console.print(_("{customer} in {scheme} version {version} as of {day} (run {run}): "
                            "{shown}").format(customer=customer, scheme=scheme, version=version,
                                              day=day(run.as_of), run=run.id, shown=shown))
            return
        store = store_of(proj)
        spells = history_service.history(store, scheme, customer)
        names = tier_names(runs_service.scheme_spec(proj, store, scheme))
    if on_day is not None:
        now = [s for s in spells if s.valid_from <= on_day and (s.valid_to is None or
                                                                 on_day < s.valid_to)]
        if not now:
            console.print(_("{customer} had no grade in {scheme} on {day}").format(
                customer=customer, scheme=scheme, day=day(on_day)))
            raise typer.Exit(1)
        s = now[0]
        console.print(_("{customer} in {scheme} on {day}: {tier} (since {since}, run {run}, "
                        "version {version}, {source})").format(
            customer=customer, scheme=scheme, day=day(on_day), tier=names.get(s.tier, s.tier),
            since=day(s.valid_from), run=s.run_id, version=s.version, source=word(s.source)))
        return
    if not spells:
        console.print(_("{customer} has no history in {scheme}").format(customer=customer,
                                                                        scheme=scheme))
        raise typer.Exit(1)
    table = listing_table(_("{customer} in {scheme}").format(customer=customer, scheme=scheme),
                          _("tier"), _("valid from"), _("valid to"), _("change"), _("source"),
                          _("run"), _("version"))
    for s in spells:
        table.add_row(names.get(s.tier, s.tier), day(s.valid_from), day(s.valid_to),
                      word(s.change), word(s.source), str(s.run_id), str(s.version))
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
        indicators = open_project(project).spec.indicators
    console.print(_("{scheme}: run {old} ({old_day}) -> run {new} ({new_day}): {moves}").format(
        scheme=scheme, old=old.id, old_day=day(old.as_of), new=new.id, new_day=day(new.as_of),
        moves=moves.headline()))
    _matrix(moves, grading.tiers, _("from (rows) -> to (columns)"))
    names = grading.indicators
    for kind, rows in moves.movers.items():
        if not rows:
            continue
        table = listing_table(_("{kind}: first {n} by id").format(kind=word(kind), n=len(rows)),
                              _("customer"), _("move"),
                              *[indicator(indicators, n) for n in names])
        for r in rows:
            table.add_row(r["customer_id"], f"{r['from_tier'] or '-'} -> {r['to_tier'] or '-'}",
                          *[f"{_show(r.get(f'{n}_before'))} -> {_show(r.get(f'{n}_after'))}"
                            for n in names])
        console.print(table)


def _show(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return num(value, 2)
    return str(value)


# -- overrides ---------------------------------------------------------------------------------


@override_app.command("add")
def override_add(
    customer: Annotated[str, typer.Argument()],
    scheme: Annotated[str, typer.Option("--scheme", "-s")],
    kind: Annotated[str, typer.Option(help="pin, floor, ceiling or exclude")],
    reason: Annotated[str, typer.Option(help="why (required)")],
    tier: Annotated[str | None, typer.Option(help="tier key (not for exclude)")] = None,
    start: Annotated[str | None, typer.Option("--from", help="first date (default: the latest graded date)")
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
    console.print(_("override #{id}: {customer} {kind} {tier} in {scheme}, {status}").format(
        id=o.id, customer=customer, kind=word(o.kind), tier=o.tier or "", scheme=scheme,
        status=word(o.status)))


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
    table = listing_table(_("overrides"), "#", _("scheme"), _("customer"), _("kind"), _("tier"),
                          _("status"), _("from"), _("expires"), _("author"), _("approved or rejected by"),
                          _("reason"))
    for o in found:
        table.add_row(str(o.id), o.scheme, o.customer_id, word(o.kind), o.tier or "",
                      word(o.status), day(o.valid_from), day(o.expires), o.author,
                      o.decided_by or "", Text(o.reason))
    console.print(table)


def _decide(action: str, override_id: int, project: Path, note: str | None) -> None:
    from tierwise.services import access
    from tierwise.services import overrides as override_service

    with reported():
        proj, store, actor = acting(project, access.OVERRIDE)
        target = override_service.decidable(store, actor.user, action, override_id)
        o = override_service.decide(proj, target, override_service.Decision(action, note),
                                    actor=actor.name, store=store)
    console.print(_("override #{id}: {status} by {actor}").format(
        id=o.id, status=word(o.status), actor=o.decided_by))


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
    table = listing_table(_("audit log"), "#", _("at"), _("actor"), _("action"), _("object"))
    for e in found:
        table.add_row(str(e.seq), moment(e.at, seconds=True), e.actor, audit_trail.action_name(e.action),
                      f"{audit_trail.object_name(e.object_type)} {e.object_id}")
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
        _proj, store, _actor = acting(project, access.READ_AUDIT)
        found = audit_trail.reads(store, actor=user, object_id=customer, limit=limit)
    table = listing_table(_("access log"), _("at"), _("who"), _("what"), _("object"),
                          _("client"))
    for a in found:
        table.add_row(moment(a.at, seconds=True), Text(a.actor), audit_trail.action_name(a.action),
                      Text(f"{audit_trail.object_name(a.object_type)} {a.object_id}"),
                      Text(a.client or ""))
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
        cutoff = required_date(before, "--before")
        _proj, store, actor = acting(project, access.USERS)
        n = audit_trail.prune_reads(store, actor, cutoff)
    console.print(ngettext("deleted {n} access-log entry from before {day}",
                           "deleted {n} access-log entries from before {day}", n).format(
        n=num(n), day=day(cutoff)))
