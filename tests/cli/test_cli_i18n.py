"""Every command in Simplified and Traditional Chinese: no catalogue text left in English.

Each command runs on a small project with labels, descriptions and strategies in three
languages. The output may hold no msgid of the ``cli`` and ``reports`` catalogues, and no
English word except the ids and names the user typed (customers, scheme, tiers, indicators,
sources, users, the method) and :data:`ALLOWED`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.services.conftest import CUSTOMERS, write_months
from tierwise import i18n
from tierwise.cli import main
from tierwise.i18n import catalogues
from tierwise.services.explain_run import explain
from tierwise.services.grading import Project

runner = CliRunner()

PROJECT = """
name: months
as_of: 2026-06-30
sources:
  customers:
    path: customers.csv
    columns:
      customer_id: {type: string}
  transactions:
    path: orders.csv
    time: order_date
    columns:
      order_id: {type: string}
      customer_id: {type: string}
      order_date: {type: date}
      amount: {type: float, nonnegative: true}
indicators:
  orders_3m:
    {source: transactions, agg: count, window: 3m,
     label: {en: Orders in 3 months, zh: 近3个月订单数, zh-Hant: 近3個月訂單數}}
  spend_3m:
    {source: transactions, agg: sum, column: amount, window: 3m, default: 0,
     label: {en: Spend in 3 months, zh: 近3个月消费额, zh-Hant: 近3個月消費額}}
  spend_12m:
    {source: transactions, agg: sum, column: amount, window: 12m, default: 0,
     label: {en: Spend in 12 months, zh: 近12个月消费额, zh-Hant: 近12個月消費額}}
  days_since_last:
    {source: transactions, agg: days_since_last,
     label: {en: Days since last order, zh: 距上次下单天数, zh-Hant: 距上次下單天數}}
schemes:
  tier:
    method: rules
    value: spend_3m
    tiers:
      - key: gold
        when: "orders_3m >= 3"
        label: {en: Gold, zh: 金卡, zh-Hant: 金卡}
        description: {en: Buys every month, zh: 每月都有购买, zh-Hant: 每月都有購買}
        strategy: {en: Personal service, zh: 专属客服, zh-Hant: 專屬客服}
      - key: silver
        when: "orders_3m >= 1"
        label: {en: Silver, zh: 银卡, zh-Hant: 銀卡}
        description: {en: Bought lately, zh: 近期有购买, zh-Hant: 近期有購買}
        strategy: {en: Monthly coupon, zh: 每月优惠券, zh-Hant: 每月優惠券}
      - key: bronze
        label: {en: Bronze, zh: 铜卡, zh-Hant: 銅卡}
        strategy: {en: Win-back mail, zh: 召回邮件, zh-Hant: 召回郵件}
    fallback: bronze
