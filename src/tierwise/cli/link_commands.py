"""``tierwise link``: one customer across systems (run, review, accept, reject, show).

``run`` links the customer sources named in ``linkage:`` into a new version; ``review`` lists the
uncertain pairs nobody has decided; ``accept`` and ``reject`` record a person's decision, which
every later run applies; ``show`` lists the records that are one customer.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tierwise.cli.common import acting, console, reported
from tierwise.cli.options import ProjectOpt
from tierwise.cli.render import listing_table
from tierwise.i18n import _

if TYPE_CHECKING:
    from tierwise.services.linkage import LinkRun, Record
    from tierwise.services.project import Project

link_app = typer.Typer(
    help="One customer across systems: link the systems' customers, review uncertain pairs, "
         "accept or reject them, show a customer's records.", no_args_is_help=True)

Reason = Annotated[str, typer.Option("--reason", help="what showed it (kept in the audit log)")]
RecordArg = Annotated[str, typer.Argument(help="a record, written system:id (e.g. shop:S0000001)")]


@link_app.command("run")
def link_run(project: ProjectOpt = Path(".")) -> None:
    """Link the customers of the systems in `linkage:` into a new version."""
    from tierwise.services import access
    from tierwise.services import linkage as service

    with reported():
        proj, store, actor = acting(project, access.RUN)
        if proj.spec.linkage is not None:
            console.print(_("linking the customers of {systems}...").format(
                systems=_(", ").join(_system(proj, n) for n in proj.spec.linkage.systems)))
        try:
            done = service.run(proj, store, actor=actor.name)
        finally:
            store.close()
    print_link_run(proj, done)
    if proj.spec.linkage is not None and proj.spec.linkage.grades_linked:
        console.print(_("the next `tierwise run` grades these customers, each on its orders in "
                        "every system"), highlight=False)


def print_link_run(proj: Project, done: LinkRun) -> None:
    """What a linkage run made: records, customers, pairs waiting for a person, the files."""
    total = sum(done.records.values())
    console.print(_("linkage version {number}: {records} records ({systems}) are {customers} "
                    "customers; {joined} customers have records in several places").format(
        number=done.version, records=f"{total:,}",
        systems=_(", ").join(f"{_system(proj, s)} {n:,}" for s, n in done.records.items()),
        customers=f"{done.customers:,}", joined=f"{done.joined:,}"))
    console.print(_("{review} uncertain pairs wait for review (`tierwise link review`); "
                    "{decisions} decisions by people applied").format(
        review=f"{done.review:,}", decisions=f"{done.decisions:,}"))
    console.print(_("files: {folder}").format(folder=done.folder))


def _system(project: Project, name: str) -> str:
    """A system as people call it (its label in the reader's language)."""
    return project.spec.linkage.system_title(name) if project.spec.linkage else name


def _field(project: Project, name: str) -> str:
    """A compared field as people call it (its label, else its kind, in the reader's language)."""
    return project.spec.linkage.field_title(name) if project.spec.linkage else name


def _values(record: Record) -> str:
    return " · ".join(v for v in record.values.values() if v)


@link_app.command("review")
def link_review(
    limit: Annotated[int, typer.Option("--limit", min=1, help="pairs listed at most")] = 20,
    project: ProjectOpt = Path("."),
) -> None:
    """List the uncertain pairs nobody has decided, most likely first."""
    from tierwise.services import access
    from tierwise.services import linkage as service

    with reported():
        proj, store, actor = acting(project, access.READ_CUSTOMERS)
        try:
            service.require_reader(actor.user)
            count, pairs = service.review(proj, store, limit=limit)
        finally:
            store.close()
    if not count:
        console.print(_("no pairs wait for review"))
        return
    console.print(_("{count} pairs wait for review (showing {shown}), most likely first").format(
        count=f"{count:,}", shown=len(pairs)))
    for pair in pairs:
        # One table a pair, a row a field: the two records side by side, as a reviewer reads.
        table = listing_table(_("match probability {probability}").format(
            probability=f"{pair.probability:.1%}"), "", pair.left.id, pair.right.id)
        for name in pair.left.values:
            left, right = pair.left.values.get(name), pair.right.values.get(name)
            if left or right:  # a field neither record has says nothing
                table.add_row(_field(proj, name), left or "", right or "")
        console.print(table)
    console.print(_("decide with `tierwise link accept A B --reason ...` (one customer) or "
                    "`tierwise link reject A B --reason ...` (two customers)"))


def _decide(project: Path, record_a: str, record_b: str, decision: str, reason: str) -> None:
    from tierwise.services import access
    from tierwise.services import linkage as service

    with reported():
        proj, store, actor = acting(project, access.DECIDE)
        try:
            service.decide(proj, store, record_a, record_b, decision=decision, reason=reason,
                           actor=actor.name)
        finally:
            store.close()
    message = (_("{a} and {b} are one customer from the next `tierwise link run` on")
               if decision == "link" else
               _("{a} and {b} stay two customers from the next `tierwise link run` on"))
    console.print(message.format(a=record_a, b=record_b))


@link_app.command("accept")
def link_accept(record_a: RecordArg, record_b: RecordArg, reason: Reason,
                project: ProjectOpt = Path(".")) -> None:
    """Decide that two records are one customer (kept through every later run)."""
    _decide(project, record_a, record_b, "link", reason)


@link_app.command("reject")
def link_reject(record_a: RecordArg, record_b: RecordArg, reason: Reason,
                project: ProjectOpt = Path(".")) -> None:
    """Decide that two records are two customers (never linked directly again)."""
    _decide(project, record_a, record_b, "apart", reason)


@link_app.command("show")
def link_show(record: RecordArg, project: ProjectOpt = Path(".")) -> None:
    """List the records that are one customer with RECORD."""
    from tierwise.services import access
    from tierwise.services import linkage as service

    with reported():
        proj, store, actor = acting(project, access.READ_CUSTOMERS)
        try:
            service.require_reader(actor.user)
            number, members = service.customer(proj, store, record)
        finally:
            store.close()
    table = listing_table(_("customer {customer} (linkage version {number})").format(
        customer=members[0].customer, number=number), _("system"), _("id"), _("values"))
    for member in members:
        table.add_row(_system(proj, member.system), member.source_id, _values(member))
    console.print(table)
