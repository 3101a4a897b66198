"""What the customer list does with the customers it found: export them, assign them.

An export holds the whole filtered list (every page), the columns the user chose with headers in
the current language, as CSV with a byte-order mark or as Excel, with formulas neutralised
(:mod:`tierwise.services.sheets`). Its file name says the scheme, the run date and the filter.
Exports are data leaving tierwise, so each is recorded in the audit log.

Assigning gives the ticked customers, or every customer the filter finds, to an account
manager; only a role that may assign customers can (:data:`tierwise.services.access.ASSIGN`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tierwise.errors import SpecError
from tierwise.i18n import _, current
from tierwise.services import access, catalog, people
from tierwise.services.auth import Actor
from tierwise.services.customer_list import (
    ListQuery,
    check_query,
    filtered,
    ordered,
    readable,
    view_of,
)
from tierwise.services.export_columns import distinct_headers
from tierwise.services.list_columns import id_header
from tierwise.services.list_table import list_table
from tierwise.services.project import Project
from tierwise.services.sheets import sheet_bytes
from tierwise.spec.columns import CUSTOMER
from tierwise.store import Store

FORMATS = ("csv", "xlsx")
#: Customers one bulk assignment may move (a larger book is assigned in parts, by filter).
MAX_ASSIGN = 200_000


@dataclass(frozen=True)
class ListExport:
    """An export's bytes, its file name and how many customers it holds."""

    content: bytes
    filename: str
    customers: int
    media_type: str


def export_list(project: Project, store: Store, query: ListQuery, fmt: str, *,
                visible: set[str] | None, actor: str, client: str | None = None,
                timeout: float | None = None) -> ListExport:
    """Every customer the query finds, in the list's order and chosen columns, as a file.

    Raises:
        SpecError: an unknown format, or a query the list does not take.
        DataError: more rows than an Excel sheet holds (export CSV instead).
        QueryTimeout: the query ran past ``timeout`` seconds.
    """
    import pyarrow as pa

    if fmt not in FORMATS:
        raise SpecError(_("unknown export format {format}; use csv or xlsx").format(
            format=repr(fmt)))
    check_query(query)
    table = list_table(project, store, query.scheme, query.as_of)
    view = view_of(project, table, query.columns)
    engine = table.open()
    try:
        rows = ordered(filtered(engine, table, query, visible), query.sort
                       if query.sort in {CUSTOMER, *(c.key for c in view.available)}
                       else CUSTOMER, query.descending)
        keys = [CUSTOMER, *(c.key for c in view.shown if c.key != CUSTOMER)]
        with engine.time_limit(timeout, what=_("the export")):
            found = engine.to_arrow(rows.select(*keys))
    finally:
        engine.close()
    labels = catalog.tier_labels(store, query.scheme, current())
    columns: list[Any] = [found.column(CUSTOMER)]
    for column in view.shown:
        columns.append(readable(found.column(column.key), column, labels))
    headers = distinct_headers([id_header(), *(c.label for c in view.shown)])
    sheet = pa.table(columns, names=headers)
    content = sheet_bytes(sheet, fmt, query.scheme)
    with store.write() as tx:
        tx.audit.append(actor=actor, action="customers.exported", object_type="scheme",
                        object_id=query.scheme,
                        after={"format": fmt, "customers": sheet.num_rows, "run": table.run.id,
                               "as_of": table.run.as_of, "filter": query.filters(),
                               "columns": [c.key for c in view.shown],
                               "only_assigned": visible is not None,
                               "client": (client or "")[:100]})
    media = ("text/csv; charset=utf-8" if fmt == "csv" else
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return ListExport(content, file_name(query, table.run.as_of.isoformat(), fmt),
                      sheet.num_rows, media)


def file_name(query: ListQuery, as_of: str, fmt: str) -> str:
    """``customers-<scheme>-<as of>[-<filter>...].<fmt>``: the filter written into the name.

    Characters a file name cannot hold become ``_``; Chinese stays (browsers take it through
    the header's UTF-8 form). The name stays under 150 characters.
    """
    parts = ["customers", query.scheme, as_of]
    for name, value in query.filters().items():
        parts.append(f"{name}_{value}")
    text = "-".join(parts)
    text = re.sub(r"[\\/:*?\"<>|\s'=;,]+", "_", text).strip("._") or "customers"
    return f"{text[:150]}.{fmt}"


def managers(store: Store, actor: Actor) -> list[tuple[str, str]]:
    """The enabled account managers customers can be assigned to: (username, name shown)."""
    if actor.user is not None:
        access.require(actor.user, access.ASSIGN)
    return [(u.username, u.display_name or u.username)
            for u in people.managers(store, actor) if not u.disabled]


def assign_listed(project: Project, store: Store, actor: Actor, query: ListQuery, manager: str,
                  *, ticked: list[str] | None, visible: set[str] | None = None) -> int:
    """Assign to ``manager`` the ticked customers of the list, or all it finds (``ticked`` None).

    Ticked ids the filter does not find are left out, so a page cannot assign customers the
    run does not have. The assignment is audited (``customers.assigned``).

    Raises:
        PermissionDenied: the actor's role may not assign customers; ``manager`` is no manager.
        SpecError: nothing to assign, or more than :data:`MAX_ASSIGN` customers.
    """
    import pyarrow as pa

    if actor.user is not None:
        access.require(actor.user, access.ASSIGN)
    check_query(query)
    table = list_table(project, store, query.scheme, query.as_of)
    engine = table.open()
    try:
        rows = filtered(engine, table, query, visible)
        if ticked is not None:
            picked = engine.register_arrow("ticked", pa.table(
                {CUSTOMER: pa.array(sorted(set(ticked)), pa.string())}))
            rows = rows.semi_join(picked, rows[CUSTOMER] == picked[CUSTOMER])
        total = int(engine.execute(rows.count()))
        if total > MAX_ASSIGN:
            raise SpecError(_("{n} customers are more than one assignment moves ({most} at "
                              "most); narrow the filter and assign in parts").format(
                                  n=total, most=MAX_ASSIGN))
        ids = engine.to_arrow(rows.select(CUSTOMER)).column(CUSTOMER).to_pylist()
    finally:
        engine.close()
    if not ids:
        raise SpecError(_("no customer to assign: tick customers in the list, or choose all "
                          "customers the filter finds"))
    return people.assign(store, actor, ids, manager)
