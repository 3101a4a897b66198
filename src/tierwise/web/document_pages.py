"""The classification standard in the dashboard: read it, pick a version, download it.

``/schemes/{name}/document`` shows a version's standard (default: the active one) in the user's
language, with links to download it as Excel, PDF, Markdown or a printable page;
``/schemes/{name}/document/file`` serves those files. Anyone who may read schemes may read and
download it (auditors included).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tierwise.errors import SpecError, TierwiseError
from tierwise.http.clients import project_of, store_of
from tierwise.i18n import _
from tierwise.reports.standard_text import (
    class_cells,
    class_headings,
    content_security_policy,
    indicator_headings,
)
from tierwise.services import access, catalog, standard
from tierwise.web.pages import error_page, refusal, render
from tierwise.web.session import Page

router = APIRouter(include_in_schema=False)


def _version(request: Request) -> int | None:
    """The ``version`` asked for; a located error when it is not a whole number."""
    text = request.query_params.get("version", "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise SpecError(_("version {text!r} is not a version number; give a whole number such "
                          "as 1").format(text=text[:40]))
    return int(text)


@router.get("/schemes/{name}/document")
def document_page(name: str, request: Request, who: Page) -> Response:
    """The standard of a version of scheme ``name``, with download links."""
    if (refused := refusal(request, who, access.READ)) is not None:
        return refused
    try:
        doc = standard.document(store_of(request), name, version=_version(request),
                                project=project_of(request))
        found, _active = catalog.versions(store_of(request), name)
    except TierwiseError as exc:
        return error_page(request, exc, user=who.user, csrf=who.csrf)
    return render(request, "document.html", user=who.user, csrf=who.csrf, doc=doc,
                  scheme=name, versions=[v.number for v in found],
                  classes=[class_cells(c) for c in doc.classes], class_headings=class_headings(),
                  indicator_headings=indicator_headings(), formats=_formats())


def _formats() -> list[tuple[str, str]]:
    return [("xlsx", _("Excel")), ("pdf", _("PDF")), ("md", _("Markdown")),
            ("html", _("Printable page"))]


@router.get("/schemes/{name}/document/file")
def document_file(name: str, request: Request, who: Page) -> Response:
    """The standard as a file: ``format`` xlsx, pdf, md or html; ``version`` (default active)."""
    if (refused := refusal(request, who, access.READ)) is not None:
        return refused
    try:
        fmt = request.query_params.get("format", "xlsx")
        if fmt not in standard.FORMATS:
            raise SpecError(_("format {fmt!r} is not a document format; use one of "
                              "{formats}").format(fmt=fmt[:20],
                                                  formats=_(", ").join(standard.FORMATS)))
        doc = standard.document(store_of(request), name, version=_version(request),
                                project=project_of(request))
        rendered = standard.render(doc, fmt)
    except TierwiseError as exc:
        return error_page(request, exc, user=who.user, csrf=who.csrf)
    headers = {"Content-Disposition": f'attachment; filename="{rendered.filename}"'}
    if fmt == "html":
        # Opened in the browser: its own print styles may apply, nothing else.
        headers = {"Content-Disposition": f'inline; filename="{rendered.filename}"',
                   "Content-Security-Policy": content_security_policy()}
    return Response(rendered.content, media_type=rendered.media_type, headers=headers)
