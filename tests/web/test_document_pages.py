"""The classification standard in the dashboard and the REST API: access, files, languages."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.clients import ROLES, dashboard, login
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.store import users as store_users


@pytest.fixture
def client(months: Path) -> Iterator[TestClient]:
    yaml = months / "tierwise.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace(
        "label: Gold", "label: {en: Gold, zh: 金卡}"), encoding="utf-8")
    project = Project.open(months)
    runs.backfill(project, ["tier"], [date(2026, 6, 30)])
    with dashboard(months, ROLES) as test_client:
        yield test_client


def test_auditor_reads_the_page_and_downloads_every_format(client: TestClient) -> None:
    from openpyxl import load_workbook

    login(client, "aud")
    page = client.get("/schemes/tier/document")
    assert page.status_code == 200
    text = page.text
    assert "Customer classification standard: tier" in text
    assert "orders_3m at least 3" in text and "Gold" in text
    for fmt in ("xlsx", "pdf", "md", "html"):
        assert f"/schemes/tier/document/file?format={fmt}&amp;version=1" in text
    sheet = client.get("/schemes/tier/document/file?format=xlsx&version=1")
    assert sheet.status_code == 200 and "tier-v1-standard.xlsx" in \
        sheet.headers["content-disposition"]
    rows = load_workbook(io.BytesIO(sheet.content)).worksheets[0]
    # As of 2026-06-30 only C1 has three orders in April to June: 1 gold, 4 bronze.
    assert [rows.cell(r, 6).value for r in (3, 4, 5)] == [1, 0, 4]
    printable = client.get("/schemes/tier/document/file?format=html")
    style = re.search(r"<style>(.*?)</style>", printable.text, re.S)
    assert style and "@media print" in style.group(1)
    # Its own inline style may apply (by hash), nothing else: no script, no other origin.
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    policy = printable.headers["content-security-policy"]
    assert f"style-src 'sha256-{digest}'" in policy and policy.startswith("default-src 'none'")
    md = client.get("/schemes/tier/document/file?format=md")
    assert md.headers["content-type"].startswith("text/markdown")
    assert "| 1 | Gold |" in md.text


def test_scheme_page_links_to_the_standard(client: TestClient) -> None:
    login(client, "sam")
    assert 'href="/schemes/tier/document"' in client.get("/schemes/tier").text


def test_chinese_page_and_bad_input(client: TestClient) -> None:
    login(client, "sam")
    page = client.get("/schemes/tier/document?lang=zh-Hans")
    assert page.status_code == 200 and "客户分级标准：tier" in page.text and "金卡" in page.text
    assert "下载 Excel" in page.text
    bad = client.get("/schemes/tier/document?version=abc")
    assert bad.status_code == 422 and "abc" in bad.text
    missing = client.get("/schemes/tier/document/file?format=md&version=7")
    assert missing.status_code == 404 and "没有版本 7" in missing.text  # the picked language stays
    wrong = client.get("/schemes/tier/document/file?format=exe")
    assert wrong.status_code == 422


def test_login_required(client: TestClient) -> None:
    assert client.get("/schemes/tier/document").status_code in (302, 303, 401)
    assert client.get("/api/v1/schemes/tier/document").status_code == 401


def test_api_document(client: TestClient) -> None:
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.begin() as conn:
        _, secret = store_users.new_token(conn, "aud", "test", actor="setup")
    auth = {"Authorization": f"Bearer {secret}"}
    md = client.get("/api/v1/schemes/tier/document?format=md&version=1", headers=auth)
    assert md.status_code == 200 and md.text.startswith("# Customer classification standard")
    zh = client.get("/api/v1/schemes/tier/document?format=html",
                    headers={**auth, "Accept-Language": "zh-CN"})
    assert "客户分级标准：tier" in zh.text and zh.headers["content-type"].startswith("text/html")
    pdf = client.get("/api/v1/schemes/tier/document?format=pdf", headers=auth)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    missing = client.get("/api/v1/schemes/tier/document?version=5", headers=auth)
    assert missing.status_code == 404 and "has no version 5" in missing.json()["message"]
    assert client.get("/api/v1/schemes/tier/document?format=exe", headers=auth).status_code \
        == 422
