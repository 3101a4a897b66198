"""Account-manager assignment within capacity: keep the current manager, then balance load.

Customers are placed the highest value first (ties by id), in two passes:

1. customers whose current manager may take them (same territory, or no territories) keep that
   manager while the manager has room;
2. everyone else goes to the eligible manager with the fewest accounts (ties by name, so new
   accounts go round the managers in turn); when every eligible manager is full, the customer
   is left unplaced and says why (a customer who had a manager then has none: the caller
   removes that assignment, so no manager ends over capacity).

A manager's load counts the accounts they already hold that count against the capacity (the
caller says which: those in the action's tiers), so capacity is never exceeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Manager:
    """A manager who takes accounts: their territories (empty: any) and capacity."""

    name: str
    capacity: int
    territories: frozenset[str] = frozenset()

    def serves(self, territory: str | None) -> bool:
        """Whether this manager may take a customer of ``territory``."""
        return not self.territories or (territory is not None and territory in self.territories)


@dataclass(frozen=True)
class Account:
    """A customer to place: their territory (None: unknown) and value."""

    customer_id: str
    territory: str | None = None
    value: float | None = None


@dataclass
class Placement:
    """Who goes to whom: ``kept`` their manager, ``moved`` to a new one, ``unplaced`` and why."""

    to: dict[str, str] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    unplaced: dict[str, str] = field(default_factory=dict)
    load: dict[str, int] = field(default_factory=dict)


def place(accounts: list[Account], managers: list[Manager], current: Mapping[str, str],
          load: Mapping[str, int]) -> Placement:
    """Place ``accounts`` with ``managers``.

    Args:
        accounts: The customers to place.
        managers: Who may take them.
        current: Each customer's manager now, where they have one.
        load: Accounts each manager holds now that count against their capacity (without the
            ``accounts`` being placed).
    """
    by_name = {m.name: m for m in managers}
    out = Placement(load={m.name: load.get(m.name, 0) for m in managers})
    order = sorted(accounts, key=lambda a: (a.value is None, -(a.value or 0.0), a.customer_id))
    rest = []
    for account in order:
        mine = by_name.get(current.get(account.customer_id, ""))
        if mine is not None and mine.serves(account.territory) \
                and out.load[mine.name] < mine.capacity:
            _give(out, account.customer_id, mine.name)
            out.kept.append(account.customer_id)
        else:
            rest.append(account)
    for account in rest:
        eligible = [m for m in managers if m.serves(account.territory)]
        room = [m for m in eligible if out.load[m.name] < m.capacity]
        if not room:
            out.unplaced[account.customer_id] = (
                "full" if eligible else "no manager serves this territory")
            continue
        chosen = min(room, key=lambda m: (out.load[m.name], m.name))
        _give(out, account.customer_id, chosen.name)
        out.moved.append(account.customer_id)
    return out


def _give(out: Placement, customer_id: str, manager: str) -> None:
    out.to[customer_id] = manager
    out.load[manager] += 1
