"""The customer list's table: one row per customer of a run, kept in memory between requests.

A list page sorts and filters every customer of a run (1M and more) by any of its columns, so it
reads one table built once per run: the run's grades, the date each customer entered their tier
(from the history's change files), how their tier moved since the previous run (the run's
``changes.parquet``), the indicators of the run's features and the attributes of the
project's ``customers`` source. Building it costs a few seconds at 1M customers (the cold
request); later requests query it in memory (a DuckDB table, each request on its own cursor).

The table is rebuilt when the run, its history or the customers source changes (a file's size
or modification time; a database source every :data:`DATABASE_REFRESH` seconds). At most
:data:`KEPT` tables stay in memory, the least recently used leaving first.

Columns: ``customer_id``, ``tier``, ``tier_rank``, the list's column keys (``since``,
``change``, ``a.<attribute>``, ``i.<indicator>``, see :mod:`tierwise.services.list_columns`)
and helpers starting with ``#``: ``#prev`` (the previous run's tier), ``#tier_order`` and
``#change_order`` (sort orders), ``#text`` (id and name in lower case) and ``#phone`` (phone
digits, ``+86`` dropped).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise import methods
from tierwise.engine import Engine, connect
from tierwise.errors import DataError, TierwiseError
from tierwise.services import history as history_service
from tierwise.services import overlay, reading
from tierwise.services import versions as version_service
from tierwise.services.history_files import history_files
from tierwise.services.list_columns import (
    ATTRIBUTE,
    CHANGE,
    CHANGES,
    INDICATOR,
    SINCE,
    kind_of,
    name_column,
    phone_columns,
)
from tierwise.services.project import Project
from tierwise.sources.read import customer_rows
from tierwise.spec.columns import CUSTOMER
from tierwise.spec.schemes import TierSpec
from tierwise.store import Store
from tierwise.store.overrides import Override
from tierwise.store.runs import Run

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: Tables kept in memory (one per scheme run looked at recently).
KEPT = 3
#: Seconds a database source's attributes are reused before they are read again.
DATABASE_REFRESH = 300
#: The entity source whose columns are the customers' attributes.
CUSTOMERS = "customers"
#: Sort position of a status tier: after every ladder tier.
STATUS_ORDER = 1_000_000


@dataclass
class ListTable:
    """A run's list table in memory and what it holds.

    Attributes:
        run: the run it lists.
        name: the table's name in the engine.
        attributes: customer attribute -> kind (``text``, ``number``, ``date``, ``bool``).
        indicators: indicator -> kind.
        problem: why the attributes are missing (the customers source could not be read).
        first_run: the run has no previous official run (every customer is new).
        key_indicators: the run version's value measure, then the indicators its method reads.

    """

    run: Run
    name: str
    attributes: dict[str, str]
    indicators: dict[str, str]
    problem: str | None
    first_run: bool
    key_indicators: list[str]
    engine: Engine = field(repr=False)
    expr: ir.Table | None = field(default=None, repr=False)

    def open(self) -> Engine:
        """A connection of its own to query the table on (close it when done)."""
        return self.engine.cursor()

    def table(self, engine: Engine) -> ir.Table:
        """The table, to query on a connection from :meth:`open`.

        The expression made when the table was built serves every cursor (the table lives in
        the database they share), which spares each request a look-up of its schema.
        """
        return self.expr if self.expr is not None else engine.backend.table(self.name)


_TABLES: OrderedDict[tuple[Any, ...], ListTable] = OrderedDict()
_LOCK = threading.Lock()
_BUILDING = threading.Lock()


def list_table(project: Project, store: Store, scheme: str, as_of: Any = None) -> ListTable:
    """The list table of the scheme's latest (or as-of) official run, built when needed.

    Raises:
        NotFoundError: the scheme has no finished official run (as of that date).
    """
    run = history_service.latest_run(store, scheme, as_of)
    with store.read() as tx:
        history = [r for r in tx.runs.history_runs(scheme) if r.as_of <= run.as_of]
    # Overrides saved since the run show at once, as on the customer's page.
    now = overlay.in_force_for_all(store, scheme, run.as_of)
    key = (str(run.folder), run.id, tuple(r.id for r in history), _source_stamp(project),
           tuple((o.id, o.customer_id) for o in now))
    with _LOCK:
        if key in _TABLES:
            _TABLES.move_to_end(key)
            return _TABLES[key]
    with _BUILDING:  # one build at a time: a second request for it waits and reuses it
        with _LOCK:
            if key in _TABLES:
                return _TABLES[key]
        made = _build(project, run, history, _key_indicators(store, run),
                      (now, _tiers(store, run)))
        with _LOCK:
            _TABLES[key] = made
            while len(_TABLES) > KEPT:
                _, old = _TABLES.popitem(last=False)
                old.engine.close()
    return made


def forget() -> None:
    """Drop every kept table (tests, and a server told to free memory)."""
    with _LOCK:
        while _TABLES:
            _, old = _TABLES.popitem()
            old.engine.close()


def _source_stamp(project: Project) -> tuple[Any, ...]:
    if CUSTOMERS not in project.spec.sources:
        return ()
    try:
        source = reading.customers_source(project)
    except DataError:  # linked customers not linked yet: no attributes to stamp
        return ()
    spec = source.model_dump_json()
    if source.path and source.resolved_format() != "sql":
        path = project.root / source.path
        try:
            stat = path.stat()
        except OSError:
            return (spec, str(path), None)
        return (spec, str(path), stat.st_size, stat.st_mtime_ns)
    return (spec, int(time.time() // DATABASE_REFRESH))


def _key_indicators(store: Store, run: Run) -> list[str]:
    """The run version's value measure first, then the indicators its method reads."""
    with store.read() as tx:
        spec = version_service.scheme_of(tx.schemes.version_by_id(run.version_id))
    value = getattr(spec, "value", None)
    return [*([value] if value else []), *methods.scheme_indicators(spec)]


