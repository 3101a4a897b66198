"""Transitions between two gradings of the same customers: the matrix, the movers and why.

Works on any two grade tables with ``customer_id``, ``tier`` and ``tier_rank``: two runs of a scheme
(who moved from one month to the next) or two versions graded on the same data (impact preview).
With the feature tables of both sides, each listed mover carries the change of every indicator.

Up and down are moves on the value ladder. A status tier (``tier_rank`` 0, see
:class:`~tierwise.spec.ladder.Ladder`) is neither above nor below another tier: a move into one
is a ``status_entry`` (also from another status), a move out of one to a ladder tier a
``status_exit``. ``entry`` and ``exit`` are customers graded on one side only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tierwise.engine import Engine
from tierwise.i18n import _, number
from tierwise.spec.columns import CUSTOMER
from tierwise.spec.ladder import STATUS_RANK

if TYPE_CHECKING:
    import ibis.expr.types as ir

KINDS = ("up", "down", "status_entry", "status_exit", "entry", "exit")


@dataclass(frozen=True)
class Cell:
    """Customers moving from one tier to another (None: not graded on that side)."""

    from_tier: str | None
    to_tier: str | None
    customers: int


@dataclass
class Transitions:
    """The from-tier x to-tier matrix, the counts per kind of move, and sample movers."""

    cells: list[Cell]
    counts: dict[str, int]
    movers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    samples: dict[tuple[str | None, str | None], list[str]] = field(default_factory=dict)

    def matrix(self, tiers: list[str]) -> list[list[int]]:
        """Counts with rows = from tiers and columns = to tiers, ``tiers`` + not graded last."""
        keys: list[str | None] = [*tiers, None]
        index = {k: i for i, k in enumerate(keys)}
        out = [[0] * len(keys) for _key in keys]
        for c in self.cells:
            if c.from_tier in index and c.to_tier in index:
                out[index[c.from_tier]][index[c.to_tier]] += c.customers
        return out

    def headline(self) -> str:
        """E.g. "1,203 up, 340 down, 12 new, 3 gone, 9,442 unchanged".

        Moves into and out of status tiers are named when there are any: "..., 340 down,
        45 into a status, 8 out of a status, 12 new, ...".
        """
        c = {kind: number(n) for kind, n in self.counts.items()}
        if self.counts["status_entry"] or self.counts["status_exit"]:
            return _("{up} up, {down} down, {into} into a status, {out} out of a status, "
                     "{entry} new, {exit} gone, {same} unchanged").format(
                up=c["up"], down=c["down"], into=c["status_entry"], out=c["status_exit"],
                entry=c["entry"], exit=c["exit"], same=c["same"])
        return _("{up} up, {down} down, {entry} new, {exit} gone, {same} unchanged").format(
            up=c["up"], down=c["down"], entry=c["entry"], exit=c["exit"], same=c["same"])


def move_kind(from_tier: ir.StringValue, to_tier: ir.StringValue, from_rank: ir.IntegerValue,
              to_rank: ir.IntegerValue) -> ir.StringValue:
    """The kind of each move: entry, exit, same, status_entry, status_exit, up or down."""
    import ibis

    return ibis.cases(
        (from_tier.isnull(), "entry"),
        (to_tier.isnull(), "exit"),
        (from_tier == to_tier, "same"),
        (to_rank == STATUS_RANK, "status_entry"),
        (from_rank == STATUS_RANK, "status_exit"),
        (to_rank < from_rank, "up"),
        else_="down",
    )


def _moves(old: ir.Table, new: ir.Table) -> ir.Table:
    import ibis

    o = old.select(_oid=old[CUSTOMER], from_tier=old.tier, from_rank=old.tier_rank.cast("int64"))
    n = new.select(_nid=new[CUSTOMER], to_tier=new.tier, to_rank=new.tier_rank.cast("int64"))
    j = o.outer_join(n, o._oid == n._nid)
    kind = move_kind(j.from_tier, j.to_tier, j.from_rank, j.to_rank)
    return j.select(customer_id=ibis.coalesce(j._oid, j._nid), from_tier=j.from_tier,
                    to_tier=j.to_tier, from_rank=j.from_rank, to_rank=j.to_rank, kind=kind)


def _counted(engine: Engine, moves: ir.Table) -> tuple[list[Cell], dict[str, int]]:
    """The matrix cells and the customers per kind of move of a table of moves."""
    grouped = engine.to_arrow(
        moves.group_by(["from_tier", "to_tier", "kind"]).aggregate(n=moves.count())
    ).to_pylist()
    # A GROUP BY returns its groups in whatever order the threads finish: sort here, the same
    # way on every engine (they place nulls differently), so two reads give the same matrix.
    grouped.sort(key=lambda r: tuple((r[k] is None, r[k] or "") for k in ("from_tier", "to_tier")))
    cells = [Cell(r["from_tier"], r["to_tier"], int(r["n"])) for r in grouped]
    counts = dict.fromkeys((*KINDS, "same"), 0)
    for r in grouped:
        counts[r["kind"]] += int(r["n"])
    return cells, counts


def move_counts(engine: Engine, old: ir.Table, new: ir.Table) -> Transitions:
    """The matrix and the counts per kind of move between two grade tables, no movers.

    Reads only the customer id, tier and rank columns of each side.
    """
    cells, counts = _counted(engine, _moves(old, new))
    return Transitions(cells, counts)


@dataclass(frozen=True)
class Grading:
    """One side of a comparison: its grade table and, optionally, the features it was graded on."""

    grades: ir.Table
    features: ir.Table | None = None


def transitions(
    engine: Engine,
    old: Grading,
    new: Grading,
    *,
    indicators: list[str] | None = None,
    limit: int = 20,
    samples: int = 5,
    movers_of: ir.Table | None = None,
) -> Transitions:
    """Compare two gradings; ``limit`` movers per kind and ``samples`` ids per matrix cell.

    With the features of both sides, each listed mover carries ``<indicator>_before`` and
    ``<indicator>_after`` for the ``indicators`` both hold. ``movers_of`` (a table of customer
    ids) limits the movers listed to those customers, e.g. a manager's; the counts and the
    matrix still cover everyone.
    """
    import ibis

    moves = engine.materialize("tw_moves", _moves(old.grades, new.grades))
    cells, counts = _counted(engine, moves)
    ranked = moves.mutate(_pick=ibis.row_number().over(
        group_by=[moves.from_tier, moves.to_tier], order_by=moves[CUSTOMER]))
    sample_rows = engine.to_arrow(
        ranked.filter((ranked._pick < samples) & (ranked.kind != "same"))
        .select(CUSTOMER, "from_tier", "to_tier").order_by(CUSTOMER)
    ).to_pylist()
    picked: dict[tuple[str | None, str | None], list[str]] = {}
    for r in sample_rows:
        picked.setdefault((r["from_tier"], r["to_tier"]), []).append(r[CUSTOMER])
    movers: dict[str, list[dict[str, Any]]] = {}
    old_features, new_features = old.features, new.features
    names = [i for i in indicators or []
             if old_features is not None and new_features is not None
             and i in old_features.columns and i in new_features.columns]
    for kind in KINDS:
        chosen = moves.filter(moves.kind == kind)
        if movers_of is not None:
            chosen = chosen.semi_join(movers_of, chosen[CUSTOMER] == movers_of[CUSTOMER])
        if names and old_features is not None and new_features is not None:
            of = old_features.select(_ofid=old_features[CUSTOMER],
                                     **{f"{i}_before": old_features[i] for i in names})
            nf = new_features.select(_nfid=new_features[CUSTOMER],
                                     **{f"{i}_after": new_features[i] for i in names})
            chosen = chosen.left_join(of, chosen[CUSTOMER] == of._ofid)
            chosen = chosen.left_join(nf, chosen[CUSTOMER] == nf._nfid).drop("_ofid", "_nfid")
        movers[kind] = engine.to_arrow(chosen.order_by(CUSTOMER).limit(limit)).to_pylist()
    return Transitions(cells, counts, movers, picked)
