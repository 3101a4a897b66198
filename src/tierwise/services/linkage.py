"""One customer across systems: run the linkage, review uncertain pairs, decide, look up.

``run`` reads each system's customer source, links the records (:mod:`tierwise.sources.linkage`)
with every decision people made applied after training, writes the version's files into
``<output>/linkage/v<number>/`` (a temporary folder renamed into place) and records the version
in the store last. ``review`` lists the latest version's uncertain pairs that nobody has decided
yet, with both records' values; ``decide`` records a person's judgement, which the next run
applies; ``customer`` shows which records are one customer.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tierwise.engine import Engine, connect
from tierwise.errors import (
    ConflictError,
    DataError,
    NotFoundError,
    PermissionDenied,
    SpecError,
)
from tierwise.i18n import _
from tierwise.services import access
from tierwise.services.project import Project
from tierwise.services.records import User
from tierwise.sources import linkage
from tierwise.sources.read import load_source, strip_raw
from tierwise.spec.linkage import CUSTOMERS_FILE, MAPPING_FILE, POINTER, LinkageSpec
from tierwise.store import linkage as stored
from tierwise.store.db import Store

#: A person's decision on a pair, as the edges show it.
Decision = stored.Decision

MAPPING = MAPPING_FILE
REVIEW = "review.parquet"
VALUES = "records.parquet"


@dataclass(frozen=True)
class LinkRun:
    """What a linkage run made."""

    version: int
    records: dict[str, int]  # per system
    customers: int
    joined: int  # customers with records in more than one row (several ids, one customer)
    review: int
    decisions: int
    folder: Path


@dataclass(frozen=True)
class Record:
    """One system's record as written there, and its customer."""

    id: str
    system: str
    source_id: str
    customer: str
    values: dict[str, str | None]


@dataclass(frozen=True)
class ReviewPair:
    """Two records the model could not decide on."""

    left: Record
    right: Record
    probability: float


def require_reader(user: User | None) -> None:
    """Refuse a user who sees only some customers (a manager).

    The review queue and a linked customer's records show every system's personal data,
    whoever the customer is assigned to. ``user`` None: the store's local operator, who sees everything.

    Raises:
        PermissionDenied: the user's role sees only the customers assigned to them.
    """
    if user is not None and not access.sees_all_customers(user):
        raise PermissionDenied(_(
            "linked records show every system's customers, and the role {role} sees only the "
            "customers assigned to it; ask a supervisor or an administrator").format(
            role=access.role_name(user.role)))


def _spec(project: Project) -> LinkageSpec:
    if project.spec.linkage is None:
        raise SpecError(_("{path} has no `linkage:` section; add one naming each system's "
                          "customer source and the fields to compare (docs/linkage.md)").format(
            path=project.root / "tierwise.yaml"))
    return project.spec.linkage


def _read_systems(project: Project, spec: LinkageSpec, engine: Engine
                  ) -> tuple[dict[str, pa.Table], dict[str, str], dict[str, pa.Table]]:
    """Each system's customers: the id and the compared columns as text, and every column.

    Every column (typed) is read only for a project graded over linked customers.
    """
    tables, ids, whole = {}, {}, {}
    for system, system_spec in spec.systems.items():
        source = project.spec.sources[system_spec.source]
        loaded = load_source(system_spec.source, source, engine, base=project.root)
        present = [c for c in spec.fields if c in loaded.typed.columns]
        wanted = [source.id, *[c for c in present if c != source.id]]
        typed = strip_raw(loaded.typed)
        table = engine.to_arrow(typed if spec.grades_linked else typed.select(*wanted))
        if spec.grades_linked:
            whole[system] = table
        tables[system] = pa.table({c: pc.cast(table[c], pa.string()) for c in wanted})
        ids[system] = source.id
        _check_ids(system_spec.source, source.id, tables[system])
    return tables, ids, whole


def _check_ids(source: str, column: str, table: pa.Table) -> None:
    """Every record has an id, and one only."""
    ids = table[column]
    missing = ids.null_count
    if missing:
        raise DataError(_("source {source}: {count} rows have no {column}; each system record "
                          "needs its id to be linked").format(source=source, count=missing,
                                                              column=column))
    counts = pc.value_counts(ids)
    twice = [v["values"] for v in counts.to_pylist() if v["counts"] > 1]
    if twice:
        raise DataError(_("source {source}: {count} ids appear on several rows, e.g. {example!r}; "
                          "a system's customer source has one row per customer").format(
            source=source, count=len(twice), example=twice[0]))


