"""Overrides decided after a run, applied when one customer's grade is read.

A run applies the overrides in force on its as-of date when it grades. An override saved later
for that date (the usual case: a person re-classifies a customer they are reading about) would
otherwise wait for the next run while the page still shows the old class. Reading a grade
therefore applies the overrides in force on the run's date *now*, with the same rules the run
uses (:func:`tierwise.policies.overrides.apply_overrides`), starting from the tier the stability
policy held; a revoked override stops showing the same way. The history keeps what runs
recorded, and the next run records the override.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from tierwise import methods
from tierwise.engine import compile_sql, run_sql
from tierwise.policies.overrides import OVERRIDE_COLUMNS, apply_overrides
from tierwise.spec.models import SchemeSpec
from tierwise.store import Store
from tierwise.store.overrides import Override

if TYPE_CHECKING:
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
