"""The options several commands declare alike (``--project``, ``--as-of``, ``--lang`` ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="project folder")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="as-of date, YYYY-MM-DD")]
LangOpt = Annotated[str, typer.Option("--lang", help="label language: en or zh")]
ActorOpt = Annotated[str | None, typer.Option(
    "--actor", help="who runs it, for the record, when not logged in (default: TIERWISE_USER or "
                    "the OS user)")]
NoteOpt = Annotated[str | None, typer.Option(help="a note for the record")]
PasswordStdinOpt = Annotated[bool, typer.Option(
    "--password-stdin", help="read the password from standard input (for scripts)")]
