"""Exports neutralise spreadsheet formulas in every text cell; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.sources.shop import YAML, shop
from tierwise.services import exports, runs
from tierwise.services.grading import Project, run
from tierwise.services.sheets import FORMULA_STARTS, neutralise, write_xlsx

EVIL = '=HYPERLINK("http://evil.example/","x")'
# Customer ids and a tier label from the user's data and spec; "-2" has only a refund, so the
# scheme's value (spend_12m) is -10 for it: a negative number, which must stay a number.
CUSTOMERS = f'''customer_id,name,signup_date
"{EVIL.replace('"', '""')}",Ann,2024-01-15
-2,Bob,2024-03-02
@c3,Cy,2025-07-09
'''
ORDERS = f'''order_id,customer_id,order_date,amount,kind
o1,"{EVIL.replace('"', '""')}",2026-01-05,150.00,sale
o4,-2,2026-02-20,-10.00,refund
o5,@c3,2025-03-01,500.00,sale
'''
SPEC = YAML.replace("    method: rules\n", "    method: rules\n    value: spend_12m\n").replace(
    "{key: high, when", '{key: high, label: {en: "=1+2", zh: "+高价值"}, when')


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project.open(shop(tmp_path, yaml=SPEC, customers=CUSTOMERS, orders=ORDERS))


def _check_csv(text: str, *, keys: bool = True) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS) and c != "-10"]
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert set(by_id) == {"'" + EVIL, "'-2", "'@c3"}
    if keys:
        assert by_id["'" + EVIL]["tier_label_en"] == "'=1+2"
        assert by_id["'" + EVIL]["tier_label_zh"] == "'+高价值"
        # The value column is numeric: written bare, the negative one too.
        assert '\n"\'-2","other","other","other",3,,-10,' in text.replace("\r\n", "\n")
    else:  # for people: one label column, in the reader's language
        assert rows[0][:3] == ["customer id", "tier", "tier label"]
        assert by_id["'" + EVIL]["tier label"] == "'=1+2"
        assert by_id["'-2"]["value"] == "-10"


def _check_xlsx(data: bytes | Path, *, keys: bool = True) -> None:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    rows = list(book.active.iter_rows())
    header = [c.value for c in rows[0]]
    cells = [c for row in rows for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a cell is a formula"
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith(FORMULA_STARTS)]
    by_id = {row[0].value: {h: c for h, c in zip(header, row, strict=True)} for row in rows[1:]}
    evil = by_id["'" + EVIL]
    customer, label, rank = (("customer_id", "tier_label_en", "tier_rank") if keys
                             else ("customer id", "tier label", "tier rank"))
    assert evil[customer].data_type == "s"
    assert evil[label].value == "'=1+2" and evil[label].data_type == "s"
    assert by_id["'-2"]["value"].value == -10 and by_id["'-2"]["value"].data_type == "n"
    assert by_id["'@c3"][rank].value == 3


def test_run_exports_neutralise_formulas(project: Project) -> None:
    result = run(project, "value", export=["csv", "xlsx"])
    _check_csv((result.folder / "grades.csv").read_text(encoding="utf-8-sig"), keys=False)
    _check_xlsx(result.folder / "grades.xlsx", keys=False)


def test_exports_of_a_recorded_run_neutralise_formulas(project: Project) -> None:
    outcome = runs.run(project, ["value"])[0]
    store = runs.open_store(project)
    try:
        _check_csv(exports.export_run(store, outcome.run.id, fmt="csv").decode("utf-8-sig"),
                   keys=False)
        _check_xlsx(exports.export_run(store, outcome.run.id, fmt="xlsx"), keys=False)
        keyed = exports.export_run(store, outcome.run.id, fmt="csv", columns="keys")
        _check_csv(keyed.decode("utf-8-sig"))
        _check_xlsx(exports.export_run(store, outcome.run.id, fmt="xlsx", columns="keys"))
    finally:
        store.close()


def test_neutralise_quotes_every_formula_start_in_text_columns_only() -> None:
    starts = ["=1", "+1", "-1", "@a", "\tx", "\rx"]
    table = pa.table({
        "text": pa.array([*starts, "plain", "a=b", None], pa.string()),
        "large": pa.array([*starts, "plain", "a=b", None], pa.large_string()),
        "coded": pa.array([*starts, "plain", "a=b", None]).dictionary_encode(),
        "number": pa.array([-1.5, 2, -3, 4, 5, 6, -7, 8, None], pa.float64()),
        "=header": pa.array([1] * 9, pa.int64()),
    })
    out = neutralise(table)
    expected: list[Any] = ["'" + s for s in starts] + ["plain", "a=b", None]
    assert out["text"].to_pylist() == expected
    assert out["large"].to_pylist() == expected
    assert out["coded"].to_pylist() == expected
    assert out["number"].to_pylist() == table["number"].to_pylist()
    assert out["number"].type == pa.float64()
    assert out.column_names[-1] == "'=header"


def test_xlsx_replaces_characters_excel_cannot_hold(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    table = pa.table({"customer_id": ["a\x01b", "=x\x00"]})
    write_xlsx(table, tmp_path / "out.xlsx", "value")
    sheet = load_workbook(tmp_path / "out.xlsx").active
    assert [c.value for c in sheet["A"]] == ["customer_id", "a\ufffdb", "'=x\ufffd"]
