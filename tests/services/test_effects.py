"""The effect of an action against its holdout, on a shop with a planted effect: the uplift
equals the planted one, its interval covers it, and a test with no effect covers zero."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.services.test_action_plans import DATES, PROJECT, edited, write_shop
from tierwise.errors import NotFoundError, SpecError
from tierwise.services import effects, runs
from tierwise.services.grading import Project

JULY = date(2026, 7, 31)


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    text = PROJECT.replace(
        "indicators:\n", "indicators:\n  orders_1m: {source: transactions, agg: count, "
        "window: 1m}\n  last_order: {source: transactions, agg: max, column: order_date}\n", 1).replace("holdout: 0.2", "holdout: 0.4")
    project = write_shop(tmp_path / "shop", text)
    runs.backfill(project, ["tier"], DATES)
    return project


def _groups(project: Project) -> tuple[list[str], list[str], int]:
    store = runs.open_store(project)
    try:
        with store.read() as tx:
            june = tx.runs.history_runs("tier")[-1]
            rows = tx.actions.entries("gold_coupon", run_id=june.id)
    finally:
        store.close()
    treated = [r.customer_id for r in rows if r.status == "planned"]
    held = [r.customer_id for r in rows if r.status == "holdout"]
    return treated, held, june.id


def _july(project: Project, treated: set[str], *, planted: bool) -> dict[str, int]:
    """Write July's orders: one for every third customer; two more for treated customers
    other than every fifth when ``planted``. Returns each customer's July orders."""
    counts = {}
    lines = []
    for i in range(300):
        c = f"C{i:03d}"
        n = (1 if i % 3 == 0 else 0) + (2 if planted and c in treated and i % 5 else 0)
        counts[c] = n
        lines += [f"{c}-7-{k},{c},2026-07-15,80" for k in range(n)]
    with (project.root / "orders.csv").open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return counts


def _mean(xs: list[int]) -> float:
    return sum(xs) / len(xs)


def test_the_uplift_is_the_planted_one(shop: Project) -> None:
    treated, held, june = _groups(shop)
    assert len(treated) > 10 and len(held) > 10
    counts = _july(shop, set(treated), planted=True)
    store = runs.open_store(shop)
    # By default: the latest planned run with a later official run (May's, measured in June).
    may = effects.effect(shop, store, "gold_coupon", "orders_1m")
    assert may.run_as_of == date(2026, 5, 31) and may.measured_as_of == date(2026, 6, 30)
    found = effects.effect(shop, store, "gold_coupon", "orders_1m", as_of=JULY)
    assert found.run_id == june and found.measured_as_of == JULY
    assert found.treated.customers == len(treated) and found.holdout.customers == len(held)
    expected = _mean([counts[c] for c in treated]) - _mean([counts[c] for c in held])
    assert found.uplift == pytest.approx(expected) and expected > 0.5
    assert found.low is not None and found.high is not None
    assert 0 < found.low < expected < found.high  # the interval covers it and excludes 0
    share = effects.effect(shop, store, "gold_coupon", "orders_1m", as_of=JULY, rate=True)
    assert share.uplift == pytest.approx(
        _mean([counts[c] > 0 for c in treated]) - _mean([counts[c] > 0 for c in held]))
    with pytest.raises(SpecError, match="indicator 'last_order' is a date, not a number"):
        effects.effect(shop, store, "gold_coupon", "last_order", as_of=JULY)
    with pytest.raises(SpecError, match="unknown indicator 'orders_2m'"):
        effects.effect(shop, store, "gold_coupon", "orders_2m", as_of=JULY)
    with pytest.raises(SpecError, match="is not after"):
        effects.effect(shop, store, "gold_coupon", "orders_1m", as_of=date(2026, 6, 30),
                       run_id=june)
    with pytest.raises(NotFoundError, match="has no plan for run 999"):
        effects.effect(shop, store, "gold_coupon", "orders_1m", run_id=999)
    store.close()


def test_no_effect_gives_an_interval_around_zero(shop: Project) -> None:
    treated, _held, _june = _groups(shop)
    _july(shop, set(treated), planted=False)
    store = runs.open_store(shop)
    found = effects.effect(shop, store, "gold_coupon", "orders_1m", as_of=JULY)
    assert found.low is not None and found.high is not None
    assert found.low < 0 < found.high or found.uplift == pytest.approx(0)
    store.close()


def test_a_pooled_effect_joins_every_measured_run(shop: Project) -> None:
    store = runs.open_store(shop)
    with store.read() as tx:
        april, may, _june = tx.runs.history_runs("tier")
    single = [effects.effect(shop, store, "gold_coupon", "orders_1m", run_id=r.id)
              for r in (april, may)]
    pooled = effects.effect(shop, store, "gold_coupon", "orders_1m", pooled=True)
    assert pooled.runs == 2 and pooled.first_as_of == april.as_of
    assert pooled.run_as_of == may.as_of and pooled.measured_as_of == date(2026, 6, 30)
    for group in ("treated", "holdout"):
        parts = [getattr(e, group) for e in single]
        whole = getattr(pooled, group)
        assert whole.customers == sum(p.customers for p in parts) > 0
        assert whole.mean == pytest.approx(
            sum(p.customers * (p.mean or 0) for p in parts) / whole.customers)
    assert pooled.uplift == pytest.approx(pooled.treated.mean - pooled.holdout.mean)
    declared = edited(shop, "holdout: 0.4\n", "holdout: 0.4\n    effect: {outcome: orders_1m}\n")
    assert effects.effect(declared, store, "gold_coupon", pooled=True) == pooled
    with pytest.raises(SpecError, match="a pooled effect measures every run"):
        effects.effect(shop, store, "gold_coupon", "orders_1m", pooled=True, as_of=JULY)
    store.close()
