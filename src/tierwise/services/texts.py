"""Reasons and gaps for people: rendered from a run's grades and features, on demand.

Rendering happens here, not in the engine that graded, so the texts read the same whatever engine
ran and cost nothing for the customers nobody reads about.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from tierwise import methods
from tierwise.engine import compile_sql, run_sql
from tierwise.indicators import CUSTOMER
from tierwise.spec.models import SchemeSpec

if TYPE_CHECKING:
    import pyarrow as pa

#: Reads and writes a scheme's spec as JSON (``run.json``, saved versions).
SCHEME_ADAPTER: TypeAdapter[SchemeSpec] = TypeAdapter(SchemeSpec)

_TEXT_SQL: dict[str, str] = {}
_TEXT_SQL_LOCK = threading.Lock()


@dataclass(frozen=True)
class Explanation:
    """One customer's grade: tier, score, reasons, gap and the indicator values."""

    scheme: str
    as_of: date
    customer_id: str
    grade: dict[str, Any]
    indicators: dict[str, Any]


def render_texts(scheme: SchemeSpec, grades: pa.Table, features: pa.Table, *, as_of: date
                 ) -> pa.Table:
    """``grades`` with the ``reasons`` and ``gap`` texts, rendered on an embedded DuckDB.

    The text query is compiled once per scheme, date and table layout and kept: compiling it
    took about 0.3 s of Python, far more than running it for one customer on a customer page.
    """
    extra = [c for c in features.column_names if c not in grades.column_names]
    feats = features.select([CUSTOMER, *extra])
    key = json.dumps([SCHEME_ADAPTER.dump_python(scheme, mode="json", by_alias=True),
                      as_of.isoformat(), str(grades.schema), str(feats.schema)],
                     sort_keys=True, default=str)
    with _TEXT_SQL_LOCK:
        sql = _TEXT_SQL.get(key)
    if sql is None:
        sql = _text_sql(scheme, grades, feats, as_of=as_of)
        with _TEXT_SQL_LOCK:
            if len(_TEXT_SQL) > 256:
                _TEXT_SQL.clear()
            _TEXT_SQL[key] = sql
    return run_sql(sql, {"tw_grades": grades, "tw_features": feats})


def _text_sql(scheme: SchemeSpec, grades: pa.Table, features: pa.Table, *, as_of: date) -> str:
    import ibis

    g = ibis.table(ibis.Schema.from_pyarrow(grades.schema), name="tw_grades")
    f = ibis.table(ibis.Schema.from_pyarrow(features.schema), name="tw_features")
    table = methods.with_texts(scheme, g.join(f, CUSTOMER), as_of=as_of)
    if "policy" in grades.column_names:
        # A tier held by the stability policy says so first: "held in Gold: grace ...".
        from tierwise.policies.stability import policy_texts

        held = policy_texts(table, methods.scheme_tiers(scheme))
        table = table.mutate(reasons=ibis.coalesce(
            held.concat(" (computed: ", table.computed_tier.fill_null(""), "); ",
                        table.reasons.fill_null("")),
            table.reasons))
    expr = table.select(*grades.column_names, "reasons", "gap").order_by(CUSTOMER)
    return compile_sql(expr)