"""

#: English words that are the same in Chinese texts: metric names (AUC and Gini are written so
#: in Chinese analytics), the product's name, the file format read, and encoding names (utf-8).
ALLOWED = {"AUC", "Gini", "tierwise", "Parquet", "utf"}
#: Names the user typed in the project or on the command line.
NAMES = {*CUSTOMERS, "tier", "gold", "silver", "bronze", "orders_3m", "spend_3m", "spend_12m",
         "days_since_last", "customers", "transactions", "rules", "analyst", "ada", "VIP",
         "local", "root"}
_WORD = re.compile(r"[A-Za-z][A-Za-z_]+")
# Paths, fingerprints, version numbers (v2) and the audit chain's action keys (run.done, the
# values scripts and the hash chain record) are ids, not words.
_NOT_WORDS = re.compile(r"\S*/\S*|\b[0-9a-f]{12}\b|\bv\d+\b|\b\w+_\w+\b|\b[a-z_]+\.[a-z_]+\b")


def english_words(text: str) -> list[str]:
    """The English words of ``text`` that are neither names the user typed nor allowed."""
    return [w for w in _WORD.findall(_NOT_WORDS.sub(" ", text)) if w not in NAMES | ALLOWED]


def _phrases() -> list[str]:
    """The literal runs (two words or more) between placeholders of every cli/reports msgid."""
    found = []
    for domain, template in catalogues.extract().items():
        if domain not in ("cli", "reports"):
            continue
        for message in template:
            ids = [message.id] if isinstance(message.id, str) else list(message.id or ())
            for text in ids:
                found += [part.strip() for part in re.split(r"\{[^}]*\}", text)
                          if len(_WORD.findall(part)) >= 2]
    return sorted(set(found))


def untranslated(text: str) -> list[str]:
    """Catalogue phrases that appear in ``text`` as they are in English."""
    flat = " ".join(text.split())
    return [p for p in _phrases() if p in flat]


@pytest.fixture(scope="module")
def phrases() -> list[str]:
    return _phrases()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    # Wide lines through COLUMNS, which the consoles read at each print (setting their width
    # would stay behind as a fixed width for later tests).
    monkeypatch.setenv("COLUMNS", "200")
    yield write_months(tmp_path / "months", PROJECT)


def _commands(p: Path) -> list[list[str]]:
    at = ["-p", str(p)]
    return [
        ["validate", *at], ["check", *at], ["whoami", *at], ["scheme", "save", "tier", *at],
        ["run", "tier", "--as-of", "2026-05-31", "--strategies", "--drop-bad-rows", *at],
        ["run", "tier", "--strategies", *at],
        ["history", "C4", "-s", "tier", *at], ["history", "C4", "-s", "tier", "--on",
                                                "2026-06-15", *at],
        ["transitions", "tier", *at], ["runs", "list", "tier", "--all", *at],
        ["runs", "show", "2", *at], ["scheme", "list", "tier", *at],
        ["scheme", "preview", "tier", *at],
        ["override", "add", "C2", "-s", "tier", "--kind", "pin", "--tier", "gold", "--reason",
         "VIP", *at],
        ["override", "list", *at], ["audit", "list", *at], ["audit", "verify", *at],
        ["evaluate", "tier", "--as-of", "2025-06-30", "--outcome", "spend_12m", *at],
    ]


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant"])
def test_every_command_speaks_chinese(project: Path, lang: str, phrases: list[str]) -> None:
    outputs: list[tuple[str, str]] = []
    for args in _commands(project):
        result = runner.invoke(main.app, [*args, "--lang", lang], catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
        outputs.append((" ".join(args[:3]), result.output))
    explained = runner.invoke(main.app, ["explain", "C1", "-s", "tier", "-p", str(project),
                                         "--lang", lang])
    assert explained.exit_code == 0, explained.output
    with i18n.use(lang):
        grade = explain(Project.open(project), "tier", "C1").grade
    text = explained.output
    # The reasons and the gap are scanned too: they are rendered in the reader's language.
    assert grade["reasons"] and " ".join(str(grade["reasons"]).split()) in " ".join(text.split())
    assert ("專屬客服" if lang == "zh-Hant" else "专属客服") in text  # the tier's strategy
    outputs.append(("explain", text))
    added = runner.invoke(main.app, ["user", "add", "ada", "--role", "admin", "--password-stdin",
                                     "-p", str(project), "--lang", lang],
                          input="a long enough secret 1\n")
    assert added.exit_code == 0, added.output
    outputs.append(("user add", added.output))
    problems = [(name, [p for p in phrases if p in " ".join(output.split())],
                 english_words(output)) for name, output in outputs]
    assert [p for p in problems if p[1] or p[2]] == []


def test_the_scan_catches_english(phrases: list[str]) -> None:
    # The checks above can fail: an English table title and a stray word are found.
    assert "Data-quality report" in untranslated("Data-quality report 数据")
    assert english_words("金卡 C1 gold customers, run 2 done") == ["run", "done"]
    assert "as of" in phrases


def test_explain_shows_description_and_strategy_in_chinese(project: Path) -> None:
    assert runner.invoke(main.app, ["run", "tier", "-p", str(project)]).exit_code == 0
    shown = runner.invoke(main.app, ["explain", "C1", "-s", "tier", "-p", str(project),
                                     "--lang", "zh"])
    assert shown.exit_code == 0, shown.output
    flat = " ".join(shown.output.split())
    assert "金卡" in flat and "每月都有购买" in flat and "专属客服" in flat
    # Indicator rows are named by their labels (the reasons quote the rule as written).
    assert "│ 近3个月订单数 │ 3 │" in flat and "│ orders_3m" not in flat


def test_run_strategies_under_the_summary(project: Path) -> None:
    ran = runner.invoke(main.app, ["run", "tier", "--strategies", "-p", str(project)])
    assert ran.exit_code == 0, ran.output
    lines = [line.strip() for line in ran.output.splitlines()]
    at = lines.index("Strategies:")
    assert lines[at + 1:at + 4] == ["Gold: Personal service", "Silver: Monthly coupon",
                                    "Bronze: Win-back mail"]


def test_chinese_plural_messages_are_translated() -> None:
    # One plural form in Chinese: n = 3 used the English rule's second form, which is missing.
    with i18n.use("zh-Hans"):
        assert i18n.ngettext("{n} source", "{n} sources", 3) == "{n} 个数据源"
    with i18n.use("zh-Hant"):
        assert i18n.ngettext("{n} source", "{n} sources", 3) == "{n} 個資料來源"


def test_one_command_language_does_not_stay_for_the_next(project: Path) -> None:
    zh = runner.invoke(main.app, ["validate", "-p", str(project), "--lang", "zh"])
    assert "检查通过" in zh.output
    en = runner.invoke(main.app, ["validate", "-p", str(project)])
    assert en.output.startswith("ok: 2 sources, 4 indicators, 1 scheme"), en.output


def test_a_tier_labelled_by_its_key_is_named_once_in_the_summary() -> None:
    """A tier without labels (its labels are its key) reads `likely`, not `likely  likely`;
    a labelled tier keeps its key beside its label in the reader's language."""
    from rich.console import Console

    from tierwise.cli.render import summary_table
    from tierwise.reports.summary import TierRow

    rows = [TierRow(1, "likely", "likely", "likely", 6, 0.6, None, None, None),
            TierRow(2, "vip", "VIP", "贵宾", 4, 0.4, None, None, None, "貴賓")]
    for lang, vip in (("en", "vip  VIP / 贵宾"), ("zh-Hant", "vip  貴賓")):
        console = Console(width=80, record=True)
        console.print(summary_table("t", rows, value=None, lang=lang))
        text = console.export_text()
        assert "likely  likely" not in text and "│ likely " in text, text
        assert vip in text, text


