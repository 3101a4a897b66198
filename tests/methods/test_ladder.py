"""The shop rules with churn risk listed first and tried first: value order apart from rule order.

A hand-made project with known answers (issue 13): ``churn_risk`` is a status with priority 1,
``unclassified`` a status that is the fallback; the value ladder is high > medium > low.
"""

from __future__ import annotations

import re
from typing import Any

import ibis
import pandas as pd
import pytest

from tests.methods.conftest import AS_OF, scheme
from tierwise import expr
from tierwise.engine import Engine
from tierwise.methods import grade, scheme_tiers
from tierwise.methods.rules_gap import directions
from tierwise.reports.transitions import Grading, transitions
from tierwise.spec import STATUS_RANK, Ladder

SHOP: dict[str, Any] = {
    "method": "rules",
    "tiers": [
        {"key": "churn_risk", "when": "orders_6m == 0", "status": True, "priority": 1},
        {"key": "high", "when": "orders_12m >= 10 and spend_12m >= 10000"},
        {"key": "medium", "when": "(orders_12m between 5 and 9 and spend_12m between 5000 and 9999)"
                                  " or (orders_12m >= 10 and spend_12m < 10000)"},
        {"key": "low", "when": "orders_12m between 1 and 4 and spend_12m < 5000"},
        {"key": "unclassified", "status": True},
    ],
    "fallback": "unclassified",
}

ROWS: list[tuple[str, int, float, int, str, str | None]] = [
    # id, orders_12m, spend_12m, orders_6m, tier, gap
    ("a", 12, 15000, 4, "high", None),
    ("b", 7, 6000, 2, "medium",
     "to reach 'high': orders_12m +3 (>= 10), spend_12m +4000 (>= 10000)"),
    ("d", 3, 900, 1, "low",
     "to reach 'medium': orders_12m +2 (>= 5), spend_12m +4100 (>= 5000); or orders_12m +7 (>= 10)"),
    # A big spender silent for six months: churn risk is tried first.
    ("h", 10, 10000, 0, "churn_risk", "to leave 'churn_risk': orders_6m +1 (> 0), then 'high'"),
    ("e", 0, 0, 0, "churn_risk", "to leave 'churn_risk': orders_6m +1 (> 0), then 'unclassified'"),
    # The customer: 9 orders and 10,000 spent, in a gap of the rules. Never "buy less".
    ("u", 9, 10000, 3, "unclassified", "to reach 'high': orders_12m +1 (>= 10)"),
    ("f", 6, 12000, 3, "unclassified", "to reach 'high': orders_12m +4 (>= 10)"),
    # Boundaries, each side of every threshold.
    ("b10", 10, 10000, 1, "high", None),
    ("b10m", 10, 9999.99, 1, "medium", "to reach 'high': spend_12m +0.01 (>= 10000)"),
    ("b9", 9, 9999, 1, "medium", "to reach 'high': orders_12m +1 (>= 10), spend_12m +1 (>= 10000)"),
    ("b5", 5, 5000, 1, "medium", "to reach 'high': orders_12m +5 (>= 10), spend_12m +5000 (>= 10000)"),
    ("b4", 4, 4999.99, 1, "low",
     "to reach 'medium': orders_12m +1 (>= 5), spend_12m +0.01 (>= 5000); or orders_12m +6 (>= 10)"),
    ("b1", 1, 0, 1, "low",
     "to reach 'medium': orders_12m +4 (>= 5), spend_12m +5000 (>= 5000); or orders_12m +9 (>= 10)"),
]


def features() -> dict[str, list[Any]]:
    return {"customer_id": [r[0] for r in ROWS], "orders_12m": [r[1] for r in ROWS],
            "spend_12m": [float(r[2]) for r in ROWS], "orders_6m": [r[3] for r in ROWS]}


@pytest.fixture
def graded(run_grades: Any) -> pd.DataFrame:
    out: pd.DataFrame = run_grades(SHOP, features())
    return out


