"""The message catalogues are complete, and languages, numbers and labels behave per language."""

from __future__ import annotations

import re
import threading
from datetime import date

import pytest

from tierwise import i18n
from tierwise.i18n import catalogues
from tierwise.spec.base import Label


def test_every_message_is_translated_in_both_chinese_scripts() -> None:
    problems = catalogues.check()
    assert [str(p) for p in problems] == []


def test_the_check_catches_a_missing_translation(tmp_path, monkeypatch) -> None:
    # A source tree with one message nobody translated: the check names it, per language.
    src = tmp_path / "src" / "tierwise" / "cli"
    src.mkdir(parents=True)
    (tmp_path / "src" / "tierwise" / "web" / "templates").mkdir(parents=True)
    (src / "x.py").write_text('from tierwise.i18n import _\nprint(_("a text nobody translated"))\n')
    problems = catalogues.check(tmp_path)
    assert {(p.lang, p.domain, p.message) for p in problems} == {
        ("zh-Hans", "cli", "a text nobody translated"),
        ("zh-Hant", "cli", "a text nobody translated")}


def test_placeholders_must_match(tmp_path) -> None:
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale="zh_Hans")
    catalog.add("{n} customers in {tier}", "{n} 位客户")
    problems = catalogues._check_one("zh-Hans", "cli", "{n} customers in {tier}", catalog)
    assert len(problems) == 1 and "placeholders ['n'] differ" in problems[0].problem


@pytest.mark.parametrize(("tag", "lang"), [
    ("en", "en"), ("en-GB", "en"), ("zh", "zh-Hans"), ("zh-CN", "zh-Hans"), ("zh_CN", "zh-Hans"),
    ("zh-Hans", "zh-Hans"), ("zh-SG", "zh-Hans"), ("zh-TW", "zh-Hant"), ("zh-HK", "zh-Hant"),
    ("zh-Hant", "zh-Hant"), ("zh-Hant-TW", "zh-Hant"), ("ZH-tw", "zh-Hant"), ("fr", None),
    ("", None), (None, None)])
def test_language_tags(tag: str | None, lang: str | None) -> None:
    assert i18n.normalize(tag) == lang


def test_unknown_language_is_refused_in_the_current_language() -> None:
    with pytest.raises(i18n.LanguageError, match="is not supported; use en, zh-Hans"):
        i18n.resolve("fr")
    with i18n.use("zh"), pytest.raises(i18n.LanguageError, match="不支持语言 'fr'"):
        i18n.resolve("fr")
    with i18n.use("zh-TW"), pytest.raises(i18n.LanguageError, match="不支援語言 'fr'"):
        i18n.resolve("fr")


@pytest.mark.parametrize(("header", "lang"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans"), ("zh-TW,zh;q=0.9", "zh-Hant"),
    ("en-US,en;q=0.9,zh-CN;q=0.8", "en"), ("fr-FR,zh-HK;q=0.5", "zh-Hant"),
    ("de, fr", "en"), ("", "en"), (None, "en"), ("zh;q=0, en;q=0.1", "en"),
    ("zh;q=bad, zh-TW;q=0.4", "zh-Hant")])
def test_accept_language(header: str | None, lang: str) -> None:
    assert i18n.negotiate(header) == lang


def test_numbers_dates_and_compact_forms_per_language() -> None:
    assert i18n.number(1234567.891, 2) == "1,234,567.89"
    assert i18n.compact(123_456_789) == "123.5M"
    assert i18n.percent(0.1234) == "12.3%"
    assert i18n.date(date(2026, 12, 6)) == "Dec 6, 2026"
    with i18n.use("zh-Hans"):
        assert i18n.compact(123_456_789) == "1.2亿"
        assert i18n.compact(54_321) == "5.4万"
        assert i18n.date(date(2026, 12, 6)) == "2026年12月6日"
    with i18n.use("zh-Hant"):
        assert i18n.compact(123_456_789) == "1.2億"
        assert i18n.compact(54_321) == "5.4萬"


def test_language_is_per_context() -> None:
    seen: dict[str, str] = {}

    def other() -> None:
        seen["thread"] = i18n.current()

    with i18n.use("zh-Hant"):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert i18n.current() == "zh-Hant"
    assert i18n.current() == "en"
    assert seen["thread"] == "en"  # a new thread starts in the default, not the caller's language


def test_labels_fall_back_to_the_other_script_then_english() -> None:
    label = Label.model_validate({"en": "High value", "zh": "高价值"})
    assert label.text("zh-Hant") == "高价值"
    both = Label.model_validate({"en": "High value", "zh-CN": "高价值", "zh-TW": "高價值"})
    assert (both.text("en"), both.text("zh-Hans"), both.text("zh-Hant")) == (
        "High value", "高价值", "高價值")
    only_zh = Label.model_validate({"zh": "高价值"})
    assert only_zh.text("en") == "高价值"
    with i18n.use("zh-Hant"):
        assert i18n.label_of(both, "high") == "高價值"
        assert i18n.label_of(None, "high") == "high"
        assert i18n.label_of({"en": "Orders", "zh-Hans": "订单数"}, "orders") == "订单数"


def test_project_language_is_checked() -> None:
    from pydantic import ValidationError

    from tierwise.spec.models import ProjectSpec

    spec = ProjectSpec.model_validate({"name": "p", "language": "zh-TW", "sources": {}})
    assert spec.language == "zh-Hant"
    with pytest.raises(ValidationError, match="language 'fr' is not supported"):
        ProjectSpec.model_validate({"name": "p", "language": "fr", "sources": {}})


