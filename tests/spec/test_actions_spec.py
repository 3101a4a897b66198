"""Actions in tierwise.yaml: what parses, and what is refused with its line and the fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import write
from tests.services.conftest import PROJECT
from tierwise.errors import SpecError
from tierwise.spec import load_project
from tierwise.spec.actions import FileSpec, WebhookSpec

ACTIONS = """
actions:
  gold_coupon:
    scheme: tier
    kind: webhook
    on: enter
    tiers: [gold]
    where: "spend_3m >= 100"
    holdout: 0.1
    budget: {per_run: 50, per_month: 120}
    webhook: {url: "http://127.0.0.1:9/hook", secret_env: TIERWISE_HOOK_SECRET, retries: 3}
  downgrades:
    scheme: tier
    kind: file
    on: down
"""


def _load(tmp_path: Path, actions: str) -> object:
    write(tmp_path, "tierwise.yaml", PROJECT + actions)
    return load_project(tmp_path)[0]


def test_actions_parse_with_their_defaults(tmp_path: Path) -> None:
    spec = _load(tmp_path, ACTIONS)
    coupon = spec.actions["gold_coupon"]  # type: ignore[attr-defined]
    assert coupon.on == "enter" and coupon.tiers == ["gold"] and coupon.holdout == 0.1
    assert isinstance(coupon.settings(), WebhookSpec) and coupon.settings().retries == 3
    assert coupon.budget.per_run == 50 and coupon.budget.order_by is None
    drop = spec.actions["downgrades"]  # type: ignore[attr-defined]
    assert isinstance(drop.settings(), FileSpec) and drop.settings().format == "csv"
    assert drop.tiers == [] and drop.holdout == 0.0


@pytest.mark.parametrize(("body", "says", "line"), [
    ("  a:\n    scheme: tier\n    kind: webhook\n    on: enter\n",
     "a webhook action needs its `webhook:` settings", 1),
    ("  a:\n    scheme: tier\n    kind: tag\n    on: enter\n    tag: {name: vip}\n"
     "    file: {format: csv}\n", "a tag action has settings for file", 1),
    ("  a:\n    scheme: tiers\n    kind: file\n    on: up\n", "unknown scheme 'tiers'; did you mean 'tier'?", 2),
    ("  a:\n    scheme: tier\n    kind: file\n    on: arrive\n", "use one of 'enter', 'leave', 'up', 'down', 'stay'", 4),
    ("  a:\n    scheme: tier\n    kind: file\n    on: up\n    where: \"spend_3m >>= 1\"\n",
     "a comparison needs a value on both sides", 5),
    ("  a:\n    scheme: tier\n    kind: file\n    on: up\n    holdout: 1.5\n", "it must be less than 1.0", 5),
    ("  a:\n    scheme: tier\n    kind: webhook\n    on: up\n"
     "    webhook: {url: 'ftp://x', secret_env: S}\n", "must start with http://", 5),
    ("  a:\n    scheme: tier\n    kind: email\n    on: up\n"
     "    email: {to: mail, subject: {en: Hi}, body: {en: Hello}}\n",
     "unknown customer column 'mail'; the customers source declares customer_id", 5),
    ("  a:\n    scheme: tier\n    kind: file\n    on: up\n    holdout: 0.1\n"
     "    effect: {outcome: spend_9m}\n", "unknown indicator 'spend_9m'", 6),
    ("  a:\n    scheme: tier\n    kind: file\n    on: up\n    effect: {outcome: spend_3m}\n",
     "an effect is measured against the control group, and this action has none", 5),
])
def test_a_wrong_action_is_refused_with_its_line(tmp_path: Path, body: str, says: str,
                                                 line: int) -> None:
    with pytest.raises(SpecError) as caught:
        _load(tmp_path, "actions:\n" + body)
    text = str(caught.value)
    assert says in text, text
    actions = PROJECT.count("\n")  # the line of `actions:`; ``line`` counts from it
    assert f"tierwise.yaml:{actions + line}:" in text, text


@pytest.mark.parametrize(("body", "says"), [
    ("  k:\n    scheme: tier\n    measure: rate\n", "a rate KPI needs `indicator:`"),
    ("  k:\n    scheme: tier\n    measure: retention\n    indicator: orders_3m\n",
     "a retention KPI reads no indicator"),
    ("  k:\n    scheme: tier\n    measure: up\n    bands: {gold: [0.5, 0.1]}\n",
     "the band of gold runs from 0.5 down to 0.1"),
    ("  k:\n    scheme: tiers\n    measure: up\n", "unknown scheme 'tiers'"),
    ("  k:\n    scheme: tier\n    measure: mean\n    indicator: orders_9m\n", "orders_9m"),
])
def test_a_wrong_kpi_is_refused(tmp_path: Path, body: str, says: str) -> None:
    with pytest.raises(SpecError, match=re.escape(says)):
        _load(tmp_path, "kpis:\n" + body)


@pytest.mark.parametrize(("body", "says"), [
    ("  ../up:\n    scheme: tier\n    kind: file\n    on: up\n", "action name '../up' is not allowed"),
    ("  a:\n    scheme: tier\n    kind: file\n    on: up\n    file: {folder: ../../etc}\n",
     "must be a folder inside the project"),
    ("  a:\n    scheme: tier\n    kind: file\n    on: up\n    file: {folder: /tmp}\n",
     "must be a folder inside the project"),
    ("  a:\n    scheme: tier\n    kind: file\n    on: up\n    file: {folder: 'C:\\\\x'}\n",
     "must be a folder inside the project"),
])
def test_names_and_folders_stay_inside(tmp_path: Path, body: str, says: str) -> None:
    with pytest.raises(SpecError, match=re.escape(says)):
        _load(tmp_path, "actions:\n" + body)