def test_churn_risk_is_tried_first_and_ranks_stay_on_the_value_ladder(graded: pd.DataFrame
                                                                       ) -> None:
    assert graded.tier.to_dict() == {r[0]: r[4] for r in ROWS}
    rank = {"high": 1, "medium": 2, "low": 3, "churn_risk": STATUS_RANK,
            "unclassified": STATUS_RANK}
    assert graded.tier_rank.to_dict() == {r[0]: rank[r[4]] for r in ROWS}
    assert [t.key for t in scheme_tiers(scheme(SHOP))] == [
        "high", "medium", "low", "churn_risk", "unclassified"]


def test_every_gap_has_its_known_answer(graded: pd.DataFrame) -> None:
    got = {k: (None if pd.isna(v) else v) for k, v in graded.gap.to_dict().items()}
    assert got == {r[0]: r[5] for r in ROWS}


def test_no_gap_points_down_to_a_status_or_asks_for_less(graded: pd.DataFrame) -> None:
    spec = scheme(SHOP)
    ladder = Ladder.of(spec.tiers)
    more = directions(ladder)
    assert more == {"orders_12m": "more", "spend_12m": "more"}
    for cid, row in graded.iterrows():
        if pd.isna(row.gap):
            continue
        for target in re.findall(r"to reach '(\w+)'", row.gap):
            assert target not in ladder.statuses, (cid, row.gap)
            if row.tier not in ladder.statuses:
                assert ladder.rank(target) < ladder.rank(row.tier), (cid, row.gap)
        for name, sign in re.findall(r"(\w+) ([+-])", row.gap):
            assert not (more.get(name) == "more" and sign == "-"), (cid, row.gap)


def test_a_gap_never_lands_in_a_condition_tried_first(run_grades: Any) -> None:
    # Silent for six months: reaching high by orders alone would still leave churn risk first.
    body = {**SHOP, "tiers": [{**SHOP["tiers"][0], "status": False}, *SHOP["tiers"][1:]]}
    body["tiers"] = [*body["tiers"][1:4], body["tiers"][0], body["tiers"][4]]
    out = run_grades(body, {"customer_id": ["x"], "orders_12m": [3], "spend_12m": [900.0],
                            "orders_6m": [0]})
    # x is churn_risk (a ladder tier here, rank 4, tried first): low needs orders_6m to change,
    # which no condition of low asks for, so low is not reachable; nor is anything above.
    assert out.tier["x"] == "churn_risk"
    assert pd.isna(out.gap["x"])


def test_moves_into_and_out_of_a_status_are_not_up_or_down(con: Any) -> None:
    spec = scheme(SHOP)
    before = pd.DataFrame({"customer_id": ["p", "q", "r", "s", "t"],
                           "orders_12m": [9, 3, 12, 0, 7], "spend_12m": [10000.0, 900, 15000, 0, 6000],
                           "orders_6m": [3, 1, 0, 0, 2]})
    after = before.assign(orders_6m=[0, 0, 3, 0, 2], orders_12m=[9, 3, 12, 0, 12],
                          spend_12m=[10000.0, 900, 15000, 0, 15000])
    engine = Engine("duckdb", con)
    old = grade(spec, ibis.memtable(before), as_of=AS_OF)
    new = grade(spec, ibis.memtable(after), as_of=AS_OF)
    moves = transitions(engine, Grading(old), Grading(new))
    # p unclassified -> churn_risk and q low -> churn_risk enter a status; r churn_risk -> high
    # leaves one; s stays in churn risk; t medium -> high is the only move up.
    assert moves.counts == {"up": 1, "down": 0, "status_entry": 2, "status_exit": 1,
                            "entry": 0, "exit": 0, "same": 1}
    assert "1 up, 0 down, 2 into a status, 1 out of a status" in moves.headline()


