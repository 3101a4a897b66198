"""Reasons and gaps for people: rendered from a run's grades and features, on demand.

Rendering happens here, not in the engine that graded, so the texts read the same whatever engine
ran and cost nothing for the customers nobody reads about.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from tierwise import methods
from tierwise.engine import compile_sql, run_sql
from tierwise.expr.text import sentence
from tierwise.i18n import _, current, label_of
from tierwise.indicators import CUSTOMER
from tierwise.methods.wording import indicator_labels
from tierwise.spec.base import Label
from tierwise.spec.columns import PREVIOUS_TIER
from tierwise.spec.models import SchemeSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir
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


def render_texts(scheme: SchemeSpec, grades: pa.Table, features: pa.Table, *, as_of: date,
                 indicators: Mapping[str, Label | None] | None = None) -> pa.Table:
    """``grades`` with the ``reasons`` and ``gap`` texts, rendered on an embedded DuckDB.

    The texts are in the current language (:func:`tierwise.i18n.current`), indicators named by
    their labels (``indicators``: name -> ``label:`` of the project's indicators) where given.
    The text query is compiled once per scheme, date, table layout, language and labels and
    kept: compiling it took about 0.3 s of Python, far more than running it for one customer on
    a customer page.
    """
    extra = [c for c in features.column_names if c not in grades.column_names]
    feats = features.select([CUSTOMER, *extra])
    labels = {name: label_of(label, name) for name, label in (indicators or {}).items()
              if label is not None}
    labels.setdefault(PREVIOUS_TIER, _("tier in the previous run"))
    key = json.dumps([SCHEME_ADAPTER.dump_python(scheme, mode="json", by_alias=True),
                      as_of.isoformat(), str(grades.schema), str(feats.schema), current(),
                      labels], sort_keys=True, default=str)
    with _TEXT_SQL_LOCK:
        sql = _TEXT_SQL.get(key)
    if sql is None:
        with indicator_labels(labels):
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
    table = g.join(f, CUSTOMER)
    table = table.mutate(_tw_then=_changed_by(scheme, table))
    table = methods.with_texts(scheme, computed_facts(table), as_of=as_of)
    table = table.mutate(reasons=ibis.coalesce(table.reasons.concat(table._tw_then),
                                               table.reasons))
    if "_tw_tier" in table.columns:
        table = table.mutate(tier=table._tw_tier, tier_rank=table._tw_rank)
    expr = table.select(*grades.column_names, "reasons", "gap").order_by(CUSTOMER)
    return compile_sql(expr)


def computed_facts(table: ir.Table) -> ir.Table:
    """``table`` with ``tier`` / ``tier_rank`` set to the tier the method computed.

    A reason describes the computed grade truthfully (the rule that matched, the score that
    cut), whatever a stability policy or an override made of it: the method's texts are
    rendered from the computed tier (``computed_tier``, else ``policy_tier`` when overrides
    alone changed it), and the final tier is kept in ``_tw_tier`` / ``_tw_rank``.
    """
    for key, rank in (("computed_tier", "computed_rank"), ("policy_tier", "policy_rank")):
        if key in table.columns and rank in table.columns:
            return table.mutate(_tw_tier=table.tier, _tw_rank=table.tier_rank,
                                tier=table[key].cast("string"),
                                tier_rank=table[rank].cast(table.tier_rank.type()))
    return table


def _changed_by(scheme: SchemeSpec, table: ir.Table) -> ir.StringValue:
    """What follows the method's reasons: the policy, then the override, that changed the tier.

    E.g. "; then held in High: grace period 1 of 2" or "; then override #12: pinned to High";
    empty when neither changed the computed tier.
    """
    import ibis

    tiers = methods.scheme_tiers(scheme)
    parts: list[ir.StringValue] = []
    if "policy" in table.columns:
        from tierwise.policies.stability import policy_texts

        parts.append(policy_texts(table, tiers))
    if "override_kind" in table.columns and "source" in table.columns:
        from tierwise.policies.overrides import override_texts

        parts.append(override_texts(table, tiers))
    out: ir.StringValue = ibis.literal("")
    for part in parts:
        out = out.concat(ibis.coalesce(sentence(_("; then {change}"), change=part), ""))
    return out
