"""The options several commands declare alike (``--project``, ``--as-of``, ``--lang`` ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="project folder")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="as-of date, YYYY-MM-DD")]
LangOpt = Annotated[str | None, typer.Option(
    "--lang", envvar="TIERWISE_LANG", show_envvar=False,
    help="language of the output: en, zh-Hans (zh) or zh-Hant (zh-TW, zh-HK); default: "
         "TIERWISE_LANG, then the project's `language:`, then en")]
ActorOpt = Annotated[str | None, typer.Option(
    "--actor", help="who runs it, for the record, when not logged in (default: TIERWISE_USER or "
                    "the OS user)")]
NoteOpt = Annotated[str | None, typer.Option(help="a note for the record")]
PasswordStdinOpt = Annotated[bool, typer.Option(
    "--password-stdin", help="read the password from standard input (for scripts)")]
