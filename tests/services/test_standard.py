"""The classification standard: content per method and language, and its four file formats."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path

import pytest

from tierwise.errors import NotFoundError
from tierwise.i18n import use
from tierwise.reports.standard import Standard
from tierwise.services import runs, standard, standard_files, versions
from tierwise.services.grading import Project
from tierwise.store import Store

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Project, Store]:
    """The retail and b2b examples' schemes saved in a fresh store (no data needed)."""
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    retail, b2b = Project.open(EXAMPLES / "retail"), Project.open(EXAMPLES / "b2b")
    for name in ("value", "rfm", "rfm_cn"):
        versions.save(store, retail, name, actor="ann")
    for name in ("grade", "abc"):
        versions.save(store, b2b, name, actor="bob")
    return retail, store


def _doc(shop: tuple[Project, Store], name: str, lang: str = "en", **kw: int) -> Standard:
    project, store = shop
    with use(lang):
        return standard.document(store, name, project=project, **kw)


def _criteria(doc: Standard) -> dict[str, str | None]:
    return {c.key: c.criteria for c in doc.classes}


def test_rules_classes_in_value_order_with_criteria_in_words(shop: tuple[Project, Store]
                                                             ) -> None:
    doc = _doc(shop, "value")
    assert [c.key for c in doc.classes] == ["high", "medium", "low", "churn_risk", "unclassified"]
    assert [c.rank for c in doc.classes] == [1, 2, 3, None, None]
    assert [c.status for c in doc.classes] == [False, False, False, True, True]
    criteria = _criteria(doc)
    # spend_12m declares `unit: CNY`: thresholds read as money; counts as plain numbers.
    assert criteria["high"] == ("Orders, 12 months at least 10 and Net spend, 12 months at "
                                "least CN¥10,000")
    assert criteria["medium"] == (
        "(Orders, 12 months from 5 to 9 and Net spend, 12 months from CN¥5,000 to CN¥9,999) or "
        "(Orders, 12 months at least 10 and Net spend, 12 months below CN¥10,000)")
    assert criteria["churn_risk"] == "Orders, 6 months is 0"
    assert criteria["unclassified"] == "None of the conditions of the other classes holds."
    high = doc.classes[0]
    assert high.label == "High value" and high.definition == "Frequent buyers with high spend."
    assert high.strategy and high.strategy.startswith("Dedicated service line")
    assert high.customers is None and high.share is None  # never run
    assert doc.title == "Customer classification standard: Customer value"
    assert any("High value → Medium value → Low value → Churn risk" in line
               for line in doc.method)
    indicators = {i.name: i for i in doc.indicators}
    assert list(indicators) == ["orders_12m", "spend_12m", "orders_6m"]
    assert indicators["spend_12m"].unit == "CNY"
    assert indicators["orders_6m"].definition == (
        "Number of Transactions records, counting only records where kind is “sale”, over the "
        "last 6 months.")


def test_rules_criteria_read_naturally_in_chinese(shop: tuple[Project, Store]) -> None:
    doc = _doc(shop, "value", "zh-Hans")
    criteria = _criteria(doc)
    assert criteria["high"] == "近12个月订单数不少于10 且 近12个月净消费额不少于¥10,000"
    assert criteria["low"] == "近12个月订单数在1到4之间 且 近12个月净消费额低于¥5,000"
    assert criteria["churn_risk"] == "近6个月订单数为0"
    assert [c.label for c in doc.classes][:2] == ["高价值客户", "中价值客户"]
    assert doc.title == "客户分级标准：客户价值分级"
    assert doc.method[0] == "方法：规则。"  # the method's name, not its code ("rules")
    assert _doc(shop, "rfm", "zh-Hans").method[0] == "方法：RFM 客户分群。"
    assert doc.indicators[2].definition == "交易记录数（仅统计kind为“sale”的记录），统计近 6 个月。"
    with use("zh-Hant"):
        hant = standard.document(shop[1], "value", project=shop[0])
    assert _criteria(hant)["high"] == "近12個月訂單數不少於10 且 近12個月淨消費額不少於CN¥10,000"  # Taiwan writes CN¥


def test_rfm_segments_say_their_score_cells(shop: tuple[Project, Store]) -> None:
    doc = _doc(shop, "rfm")
    assert len(doc.classes) == 11 and doc.classes[0].key == "champions"
    criteria = _criteria(doc)
    assert criteria["champions"] == "R score 5, FM score 4 to 5."
    assert criteria["lost"] == "R score 1, FM score 1 to 2."
    assert any("scored 1 to 5, 5 the best" in line for line in doc.method)
    cn = _doc(shop, "rfm_cn", "zh-Hans")
    assert _criteria(cn)["important_retain"] == "R低、F高、M高。"
    assert cn.classes[0].label == "重要价值客户"