def test_reason_quotes_the_computed_rule(graded: pd.DataFrame) -> None:
    assert graded.reasons["h"].startswith("rule 'churn_risk' matched: orders_6m == 0 [")
    # High is tried after churn risk: it also matched.
    assert graded.reasons["h"].endswith("also matched lower-priority high")
    node = expr.parse("orders_12m >= 10 and spend_12m >= 10000")
    assert expr.render(node) in graded.reasons["a"]


def test_rfm_segment_map_declares_statuses(run_grades: Any) -> None:
    body = {"method": "rfm", "recency": "days", "frequency": "orders", "monetary": "spend",
            "cuts": {"recency": [30, 90, 180, 365], "frequency": [2, 3, 5, 8],
                     "monetary": [100, 200, 500, 1000]},
            "tiers": [{"key": "lost", "status": True}]}
    out = run_grades(body, {"customer_id": ["champ", "gone"], "days": [10, 400],
                            "orders": [9, 1], "spend": [2000.0, 10.0]})
    assert out.tier.to_dict() == {"champ": "champions", "gone": "lost"}
    assert out.tier_rank.to_dict() == {"champ": 1, "gone": STATUS_RANK}
    keys = [t.key for t in scheme_tiers(scheme(body))]
    assert keys[-1] == "lost" and len(keys) == 11


def test_reasons_and_gaps_in_chinese_with_labels(con: Any) -> None:
    from tierwise import i18n
    from tierwise.services.texts import render_texts
    from tierwise.spec.base import Label

    labels = {"churn_risk": "流失风险客户", "high": "高价值客户", "medium": "中价值客户",
              "low": "低价值客户", "unclassified": "未分类"}
    body = {**SHOP, "tiers": [{**t, "label": {"en": k.title(), "zh": v, "zh-Hant": v}}
                              for t, (k, v) in zip(SHOP["tiers"], labels.items(), strict=True)]}
    spec = scheme(body)
    names = {"orders_12m": Label(en="orders in 12 months", zh="近12个月订单数"),
             "spend_12m": Label(en="spend in 12 months", zh="近12个月消费额"),
             "orders_6m": Label(en="orders in 6 months", zh="近6个月订单数")}
    feats = ibis.memtable(pd.DataFrame(features()))
    grades = con.to_pyarrow(grade(spec, feats, as_of=AS_OF))
    table = con.to_pyarrow(feats)

    def texts(lang: str) -> dict[str, dict[str, Any]]:
        with i18n.use(lang):
            out = render_texts(spec, grades, table, as_of=AS_OF, indicators=names)
        return {r["customer_id"]: r for r in out.to_pylist()}

    zh = texts("zh-Hans")
    assert zh["h"]["reasons"] == ("命中规则「流失风险客户」：近6个月订单数 = 0 [近6个月订单数=0]；"
                                  "同时命中优先级较低的规则：「高价值客户」")
    assert zh["h"]["gap"] == "脱离「流失风险客户」：近6个月订单数增加 1（需 > 0），即回到「高价值客户」"
    assert zh["b"]["gap"] == ("升至「高价值客户」：近12个月订单数增加 3（需 ≥ 10）、"
                              "近12个月消费额增加 4000（需 ≥ 10000）")
    assert zh["u"]["reasons"].startswith("未命中任何规则，归入兜底分级「未分类」 [")
    for row in zh.values():
        for text in (row["reasons"], row["gap"]):
            assert text is None or not re.search("[A-Za-z]", text), text
    hant = texts("zh-Hant")
    assert hant["b"]["gap"].startswith("升至「高价值客户」：近12个月订单数增加 3")
    # The cache keys on the language: English again is English, labels and all.
    en = texts("en")
    assert en["b"]["gap"] == ("to reach 'high': orders in 12 months +3 (>= 10), "
                              "spend in 12 months +4000 (>= 10000)")
    assert en["a"]["reasons"].startswith(
        "rule 'high' matched: orders in 12 months >= 10 and spend in 12 months >= 10000 [")
