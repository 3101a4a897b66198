"""CSV and Excel files for people, with spreadsheet formulas neutralised.

Customer ids, names, tier labels and reasons come from the user's data and specs. A text cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel, LibreOffice
and Google Sheets as a formula (``=HYPERLINK("http://evil.example/","x")`` becomes a live link,
``=cmd|...`` could start a program). Following the OWASP rule for CSV injection, every such text
cell gets a single quote in front (``'=HYPERLINK(...)``), so it shows as the text it is; to get
the raw value back, strip one leading quote from cells that start with a quote followed by one of
those characters. Numbers stay numbers (a negative amount is a number, not text), and so do dates.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise.errors import DataError
from tierwise.i18n import _

if TYPE_CHECKING:
    import pyarrow as pa

#: First characters that make a spreadsheet read a text cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Put in front of such a cell so it reads as text.
QUOTE = "'"
#: Rows of one Excel sheet, without the header row.
EXCEL_ROWS = 1_048_575


def neutralise_text(value: str) -> str:
    """``value`` with a single quote in front when a spreadsheet would read it as a formula."""
    return QUOTE + value if value.startswith(FORMULA_STARTS) else value


def neutralise(table: pa.Table) -> pa.Table:
    """``table`` with every text cell that would start a formula quoted (see the module doc).

    Only text columns change (string, large string, and dictionaries of them); numeric, date
    and boolean columns are kept as they are, so their cells stay numbers and dates.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_dictionary(kind):
            column = column.cast(kind.value_type)
            kind = kind.value_type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            starts = None
            for char in FORMULA_STARTS:
                hit = pc.starts_with(column, pattern=char)
                starts = hit if starts is None else pc.or_(starts, hit)
            quoted = pc.binary_join_element_wise(pa.scalar(QUOTE, kind), column,
                                                 pa.scalar("", kind))
            column = pc.if_else(pc.fill_null(starts, False), quoted, column)
        columns.append(column)
    names = [neutralise_text(name) for name in table.column_names]
    return pa.table(columns, names=names)


def write_csv(table: pa.Table, path: Path) -> None:
    """Write ``table`` as UTF-8 CSV with a byte-order mark, formulas neutralised.

    The byte-order mark makes Excel open Chinese labels correctly.
    """
    import pyarrow.csv as pacsv

    with path.open("wb") as handle:
        handle.write(b"\xef\xbb\xbf")
        pacsv.write_csv(neutralise(table), handle)


def sheet_bytes(table: pa.Table, fmt: str, sheet_name: str) -> bytes:
    """``table`` as the bytes of a CSV file (``fmt="csv"``) or an Excel file (``"xlsx"``)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tierwise-sheet-") as tmp:
        path = Path(tmp) / f"sheet.{fmt}"
        if fmt == "csv":
            write_csv(table, path)
        else:
            write_xlsx(table, path, sheet_name)
        return path.read_bytes()


def write_xlsx(table: pa.Table, path: Path, sheet_name: str) -> None:
    """Write ``table`` as one Excel sheet, formulas neutralised and every text cell a string.

    Characters Excel files cannot hold (control characters other than tab, newline and carriage
    return) are replaced by U+FFFD, so one odd customer id does not fail the whole export.

    Raises:
        DataError: the table has more rows than an Excel sheet holds.

    """
    import pyarrow as pa
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if table.num_rows > EXCEL_ROWS:
        raise DataError(
            _("{rows} rows do not fit in one Excel sheet ({most} max); export csv instead").format(
                rows=table.num_rows, most=f"{EXCEL_ROWS:,}")
        )
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name[:31])

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        if not text.startswith((QUOTE, "=")):
            return text  # openpyxl types other text as a string
        # A neutralised cell gets its type set, not only its value: openpyxl makes text that
        # starts with "=" a formula, and this keeps the cell a string whatever it holds.
        out = WriteOnlyCell(sheet, value=text)
        out.data_type = "s"
        return out

    safe = neutralise(table)
    sheet.append([cell(name) for name in safe.column_names])
    text = [i for i, f in enumerate(safe.schema)
            if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    for batch in safe.to_batches(50_000):
        columns = [col.to_pylist() for col in batch.columns]
        for row in zip(*columns, strict=True):
            values = list(row)
            for i in text:
                values[i] = cell(values[i])
            sheet.append(values)
    book.save(path)
