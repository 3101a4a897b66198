"""Text encodings of CSV files: GBK exports, Excel's UTF-8 with BOM, and files that are neither."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sources.shop import CUSTOMERS, YAML, run_fails, shop, tiers
from tierwise.errors import DataError
from tierwise.services.grading import Project, check, run

# A Chinese export: Chinese header for the name column, Chinese names; the scheme picks one name,
# so a name decoded wrongly changes the grades.
CHINESE = """
customer_id,姓名,signup_date
c1,张三,2024-01-15
c2,李四,2024-03-02
c3,王五,2025-07-09
"""
NAMED_YAML = (
    YAML.replace("name: {type: string}", "name: {type: string, from: 姓名}")
    .replace("indicators:", "indicators:\n  name: {attribute: name}")
    .replace('- {key: high, when: "spend_12m >= 100"}', "- {key: high, when: \"name == '李四'\"}")
)
NAMED_GRADES = {"c1": "mid", "c2": "high", "c3": "other"}  # c2 is 李四; c1 has 2 sales


def test_gbk_file_is_detected_and_names_come_out_right(tmp_path: Path) -> None:
    folder = shop(tmp_path, yaml=NAMED_YAML, customers=None)
    (folder / "customers.csv").write_bytes(CHINESE.lstrip().encode("gbk"))
    with pytest.raises(UnicodeDecodeError):
        (folder / "customers.csv").read_text("utf-8")  # the test file really is not UTF-8
    result = run(Project.open(folder), "value")
    assert tiers(result) == NAMED_GRADES
    assert result.quality.encodings == {"customers": "gb18030", "transactions": "utf-8"}


def test_explicit_gbk_encoding(tmp_path: Path) -> None:
    yaml = NAMED_YAML.replace("path: customers.csv", "path: customers.csv\n    encoding: gbk")
    folder = shop(tmp_path, yaml=yaml, customers=None)
    (folder / "customers.csv").write_bytes(CHINESE.lstrip().encode("gbk"))
    result = run(Project.open(folder), "value")
    assert tiers(result) == NAMED_GRADES
    assert result.quality.encodings["customers"] == "gbk"


@pytest.mark.parametrize("declared", [None, "utf-8"], ids=["auto", "declared-utf-8"])
def test_utf8_with_bom_does_not_corrupt_the_first_column_name(
    tmp_path: Path, declared: str | None
) -> None:
    yaml = NAMED_YAML
    if declared:
        yaml = yaml.replace("path: customers.csv", f"path: customers.csv\n    encoding: {declared}")
    folder = shop(tmp_path, yaml=yaml, customers=None)
    # customer_id is the first column: with the BOM left on it, it would not be found.
    (folder / "customers.csv").write_bytes(b"\xef\xbb\xbf" + CHINESE.lstrip().encode("utf-8"))
    result = run(Project.open(folder), "value")
    assert tiers(result) == NAMED_GRADES
    assert result.quality.encodings["customers"] == "utf-8-sig"


def test_file_neither_utf8_nor_gbk_says_to_set_encoding(tmp_path: Path) -> None:
    folder = shop(tmp_path, customers=None)
    # "Zoë" in latin-1: 0xEB followed by "," is invalid in UTF-8 and in GBK alike.
    (folder / "customers.csv").write_bytes(
        CUSTOMERS.lstrip().replace("Ann", "Zoë").encode("latin-1")
    )
    error = run_fails(folder)
    assert str(error) == (
        "customers.csv line 2: the text is neither UTF-8 nor GBK (bytes b'\\xeb,20' at offset "
        "34); set `encoding:` on the source to the file's encoding (e.g. latin-1, big5) or "
        "re-save the file as UTF-8"
    )
    with pytest.raises(DataError, match="set `encoding:`"):
        check(Project.open(folder))  # not a row problem: check() raises too


def test_random_bytes_say_to_set_encoding(tmp_path: Path) -> None:
    folder = shop(tmp_path, customers=None)
    (folder / "customers.csv").write_bytes(bytes(range(128, 256)) * 4)
    error = run_fails(folder)
    assert "customers.csv line 1: the text is neither UTF-8 nor GBK" in str(error)


def test_latin1_file_reads_with_its_declared_encoding(tmp_path: Path) -> None:
    yaml = (
        NAMED_YAML.replace("path: customers.csv", "path: customers.csv\n    encoding: latin-1")
        .replace(", from: 姓名", "")
        .replace("'李四'", "'Zoë'")
    )
    folder = shop(tmp_path, yaml=yaml, customers=None)
    latin = CUSTOMERS.lstrip().replace("Bob", "Zoë")
    (folder / "customers.csv").write_bytes(latin.encode("latin-1"))
    assert tiers(run(Project.open(folder), "value")) == NAMED_GRADES  # c2 is Zoë


def test_unknown_encoding_name(tmp_path: Path) -> None:
    yaml = YAML.replace("path: customers.csv", "path: customers.csv\n    encoding: gbk2")
    error = run_fails(shop(tmp_path, yaml=yaml))
    assert str(error) == (
        "customers.csv: unknown encoding 'gbk2'; use utf-8, utf-8-sig, gbk, gb18030 or another "
        "Python codec name"
    )
