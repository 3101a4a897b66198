"""Reasons and gaps of every scored method in Chinese: catalogue sentences, labels, no English."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.methods.test_rfm_abc_scorecard import ABC, FEATURES, SCORE
from tierwise import i18n
from tierwise.methods.wording import indicator_labels

LABELS = {"spend": "近12个月消费额", "days": "距上次购买天数", "orders": "订单数"}
TIER_LABELS = {"top": "核心", "mid": "成长", "rest": "一般", "A": "甲类", "B": "乙类", "C": "丙类"}


def labelled(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with a Chinese label on every tier (keys are names the user typed)."""
    return {**body, "tiers": [{**t, "label": {"en": t["key"], "zh": TIER_LABELS[t["key"]]}}
                              for t in body["tiers"]]}


def _zh(run_grades: Any, body: dict[str, Any], lang: str = "zh-Hans") -> Any:
    with i18n.use(lang), indicator_labels(LABELS):
        return run_grades(labelled(body), FEATURES)


def test_scorecard_in_chinese(run_grades: Any) -> None:
    out = _zh(run_grades, SCORE)
    assert out.reasons["c"].startswith("得分 72.12 = 近12个月消费额 500 → 55.6 分 × 0.6 = 33.33 + ")
    assert out.gap["j"].startswith("升至「成长」：还差 30 分（例如 ")
    for text in [*out.reasons, *out.gap.dropna()]:
        assert not re.search("[A-Za-z]", text), text


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant"])
def test_abc_in_chinese(run_grades: Any, lang: str) -> None:
    out = _zh(run_grades, ABC, lang)
    share = "排在前面的客户价值占比" if lang == "zh-Hans" else "排在前面的客戶價值佔比"
    assert share in out.reasons["c"]
    gaps = out.gap.dropna()
    assert len(gaps) and all(g.startswith("升至「") for g in gaps)
    for text in [*out.reasons, *gaps]:
        assert not re.search("[A-Za-z]", text), text


def test_english_texts_keep_their_words(run_grades: Any) -> None:
    out = run_grades(SCORE, FEATURES)
    assert "spend 500 -> 55.6 pts x 0.6 = 33.33" in out.reasons["c"]
