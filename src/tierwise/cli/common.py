"""What every command shares: the consoles, errors as one red line, dates, the acting user.

Command modules import this module (never :mod:`tierwise.cli.main`, which imports them to
register their commands), so the command line has no import circle.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.text import Text

from tierwise import i18n
from tierwise.cli.options import LangOpt
from tierwise.errors import DataError, SpecError, TierwiseError
from tierwise.i18n import _

if TYPE_CHECKING:  # the services load the engine and the store: only when a command runs
    from tierwise.services.auth import Actor
    from tierwise.services.grading import Project
    from tierwise.services.records import Store

console = Console()
err = Console(stderr=True)

#: Exit code when every scheme named was already done for the date (``--force`` runs it again).
EXIT_SKIPPED = 3


class _Settings:
    """Settings of the root callback that every command reads (``--debug``, ``--lang``)."""

    debug = False
    #: The language was chosen with --lang or TIERWISE_LANG: the project's default does not apply.
    lang_given = False


settings = _Settings()


def fail(exc: TierwiseError) -> None:
    """Print ``exc`` as one red line and exit: 2 for a bad spec or usage, else 1.

    With ``--debug`` the error is raised again, so its traceback prints.
    """
    if settings.debug:
        raise exc
    if isinstance(exc, DataError) and exc.report is not None:
        from tierwise.cli.render import quality_table

        err.print(quality_table(exc.report))  # type: ignore[arg-type]
    err.print(Text.assemble((_("error: "), "red"), str(exc)), soft_wrap=True, highlight=False)
    raise typer.Exit(2 if isinstance(exc, SpecError) else 1)


@contextmanager
def reported() -> Iterator[None]:
    """Run a command's work; a tierwise error ends the command through :func:`fail`."""
    try:
        yield
    except TierwiseError as exc:
        fail(exc)


def parse_date(text: str | None, option: str = "--as-of") -> date | None:
    """The date typed for ``option``, or None when it was left out."""
    return None if text is None else required_date(text, option)


def required_date(text: str, option: str) -> date:
    """The date typed for ``option``; a located error when it is not YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SpecError(_("{option} {text} is not a date; write it as YYYY-MM-DD").format(
            option=option, text=repr(text))) from None


def speak(lang: str | None) -> None:
    """Speak ``lang`` (from --lang or TIERWISE_LANG) for the rest of the command."""
    if lang:
        try:
            i18n.set_language(lang)
        except TierwiseError as exc:
            fail(exc)
        settings.lang_given = True


def localized(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` with a ``--lang`` option, which sets the language before it runs."""
    # Evaluated: typer reads the Argument/Option of ``Annotated`` parameters from the signature
    # set below, and a command module's postponed annotations are only strings there.
    signature = inspect.signature(command, eval_str=True)
    if "lang" in signature.parameters:
        return command
    lang = inspect.Parameter("lang", inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=LangOpt)

    @functools.wraps(command)
    def run(*args: Any, lang: str | None = None, **kwargs: Any) -> Any:
        speak(lang)
        return command(*args, **kwargs)

    run.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), lang])
    return run


def open_project(path: Path) -> Project:
    """The project in the folder ``path``; its ``language:`` applies unless one was chosen."""
    from tierwise.services.grading import Project

    if not settings.lang_given:
        # Before opening: the errors of an invalid file are worded in its declared language.
        declared = Project.declared_language(path)
        if declared is not None:
            i18n.set_language(declared)
    project = Project.open(path)
    if not settings.lang_given:
        i18n.set_language(project.spec.language)
    return project


def open_store(path: Path) -> Store:
    """The store of the project in the folder ``path``."""
    return store_of(open_project(path))


def store_of(project: Project) -> Store:
    """The store of an open project."""
    from tierwise.services.runs import open_store as open_project_store

    return open_project_store(project)


def acting(path: Path, action: str | None = None, *, bootstrap: bool = False
           ) -> tuple[Project, Store, Actor]:
    """The project, its store and the acting user, who must be allowed to do ``action``.

    ``bootstrap`` lets the first admin of a store without users be added without a login.
    """
    from tierwise.services.auth import cli_actor

    proj = open_project(path)
    store = store_of(proj)
    return proj, store, cli_actor(store, action, bootstrap=bootstrap)
