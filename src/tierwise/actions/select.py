"""Who an action reaches on a run: its edge, its control group and its budget.

``fired`` picks the customers on the action's edge from the run's moves (``changes.parquet``:
one row per customer whose tier changed, with ``prev_tier`` and ``change``) or, for ``stay``,
from the run's grades. ``choose`` splits them: the holdout (a share chosen by a hash of action
and customer, so a customer keeps their place across runs whatever their tier), then the budget
(the highest value first, ties by customer id) and the customers over it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from tierwise.spec.actions import ActionSpec, holdout_point
from tierwise.spec.columns import CUSTOMER

#: The columns of what :func:`fired` returns.
FIRED = pa.schema([(CUSTOMER, pa.string()), ("from_tier", pa.string()),
                   ("to_tier", pa.string())])


def fired(action: ActionSpec, changes: pa.Table | None, grades: pa.Table,
          stayed: pa.Array | None = None) -> pa.Table:
    """The customers on the action's edge this run, as (customer, from_tier, to_tier).

    Args:
        action: The action.
        changes: The run's moves; None on a scheme's first run (every customer enters).
        grades: The run's grades (``customer_id``, ``tier``).
        stayed: For ``stay``: the customers whose tier was the same in the last ``runs`` runs.
    """
    tiers = pa.array(action.tiers, pa.string())
    if action.on == "stay":
        known = stayed if stayed is not None else pa.array([], pa.string())
        keep = pc.and_(pc.is_in(grades[CUSTOMER], value_set=known),
                       _within(grades["tier"], tiers))
        picked = grades.filter(keep)
        return _shaped(picked[CUSTOMER], picked["tier"], picked["tier"])
    if changes is None:  # a first run: every graded customer enters their tier
        if action.on != "enter":
            return FIRED.empty_table()
        picked = grades.filter(_within(grades["tier"], tiers))
        return _shaped(picked[CUSTOMER], pa.nulls(picked.num_rows, pa.string()), picked["tier"])
    if action.on == "enter":
        keep = pc.and_(pc.is_valid(changes["tier"]), _within(changes["tier"], tiers))
    elif action.on == "leave":
        keep = pc.and_(pc.is_valid(changes["prev_tier"]), _within(changes["prev_tier"], tiers))
    else:  # up or down
        keep = pc.and_(pc.equal(changes["change"], action.on), _within(changes["tier"], tiers))
    picked = changes.filter(pc.fill_null(keep, False))
    return _shaped(picked[CUSTOMER], picked["prev_tier"], picked["tier"])


def _within(column: pa.ChunkedArray, tiers: pa.Array) -> pa.ChunkedArray:
    """Rows whose tier is one of ``tiers`` (every row when no tier is named)."""
    if len(tiers):
        return pc.fill_null(pc.is_in(column, value_set=tiers), False)
    return pc.or_(pc.is_valid(column), pc.is_null(column))


def _shaped(ids: pa.ChunkedArray, old: pa.ChunkedArray | pa.Array, new: pa.ChunkedArray
            ) -> pa.Table:
    return pa.table([ids, old, new], schema=FIRED)


@dataclass(frozen=True)
class Choice:
    """Who of the fired customers gets the action, who is held out, who is over budget.

    Each is a list of customer ids; ``treated`` in budget order (highest value first).
    """

    treated: list[str]
    holdout: list[str]
    over_budget: list[str]


def choose(action_name: str, action: ActionSpec, fired_ids: list[str],
           values: dict[str, float | None] | None = None, *, used_this_month: int = 0
           ) -> Choice:
    """Split ``fired_ids`` into treated, holdout and over budget.

    Args:
        action_name: The action's name (its holdout hash is keyed by it).
        action: The action.
        fired_ids: The customers on its edge (and meeting its condition).
        values: Each customer's value for the budget ranking (missing or None: ranked last).
        used_this_month: Customers the action already reached this calendar month.
    """
    share = action.holdout
    holdout = [c for c in fired_ids if share and holdout_point(action_name, c) < share]
    held = set(holdout)
    rest = [c for c in fired_ids if c not in held]
    cap = _cap(action, used_this_month)
    if cap is None or cap >= len(rest):
        return Choice(sorted(rest), sorted(holdout), [])
    worth = values or {}
    ranked = sorted(rest, key=lambda c: (worth.get(c) is None, -(worth.get(c) or 0.0), c))
    return Choice(ranked[:cap], sorted(holdout), sorted(ranked[cap:]))


def _cap(action: ActionSpec, used_this_month: int) -> int | None:
    budget = action.budget
    if budget is None:
        return None
    caps = [c for c in (budget.per_run,
                        None if budget.per_month is None else budget.per_month - used_this_month)
            if c is not None]
    return max(0, min(caps)) if caps else None
