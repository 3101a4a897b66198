"""The ``tierwise`` command line: a thin edge over the services.

Errors print as one red line (the traceback only with ``--debug``). Exit codes, for schedulers:
0 done, 1 failed (bad data, store or engine error), 2 bad usage or spec, 3 skipped (every scheme
named was already done for the date; ``--force`` runs it again).

This module only wires the app: the commands live in their modules, which import
:mod:`tierwise.cli.common` and :mod:`tierwise.cli.options`, never this one.
"""

from __future__ import annotations

import inspect
import re
import sys
from typing import Annotated

import typer

from tierwise.cli import (
    action_commands,
    credit_commands,
    evaluate,
    kpi_commands,
    link_commands,
    project_commands,
    review_commands,
    run_command,
    schedule_commands,
    serve,
    store_commands,
    task_commands,
    users,
)
from tierwise.cli import document as _document  # noqa: F401  (registers `scheme document`)
from tierwise.cli import scheme_admin as _scheme_admin  # noqa: F401  (adds to `tierwise scheme`)
from tierwise.cli.common import EXIT_SKIPPED, console, err, localized, settings, speak
from tierwise.cli.options import LangOpt
from tierwise.cli.usage import LocalizedGroup
from tierwise.i18n import _

__all__ = ["EXIT_SKIPPED", "app", "console", "err", "main"]

app = typer.Typer(
    cls=LocalizedGroup,
    help="Customer tiering: grade, explain and report customer tiers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
          lang: LangOpt = None) -> None:
    settings.debug = debug
    # Each command starts in the default language: LocalizedGroup.main sets it before parsing.
    speak(lang)


# In the order the help lists them.
for _command in (
    project_commands.init, project_commands.validate, project_commands.check, run_command.run,
    project_commands.explain, project_commands.demo, serve.serve, store_commands.backfill,
    store_commands.history, store_commands.transitions, users.login, users.logout, users.whoami,
    evaluate.evaluate,
    kpi_commands.kpi, review_commands.reviews, task_commands.tasks,
    credit_commands.credit,
):
    app.command()(_command)
for _group, _name in (
    (store_commands.scheme_app, "scheme"), (store_commands.runs_app, "runs"),
    (store_commands.override_app, "override"), (store_commands.audit_app, "audit"),
    (users.user_app, "user"), (schedule_commands.schedule_app, "schedule"),
    (action_commands.actions_app, "actions"), (link_commands.link_app, "link"),
):
    app.add_typer(_group, name=_name)


def _reflowed(doc: str | None) -> str | None:
    """``doc`` with each paragraph on one line, for the terminal to wrap.

    Typer keeps the line breaks of a help text's later paragraphs, so a docstring wrapped at
    100 columns printed as ragged lines in an 80-column terminal. Paragraphs holding a list or
    an indented block keep their lines.
    """
    if not doc:
        return doc
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(
        p if p.startswith("\b") or any(_LISTED.match(line) for line in p.splitlines())
        else " ".join(p.split("\n")) for p in paragraphs)


#: A line of a list (``- item``, ``* item``, ``1. item``) or of an indented block.
_LISTED = re.compile(r"^(\s+|\s*([-*]|\d+[.)])\s)")


# Every command takes --lang (and TIERWISE_LANG), whatever group it is in.
for _typer in (app, *(g.typer_instance for g in app.registered_groups if g.typer_instance)):
    for _info in _typer.registered_commands:
        if _info.callback is not None:
            _info.help = _reflowed(_info.help or inspect.getdoc(_info.callback))
            _info.callback = localized(_info.callback)


def main() -> None:
    """Entry point of the ``tierwise`` script."""
    try:
        app()
    except KeyboardInterrupt:
        err.print(_("interrupted"))
        sys.exit(130)
