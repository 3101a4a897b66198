"""One customer's profile: attributes, recent events of each source, and the class in every scheme.

The attributes come from the ``customers`` source, the events from every other source the
project declares (orders, balances, interactions), each read for this customer only and bounded
(:func:`tierwise.sources.lookup.customer_rows`), so a profile costs the same at 5,000 customers
as at a million. Columns are named by the spec's ``label:`` where it has one, else by a common
word for well-known column names (``phone``, ``amount``), else by the column's own name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa

from tierwise.engine import Engine, connect
from tierwise.errors import NotFoundError, TierwiseError
from tierwise.i18n import N_, _, label_of
from tierwise.services import history as history_service
from tierwise.services import reading
from tierwise.services.explain_run import explain
from tierwise.services.project import Project
from tierwise.services.texts import Explanation
from tierwise.sources.lookup import customer_rows
from tierwise.spec.models import SourceSpec
from tierwise.store import Store
from tierwise.store.overrides import Override

#: Rows of each event source a profile shows.
EVENT_ROWS = 20
#: Columns of an event source a profile shows, at most (the id column is never among them).
EVENT_COLUMNS = 8

#: Words for column names many projects use, when the spec gives no ``label:``.
COMMON_LABELS = {
    "name": N_("Name"), "phone": N_("Phone"), "mobile": N_("Mobile phone"),
    "email": N_("Email"), "city": N_("City"), "region": N_("Region"),
    "channel": N_("Channel"), "segment": N_("Segment"), "signup_date": N_("Signup date"),
    "birth_date": N_("Date of birth"), "gender": N_("Gender"), "manager": N_("Account manager"),
    "order_id": N_("Order number"), "order_date": N_("Order date"), "amount": N_("Amount"),
    "kind": N_("Kind"), "balance": N_("Balance"), "date": N_("Date"), "product": N_("Product"),
    "quantity": N_("Quantity"), "status": N_("Status"), "type": N_("Type"),
}
#: Column names whose values are phone numbers or e-mail addresses (shown as links).
CONTACT_KINDS = {"phone": "phone", "mobile": "phone", "tel": "phone", "email": "email",
                 "mail": "email"}


@dataclass(frozen=True)
class Column:
    """A column as a page shows it: its name, label and kind (a spec type, phone or email)."""

    name: str
    label: str
    kind: str


@dataclass(frozen=True)
class Attribute:
    """One attribute of the customer, from the customers source."""

    column: Column
    value: Any


@dataclass(frozen=True)
class Events:
    """The latest rows of one event source for the customer, newest first.

    ``problem``: why the source could not be read (the rows are then empty).
    """

    source: str
    label: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    limit: int
    problem: str | None = None


@dataclass(frozen=True)
class SchemeClass:
    """The customer's class in one scheme: the explained grade, since when, history, overrides.

    ``problem``: why there is no grade (no run yet, or the customer was not graded).
    """

    scheme: str
    explanation: Explanation | None
    since: date | None
    history: list[history_service.Spell] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    problem: str | None = None


def column_label(name: str, spec: SourceSpec) -> str:
    """The label of column ``name`` of a source in the current language."""
    declared = spec.columns.get(name)
    label = declared.label if declared is not None else None
    if label is not None:
        return label_of(label, name)
    common = COMMON_LABELS.get(name.lower())
    return _(common) if common is not None else name


def _columns(spec: SourceSpec, names: list[str], types: dict[str, str]) -> list[Column]:
    out = []
    for name in names:
        declared = spec.columns.get(name)
        kind = CONTACT_KINDS.get(name.lower()) or (declared.type if declared else types[name])
        out.append(Column(name, column_label(name, spec), kind))
    return out


def _kind(arrow_type: Any) -> str:
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        return "int"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "float"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    return "bool" if pa.types.is_boolean(arrow_type) else "string"


#: The linked customer a person means by an id (see :func:`reading.customer_of`).
customer_of = reading.customer_of


def attributes(project: Project, customer_id: str, *, engine: Engine | None = None
               ) -> list[Attribute]:
    """The customer's row of the customers source, one attribute per column (the id left out).

    Raises:
        NotFoundError: the customers source has no row with this id.
        DataError: the source cannot be read.
    """
    spec = reading.customers_source(project)
    own = engine is None
    engine = engine or connect()
    try:
        found = customer_rows("customers", spec, engine, customer_id, base=project.root, limit=1)
    finally:
        if own:
            engine.close()
    if found.num_rows == 0:
        raise NotFoundError(_("customer {customer_id!r} is not in the customers source; check "
                              "the id (ids are case-sensitive)").format(customer_id=customer_id))
    names = [n for n in found.column_names if n != spec.id]
    types = {n: _kind(found.schema.field(n).type) for n in names}
    row = found.to_pylist()[0]
    return [Attribute(c, row[c.name]) for c in _columns(spec, names, types)]


def recent_events(project: Project, customer_id: str, *, limit: int = EVENT_ROWS,
                  engine: Engine | None = None) -> list[Events]:
    """The latest ``limit`` rows of every event source for the customer, newest first.

    A source that cannot be read gives an :class:`Events` with its ``problem`` and no rows,
    so one broken file does not hide the rest of the profile.
    """
    own = engine is None
    engine = engine or connect()
    out = []
    try:
        linkage = project.spec.linkage
        members = {s.source for s in linkage.systems.values()} if linkage else set()
        for name, spec in project.spec.sources.items():
            if name == "customers" or name in members:  # the systems' member tables: no events
                continue
            label = label_of(spec.label, name)
            try:
                found = _rows(project, name, engine, customer_id, limit=limit)
            except TierwiseError as exc:
                out.append(Events(name, label, [], [], limit, str(exc)))
                continue
            names = [n for n in found.column_names if n != spec.id][:EVENT_COLUMNS]
            types = {n: _kind(found.schema.field(n).type) for n in names}
            out.append(Events(name, label, _columns(spec, names, types),
                              found.select(names).to_pylist(), limit))
    finally:
        if own:
            engine.close()
    return out


def _rows(project: Project, name: str, engine: Engine, customer_id: str, *, limit: int
          ) -> pa.Table:
    """The customer's latest rows of event source ``name``.

    A linked system's events carry that system's ids: the rows of each of the customer's
    records there, newest first.
    """
    spec = project.spec.sources[name]
    linkage = project.spec.linkage
    system = linkage.system_of(name) if linkage is not None else None
    if system is None:
        return customer_rows(name, spec, engine, customer_id, base=project.root, limit=limit)
    ids = reading.records_of(project, customer_id).get(system, [])
    parts = [customer_rows(name, spec, engine, i, base=project.root, limit=limit) for i in ids]
    if not parts:
        return customer_rows(name, spec, engine, "", base=project.root, limit=1).slice(0, 0)
    found = pa.concat_tables(parts)
    if spec.time is not None and spec.time in found.column_names:
        found = found.sort_by([(spec.time, "descending")])
    return found.slice(0, limit)


def scheme_class(project: Project, store: Store, scheme: str, customer_id: str) -> SchemeClass:
    """The customer's class in ``scheme``'s latest run, with overrides in force now applied.

    ``since`` is the first day of the current spell of the history, or the start of an override
    saved after the run that changed the class.
    """
    with store.read() as tx:
        overrides = tx.overrides.listing(scheme=scheme, customer_id=customer_id)
    try:
        exp = explain(project, scheme, customer_id, store=store)
    except NotFoundError as exc:
        return SchemeClass(scheme, None, None, overrides=overrides, problem=str(exc))
    spells = history_service.history(store, scheme, customer_id)
    grade = exp.grade
    since = spells[-1].valid_from if spells and spells[-1].tier == grade.get("tier") else None
    if grade.get("override_after_run") and grade.get("override_id") is not None:
        since = next((o.valid_from for o in overrides if o.id == grade["override_id"]), since)
    return SchemeClass(scheme, exp, since, spells, overrides)
