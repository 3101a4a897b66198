"""The classification standard of a stored scheme version, in every format people download.

:func:`document` reads version N of a scheme (default: the active one) from the store, with its
activations and the per-class counts of the latest official run graded with it, and worded in
the current language (:mod:`tierwise.reports.standard`); :func:`render` lays it out as Markdown,
printable HTML, Excel or PDF. The CLI (``tierwise scheme document``), the API and the dashboard
all come through here.
"""

from __future__ import annotations

from dataclasses import dataclass

from tierwise.errors import NotFoundError, SpecError
from tierwise.i18n import _, label_of, use
from tierwise.reports import standard, standard_text
from tierwise.services import standard_build, standard_files
from tierwise.services import versions as version_service
from tierwise.services.grading import Project
from tierwise.spec.names import check_scheme_name
from tierwise.store import Store
from tierwise.store.schemes import Version

#: The formats of :func:`render`.
FORMATS = ("md", "html", "xlsx", "pdf")
#: The media type of each format.
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class Rendered:
    """A rendered standard: its bytes, media type and a file name to save it under."""

    content: bytes
    media_type: str
    filename: str


def document(store: Store, name: str, *, version: int | None = None,
             project: Project | None = None) -> standard.Standard:
    """The standard of version ``version`` of scheme ``name`` (default: the active version).

    ``project``, when given, names the sources by their labels.

    Raises:
        SpecError: ``name`` breaks the scheme-name rule.
        NotFoundError: the scheme or the version is not in the store, or no version is active
            and none was named (the message lists the versions).

    """
    check_scheme_name(name)
    with store.read() as tx:
        active = tx.schemes.active_version(name)
        found = _pick(tx.schemes.versions(name), active, name, version)
        mine = [a for a in tx.schemes.activation_list(name) if a.version == found.number]
        runs = [r for r in tx.runs.history_runs(name) if r.version_id == found.id]
        counts = ({c.tier: c.customers for c in tx.runs.tier_counts(runs[-1].id)}
                  if runs else None)
    facts = standard.VersionFacts(
        number=found.number, saved_by=found.created_by, saved_at=found.created_at,
        active=active is not None and active.id == found.id,
        go_live=mine[-1].effective_from if mine else None,
        activated_by=mine[-1].created_by if mine else None,
        run_as_of=runs[-1].as_of if runs else None, counts=counts)
    sources = ({n: label_of(s.label, n) for n, s in project.spec.sources.items()}
               if project is not None else {})
    return standard_build.build(name, version_service.scheme_of(found),
                          version_service.indicators_of(found), facts=facts, sources=sources)


def _pick(versions: list[Version], active: Version | None, name: str,
          number: int | None) -> Version:
    known = _(", ").join(str(v.number) for v in versions)
    if number is None:
        if active is None:
            raise NotFoundError(_("scheme {name!r} has no active version; name one with "
                                  "--version (versions: {known})").format(name=name,
                                                                          known=known))
        return active
    for v in versions:
        if v.number == number:
            return v
    raise NotFoundError(_("scheme {name!r} has no version {number}; versions: {known}").format(
        name=name, number=number, known=known))


def render(doc: standard.Standard, fmt: str) -> Rendered:
    """``doc`` as ``fmt`` (one of :data:`FORMATS`).

    Raises:
        SpecError: an unknown format.
        TierwiseError: PDF without fpdf2 installed, or without a font for the language.

    """
    with use(doc.lang):  # headings in the document's language, whatever the caller speaks
        return _render(doc, fmt)


def _render(doc: standard.Standard, fmt: str) -> Rendered:
    if fmt == "md":
        content = standard_text.markdown(doc).encode("utf-8")
    elif fmt == "html":
        content = standard_text.html(doc).encode("utf-8")
    elif fmt == "xlsx":
        content = standard_files.xlsx(doc)
    elif fmt == "pdf":
        content = standard_files.pdf(doc)
    else:
        raise SpecError(_("format {fmt!r} is not a document format; use one of {formats}").format(
            fmt=fmt, formats=_(", ").join(FORMATS)))
    return Rendered(content, MEDIA_TYPES[fmt], f"{doc.scheme}-v{doc.facts.number}-standard.{fmt}")


__all__ = ["FORMATS", "MEDIA_TYPES", "Rendered", "document", "render"]
