"""Per-tier summaries of a grade table: customers, share, value sum and mean, share of value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierwise.spec.columns import CUSTOMER
from tierwise.spec.ladder import Ladder

if TYPE_CHECKING:
    import pyarrow as pa

    from tierwise.spec.models import TierSpec


@dataclass(frozen=True)
class TierRow:
    """One tier's line in a summary."""

    rank: int
    key: str
    label_en: str
    label_zh: str
    customers: int
    share: float
    value_sum: float | None
    value_mean: float | None
    value_share: float | None
    #: The Traditional Chinese label (``label_zh`` is Simplified); None in older records.
    label_hant: str | None = None

    def label(self, lang: str) -> str:
        """The tier's label in ``lang`` (en, zh-Hans or zh-Hant)."""
        if lang == "zh-Hant":
            return self.label_hant or self.label_zh
        return self.label_zh if lang.startswith("zh") else self.label_en


def tier_summary(grades: pa.Table, tiers: list[TierSpec], *, value: str | None) -> list[TierRow]:
    """Summarise ``grades`` (with a ``value`` column when ``value`` is set) per tier, best first.

    Tiers come in value order (the ladder, then the statuses, whose rank is 0).

    Every tier of the scheme appears, with zero customers where none reached it.
    """
    aggs = [(CUSTOMER, "count")]
    if value:
        aggs.append(("value", "sum"))
    grouped = grades.group_by("tier").aggregate(aggs).to_pylist()
    counts = {row["tier"]: (int(row["customer_id_count"]),
                            float(row["value_sum"] or 0.0) if value else None)
              for row in grouped}
    return summary_from_counts(counts, tiers, value=value)


def summary_from_counts(counts: Mapping[str, tuple[int, float | None]], tiers: list[TierSpec],
                        *, value: str | None) -> list[TierRow]:
    """The summary from customers and value sum per tier key (tiers missing there have none)."""
    total = sum(n for n, _ in counts.values())
    total_value = sum(v or 0.0 for _, v in counts.values()) if value else None
    rows = []
    ladder = Ladder.of(tiers)
    for tier in ladder.tiers:
        rank = ladder.rank(tier.key)
        count, vsum = counts.get(tier.key, (0, 0.0 if value else None))
        vsum = (vsum or 0.0) if value else None
        rows.append(
            TierRow(
                rank=rank,
                key=tier.key,
                label_en=tier.label_text("en"),
                label_zh=tier.label_text("zh"),
                label_hant=tier.label_text("zh-Hant"),
                customers=count,
                share=count / total if total else 0.0,
                value_sum=vsum,
                value_mean=(vsum / count if count and vsum is not None else None),
                value_share=(vsum / total_value if vsum is not None and total_value else None),
            )
        )
    return rows
