"""What the results overview shows for one scheme: KPI cards, charts and the moves.

The figures are the results service's (:mod:`tierwise.services.results`); only shaping happens
here: the charts, their labels in the user's language, and the links from a bar or a matrix cell
to the customers behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from tierwise import i18n
from tierwise.errors import NotFoundError
from tierwise.i18n import _
from tierwise.reports import charts
from tierwise.services import customers as customer_service
from tierwise.services import history as history_service
from tierwise.services.records import Store
from tierwise.services.results import Results, results
from tierwise.spec.models import ProjectSpec

#: The charts' width in SVG pixels (they shrink with the page; texts keep their proportions).
WIDTH = 640


@dataclass(frozen=True)
class MatrixCell:
    """One cell of the transition matrix: customers, their share of the row, and a link."""

    customers: int
    share: float | None
    href: str | None
    same: bool


@dataclass
class Overview:
    """One scheme's results, charts and, for a manager, their own customers' tier mix."""

    results: Results | None = None
    bars: str = ""
    trend: str = ""
    matrix: list[tuple[str, list[MatrixCell]]] = field(default_factory=list)
    matrix_columns: list[str] = field(default_factory=list)
    own: list[dict[str, Any]] | None = None
    own_total: int = 0
    model: list[tuple[str, str]] = field(default_factory=list)


def customers_url(scheme: str, **filters: str) -> str:
    """The customer list of ``scheme`` filtered by ``filters`` (tier, from_tier, to_tier)."""
    return "/customers?" + urlencode({"scheme": scheme, **filters})


def overview(store: Store, scheme: str, *, project: ProjectSpec | None = None,
             visible: set[str] | None = None) -> Overview:
    """The overview of ``scheme``; an empty one when it has no official run yet.

    For a manager (``visible``: their customers) it adds the tier mix of their own customers;
    the book's figures, trend and moves stay counts of every customer, with no customer in them.
    """
    try:
        found = results(store, scheme, project=project)
    except NotFoundError:
        return Overview()
    out = Overview(results=found, model=history_service.fitted_model(found.run, project))
    out.bars = charts.tier_bars(
        [charts.TierBar(
            label=t.label, colour=t.colour, share=t.share,
            share_text=f"{i18n.compact(t.customers)} · {i18n.percent(t.share)}",
            value_share=t.value_share,
            value_text=(f"{i18n.compact(t.value)} · {i18n.percent(t.value_share)}"
                        if t.value is not None else ""),
            href=customers_url(scheme, tier=t.key)) for t in found.tiers],
        title=_("Customers and value per tier"), legend=(_("Customers"), _("Value")),
        width=WIDTH)
    out.trend = _trend(found)
    if visible is not None:
        _own(out, store, found, visible)
    if found.previous is not None:
        _matrix(out, found)
    return out


def _own(out: Overview, store: Store, found: Results, visible: set[str]) -> None:
    mine = customer_service.tier_counts(store, found.scheme, visible, as_of=found.run.as_of)
    out.own_total = sum(n for n, _v in mine.values())
    order = [*found.keys, *sorted(set(mine) - set(found.keys))]
    out.own = [{"tier": k, "label": found.label(k), "customers": mine[k][0],
                "share": mine[k][0] / out.own_total, "value_sum": mine[k][1]}
               for k in order if k in mine]


def _matrix(out: Overview, found: Results) -> None:
    keys: list[str | None] = [*found.keys, None]
    out.matrix_columns = [found.label(k) for k in keys]
    for i, (key, row) in enumerate(zip(keys, found.matrix, strict=True)):
        total = sum(row)
        cells = []
        for j, n in enumerate(row):
            to_key = keys[j]
            # Customers not graded in either run have no tier to filter by in the list: no link.
            href = (customers_url(found.scheme, from_tier=key, to_tier=to_key)
                    if n and key is not None and to_key is not None else None)
            cells.append(MatrixCell(n, n / total if total else None, href,
                                    i == j and key is not None))
        out.matrix.append((found.label(key), cells))


def _trend(found: Results) -> str:
    keys = [*found.keys, *sorted({k for _d, c in found.trend for k in c} - set(found.keys))]
    colours = {t.label: t.colour for t in found.tiers}
    series = {found.label(k): [float(c.get(k, 0)) for _d, c in found.trend] for k in keys}
    return charts.lines(i18n.short_dates([d for d, _c in found.trend]), series,
                        title=_("Customers per tier across runs"), fmt=i18n.compact,
                        colours=colours, width=WIDTH, height=260)
