"""``tierwise actions list|deliver|ledger`` on the shop's runs, in English and Chinese."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from tests.cli.running import flat, invoke
from tests.services.test_action_plans import MEASURED, write_shop
from tierwise.services import runs


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    monkeypatch.setenv("COLUMNS", "250")
    project = write_shop(tmp_path / "shop")
    runs.backfill(project, ["tier"], [date(2026, 5, 31), date(2026, 6, 30)])
    return project.root


def test_list_deliver_and_read_the_ledger(shop: Path) -> None:
    listed = invoke("actions", "list", "-p", shop)
    assert listed.exit_code == 0, listed.output
    text = flat(listed.output)
    assert "Gold coupon (gold_coupon) tier file entering Gold 20% 15/25 2026-06-30" in text, text
    assert "loyal tier tag staying Gold (3)" in text
    delivered = invoke("actions", "deliver", "gold_coupon", "-p", shop)
    assert delivered.exit_code == 0, delivered.output
    out = flat(delivered.output)
    assert "0 failed" in out and "gold_coupon-run" in out and "wrote" in out
    assert list((shop / "actions").glob("gold_coupon-run*.csv"))
    again = flat(invoke("actions", "list", "-p", shop).output)
    assert "gold_coupon" in again
    held = invoke("actions", "ledger", "gold_coupon", "--status", "holdout", "-p", shop)
    assert held.exit_code == 0 and "control group" in flat(held.output)
    zh_list = flat(invoke("actions", "list", "-p", shop, "--lang", "zh").output)
    assert "等级动作" in zh_list and "文件" in zh_list and "进入 金卡" in zh_list
    zh = invoke("actions", "deliver", "gold_coupon", "-p", shop, "--lang", "zh")
    assert zh.exit_code == 0 and "已发送 0 条" in flat(zh.output)  # nothing left to send


def test_an_unknown_action_says_which_there_are(shop: Path) -> None:
    unknown = invoke("actions", "deliver", "coupons", "-p", shop)
    assert unknown.exit_code == 2
    assert "no action 'coupons' in tierwise.yaml; its actions are gold_coupon" in flat(
        unknown.output)
    tag = invoke("actions", "deliver", "loyal", "-p", shop)  # nobody gold three runs yet
    assert tag.exit_code == 0 and "0 sent" in flat(tag.output)


def test_the_effect_against_the_holdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    monkeypatch.setenv("COLUMNS", "250")
    text = MEASURED
    project = write_shop(tmp_path / "shop", text)
    runs.backfill(project, ["tier"], [date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30)])
    pooled = invoke("actions", "effect", "gold_coupon", "--outcome", "orders_1m", "--pooled",
                    "-p", project.root)
    assert pooled.exit_code == 0, pooled.output
    assert "gold_coupon: 2 runs from 2026-04-30 to 2026-05-31, each measured at the next" in \
        flat(pooled.output)
    undeclared = invoke("actions", "effect", "gold_coupon", "-p", project.root)
    assert undeclared.exit_code == 2
    assert "say which indicator to measure action 'gold_coupon' on" in flat(undeclared.output)
    shown = invoke("actions", "effect", "gold_coupon", "--outcome", "orders_1m", "-p",
                   project.root)
    assert shown.exit_code == 0, shown.output
    out = flat(shown.output)
    assert "gold_coupon: run of 2026-05-31, measured as of 2026-06-30" in out
    assert "treated" in out and "holdout" in out and "95% interval" in out
    zh = flat(invoke("actions", "effect", "gold_coupon", "--outcome", "orders_1m", "--rate",
                     "--lang", "zh", "-p", project.root).output)
    assert "对照组" in zh and "置信区间" in zh
    bad = invoke("actions", "effect", "gold_coupon", "--outcome", "nope", "-p", project.root)
    assert bad.exit_code == 2 and "unknown indicator 'nope'" in flat(bad.output)


def test_kpis_per_tier_and_the_review_exit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    from tests.services.test_kpis import KPIS

    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    monkeypatch.setenv("COLUMNS", "250")
    text = MEASURED
    text = text.replace("    holdout: 0.2\n", "    holdout: 0.2\n    effect: {outcome: orders_1m, "
                        "rate: true}\n", 1)
    project = write_shop(tmp_path / "shop", text + KPIS)
    runs.backfill(project, ["tier"], [date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30)])
    shown = invoke("kpi", "tier", "-p", project.root)
    out = flat(shown.output)
    assert "repurchase (rate)" in out and "kept (kept the tier)" in out
    assert "2026-04-30 2026-05-31 Gold" in out  # tiers by their label
    # The gold band (90% to 100%) is left on the latest measured run: exit 1, and it says so.
    assert shown.exit_code == 1 and "outside its band: review it" in out
    # The coupon's effect, April and May pooled, each measured at the next run.
    found = re.search(r"Gold coupon share with orders_1m above 0 2026-04-30 to 2026-05-31 \(2\) "
                      r"(\d+) / [\d.]+ (\d+) / [\d.]+ ([+-][\d.]+) ([+-][\d.]+) \.\. "
                      r"([+-][\d.]+) the interval (ex|in)cludes 0", out)
    assert found, out
    uplift, low, high = (float(found.group(i)) for i in (3, 4, 5))
    assert int(found.group(1)) > 0 and int(found.group(2)) > 0 and low <= uplift <= high
    zh = flat(invoke("kpi", "tier", "-p", project.root, "--lang", "zh").output)
    assert "保持等级" in zh and "金卡优惠券" in zh and "对照组" in zh
    one = invoke("kpi", "tier", "--kpi", "kept", "-p", project.root)
    assert one.exit_code == 0 and "repurchase" not in flat(one.output)
    assert "Gold coupon" not in flat(one.output)  # one KPI asked for: no effects
    none = invoke("kpi", "nope", "-p", project.root)
    assert none.exit_code == 0 and "has no KPI" in flat(none.output)


def test_review_approve_and_reject_reassignments(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.services.test_assign_actions import PASSWORD, misplaced, write_regions

    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    project = write_regions(tmp_path / "shop", approval=True)
    runs.backfill(project, ["tier"], [date(2026, 5, 31)])
    store = runs.open_store(project)
    with store.write() as tx:
        for name, role in (("north_mgr", "manager"), ("any_mgr", "manager"),
                           ("boss", "supervisor")):
            tx.users.create(name, role=role, password=PASSWORD, actor="setup")
        _id, secret = tx.users.new_token("boss", "cli", actor="setup")
    south = misplaced(store)
    store.close()
    monkeypatch.setenv("TIERWISE_TOKEN", secret)
    delivered = flat(invoke("actions", "deliver", "vip_managers", "-p", project.root).output)
    assert "2 reassignments wait for approval: `tierwise actions review vip_managers`" in delivered
    listed = invoke("actions", "review", "vip_managers", "-p", project.root)
    assert listed.exit_code == 0, listed.output
    assert f"{south[0]} gold north_mgr any_mgr north_mgr does not serve territory south" in \
        flat(listed.output), listed.output
    numbers = sorted(int(n) for n in re.findall(r"(\d+) 2026-05-31 C\d{3}", flat(listed.output)))
    assert len(numbers) == 2
    approved = invoke("actions", "approve", "vip_managers", str(numbers[0]), "--note", "ok",
                      "-p", project.root)
    assert approved.exit_code == 0 and "approved 1 reassignments" in flat(approved.output)
    rejected = invoke("actions", "reject", "vip_managers", str(numbers[1]), "-p", project.root,
                      "--lang", "zh")
    assert rejected.exit_code == 0, rejected.output
    again = invoke("actions", "approve", "vip_managers", str(numbers[1]), "-p", project.root)
    assert again.exit_code != 0 and "already decided (rejected)" in flat(again.output)
    empty = invoke("actions", "review", "vip_managers", "-p", project.root)
    assert "no reassignment of vip_managers waits for approval" in flat(empty.output)
    monkeypatch.delenv("TIERWISE_TOKEN")
    refused = invoke("actions", "approve", "vip_managers", "1", "-p", project.root)
    assert refused.exit_code != 0 and "tierwise login" in flat(refused.output)