def test_the_rule_analysis_names_tiers_by_their_labels_in_chinese() -> None:
    """The rules and their overlaps read as the tier summary does: the key beside the label in
    the reader's language, and the overlap by the tiers' labels; English keeps the keys."""
    from rich.console import Console

    from tierwise.cli.render import analysis_table
    from tierwise.methods.rules import RuleAnalysis

    analysis = RuleAnalysis(10, {"low": 6, "churn_risk": 5}, {"low": 6, "churn_risk": 3,
                                                             "other": 1},
                            [("low", "churn_risk", 2)], 1, [], [])
    labels = {"low": "低價值客戶", "churn_risk": "流失風險客戶", "other": "other"}

    def shown(lang: str, names: dict[str, str] | None) -> str:
        console = Console(width=120, record=True)
        with i18n.use(lang):
            console.print(analysis_table(analysis, names))
        return console.export_text()

    text = shown("zh-Hant", labels)
    assert "│ low  低價值客戶 " in text and "│ churn_risk  流失風險客戶 " in text, text
    assert "│ other " in text and "other  other" not in text, text
    assert "│ 低價值客戶 與 流失風險客戶 " in text, text
    assert "條件重疊：按規則順序歸入 低價值客戶" in text, text
    english = shown("en", None)
    assert "│ low & churn_risk " in english and "overlap: resolved to low by rule order" in english


def test_a_run_names_its_rule_overlaps_by_the_graded_tiers_labels(project: Path) -> None:
    ran = runner.invoke(main.app, ["run", "tier", "-p", str(project), "--lang", "zh-Hant"],
                        env={"COLUMNS": "160"})
    assert ran.exit_code == 0, ran.output
    analysis = ran.output[ran.output.index("規則集分析"):]
    assert "│ gold  金卡 " in analysis and "│ 金卡 與 銀卡 " in analysis, analysis
    english = runner.invoke(main.app, ["run", "tier", "-p", str(project), "--force"],
                            env={"COLUMNS": "160"}).output
    assert "│ gold & silver " in english[english.index("Rule-set analysis"):], english
