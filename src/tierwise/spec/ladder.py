"""The value ladder of a scheme's tiers: which tier is better, and which tiers are statuses.

Tiers on the ladder are ranked by their listed order, rank 1 the best. A ``status`` tier (churn
risk, excluded, unclassified) stands outside the ladder: it is neither above nor below another
tier, and the grade table stores its rank as :data:`STATUS_RANK` (0). Code that needs one number
per tier to tell tiers apart (policies, overrides) uses the *position*: the ladder tiers 1..n,
then the statuses n+1.., in listed order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierwise.spec.schemes import TierSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: The ``tier_rank`` of a status tier: outside the value ladder, whose ranks start at 1.
STATUS_RANK = 0


@dataclass(frozen=True)
class Ladder:
    """A scheme's tiers in value order: the ladder, best first, then the statuses.

    Attributes:
        tiers: The ladder tiers in listed order, then the status tiers in listed order.
        size: How many tiers are on the ladder.

    """

    tiers: tuple[TierSpec, ...]
    size: int

    @classmethod
    def of(cls, tiers: Iterable[TierSpec]) -> Ladder:
        """The ladder of ``tiers`` as a scheme lists them (statuses may stand anywhere)."""
        listed = list(tiers)
        ladder = [t for t in listed if not t.status]
        return cls((*ladder, *(t for t in listed if t.status)), len(ladder))

    def rank(self, key: str) -> int:
        """The tier's rank on the ladder (1 = best), :data:`STATUS_RANK` for a status.

        Raises:
            KeyError: ``key`` is not a tier of the scheme.

        """
        position = self.positions[key]
        return position if position <= self.size else STATUS_RANK

    @property
    def positions(self) -> dict[str, int]:
        """Every tier key with its position: ladder ranks 1..n, then the statuses n+1.."""
        return {t.key: i for i, t in enumerate(self.tiers, start=1)}

    @property
    def ranks(self) -> dict[str, int]:
        """Every tier key with its stored rank (:meth:`rank`)."""
        return {t.key: self.rank(t.key) for t in self.tiers}

    @property
    def statuses(self) -> frozenset[str]:
        """The keys of the status tiers."""
        return frozenset(t.key for t in self.tiers[self.size:])

    @property
    def has_statuses(self) -> bool:
        """Whether any tier stands outside the ladder."""
        return self.size < len(self.tiers)

    def above(self, key: str) -> list[TierSpec]:
        """The ladder tiers better than ``key``, nearest first (none for a status or the top)."""
        rank = self.rank(key)
        return [] if rank == STATUS_RANK else list(reversed(self.tiers[: rank - 1]))

    def stored_rank(self, position: ir.IntegerValue) -> ir.IntegerValue:
        """The ``tier_rank`` a grade table stores for a position expression (0 for a status)."""
        import ibis

        if not self.has_statuses:
            return position
        return ibis.ifelse(position > self.size, STATUS_RANK, position)
