"""The classification standard as an Excel workbook and as a PDF.

The workbook has three sheets (classes, policy, indicators) with a styled, frozen header row,
sized and wrapped columns and a printable page setup; every text cell is neutralised against
spreadsheet formulas (:mod:`tierwise.services.sheets`). The PDF is drawn with fpdf2 (the
``server`` extra) in a font that has Chinese characters, found with fontconfig or named by the
``TIERWISE_PDF_FONT`` environment variable (a font file, or a font name fontconfig knows).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from io import BytesIO
from pathlib import Path
from typing import Any

from tierwise.errors import TierwiseError
from tierwise.i18n import _
from tierwise.reports.standard import Standard
from tierwise.reports.standard_text import (
    class_cells,
    class_headings,
    indicator_headings,
)
from tierwise.services.sheets import neutralise_text

#: Fonts preferred for the PDF, best first (fontconfig family names).
PREFERRED_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
                   "Noto Sans SC", "AR PL UMing CN")
_FONT_SUFFIXES = (".ttf", ".ttc", ".otf", ".otc")


class FontMissingError(TierwiseError):
    """No font with Chinese characters for the PDF."""


# ------------------------------------------------------------------------------------- Excel


def xlsx(doc: Standard) -> bytes:
    """The standard as an .xlsx workbook: Classes, Policy and Indicators sheets."""
    from openpyxl import Workbook

    book = Workbook()
    classes = book.active
    assert classes is not None
    classes.title = _("Classes")[:31]
    # Customers and share stay numbers in the workbook.
    rows: list[list[Any]] = [[*class_cells(c)[:5], c.customers, c.share] for c in doc.classes]
    _sheet(classes, doc.title, class_headings(), rows, widths=(8, 20, 34, 48, 40, 12, 9))
    for cells in classes.iter_rows(min_row=3, min_col=7, max_col=7):
        for cell in cells:
            cell.number_format = "0.0%"
    policy = book.create_sheet(_("Policy")[:31])
    _sheet(policy, doc.title, [_("Topic"), _("Rule")],
           [list(p) for p in (*doc.version_lines(), *doc.policy)], widths=(22, 90))
    listed = book.create_sheet(_("Indicators")[:31])
    _sheet(listed, doc.title, indicator_headings(),
           [[i.label, i.name, i.definition, i.unit] for i in doc.indicators],
           widths=(24, 20, 70, 10))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(sheet: Any, title: str, headings: list[str], rows: list[list[Any]], *,
           widths: tuple[int, ...]) -> None:
    """Fill ``sheet``: a title row, a styled frozen header, wrapped rows, print setup."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet.append([neutralise_text(title)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([neutralise_text(h) for h in headings])
    for cell in sheet[2]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E79")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in rows:
        sheet.append([neutralise_text(v) if isinstance(v, str) else v for v in row])
    for cells in sheet.iter_rows(min_row=3):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A3"
    sheet.print_title_rows = "2:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


# --------------------------------------------------------------------------------------- PDF


def pdf_font() -> tuple[Path, int]:
    """The font file (and index in a collection) the PDF is drawn in.

    ``TIERWISE_PDF_FONT`` names a font file or a fontconfig name; otherwise fontconfig's fonts
    with Chinese characters, :data:`PREFERRED_FONTS` first.

    Raises:
        FontMissingError: no such font (the message says how to install one).

    """
    chosen = os.environ.get("TIERWISE_PDF_FONT", "").strip()
    if chosen and Path(chosen).is_file():
        return Path(chosen), 0
    found = _fontconfig(chosen or None)
    if found is not None:
        return found
    if chosen:
        raise FontMissingError(_(
            "TIERWISE_PDF_FONT={font!r} is neither a font file nor a font fontconfig finds; "
            "give the path of a .ttf, .otf or .ttc file with Chinese characters").format(
                font=chosen))
    raise FontMissingError(_(
        "no font with Chinese characters was found for the PDF; install one with `sudo "
        "apt-get install fonts-noto-cjk` (or fonts-wqy-zenhei), or set TIERWISE_PDF_FONT to "
        "the path of a .ttf, .otf or .ttc font file"))


def _fontconfig(name: str | None) -> tuple[Path, int] | None:
    if shutil.which("fc-list") is None:
        return None
    pattern = f"{name}:lang=zh" if name else ":lang=zh"
    listed = subprocess.run(["fc-list", pattern, "-f", "%{file}|%{index}|%{family}\n"],
                            capture_output=True, text=True, timeout=30, check=False).stdout
    fonts = []
    for line in listed.splitlines():
        file, _sep, rest = line.partition("|")
        index, _sep, family = rest.partition("|")
        if file.lower().endswith(_FONT_SUFFIXES) and index.isdigit():
            rank = next((i for i, f in enumerate(PREFERRED_FONTS) if f in family),
                        len(PREFERRED_FONTS))
            fonts.append((rank, int(index), file))
    if not fonts:
        return None
    best = min(fonts)
    return Path(best[2]), best[1]


def pdf(doc: Standard) -> bytes:
    """The standard as a PDF (A4 landscape).

    Raises:
        TierwiseError: fpdf2 is not installed (the ``server`` extra), or no font is found.

    """
    try:
        from fpdf import FPDF
    except ImportError:
        raise TierwiseError(_("writing a PDF needs fpdf2: pip install 'tierwise[server]'"
                              )) from None
    font, index = pdf_font()
    out = FPDF(orientation="L", format="A4")
    out.set_auto_page_break(auto=True, margin=12)
    out.add_font("doc", fname=str(font), collection_font_number=index)
    out.set_title(doc.title)
    out.add_page()
    out.set_font("doc", size=16)
    out.multi_cell(0, 9, doc.title, new_x="LMARGIN", new_y="NEXT")
    out.set_font("doc", size=9)
    if doc.description:
        out.multi_cell(0, 5, doc.description, new_x="LMARGIN", new_y="NEXT")
    _pdf_section(out, _("Version"), [list(p) for p in doc.version_lines()], None, (60, 213))
    _pdf_section(out, _("How customers are classed"), [[line] for line in doc.method], None,
                 (273,))
    _pdf_section(out, _("Classes"), [class_cells(c) for c in doc.classes], class_headings(),
                 (14, 34, 50, 68, 63, 24, 20))
    _pdf_section(out, _("Review policy"), [list(p) for p in doc.policy], None, (60, 213))
    _pdf_section(out, _("Indicators"),
                 [[i.label, i.name, i.definition, i.unit] for i in doc.indicators],
                 indicator_headings(), (55, 45, 148, 25))
    # fontTools warns that it cannot subset a font's embedded bitmaps (wqy-zenhei): harmless.
    quiet = logging.getLogger("fontTools.subset")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        return bytes(out.output())
    finally:
        quiet.setLevel(level)


def _pdf_section(out: Any, title: str, rows: list[list[str]], headings: list[str] | None,
                 widths: tuple[int, ...]) -> None:
    from fpdf.enums import WrapMode
    from fpdf.fonts import FontFace

    out.ln(3)
    out.set_font("doc", size=12)
    out.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    out.set_font("doc", size=8.5)
    header = FontFace(emphasis="NONE", fill_color=(233, 236, 239))
    with out.table(col_widths=widths, text_align="LEFT", v_align="TOP",
                   first_row_as_headings=headings is not None, headings_style=header,
                   wrapmode=WrapMode.CHAR, line_height=4.6, padding=1) as table:
        for row in ([headings] if headings else []) + rows:
            cells = table.row()
            for text in row:
                cells.cell(text)


__all__ = ["FontMissingError", "pdf", "pdf_font", "xlsx"]
