"""The customer list: a run's customers with chosen columns, sorted, searched and filtered.

Every query runs in the engine over the run's list table (:mod:`tierwise.services.list_table`):
a page is a sorted top-N plus a count, so its cost hardly depends on the page number. A manager
sees only the customers assigned to them (``visible``), in the list and in its exports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from tierwise.errors import SpecError
from tierwise.i18n import _
from tierwise.services.list_columns import (
    CHANGE,
    CHANGES,
    INDICATOR,
    PAGE_SIZES,
    TIER,
    ListColumn,
    change_word,
    chosen,
    columns_of,
    default_columns,
    phone_query,
)
from tierwise.services.list_table import ListTable, list_table
from tierwise.services.project import Project
from tierwise.spec.columns import CUSTOMER
from tierwise.store import Store
from tierwise.store.runs import Run

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.engine import Engine

#: Seconds a list query may run before the engine stops it (a user's condition included).
LIST_TIMEOUT = 5.0
#: Longest search text and condition taken.
MAX_SEARCH = 200
MAX_WHERE = 2000


@dataclass(frozen=True)
class ListQuery:
    """Which customers of a scheme's run to list, how, and which page.

    Attributes:
        scheme: the scheme.
        columns: column keys to show (:mod:`tierwise.services.list_columns`); empty: defaults.
        sort: the column key to sort by (``customer_id`` or a column key).
        descending: sort from the largest.
        q: search: part of the id or the name, or a phone number (digits, ``+86`` ignored).
        tier: only this tier.
        change: only customers whose tier moved this way (:data:`CHANGES`).
        from_tier: only customers whose tier in the previous run was this one.
        to_tier: only customers whose tier in this run is this one (with ``from_tier``: a cell
            of the transition matrix).
        where: a condition on indicators in the expression language.
        page: 1-based page number.
        per_page: rows per page (one of :data:`PAGE_SIZES`).
        as_of: the run's as-of date (default the latest run).

    """

    scheme: str
    columns: tuple[str, ...] = ()
    sort: str = CUSTOMER
    descending: bool = False
    q: str | None = None
    tier: str | None = None
    change: str | None = None
    from_tier: str | None = None
    to_tier: str | None = None
    where: str | None = None
    page: int = 1
    per_page: int = 50
    as_of: date | None = None

    def filters(self) -> dict[str, str]:
        """The filters given, by name (for audit records and file names)."""
        given = {"tier": self.tier, "change": self.change, "from_tier": self.from_tier,
                 "to_tier": self.to_tier, "q": self.q, "where": self.where}
        return {k: v for k, v in given.items() if v}


@dataclass(frozen=True)
class ListView:
    """The columns a list shows for a run: every choice, the chosen ones and the defaults."""

    run: Run
    available: list[ListColumn]
    shown: list[ListColumn]
    defaults: list[str]
    problem: str | None = None
    first_run: bool = False


@dataclass(frozen=True)
class ListPage:
    """One page of the list and how many customers match in all."""

    view: ListView
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str
    descending: bool
    numbers: list[int | None] = field(default_factory=list)


def check_query(query: ListQuery) -> None:
    """Refuse a change kind, page size or text the list does not take, saying which it takes."""
    if query.change is not None and query.change not in CHANGES:
        raise SpecError(_("unknown change {change}; use one of {known}").format(
            change=repr(query.change), known=_(", ").join(CHANGES)))
    if query.per_page not in PAGE_SIZES:
        raise SpecError(_("{n} rows a page is not offered; use one of {known}").format(
            n=query.per_page, known=_(", ").join(str(n) for n in PAGE_SIZES)))
    if len(query.q or "") > MAX_SEARCH or len(query.where or "") > MAX_WHERE:
        raise SpecError(_("the search text is limited to {search} characters and the condition "
                          "to {where}; shorten it").format(search=MAX_SEARCH, where=MAX_WHERE))


def view_of(project: Project, table: ListTable, asked: tuple[str, ...]
            ) -> ListView:
    """The list's columns for ``table``: the ones asked for that exist, else the defaults."""
    available = columns_of(project.spec, table.attributes, table.indicators)
    defaults = default_columns(available, table.key_indicators)
    return ListView(table.run, available, chosen(asked, available, defaults), defaults,
                    table.problem, table.first_run)


