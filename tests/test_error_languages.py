"""Errors, data-quality reports and export headers in Simplified and Traditional Chinese.

For a representative error of each family the Chinese text must contain no English catalogue
text (no untranslated msgid), and must keep what locates the problem: the file and line, the field
path, and the value seen.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import write
from tierwise import expr, i18n
from tierwise.errors import SpecError
from tierwise.i18n import catalogues
from tierwise.spec import load_project

ZH = ("zh-Hans", "zh-Hant")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@cache
def _english_pieces() -> frozenset[str]:
    """The literal pieces (between placeholders) of every message, long enough to be telling."""
    pieces: set[str] = set()
    for template in catalogues.extract().values():
        for message in template:
            ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
            for text in ids:
                for piece in _PLACEHOLDER.split(text or ""):
                    words = re.findall(r"[A-Za-z]+", piece)
                    if len(words) >= 3 and len(piece.strip()) >= 15:
                        pieces.add(piece.strip(" ;:,()"))
    return frozenset(pieces)


def assert_translated(text: str) -> None:
    """``text`` is Chinese and quotes no English catalogue text."""
    assert re.search(r"[\u4e00-\u9fff]", text), text
    leaked = sorted(p for p in _english_pieces() if p in text)
    assert leaked == [], text


def _spec_error(tmp_path: Path, yaml: str, lang: str) -> SpecError:
    write(tmp_path, "tierwise.yaml", yaml)
    with i18n.use(lang), pytest.raises(SpecError) as info:
        load_project(tmp_path)
    return info.value


PYDANTIC = """
name: shop
sources:
  customers:
    path: customers.csv
    colums: {}
  transactions:
    path: orders.csv
    time: order_date
    future_events: explode
indicators:
  orders_12m: {source: transactions, agg: count, window: 12m}
schemes:
  value:
    method: rules
    tiers:
      - {key: high, when: "orders_12m >= 10"}
      - {key: low}
    fallback: low
    stability: {downgrade_after: -1}
"""


@pytest.mark.parametrize("lang", ZH)
def test_pydantic_errors_by_type_keep_file_line_path_and_value(tmp_path: Path, lang: str) -> None:
    err = _spec_error(tmp_path, PYDANTIC, lang)
    by_path = {p.path: p for p in err.problems}
    extra = by_path["sources.customers.colums"]
    assert extra.where.endswith("tierwise.yaml:5") and "'colums'" in extra.message
    literal = by_path["sources.transactions.future_events"]
    assert literal.where.endswith("tierwise.yaml:9")
    assert "'explode'" in literal.message and "'error', 'ignore'" in literal.message
    bound = by_path["schemes.value.stability.downgrade_after"]
    assert "-1" in bound.message
    for problem in err.problems:
        assert_translated(problem.message)
    assert str(err).startswith(f"{len(err.problems)} 个问题：" if lang == "zh-Hans"
                               else f"{len(err.problems)} 個問題：")


def test_pydantic_errors_stay_english_by_default(tmp_path: Path) -> None:
    write(tmp_path, "tierwise.yaml", PYDANTIC)
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    messages = {p.path: p.message for p in info.value.problems}
    assert messages["sources.customers.colums"].startswith("unknown field 'colums'")
    assert messages["sources.transactions.future_events"] == (
        "'explode' is not allowed here; use one of 'error', 'ignore'")
    assert str(info.value).startswith("4 problems:\n")


SEMANTIC = """
name: shop
sources:
  customers: {path: customers.csv}
  transactions: {path: orders.csv, time: order_date}
indicators:
  orders_12m: {source: transactions, agg: count, window: 12m}
schemes:
  value:
    method: rules
    tiers:
      - {key: high, when: "ordres_12m >= 10"}
      - {key: low}
    fallback: lowest