def test_project_file_takes_a_language(tmp_path) -> None:
    from tierwise.spec.loader import load_project

    (tmp_path / "tierwise.yaml").write_text(
        "name: p\nlanguage: zh-TW\nsources:\n  customers: {path: c.csv}\n", encoding="utf-8")
    assert load_project(tmp_path)[0].language == "zh-Hant"


def test_every_command_keeps_its_options_and_takes_lang() -> None:
    from typer.testing import CliRunner

    from tierwise.cli.main import app

    out = CliRunner().invoke(app, ["backfill", "--help"], env={"COLUMNS": "200"}).output
    assert "--from" in out and "--project" in out and "--lang" in out


#: One word for one thing across every catalogue: the variant a translator might reach for, and
#: the term tierwise uses (README.zh-CN.md uses the same).
GLOSSARY = {
    "zh-Hans": {"层级": "等级", "分层依据": "定级原因", "会员等级": "等级", "数据质量报表": "数据质量报告"},
    "zh-Hant": {"層級": "等級", "分層依據": "定級原因", "數據": "資料", "默認": "預設", "信息": "資訊",
                "用戶": "使用者"},
}


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant"])
def test_catalogues_keep_to_the_glossary(lang: str) -> None:
    from babel.messages.pofile import read_po

    found = []
    folder = i18n.LOCALES / i18n.CATALOGUE_DIRS[lang] / "LC_MESSAGES"
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh):
                strings = (message.string,) if isinstance(message.string, str) else message.string
                for text in strings or ():
                    found += [f"{po.name}: {text!r} says {bad!r}; write {good!r}"
                              for bad, good in GLOSSARY[lang].items() if bad in (text or "")]
    assert found == []


#: Words holding 列 or 行 that mean neither a row nor a column (list, print, run, bank...).
_NOT_ROWS = re.compile("列表|列出|排列|序列|系列|列入|下列|命令列|前列|列印|佇列|陣列|列在|列舉|並列|"
                       "列為|所列|只列|執行|行動|銀行|進行|行為|行銷|運行|並行|自行|例行|可行|現行|"
                       "發行|行業")


def test_traditional_chinese_says_列_for_a_row_and_欄_for_a_column() -> None:
    """In Taiwan and Hong Kong a row is 列 and a column 欄; 行 is a line of a file. Simplified
    Chinese says 行 and 列 for row and column, and a character-by-character conversion keeps
    them: "ID 列" then reads "the ID row" to a reader of Traditional Chinese."""
    from babel.messages.pofile import read_po

    found = []
    folder = i18n.LOCALES / i18n.CATALOGUE_DIRS["zh-Hant"] / "LC_MESSAGES"
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh):
                ids = (message.id,) if isinstance(message.id, str) else message.id
                strings = (message.string,) if isinstance(message.string, str) else message.string
                english = " ".join(ids)
                text = _NOT_ROWS.sub("", " ".join(s for s in strings or () if s))
                rows, columns = (re.search(rf"\b{w}s?\b", english, re.IGNORECASE)
                                 for w in ("row", "column"))
                if columns and not rows and "列" in text:
                    found.append(f"{po.name}: {english!r} -> {text!r} says 列 for a column")
                if rows and not re.search(r"\blines?\b", english) and "行" in text:
                    found.append(f"{po.name}: {english!r} -> {text!r} says 行 for a row")
    assert found == []


def test_an_invalid_project_is_reported_in_the_language_it_declares(tmp_path) -> None:
    from typer.testing import CliRunner

    from tierwise.cli.main import app

    (tmp_path / "tierwise.yaml").write_text(
        "name: p\nlanguage: zh-TW\nsources:\n  customers: {path: c.csv, encodng: utf-8}\n",
        encoding="utf-8")
    shown = CliRunner().invoke(app, ["validate", "-p", str(tmp_path)], env={"COLUMNS": "200"})
    assert shown.exit_code == 2
    assert "未知欄位 'encodng'" in shown.output
    english = CliRunner().invoke(app, ["validate", "-p", str(tmp_path), "--lang", "en"],
                                 env={"COLUMNS": "200"})
    assert "unknown field 'encodng'" in english.output


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant"])
def test_a_message_in_several_domains_has_one_translation(lang: str) -> None:
    """The domains are merged into one catalogue at run time, so one English text has one
    translation: "Name" as a customer's name (姓名) and as a schedule's name (名称) would show
    whichever domain loaded last. Give such texts distinct msgids ("Schedule name")."""
    from babel.messages.pofile import read_po

    seen: dict[str, dict[str, str]] = {}
    folder = i18n.LOCALES / i18n.CATALOGUE_DIRS[lang] / "LC_MESSAGES"
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh):
                if message.id and isinstance(message.id, str) and message.string:
                    seen.setdefault(message.id, {})[po.stem] = str(message.string)
    clashes = {k: v for k, v in seen.items() if len(set(v.values())) > 1}
    assert clashes == {}


def test_lists_inside_messages_use_the_readers_separator() -> None:
    from tierwise.store.users import _unknown_role

    with i18n.use("zh"):
        assert "admin、supervisor、manager" in str(_unknown_role("boss"))
    with i18n.use("zh-Hant"):
        assert "admin、supervisor、manager" in str(_unknown_role("boss"))
    assert "admin, supervisor, manager" in str(_unknown_role("boss"))
