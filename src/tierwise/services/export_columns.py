"""The columns of an export, for people or for machines.

An export for people (the default) carries each tier's description and strategy beside its label,
and names its columns in the current language: 客户ID, 层级, 分层依据 ... rather than
``customer_id``, ``tier``, ``reasons``; indicator columns take the indicator's label. An export
for machines (``columns="keys"``) keeps the stable column keys and adds nothing, as the run's
Parquet files do; it is the one to load into other systems.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from tierwise.i18n import N_, _, current, label_of

if TYPE_CHECKING:
    import pyarrow as pa

    from tierwise.i18n import Labelled
    from tierwise.spec.schemes import TierSpec

#: Who an export is for: people (headers in their language) or machines (column keys).
Columns = Literal["people", "keys"]
COLUMNS: tuple[str, ...] = ("people", "keys")

#: The header of each column an export can hold, by its key.
HEADERS = {
    "customer_id": N_("customer id"),
    "tier": N_("tier"),
    "tier_label": N_("tier label"),
    "tier_label_en": N_("tier label (English)"),
    "tier_label_zh": N_("tier label (Chinese)"),
    "tier_rank": N_("tier rank"),
    "score": N_("score"),
    "reasons": N_("reasons"),
    "gap": N_("gap to the next tier"),
    "description": N_("tier description"),
    "strategy": N_("strategy"),
    "computed_tier": N_("computed tier"),
    "computed_rank": N_("computed tier rank"),
    "since": N_("in this tier since"),
    "changed_at": N_("tier changed on"),
    "pending_tier": N_("pending tier"),
    "pending_runs": N_("runs in the pending tier"),
    "policy_n": N_("policy runs"),
    "policy_of": N_("policy limit"),
    "policy_tier": N_("tier by policy"),
    "policy_rank": N_("tier rank by policy"),
    "override_flag": N_("overridden"),
    "policy": N_("policy"),
    "source": N_("decided by"),
    "override": N_("override"),
    "override_id": N_("override id"),
    "override_kind": N_("override kind"),
    "cluster": N_("cluster"),
    "probability": N_("probability"),
    "segment": N_("segment"),
    "rfm": N_("RFM code"),
    "r_score": N_("recency score"),
    "f_score": N_("frequency score"),
    "m_score": N_("monetary score"),
    "value": N_("value"),
}


def check_columns(columns: str) -> Columns:
    """``columns`` when it names a kind of export; a SpecError naming the choices otherwise."""
    from tierwise.errors import SpecError

    if columns == "people":
        return "people"
    if columns == "keys":
        return "keys"
    raise SpecError(_("unknown export columns {columns}; use people (headers in your language) "
                      "or keys (stable column names for other systems)").format(
                          columns=repr(columns)))


def header(key: str, labels: Mapping[str, Labelled | None]) -> str:
    """The header of column ``key`` in the current language (an indicator's label if it has one).

    ``pts_<indicator>`` columns are the points a scorecard gave for an indicator.
    """
    if key.startswith("pts_") and key[4:] in labels:
        return _("points: {indicator}").format(indicator=label_of(labels[key[4:]], key[4:]))
    if key in labels:
        return label_of(labels[key], key)
    return _(HEADERS[key]) if key in HEADERS else key


def for_people(table: pa.Table, tiers: Sequence[TierSpec],
               labels: Mapping[str, Labelled | None] | None = None) -> pa.Table:
    """``table`` for people: tier texts beside the tier key, headers in the current language.

    The tier's label, description and strategy follow the tier key. The two fixed-language label columns give way to the one in the reader's language.
    """
    import pyarrow as pa

    lang = current()
    by_key = {t.key: t for t in tiers}
    keys = table.column("tier").to_pylist() if "tier" in table.column_names else []

    def texts(pick: str) -> pa.Array:
        out = []
        for key in keys:
            tier = by_key.get(key)
            text = None if tier is None else {
                "tier_label": tier.label_text, "description": tier.description_text,
                "strategy": tier.strategy_text}[pick](lang)
            out.append(text)
        return pa.array(out, pa.string())

    names: list[str] = []
    columns: list[pa.ChunkedArray | pa.Array] = []
    for name in table.column_names:
        if name in ("tier_label_en", "tier_label_zh"):
            continue
        names.append(name)
        columns.append(table.column(name))
        if name == "tier":
            for pick in ("tier_label", "description", "strategy"):
                names.append(pick)
                columns.append(texts(pick))
    headers = [header(name, labels or {}) for name in names]
    return pa.table(columns, names=distinct_headers(headers))


def distinct_headers(headers: list[str]) -> list[str]:
    """Headers made distinct: a label equal to another header gets its position appended."""
    seen: set[str] = set()
    out = []
    for i, text in enumerate(headers):
        out.append(text if text not in seen else f"{text} ({i + 1})")
        seen.add(out[-1])
    return out