"""


@pytest.mark.parametrize("lang", ZH)
def test_our_own_spec_checks_speak_chinese(tmp_path: Path, lang: str) -> None:
    err = _spec_error(tmp_path, SEMANTIC, lang)
    texts = {p.path: (p.where, p.message) for p in err.problems}
    where, message = texts["schemes.value.fallback"]
    assert where.endswith("tierwise.yaml:13") and "'lowest'" in message
    where, message = texts["schemes.value.tiers[0].when"]
    assert "ordres_12m" in message and "orders_12m" in message  # the name seen, the suggestion
    for _where, message in texts.values():
        assert_translated(message)


@pytest.mark.parametrize(("text", "seen"), [
    ("orders_12m >= ", "'orders_12m >= '"),
    ("orders_12m > 'x'", "'x'"),
    ("orderz > 1", "orderz"),
    ("abs(1, 2)", "abs()"),
    ("orders_12m", "orders_12m"),
])
@pytest.mark.parametrize("lang", ZH)
def test_expression_errors_speak_chinese(text: str, seen: str, lang: str) -> None:
    with i18n.use(lang), pytest.raises(SpecError) as info:
        expr.check_condition(expr.parse(text), {"orders_12m": "number"})
    message = str(info.value)
    assert seen in message
    # The column where it went wrong: 列 in Simplified, 欄 in Traditional Chinese.
    assert ("列" if lang == "zh-Hans" else "欄") in message
    assert_translated(message)


@pytest.mark.parametrize(("lang", "text"), [("zh-Hans", "3 个问题："), ("zh-Hant", "3 個問題：")])
def test_plural_messages_are_translated_for_every_count(lang: str, text: str) -> None:
    # Chinese has one plural form: the catalogue's rule must pick it for 1 and for many.
    with i18n.use(lang):
        assert i18n.ngettext("{n} problem:", "{n} problems:", 3).format(n=3) == text
        assert str(SpecError(["a", "b", "c"])).startswith(text)


def _grades() -> tuple[object, list[object]]:
    import pyarrow as pa

    from tierwise.spec.schemes import TierSpec

    tiers = [TierSpec.model_validate({
        "key": "high", "label": {"en": "High value", "zh": "高价值", "zh-Hant": "高價值"},
        "description": {"en": "Our best customers", "zh": "最优质的客户"},
        "strategy": {"en": "Call them first", "zh": "专属客服优先联系"}, "when": "x > 1"})]
    table = pa.table({"customer_id": ["=C1"], "tier": ["high"], "tier_label_en": ["High value"],
                      "tier_label_zh": ["高价值"], "score": [1.5], "reasons": ["r"], "gap": [None],
                      "pts_spend": [2.0]}, schema=pa.schema([
                          ("customer_id", pa.string()), ("tier", pa.string()),
                          ("tier_label_en", pa.string()), ("tier_label_zh", pa.string()),
                          ("score", pa.float64()), ("reasons", pa.string()), ("gap", pa.string()),
                          ("pts_spend", pa.float64())]))
    return table, tiers


@pytest.mark.parametrize(("lang", "headers", "texts"), [
    ("en", ["customer id", "tier", "tier label", "tier description", "strategy", "score",
            "reasons", "gap to the next tier", "points: Spend"],
     ["High value", "Our best customers", "Call them first"]),
    ("zh-Hans", ["客户ID", "等级", "等级名称", "等级说明", "运营策略", "得分", "定级原因",
                 "距上一等级的差距", "得分：消费额"], ["高价值", "最优质的客户", "专属客服优先联系"]),
    ("zh-Hant", ["客戶ID", "等級", "等級名稱", "等級說明", "營運策略", "得分", "定級原因",
                 "距上一等級的差距", "得分：消費額"], ["高價值", "最优质的客户", "专属客服优先联系"]),
])
def test_exports_for_people_carry_headers_descriptions_and_strategies(
        lang: str, headers: list[str], texts: list[str]) -> None:
    from tierwise.services.export_columns import for_people

    table, tiers = _grades()
    labels = {"spend": {"en": "Spend", "zh-Hans": "消费额", "zh-Hant": "消費額"}}
    with i18n.use(lang):
        people = for_people(table, tiers, labels)  # type: ignore[arg-type]
    assert people.column_names == headers
    row = people.to_pylist()[0]
    assert [row[h] for h in headers[2:5]] == texts
    assert row[headers[0]] == "=C1"  # values stay as they are; the sheet writers neutralise


def test_the_keys_export_is_refused_when_misspelt() -> None:
    from tierwise.services.export_columns import check_columns

    assert check_columns("keys") == "keys"
    with i18n.use("zh-Hans"), pytest.raises(SpecError, match="未知的导出列格式 'key'"):
        check_columns("key")


@pytest.mark.parametrize(("lang", "head", "row", "rows", "check"), [
    ("zh-Hans", "发现 1 个数据问题；未定级", "第 2 行", "（1 行）", "无法识别的值"),
    # Traditional Chinese says 列 for a row (and 欄 for a column).
    ("zh-Hant", "發現 1 個資料問題；未定級", "第 2 列", "（1 列）", "無法識別的值"),
])
def test_the_data_quality_report_speaks_chinese(tmp_path: Path, lang: str, head: str, row: str,
                                                rows: str, check: str) -> None:
    from tests.sources.shop import ORDERS, run_fails, shop

    orders = ORDERS.replace("o2,c1,2026-03-10,50.00", "o2,c1,2026-03-10,12;5")
    with i18n.use(lang):
        error = run_fails(shop(tmp_path, orders=orders))
        finding = error.report.findings[0]  # type: ignore[attr-defined]
        assert finding.check == "unparseable" and finding.check_name() == check
    lines = str(error).splitlines()
    assert lines[0] == head
    # File, column and value stay as they are; the words around them are Chinese.
    assert lines[1].startswith("orders.csv: amount：") and lines[1].endswith(rows)
    assert any(line.startswith(f"    {row}: amount '12;5' ") for line in lines)
    for line in lines:
        assert_translated(line)