def test_scorecard_dimensions_weights_and_score_bands(shop: tuple[Project, Store]) -> None:
    doc = _doc(shop, "grade")
    criteria = _criteria(doc)
    assert criteria["vip"] == "score at least 75"
    assert criteria["important"] == "score from 60 to under 75"
    assert list(criteria.values())[-1] == "score below 30"
    assert "Annual purchases: weight 35%, by percentile rank among customers." in doc.method
    assert ("Years of cooperation: weight 15%, scaled from the lowest to the highest value, "
            "values capped to 0 to 10.") in doc.method
    zh = _doc(shop, "grade", "zh-Hans")
    assert _criteria(zh)["important"] == "得分不低于 60 且低于 75"


def test_abc_classes_by_cumulative_share(shop: tuple[Project, Store]) -> None:
    criteria = _criteria(_doc(shop, "abc"))
    assert criteria == {"A": "Up to 80% of the cumulative share.",
                        "B": "From 80% to 95% of the cumulative share.",
                        "C": "The rest, from 95% of the cumulative share on."}


def test_a_unit_is_a_display_field_that_keeps_the_version() -> None:
    retail = Project.open(EXAMPLES / "retail")
    spec = retail.spec
    plain = spec.indicators["spend_12m"].model_copy(update={"unit": None})
    bare = Project(spec.model_copy(update={"indicators": {**spec.indicators, "spend_12m": plain}}),
                   retail.root)
    assert versions.grading_content(bare, "value")[2] == versions.grading_content(retail,
                                                                                  "value")[2]


def test_counts_policy_and_versions_from_the_store(months: Path) -> None:
    project = Project.open(months)
    runs.backfill(project, ["steady"], [date(2026, 6, 30)])
    store = runs.open_store(project)
    doc = standard.document(store, "steady", project=project)
    # As of 2026-06-30, orders in April to June (tests/services/conftest.py): C1 has three
    # (gold); C4's only order was in March, so C2, C3, C4 and C5 have none (bronze).
    assert [(c.key, c.customers) for c in doc.classes] == [("gold", 1), ("silver", 0),
                                                           ("bronze", 4)]
    assert doc.classes[2].share == pytest.approx(0.8)  # 4 of 5
    assert doc.graded == 5 and doc.facts.run_as_of == date(2026, 6, 30)
    policy = dict(doc.policy)
    assert policy["Downgrades"] == ("A downgrade takes effect after 2 runs in a row below the "
                                    "held class (a grace period).")
    assert policy["Upgrades"] == "An upgrade takes effect at once."
    assert policy["Manual changes"] == ("A manual class change applies only once a second "
                                        "person approves it.")
    lines = dict(doc.version_lines())
    assert lines["Version"] == "1" and lines["Status"] == "active"
    with pytest.raises(NotFoundError, match=r"scheme 'steady' has no version 9; versions: 1"):
        standard.document(store, "steady", version=9)
    with pytest.raises(NotFoundError, match=r"scheme .nothing. is not in the store yet; run it or save it"):
        standard.document(store, "nothing")
    store.close()


def test_markdown_golden_lines_and_escaping(shop: tuple[Project, Store]) -> None:
    text = standard.render(_doc(shop, "value"), "md").content.decode()
    lines = text.splitlines()
    assert lines[0] == "# Customer classification standard: Customer value"
    assert "- **Version**: 1" in lines and "- **Go-live date**: from the first graded date" in lines
    assert "| Rank | Class | Definition | Criteria | Strategy | Number of customers | Share |" \
        in lines
    assert ("| 1 | High value | Frequent buyers with high spend. | Orders, 12 months at least 10 "
            "and Net spend, 12 months at least CN¥10,000 | Dedicated service line, early access "
            "to new collections, birthday gift; never discount-led. |  |  |") in lines
    assert "| status | Churn risk |" in text
    assert "## Review policy" in lines and "## Indicators" in lines


def test_markdown_and_html_escape_user_text(shop: tuple[Project, Store]) -> None:
    doc = _doc(shop, "value")
    doc = Standard(**{**doc.__dict__, "description": "a | b <script>x</script>"})
    assert "a \\| b &lt;script&gt;" in standard.render(doc, "md").content.decode()
    page = standard.render(doc, "html").content.decode()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "@media print" in page and '<html lang="en">' in page


