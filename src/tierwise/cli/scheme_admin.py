"""``tierwise scheme new|show|rename|retire|restore|delete|templates``: schemes kept in the store.

The same work as the dashboard's scheme list (:mod:`tierwise.services.scheme_admin`): a scheme
made here lives in the store only, version 1 active at once, and ``tierwise run NAME`` grades it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tierwise.cli.common import acting, console, err, open_project, reported, store_of
from tierwise.cli.options import ProjectOpt
from tierwise.cli.store_commands import scheme_app
from tierwise.i18n import _

NameArg = Annotated[str, typer.Argument(help="the scheme's key")]
TitleOpt = Annotated[str | None, typer.Option(help="what people see (the key never changes)")]


@scheme_app.command("templates")
def scheme_templates(project: ProjectOpt = Path(".")) -> None:
    """The templates `scheme new --template` takes, and the indicators each one still needs."""
    from tierwise.services import scheme_admin

    with reported():
        fits = scheme_admin.fits(open_project(project))
    table = Table(_("template"), _("method"), _("title"), _("missing indicators"))
    for fit in fits:
        table.add_row(fit.template.key, fit.template.method(),
                      fit.template.title_text(), _(", ").join(fit.missing) or "-")
    console.print(table)


@scheme_app.command("new")
def scheme_new(
    name: NameArg,
    template: Annotated[str, typer.Option(help="the template to start from; `tierwise scheme "
                                               "templates` lists them")] = "blank",
    title: TitleOpt = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Create a scheme in the store from a template: version 1, active for every date."""
    from tierwise.services import access, scheme_admin

    with reported():
        proj, store, actor = acting(project, access.EDIT_SCHEMES)
        saved = scheme_admin.create(store, proj, scheme_admin.NewScheme(name, title, template),
                                    actor=actor.name)
    console.print(_("{scheme}: version {version} created and active; grade it with `tierwise "
                    "run {scheme}`").format(scheme=name, version=saved.number))


@scheme_app.command("show")
def scheme_show(
    name: NameArg,
    version: Annotated[int | None, typer.Option(help="this version (default: the active one)")
                       ] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Print a stored version as YAML, to paste under `schemes:` in tierwise.yaml."""
    from tierwise.services import scheme_admin

    with reported():
        text = scheme_admin.scheme_yaml(store_of(open_project(project)), name, version)
    typer.echo(text, nl=False)


@scheme_app.command("rename")
def scheme_rename(name: NameArg, title: Annotated[str, typer.Argument(help="the new title")],
                  project: ProjectOpt = Path(".")) -> None:
    """Give a scheme the title people see; its key stays (runs and history reference it)."""
    from tierwise.services import access, scheme_admin

    with reported():
        _proj, store, actor = acting(project, access.EDIT_SCHEMES)
        scheme_admin.rename(store, name, title, actor=actor.name)
    console.print(_("{scheme}: title set").format(scheme=name))


def _retire(name: str, project: Path, *, retired: bool) -> None:
    from tierwise.services import access, scheme_admin

    with reported():
        _proj, store, actor = acting(project, access.EDIT_SCHEMES)
        scheme_admin.retire(store, name, actor=actor.name, retired=retired)
    console.print((_("{scheme}: retired; run --all and schedules skip it, its history is kept")
                   if retired else _("{scheme}: restored")).format(scheme=name))


@scheme_app.command("retire")
def scheme_retire(name: NameArg, project: ProjectOpt = Path(".")) -> None:
    """Hide a scheme and stop running it; its versions and history are kept."""
    _retire(name, project, retired=True)


@scheme_app.command("restore")
def scheme_restore(name: NameArg, project: ProjectOpt = Path(".")) -> None:
    """Undo `scheme retire`."""
    _retire(name, project, retired=False)


@scheme_app.command("delete")
def scheme_delete(
    name: NameArg,
    yes: Annotated[bool, typer.Option("--yes", help="confirm: delete every record of it")]
    = False,
    project: ProjectOpt = Path("."),
) -> None:
    """Delete a scheme with its versions, runs, run files and overrides (administrators).

    A confidential scheme is refused until its retention period after its latest run is over.
    """
    from tierwise.services import access, retention

    if not yes:
        err.print(_("this deletes scheme {name} and every record of it; add --yes to "
                    "confirm").format(name=name))
        raise typer.Exit(2)
    with reported():
        proj, store, actor = acting(project, access.USERS)
        gone = retention.delete_scheme(proj, store, name, actor=actor.name)
    console.print(_("deleted {scheme}: {runs} runs, {versions} versions, {overrides} "
                    "overrides").format(scheme=gone.scheme, runs=gone.runs,
                                        versions=gone.versions, overrides=gone.overrides))
    if name in proj.spec.schemes:
        console.print(_("{scheme} is still in tierwise.yaml: remove it there too, or the next "
                        "run records it again").format(scheme=name))
