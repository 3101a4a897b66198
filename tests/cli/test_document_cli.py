"""``tierwise scheme document``: files, languages, exit codes and messages."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.cli.running import invoke, months_project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = months_project(tmp_path, monkeypatch)
    assert invoke("scheme", "save", "steady", "-p", folder).exit_code == 0
    return folder


def test_writes_each_format(project: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "standard.xlsx"
    done = invoke("scheme", "document", "steady", "--format", "xlsx", "--out", out, "-p", project)
    assert done.exit_code == 0, done.output
    assert f"steady version 1: standard written to {out}" in " ".join(done.output.split())
    sheet = load_workbook(io.BytesIO(out.read_bytes())).worksheets[0]
    assert [sheet.cell(r, 2).value for r in (3, 4, 5)] == ["gold", "silver", "bronze"]
    printed = invoke("scheme", "document", "steady", "--out", "-", "-p", project)
    assert printed.exit_code == 0
    assert printed.output.startswith("# Customer classification standard: steady\n")
    assert "A downgrade takes effect after 2 runs in a row below the held class" in printed.output


def test_chinese_and_default_file_name(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    done = invoke("scheme", "document", "steady", "-f", "html", "--lang", "zh")
    assert done.exit_code == 0, done.output
    assert "steady 版本 1：分级标准已写入 steady-v1-standard.html" in done.output
    page = (project / "steady-v1-standard.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "客户分级标准：steady" in page
    assert "orders_3m不少于3" in page  # no label declared: the indicator's name


def test_bad_version_and_format_exit_codes(project: Path) -> None:
    missing = invoke("scheme", "document", "steady", "--version", "9", "-p", project)
    assert missing.exit_code == 1
    assert "scheme 'steady' has no version 9; versions: 1" in " ".join(missing.output.split())
    wrong = invoke("scheme", "document", "steady", "--format", "docx", "-p", project)
    assert wrong.exit_code == 2
    assert "--format 'docx' is not a document format; use one of md, html, xlsx, pdf" in \
        " ".join(wrong.output.split())
    unknown = invoke("scheme", "document", "nothing", "-p", project)
    assert unknown.exit_code == 1 and "scheme 'nothing' is not in the store yet" in unknown.output
