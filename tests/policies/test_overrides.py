"""Overrides on top of held tiers: each kind, precedence, expiry and the large-change flag."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import pandas as pd

from tests.policies.test_stability import ENGINE, RANK, TIERS, prev_row, raw
from tierwise.policies.overrides import OVERRIDE_COLUMNS, apply_overrides
from tierwise.policies.stability import STATE_COLUMNS, apply_stability
from tierwise.spec.models import StabilitySpec

AS_OF = date(2026, 2, 1)
POLICY = StabilitySpec(downgrade_after=2)


def held(computed: dict[str, str], previous: dict[str, str] | None = None) -> ibis.Table:
    """Stability output: customers computed at ``computed``, holding ``previous`` (grace 2)."""
    prev = None
    if previous:
        prev = ibis.memtable(pd.concat([prev_row(t, since=date(2026, 1, 1), customer=c)
                                        for c, t in previous.items()]))
    return apply_stability(raw(computed), prev, TIERS, POLICY, as_of=AS_OF)


def overrides(*rows: tuple[int, str, str, str | None]) -> ibis.Table:
    return ibis.memtable(pd.DataFrame(
        {"override_id": [r[0] for r in rows], "customer_id": [r[1] for r in rows],
         "kind": [r[2] for r in rows], "tier": pd.array([r[3] for r in rows], dtype="string")}))


def apply(graded: ibis.Table, ov: ibis.Table | None) -> dict[str, dict[str, Any]]:
    out = ENGINE.execute(apply_overrides(graded, ov, TIERS))
    records = out.to_dict("records")
    return {r["customer_id"]: {k: (None if not isinstance(v, str) and pd.isna(v) else v)
                               for k, v in r.items()} for r in records}


def brief(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["tier"], r["tier_rank"], r["policy_tier"], r["source"], r["override_id"],
            r["override_kind"], r["override_flag"])


def test_columns_and_sources_without_overrides() -> None:
    graded = held({"a": "silver", "b": "bronze"}, {"b": "gold"})
    out = ENGINE.execute(apply_overrides(graded, None, TIERS))
    assert list(out.columns) == ["customer_id", "tier", "tier_rank", "score", "detail",
                                 *STATE_COLUMNS, *OVERRIDE_COLUMNS]
    got = apply(graded, None)
    assert brief(got["a"]) == ("silver", 2, "silver", "computed", None, None, False)
    # b is held in gold by the grace period: the policy decides its tier
    assert brief(got["b"]) == ("gold", 1, "gold", "policy", None, None, False)


def test_pin_sets_the_tier_even_when_it_is_the_same() -> None:
    graded = held({"a": "silver", "b": "basic", "c": "gold"})
    got = apply(graded, overrides((1, "a", "pin", "gold"), (2, "b", "pin", "gold"),
                                  (3, "c", "pin", "gold")))
    assert brief(got["a"]) == ("gold", 1, "silver", "override", 1, "pin", False)
    # basic (4) pinned to gold (1): three ranks away from the policy tier
    assert brief(got["b"]) == ("gold", 1, "basic", "override", 2, "pin", True)
    assert brief(got["c"]) == ("gold", 1, "gold", "override", 3, "pin", False)


def test_floor_raises_only_customers_below_it() -> None:
    graded = held({"a": "basic", "b": "gold"})
    got = apply(graded, overrides((1, "a", "floor", "silver"), (2, "b", "floor", "silver")))
    assert brief(got["a"]) == ("silver", 2, "basic", "override", 1, "floor", True)
    # already above the floor: unchanged, the override is reported but did not decide
    assert brief(got["b"]) == ("gold", 1, "gold", "computed", 2, "floor", False)


def test_ceiling_lowers_only_customers_above_it() -> None:
    graded = held({"a": "gold", "b": "basic"})
    got = apply(graded, overrides((1, "a", "ceiling", "silver"), (2, "b", "ceiling", "silver")))
    assert brief(got["a"]) == ("silver", 2, "gold", "override", 1, "ceiling", False)
    assert brief(got["b"]) == ("basic", 4, "basic", "computed", 2, "ceiling", False)


def test_exclude_removes_the_customer() -> None:
    graded = held({"a": "gold", "b": "basic"})
    got = apply(graded, overrides((1, "a", "exclude", None)))
    assert sorted(got) == ["b"]


def test_highest_override_id_wins_whatever_the_row_order() -> None:
    graded = held({"a": "basic"})
    rows = [(7, "a", "pin", "bronze"), (9, "a", "pin", "silver"), (8, "a", "exclude", None)]
    for order in (rows, rows[::-1]):
        assert brief(apply(graded, overrides(*order))["a"])[:5] == (
            "silver", 2, "basic", "override", 9)


def test_override_on_a_tier_the_scheme_lacks_is_skipped() -> None:
    got = apply(held({"a": "basic"}), overrides((1, "a", "pin", "platinum")))
    assert brief(got["a"]) == ("basic", 4, "basic", "computed", None, None, False)


def test_expired_override_reverts_to_the_policy_tier() -> None:
    # Run 1: computed basic, held gold by the grace period, pinned to silver by an override.
    first = held({"a": "basic"}, {"a": "gold"})
    pinned = apply_overrides(first, overrides((1, "a", "pin", "silver")), TIERS)
    stored = ENGINE.execute(pinned)
    assert stored.tier.tolist() == ["silver"] and stored.policy_tier.tolist() == ["gold"]
    # Run 2: the override expired, so the caller passes none. Stability continues from the
    # policy tier (gold, grace 1 of 2), not from the pinned silver: this second run below gold
    # completes the grace period and the customer drops to the computed tier.
    second = apply_stability(raw({"a": "basic"}), ibis.memtable(stored), TIERS, POLICY,
                             as_of=date(2026, 3, 1))
    got = apply(second, None)
    assert brief(got["a"]) == ("basic", 4, "basic", "computed", None, None, False)
    # Had the customer been computed gold again, they would simply keep the policy tier gold.
    again = apply_stability(raw({"a": "gold"}), ibis.memtable(stored), TIERS, POLICY,
                            as_of=date(2026, 3, 1))
    assert brief(apply(again, None)["a"])[:4] == ("gold", 1, "gold", "computed")


def test_override_of_a_policy_held_tier_keeps_the_policy_state() -> None:
    graded = held({"a": "basic"}, {"a": "gold"})
    got = apply(graded, overrides((5, "a", "ceiling", "bronze")))
    # gold (1) capped at bronze (3): two ranks, flagged; the grace state stays for the next run
    assert brief(got["a"]) == ("bronze", RANK["bronze"], "gold", "override", 5, "ceiling", True)
    assert (got["a"]["policy"], got["a"]["pending_tier"], got["a"]["pending_runs"]) == (
        "grace", "basic", 1)