def listing(project: Project, store: Store, query: ListQuery, *,
            visible: set[str] | None = None, timeout: float | None = LIST_TIMEOUT) -> ListPage:
    """One page of the scheme's latest (or as-of) run's customers.

    Raises:
        NotFoundError: the scheme has no finished official run.
        SpecError: a change kind, page size or text the list does not take.
        ExprError: ``where`` is not a valid condition on the run's indicators.
        QueryTimeout: the query ran past ``timeout`` seconds and was stopped.
    """
    check_query(query)
    table = list_table(project, store, query.scheme, query.as_of)
    view = view_of(project, table, query.columns)
    sort = query.sort if query.sort in {CUSTOMER, *(c.key for c in view.available)} \
        else CUSTOMER
    engine = table.open()
    try:
        rows = filtered(engine, table, query, visible)
        with engine.time_limit(timeout, what=_("the customer list"), hint=_(
                "narrow it with a tier, a search or a simpler condition")):
            total = int(engine.execute(rows.count()))
            pages = max(1, -(-total // query.per_page))
            page = min(max(1, query.page), pages)
            keys = list(dict.fromkeys([CUSTOMER, TIER, "tier_rank", *(c.key for c in view.shown)]))
            found = engine.to_arrow(ordered(rows, sort, query.descending).select(*keys).limit(
                query.per_page, offset=(page - 1) * query.per_page)).to_pylist()
    finally:
        engine.close()
    return ListPage(view, found, total, page, pages, query.per_page, sort, query.descending,
                    page_numbers(page, pages))


def filtered(engine: Engine, table: ListTable, query: ListQuery,
             visible: set[str] | None) -> ir.Table:
    """The list table with the query's filters and search applied (not yet sorted)."""
    rows = table.table(engine)
    if query.tier:
        rows = rows.filter(rows.tier == query.tier)
    if query.change:
        rows = rows.filter(rows[CHANGE] == query.change)
    if query.from_tier:
        rows = rows.filter(rows["#prev"] == query.from_tier)
    if query.to_tier:
        rows = rows.filter(rows.tier == query.to_tier)
    if query.q and query.q.strip():
        rows = rows.filter(_search(rows, query.q.strip()))
    if query.where and query.where.strip():
        rows = rows.filter(_condition(rows, table, query.where))
    if visible is not None:
        import pyarrow as pa

        allowed = engine.register_arrow("visible", pa.table(
            {CUSTOMER: pa.array(sorted(visible), pa.string())}))
        rows = rows.semi_join(allowed, rows[CUSTOMER] == allowed[CUSTOMER])
    return rows


def ordered(rows: ir.Table, sort: str, descending: bool) -> ir.Table:
    """``rows`` sorted by column ``sort`` (tiers in value order), ties by customer id."""
    by: list[Any] = {TIER: ["#tier_order", TIER], CHANGE: ["#change_order"]}.get(sort, [sort])
    keys = [rows[k].desc(nulls_first=False) if descending else rows[k].asc(nulls_first=False)
            for k in by]
    return rows.order_by(keys if sort == CUSTOMER else [*keys, rows[CUSTOMER]])


def page_numbers(page: int, pages: int, *, around: int = 2) -> list[int | None]:
    """Page links: the first, the last and ``around`` either side of ``page``; None for a gap.

    ``page_numbers(7, 20)`` is ``[1, None, 5, 6, 7, 8, 9, None, 20]``.
    """
    wanted = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    out: list[int | None] = []
    for number in wanted:
        if out and isinstance(out[-1], int) and number - out[-1] > 1:
            out.append(None if number - out[-1] > 2 else out[-1] + 1)
        out.append(number)
    return out


def readable(values: Any, column: ListColumn, labels: dict[str, str]) -> Any:
    """A column as an export shows it: tier labels and change words in the current language.

    Other columns stay as they are; the words are looked up for the whole column at once.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.key == TIER:
        words = labels
    elif column.key == CHANGE:
        words = {k: change_word(k) for k in CHANGES}
    else:
        return values
    if not words:
        return values
    found = pc.take(pa.array(list(words.values()), pa.string()),
                    pc.index_in(values, value_set=pa.array(list(words), pa.string())))
    return pc.coalesce(found, values.cast(pa.string()))


def _search(rows: ir.Table, text: str) -> ir.BooleanValue:
    hit = rows["#text"].contains(text.lower())
    digits = phone_query(text)
    if digits is not None:
        hit = hit | rows["#phone"].contains(digits)
    return hit


def _condition(rows: ir.Table, table: ListTable, where: str) -> ir.BooleanValue:
    from tierwise import expr

    node = expr.parse(where)
    types = {n: {"text": "string"}.get(k, k) for n, k in table.indicators.items()}
    expr.check_condition(node, types)
    env = {n: rows[INDICATOR + n] for n in expr.names(node) if n in table.indicators}
    return expr.compile_condition(node, env, as_of=table.run.as_of)
