"""Status tiers under stability policies and overrides, and reasons that tell the truth.

A move into or out of a status is neither an upgrade nor a downgrade: no grace period or
confirmation holds it. A reason states the computed tier with its own facts, then the policy or
override that changed it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierwise import expr
from tierwise.engine import connect
from tierwise.methods import grade, scheme_tiers
from tierwise.policies.overrides import apply_overrides
from tierwise.policies.stability import apply_stability
from tierwise.services.texts import render_texts
from tierwise.spec import STATUS_RANK
from tierwise.spec.models import RulesSchemeSpec, StabilitySpec, TierSpec

ENGINE = connect()
D0, D1 = date(2026, 1, 1), date(2026, 2, 1)
TIERS = [TierSpec(key="gold"), TierSpec(key="silver"), TierSpec(key="basic"),
         TierSpec(key="lapsed", status=True)]
POSITION = {"gold": 1, "silver": 2, "basic": 3, "lapsed": 4}
RANK = {"gold": 1, "silver": 2, "basic": 3, "lapsed": STATUS_RANK}
STRICT = StabilitySpec(upgrade_after=2, downgrade_after=2)


def computed(tiers: dict[str, str]) -> ibis.Table:
    ids = sorted(tiers)
    return ibis.memtable(pd.DataFrame({
        "customer_id": ids, "tier": [tiers[c] for c in ids],
        "tier_rank": pd.array([RANK[tiers[c]] for c in ids], dtype="int32"),
        "score": [0.0] * len(ids)}))


def test_moves_into_and_out_of_a_status_apply_at_once() -> None:
    first = ENGINE.execute(apply_stability(
        computed({"a": "gold", "b": "lapsed", "c": "silver", "d": "lapsed"}), None, TIERS,
        STRICT, as_of=D0))
    second = ENGINE.execute(apply_stability(
        computed({"a": "lapsed", "b": "silver", "c": "gold", "d": "lapsed"}),
        ibis.memtable(first), TIERS, STRICT, as_of=D1)).set_index("customer_id")
    # a: gold -> lapsed enters a status at once (no grace period); b leaves one at once (no
    # confirmation); c's upgrade still waits for a second run; d stays.
    assert second.tier.to_dict() == {"a": "lapsed", "b": "silver", "c": "silver", "d": "lapsed"}
    assert second.tier_rank.to_dict() == {"a": 0, "b": 2, "c": 2, "d": 0}
    assert second.computed_rank.to_dict() == {"a": 0, "b": 2, "c": 1, "d": 0}
    assert second.policy.isna().to_dict() == {"a": True, "b": True, "c": False, "d": True}
    assert second.since.to_dict()["d"] == pd.Timestamp(D0)


def test_overrides_tell_statuses_apart() -> None:
    held = apply_stability(computed({"a": "lapsed", "b": "lapsed", "c": "gold"}), None, TIERS,
                           None, as_of=D0)
    ov = ibis.memtable(pd.DataFrame({"override_id": [1, 2, 3], "customer_id": ["a", "b", "c"],
                                     "kind": ["floor", "pin", "pin"],
                                     "tier": ["basic", "lapsed", "lapsed"]}))
    out = ENGINE.execute(apply_overrides(held, ov, TIERS)).set_index("customer_id")
    assert out.tier.to_dict() == {"a": "basic", "b": "lapsed", "c": "lapsed"}
    assert out.tier_rank.to_dict() == {"a": 3, "b": 0, "c": 0}
    assert out.policy_rank.to_dict() == {"a": 0, "b": 0, "c": 1}


def _scheme(tiers: list[dict[str, Any]], fallback: str,
            stability: dict[str, Any] | None = None) -> RulesSchemeSpec:
    return RulesSchemeSpec.model_validate({"method": "rules", "fallback": fallback,
                                           "tiers": tiers, "stability": stability})


def test_reason_of_a_held_and_overridden_customer_is_the_computed_rule() -> None:
    spec = _scheme([{"key": "gold", "when": "spend >= 1000"},
                    {"key": "silver", "when": "spend >= 500"},
                    {"key": "bronze", "when": "spend >= 100"}, {"key": "basic"}], "basic",
                   {"downgrade_after": 2})
    tiers = scheme_tiers(spec)
    ids = ["b", "e"]
    first = ibis.memtable(pd.DataFrame({"customer_id": ids, "spend": [600.0, 2000.0]}))
    run1 = ENGINE.to_arrow(apply_stability(grade(spec, first, as_of=D0), None, tiers,
                                           spec.stability, as_of=D0))
    features = pa.table({"customer_id": ids, "spend": [300.0, 10.0]})
    second = ibis.memtable(features.to_pandas())
    run2 = apply_stability(grade(spec, second, as_of=D1), ibis.memtable(run1.to_pandas()),
                           tiers, spec.stability, as_of=D1)
    ov = ibis.memtable(pd.DataFrame({"override_id": [7], "customer_id": ["e"], "kind": ["pin"],
                                     "tier": ["gold"]}))
    final = ENGINE.to_arrow(apply_overrides(run2, ov, tiers))
    out = {r["customer_id"]: r for r in render_texts(spec, final, features, as_of=D1).to_pylist()}
    assert out["b"]["tier"] == "silver"
    assert out["b"]["reasons"] == ("rule 'bronze' matched: spend >= 100 [spend=300]; then held "
                                   "in silver: grace period 1 of 2")
    assert out["e"]["tier"] == "gold"
    assert out["e"]["reasons"] == ("no rule matched; fallback 'basic' [spend=10]; then held in "
                                   "gold: grace period 1 of 2; then override #7: pinned to gold")
    # The gap is the computed tier's too: bronze is the nearest tier above basic.
    assert out["e"]["gap"] == "to reach 'bronze': spend +90 (>= 100)"


OPS = (">=", ">", "<=", "<")
atom = st.builds(lambda n, op, v: f"{n} {op} {v}", st.sampled_from(["x", "y"]),
                 st.sampled_from(OPS), st.integers(0, 6))
condition = st.lists(atom, min_size=1, max_size=3).flatmap(
    lambda parts: st.lists(st.sampled_from([" and ", " or "]), min_size=len(parts) - 1,
                           max_size=len(parts) - 1).map(
        lambda joins: parts[0] + "".join(j + p for j, p in zip(joins, parts[1:], strict=True))))


def _holds(text: str, values: dict[str, float]) -> bool:
    dnf = expr.atoms(expr.parse(text))
    assert dnf is not None
    test = {">=": float.__ge__, ">": float.__gt__, "<=": float.__le__, "<": float.__lt__,
            "==": float.__eq__}
    return any(all(test[a.op](values[a.name], a.value) for a in conj) for conj in dnf)


def _quoted(reason: str) -> dict[str, float]:
    inside = re.search(r"\[([^\]]*)\]", reason)
    assert inside is not None, reason
    return {k: float(v) for k, v in (p.split("=") for p in inside.group(1).split("; "))}


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(conds=st.lists(condition, min_size=1, max_size=3),
       rows=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=8),
       pins=st.lists(st.integers(0, 3), min_size=8, max_size=8),
       statuses=st.lists(st.booleans(), min_size=3, max_size=3))
def test_every_quoted_value_satisfies_the_condition_it_quotes(
        conds: list[str], rows: list[tuple[int, int]], pins: list[int],
        statuses: list[bool]) -> None:
    tiers = [{"key": f"t{i}", "when": c, "status": statuses[i]} for i, c in enumerate(conds)]
    spec = _scheme([*tiers, {"key": "rest"}], "rest")
    keys = [t.key for t in spec.tiers]
    ids = [f"c{i}" for i in range(len(rows))]
    features = pa.table({"customer_id": ids, "x": [r[0] for r in rows],
                         "y": [r[1] for r in rows]})
    graded = apply_stability(grade(spec, ibis.memtable(features.to_pandas()), as_of=D0), None,
                             scheme_tiers(spec), None, as_of=D0)
    pinned = [(i + 1, c, keys[pins[i] % len(keys)]) for i, c in enumerate(ids) if pins[i]]
    ov = ibis.memtable(pd.DataFrame({"override_id": [p[0] for p in pinned],
                                     "customer_id": [p[1] for p in pinned],
                                     "kind": ["pin"] * len(pinned),
                                     "tier": [p[2] for p in pinned]},
                                    columns=["override_id", "customer_id", "kind", "tier"]))
    final = ENGINE.to_arrow(apply_overrides(graded, ov if pinned else None, scheme_tiers(spec)))
    when = {t.key: str(t.when) for t in spec.tiers if t.when}
    for r in render_texts(spec, final, features, as_of=D0).to_pylist():
        reason, actual = r["reasons"], dict(zip("xy", rows[ids.index(r["customer_id"])],
                                                strict=True))
        quoted = _quoted(reason)
        assert all(quoted[k] == actual[k] for k in quoted), reason
        matched = re.match(r"rule '(\w+)' matched: (.*?) \[", reason)
        if matched:
            assert matched.group(2) == expr.render(expr.parse(when[matched.group(1)]))
            assert _holds(matched.group(2), quoted), reason
        else:
            assert reason.startswith("no rule matched"), reason
            assert not any(_holds(c, {**actual, **quoted}) for c in when.values()), reason
