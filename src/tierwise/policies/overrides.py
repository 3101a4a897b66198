"""Overrides: manual grades applied on top of the held (policy) tier.

An override is one of ``pin`` (the customer gets that tier), ``floor`` (at least that tier),
``ceiling`` (at most that tier) or ``exclude`` (the customer gets no grade in the run). The store
keeps their reason, author, approval and expiry; the caller passes only the overrides active on
the run's as-of date, as a table ``(override_id, customer_id, kind, tier)``.

Overrides run after :func:`tierwise.policies.stability.apply_stability` and add these columns to
its output:

==============  ================================================================================
column          meaning
==============  ================================================================================
tier            the final tier key (the override's result, else the held tier)
tier_rank       its rank
policy_tier     the held tier before any override: what the next run's stability starts from,
                so a customer whose override expires returns to the policy tier
policy_rank     its rank
source          ``override`` when an override changed the tier or pinned it, ``policy`` when a
                stability policy holds a tier other than the computed one, else ``computed``
override_id     the override applied to the customer (null when none)
override_kind   its kind (null when none)
override_flag   true when the override moves the customer more than one rank away from the
                policy tier (a large manual change, worth a second look)
==============  ================================================================================

Overrides naming a tier the scheme does not have (a tier removed in a later version) are skipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tierwise.expr.text import sentence
from tierwise.i18n import N_, _, current
from tierwise.spec.ladder import Ladder

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import TierSpec

#: Columns :func:`apply_overrides` adds, in order.
OVERRIDE_COLUMNS = (
    "policy_tier",
    "policy_rank",
    "source",
    "override_id",
    "override_kind",
    "override_flag",
)

#: Override kinds.
KINDS = ("pin", "floor", "ceiling", "exclude")


def apply_overrides(
    graded: ir.Table, overrides: ir.Table | None, tiers: list[TierSpec]
) -> ir.Table:
    """Apply the active overrides to held grades.

    Args:
        graded: The output of :func:`tierwise.policies.stability.apply_stability` (a table
            without ``computed_tier`` is read as computed == held).
        overrides: Active overrides ``(override_id, customer_id, kind, tier)``; None or empty
            when there are none. With several for one customer the highest ``override_id``
            wins, so the result never depends on row order.
        tiers: The scheme's current tiers, best first.

    Returns:
        ``graded`` with ``tier`` / ``tier_rank`` set to the final tier, then
        :data:`OVERRIDE_COLUMNS` (see the module docstring); customers with an ``exclude``
        override are left out.
    """
    import ibis

    ladder = Ladder.of(tiers)
    rank_of = ladder.positions
    computed = graded.computed_tier if "computed_tier" in graded.columns else graded.tier
    held_k = graded.tier.cast("string")
    # Positions (the ladder, then the statuses) tell tiers apart where ranks of statuses do not.
    table = graded.mutate(
        _held_k=held_k,
        _held_r=ibis.coalesce(held_k.cases(*rank_of.items(), else_=ibis.null("int32")),
                              graded.tier_rank).cast("int32"),
        _computed=computed.cast("string"),
    )
    if overrides is None:
        table = table.mutate(
            _oid=ibis.null("int64"), _okind=ibis.null("string"), _ok=ibis.null("string")
        )
    else:
        table = _join_latest(table, overrides, list(rank_of))
    o_rank = table._ok.cases(*rank_of.items(), else_=ibis.null("int32")).cast("int32")
    held = table._held_r
    final = table._okind.cases(
        ("pin", o_rank),
        ("floor", ibis.least(held, o_rank)),
        ("ceiling", ibis.greatest(held, o_rank)),
        else_=held,
    )
    final = ibis.coalesce(final, held).cast("int32")
    table = table.mutate(_final=final)
    key = table._final.cases(*((i + 1, t.key) for i, t in enumerate(ladder.tiers)),
                             else_=table._held_k)
    changed = table._okind.notnull() & ((table._okind == "pin") | (table._final != table._held_r))
    final_key = ibis.ifelse(table._final == table._held_r, table._held_k, key)
    source = ibis.cases(
        (changed, "override"), (final_key == table._computed, "computed"), else_="policy"
    )
    flag = table._okind.notnull() & ((table._final - table._held_r).abs() > 1)
    columns: dict[str, Any] = {}
    for name in graded.columns:
        if name == "tier":
            columns[name] = final_key.cast("string")
        elif name == "tier_rank":
            columns[name] = ladder.stored_rank(table._final).cast(graded.tier_rank.type())
        else:
            columns[name] = table[name]
    columns.update(
        policy_tier=table._held_k,
        policy_rank=ladder.stored_rank(table._held_r),
        source=source.cast("string"),
        override_id=table._oid.cast("int64"),
        override_kind=table._okind.cast("string"),
        override_flag=ibis.coalesce(flag, False).cast("boolean"),
    )
    return table.select(**columns)


def _join_latest(table: ir.Table, overrides: ir.Table, tier_keys: list[str]) -> ir.Table:
    """``table`` with each customer's latest override as ``_oid``, ``_okind`` and ``_ok``.

    The latest override (highest ``override_id``) is skipped when it names a tier not in
    ``tier_keys``; customers whose latest override is ``exclude`` are left out.
    """
    import ibis

    latest = overrides.mutate(
        _n=ibis.row_number().over(
            group_by=overrides.customer_id, order_by=ibis.desc(overrides.override_id)
        )
    )
    latest = latest.filter(latest._n == 0)
    valid = latest.kind.isin(["pin", "floor", "ceiling"]) & latest.tier.cast("string").isin(
        tier_keys
    )
    latest = latest.filter((latest.kind == "exclude") | valid)
    ov = latest.select(
        _ocid=latest.customer_id,
        _oid=latest.override_id.cast("int64"),
        _okind=latest.kind.cast("string"),
        _ok=latest.tier.cast("string"),
    )
    table = table.left_join(ov, table.customer_id == ov._ocid).drop("_ocid")
    return table.filter(ibis.coalesce(table._okind != "exclude", True))


def override_texts(table: ir.Table, tiers: list[TierSpec]) -> ir.StringValue:
    """What an override did to each row, e.g. "override #12: pinned to High"; null where none.

    Args:
        table: Grades after :func:`apply_overrides` (``tier`` the final tier, ``override_id``,
            ``override_kind`` and ``source``).
        tiers: The scheme's tiers, for their labels.

    Returns:
        A string column, null where no override changed or pinned the tier.
    """
    import ibis

    label = table.tier.cases(*((t.key, t.label_text(current())) for t in tiers),
                             else_=table.tier)
    number = table.override_id.cast("int64").cast("string")
    texts = {kind: sentence(_(message), n=number, tier=label)
             for kind, message in OVERRIDE_SENTENCES.items()}
    text = table.override_kind.cases(*texts.items(),
                                     else_=sentence(_(OTHER_OVERRIDE), n=number, tier=label))
    return ibis.ifelse(table.source == "override", text, ibis.null("string"))


#: What each kind of override did; ``{n}`` is the override's number, ``{tier}`` the final tier.
OVERRIDE_SENTENCES = {
    "pin": N_("override #{n}: pinned to {tier}"),
    "floor": N_("override #{n}: raised to the floor {tier}"),
    "ceiling": N_("override #{n}: lowered to the ceiling {tier}"),
}
OTHER_OVERRIDE = N_("override #{n}: set to {tier}")