def fingerprint(spec: LinkageSpec) -> str:
    """sha256 of the linkage section as used."""
    text = json.dumps(spec.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def run(project: Project, store: Store, *, actor: str) -> LinkRun:
    """Link the systems' customers into a new version, with people's decisions applied.

    Raises:
        SpecError: the project has no ``linkage:`` section, or linkage cannot train.
        DataError: a system's source is unreadable, or its ids are missing or repeated.
    """
    spec = _spec(project)
    with _only_run(project.root / project.spec.output / "linkage"):
        return _run(project, store, spec, actor)


@contextmanager
def _only_run(folder: Path) -> Iterator[None]:
    """Hold the project's linkage lock for a run; refuse at once while another run holds it.

    Two runs would take the same version number and the second fail after all its training.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConflictError(_("another `tierwise link run` is linking this project's "
                                  "customers; wait for it to finish")) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(project: Project, store: Store, spec: LinkageSpec, actor: str) -> LinkRun:
    with store.connect() as conn:
        decided = stored.decisions(conn)
        number = stored.next_number(conn)
    # The project's engine reads the systems and, on Spark, trains and scores (splink's Spark
    # backend); on DuckDB splink uses an embedded DuckDB of its own.
    engine = connect(project.spec.engine, base=project.root)
    try:
        tables, ids, whole = _read_systems(project, spec, engine)
        records = linkage.records(spec, tables, ids)
        linked = linkage.link(
            spec, records,
            accepted=[(d.record_a, d.record_b) for d in decided if d.decision == "link"],
            rejected=[(d.record_a, d.record_b) for d in decided if d.decision == "apart"],
            spark=engine.spark)
    finally:
        engine.close()
    # Customers keep their ids (and so their grade histories) from the previous version.
    linked = dataclasses.replace(linked, mapping=linkage.keep_ids(
        linked.mapping, _previous_customers(project, store)))
    folder = project.root / project.spec.output / "linkage" / f"v{number:04d}"
    people = (linkage.linked_customers(spec, whole, ids, linked.mapping)
              if spec.grades_linked else None)
    _write(folder, linked, _values(spec, tables, ids), people)
    customers = linked.mapping["customer_id"]
    distinct = pc.count_distinct(customers).as_py()
    joined = pc.count_distinct(pc.filter(customers, pc.greater(
        linked.mapping["records"], 1))).as_py()
    try:
        with store.begin() as conn:
            stored.add_version(conn, stored.NewVersion(
                number, fingerprint(spec), spec.model_dump(mode="json"), linked.model,
                str(folder.relative_to(project.root)), records.num_rows, distinct,
                linked.review.num_rows), actor=actor)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _point_current(folder)
    per_system = {s: t.num_rows for s, t in tables.items()}
    present = set(records[linkage.RECORD].to_pylist())
    applied = sum(1 for d in decided if d.record_a in present and d.record_b in present)
    return LinkRun(number, per_system, distinct, joined, linked.review.num_rows, applied,
                   folder)


def _values(spec: LinkageSpec, tables: dict[str, pa.Table], ids: dict[str, str]) -> pa.Table:
    """Every record's compared values as its system wrote them, for people to read."""
    parts = []
    for system, table in tables.items():
        columns = {linkage.RECORD: pa.array([linkage.record_id(system, v) for v in
                                             table[ids[system]].to_pylist()], pa.string())}
        for name in spec.fields:
            columns[name] = (table[name] if name in table.column_names
                             else pa.nulls(table.num_rows, pa.string()))
        parts.append(pa.table(columns))
    return pa.concat_tables(parts)


def _previous_customers(project: Project, store: Store) -> dict[str, str]:
    """Per record id, its customer in the latest version (empty before the first)."""
    with store.connect() as conn:
        found = stored.version(conn)
    path = None if found is None else project.root / found.folder / MAPPING
    if path is None or not path.is_file():
        return {}
    table = pq.read_table(path, columns=[linkage.RECORD, linkage.CUSTOMER])
    return dict(zip(table[linkage.RECORD].to_pylist(), table[linkage.CUSTOMER].to_pylist(),
                    strict=True))


def _point_current(folder: Path) -> None:
    """Name the version just recorded in ``CURRENT``: runs grade its customers from now on.

    A text file renamed into place: a run reads one version or the next, never half of one,
    and a copy of the project (which may not keep links) keeps it.
    """
    tmp = folder.parent / f".{POINTER}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(folder.name + "\n", encoding="utf-8")
    os.replace(tmp, folder.parent / POINTER)


def _write(folder: Path, linked: linkage.Linked, values: pa.Table,
           customers: pa.Table | None) -> None:
    """The version's files, written whole into a temporary folder and renamed into place."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    if folder.exists():
        raise DataError(_("{folder} exists already but the store has no such linkage version; "
                          "move it away (a run that failed to record), then run again").format(
            folder=folder))
    tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.mkdir()
    try:
        pq.write_table(linked.mapping, tmp / MAPPING)
        pq.write_table(linked.review, tmp / REVIEW)
        pq.write_table(values, tmp / VALUES)
        if customers is not None:
            pq.write_table(customers, tmp / CUSTOMERS_FILE)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _latest(project: Project, store: Store) -> tuple[stored.LinkVersion, Path]:
    with store.connect() as conn:
        found = stored.version(conn)
    if found is None:
        raise NotFoundError(_("no linkage has run yet; `tierwise link run` links the systems' "
                              "customers"))
    return found, project.root / found.folder


class _Records:
    """The latest version's records: values and customers by record id."""

    def __init__(self, folder: Path) -> None:
        mapping = pq.read_table(folder / MAPPING)
        values = pq.read_table(folder / VALUES).to_pylist()
        self.customer = dict(zip(mapping[linkage.RECORD].to_pylist(),
                                 mapping[linkage.CUSTOMER].to_pylist(), strict=True))
        self.values = {v.pop(linkage.RECORD): v for v in values}

    def record(self, record_id: str) -> Record:
        system, _sep, source_id = record_id.partition(":")
        return Record(record_id, system, source_id, self.customer[record_id],
                      self.values.get(record_id, {}))

    def members(self, customer: str) -> list[Record]:
        return [self.record(r) for r, c in sorted(self.customer.items()) if c == customer]


def review(project: Project, store: Store, *, limit: int = 50
           ) -> tuple[int, list[ReviewPair]]:
    """The latest version's undecided uncertain pairs, most likely first.

    Returns:
        The number of undecided pairs, and up to ``limit`` of them.
    """
    _version, folder = _latest(project, store)
    with store.connect() as conn:
        decided = {frozenset((d.record_a, d.record_b)) for d in stored.decisions(conn)}
    pairs = pq.read_table(folder / REVIEW).to_pylist()
    open_pairs = [p for p in pairs if frozenset((p["unique_id_l"], p["unique_id_r"]))
                  not in decided]
    records = _Records(folder)
    return len(open_pairs), [
        ReviewPair(records.record(p["unique_id_l"]), records.record(p["unique_id_r"]),
                   p["match_probability"]) for p in open_pairs[:limit]]


def decide(project: Project, store: Store, record_a: str, record_b: str, *, decision: str,
           reason: str, actor: str) -> stored.Decision:
    """Record that two records are one customer (``link``) or not (``apart``).

    The next ``run`` applies it; the current version's mapping is not changed.

    Raises:
        NotFoundError: a record is not in the latest version.
        StoreError: the decision, the pair or the reason is not valid.
    """
    version, folder = _latest(project, store)
    records = _Records(folder)
    for record in (record_a, record_b):
        if record not in records.customer:
            raise NotFoundError(_(
                "no record {record!r} in linkage version {number}; records are written "
                "system:id (e.g. shop:S0000001), and `tierwise link review` lists pairs").format(
                record=record, number=version.number))
    pairs = pq.read_table(folder / REVIEW).to_pylist()
    key = frozenset((record_a, record_b))
    probability = next((p["match_probability"] for p in pairs
                        if frozenset((p["unique_id_l"], p["unique_id_r"])) == key), None)
    with store.begin() as conn:
        return stored.decide(conn, record_a, record_b, decision=decision, reason=reason,
                             actor=actor, probability=probability, version_id=version.id)


def customer(project: Project, store: Store, record_or_customer: str
             ) -> tuple[int, list[Record]]:
    """The records that are one customer with ``record_or_customer`` in the latest version.

    Raises:
        NotFoundError: no such record.
    """
    version, folder = _latest(project, store)
    records = _Records(folder)
    found = records.customer.get(record_or_customer)
    if found is None:
        raise NotFoundError(_("no record {record!r} in linkage version {number}; records are "
                              "written system:id (e.g. shop:S0000001)").format(
            record=record_or_customer, number=version.number))
    return version.number, records.members(found)


def latest_version(store: Store) -> stored.LinkVersion | None:
    """The latest version, or None before the first run."""
    with store.connect() as conn:
        return stored.version(conn)


def as_dict(record: Record) -> dict[str, Any]:
    """A record as plain data (the CLI's JSON and the API)."""
    return {"record": record.id, "system": record.system, "source_id": record.source_id,
            "customer": record.customer, "values": record.values}