def _tiers(store: Store, run: Run) -> list[TierSpec]:
    """The tiers of the version the run graded with, best first."""
    with store.read() as tx:
        spec = version_service.scheme_of(tx.schemes.version_by_id(run.version_id))
    return methods.scheme_tiers(spec)


def _build(project: Project, run: Run, history: list[Run], key_indicators: list[str],
           overrides: tuple[list[Override], list[TierSpec]]) -> ListTable:
    import ibis

    folder = Path(run.folder or "")
    engine = connect()
    try:
        grades = overlay.overlay_all(engine, engine.read_parquet("grades",
                                                                 folder / "grades.parquet"),
                                     *overrides)
        features = engine.read_parquet("features", folder / "features.parquet")
        table = grades.select(CUSTOMER, "tier", tier_rank=grades.tier_rank.cast("int64"))
        table = _with_changes(engine, table, folder / "changes.parquet")
        table = _with_since(engine, table, run, history)
        indicators = {c: kind_of(features[c].type()) for c in features.columns if c != CUSTOMER}
        shown = features.select(
            _fid=features[CUSTOMER], **{INDICATOR + c: features[c] for c in indicators})
        table = table.left_join(shown, table[CUSTOMER] == shown._fid).drop("_fid")
        attributes: dict[str, str] = {}
        problem = None
        try:
            table, attributes = _with_attributes(engine, project, table)
        except TierwiseError as exc:
            problem = str(exc)
        text = table[CUSTOMER].lower()
        name = name_column(list(attributes))
        if name is not None:
            text = text.concat("\n", table[ATTRIBUTE + name].cast("string").fill_null("").lower())
        phones = [_digits(table[ATTRIBUTE + p].cast("string"))
                  for p in phone_columns(list(attributes))]
        phone = ibis.literal("", "string")
        for digits in phones:
            phone = phone.concat("\n", digits.fill_null(""))
        order = ibis.ifelse(table.tier_rank == 0, STATUS_ORDER, table.tier_rank)
        table = table.mutate(**{"#tier_order": order, "#text": text, "#phone": phone,
                                "#change_order": table[CHANGE].cases(
                                    *((k, i) for i, k in enumerate(CHANGES)), else_=len(CHANGES))})
        kept = f"tw_list_{run.id}_{int(time.time() * 1000)}"
        made = engine.keep(kept, table.order_by(CUSTOMER))
        first = not (folder / "changes.parquet").exists() or len(history) < 2
        return ListTable(run, kept, attributes, indicators, problem, first, key_indicators,
                         engine, made)
    except BaseException:
        engine.close()
        raise


def _with_changes(engine: Engine, table: ir.Table, path: Path) -> ir.Table:
    """``change`` and ``#prev``: the run's moves; a customer not among them kept their tier."""
    import ibis

    if not path.exists():
        return table.mutate(**{CHANGE: ibis.literal("entry"), "#prev": ibis.null("string")})
    changes = engine.read_parquet("changes", path)
    moved = changes.filter(changes.tier.notnull()).select(
        _cid=changes[CUSTOMER], _change=changes.change, _prev=changes.prev_tier)
    joined = table.left_join(moved, table[CUSTOMER] == moved._cid)
    return joined.mutate(**{CHANGE: ibis.coalesce(joined._change, ibis.literal("same")),
                            "#prev": ibis.ifelse(joined._cid.isnull(), joined.tier,
                                                 joined._prev)}
                         ).drop("_cid", "_change", "_prev")


def _with_since(engine: Engine, table: ir.Table, run: Run, history: list[Run]) -> ir.Table:
    """``since``: the as-of date of each customer's last change up to the run."""
    import ibis

    files = history_files(history)
    if not files:
        return table.mutate(**{SINCE: ibis.null("date")})
    rows = engine.read_parquet("history", files)
    ids = [r.id for r in history]
    last = rows.filter(rows.run_id.isin(ids) & (rows.as_of <= run.as_of)
                       & rows.tier.notnull()).group_by(_sid=rows[CUSTOMER]).aggregate(
                           _since=rows.as_of.max())
    joined = table.left_join(last, table[CUSTOMER] == last._sid)
    return joined.mutate(**{SINCE: joined._since.cast("date")}).drop("_sid", "_since")


def _with_attributes(engine: Engine, project: Project, table: ir.Table
                     ) -> tuple[ir.Table, dict[str, str]]:
    """The customers source's columns beside each customer (the first row of a repeated id)."""
    if CUSTOMERS not in project.spec.sources:
        return table, {}
    source = reading.customers_source(project)
    rows = customer_rows(CUSTOMERS, source, engine, base=project.root)
    names = [c for c in rows.columns if c not in (source.id, "_aid")]
    one = rows.select("_aid", **{ATTRIBUTE + n: rows[n] for n in names})
    attributes = {n: kind_of(one[ATTRIBUTE + n].type()) for n in names}
    joined = table.left_join(one, table[CUSTOMER] == one._aid).drop("_aid")
    return joined, attributes


def _digits(value: ir.StringValue) -> ir.StringValue:
    """Phone digits as :func:`tierwise.services.list_columns.phone_digits` makes them."""
    import ibis

    digits = value.re_replace(r"[^0-9]", "")
    return ibis.cases(
        (value.strip().startswith("+86"), digits.substr(2)),
        (digits.startswith("0086"), digits.substr(4)),
        ((digits.length() == 13) & digits.startswith("86"), digits.substr(2)),
        else_=digits)
