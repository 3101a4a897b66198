"""Overrides decided after a run, applied when one customer's grade is read.

A run applies the overrides in force on its as-of date when it grades. An override saved later
for that date (the usual case: a person re-classifies a customer they are reading about) would
otherwise wait for the next run while the page still shows the old class. Reading a grade
therefore applies the overrides in force on the run's date *now*, with the same rules the run
uses (:func:`tierwise.policies.overrides.apply_overrides`), starting from the tier the stability
policy held; a revoked override stops showing the same way. The history keeps what runs
recorded, and the next run records the override. The customer list and its exports read the
whole grade table the same way (:func:`overlay_all`), so that a list of a class holds the
customers the profile shows in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from tierwise import methods
from tierwise.engine import Engine, compile_sql, run_sql
from tierwise.policies.overrides import OVERRIDE_COLUMNS, apply_overrides
from tierwise.spec.columns import CUSTOMER
from tierwise.spec.models import SchemeSpec
from tierwise.spec.schemes import TierSpec
from tierwise.store import Store
from tierwise.store.overrides import Override

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa


@dataclass(frozen=True)
class Overlay:
    """A grade row with the overrides in force now, and what changed since the run.

    Attributes:
        grades: the grade (one row; none when an override now excludes the customer).
        changed: the run applied another override (or none) than those in force now.
        override: the override in force now on the run's date (None: none).
    """

    grades: pa.Table
    changed: bool
    override: Override | None


def in_force_now(store: Store, scheme: str, customer_id: str, day: date) -> Override | None:
    """The override of ``customer_id`` that applies to a run of ``scheme`` as of ``day``."""
    with store.read() as tx:
        found = tx.overrides.listing(scheme=scheme, customer_id=customer_id)
    live = [o for o in found if o.applies_on(day)]
    return max(live, key=lambda o: o.id) if live else None


def in_force_for_all(store: Store, scheme: str, day: date) -> list[Override]:
    """Every customer's override that applies to a run of ``scheme`` as of ``day``, by id."""
    with store.read() as tx:
        found = tx.overrides.listing(scheme=scheme)
    latest: dict[str, Override] = {}
    for o in found:
        if o.applies_on(day) and (o.customer_id not in latest or o.id > latest[o.customer_id].id):
            latest[o.customer_id] = o
    return sorted(latest.values(), key=lambda o: o.id)


def overlay_all(engine: Engine, grades: ir.Table, now: list[Override],
                tiers: list[TierSpec]) -> ir.Table:
    """A run's whole grade table with the overrides in force now (:func:`in_force_for_all`).

    The same as :func:`overlay` for every customer at once: unchanged when the run applied
    exactly these overrides, else the overrides applied again to the tiers the stability policy
    held. Customers an ``exclude`` override now leaves out are left out.
    """
    import pyarrow as pa

    names = grades.columns
    if "override_id" in names:
        applied = grades.filter(grades.override_id.notnull()).select(CUSTOMER, "override_id")
        recorded = {(r[CUSTOMER], r["override_id"])
                    for r in engine.to_arrow(applied).to_pylist()}
    else:
        recorded = set()
    if recorded == {(o.customer_id, o.id) for o in now}:
        return grades
    held = grades
    if "policy_tier" in names and "policy_rank" in names:
        held = held.mutate(tier=held.policy_tier.cast(held.tier.type()),
                           tier_rank=held.policy_rank.cast(held.tier_rank.type()))
    held = held.drop(*[c for c in OVERRIDE_COLUMNS if c in names])
    chosen = None
    if now:
        chosen = engine.register_arrow("tw_overrides_now", pa.table({
            "override_id": pa.array([o.id for o in now], pa.int64()),
            "customer_id": pa.array([o.customer_id for o in now], pa.string()),
            "kind": pa.array([o.kind for o in now], pa.string()),
            "tier": pa.array([o.tier for o in now], pa.string())}))
    return apply_overrides(held, chosen, tiers)


def overlay(store: Store, scheme: str, spec: SchemeSpec, grades: pa.Table, *, customer_id: str,
            day: date) -> Overlay:
    """``grades`` (one customer's row of a run as of ``day``) with today's overrides applied.

    Unchanged when the run applied exactly the override in force now (or none either way).
    """
    import ibis
    import pyarrow as pa

    now = in_force_now(store, scheme, customer_id, day)
    names = grades.column_names
    recorded = grades["override_id"][0].as_py() if "override_id" in names else None
    if (now.id if now else None) == recorded:
        return Overlay(grades, False, now)
    held = grades
    if "policy_tier" in names and "policy_rank" in names:
        # Back to the tier the stability policy held, before any override.
        for column, source in (("tier", "policy_tier"), ("tier_rank", "policy_rank")):
            held = held.set_column(names.index(column), column,
                                   held[source].cast(held.schema.field(column).type))
    held = held.drop_columns([c for c in OVERRIDE_COLUMNS if c in names])
    table = ibis.table(ibis.Schema.from_pyarrow(held.schema), name="tw_held")
    tables = {"tw_held": held}
    chosen = None
    if now is not None:
        rows = pa.table({"override_id": pa.array([now.id], pa.int64()),
                         "customer_id": pa.array([customer_id], pa.string()),
                         "kind": pa.array([now.kind], pa.string()),
                         "tier": pa.array([now.tier], pa.string())})
        chosen = ibis.table(ibis.Schema.from_pyarrow(rows.schema), name="tw_override")
        tables["tw_override"] = rows
    applied = apply_overrides(table, chosen, methods.scheme_tiers(spec))
    return Overlay(run_sql(compile_sql(applied), tables), True, now)
