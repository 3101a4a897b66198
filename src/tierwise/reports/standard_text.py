"""The classification standard as Markdown and as a standalone, printable HTML page.

Both take a :class:`~tierwise.reports.standard.Standard` worded in one language and lay out the
same sections: version, method, classes, review policy, indicators. The column headings are
worded in the language current when they are rendered (the document's own).
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from tierwise import i18n
from tierwise.i18n import _
from tierwise.reports.standard import ClassEntry, Standard


def class_headings() -> list[str]:
    """The headings of the classes table, in the current language."""
    return [_("Rank"), _("Class"), _("Definition"), _("Criteria"), _("Strategy"),
            _("Number of customers"), _("Share")]


def class_cells(entry: ClassEntry) -> list[str]:
    """One class as the table cells under :func:`class_headings`."""
    return [str(entry.rank) if entry.rank else _("status"), entry.label,
            entry.definition or "", entry.criteria or "", entry.strategy or "",
            i18n.number(entry.customers) if entry.customers is not None else "",
            i18n.percent(entry.share) if entry.share is not None else ""]


def indicator_headings() -> list[str]:
    """The headings of the indicators table, in the current language."""
    return [_("Indicator"), _("Indicator name"), _("Definition"), _("Unit")]


def _md_cell(text: str) -> str:
    return escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _md_table(headings: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md_cell(h) for h in headings) + " |",
             "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines


def markdown(doc: Standard) -> str:
    """The standard as Markdown (tables escape ``|`` and HTML in user texts)."""
    out = [f"# {_md_cell(doc.title)}", ""]
    if doc.description:
        out += [_md_cell(doc.description), ""]
    out += [f"## {_('Version')}", ""]
    out += [f"- **{_md_cell(k)}**: {_md_cell(v)}" for k, v in doc.version_lines()]
    out += ["", f"## {_('How customers are classed')}", ""]
    out += [f"- {_md_cell(line)}" for line in doc.method]
    out += ["", f"## {_('Classes')}", ""]
    out += _md_table(class_headings(), [class_cells(c) for c in doc.classes])
    out += ["", f"## {_('Review policy')}", ""]
    out += [f"- **{_md_cell(topic)}**: {_md_cell(text)}" for topic, text in doc.policy]
    out += ["", f"## {_('Indicators')}", ""]
    out += _md_table(indicator_headings(),
                     [[i.label, i.name, i.definition, i.unit] for i in doc.indicators])
    return "\n".join(out) + "\n"


_CSS = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", "PingFang SC", "Microsoft YaHei",
       system-ui, sans-serif; color: #212529; margin: 2rem; line-height: 1.5; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
h2 { font-size: 1.2rem; margin-top: 1.75rem; border-bottom: 1px solid #adb5bd; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border: 1px solid #adb5bd; padding: .35rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #e9ecef; }
td.num { text-align: right; white-space: nowrap; }
tr.status td:first-child { font-style: italic; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { font-weight: 600; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; font-size: 10pt; }
  thead { display: table-header-group; }
  tr, li { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"""


def content_security_policy() -> str:
    """The CSP a served printable page needs: its own inline style (by hash), nothing else."""
    digest = base64.b64encode(hashlib.sha256(_CSS.encode("utf-8")).digest()).decode("ascii")
    return (f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'self' data:; "
            "frame-ancestors 'none'; form-action 'none'; base-uri 'none'")


def _html_table(headings: list[str], rows: list[list[str]], *, numeric: tuple[int, ...] = (),
                row_classes: list[str] | None = None) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headings)
    body = []
    for i, row in enumerate(rows):
        cells = "".join(
            f'<td class="num">{escape(c)}</td>' if j in numeric else f"<td>{escape(c)}</td>"
            for j, c in enumerate(row))
        css = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{css}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def html_body(doc: Standard) -> str:
    """The standard's sections as an HTML fragment (the dashboard embeds it)."""
    parts = [f"<h1>{escape(doc.title)}</h1>"]
    if doc.description:
        parts.append(f"<p>{escape(doc.description)}</p>")
    parts.append(f"<h2>{escape(_('Version'))}</h2><dl>" + "".join(
        f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in doc.version_lines()) + "</dl>")
    parts.append(f"<h2>{escape(_('How customers are classed'))}</h2><ul>"
                 + "".join(f"<li>{escape(line)}</li>" for line in doc.method) + "</ul>")
    parts.append(f"<h2>{escape(_('Classes'))}</h2>" + _html_table(
        class_headings(), [class_cells(c) for c in doc.classes], numeric=(5, 6),
        row_classes=["status" if c.status else "" for c in doc.classes]))
    parts.append(f"<h2>{escape(_('Review policy'))}</h2><dl>" + "".join(
        f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in doc.policy) + "</dl>")
    parts.append(f"<h2>{escape(_('Indicators'))}</h2>" + _html_table(
        indicator_headings(), [[i.label, i.name, i.definition, i.unit] for i in doc.indicators]))
    return "\n".join(parts)


def html(doc: Standard) -> str:
    """The standard as a standalone HTML page with print styles (no script, no external file)."""
    lang = {"zh-Hans": "zh-CN", "zh-Hant": "zh-TW"}.get(doc.lang, doc.lang)
    return (f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(doc.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"{html_body(doc)}\n</body>\n</html>\n")


__all__ = ["class_cells", "class_headings", "content_security_policy", "html", "html_body", "indicator_headings",
           "markdown"]
