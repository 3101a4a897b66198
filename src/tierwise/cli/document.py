"""``tierwise scheme document``: a scheme version's classification standard as a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tierwise.cli.common import console, open_project, reported, store_of
from tierwise.cli.options import ProjectOpt
from tierwise.cli.store_commands import scheme_app
from tierwise.errors import SpecError
from tierwise.i18n import _


@scheme_app.command("document")
def scheme_document(
    name: Annotated[str, typer.Argument(help="the scheme")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, html, xlsx or pdf")] = "md",
    version: Annotated[int | None, typer.Option(
        "--version", help="the version (default: the active one)")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="file to write (default: <scheme>-v<version>-standard.<format>; "
                            "md and html print when --out is -)")] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Write the classification standard of a scheme version (classes, criteria, policy)."""
    from tierwise.services import standard

    with reported():
        if fmt not in standard.FORMATS:
            raise SpecError(_("--format {fmt!r} is not a document format; use one of "
                              "{formats}").format(fmt=fmt, formats=_(", ").join(standard.FORMATS)))
        opened = open_project(project)
        doc = standard.document(store_of(opened), name, version=version, project=opened)
        rendered = standard.render(doc, fmt)
        if out is not None and str(out) == "-" and fmt in ("md", "html"):
            typer.echo(rendered.content.decode("utf-8"), nl=False)
            return
        target = out or Path(rendered.filename)
        target.write_bytes(rendered.content)
    console.print(_("{scheme} version {version}: standard written to {file}").format(
        scheme=name, version=doc.facts.number, file=str(target)))


__all__ = ["scheme_document"]