def test_xlsx_reads_back_with_formulas_neutralised(shop: tuple[Project, Store]) -> None:
    from openpyxl import load_workbook

    doc = _doc(shop, "value", "zh-Hans")
    first = doc.classes[0]
    evil = type(first)(**{**first.__dict__, "label": "=HYPERLINK(\"http://x\")"})
    doc = Standard(**{**doc.__dict__, "classes": (evil, *doc.classes[1:])})
    book = load_workbook(io.BytesIO(standard.render(doc, "xlsx").content))
    assert book.sheetnames == ["等级", "规则", "指标"]
    sheet = book["等级"]
    assert sheet.freeze_panes == "A3" and sheet["A2"].font.bold
    assert [c.value for c in sheet[2]] == ["级别", "等级", "定义", "定级标准", "运营策略", "客户数",
                                           "占比"]
    assert sheet["B3"].value == "'=HYPERLINK(\"http://x\")" and sheet["B3"].data_type == "s"
    assert sheet["D3"].value == "近12个月订单数不少于10 且 近12个月净消费额不少于¥10,000"
    assert sheet["B6"].value == "流失风险客户" and sheet["A6"].value == "状态"
    assert sheet["D3"].alignment.wrap_text and sheet.column_dimensions["D"].width == 48
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.max_row == 2 + len(doc.classes)
    policy = [r[0].value for r in book["规则"].iter_rows(min_row=3)]
    assert "版本" in policy and "手动调整" in policy
    assert book["指标"]["B3"].value == "orders_12m"


def test_xlsx_counts_are_numbers(months: Path) -> None:
    from openpyxl import load_workbook

    project = Project.open(months)
    runs.backfill(project, ["tier"], [date(2026, 6, 30)])
    store = runs.open_store(project)
    book = load_workbook(io.BytesIO(standard.render(
        standard.document(store, "tier"), "xlsx").content))
    sheet = book.worksheets[0]
    assert [sheet.cell(r, 6).value for r in (3, 4, 5)] == [1, 0, 4]  # as in the test above
    assert sheet.cell(5, 7).value == pytest.approx(0.8) and sheet.cell(5, 7).number_format == "0.0%"
    store.close()


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="needs fontconfig (scripts/test)")
def test_pdf_parses_back_with_the_chinese_class_names(shop: tuple[Project, Store]) -> None:
    from pypdf import PdfReader

    content = standard.render(_doc(shop, "value", "zh-Hans"), "pdf").content
    assert content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    for name in ("客户分级标准：客户价值分级", "高价值客户", "流失风险客户", "未分类", "等级调整规则"):
        assert name in text
    english = standard.render(_doc(shop, "rfm"), "pdf").content
    assert "Champions" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(english)).pages)


def test_pdf_font_missing_says_how_to_install_one(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no fc-list
    monkeypatch.delenv("TIERWISE_PDF_FONT", raising=False)
    with pytest.raises(standard_files.FontMissingError, match="apt-get install fonts-noto-cjk"):
        standard_files.pdf_font()
    monkeypatch.setenv("TIERWISE_PDF_FONT", "No Such Font")
    with pytest.raises(standard_files.FontMissingError, match="TIERWISE_PDF_FONT='No Such Font'"):
        standard_files.pdf_font()


def test_pdf_font_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    font = tmp_path / "mine.ttf"
    font.write_bytes(b"not really a font")
    monkeypatch.setenv("TIERWISE_PDF_FONT", str(font))
    assert standard_files.pdf_font() == (font, 0)


def test_unknown_format_is_refused(shop: tuple[Project, Store]) -> None:
    from tierwise.errors import SpecError

    with pytest.raises(SpecError, match="'docx' is not a document format; use one of md, html"):
        standard.render(_doc(shop, "value"), "docx")


def test_the_schemes_description_is_in_the_readers_language(shop: tuple[Project, Store]
                                                            ) -> None:
    assert _doc(shop, "value").description == (
        "The business's own value rules. The first matching tier wins, top to bottom.")
    assert _doc(shop, "value", "zh").description == "企业自定的价值规则。自上而下，命中的第一个等级生效。"
    assert _doc(shop, "value", "zh-Hant").description == (
        "企業自定的價值規則。自上而下，命中的第一個等級生效。")


def test_a_description_in_english_alone_is_kept_as_written() -> None:
    """Stored versions hold a plain description as a string: saving it again changes no text."""
    from pydantic import TypeAdapter

    from tierwise.services.versions import dump_scheme
    from tierwise.spec.models import SchemeSpec

    schemes: TypeAdapter[SchemeSpec] = TypeAdapter(SchemeSpec)
    plain = schemes.validate_python({"method": "rules", "fallback": "a", "tiers": [{"key": "a"}],
                                     "description": "Only English."})
    assert dump_scheme(plain)["description"] == "Only English."
    assert plain.description_text("zh") == "Only English."
    both = schemes.validate_python({"method": "rules", "fallback": "a", "tiers": [{"key": "a"}],
                                    "description": {"en": "E", "zh-CN": "中文"}})
    assert dump_scheme(both)["description"] == {"en": "E", "zh": "中文"}
    assert both.description_text("zh-Hant") == "中文"
